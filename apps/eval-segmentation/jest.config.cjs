module.exports = { ...require('../../jest.preset.cjs'), displayName: 'eval-segmentation', rootDir: __dirname };
