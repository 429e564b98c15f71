module.exports = { ...require('../../jest.preset.cjs'), displayName: 'eval-grounding', rootDir: __dirname };
