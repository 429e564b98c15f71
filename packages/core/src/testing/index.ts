/**
 * Test helpers shared by every package (jest): run a suite on every available backend with
 * a backend-specific tolerance, compare arrays with rtol/atol, check for leaked tensors and
 * find the shared real-data folder (skipping visibly when it is absent).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
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
