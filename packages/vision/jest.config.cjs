module.exports = { ...require('../../jest.preset.cjs'), displayName: 'vision', rootDir: __dirname };
