/** Browser stand-in for `node:module`: `createRequire` works (module-level code calls it), the require it returns throws. */
import { nodeOnly, stub } from './stub';

export function createRequire(from: unknown): (id: string) => never {
  return (id: string) => nodeOnly(`require("${id}") (from ${String(from)})`);
}
export const builtinModules: string[] = [];
export const Module = stub('module.Module');
export default { createRequire, builtinModules, Module };
