/**
 * Finding a Hugging Face model's files: a local directory, the Hugging Face cache
 * (`$HF_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`, laid out as
 * `models--org--name/{refs/<revision>, snapshots/<commit>/<file>}` like huggingface_hub), or,
 * only when online, a download into that cache with `@huggingface/hub`. Offline
 * (`HF_HUB_OFFLINE`, `TRANSFORMERS_OFFLINE` or `G2D_OFFLINE` set to 1/true, or `offline: true`)
 * a model that is not on disk is a clear error naming the cache path.
 *
 * Shared by `@g2d-ts/text` (BERT, tokenizers) and `@g2d-ts/vision` (fromPretrained).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { G2DError } from './errors';

export interface PretrainedOptions {
  /** Branch, tag or 40-hex commit (default 'main'). */
  revision?: string;
  /** Hugging Face hub cache directory (default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Never touch the network (default: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE / G2D_OFFLINE). */
  offline?: boolean;
  /** Hub token (default $HF_TOKEN). */
  accessToken?: string;
  /** Hub endpoint (default $HF_ENDPOINT or https://huggingface.co). */
  hubUrl?: string;
  /** Custom fetch for downloads (mirrors, proxies, tests). */
  fetch?: typeof fetch;
}

/** One needed file: the first of `anyOf` that exists is used. */
export interface FileSpec {
  anyOf: string[];
  optional?: boolean;
  /**
   * When none of `anyOf` exists in a local directory or cached snapshot, the single file whose
   * name matches this is used (several matches are ambiguous: none is taken). Downloads only
   * try `anyOf` (the hub cannot be listed without its API).
   */
  pattern?: RegExp;
}

export interface ResolvedFiles {
  dir: string;
  /** spec's first name -> absolute path of the file found (absent for missing optional ones). */
  files: Map<string, string>;
  from: 'directory' | 'cache' | 'download';
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
const COMMIT = /^[0-9a-f]{40}$/;
const OFFLINE_FLAGS = ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'G2D_OFFLINE'] as const;

/** Whether a string looks like a hub model id ("org/name" or a legacy bare "name"). */
export function isHubId(s: string): boolean {
  return HUB_ID.test(s) && !s.includes('..');
}

/** The hub cache directory. Accepts the options object or an explicit directory. */
export function hfCacheDir(opts: PretrainedOptions | string = {}): string {
  const explicit = typeof opts === 'string' ? opts : opts.cacheDir;
  if (explicit) return explicit;
  const env = process.env;
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const home = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
  return path.join(home, 'hub');
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

/** `opts.offline`, else whether HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE or G2D_OFFLINE is 1/true/yes/on. */
export function isOffline(opts: PretrainedOptions = {}): boolean {
  return opts.offline ?? OFFLINE_FLAGS.some((k) => truthy(process.env[k]));
}

/** models--org--name */
export function repoFolderName(hubId: string): string {
  return `models--${hubId.split('/').join('--')}`;
}

/**
 * The snapshot directory of `hubId` at `revision` in the cache, or null. A 40-hex revision is a
 * commit and goes straight to `snapshots/<commit>`; a branch/tag is read from `refs/<revision>`.
 */
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
  let listing: string[] | null = null;
  for (const s of specs) {
    let hit = s.anyOf.find((f) => fs.existsSync(path.join(dir, f)));
    if (!hit && s.pattern) {
      listing ??= fs.readdirSync(dir);
      const matches = listing.filter((f) => s.pattern!.test(f));
      if (matches.length === 1) hit = matches[0];
    }
    if (hit) files.set(s.anyOf[0]!, path.join(dir, hit));
    else if (!s.optional) missing.push(s);
  }
  return { files, missing };
}

const describe = (s: FileSpec) => (s.anyOf.length === 1 ? s.anyOf[0]! : `one of ${s.anyOf.join(' / ')}`);

function isNotFound(e: unknown): boolean {
  const err = e as { statusCode?: number; message?: string };
  return err?.statusCode === 404 || /cannot get path info|EntryNotFound|Entry not found|not found|404/i.test(err?.message ?? '');
}

/**
 * Resolve `pathOrHubId` to a directory holding the files in `specs`: an existing directory
 * is used as is (an existing file: its directory); a hub id ("org/name") is looked up in the
 * cache, then downloaded into it when online.
 */
export async function resolvePretrained(pathOrHubId: string, specs: FileSpec[], opts: PretrainedOptions = {}): Promise<ResolvedFiles> {
  if (fs.existsSync(pathOrHubId)) {
    const dir = fs.statSync(pathOrHubId).isDirectory() ? pathOrHubId : path.dirname(pathOrHubId);
    const { files, missing } = findIn(dir, specs);
    if (missing.length) throw new G2DError(`not a complete model directory: missing ${missing.map(describe).join(', ')}`, { source: dir });
    return { dir, files, from: 'directory' };
  }
  if (!isHubId(pathOrHubId)) {
    throw new G2DError('no such file or directory, and not a Hugging Face model id ("org/name")', { source: pathOrHubId });
  }
  const revision = opts.revision ?? 'main';
  const snap = cachedSnapshot(pathOrHubId, opts);
  if (snap) {
    const { files, missing } = findIn(snap, specs);
    if (!missing.length) return { dir: snap, files, from: 'cache' };
  }
  if (isOffline(opts)) {
    const where = path.join(hfCacheDir(opts), repoFolderName(pathOrHubId));
    throw new G2DError(
      `model not available offline: ${snap ? `the cached snapshot ${snap} lacks ${findIn(snap, specs).missing.map(describe).join(', ')}` : `nothing cached at ${where} for revision "${revision}"`}. ` +
        `Download it where there is network (e.g. \`huggingface-cli download ${pathOrHubId}\`) into that cache (HF_HUB_CACHE / cacheDir), ` +
        `or pass a local model directory; unset ${OFFLINE_FLAGS.join('/')} (or pass offline: false) to download.`,
      { source: pathOrHubId },
    );
  }
  return downloadPretrained(pathOrHubId, specs, opts);
}

async function downloadPretrained(hubId: string, specs: FileSpec[], opts: PretrainedOptions): Promise<ResolvedFiles> {
  const cacheDir = hfCacheDir(opts);
  const revision = opts.revision ?? 'main';
  const accessToken = opts.accessToken ?? process.env.HF_TOKEN;
  const hubUrl = opts.hubUrl ?? process.env.HF_ENDPOINT;
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
          ...(hubUrl ? { hubUrl } : {}),
          ...(opts.fetch ? { fetch: opts.fetch } : {}),
          ...(accessToken ? { accessToken } : {}),
        });
        break;
      } catch (e) {
        if (isNotFound(e)) continue;
        throw new G2DError(
          `could not download ${name} from the Hugging Face Hub (${e instanceof Error ? e.message : String(e)}); ` +
            `it is not in the cache at ${path.join(cacheDir, repoFolderName(hubId))} either. ` +
            'Check the network and access token (HF_TOKEN), or work offline (HF_HUB_OFFLINE=1) from the cache or a local model directory.',
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
    const refs = path.join(cacheDir, repoFolderName(hubId), 'refs');
    fs.mkdirSync(path.dirname(path.join(refs, revision)), { recursive: true });
    fs.writeFileSync(path.join(refs, revision), path.basename(snapshot));
  }
  return { dir: snapshot ?? path.join(cacheDir, repoFolderName(hubId)), files, from: 'download' };
}
