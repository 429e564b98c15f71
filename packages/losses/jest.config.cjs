module.exports = { ...require('../../jest.preset.cjs'), displayName: 'losses', rootDir: __dirname };
