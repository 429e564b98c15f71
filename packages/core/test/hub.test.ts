/**
 * The shared Hugging Face resolver: local directories, the huggingface_hub cache layout
 * (refs/<branch> vs a commit revision), offline errors naming the cache path, downloads through
 * @huggingface/hub with a mocked fetch, missing-file errors and the environment defaults.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedSnapshot, hfCacheDir, isHubId, isOffline, repoFolderName, resolvePretrained, type FileSpec } from '../src';
import { mockHubFetch, withoutDebugLog } from '../src/testing';

const COMMIT = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);
const ENV_KEYS = ['HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_HOME', 'XDG_CACHE_HOME', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'G2D_OFFLINE', 'HF_TOKEN', 'HF_ENDPOINT'];

const made: string[] = [];
const tmpdir = (prefix: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
};

let savedEnv: Record<string, string | undefined>;
beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A cache with org/model: snapshot COMMIT (refs/main) and snapshot OTHER (refs/v2), files as blobs + relative symlinks. */
function fakeCache(snapshots: Record<string, Record<string, string>>, refs: Record<string, string> = { main: COMMIT }): string {
  const cache = tmpdir('g2d-hf-');
  const repo = path.join(cache, 'models--org--model');
  fs.mkdirSync(path.join(repo, 'blobs'), { recursive: true });
  for (const [commit, files] of Object.entries(snapshots)) {
    const snap = path.join(repo, 'snapshots', commit);
    fs.mkdirSync(snap, { recursive: true });
    for (const [name, body] of Object.entries(files)) {
      const blob = path.join(repo, 'blobs', `${commit.slice(0, 4)}-${name.replace(/\W/g, '_')}`);
      fs.writeFileSync(blob, body);
      fs.symlinkSync(path.relative(snap, blob), path.join(snap, name));
    }
  }
  fs.mkdirSync(path.join(repo, 'refs'));
  for (const [ref, commit] of Object.entries(refs)) fs.writeFileSync(path.join(repo, 'refs', ref), `${commit}\n`);
  return cache;
}

const MODEL: FileSpec[] = [{ anyOf: ['config.json'] }, { anyOf: ['model.safetensors', 'pytorch_model.bin'] }];

describe('hub paths and environment', () => {
  it('names the cache folder like huggingface_hub', () => {
    expect(repoFolderName('emilyalsentzer/Bio_ClinicalBERT')).toBe('models--emilyalsentzer--Bio_ClinicalBERT');
    expect(repoFolderName('bert-base-uncased')).toBe('models--bert-base-uncased');
    expect(isHubId('org/name-1.0')).toBe(true);
    expect(isHubId('bert-base-uncased')).toBe(true);
    expect(isHubId('/abs/path')).toBe(false);
    expect(isHubId('a/b/c')).toBe(false);
    expect(isHubId('org/..')).toBe(false);
  });

  it('finds the cache like huggingface_hub: option, HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, ~/.cache', () => {
    expect(hfCacheDir()).toBe(path.join(os.homedir(), '.cache', 'huggingface', 'hub'));
    process.env.XDG_CACHE_HOME = '/xdg';
    expect(hfCacheDir()).toBe('/xdg/huggingface/hub');
    process.env.HF_HOME = '/x/hf';
    expect(hfCacheDir()).toBe('/x/hf/hub');
    process.env.HUGGINGFACE_HUB_CACHE = '/legacy';
    expect(hfCacheDir()).toBe('/legacy');
    process.env.HF_HUB_CACHE = '/y/cache';
    expect(hfCacheDir()).toBe('/y/cache');
    expect(hfCacheDir({ cacheDir: '/z' })).toBe('/z');
    expect(hfCacheDir('/w')).toBe('/w');
  });

  it('is offline when any of HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE, G2D_OFFLINE is set; the option wins', () => {
    expect(isOffline()).toBe(false);
    for (const k of ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'G2D_OFFLINE']) {
      process.env[k] = 'true';
      expect(isOffline()).toBe(true);
      expect(isOffline({ offline: false })).toBe(false);
      process.env[k] = '0';
      expect(isOffline()).toBe(false);
      delete process.env[k];
    }
    expect(isOffline({ offline: true })).toBe(true);
  });
});

