/**
 * Crash-safe training checkpoints. One checkpoint is one folder `<dir>/step-<9 digits>/`:
 *
 *   model.safetensors       the variables, by name, in their own (TensorFlow.js) layout
 *   optimizer.safetensors   AdamW moments (exp_avg/<name>, exp_avg_sq/<name>)
 *   <export>.safetensors    optional extra weight files (e.g. a PyTorch-layout state dict)
 *   state.json              step, epoch, loader position, optimizer/scheduler/RNG state, extra
 *   manifest.json           byte size and sha256 of every file above (written last)
 *
 * It is written in a hidden temporary folder (every file fsynced), then renamed into place
 * and the parent folder fsynced: a crash at any point leaves either no folder or a complete
 * one. `latestCheckpoint` also checks the manifest (sizes and sha256), so a folder damaged
 * some other way is never picked. Weight files carry no paths or times: two identical runs
 * write byte-identical `model.safetensors`.
 */
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError, readSafetensors, writeSafetensors, type RawTensor } from '@g2d-ts/core';
import { AdamW, type OptimizerState } from './adamw';
import type { LrScheduler, SchedulerState } from './schedulers';
import { fsyncDir, processAlive, sha256File, writeFileSynced } from './fsutil';
import { type NamedVariables, type VariableSource, assignVariables, resolveVariables, tensorToRaw } from './variables';

export const CHECKPOINT_FORMAT = 'g2d-ts-training-state';
export const CHECKPOINT_VERSION = 1;
const MODEL_FILE = 'model.safetensors';
const OPTIM_FILE = 'optimizer.safetensors';
const STATE_FILE = 'state.json';
const MANIFEST_FILE = 'manifest.json';
const RESERVED = new Set(['model', 'optimizer', 'state', 'manifest']);
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Where the data source stands: the next batch to read is `batch` of `epoch`. */
export interface LoaderPosition {
  epoch: number;
  batch: number;
}

export type TensorMapLike = Map<string, RawTensor | tf.Tensor> | Record<string, RawTensor | tf.Tensor>;

export interface TrainingStateInput {
  variables: VariableSource;
  optimizer?: AdamW | OptimizerState;
  scheduler?: LrScheduler | SchedulerState;
  /** optimizer steps completed */
  step: number;
  epoch: number;
  loaderPosition?: LoaderPosition;
  /** RNG states of every stream the run uses (JSON) */
  rngStates?: Record<string, unknown>;
  /** anything else JSON-serialisable the app wants back on resume */
  extra?: Record<string, unknown>;
  /** extra weight files: `{ encoder: stateDict }` → `encoder.safetensors` (e.g. PyTorch layout and key names) */
  exports?: Record<string, TensorMapLike>;
}

export interface SaveOptions {
  /** folder name (default `step-<step, 9 digits>`) */
  name?: string;
  /** after saving, keep only this many newest complete `step-*` checkpoints (default: keep all) */
  keep?: number;
}

export interface Manifest {
  format: string;
  version: number;
  step: number;
  epoch: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

export interface StateJson {
  format: string;
  version: number;
  step: number;
  epoch: number;
  loaderPosition: LoaderPosition | null;
  optimizer: OptimizerState['meta'] | null;
  scheduler: SchedulerState | null;
  rngStates: Record<string, unknown>;
  extra: Record<string, unknown>;
  exports: string[];
}

export interface LoadedTrainingState {
  path: string;
  step: number;
  epoch: number;
  loaderPosition: LoaderPosition | null;
  variables: Map<string, RawTensor>;
  optimizer: OptimizerState | null;
  scheduler: SchedulerState | null;
  rngStates: Record<string, unknown>;
  extra: Record<string, unknown>;
  /** names of the extra weight files (read them with `readCheckpointExport`) */
  exports: string[];
}

function nonNegInt(v: unknown, what: string, source?: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new G2DError(`${what} must be an integer >= 0, got ${String(v)}`, { source });
  return v;
}

/** Default folder name of a checkpoint at `step`. */
export function checkpointName(step: number): string {
  return `step-${String(nonNegInt(step, 'step')).padStart(9, '0')}`;
}

async function toRawMap(m: TensorMapLike, what: string): Promise<Map<string, RawTensor>> {
  const out = new Map<string, RawTensor>();
  for (const [k, v] of m instanceof Map ? m : Object.entries(m)) {
    out.set(k, v instanceof tf.Tensor ? await tensorToRaw(v, `${what}: ${k}`) : v);
  }
  return out;
}

async function rawVariables(vars: NamedVariables): Promise<Map<string, RawTensor>> {
  const out = new Map<string, RawTensor>();
  for (const [name, v] of vars) out.set(name, await tensorToRaw(v, name));
  return out;
}

/** Removes leftover `.tmp-*` / `.old-*` folders of saves whose process is gone. */
async function cleanStale(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^\.(?:tmp|old)-.+-(\d+)-[0-9a-f]+$/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    await fsp.rm(path.join(dir, n), { recursive: true, force: true });
  }
}

/**
 * Writes a checkpoint folder under `dir` atomically and returns its path. The variables,
 * optimizer moments and extra exports are read back from the backend first; the caller must
 * not change the variables until the returned promise settles.
 */
export async function saveTrainingState(dir: string, state: TrainingStateInput, opts: SaveOptions = {}): Promise<string> {
  const step = nonNegInt(state.step, 'saveTrainingState: step');
  const epoch = nonNegInt(state.epoch, 'saveTrainingState: epoch');
  const name = opts.name ?? checkpointName(step);
  if (!NAME_RE.test(name)) throw new G2DError(`saveTrainingState: invalid checkpoint name "${name}" (letters, digits, _ . -)`);
  if (opts.keep !== undefined && !(Number.isInteger(opts.keep) && opts.keep >= 1)) {
    throw new G2DError(`saveTrainingState: keep must be an integer >= 1, got ${opts.keep}`);
  }
  if (state.loaderPosition) {
    nonNegInt(state.loaderPosition.epoch, 'saveTrainingState: loaderPosition.epoch');
    nonNegInt(state.loaderPosition.batch, 'saveTrainingState: loaderPosition.batch');
  }
  const exportNames = Object.keys(state.exports ?? {});
  for (const e of exportNames) {
    if (!NAME_RE.test(e) || RESERVED.has(e)) throw new G2DError(`saveTrainingState: invalid export name "${e}" (letters, digits, _ . -; not ${[...RESERVED].join('/')})`);
  }

  // snapshot everything first (the only awaits on tensor data)
  const vars = resolveVariables(state.variables, 'saveTrainingState variables');
  const model = await rawVariables(vars);
  const optim = state.optimizer instanceof AdamW ? await state.optimizer.exportState() : (state.optimizer ?? null);
  const sched = state.scheduler ? ('state' in state.scheduler && typeof state.scheduler.state === 'function' ? (state.scheduler as LrScheduler).state() : (state.scheduler as SchedulerState)) : null;
  const exportsRaw: [string, Map<string, RawTensor>][] = [];
  for (const e of exportNames) exportsRaw.push([e, await toRawMap(state.exports![e]!, `export ${e}`)]);
  const stateJson: StateJson = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step,
    epoch,
    loaderPosition: state.loaderPosition ? { epoch: state.loaderPosition.epoch, batch: state.loaderPosition.batch } : null,
    optimizer: optim ? optim.meta : null,
    scheduler: sched,
    rngStates: state.rngStates ?? {},
    extra: state.extra ?? {},
    exports: exportNames,
  };
  let stateText: string;
  try {
    stateText = JSON.stringify(stateJson, null, 1) + '\n';
  } catch (e) {
    throw new G2DError(`saveTrainingState: state is not JSON-serialisable (${(e as Error).message})`);
  }

  await fsp.mkdir(dir, { recursive: true });
  await cleanStale(dir);
  const tag = `${name}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = path.join(dir, `.tmp-${tag}`);
  const final = path.join(dir, name);
  await fsp.mkdir(tmp);
  try {
    const files: string[] = [];
    await writeSafetensors(path.join(tmp, MODEL_FILE), model);
    files.push(MODEL_FILE);
    if (optim) {
      await writeSafetensors(path.join(tmp, OPTIM_FILE), optim.tensors);
      files.push(OPTIM_FILE);
    }
    for (const [e, m] of exportsRaw) {
      await writeSafetensors(path.join(tmp, `${e}.safetensors`), m);
      files.push(`${e}.safetensors`);
    }
    await writeFileSynced(path.join(tmp, STATE_FILE), stateText);
    files.push(STATE_FILE);
    const manifest: Manifest = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, step, epoch, files: {} };
    for (const f of files) {
      const p = path.join(tmp, f);
      manifest.files[f] = { bytes: (await fsp.stat(p)).size, sha256: await sha256File(p) };
    }
    await writeFileSynced(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 1) + '\n');
    await fsyncDir(tmp);
    // publish: a same-named folder (a re-save after resume) is moved aside first
    let old: string | undefined;
    try {
      await fsp.access(final);
      old = path.join(dir, `.old-${tag}`);
      await fsp.rename(final, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fsp.rename(tmp, final);
    await fsyncDir(dir);
    if (old) await fsp.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (opts.keep !== undefined) await pruneCheckpoints(dir, opts.keep, final);
  return final;
}

export interface CheckpointInfo {
  path: string;
  name: string;
  step: number;
  epoch: number;
  complete: boolean;
  /** why it is not complete */
  reason?: string;
}

async function readManifest(ckpt: string): Promise<Manifest> {
  const file = path.join(ckpt, MANIFEST_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new G2DError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no manifest.json (incomplete checkpoint)' : (e as Error).message, { source: ckpt });
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (e) {
    throw new G2DError(`manifest.json is not JSON (${(e as Error).message})`, { source: ckpt });
  }
  if (!m || m.format !== CHECKPOINT_FORMAT) throw new G2DError(`manifest.json: format is "${String(m?.format)}", expected "${CHECKPOINT_FORMAT}"`, { source: ckpt });
  if (m.version !== CHECKPOINT_VERSION) throw new G2DError(`manifest.json: version ${String(m.version)} is not supported (expected ${CHECKPOINT_VERSION})`, { source: ckpt });
  nonNegInt(m.step, 'manifest.json step', ckpt);
  nonNegInt(m.epoch, 'manifest.json epoch', ckpt);
  if (!m.files || typeof m.files !== 'object' || !m.files[MODEL_FILE] || !m.files[STATE_FILE]) {
    throw new G2DError('manifest.json lists no model.safetensors/state.json', { source: ckpt });
  }
  return m;
}

/** Checks every file of a checkpoint against its manifest; throws a G2DError naming the first problem. */
export async function verifyCheckpoint(ckpt: string, opts: { hash?: boolean } = {}): Promise<Manifest> {
  const m = await readManifest(ckpt);
  for (const [f, info] of Object.entries(m.files)) {
    if (f.includes('/') || f.includes('\\') || f.startsWith('.')) throw new G2DError(`manifest.json names an invalid file "${f}"`, { source: ckpt });
    const p = path.join(ckpt, f);
    let size: number;
    try {
      size = (await fsp.stat(p)).size;
    } catch {
      throw new G2DError(`${f} is missing`, { source: ckpt });
    }
    if (size !== info.bytes) throw new G2DError(`${f} has ${size} bytes, the manifest says ${info.bytes} (truncated?)`, { source: ckpt });
    if (opts.hash ?? true) {
      const h = await sha256File(p);
      if (h !== info.sha256) throw new G2DError(`${f}: sha256 ${h} does not match the manifest`, { source: ckpt });
    }
  }
  return m;
}

/**
 * Every checkpoint folder under `dir` (hidden temporary folders excluded), newest step first,
 * each with whether it is complete (manifest present and, with `hash`, every sha256 right).
 */
export async function listCheckpoints(dir: string, opts: { hash?: boolean } = {}): Promise<CheckpointInfo[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: CheckpointInfo[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const p = path.join(dir, name);
    try {
      if (!(await fsp.stat(p)).isDirectory()) continue;
    } catch {
      continue; // removed meanwhile
    }
    const fallbackStep = /^step-(\d+)$/.exec(name);
    try {
      const m = await verifyCheckpoint(p, opts);
      out.push({ path: p, name, step: m.step, epoch: m.epoch, complete: true });
    } catch (e) {
      out.push({ path: p, name, step: fallbackStep ? Number(fallbackStep[1]) : -1, epoch: -1, complete: false, reason: (e as Error).message });
    }
  }
  out.sort((a, b) => b.step - a.step || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  return out;
}

/** The newest complete checkpoint under `dir` (highest step), or null. Incomplete or damaged ones are never returned. */
export async function latestCheckpoint(dir: string, opts: { hash?: boolean; onSkip?: (info: CheckpointInfo) => void } = {}): Promise<string | null> {
  for (const c of await listCheckpoints(dir, opts)) {
    if (c.complete) return c.path;
    opts.onSkip?.(c);
  }
  return null;
}

async function pruneCheckpoints(dir: string, keep: number, justWritten: string): Promise<void> {
  const all = (await listCheckpoints(dir, { hash: false })).filter((c) => c.complete && /^step-\d+$/.test(c.name));
  for (const c of all.slice(keep)) {
    if (path.resolve(c.path) === path.resolve(justWritten)) continue;
    await fsp.rm(c.path, { recursive: true, force: true });
  }
}

/**
 * Reads a checkpoint folder (verified against its manifest first, sha256 included unless
 * `verify: 'size'`). Apply it with `restoreTrainingState`.
 */
export async function loadTrainingState(ckpt: string, opts: { verify?: 'sha256' | 'size' } = {}): Promise<LoadedTrainingState> {
  try {
    await fsp.access(path.join(ckpt, MANIFEST_FILE));
  } catch {
    const inside = (await listCheckpoints(ckpt, { hash: false }).catch(() => [])).length;
    throw new G2DError(
      inside ? 'this is a folder of checkpoints, not one checkpoint: pass latestCheckpoint(dir)' : 'not a complete checkpoint (no manifest.json)',
      { source: ckpt },
    );
  }
  const manifest = await verifyCheckpoint(ckpt, { hash: (opts.verify ?? 'sha256') === 'sha256' });
  let st: StateJson;
  try {
    st = JSON.parse(await fsp.readFile(path.join(ckpt, STATE_FILE), 'utf8')) as StateJson;
  } catch (e) {
    throw new G2DError(`state.json: ${(e as Error).message}`, { source: ckpt });
  }
  if (st.format !== CHECKPOINT_FORMAT || st.step !== manifest.step) throw new G2DError('state.json does not match manifest.json', { source: ckpt });
  const variables = (await readSafetensors(path.join(ckpt, MODEL_FILE))).tensors;
  let optimizer: OptimizerState | null = null;
  if (st.optimizer) {
    if (!manifest.files[OPTIM_FILE]) throw new G2DError('state.json has optimizer state but optimizer.safetensors is not in the manifest', { source: ckpt });
    optimizer = { meta: st.optimizer, tensors: (await readSafetensors(path.join(ckpt, OPTIM_FILE))).tensors };
  }
  return {
    path: ckpt,
    step: st.step,
    epoch: st.epoch,
    loaderPosition: st.loaderPosition ?? null,
    variables,
    optimizer,
    scheduler: st.scheduler ?? null,
    rngStates: st.rngStates ?? {},
    extra: st.extra ?? {},
    exports: st.exports ?? [],
  };
}

/** Reads one extra weight file (`exports` of `saveTrainingState`) of a checkpoint. */
export async function readCheckpointExport(ckpt: string, name: string): Promise<Map<string, RawTensor>> {
  if (!NAME_RE.test(name) || RESERVED.has(name)) throw new G2DError(`invalid export name "${name}"`, { source: ckpt });
  const m = await readManifest(ckpt);
  if (!m.files[`${name}.safetensors`]) throw new G2DError(`checkpoint has no export "${name}" (has: ${Object.keys(m.files).join(', ')})`, { source: ckpt });
  return (await readSafetensors(path.join(ckpt, `${name}.safetensors`))).tensors;
}

/**
 * Puts a loaded checkpoint back: variables (strict name/shape match by default), optimizer
 * moments and hyper-parameters, scheduler position. Returns the step/epoch/position to resume at.
 */
export function restoreTrainingState(
  loaded: LoadedTrainingState,
  target: { variables: VariableSource; optimizer?: AdamW; scheduler?: LrScheduler; strict?: boolean },
): { step: number; epoch: number; loaderPosition: LoaderPosition | null; rngStates: Record<string, unknown>; extra: Record<string, unknown> } {
  const vars = resolveVariables(target.variables, 'restoreTrainingState variables');
  // validate the optimizer and scheduler parts before changing anything
  if (target.optimizer && !loaded.optimizer) throw new G2DError('checkpoint has no optimizer state', { source: loaded.path });
  if (target.scheduler && !loaded.scheduler) throw new G2DError('checkpoint has no scheduler state', { source: loaded.path });
  if (target.scheduler && loaded.scheduler && loaded.scheduler.kind !== target.scheduler.kind) {
    throw new G2DError(`checkpoint scheduler is "${loaded.scheduler.kind}", the run uses "${target.scheduler.kind}"`, { source: loaded.path });
  }
  assignVariables(vars, loaded.variables, { strict: target.strict ?? true, source: loaded.path });
  if (target.optimizer && loaded.optimizer) target.optimizer.loadState(loaded.optimizer, loaded.path);
  if (target.scheduler && loaded.scheduler) target.scheduler.loadState(loaded.scheduler, loaded.path);
  return { step: loaded.step, epoch: loaded.epoch, loaderPosition: loaded.loaderPosition, rngStates: loaded.rngStates, extra: loaded.extra };
}
