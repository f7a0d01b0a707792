// Jest runs in its native ESM mode (see the test script) because middy 7 and
// @kubernetes/client-node are ESM-only; @swc/jest strips the types.
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } },
  ],
};
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform,
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

export default {
  // Integration tests wait for real pods and pauses; unit tests finish in milliseconds either way.
  testTimeout: 120_000,
  // A handle a suite leaves open (a socket of a stopped server, a child's pipe) must never keep the
  // run alive: CI once sat past its limit after every suite had finished.
  forceExit: true,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.js',
      globalTeardown: '<rootDir>/test/integration/global-teardown.js',
    },
  ],
};
