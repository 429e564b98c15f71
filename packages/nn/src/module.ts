/**
 * A small PyTorch-like module system on plain tfjs variables: named parameters and buffers
 * (names identical to the PyTorch module they mirror), children, train/eval mode, freezing by
 * name or prefix, state dicts in PyTorch layout and all-or-nothing loading with one report type.
 *
 * Tensors inside the models are channels-last (NHWC, the tfjs convention); weights are kept in
 * tfjs layout (conv HWIO, linear [in, out]) and converted to/from PyTorch's layout (OIHW,
 * [out, in]) only when a state dict is exported or loaded.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, type RawTensor, Rng, toFloat32 } from '@g2d-ts/core';
import { type MemoryMode, checkpoint, isRecording, parseMemoryMode } from './autograd';

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

/** Permutes a row-major array of `shape` (rank 2 or 4) by `perm` (plain loops; fast on every backend). */
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

/**
 * The permutation of the PyTorch-layout array to the tfjs layout, per layout (conv2d OIHW →
 * HWIO, linear and conv1d [out, in] → [in, out]; conv1d's [out, in, 1] is permuted as its first
 * two axes); the way back is its inverse.
 */
const TORCH_TO_TFJS: Partial<Record<ParamLayout, readonly number[]>> = { conv2d: [2, 3, 1, 0], linear: [1, 0], conv1d: [1, 0] };

