import { g2dTsup } from '../../tools/build/tsup.base';

export default g2dTsup({ entry: ['src/main.ts'], format: ['cjs'], dts: false });
