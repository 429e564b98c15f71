module.exports = { ...require('../../jest.preset.cjs'), displayName: 'heads', rootDir: __dirname };
