/**
 * A small PyTorch-like module system on plain tfjs variables: named parameters and buffers
 * (names identical to the PyTorch module they mirror), train/eval mode, freezing, state dicts
 * in PyTorch layout and strict loading that reports every offending key.
 *
 * Tensors inside the models are NHWC (channels last, the tfjs convention); weights are kept in
 * tfjs layout (conv HWIO, linear [in, out]) and converted to/from PyTorch's layout (OIHW,
 * [out, in]) only when a state dict is exported or loaded.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, type RawTensor, Rng, toFloat32 } from '@g2d-ts/core';

// cached: inside vm contexts (jest) every global lookup in a hot loop is slow
const { log, sqrt, cos, sin, PI } = Math;

/** How a parameter's tfjs layout relates to PyTorch's. */
export type ParamLayout = 'plain' | 'conv2d' | 'linear' | 'conv1d';

export interface TensorEntry {
  kind: 'tensor';
  variable: tf.Variable;
  layout: ParamLayout;
  /** buffers (running statistics) are saved and loaded but never trained */
  buffer: boolean;
}
export interface CounterEntry {
  kind: 'counter';
  get(): number;
  set(v: number): void;
}
export type ParamEntry = TensorEntry | CounterEntry;

/** PyTorch shape of a tfjs-layout shape. */
export function torchShape(shape: readonly number[], layout: ParamLayout): number[] {
  switch (layout) {
    case 'conv2d':
      return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
    case 'linear':
      return [shape[1]!, shape[0]!];
    case 'conv1d':
      return [shape[1]!, shape[0]!, 1];
    default:
      return [...shape];
  }
}

/** Permutes a row-major array of `shape` by `perm` (plain loops; fast on every backend). */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const out = new Float32Array(data.length);
  if (rank === 2 && perm[0] === 1) {
    const [r, c] = shape as [number, number];
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j]!;
    return out;
  }
  if (rank !== 4) {
    out.set(data);
    return out;
  }
  const strides = [shape[1]! * shape[2]! * shape[3]!, shape[2]! * shape[3]!, shape[3]!, 1];
  const os = perm.map((p) => shape[p]!);
  const ps = perm.map((p) => strides[p]!);
  let o = 0;
  for (let a = 0; a < os[0]!; a++)
    for (let b = 0; b < os[1]!; b++)
      for (let c = 0; c < os[2]!; c++) {
        let src = a * ps[0]! + b * ps[1]! + c * ps[2]!;
        for (let d = 0; d < os[3]!; d++, src += ps[3]!) out[o++] = data[src]!;
      }
  return out;
}

/** PyTorch-layout values (shape `shape`) → tfjs-layout values. */
export function fromTorchLayoutData(data: Float32Array, shape: readonly number[], layout: ParamLayout): Float32Array {
  switch (layout) {
    case 'conv2d':
      return permute(data, shape, [2, 3, 1, 0]);
    case 'linear':
      return permute(data, shape, [1, 0]);
    case 'conv1d':
      return permute(data, [shape[0]!, shape[1]!], [1, 0]);
    default:
      return data;
  }
}

/** tfjs-layout values (shape `shape`) → PyTorch-layout values. */
export function toTorchLayoutData(data: Float32Array, shape: readonly number[], layout: ParamLayout): Float32Array {
  switch (layout) {
    case 'conv2d':
      return permute(data, shape, [3, 2, 0, 1]);
    case 'linear':
    case 'conv1d':
      return permute(data, shape, [1, 0]);
    default:
      return data.slice();
  }
}

/** tfjs-layout tensor → PyTorch-layout tensor (e.g. to compare gradients with PyTorch's). */
export function toTorchLayout(t: tf.Tensor, layout: ParamLayout): tf.Tensor {
  return tf.tensor(toTorchLayoutData(t.dataSync() as Float32Array, t.shape, layout), torchShape(t.shape, layout), 'float32');
}

let skipRandomInit = 0;

/**
 * Builds modules without drawing random initial weights (zeros instead), for callers that
 * overwrite every weight right after (loading a checkpoint): much faster for big models.
 */
export function withoutRandomInit<T>(build: () => T): T {
  skipRandomInit++;
  try {
    return build();
  } finally {
    skipRandomInit--;
  }
}

/** Options every module constructor accepts. */
export interface ModuleOptions {
  /** Seeded generator for the initial weights (default: a fixed seed, so builds are reproducible). */
  rng?: Rng;
}

