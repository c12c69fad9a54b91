// Lint: typescript-eslint, type-aware, plus the layer rules of docs/architecture.md
// ("Source layout") as import restrictions, so a layer broken once fails `npm run lint`.
// Formatting is Prettier's (eslint-config-prettier turns off the rules it owns).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const forbid = (groups, message) => ({ group: groups, message });

// Infrastructure libraries: only adapters (and the gateway for express/ws) may use them.
const IO_LIBRARIES = ['express', 'ws', 'kafkajs', 'ioredis', 'pg', '@prisma/*', '@electric-sql/*', 'pglite-prisma-adapter'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'build/**',
      'src/generated/**',
      'client/**',
      'coverage/**',
      'bench-results/**',
      'test-artifacts/**',
      'data/**',
      '.infra/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      // A promise nobody awaits or catches is a lost error; `void p` says it is meant.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // require() is used on purpose: kafkajs internals (kafkajs-idle-fix.ts) and package.json reads.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The server never depends on its scripts or tests.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [forbid(['**/scripts/**', '**/test/**'], 'src/ must not import scripts/ or test/')] }],
    },
  },
  {
    // The domain is pure: protocol types and itself only, no I/O library.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(['**/scripts/**', '**/test/**'], 'src/ must not import scripts/ or test/'),
            forbid(
              [
                '../ports/*',
                '../adapters/**',
                '../gateway/**',
                '../owner/**',
                '../relay/**',
                '../auth/**',
                '../observability/**',
                '../config/**',
                '../app',
                '../main',
              ],
              'domain/ imports only domain/ and protocol/',
            ),
            forbid(IO_LIBRARIES, 'domain/ is pure: no I/O library'),
          ],
        },
      ],
    },
  },
  {
    // The owner role works through ports, never a concrete adapter.
    files: ['src/owner/**/*.ts', 'src/relay/**/*.ts', 'src/gateway/**/*.ts', 'src/ports/**/*.ts', 'src/protocol/**/*.ts'],
    ignores: ['src/gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(['**/scripts/**', '**/test/**'], 'src/ must not import scripts/ or test/'),
            forbid(['../adapters/**', '../../adapters/**'], 'use a port (src/ports), not an adapter'),
            forbid(['kafkajs', 'ioredis', 'pg', '@prisma/*', '@electric-sql/*'], 'infrastructure libraries belong in src/adapters'),
          ],
        },
      ],
    },
  },
  {
    files: ['src/gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(['**/scripts/**', '**/test/**'], 'src/ must not import scripts/ or test/'),
            forbid(['../adapters/**', '../../adapters/**', '../../../adapters/**'], 'use a port (src/ports), not an adapter'),
            forbid(['kafkajs', 'ioredis', 'pg', '@prisma/*', '@electric-sql/*'], 'infrastructure libraries belong in src/adapters'),
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
