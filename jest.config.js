/** Jest runs the TypeScript sources through swc (types are checked separately by `tsc --noEmit`). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['reflect-metadata'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
        module: { type: 'commonjs' },
      },
    ],
    '/node_modules/jose/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // jose 6 ships only ES modules; Jest's CommonJS runtime cannot load them (Node itself can), so
  // swc compiles jose's files to CommonJS for the tests.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // A dynamic import() of our own module names the compiled file (`./pg-store.js`), as Node's ES module
  // resolution needs; the tests run the TypeScript source beside it.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 30_000,
  // Each e2e file starts its own servers on port 0; two workers match the machine's two cores.
  maxWorkers: 2,
};
