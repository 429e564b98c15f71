/**
 * What a server started from the repository offers the page besides the built files: the demo
 * checkpoint that `pretrain:demo` writes (`runs/pretrain-demo/final/`: model.safetensors +
 * config.json) and the BERT vocabulary from the shared data folder (never copied into the app or
 * its dist). Used by the Vite dev/preview server (vite.config.ts) and the e2e test's static
 * server, under `g2d-assets/` beside the page. A plain static host has none of it and the page
 * asks for files instead.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ASSET_PREFIX = 'g2d-assets/';

export interface RepoAssetOptions {
  /** the repository root (default: three folders above this file) */
  repoRoot?: string;
  /** checkpoint folder offered as the default; `null`: none (default: $G2D_EXPLORER_CHECKPOINT, else <repo>/runs/pretrain-demo/final) */
  checkpointDir?: string | null;
  /** the shared data folder (default: $G2D_SHARED_DIR, else <repo>/../shared) */
  sharedDir?: string | null;
}

export interface AssetManifest {
  demo?: { label: string; config: string; weights: string };
  vocab?: { label: string; url: string };
}

export interface RepoAssets {
  manifest(): AssetManifest;
  /** the file to send for a request path relative to the page (`g2d-assets/...`), or undefined */
  file(rel: string): { file: string; type: string } | undefined;
}

const here = __dirname;

export function repoAssets(opts: RepoAssetOptions = {}): RepoAssets {
  const repoRoot = opts.repoRoot ?? path.resolve(here, '../../..');
  const ckpt = () =>
    opts.checkpointDir === null
      ? undefined
      : (opts.checkpointDir ?? (process.env.G2D_EXPLORER_CHECKPOINT ? path.resolve(process.env.G2D_EXPLORER_CHECKPOINT) : path.join(repoRoot, 'runs', 'pretrain-demo', 'final')));
  const shared = opts.sharedDir === null ? undefined : (opts.sharedDir ?? process.env.G2D_SHARED_DIR ?? path.join(repoRoot, '..', 'shared'));
  const vocabFile = () => (shared ? path.join(shared, 'data', 'tokenizers', 'bert-base-cased', 'vocab.txt') : undefined);
  const isFile = (f: string | undefined): f is string => !!f && fs.existsSync(f) && fs.statSync(f).isFile();

  const routes = (): Map<string, { file: string; type: string }> => {
    const m = new Map<string, { file: string; type: string }>();
    const dir = ckpt();
    if (dir && isFile(path.join(dir, 'config.json')) && isFile(path.join(dir, 'model.safetensors'))) {
      m.set(`${ASSET_PREFIX}demo/config.json`, { file: path.join(dir, 'config.json'), type: 'application/json' });
      m.set(`${ASSET_PREFIX}demo/model.safetensors`, { file: path.join(dir, 'model.safetensors'), type: 'application/octet-stream' });
    }
    const v = vocabFile();
    if (isFile(v)) m.set(`${ASSET_PREFIX}vocab.txt`, { file: v, type: 'text/plain; charset=utf-8' });
    return m;
  };

  return {
    manifest() {
      const r = routes();
      const out: AssetManifest = {};
      const dir = ckpt();
      if (dir && r.has(`${ASSET_PREFIX}demo/config.json`)) {
        out.demo = { label: path.relative(repoRoot, dir) || dir, config: `${ASSET_PREFIX}demo/config.json`, weights: `${ASSET_PREFIX}demo/model.safetensors` };
      }
      if (r.has(`${ASSET_PREFIX}vocab.txt`)) out.vocab = { label: 'shared/data/tokenizers/bert-base-cased/vocab.txt', url: `${ASSET_PREFIX}vocab.txt` };
      return out;
    },
    file(rel) {
      return routes().get(rel.replace(/^\/+/, ''));
    },
  };
}
