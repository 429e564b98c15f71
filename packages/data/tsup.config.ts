import { g2dTsup } from '../../tools/build/tsup.base';

// index: the library; cli: the g2d-data bin; worker: the DataLoader's worker thread (found next to index at run time)
export default g2dTsup({ entry: { index: 'src/index.ts', cli: 'src/cli/index.ts', worker: 'src/worker.ts' } });
