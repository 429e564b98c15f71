import { g2dTsup } from '../../tools/build/tsup.base';

// index: the library; testing: the test helpers (`@g2d-ts/data/testing`); cli: the g2d-data bin; worker: the DataLoader's worker thread (found next to index at run time)
export default g2dTsup({ entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', cli: 'src/cli/index.ts', worker: 'src/worker.ts' } });
