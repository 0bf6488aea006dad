// ESM all the way: @actions/core 3, @actions/exec 3 and @actions/cache 6 ship ESM only, so the
// tests run under node's vm modules (see the "test" script) and ts-jest emits ESM.
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: 'node',
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts'],
    },
  ],
  // The e2e suites share one sandbox host (and measure under load): one file at a time.
  maxWorkers: 1,
  testTimeout: 120000,
};
