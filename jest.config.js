/**
 * One jest run, six tiers (test/unit, test/contract, test/integration, test/e2e, test/faults, test/browser).
 * Type checking is `npm run typecheck` (tsc), so ts-jest only transpiles here.
 * @type {import('jest').Config}
 */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  // PGlite (the embedded PostgreSQL) imports Node built-ins dynamically; see the transform.
  '/node_modules/@electric-sql/pglite/dist/.+\\.cjs$': '<rootDir>/test/support/dynamic-import-to-require.js',
};
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };
const tier = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  transformIgnorePatterns: ['/node_modules/(?!@electric-sql/pglite/)'],
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});

module.exports = {
  projects: [
    tier('unit'),
    tier('contract'),
    tier('integration'),
    tier('e2e'),
    tier('faults'),
    // Headless Chromium (Debian's) driving the web client; no Kafka.
    tier('browser'),
  ],
  testTimeout: 60_000,
  // Tiers that share the Kafka cluster run one file at a time on a 2-core machine.
  maxWorkers: 1,
};