export interface LoadStateDictOptions {
  /** Missing or unexpected keys are errors (default true). Shape mismatches always are. */
  strict?: boolean;
  /** Named in errors (the checkpoint file). */
  source?: string;
  /** Keys (in this module's names) that may be present in the checkpoint but are not used. */
  ignore?: (key: string) => boolean;
}

export interface LoadStateDictResult {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  ignored: string[];
}

export abstract class Module {
  /** Training mode (BatchNorm uses batch statistics and updates its running averages). */
  training = true;
  private readonly _entries = new Map<string, ParamEntry>();
  private readonly _children = new Map<string, Module>();
  protected readonly rng: Rng;

  constructor(opts: ModuleOptions = {}) {
    this.rng = opts.rng ?? new Rng(0);
  }

  /** Registers a parameter (trainable) or buffer (not trainable); takes ownership of `init`. */
  protected addParam(name: string, init: tf.Tensor, layout: ParamLayout = 'plain', buffer = false): tf.Variable {
    if (this._entries.has(name) || this._children.has(name)) throw new Error(`duplicate member "${name}"`);
    const variable = tf.variable(init, !buffer);
    init.dispose();
    this._entries.set(name, { kind: 'tensor', variable, layout, buffer });
    return variable;
  }

  protected addCounter(name: string, get: () => number, set: (v: number) => void): void {
    this._entries.set(name, { kind: 'counter', get, set });
  }

  protected addChild<M extends Module>(name: string, m: M): M {
    if (this._entries.has(name) || this._children.has(name)) throw new Error(`duplicate member "${name}"`);
    this._children.set(name, m);
    return m;
  }

