/**
 * Browser stand-in for a Node built-in module that library code imports but the explorer never
 * calls (file reading, the Hugging Face cache, worker threads...): every member is a function
 * that throws a clear error when called, and member access nests (`fs.promises.open`). Created
 * by the `g2d-node-stand-ins` Vite plugin (vite/node-stand-ins.ts), one per built-in.
 */
type Stub = ((...args: unknown[]) => never) & { [k: string]: Stub };

export function nodeOnly(what: string): never {
  throw new Error(`${what} is Node-only and not available in the browser explorer (a code path that reads files or the environment was reached)`);
}

export function stub(what: string): Stub {
  const fn = (() => nodeOnly(what)) as Stub;
  return new Proxy(fn, {
    get(target, key) {
      if (typeof key === 'symbol' || key === 'then' || key === 'prototype' || key === '__esModule') return undefined;
      if (key === 'name') return what;
      return stub(`${what}.${key}`);
    },
    apply() {
      return nodeOnly(`${what}()`);
    },
    construct() {
      return nodeOnly(`new ${what}()`);
    },
  });
}
