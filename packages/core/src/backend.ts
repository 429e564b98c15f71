import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { G2DError } from './errors';

declare const require: NodeJS.Require | undefined;

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
  /** the folder the package was loaded from, when found */
  path?: string;
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

/**
 * Folders the optional backend packages are looked up from, in order. The packages are
 * dependencies of the apps (only apps pick a backend), not of @g2d-ts/core, so they are
 * resolved from: the running program (an app's bin), the current directory and its parents
 * (a workspace root), the directory a package manager started in (INIT_CWD), then this
 * package's own location (a flat npm install puts the app's dependencies beside it).
 */
export function backendSearchPaths(): string[] {
  const dirs: string[] = [];
  const main = (typeof require === 'function' ? require.main?.filename : undefined) ?? process.argv[1];
  if (main) {
    try {
      dirs.push(path.dirname(fs.realpathSync(main)));
    } catch {
      /* a program name that is not a file (node -e, a REPL) */
    }
  }
  dirs.push(process.cwd());
  if (process.env.INIT_CWD) dirs.push(path.resolve(process.env.INIT_CWD));
  dirs.push(__dirname);
  return [...new Set(dirs)];
}

/** The package's folder and entry file, resolved from the first search path that has it. */
export function resolveBackendPackage(pkg: string, paths: string[] = backendSearchPaths()): { dir: string; entry: string } | undefined {
  for (const base of paths) {
    try {
      const r = createRequire(path.join(base, '__g2d_backend__.js'));
      const entry = r.resolve(pkg);
      const pj = r.resolve(`${pkg}/package.json`);
      return { dir: path.dirname(pj), entry };
    } catch {
      /* not from here */
    }
  }
  return undefined;
}

/**
 * Load a backend package by its resolved entry. Inside jest the ambient `require` goes
 * through jest's module registry, so the backend registers with the same tfjs the caller
 * sees; elsewhere Node's require.
 */
function loadBackendPackage(pkg: string): { dir: string } {
  const paths = backendSearchPaths();
  const found = resolveBackendPackage(pkg, paths);
  if (!found) throw new NotInstalled(`not installed (looked from ${paths.join(', ')})`);
  const load: NodeJS.Require = typeof require === 'function' ? require : createRequire(found.entry);
  load(found.entry);
  return { dir: found.dir };
}

class NotInstalled extends Error {}

async function tryNativeLoud(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<BackendProbe> {
  const probe: BackendProbe = { backend: 'tensorflow', package: pkg, ok: false };
  try {
    probe.path = loadBackendPackage(pkg).dir;
    probe.ok = tf.findBackendFactory('tensorflow') != null;
    if (!probe.ok) probe.reason = `${pkg} loaded but registered no 'tensorflow' backend`;
  } catch (e) {
    probe.reason = e instanceof NotInstalled ? e.message : firstLine(e);
  }
  return probe;
}

async function tryWasm(): Promise<BackendProbe> {
  const probe: BackendProbe = { backend: 'wasm', package: '@tensorflow/tfjs-backend-wasm', ok: false };
  try {
    probe.path = loadBackendPackage('@tensorflow/tfjs-backend-wasm').dir;
    probe.ok = tf.findBackendFactory('wasm') != null;
    if (!probe.ok) probe.reason = 'loaded but registered no wasm backend';
  } catch (e) {
    probe.reason = e instanceof NotInstalled ? e.message : firstLine(e);
  }
  return probe;
}

/** Whether a CUDA device can be visible to a GPU build of TensorFlow here, and if not, why. */
export interface CudaVisibility {
  visible: boolean;
  /** why none is visible (the first reason found) */
  reason?: string;
  /** GPU device nodes found (/dev/nvidia0, …) */
  deviceNodes: string[];
}

const DRIVER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/nvidia/lib64', '/usr/local/nvidia/lib', '/usr/lib/wsl/lib'];

/**
 * Cheap checks (no library is loaded) of what a CUDA build of TensorFlow needs to see a GPU:
 * CUDA_VISIBLE_DEVICES not hiding every device, NVIDIA device nodes, the driver's libcuda.so.1.
 */
export function cudaVisibility(env: NodeJS.ProcessEnv = process.env): CudaVisibility {
  if (process.platform !== 'linux') return { visible: false, reason: `GPU builds are handled on Linux only (this is ${process.platform})`, deviceNodes: [] };
  let deviceNodes: string[] = [];
  try {
    deviceNodes = fs.readdirSync('/dev').filter((n) => /^nvidia\d+$/.test(n)).map((n) => `/dev/${n}`);
  } catch {
    /* no /dev */
  }
  const cvd = env.CUDA_VISIBLE_DEVICES;
  if (cvd !== undefined && (cvd.trim() === '' || cvd.trim() === '-1')) return { visible: false, reason: `CUDA_VISIBLE_DEVICES="${cvd}" hides every GPU`, deviceNodes };
  if (!deviceNodes.length) return { visible: false, reason: 'no NVIDIA GPU device nodes (/dev/nvidia0, …): no GPU here, or the container was started without one', deviceNodes };
  const dirs = [...DRIVER_DIRS, ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)];
  if (!dirs.some((d) => fs.existsSync(path.join(d, 'libcuda.so.1')))) {
    return { visible: false, reason: `${deviceNodes[0]} exists but the NVIDIA driver library libcuda.so.1 was not found (looked in ${dirs.join(', ')})`, deviceNodes };
  }
  return { visible: true, deviceNodes };
}

/** Whether the package's native addon has been built (lib/napi-v<N>/tfjs_binding.node). */
function addonBuilt(pkgDir: string): boolean {
  try {
    const lib = path.join(pkgDir, 'lib');
    return fs.readdirSync(lib).some((d) => d.startsWith('napi-v') && fs.existsSync(path.join(lib, d, 'tfjs_binding.node')));
  } catch {
    return false;
  }
}

/**
 * The GPU build is loaded only where a CUDA device can be visible: on a CPU-only machine a
 * built @tensorflow/tfjs-node-gpu would run TensorFlow's CPU kernels from a ~1 GB library
 * instead of the CPU build. `G2D_BACKEND_GPU=force` loads it anyway (to test the GPU build).
 */
async function tryNativeGpu(): Promise<BackendProbe> {
  const pkg = '@tensorflow/tfjs-node-gpu';
  const cuda = cudaVisibility();
  if (cuda.visible || process.env.G2D_BACKEND_GPU === 'force') return tryNative(pkg);
  const found = resolveBackendPackage(pkg);
  const built = found ? addonBuilt(found.dir) : false;
  return {
    backend: 'tensorflow',
    package: pkg,
    ok: false,
    reason: `${found ? (built ? 'built' : 'installed, not built (pnpm native-backend --gpu)') : 'not installed'}; not loaded: no CUDA device visible (${cuda.reason})`,
    ...(found ? { path: found.dir } : {}),
  };
}

/** Probe every backend (in order of preference) without switching to any. */
export async function probeBackends(): Promise<BackendProbe[]> {
  const gpu = await tryNativeGpu();
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