  /** Normal(0, std) initial values (fast seeded generator; tfjs's seeded sampler is very slow). */
  protected randn(shape: number[], std: number): tf.Tensor {
    if (skipRandomInit) return tf.zeros(shape);
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u1 = 1 - this.rng.next();
      const u2 = this.rng.next();
      const r = sqrt(-2 * log(u1)) * std;
      out[i] = r * cos(2 * PI * u2);
      if (i + 1 < n) out[i + 1] = r * sin(2 * PI * u2);
    }
    return tf.tensor(out, shape, 'float32');
  }

  /** Uniform(lo, hi) initial values. */
  protected randu(shape: number[], lo: number, hi: number): tf.Tensor {
    if (skipRandomInit) return tf.zeros(shape);
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.rng.next();
    return tf.tensor(out, shape, 'float32');
  }

  /** A seed for tfjs random initialisers, drawn from this module's generator. */
  protected seed(): number {
    return this.rng.int(2 ** 31 - 1);
  }

  children(): [string, Module][] {
    return [...this._children.entries()];
  }

  /** Every parameter, buffer and counter, with its full PyTorch-style name. */
  namedEntries(prefix = ''): [string, ParamEntry][] {
    const out: [string, ParamEntry][] = [];
    for (const [n, e] of this._entries) out.push([prefix + n, e]);
    for (const [n, c] of this._children) out.push(...c.namedEntries(`${prefix}${n}.`));
    return out;
  }

  /** Trainable parameters (not buffers, not frozen), e.g. for `optimizer.minimize(f, false, varList)`. */
  trainableVariables(): tf.Variable[] {
    return this.namedEntries()
      .filter((e): e is [string, TensorEntry] => e[1].kind === 'tensor' && !e[1].buffer && e[1].variable.trainable)
      .map(([, e]) => e.variable);
  }

  /** All parameters and buffers by name (tfjs layout). */
  namedVariables(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const [n, e] of this.namedEntries()) if (e.kind === 'tensor') m.set(n, e.variable);
    return m;
  }

  numParams(): number {
    let n = 0;
    for (const [, e] of this.namedEntries()) if (e.kind === 'tensor' && !e.buffer) n += e.variable.size;
    return n;
  }

  /** Sets training mode on this module and every child (like PyTorch's `train()`). */
  train(mode = true): this {
    this.training = mode;
    for (const [, c] of this._children) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Freezes parameters whose name starts with one of `prefixes` (all when omitted): they are
   * excluded from `trainableVariables()` and from `tf.variableGrads`/optimizers' default lists.
   * BatchNorm statistics still follow train/eval mode; call `eval()` on a frozen part to fix them.
   */
  freeze(prefixes?: string[]): this {
    this.setTrainable(false, prefixes);
    return this;
  }

  unfreeze(prefixes?: string[]): this {
    this.setTrainable(true, prefixes);
    return this;
  }

  private setTrainable(flag: boolean, prefixes?: string[]): void {
    let hit = false;
    for (const [n, e] of this.namedEntries()) {
      if (e.kind !== 'tensor' || e.buffer) continue;
      if (!prefixes || prefixes.some((p) => n === p || n.startsWith(p.endsWith('.') ? p : `${p}.`))) {
        e.variable.trainable = flag;
        hit = true;
      }
    }
    if (prefixes && !hit) throw new G2DError(`no parameters match ${prefixes.map((p) => `"${p}"`).join(', ')}`);
  }

  /** Names of frozen parameters. */
  frozen(): string[] {
    return this.namedEntries()
      .filter(([, e]) => e.kind === 'tensor' && !e.buffer && !e.variable.trainable)
      .map(([n]) => n);
  }

  /** The weights in PyTorch layout and names (float32; counters as int64). */
  stateDict(): Map<string, RawTensor> {
    const out = new Map<string, RawTensor>();
    for (const [n, e] of this.namedEntries()) {
      if (e.kind === 'counter') {
        out.set(n, { dtype: 'int64', shape: [], data: new BigInt64Array([BigInt(Math.round(e.get()))]) });
        continue;
      }
      const data = toTorchLayoutData(e.variable.dataSync() as Float32Array, e.variable.shape, e.layout);
      out.set(n, { dtype: 'float32', shape: torchShape(e.variable.shape, e.layout), data });
    }
    return out;
  }

  /**
   * Loads a state dict in PyTorch layout and names. Everything is validated first (names,
   * shapes, dtypes) and every problem is reported in one error, so a failed load never leaves
   * the module half-updated.
   */
  loadStateDict(sd: Map<string, RawTensor>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const entries = new Map(this.namedEntries());
    const missing: string[] = [];
    const shapeErrors: string[] = [];
    const loaded: string[] = [];
    for (const [n, e] of entries) {
      const t = sd.get(n);
      if (!t) {
        // checkpoints from before PyTorch 0.4.1 have no num_batches_tracked
        if (!(e.kind === 'counter' && n.endsWith('num_batches_tracked'))) missing.push(n);
        continue;
      }
      const want = e.kind === 'counter' ? [] : torchShape(e.variable.shape, e.layout);
      const got = t.shape;
      const sameShape =
        e.kind === 'counter'
          ? got.length === 0 || (got.length === 1 && got[0] === 1)
          : got.length === want.length && got.every((d, i) => d === want[i]);
      if (!sameShape) shapeErrors.push(`${n}: expected [${want.join(', ')}], checkpoint has [${got.join(', ')}]`);
      else loaded.push(n);
    }
    const unexpected: string[] = [];
    const ignored: string[] = [];
    for (const k of sd.keys()) {
      if (entries.has(k)) continue;
      if (opts.ignore?.(k)) ignored.push(k);
      else unexpected.push(k);
    }
    const problems: string[] = [];
    if (shapeErrors.length) problems.push(`shape mismatch (${shapeErrors.length}):\n    ${shapeErrors.join('\n    ')}`);
    if (strict && missing.length) problems.push(`missing in the checkpoint (${missing.length}):\n    ${missing.join('\n    ')}`);
    if (strict && unexpected.length) {
      problems.push(`unexpected in the checkpoint (${unexpected.length}):\n    ${unexpected.join('\n    ')}`);
    }
    if (problems.length) {
      throw new G2DError(`cannot load weights into ${this.constructor.name}: ${problems.join('\n  ')}`, {
        source: opts.source,
      });
    }
    // convert first (may throw on odd dtypes), then assign
    const values = new Map<string, Float32Array>();
    for (const n of loaded) {
      const t = sd.get(n)!;
      try {
        values.set(n, toFloat32(t));
      } catch (err) {
        throw new G2DError(`tensor "${n}": ${(err as Error).message}`, { source: opts.source });
      }
    }
    for (const n of loaded) {
      const e = entries.get(n)!;
      const v = values.get(n)!;
      if (e.kind === 'counter') {
        e.set(v[0] ?? 0);
        continue;
      }
      const shape = sd.get(n)!.shape;
      tf.tidy(() => e.variable.assign(tf.tensor(fromTorchLayoutData(v, shape, e.layout), e.variable.shape, 'float32')));
    }
    return { loaded, missing, unexpected, ignored };
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const [, e] of this.namedEntries()) if (e.kind === 'tensor') e.variable.dispose();
  }
}
