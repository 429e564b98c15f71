import { g2dTsup } from '../../tools/build/tsup.base';

export default g2dTsup();
