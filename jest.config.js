/**
 * One jest run, four tiers (test/unit, test/contract, test/integration, test/e2e).
 * Type checking is `npm run typecheck` (tsc), so ts-jest only transpiles here.
 * @type {import('jest').Config}
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] };
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };
const tier = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});

module.exports = {
  projects: [
    tier('unit'),
    tier('contract'),
    tier('integration'),
    tier('e2e'),
  ],
  testTimeout: 60_000,
  // Tiers that share the Kafka cluster run one file at a time on a 2-core machine.
  maxWorkers: 1,
};
