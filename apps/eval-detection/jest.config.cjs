module.exports = { ...require('../../jest.preset.cjs'), displayName: 'eval-detection', rootDir: __dirname };
