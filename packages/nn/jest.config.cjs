module.exports = { ...require('../../jest.preset.cjs'), displayName: 'nn', rootDir: __dirname };
