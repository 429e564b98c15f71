module.exports = { ...require('../../jest.preset.cjs'), displayName: 'eval-zeroshot', rootDir: __dirname };
