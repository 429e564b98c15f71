// unit tests (test/) and the browser end-to-end test (e2e/, drives the BUILT page in Debian's chromium)
module.exports = { ...require('../../jest.preset.cjs'), displayName: 'explorer', rootDir: __dirname, testTimeout: 300000 };
