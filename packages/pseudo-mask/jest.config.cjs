module.exports = { ...require('../../jest.preset.cjs'), displayName: 'pseudo-mask', rootDir: __dirname };
