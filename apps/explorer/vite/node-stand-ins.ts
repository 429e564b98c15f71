/**
 * Vite plugin: Node built-ins imported by library code that the explorer bundles but never runs
 * in a browser (the file-reading halves of @g2d-ts/model, text, nn, core and heads: vocabulary
 * look-up on disk, weight files by path, the Hugging Face cache) resolve to browser stand-ins
 * instead of failing the build. `path` and `url` compute (modules build constant paths when they
 * load), `module.createRequire` returns a require that throws, and every other built-in is a stub
 * whose members throw a clear error when called (stand-ins/stub.ts). The build prints which
 * modules imported which built-in, so a new Node dependency in a browser path is visible.
 *
 * The decoders the explorer does run in the browser come from `@g2d-ts/data/browser`, which is
 * built Node-free by its own package (packages/data/tsup.browser.config.ts).
 */
import { builtinModules, createRequire } from 'node:module';
import * as path from 'node:path';
import type { Plugin } from 'vite';

const require = createRequire(__filename);
const PREFIX = '\0g2d-node:';
const here = __dirname;
const workspaceRoot = path.resolve(here, '../../..');
// `path`: the same POSIX stand-in @g2d-ts/data's own browser build uses
const POSIX_PATH = path.join(workspaceRoot, 'packages/data/src/browser/node-path.ts');
const CUSTOM: Record<string, string> = {
  path: POSIX_PATH,
  'path/posix': POSIX_PATH,
  url: path.join(here, 'stand-ins/url.ts'),
  module: path.join(here, 'stand-ins/module.ts'),
};
const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));
const RESERVED = new Set(['default', 'delete', 'new', 'function', 'class', 'const', 'export', 'import', 'in', 'instanceof', 'typeof', 'void', 'with', 'yield', 'let', 'static', 'enum', 'await', 'implements', 'package', 'protected', 'interface', 'private', 'public']);

export function nodeStandIns(opts: { log?: (line: string) => void } = {}): Plugin {
  const seen = new Map<string, Set<string>>();
  return {
    name: 'g2d-node-stand-ins',
    enforce: 'pre',
    resolveId(id, importer) {
      const bare = id.startsWith('node:') ? id.slice(5) : id;
      if (!BUILTINS.has(bare)) return null;
      // only our packages' modules: third-party code keeps Vite's own handling (an empty module)
      if (!importer || importer.includes('/node_modules/') || !importer.startsWith(path.join(workspaceRoot, 'packages') + path.sep)) return null;
      const by = path.relative(workspaceRoot, importer.split('?')[0]!);
      if (!seen.has(bare)) seen.set(bare, new Set());
      seen.get(bare)!.add(by);
      const custom = CUSTOM[bare];
      return custom ?? PREFIX + bare;
    },
    load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const name = id.slice(PREFIX.length);
      let keys: string[] = [];
      try {
        keys = Object.keys(require(`node:${name}`) as object);
      } catch {
        keys = [];
      }
      const named = keys.filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && !RESERVED.has(k));
      return [
        `import { stub } from ${JSON.stringify(path.join(here, 'stand-ins/stub.ts'))};`,
        `const m = stub(${JSON.stringify(`node:${name}`)});`,
        'export default m;',
        ...named.map((k) => `export const ${k} = m.${k};`),
      ].join('\n');
    },
    buildEnd() {
      if (!opts.log || seen.size === 0) return;
      const lines = [...seen].sort(([a], [b]) => a.localeCompare(b)).map(([m, by]) => `  node:${m} <- ${[...by].sort().join(', ')}`);
      opts.log(`Node built-ins replaced by browser stand-ins (library code the explorer bundles but does not call in a browser):\n${lines.join('\n')}`);
    },
  };
}
