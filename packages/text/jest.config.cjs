module.exports = { ...require('../../jest.preset.cjs'), displayName: 'text', rootDir: __dirname };