describe('resolvePretrained: local directories and the cache', () => {
  it('uses a local directory (or a file in it), first existing name of each spec', async () => {
    const dir = tmpdir('g2d-m-');
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'w');
    const r = await resolvePretrained(dir, [...MODEL, { anyOf: ['tokenizer.json'], optional: true }]);
    expect(r.from).toBe('directory');
    expect(r.dir).toBe(dir);
    expect(r.files.get('model.safetensors')).toBe(path.join(dir, 'pytorch_model.bin'));
    expect(r.files.has('tokenizer.json')).toBe(false);
    expect((await resolvePretrained(path.join(dir, 'config.json'), MODEL)).dir).toBe(dir);
    fs.writeFileSync(path.join(dir, 'model.safetensors'), 'w');
    expect((await resolvePretrained(dir, MODEL)).files.get('model.safetensors')).toBe(path.join(dir, 'model.safetensors'));
  });

  it('names what a local directory lacks, and bad paths', async () => {
    const dir = tmpdir('g2d-m-');
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    await expect(resolvePretrained(dir, MODEL)).rejects.toThrow(`${dir}: not a complete model directory: missing one of model.safetensors / pytorch_model.bin`);
    await expect(resolvePretrained('./no/such/dir/', MODEL)).rejects.toThrow('./no/such/dir/: no such file or directory, and not a Hugging Face model id ("org/name")');
  });

  it('falls back to the single file matching a spec pattern; several are ambiguous', async () => {
    const dir = tmpdir('g2d-m-');
    const spec: FileSpec[] = [{ anyOf: ['model.safetensors'], pattern: /\.(pth|safetensors)$/ }];
    fs.writeFileSync(path.join(dir, 'best.pth'), 'w');
    expect((await resolvePretrained(dir, spec)).files.get('model.safetensors')).toBe(path.join(dir, 'best.pth'));
    fs.writeFileSync(path.join(dir, 'last.pth'), 'w');
    await expect(resolvePretrained(dir, spec)).rejects.toThrow('not a complete model directory: missing model.safetensors');
  });

  it('resolves a branch through refs/<branch> and a 40-hex commit straight to its snapshot', async () => {
    const cache = fakeCache(
      { [COMMIT]: { 'config.json': '{"v":1}', 'model.safetensors': 'w1' }, [OTHER]: { 'config.json': '{"v":2}', 'pytorch_model.bin': 'w2' } },
      { main: COMMIT, v2: OTHER },
    );
    const snaps = path.join(cache, 'models--org--model', 'snapshots');
    const main = await resolvePretrained('org/model', MODEL, { cacheDir: cache, offline: true });
    expect(main).toMatchObject({ from: 'cache', dir: path.join(snaps, COMMIT) });
    expect(fs.readFileSync(main.files.get('model.safetensors')!, 'utf8')).toBe('w1');
    const tag = await resolvePretrained('org/model', MODEL, { cacheDir: cache, offline: true, revision: 'v2' });
    expect(tag.dir).toBe(path.join(snaps, OTHER));
    expect(fs.readFileSync(tag.files.get('model.safetensors')!, 'utf8')).toBe('w2');
    // a commit needs no ref
    const byCommit = await resolvePretrained('org/model', MODEL, { cacheDir: cache, offline: true, revision: OTHER });
    expect(byCommit.dir).toBe(path.join(snaps, OTHER));
    expect(cachedSnapshot('org/model', { cacheDir: cache })).toBe(path.join(snaps, COMMIT));
    expect(cachedSnapshot('org/model', { cacheDir: cache, revision: 'nope' })).toBeNull();
    expect(cachedSnapshot('org/model', { cacheDir: cache, revision: 'c'.repeat(40) })).toBeNull();
    // the cache comes from HF_HUB_CACHE when no cacheDir is given
    process.env.HF_HUB_CACHE = cache;
    expect((await resolvePretrained('org/model', MODEL, { offline: true })).dir).toBe(path.join(snaps, COMMIT));
  });

  it('offline: names the cache path that was searched, or what the cached snapshot lacks', async () => {
    const cache = tmpdir('g2d-hf-');
    process.env.G2D_OFFLINE = '1';
    await expect(resolvePretrained('org/absent', MODEL, { cacheDir: cache })).rejects.toThrow(
      `org/absent: model not available offline: nothing cached at ${path.join(cache, 'models--org--absent')} for revision "main"`,
    );
    await expect(resolvePretrained('org/absent', MODEL, { cacheDir: cache, revision: 'v1' })).rejects.toThrow(/for revision "v1"\. .*HF_HUB_OFFLINE\/TRANSFORMERS_OFFLINE\/G2D_OFFLINE/);
    const partial = fakeCache({ [COMMIT]: { 'config.json': '{}' } });
    await expect(resolvePretrained('org/model', MODEL, { cacheDir: partial })).rejects.toThrow(
      `org/model: model not available offline: the cached snapshot ${path.join(partial, 'models--org--model', 'snapshots', COMMIT)} lacks one of model.safetensors / pytorch_model.bin`,
    );
  });
});

