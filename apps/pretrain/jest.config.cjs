module.exports = { ...require('../../jest.preset.cjs'), displayName: 'pretrain', rootDir: __dirname };
