/**
 * The browser build of @g2d-ts/data: `dist/browser.mjs` (+ types) from `src/browser.ts`, the
 * `./browser` export. Runs after the Node build (`pnpm run build`), never in parallel with its
 * clean. Node built-ins are replaced by the stand-ins in `src/browser/` (`node:module` → the
 * codec table, `node:path` → POSIX name helpers, the `Buffer` global → a Uint8Array shim), and
 * `dicom-parser` gets an inflater for deflated data sets (fflate; Node's build uses zlib);
 * importing any other built-in fails the build, naming the importer.
 */
import * as path from 'node:path';
import { defineConfig } from 'tsup';

const src = (p: string) => path.join(__dirname, 'src', p);
const STAND_INS: Record<string, string> = {
  'node:module': src('browser/node-module.ts'),
  module: src('browser/node-module.ts'),
  'node:path': src('browser/node-path.ts'),
  path: src('browser/node-path.ts'),
};
const BUILTIN = /^node:|^(assert|buffer|child_process|crypto|events|fs|fs\/promises|http|https|net|os|readline|stream|url|util|worker_threads|zlib)$/;

export default defineConfig({
  entry: { browser: 'src/browser.ts' },
  format: ['esm'],
  outExtension: () => ({ js: '.mjs' }),
  platform: 'browser',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: false,
  splitting: false,
  shims: false,
  removeNodeProtocol: false,
  outDir: 'dist',
  external: [/^@tensorflow\//, /^@g2d-ts\//],
  // resolved by the plugin below (to the stand-in, which imports the real one as external)
  noExternal: ['dicom-parser'],
  // codecs.ts builds its require from __filename; the stand-in createRequire ignores it
  define: { __filename: JSON.stringify('@g2d-ts/data/browser') },
  inject: [src('browser/node-buffer.ts')],
  esbuildPlugins: [
    {
      name: 'g2d-browser-stand-ins',
      setup(build) {
        // dicom-parser with an inflater for deflated data sets (the stand-in imports the real one)
        build.onResolve({ filter: /^dicom-parser$/ }, (args) =>
          args.importer === src('browser/dicom-parser.ts') ? { path: 'dicom-parser', external: true } : { path: src('browser/dicom-parser.ts') },
        );
        build.onResolve({ filter: BUILTIN }, (args) => {
          const to = STAND_INS[args.path];
          if (to) return { path: to };
          return { errors: [{ text: `"${args.path}" (imported by ${path.relative(__dirname, args.importer)}) is Node-only: keep it out of @g2d-ts/data/browser` }] };
        });
      },
    },
  ],
});
