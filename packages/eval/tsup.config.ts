import { g2dTsup } from '../../tools/build/tsup.base';

export default g2dTsup({ entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } });
