/**
 * Test helpers shared by every package (jest): run a suite on every available backend with
 * a backend-specific tolerance, compare arrays with rtol/atol, check for leaked tensors and
 * find the shared real-data folder (skipping visibly when it is absent), capture an in-process
 * command line's output, make temporary folders that are removed afterwards.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

declare const require: NodeJS.Require | undefined;
// Inside jest, the plain `require` goes through jest's module registry, so tfjs-node and
// the test share one tfjs instance; elsewhere fall back to Node's require.
const req: NodeJS.Require = typeof require === 'function' ? require : createRequire(__filename);

/** The cpu backend prints a "use tfjs-node" banner on first use; our reports say that already. */
function muteCpuBanner(): void {
  const b = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (b && 'firstUse' in b) b.firstUse = false;
}

export type TestBackend = 'cpu' | 'wasm' | 'tensorflow';

/** Default per-backend tolerances (float32 everywhere; native kernels reorder sums). */
export const BACKEND_TOLERANCE: Record<TestBackend, { rtol: number; atol: number }> = {
  cpu: { rtol: 1e-4, atol: 1e-5 },
  tensorflow: { rtol: 1e-4, atol: 1e-5 },
  wasm: { rtol: 1e-3, atol: 1e-4 },
};

let detected: { backend: TestBackend; ok: boolean; reason?: string }[] | undefined;

function loadable(mod: string): string | undefined {
  try {
    req(mod);
    return undefined;
  } catch (e) {
    return (e instanceof Error ? e.message : String(e)).split('\n')[0];
  }
}

/**
 * Backends the suite runs on: every one that loads here, or the list in G2D_TEST_BACKENDS
 * (comma separated). A backend named there that does not load fails the run loudly.
 */
export function testBackends(): TestBackend[] {
  if (!detected) {
    const native = loadable('@tensorflow/tfjs-node');
    const wasm = loadable('@tensorflow/tfjs-backend-wasm');
    detected = [
      { backend: 'cpu', ok: true },
      { backend: 'tensorflow', ok: !native && tf.findBackendFactory('tensorflow') != null, reason: native },
      { backend: 'wasm', ok: !wasm && tf.findBackendFactory('wasm') != null, reason: wasm },
    ];
    // Loading tfjs-node/wasm makes them the highest-priority default; keep cpu as the
    // default outside describeBackends (cpu's init is synchronous, so this takes effect now).
    void tf.setBackend('cpu');
    muteCpuBanner();
  }
  const wanted = process.env.G2D_TEST_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted && wanted.length) {
    for (const w of wanted) {
      const d = detected.find((x) => x.backend === w);
      if (!d) throw new Error(`G2D_TEST_BACKENDS names unknown backend "${w}"`);
      if (!d.ok) throw new Error(`G2D_TEST_BACKENDS asks for "${w}" but it does not load: ${d.reason}`);
    }
    return wanted as TestBackend[];
  }
  return detected.filter((d) => d.ok).map((d) => d.backend);
}

export interface BackendContext {
  backend: TestBackend;
  rtol: number;
  atol: number;
}

/**
 * `describe` the suite once per available backend (cf. tfjs `describeWithFlags`).
 * `only` restricts it (e.g. heavy suites: `{ only: ['tensorflow', 'cpu'] }`).
 */
export function describeBackends(
  name: string,
  fn: (ctx: BackendContext) => void,
  opts: { only?: TestBackend[]; tolerance?: Partial<Record<TestBackend, { rtol: number; atol: number }>> } = {},
): void {
  const list = testBackends().filter((b) => !opts.only || opts.only.includes(b));
  for (const backend of list) {
    const tol = opts.tolerance?.[backend] ?? BACKEND_TOLERANCE[backend];
    describe(`${name} [${backend}]`, () => {
      let previous: string | undefined;
      beforeAll(async () => {
        previous = tf.getBackend();
        const ok = await tf.setBackend(backend);
        if (!ok) throw new Error(`could not activate backend ${backend}`);
        await tf.ready();
        muteCpuBanner();
      });
      afterAll(async () => {
        if (previous && previous !== backend) await tf.setBackend(previous);
      });
      fn({ backend, ...tol });
    });
  }
}

function flatten(x: unknown): number[] {
  if (x instanceof tf.Tensor) return Array.from(x.dataSync());
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  if (Array.isArray(x)) return (x as unknown[]).flat(Infinity as 1) as number[];
  if (typeof x === 'number') return [x];
  throw new Error(`expectArraysClose: unsupported value ${typeof x}`);
}

/**
 * |a - e| <= atol + rtol * |e| element-wise (numpy.allclose semantics); NaN matches NaN.
 * Reports the worst element and how many differ.
 */
export function expectArraysClose(
  actual: unknown,
  expected: unknown,
  tol: { rtol?: number; atol?: number } = {},
): void {
  const rtol = tol.rtol ?? 1e-3;
  const atol = tol.atol ?? 1e-4;
  const a = flatten(actual);
  const e = flatten(expected);
  if (a.length !== e.length) throw new Error(`expectArraysClose: length ${a.length} != expected ${e.length}`);
  let bad = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const ei = e[i]!;
    if (Number.isNaN(ei) && Number.isNaN(ai)) continue;
    const excess = Math.abs(ai - ei) - (atol + rtol * Math.abs(ei));
    if (!(excess <= 0)) {
      bad++;
      if (!(excess <= worstExcess)) {
        worstExcess = excess;
        worst = i;
      }
    }
  }
  if (bad > 0) {
    throw new Error(
      `expectArraysClose: ${bad}/${a.length} elements differ (rtol ${rtol}, atol ${atol}); ` +
        `worst at ${worst}: actual ${a[worst]} expected ${e[worst]}`,
    );
  }
}

/**
 * Two maps of named arrays (gradients by parameter name, buffers…) hold the same names and,
 * name by name, arrays within `tol` (expectArraysClose); a failure names `what` and the entry.
 */
export function expectNamedArraysClose(actual: Map<string, unknown>, expected: Map<string, unknown>, what: string, tol: { rtol?: number; atol?: number } = {}): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [k, v] of actual) {
    try {
      expectArraysClose(v, expected.get(k), tol);
    } catch (e) {
      throw new Error(`${what}: ${k}: ${(e as Error).message}`);
    }
  }
}

/** Runs `fn` and fails if it leaves more tensors alive than before (cf. tfjs expectNoLeakedTensors). */
export async function expectNoLeakedTensors<T>(fn: () => T | Promise<T>, allowed = 0): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  const after = tf.memory().numTensors;
  if (after - before > allowed) {
    throw new Error(`leaked ${after - before - allowed} tensor(s): ${before} before, ${after} after`);
  }
  return out;
}

/** Path to the shared real-data folder (`../shared` beside the checkout, or G2D_SHARED_DIR). */
export function sharedDir(): string | null {
  const candidates = [process.env.G2D_SHARED_DIR, path.resolve(__dirname, '../../../../../shared')];
  // walk up from cwd too: tests run from package dirs
  let dir = process.cwd();
  for (let i = 0; i < 6; i++) {
    candidates.push(path.join(dir, '..', 'shared'));
    dir = path.dirname(dir);
  }
  for (const c of candidates) {
    if (c && fs.existsSync(path.join(c, 'data')) && fs.existsSync(path.join(c, 'goldens'))) return path.resolve(c);
  }
  return null;
}

const warned = new Set<string>();
/**
 * Resolve a path under the shared folder, or null with a visible skip message.
 * Use with `describeShared` / `itShared` so skipped suites say why.
 */
export function sharedPath(rel: string): string | null {
  const root = sharedDir();
  const p = root ? path.join(root, rel) : null;
  if (!p || !fs.existsSync(p)) {
    if (!warned.has(rel)) {
      warned.add(rel);
      // visible in jest output: the skip is never silent
      process.stderr.write(`[g2d] SKIP: shared data "${rel}" not found (looked for ../shared beside the checkout; set G2D_SHARED_DIR)\n`);
    }
    return null;
  }
  return p;
}

/** describe() when the shared path exists, describe.skip() with a visible message otherwise. */
export function describeShared(name: string, rel: string, fn: (absPath: string) => void): void {
  const p = sharedPath(rel);
  if (p) describe(name, () => fn(p));
  else describe.skip(`${name} (SKIPPED: ../shared/${rel} absent)`, () => it('needs shared data', () => undefined));
}

/** What an in-process command line printed and returned. */
export interface CapturedRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs an in-process CLI entry (`runCli(spec, argv, io)`, a package's `main(argv, io)`) with
 * its stdout and stderr captured: `call` gets the two streams to pass on.
 */
export async function captureCli(call: (io: { stdout: PassThrough; stderr: PassThrough }) => Promise<number> | number): Promise<CapturedRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await call({ stdout, stderr });
  return { code, out, err };
}

/**
 * A maker of fresh temporary folders (`<prefix>-<tag>-XXXXXX` under the OS temp folder), all
 * removed after the test file's tests; call it at the top level of a test file.
 */
export function tempDirs(prefix: string): (tag?: string) => string {
  const made: string[] = [];
  afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return (tag) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}${tag ? `-${tag}` : ''}-`));
    made.push(d);
    return d;
  };
}

/** One request a mock hub answered. */
export interface HubRequest {
  method: string;
  url: string;
  auth: string | null;
}

/**
 * A tiny Hugging Face Hub for one repository, speaking the two calls `downloadFileToCacheDir`
 * makes (paths-info, resolve with byte ranges): pass `fetch` to the code under test, read
 * `requests` afterwards. Files not in `files` are answered 404 EntryNotFound.
 */
export function mockHubFetch(repo: string, files: Record<string, string | Uint8Array>, commit: string): { fetch: typeof fetch; requests: HubRequest[] } {
  const requests: HubRequest[] = [];
  const esc = repo.replace(/[/.]/g, (c) => `\\${c}`);
  const fetchImpl = (async (input: string | URL, init?: RequestInit) => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    requests.push({ method: init?.method ?? 'GET', url, auth: headers.get('Authorization') });
    if (new RegExp(`/api/models/${esc}/paths-info/[^/]+$`).test(url)) {
      const { paths } = JSON.parse(String(init!.body)) as { paths: string[] };
      const out = paths
        .filter((p) => files[p] !== undefined)
        .map((p) => ({ type: 'file', path: p, oid: `oid-${p}`, size: Buffer.from(files[p]!).length, lastCommit: { id: commit, title: 't', date: new Date(0).toISOString() } }));
      return new Response(JSON.stringify(out), { headers: { 'Content-Type': 'application/json' } });
    }
    const m = new RegExp(`/${esc}/resolve/[^/]+/(.+)$`).exec(url);
    const body = m && files[m[1]!] !== undefined ? Buffer.from(files[m[1]!]!) : undefined;
    if (!body) return new Response('nope', { status: 404, headers: { 'X-Error-Code': 'EntryNotFound' } });
    const range = headers.get('Range');
    const r = range ? /bytes=(\d+)-(\d*)/.exec(range) : null;
    const a = r ? Number(r[1]) : 0;
    const b = r && r[2] ? Number(r[2]) : body.length - 1;
    return new Response(body.subarray(a, b + 1), {
      status: r ? 206 : 200,
      headers: { 'Content-Range': `bytes ${a}-${b}/${body.length}`, 'Content-Length': String(b - a + 1), ETag: `"oid-${m![1]}"` },
    });
  }) as typeof fetch;
  return { fetch: fetchImpl, requests };
}

/** Runs `fn` with console.debug silenced (the hub client logs each download). */
export async function withoutDebugLog<T>(fn: () => Promise<T>): Promise<T> {
  const debug = console.debug;
  console.debug = () => undefined;
  try {
    return await fn();
  } finally {
    console.debug = debug;
  }
}
