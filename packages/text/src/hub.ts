/**
 * Finding a Hugging Face model: a local directory, the Hugging Face cache
 * (`$HF_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`, laid out as
 * `models--org--name/{refs/<revision>, snapshots/<commit>/<file>}`), or, only when online,
 * a download into that cache with `@huggingface/hub`. Offline (`HF_HUB_OFFLINE=1`,
 * `TRANSFORMERS_OFFLINE=1` or `offline: true`) a model that is not on disk is a clear error.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { G2DError } from '@g2d/core';

export interface PretrainedOptions {
  /** Branch, tag or commit (default 'main'). */
  revision?: string;
  /** Hugging Face hub cache directory (default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Never touch the network (default: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE). */
  offline?: boolean;
  accessToken?: string;
  hubUrl?: string;
  /** Custom fetch for downloads (proxies, tests). */
  fetch?: typeof fetch;
}

/** One needed file: the first of `anyOf` that exists is used. */
export interface FileSpec {
  anyOf: string[];
  optional?: boolean;
}

export interface ResolvedFiles {
  dir: string;
  /** spec's first name -> absolute path of the file found (absent for missing optional ones). */
  files: Map<string, string>;
  from: 'directory' | 'cache' | 'download';
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
const COMMIT = /^[0-9a-f]{40}$/;

export function hfCacheDir(opts: PretrainedOptions = {}): string {
  if (opts.cacheDir) return opts.cacheDir;
  const env = process.env;
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const home = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
  return path.join(home, 'hub');
}

const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

export function isOffline(opts: PretrainedOptions = {}): boolean {
  return opts.offline ?? (truthy(process.env.HF_HUB_OFFLINE) || truthy(process.env.TRANSFORMERS_OFFLINE));
}

/** models--org--name */
export function repoFolderName(hubId: string): string {
  return `models--${hubId.split('/').join('--')}`;
}

/** The snapshot directory of `hubId` at `revision` in the cache, or null. */
export function cachedSnapshot(hubId: string, opts: PretrainedOptions = {}): string | null {
  const repo = path.join(hfCacheDir(opts), repoFolderName(hubId));
  const revision = opts.revision ?? 'main';
  let commit: string | null = COMMIT.test(revision) ? revision : null;
  if (!commit) {
    const ref = path.join(repo, 'refs', revision);
    if (fs.existsSync(ref)) commit = fs.readFileSync(ref, 'utf8').trim();
  }
  if (!commit) return null;
  const snap = path.join(repo, 'snapshots', commit);
  return fs.existsSync(snap) ? snap : null;
}

function findIn(dir: string, specs: FileSpec[]): { files: Map<string, string>; missing: FileSpec[] } {
  const files = new Map<string, string>();
  const missing: FileSpec[] = [];
  for (const s of specs) {
    const hit = s.anyOf.find((f) => fs.existsSync(path.join(dir, f)));
    if (hit) files.set(s.anyOf[0]!, path.join(dir, hit));
    else if (!s.optional) missing.push(s);
  }
  return { files, missing };
}

const describe = (s: FileSpec) => (s.anyOf.length === 1 ? s.anyOf[0]! : `one of ${s.anyOf.join(' / ')}`);

function isNotFound(e: unknown): boolean {
  const err = e as { statusCode?: number; message?: string };
  return err?.statusCode === 404 || /cannot get path info|Entry not found|404/i.test(err?.message ?? '');
}

/**
 * Resolve `pathOrHubId` to a directory holding the files in `specs`: an existing directory
 * is used as is; a hub id ("org/name") is looked up in the cache, then downloaded when online.
 */
export async function resolvePretrained(pathOrHubId: string, specs: FileSpec[], opts: PretrainedOptions = {}): Promise<ResolvedFiles> {
  if (fs.existsSync(pathOrHubId)) {
    const dir = fs.statSync(pathOrHubId).isDirectory() ? pathOrHubId : path.dirname(pathOrHubId);
    const { files, missing } = findIn(dir, specs);
    if (missing.length) throw new G2DError(`not a complete model directory: missing ${missing.map(describe).join(', ')}`, { source: dir });
    return { dir, files, from: 'directory' };
  }
  if (!HUB_ID.test(pathOrHubId) || pathOrHubId.includes('..')) {
    throw new G2DError('no such file or directory, and not a Hugging Face model id ("org/name")', { source: pathOrHubId });
  }
  const cache = hfCacheDir(opts);
  const revision = opts.revision ?? 'main';
  const snap = cachedSnapshot(pathOrHubId, opts);
  if (snap) {
    const { files, missing } = findIn(snap, specs);
    if (!missing.length) return { dir: snap, files, from: 'cache' };
  }
  const where = path.join(cache, repoFolderName(pathOrHubId));
  if (isOffline(opts)) {
    throw new G2DError(
      `model not available offline: ${snap ? `the cached snapshot ${snap} lacks ${findIn(snap, specs).missing.map(describe).join(', ')}` : `nothing cached at ${where} for revision "${revision}"`}. ` +
        `Download it where there is network (e.g. \`huggingface-cli download ${pathOrHubId}\`) into that cache (HF_HUB_CACHE / cacheDir), ` +
        `or pass a local directory with config.json and the weights; unset HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE to download.`,
      { source: pathOrHubId },
    );
  }
  return downloadPretrained(pathOrHubId, specs, opts);
}

async function downloadPretrained(hubId: string, specs: FileSpec[], opts: PretrainedOptions): Promise<ResolvedFiles> {
  const cacheDir = hfCacheDir(opts);
  const revision = opts.revision ?? 'main';
  const hub = await import('@huggingface/hub');
  const files = new Map<string, string>();
  let snapshot: string | null = null;
  for (const spec of specs) {
    let got: string | null = null;
    for (const name of spec.anyOf) {
      try {
        got = await hub.downloadFileToCacheDir({
          repo: { type: 'model', name: hubId },
          path: name,
          revision,
          cacheDir,
          hubUrl: opts.hubUrl,
          fetch: opts.fetch,
          ...(opts.accessToken ? { accessToken: opts.accessToken } : {}),
        });
        break;
      } catch (e) {
        if (isNotFound(e)) continue;
        throw new G2DError(
          `could not download ${name} from the Hugging Face Hub (${e instanceof Error ? e.message : String(e)}); ` +
            `it is not in the cache at ${path.join(cacheDir, repoFolderName(hubId))} either. ` +
            'Check the network and access token, or pass a local model directory (HF_HUB_OFFLINE=1 never downloads).',
          { source: hubId, cause: e },
        );
      }
    }
    if (!got) {
      if (spec.optional) continue;
      throw new G2DError(`the Hugging Face repo has no ${describe(spec)} at revision "${revision}"`, { source: hubId });
    }
    files.set(spec.anyOf[0]!, got);
    snapshot = path.dirname(got);
  }
  // record refs/<revision> like huggingface_hub does, so later offline calls find the snapshot
  if (snapshot && !COMMIT.test(revision)) {
    const commit = path.basename(snapshot);
    const refs = path.join(cacheDir, repoFolderName(hubId), 'refs');
    fs.mkdirSync(refs, { recursive: true });
    fs.writeFileSync(path.join(refs, revision), commit);
  }
  return { dir: snapshot ?? path.join(cacheDir, repoFolderName(hubId)), files, from: 'download' };
}