function inversePermutation(perm: readonly number[]): number[] {
  const inv: number[] = [];
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

const TFJS_TO_TORCH: Partial<Record<ParamLayout, readonly number[]>> = Object.fromEntries(
  Object.entries(TORCH_TO_TFJS).map(([layout, perm]) => [layout, inversePermutation(perm)]),
);

/** PyTorch-layout values (shape `shape`) → tfjs-layout values. */
export function fromTorchLayoutData(data: Float32Array, shape: readonly number[], layout: ParamLayout): Float32Array {
  const perm = TORCH_TO_TFJS[layout];
  return perm ? permute(data, shape.slice(0, perm.length), perm) : data;
}

/** tfjs-layout values (shape `shape`) → PyTorch-layout values. */
export function toTorchLayoutData(data: Float32Array, shape: readonly number[], layout: ParamLayout): Float32Array {
  const perm = TFJS_TO_TORCH[layout];
  return perm ? permute(data, shape.slice(0, perm.length), perm) : data.slice();
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

/** Whether modules built now skip their random initialisation (inside `withoutRandomInit`). */
export function randomInitSkipped(): boolean {
  return skipRandomInit > 0;
}

/** Options every module constructor accepts. */
export interface ModuleOptions {
  /** Seeded generator for the initial weights (default: a fixed seed, so builds are reproducible). */
  rng?: Rng;
}

export interface LoadStateDictOptions {
  /** Missing or unexpected keys are errors (default true). Shape mismatches always are. */
  strict?: boolean;
  /** Named in errors and in the report (the checkpoint file). */
  source?: string;
  /**
   * Only checkpoint keys starting with this prefix are this module's (the prefix is removed
   * before matching); every other key is reported as `ignored`. Default "" (all keys).
   */
  prefix?: string;
  /**
   * Find the prefix under which this module's parameters live ("", "module.", "encoder.",
   * "img_model.encoder.", "bert."…): the one matching the most names and shapes.
   * Ignored when `prefix` is given. Default false.
   */
  findPrefix?: boolean;
  /**
   * Checkpoint keys (in this module's names, after the prefix) that may be present but are
   * not used: reported as `ignored`. Added to the modules' own `isIgnorableKey` hooks.
   */
  ignore?: (key: string) => boolean;
  /** Module names that may be missing from the checkpoint even when strict (reported as `missing`). */
  allowMissing?: (name: string) => boolean;
}

/**
 * What a load did. Every loader in g2d-ts returns this. `loaded`, `missing` and `mismatched`
 * are this module's names; `unexpected` and `ignored` are the checkpoint's own keys.
 */
export interface LoadReport {
  /** Parameters/buffers set from the checkpoint. */
  loaded: string[];
  /** Parameters/buffers the checkpoint lacks (non-strict loads, or allowed by the loader). */
  missing: string[];
  /** Checkpoint keys under the prefix that are not this module's (non-strict loads only). */
  unexpected: string[];
  /** Checkpoint keys deliberately not used: outside the prefix, classifier heads, buffers such as `position_ids`. */
  ignored: string[];
  /** Parameters whose checkpoint shape differs (always an error; listed in the error's report). */
  mismatched: string[];
  /** The checkpoint (file name or "(state dict)"). */
  source?: string;
  /** Prefix under which this module's keys were read. */
  prefix?: string;
}

/** A failed load: the message lists every offending key; `report` holds them as lists. */
export class LoadError extends G2DError {
  constructor(
    message: string,
    readonly report: LoadReport,
    source?: string,
  ) {
    super(message, { source });
    this.name = 'LoadError';
  }
}

/** How checkpoint keys map onto a module tree: per-subtree `translateKey` and `isIgnorableKey` hooks. */
export interface KeyHooks {
  translate(key: string): string;
  ignorable(key: string): boolean;
}

export abstract class Module {
  /** Training mode (BatchNorm uses batch statistics and updates its running averages; dropout is active). */
  training = true;
  /**
   * Where the backward pass recomputes activations instead of keeping them (`setMemoryMode`):
   * 'fast' keeps everything; 'balanced' and 'lean' recompute the blocks each model names.
   */
  memoryMode: MemoryMode = 'fast';
  private readonly _entries = new Map<string, ParamEntry>();
  private readonly _children = new Map<string, Module>();
  protected readonly rng: Rng;

  constructor(opts: ModuleOptions = {}) {
    this.rng = opts.rng ?? new Rng(0);
  }

  // ---- registration -------------------------------------------------------------------------

  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new G2DError(`${this.constructor.name}: invalid member name "${name}" (non-empty, no dots)`);
    if (this._entries.has(name) || this._children.has(name)) throw new G2DError(`${this.constructor.name}: duplicate member "${name}"`);
  }

  /** Registers a trainable parameter; takes ownership of `init` (disposed). */
  protected addParam(name: string, init: tf.Tensor, layout: ParamLayout = 'plain'): tf.Variable {
    return this.addTensor(name, init, layout, false);
  }

  /** Registers a buffer (saved and loaded, never trained, e.g. running statistics); takes ownership of `init`. */
  protected addBuffer(name: string, init: tf.Tensor, layout: ParamLayout = 'plain'): tf.Variable {
    return this.addTensor(name, init, layout, true);
  }

  private addTensor(name: string, init: tf.Tensor, layout: ParamLayout, buffer: boolean): tf.Variable {
    this.checkName(name);
    const variable = tf.variable(init, !buffer);
    init.dispose();
    this._entries.set(name, { kind: 'tensor', variable, layout, buffer });
    return variable;
  }

  /** Registers a host-side integer saved as an int64 scalar (BatchNorm's `num_batches_tracked`). */
  protected addCounter(name: string, get: () => number, set: (v: number) => void): void {
    this.checkName(name);
    this._entries.set(name, { kind: 'counter', get, set });
  }

  /** Registers a child module; its members are named `${name}.${member}`. */
  protected addChild<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    this._children.set(name, m);
    return m;
  }

  // ---- initialisers -------------------------------------------------------------------------

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

  /** A seed for tfjs random ops, drawn from this module's generator. */
  protected seed(): number {
    return this.rng.int(2 ** 31 - 1);
  }

  // ---- introspection ------------------------------------------------------------------------

  /** Direct children with their names. */
  children(): [string, Module][] {
    return [...this._children.entries()];
  }

  /** This module ("") and every descendant, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this._children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  /** Every parameter, buffer and counter, with its full PyTorch-style name. */
  namedEntries(prefix = ''): [string, ParamEntry][] {
    const out: [string, ParamEntry][] = [];
    for (const [n, e] of this._entries) out.push([prefix + n, e]);
    for (const [n, c] of this._children) out.push(...c.namedEntries(`${prefix}${n}.`));
    return out;
  }

  /** Parameters (not buffers), frozen ones included, by full name (tfjs layout). */
  namedParameters(): [string, tf.Variable][] {
    return this.namedEntries()
      .filter((e): e is [string, TensorEntry] => e[1].kind === 'tensor' && !e[1].buffer)
      .map(([n, e]) => [n, e.variable]);
  }

  /** All parameters and buffers by full name (tfjs layout). */
  namedVariables(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const [n, e] of this.namedEntries()) if (e.kind === 'tensor') m.set(n, e.variable);
    return m;
  }

  /** Trainable parameters (not buffers, not frozen), e.g. for `optimizer.minimize(f, false, varList)`. */
  trainableVariables(): tf.Variable[] {
    return this.namedParameters()
      .filter(([, v]) => v.trainable)
      .map(([, v]) => v);
  }

  /** Number of parameter values (buffers excluded); `{ trainable: true }` counts only unfrozen ones. */
  numParams(opts: { trainable?: boolean } = {}): number {
    let n = 0;
    for (const [, v] of this.namedParameters()) if (!opts.trainable || v.trainable) n += v.size;
    return n;
  }

  // ---- modes --------------------------------------------------------------------------------

  /** Sets training mode on this module and every descendant (like PyTorch's `train()`). */
  train(mode = true): this {
    this.training = mode;
    for (const [, c] of this._children) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Sets the memory mode of this module and every descendant: 'fast' (keep every activation
   * for the backward pass), 'balanced' (recompute the blocks with the most activation memory
   * per unit of compute) or 'lean' (recompute every block: only block boundaries are kept).
   * Gradients are the same in every mode; only time and memory differ.
   */
  setMemoryMode(mode: MemoryMode): this {
    const m = parseMemoryMode(mode, `${this.constructor.name}.setMemoryMode: mode`);
    for (const [, child] of this.namedModules()) child.memoryMode = m;
    return this;
  }

  /**
   * Runs `fn` with this subtree in `training` mode and restores every module's own mode after:
   * the per-call `training` option of `forward`. `undefined` runs in the modules' current modes.
   */
  protected withTraining<T>(training: boolean | undefined, fn: () => T): T {
    if (training === undefined) return fn();
    const saved = this.namedModules().map(([, m]) => [m, m.training] as const);
    if (saved.every(([, t]) => t === training)) return fn();
    this.train(training);
    try {
      return fn();
    } finally {
      for (const [m, t] of saved) m.training = t;
    }
  }

  /**
   * `fn(...inputs, ...constants)`, recomputed in the backward pass instead of keeping its
   * activations when `recompute` is true and a gradient is being recorded (`checkpoint` with
   * `block`'s trainable parameters); a plain call otherwise. Models call it per block with
   * `recompute` decided by their `memoryMode`.
   */
  protected runBlock<T extends tf.Tensor>(
    recompute: boolean,
    block: { trainableVariables(): tf.Variable[]; namedModules(): [string, Module][] },
    fn: (...args: tf.Tensor[]) => T,
    inputs: tf.Tensor[],
    constants: tf.Tensor[] = [],
  ): T {
    if (!recompute || !isRecording()) return fn(...inputs, ...constants);
    // the recomputation runs after a per-call `training` override has been undone: it gets the
    // block's train/eval flags of the first run back (same dropout, same BatchNorm statistics)
    const capture = () => {
      const modes = block.namedModules().map(([, m]) => [m, m.training] as const);
      return <R>(f: () => R): R => {
        const now = modes.map(([m]) => m.training);
        for (const [m, t] of modes) m.training = t;
        try {
          return f();
        } finally {
          modes.forEach(([m], i) => (m.training = now[i]!));
        }
      };
    };
    return checkpoint(fn, inputs, { params: block.trainableVariables(), constants, capture });
  }

  /**
   * Freezes parameters whose name equals or starts with one of `prefixes` (+ "."), or all when
   * omitted: they are excluded from `trainableVariables()` and from `tf.variableGrads`/optimizers'
   * default lists. BatchNorm statistics and dropout still follow train/eval mode; call `eval()`
   * on a frozen part to fix them. A prefix that matches nothing is an error.
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
    const unmatched = new Set(prefixes ?? []);
    for (const [n, v] of this.namedParameters()) {
      const hits = prefixes ? prefixes.filter((p) => n === p || n.startsWith(p.endsWith('.') ? p : `${p}.`)) : [''];
      if (!hits.length) continue;
      v.trainable = flag;
      for (const p of hits) unmatched.delete(p);
    }
    if (unmatched.size) {
      throw new G2DError(`${this.constructor.name}.${flag ? 'unfreeze' : 'freeze'}: no parameters match ${[...unmatched].map((p) => `"${p}"`).join(', ')}`);
    }
  }

  /** Names of frozen parameters. */
  frozen(): string[] {
    return this.namedParameters()
      .filter(([, v]) => !v.trainable)
      .map(([n]) => n);
  }

  // ---- checkpoint key hooks -----------------------------------------------------------------

  /** Checkpoint keys (relative to this module) this module deliberately does not use, e.g. a classifier `fc.*`. */
  isIgnorableKey(_key: string): boolean {
    return false;
  }

  /** Renames a foreign checkpoint key (relative to this module) to this module's name (e.g. timm → torchvision). */
  translateKey(key: string): string {
    return key;
  }

  /** The `translateKey`/`isIgnorableKey` hooks of the whole tree, each applied to its own subtree. */
  keyHooks(): KeyHooks {
    const translators: [string, Module][] = [];
    const ignorers: [string, Module][] = [];
    for (const [name, m] of this.namedModules()) {
      const p = name ? `${name}.` : '';
      if (m.translateKey !== Module.prototype.translateKey) translators.push([p, m]);
      if (m.isIgnorableKey !== Module.prototype.isIgnorableKey) ignorers.push([p, m]);
    }
    return {
      translate(key) {
        for (const [p, m] of translators) {
          if (!key.startsWith(p)) continue;
          const rest = key.slice(p.length);
          const r = m.translateKey(rest);
          if (r !== rest) return p + r;
        }
        return key;
      },
      ignorable(key) {
        return ignorers.some(([p, m]) => key.startsWith(p) && m.isIgnorableKey(key.slice(p.length)));
      },
    };
  }

  // ---- state dicts --------------------------------------------------------------------------

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

  /** Names this module's load errors use (subclasses add their config). */
  protected describeForLoad(): string {
    return this.constructor.name;
  }

  /**
   * The prefix P maximising the number of this module's names k with P+k (after the key
   * hooks) in the checkpoint; shape agreement counts extra; ties go to the shortest prefix.
   * `null` when no key matches under any prefix.
   */
  findPrefix(sd: Map<string, RawTensor>): string | null {
    const hooks = this.keyHooks();
    const expected = new Map(this.namedEntries());
    const score = new Map<string, number>();
    for (const [k, t] of sd) {
      const parts = k.split('.');
      for (let i = 0; i < parts.length; i++) {
        const p = i === 0 ? '' : `${parts.slice(0, i).join('.')}.`;
        const e = expected.get(hooks.translate(k.slice(p.length)));
        if (!e) continue;
        let s = 1;
        if (e.kind === 'tensor' && t.shape.reduce((a, b) => a * b, 1) === e.variable.size) s += 1;
        score.set(p, (score.get(p) ?? 0) + s);
      }
    }
    let best: string | null = null;
    let bestScore = 0;
    for (const [p, s] of score) {
      if (s > bestScore || (s === bestScore && best !== null && p.length < best.length)) {
        best = p;
        bestScore = s;
      }
    }
    return best;
  }

  /**
   * Loads a state dict in PyTorch layout and names. Everything is validated first (names,
   * shapes, dtypes) and every problem is reported in one `LoadError`, so a failed load never
   * leaves the module half-updated.
   */
  loadStateDict(sd: Map<string, RawTensor>, opts: LoadStateDictOptions = {}): LoadReport {
    const strict = opts.strict ?? true;
    const source = opts.source ?? '(state dict)';
    let prefix = opts.prefix ?? '';
    if (opts.prefix === undefined && opts.findPrefix) {
      const found = this.findPrefix(sd);
      if (found === null) {
        const sample = [...sd.keys()].slice(0, 8).join(', ');
        const want = [...this.namedEntries()].slice(0, 4).map(([n]) => n).join(', ');
        throw new G2DError(`none of ${this.constructor.name}'s parameters (e.g. ${want}) were found under any key prefix; checkpoint keys start: ${sample}`, {
          source,
        });
      }
      prefix = found;
    }
    const hooks = this.keyHooks();
    const entries = new Map(this.namedEntries());
    const report: LoadReport = { loaded: [], missing: [], unexpected: [], ignored: [], mismatched: [], source, prefix };
    // checkpoint keys → this module's names
    const mine = new Map<string, { key: string; t: RawTensor }>();
    for (const [k, t] of sd) {
      if (!k.startsWith(prefix)) report.ignored.push(k);
      else mine.set(hooks.translate(k.slice(prefix.length)), { key: k, t });
    }
    const shapeErrors: string[] = [];
    for (const [n, e] of entries) {
      const got = mine.get(n);
      if (!got) {
        // checkpoints from before PyTorch 0.4.1 have no num_batches_tracked
        if (!(e.kind === 'counter' && n.endsWith('num_batches_tracked'))) report.missing.push(n);
        continue;
      }
      const shape = got.t.shape;
      const want = e.kind === 'counter' ? [] : torchShape(e.variable.shape, e.layout);
      const sameShape =
        e.kind === 'counter'
          ? shape.length === 0 || (shape.length === 1 && shape[0] === 1)
          : shape.length === want.length && shape.every((d, i) => d === want[i]);
      if (!sameShape) {
        report.mismatched.push(n);
        shapeErrors.push(`${got.key}: expected [${want.join(', ')}], checkpoint has [${shape.join(', ')}]`);
      } else if (e.kind === 'tensor' && got.t.dtype === 'bool') {
        report.mismatched.push(n);
        shapeErrors.push(`${got.key}: dtype bool cannot be loaded into a float32 parameter`);
      } else report.loaded.push(n);
    }
    for (const [n, { key }] of mine) {
      if (entries.has(n)) continue;
      if (opts.ignore?.(n) || hooks.ignorable(n)) report.ignored.push(key);
      else report.unexpected.push(key);
    }
    const fatalMissing = report.missing.filter((n) => !opts.allowMissing?.(n));
    const problems: string[] = [];
    if (shapeErrors.length) problems.push(`shape mismatch (${shapeErrors.length}):\n    ${shapeErrors.join('\n    ')}`);
    if (strict && fatalMissing.length) problems.push(`missing in the checkpoint (${fatalMissing.length}):\n    ${fatalMissing.join('\n    ')}`);
    if (strict && report.unexpected.length) {
      problems.push(`unexpected in the checkpoint (${report.unexpected.length}):\n    ${report.unexpected.join('\n    ')}`);
    }
    const where = prefix ? `${source} [prefix "${prefix}"]` : source;
    if (problems.length) throw new LoadError(`cannot load weights into ${this.describeForLoad()}: ${problems.join('\n  ')}`, report, where);
    // convert first (may throw on odd dtypes), then assign
    const values = new Map<string, Float32Array>();
    for (const n of report.loaded) {
      const { key, t } = mine.get(n)!;
      try {
        values.set(n, toFloat32(t));
      } catch (err) {
        throw new G2DError(`tensor "${key}": ${(err as Error).message}`, { source: where });
      }
    }
    for (const n of report.loaded) {
      const e = entries.get(n)!;
      const v = values.get(n)!;
      if (e.kind === 'counter') {
        e.set(v[0] ?? 0);
        continue;
      }
      const shape = mine.get(n)!.t.shape;
      tf.tidy(() => e.variable.assign(tf.tensor(fromTorchLayoutData(v, shape, e.layout), e.variable.shape, 'float32')));
    }
    return report;
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const [, e] of this.namedEntries()) if (e.kind === 'tensor') e.variable.dispose();
  }
}

/** A list of modules named "0", "1", … (PyTorch's nn.ModuleList). */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];
  constructor(modules: Iterable<M> = [], opts: ModuleOptions = {}) {
    super(opts);
    for (const m of modules) this.push(m);
  }
  push(m: M): M {
    this.items.push(m);
    return this.addChild(String(this.items.length - 1), m);
  }
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new G2DError(`ModuleList: index ${i} out of range [0, ${this.items.length})`);
    return m;
  }
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Modules under arbitrary names (PyTorch's nn.ModuleDict), in insertion order. */
export class ModuleDict<M extends Module = Module> extends Module {
  private readonly items = new Map<string, M>();
  set(name: string, m: M): M {
    this.items.set(name, m);
    return this.addChild(name, m);
  }
  get(name: string): M {
    const m = this.items.get(name);
    if (!m) throw new G2DError(`ModuleDict: no module "${name}" (have ${[...this.items.keys()].join(', ')})`);
    return m;
  }
  values(): M[] {
    return [...this.items.values()];
  }
}
