// Worker-thread entry for `pnpm fuzz`: registers tsx (the fuzz code is TypeScript) and loads the worker.
process.env.TSX_TSCONFIG_PATH = process.env.TSX_TSCONFIG_PATH || require('node:path').join(__dirname, '../tsconfig.json');
require('tsx/cjs');
require('./worker.ts');