describe('resolvePretrained: downloads (mocked fetch)', () => {
  it('downloads into the cache layout, records refs/main, then resolves offline without requests', async () => {
    const commit = 'c'.repeat(40);
    const hub = mockHubFetch('org/net', { 'config.json': '{"hidden":4}', 'pytorch_model.bin': 'weights' }, commit);
    const cache = tmpdir('g2d-dl-');
    process.env.HF_ENDPOINT = 'https://mirror.test';
    process.env.HF_TOKEN = 'hf_secret';
    const specs: FileSpec[] = [...MODEL, { anyOf: ['tokenizer.json'], optional: true }];
    const r = await withoutDebugLog(() => resolvePretrained('org/net', specs, { cacheDir: cache, offline: false, fetch: hub.fetch }));
    const snap = path.join(cache, 'models--org--net', 'snapshots', commit);
    expect(r.from).toBe('download');
    expect(r.dir).toBe(snap);
    expect(fs.readFileSync(r.files.get('model.safetensors')!, 'utf8')).toBe('weights');
    expect(r.files.get('model.safetensors')).toBe(path.join(snap, 'pytorch_model.bin'));
    expect(r.files.has('tokenizer.json')).toBe(false);
    expect(fs.readFileSync(path.join(cache, 'models--org--net', 'refs', 'main'), 'utf8')).toBe(commit);
    // HF_ENDPOINT and HF_TOKEN are the defaults for hubUrl / accessToken
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(hub.requests.every((q) => q.url.startsWith('https://mirror.test/'))).toBe(true);
    expect(hub.requests.some((q) => q.method === 'POST' && q.url.includes('/api/models/org/net/paths-info/main'))).toBe(true);
    expect(hub.requests.find((q) => q.url.includes('paths-info'))!.auth).toBe('Bearer hf_secret');
    const n = hub.requests.length;
    const again = await resolvePretrained('org/net', specs, { cacheDir: cache, offline: true });
    expect(again).toMatchObject({ from: 'cache', dir: snap });
    expect(hub.requests.length).toBe(n);
  });

  it('options override HF_ENDPOINT; a commit revision writes no ref', async () => {
    const commit = 'd'.repeat(40);
    const hub = mockHubFetch('org/net', { 'config.json': '{}', 'model.safetensors': 'w' }, commit);
    const cache = tmpdir('g2d-dl-');
    process.env.HF_ENDPOINT = 'https://wrong.test';
    const r = await withoutDebugLog(() => resolvePretrained('org/net', MODEL, { cacheDir: cache, offline: false, fetch: hub.fetch, hubUrl: 'https://hub.test', revision: commit }));
    expect(r.dir).toBe(path.join(cache, 'models--org--net', 'snapshots', commit));
    expect(hub.requests.every((q) => q.url.startsWith('https://hub.test/'))).toBe(true);
    expect(fs.existsSync(path.join(cache, 'models--org--net', 'refs'))).toBe(false);
  });

  it('names a required file the repo does not have', async () => {
    const hub = mockHubFetch('org/net', { 'config.json': '{}' }, 'e'.repeat(40));
    const cache = tmpdir('g2d-dl-');
    await expect(withoutDebugLog(() => resolvePretrained('org/net', MODEL, { cacheDir: cache, offline: false, fetch: hub.fetch }))).rejects.toThrow(
      'org/net: the Hugging Face repo has no one of model.safetensors / pytorch_model.bin at revision "main"',
    );
  });

  it('a network failure names the file, the cache path and the offline way out', async () => {
    const cache = tmpdir('g2d-dl-');
    const failing = (() => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch;
    await expect(resolvePretrained('org/not-here', MODEL, { cacheDir: cache, offline: false, fetch: failing })).rejects.toThrow(
      `org/not-here: could not download config.json from the Hugging Face Hub (fetch failed); it is not in the cache at ${path.join(cache, 'models--org--not-here')} either.`,
    );
    // offline never calls fetch
    let called = false;
    const spy = (() => {
      called = true;
      return Promise.reject(new Error('x'));
    }) as unknown as typeof fetch;
    process.env.HF_HUB_OFFLINE = '1';
    await expect(resolvePretrained('org/not-here', MODEL, { cacheDir: cache, fetch: spy })).rejects.toThrow(/model not available offline/);
    expect(called).toBe(false);
  });
});
