import * as tf from '@tensorflow/tfjs';
import { G2DError } from './errors';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface BackendProbe {
  /** tfjs backend name it registers */
  backend: 'tensorflow' | 'wasm' | 'cpu';
  /** npm package that provides it */
  package: string;
  ok: boolean;
  /** why it is not usable, when !ok */
  reason?: string;
}

export interface BackendInfo {
  /** the tfjs backend now active */
  backend: string;
  /** the npm package that provided it */
  package: string;
  requested: BackendChoice;
  /** every candidate in order of preference, with why it was or was not used */
  probes: BackendProbe[];
  /** one human line: what was chosen and why the better ones were not */
  summary: string;
}

const NATIVE_HINT =
  'build the native backend with `pnpm native-backend` (air-gapped: libtensorflow from PyPI), ' +
  'or `npm install @tensorflow/tfjs-node-gpu` / `@tensorflow/tfjs-node` where the internet is reachable';

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').find((l) => l.trim().length > 0)?.trim() ?? msg;
}

/** Run fn with tfjs' "kernel already registered" warnings muted (tfjs-node and -gpu register the same kernels). */
async function quietKernelWarnings<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /is already registered/.test(args[0])) return;
    warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<BackendProbe> {
  // libtensorflow's C++ INFO lines (oneDNN, CPU features) drown the one-line report; keep
  // warnings and errors unless the user asked for more.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  return quietKernelWarnings(() => tryNativeLoud(pkg));
}

async function tryNativeLoud(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<BackendProbe> {
  const probe: BackendProbe = { backend: 'tensorflow', package: pkg, ok: false };
  try {
    if (pkg === '@tensorflow/tfjs-node-gpu') await import('@tensorflow/tfjs-node-gpu');
    else await import('@tensorflow/tfjs-node');
    probe.ok = tf.findBackendFactory('tensorflow') != null;
    if (!probe.ok) probe.reason = `${pkg} loaded but registered no 'tensorflow' backend`;
  } catch (e) {
    const m = firstLine(e);
    probe.reason = /Cannot find module '@tensorflow\/tfjs-node/.test(m) ? 'not installed' : m;
  }
  return probe;
}

async function tryWasm(): Promise<BackendProbe> {
  const probe: BackendProbe = { backend: 'wasm', package: '@tensorflow/tfjs-backend-wasm', ok: false };
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    probe.ok = tf.findBackendFactory('wasm') != null;
    if (!probe.ok) probe.reason = 'loaded but registered no wasm backend';
  } catch (e) {
    probe.reason = /Cannot find module/.test(firstLine(e)) ? 'not installed' : firstLine(e);
  }
  return probe;
}

/** Probe every backend (in order of preference) without switching to any. */
export async function probeBackends(): Promise<BackendProbe[]> {
  const gpu = await tryNative('@tensorflow/tfjs-node-gpu');
  // tfjs-node and tfjs-node-gpu register the same backend name; one loaded is enough.
  const cpuNative = gpu.ok
    ? { backend: 'tensorflow' as const, package: '@tensorflow/tfjs-node', ok: false, reason: 'not needed: tfjs-node-gpu loaded' }
    : await tryNative('@tensorflow/tfjs-node');
  return [gpu, cpuNative, await tryWasm(), { backend: 'cpu', package: '@tensorflow/tfjs', ok: true }];
}

function parseChoice(value: string | undefined): BackendChoice {
  const v = (value ?? 'auto').trim().toLowerCase() || 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(v)) {
    throw new G2DError(`G2D_BACKEND="${value}" is not one of ${BACKEND_CHOICES.join('|')}`);
  }
  return v as BackendChoice;
}

/**
 * Pick and activate the best compute backend. Only apps call this (packages never choose).
 * `G2D_BACKEND=auto|tensorflow|wasm|cpu` (or `opts.backend`) decides; `auto` takes
 * tfjs-node-gpu, then tfjs-node, then wasm, then cpu. Logs one line saying what was chosen
 * and why the better candidates were not.
 */
export async function initBackend(
  opts: { backend?: BackendChoice | string; log?: ((line: string) => void) | false } = {},
): Promise<BackendInfo> {
  const requested = parseChoice(opts.backend ?? process.env.G2D_BACKEND);
  const probes = await probeBackends();
  const candidates = probes.filter((p) => requested === 'auto' || p.backend === requested);
  const chosen = candidates.find((p) => p.ok);
  if (!chosen) {
    const why = candidates.map((p) => `${p.package}: ${p.reason}`).join('; ');
    const hint = requested === 'tensorflow' ? `; ${NATIVE_HINT}` : '';
    throw new G2DError(`G2D_BACKEND=${requested} is not available (${why})${hint}`);
  }
  const ok = await tf.setBackend(chosen.backend);
  if (!ok) throw new G2DError(`backend '${chosen.backend}' from ${chosen.package} failed to initialise`);
  await tf.ready();
  // the cpu backend's own "install tfjs-node" banner: the summary below says it better
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
  const skipped = probes
    .slice(0, probes.indexOf(chosen))
    .filter((p) => !p.ok || p.backend !== chosen.backend)
    .map((p) => `${p.package}: ${p.reason ?? 'not requested'}`);
  const summary =
    `[g2d] backend: ${chosen.backend} (${chosen.package}, G2D_BACKEND=${requested})` +
    (skipped.length ? `; not used: ${skipped.join('; ')}` : '') +
    (chosen.backend === 'cpu' || chosen.backend === 'wasm' ? `; JS backends are for tiny models and inference only: ${NATIVE_HINT}` : '');
  if (opts.log !== false) (opts.log ?? ((l: string) => process.stderr.write(l + '\n')))(summary);
  return { backend: chosen.backend, package: chosen.package, requested, probes, summary };
}
