/** @type {import('jest').Config} */
// The same compiler options as `node -r ./scripts/swc-register.js`.
const swc = ['@swc/jest', require('./scripts/swc.options.js')];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/lib', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 30000,
  // Each file's AsyncLocalStorage instances are disabled after it (see the file: Node 20 slows every
  // promise by the number of enabled instances, and jest makes new ones for every file).
  setupFilesAfterEnv: ['<rootDir>/test/setup/async-local-storage.setup.ts'],
};
