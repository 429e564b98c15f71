module.exports = { ...require('../../jest.preset.cjs'), displayName: 'eval-classification', rootDir: __dirname };
