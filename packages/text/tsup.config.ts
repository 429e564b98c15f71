import { g2dTsup } from '../../tools/build/tsup.base';

export default g2dTsup({ entry: { index: 'src/index.ts', cli: 'src/cli/index.ts' } });
