/**
 * The explorer's Vite build: a static, client-side page in dist/ (relative asset URLs, so any
 * static host or a file server works). `explorer:serve` runs the dev server on 127.0.0.1 only;
 * it, and `vite preview`, also serve the repository's demo checkpoint and the shared BERT
 * vocabulary under `g2d-assets/` (vite/repo-assets.ts) — nothing of them is copied into dist.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defineConfig, type Plugin } from 'vite';
import { nodeStandIns } from './vite/node-stand-ins';
import { ASSET_PREFIX, repoAssets } from './vite/repo-assets';

const root = __dirname;
const workspaceRoot = path.resolve(root, '../..');

/** Serves `g2d-assets/manifest.json` and the files it names from the repository (dev and preview servers). */
function repoAssetServer(): Plugin {
  const assets = repoAssets();
  const handle = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const url = decodeURIComponent((req.url ?? '').split('?')[0]!);
    const i = url.indexOf(`/${ASSET_PREFIX}`);
    if (i < 0) return next();
    const rel = url.slice(i + 1);
    if (rel === `${ASSET_PREFIX}manifest.json`) {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Cache-Control', 'no-store');
      res.end(JSON.stringify(assets.manifest()));
      return;
    }
    const f = assets.file(rel);
    if (!f) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('Content-Type', f.type);
    res.setHeader('Content-Length', String(fs.statSync(f.file).size));
    res.setHeader('Cache-Control', 'no-store');
    fs.createReadStream(f.file).pipe(res);
  };
  return {
    name: 'g2d-repo-assets',
    configureServer(server) {
      server.middlewares.use(handle);
    },
    configurePreviewServer(server) {
      server.middlewares.use(handle);
    },
  };
}

export default defineConfig({
  root,
  base: './',
  clearScreen: false,
  plugins: [nodeStandIns({ log: (l) => console.log(l) }), repoAssetServer()],
  server: { host: '127.0.0.1', port: 5173, fs: { allow: [workspaceRoot] } },
  preview: { host: '127.0.0.1', port: 4173 },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // tfjs and the model code are one large chunk by nature
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
});
