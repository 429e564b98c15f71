// Shared jest preset: ts-jest (transpile only; types are checked by the build),
// workspace packages mapped to their sources so tests never need a build first.
const path = require('node:path');
const root = __dirname;
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: path.join(root, 'tsconfig.jest.json') }],
  },
  moduleNameMapper: {
    '^@g2d-ts/([^/]+)/(.+)$': path.join(root, 'packages/$1/src/$2'),
    '^@g2d-ts/([^/]+)$': path.join(root, 'packages/$1/src/index.ts'),
  },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 120000,
  reporters: ['default', path.join(root, 'tools/test/summary-reporter.cjs')],
};
