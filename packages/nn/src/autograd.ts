/**
 * Training memory: a backward pass that frees as it goes, activation recomputation
 * (gradient checkpointing) and gradient-free regions, on top of tfjs's own tape.
 *
 * tfjs's `tf.variableGrads` / `tf.grads` keep every tensor saved for the backward pass and
 * every intermediate gradient alive until the whole backward pass ends, and record ops whose
 * inputs can never receive a gradient (frozen layers fed by data). `valueAndGradients` uses
 * the same tape and the same per-op gradient functions, but
 *   - drops, while the forward pass runs, every op none of whose inputs depends on the
 *     differentiated tensors (its saved tensors are freed at once: frozen leading layers cost
 *     no backward memory),
 *   - frees each op's saved tensors as soon as its gradient has been computed, and each
 *     intermediate gradient as soon as the op that produced its tensor has consumed it (as
 *     PyTorch's autograd does).
 *
 * `checkpoint(fn, inputs, { params })` runs `fn` without recording it and keeps only its
 * inputs; its gradient recomputes `fn` with the tape on and backpropagates through it. The
 * recomputation replays the dropout seeds of the first run (same masks), BatchNorm normalises
 * with the batch statistics of the first run (kept with the inputs: a few floats per channel,
 * instead of reducing every activation again) and does not update its running statistics a
 * second time (`isRecomputing()`), so the gradients are those of the plain path. It works under `tf.variableGrads` too (the memory of the recomputed
 * blocks is saved either way; the early freeing needs `valueAndGradients`).
 *
 * These functions reach into the tfjs engine's tape (`engine().state.activeTape`,
 * `gradientDepth`, the tape nodes' `saved` tensors): internals that tfjs 4.x has kept stable.
 * The tests check the result against `tf.variableGrads` on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';

/** One recorded op (tfjs-core's TapeNode). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number; kernelDepth: number };
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

function engine(): EngineInternals {
  const e = tf.engine() as unknown as EngineInternals;
  if (!e.state || !('gradientDepth' in e.state) || !('kernelDepth' in e.state)) {
    throw new G2DError('@g2d-ts/nn autograd: this tfjs engine has no tape state (tfjs-core 4.x expected)');
  }
  return e;
}

/** Whether ops run now are recorded for a gradient (inside variableGrads/valueAndGradients, outside a kernel). */
export function isRecording(): boolean {
  const s = engine().state;
  return s.gradientDepth > 0 && s.kernelDepth === 0;
}

/**
 * The tape `valueAndGradients` records into: an array (tfjs pushes nodes and may read it)
 * that keeps only ops with at least one input derived from the differentiated tensors.
 */
class LeanTape extends Array<TapeNode> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
  /** ids of the differentiated tensors and of every tensor computed from them */
  fromX = new Set<number>();
  /** ops dropped while recording (their saved tensors freed at once) */
  dropped = 0;

  override push(...nodes: TapeNode[]): number {
    for (const node of nodes) {
      let connected = false;
      for (const k in node.inputs) {
        const t = node.inputs[k];
        if (t && this.fromX.has(t.id)) {
          connected = true;
          break;
        }
      }
      if (!connected) {
        this.dropped++;
        if (node.saved) for (const s of node.saved) s.dispose();
        continue;
      }
      for (const o of node.outputs) this.fromX.add(o.id);
      super.push(node);
    }
    return this.length;
  }

  /** Whether `t` is one of the differentiated tensors or computed from one. */
  dependsOnX(t: tf.Tensor): boolean {
    return this.fromX.has(t.id);
  }
}

function disposeSaved(nodes: Iterable<TapeNode>): void {
  for (const n of nodes) if (n.saved) for (const s of n.saved) s.dispose();
}

/** The recorded ops that lead to `y` (the tape already holds only ops reached from the xs). */
function nodesLeadingTo(tape: TapeNode[], y: tf.Tensor): TapeNode[] {
  const leads = new Set<number>([y.id]);
  const keep: boolean[] = new Array(tape.length).fill(false);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (!node.outputs.some((o) => leads.has(o.id))) continue;
    keep[i] = true;
    for (const k in node.inputs) leads.add(node.inputs[k]!.id);
  }
  return tape.filter((_, i) => keep[i]);
}

/**
 * Reverse pass over `nodes` with early freeing. Returns the gradient of each x (or null when
 * y does not depend on it). Runs inside the caller's tidy (which disposes stragglers).
 */
function backprop(nodes: TapeNode[], fromX: Set<number>, xs: tf.Tensor[], y: tf.Tensor, dy: tf.Tensor | undefined): (tf.Tensor | null)[] {
  const acc = new Map<number, tf.Tensor>(); // tensor id -> accumulated gradient
  const holders = new Map<tf.Tensor, number>(); // gradient tensor -> number of acc entries holding it
  const pinned = new Set<tf.Tensor>(); // never disposed here (the caller's dy)
  const xIds = new Set(xs.map((x) => x.id));
  const hold = (id: number, g: tf.Tensor) => {
    acc.set(id, g);
    holders.set(g, (holders.get(g) ?? 0) + 1);
  };
  const release = (g: tf.Tensor) => {
    const n = (holders.get(g) ?? 1) - 1;
    if (n > 0) holders.set(g, n);
    else {
      holders.delete(g);
      if (!pinned.has(g)) g.dispose();
    }
  };
  const drop = (id: number) => {
    const g = acc.get(id);
    if (!g) return;
    acc.delete(id);
    release(g);
  };
  if (dy) {
    if (dy.dtype !== 'float32') throw new G2DError(`valueAndGradients: dy must be float32, got ${dy.dtype}`);
    if (!tf.util.arraysEqual(dy.shape, y.shape)) throw new G2DError(`valueAndGradients: dy has shape [${dy.shape.join(', ')}], y [${y.shape.join(', ')}]`);
    pinned.add(dy);
  }
  hold(y.id, dy ?? tf.onesLike(y));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
    if (dys.every((d) => d === null)) {
      if (node.saved) for (const s of node.saved) s.dispose();
      continue;
    }
    if (!node.gradient) throw new G2DError(`cannot compute a gradient: the op ${node.kernelName} has no gradient function`);
    // only inputs that depend on the xs get a gradient (as tfjs prunes them)
    const names = Object.keys(node.inputs).filter((k) => fromX.has(node.inputs[k]!.id));
    const dxs = tf.tidy(() => {
      const g = node.gradient!(dys);
      return names.map((k) => {
        const f = g[k];
        if (!f) throw new G2DError(`cannot backprop through input "${k}" of ${node.kernelName} (gradients for: ${Object.keys(g).join(', ')})`);
        return f();
      });
    });
    names.forEach((k, j) => {
      const x = node.inputs[k]!;
      const dx = dxs[j]!;
      if (dx.dtype !== 'float32') throw new G2DError(`the gradient of input "${k}" of ${node.kernelName} is ${dx.dtype}, expected float32`);
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new G2DError(`the gradient of input "${k}" of ${node.kernelName} has shape [${dx.shape.join(', ')}], the input [${x.shape.join(', ')}]`);
      }
      const prev = acc.get(x.id);
      if (!prev) hold(x.id, dx);
      else {
        const sum = tf.add(prev, dx);
        drop(x.id);
        if (!holders.has(dx) && !pinned.has(dx)) dx.dispose();
        hold(x.id, sum);
      }
    });
    // this op was the only producer of its outputs: their gradients are consumed
    for (const o of node.outputs) if (!xIds.has(o.id)) drop(o.id);
    if (node.saved) for (const s of node.saved) s.dispose();
  }
  return xs.map((x) => acc.get(x.id) ?? null);
}

/**
 * `f()` and the gradients of its (scalar or any-shape) result with respect to `xs`, like
 * tfjs's `ENGINE.gradients`, with the memory behaviour described at the top of this file.
 * `dy` is the gradient flowing into the result (default ones). Each gradient is `null` when
 * the result does not depend on that x. The caller owns `value` and the gradients.
 */
export function valueAndGradients<T extends tf.Tensor>(f: () => T, xs: tf.Tensor[], dy?: tf.Tensor): { value: T; grads: (tf.Tensor | null)[] } {
  if (typeof f !== 'function') throw new G2DError('valueAndGradients: f must be a function');
  if (!Array.isArray(xs) || xs.length === 0 || !xs.every((x) => x instanceof tf.Tensor)) {
    throw new G2DError('valueAndGradients: xs must be a non-empty array of tensors');
  }
  const eng = engine();
  const st = eng.state;
  if (st.gradientDepth > 0) {
    // called while another tape records (higher-order use): tfjs's own path handles nesting
    const r = eng.gradients(f, xs, dy, true);
    return { value: r.value as T, grads: r.grads.map((g) => g ?? null) };
  }
  const outer = st.activeTape;
  const tape = new LeanTape();
  for (const x of xs) tape.fromX.add(x.id);
  st.activeTape = tape;
  st.gradientDepth++;
  let value: T;
  try {
    value = tf.tidy(f);
  } catch (e) {
    disposeSaved(tape);
    throw e;
  } finally {
    st.gradientDepth--;
    st.activeTape = outer;
  }
  try {
    if (!(value instanceof tf.Tensor)) throw new G2DError('valueAndGradients: f must return a tensor');
    const nodes = nodesLeadingTo(tape, value);
    const fromX = tape.fromX;
    // tidy keeps the tensors of its result (nulls pass through) and disposes every straggler
    const grads = tf.tidy(() => backprop(nodes, fromX, xs, value, dy) as unknown as tf.Tensor[]) as unknown as (tf.Tensor | null)[];
    return { value, grads };
  } catch (e) {
    value.dispose();
    throw e;
  } finally {
    disposeSaved(tape);
  }
}

/**
 * Gradients of the scalar `f()` with respect to the trainable variables in `vars` (default:
 * all of them), by variable name: the contract of `tf.variableGrads`, through
 * `valueAndGradients`. Variables `f` does not use get no entry.
 */
export function variableGrads(f: () => tf.Scalar, vars?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const list = (vars ?? Object.values(tf.engine().registeredVariables)).filter((v) => v.trainable);
  if (!list.length) throw new G2DError('variableGrads: none of the variables is trainable');
  const { value, grads } = valueAndGradients(f, list);
  if (value.rank !== 0) {
    value.dispose();
    grads.forEach((g) => g?.dispose());
    throw new G2DError(`variableGrads: f must return a scalar, got shape [${value.shape.join(', ')}]`);
  }
  if (!grads.some((g) => g)) {
    value.dispose();
    throw new G2DError('variableGrads: the result does not depend on any of the variables');
  }
  const named: tf.NamedTensorMap = {};
  list.forEach((v, i) => {
    const g = grads[i];
    if (g) named[v.name] = g;
  });
  return { value, grads: named };
}

/**
 * Runs `fn` with no gradient recording (torch.no_grad): its result is a constant for any
 * enclosing gradient computation and none of its intermediates is kept for a backward pass.
 */
export function noGrad<T>(fn: () => T): T {
  const st = engine().state;
  if (st.gradientDepth === 0) return fn();
  const depth = st.gradientDepth;
  const tape = st.activeTape;
  st.gradientDepth = 0;
  try {
    return fn();
  } finally {
    st.gradientDepth = depth;
    st.activeTape = tape;
  }
}

let recomputing = 0;

/** True while a checkpointed block is being recomputed for its gradient (BatchNorm then leaves its running statistics alone). */
export function isRecomputing(): boolean {
  return recomputing > 0;
}

/**
 * What the recomputation of one checkpointed block replays from its first run: the dropout
 * seeds (same masks) and small tensors a layer stashed (BatchNorm's batch mean and variance,
 * so the recomputation normalises with them instead of reducing the activations again).
 */
interface BlockLog {
  seeds: number[];
  /** kept tensors, in stash order: owned by the log on the first run, by the tape node's saved list on the replay */
  stash: tf.Tensor[];
  /** how many tensors each stash call recorded */
  stashSizes: number[];
  replay: boolean;
  pos: number;
  /** stash calls replayed so far, and the tensors they took */
  stashCalls: number;
  stashPos: number;
}
let blockLog: BlockLog | null = null;

function withBlockLog<T>(log: BlockLog, fn: () => T): T {
  const prev = blockLog;
  blockLog = log;
  try {
    return fn();
  } finally {
    blockLog = prev;
  }
}

/** Whether a checkpointed block is running (first run or recomputation). */
export function inCheckpointedBlock(): boolean {
  return blockLog !== null;
}

/**
 * The seed a dropout mask uses: `draw()` normally (recorded inside a checkpointed block), the
 * recorded seed when the block is recomputed (so the mask is the same and no generator moves).
 */
export function dropoutSeedFor(draw: () => number): number {
  const log = blockLog;
  if (!log) return draw();
  if (log.replay) {
    const s = log.seeds[log.pos++];
    if (s === undefined) throw new G2DError('checkpoint: the recomputed block drew more dropout masks than its first run (non-deterministic block)');
    return s;
  }
  const s = draw();
  log.seeds.push(s);
  return s;
}

/**
 * Small tensors a layer computed on the first run of a checkpointed block and needs again in
 * its recomputation (BatchNorm's batch statistics): `compute()` normally; inside a checkpointed
 * block's first run the result is also stashed (copies, kept until the block's gradient), and
 * the recomputation gets the stashed tensors back instead of computing them (the caller must
 * not dispose those). Calls must come in the same order with the same shapes both times.
 */
export function stashedForRecompute(compute: () => tf.Tensor[]): tf.Tensor[] {
  const log = blockLog;
  if (log?.replay) {
    const count = log.stashSizes[log.stashCalls++];
    if (count === undefined || log.stashPos + count > log.stash.length) {
      throw new G2DError('checkpoint: the recomputed block stashed more tensors than its first run (non-deterministic block)');
    }
    const tensors = log.stash.slice(log.stashPos, log.stashPos + count);
    log.stashPos += count;
    return tensors;
  }
  const tensors = compute();
  if (log) {
    for (const t of tensors) log.stash.push(tf.keep(t.clone()));
    log.stashSizes.push(tensors.length);
  }
  return tensors;
}
export interface CheckpointOptions {
  /** The variables `fn` reads; the trainable ones receive gradients. */
  params?: Iterable<tf.Variable>;
  /** Extra tensors `fn` receives after the inputs that need no gradient (attention masks…); kept for the recomputation. */
  constants?: tf.Tensor[];
  /**
   * Captures, on the first run, the state the recomputation must see again and returns a
   * wrapper that restores it around the recomputation (e.g. the modules' train/eval flags of
   * a forward called with `training: false`, restored only for that call).
   */
  capture?: () => <R>(fn: () => R) => R;
}

/**
 * Activation recomputation: `fn(...inputs, ...constants)` computed without keeping its
 * intermediates; its backward pass recomputes it (same dropout masks, no second BatchNorm
 * statistics update) and backpropagates through the recomputation. The gradients equal the
 * plain path's. Outside a gradient computation, or inside a recomputation, `fn` just runs.
 * `fn` must return one tensor and be a function of its arguments, `params` and the state
 * `capture` restores (a Module's `runBlock` captures its train/eval flags).
 */
export function checkpoint<T extends tf.Tensor>(fn: (...args: tf.Tensor[]) => T, inputs: tf.Tensor[], opts: CheckpointOptions = {}): T {
  const constants = opts.constants ?? [];
  const all = [...inputs, ...constants];
  if (!isRecording() || recomputing > 0) return fn(...all);
  const st = engine().state;
  const tape = st.activeTape instanceof LeanTape ? st.activeTape : null;
  let params = [...(opts.params ?? [])].filter((v) => v.trainable);
  let diff = inputs.map((_, i) => i);
  if (tape) {
    // inside valueAndGradients we know what can receive a gradient
    params = params.filter((v) => tape.dependsOnX(v));
    diff = diff.filter((i) => tape.dependsOnX(inputs[i]!));
    if (!params.length && !diff.length) return noGrad(() => fn(...all));
  } else if (!params.length && !diff.length) return fn(...all);
  const log: BlockLog = { seeds: [], stash: [], stashSizes: [], replay: false, pos: 0, stashCalls: 0, stashPos: 0 };
  const restore = opts.capture?.() ?? (<R>(f: () => R) => f());
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    let value: T;
    try {
      value = withBlockLog(log, () => fn(...all));
      // the inputs, then what the block's layers stashed for the recomputation (saved copies:
      // the tape frees them with the other saved tensors, whether the gradient runs or not)
      save([...all, ...log.stash]);
    } finally {
      tf.dispose(log.stash);
      log.stash = [];
    }
    if (!(value instanceof tf.Tensor)) throw new G2DError('checkpoint: fn must return a tensor');
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const args2 = saved.slice(0, all.length);
        const stash = saved.slice(all.length);
        const wanted = [...diff.map((i) => args2[i]!), ...params];
        recomputing++;
        let r: { value: tf.Tensor; grads: (tf.Tensor | null)[] };
        try {
          const replay: BlockLog = { seeds: log.seeds, stash, stashSizes: log.stashSizes, replay: true, pos: 0, stashCalls: 0, stashPos: 0 };
          r = withBlockLog(replay, () => restore(() => {
            // a fresh, lean tape for the recomputation; recomputing > 0 keeps nested checkpoints plain
            const st2 = engine().state;
            const depth = st2.gradientDepth;
            st2.gradientDepth = 0;
            try {
              return valueAndGradients(() => fn(...args2), wanted, dy as tf.Tensor);
            } finally {
              st2.gradientDepth = depth;
            }
          }));
        } finally {
          recomputing--;
        }
        r.value.dispose();
        return r.grads.map((g, k) => g ?? tf.zerosLike(wanted[k]!));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...diff.map((i) => inputs[i]!), ...params) as T;
}

/** Where a model recomputes activations in its backward pass instead of keeping them. */
export type MemoryMode = 'fast' | 'balanced' | 'lean';
export const MEMORY_MODES: readonly MemoryMode[] = ['fast', 'balanced', 'lean'];

/** Checks a memory mode named by a user (config value, CLI option). */
export function parseMemoryMode(value: unknown, what = 'memory'): MemoryMode {
  if (typeof value === 'string' && (MEMORY_MODES as readonly string[]).includes(value)) return value as MemoryMode;
  throw new G2DError(`${what} must be one of ${MEMORY_MODES.join(', ')}, got ${JSON.stringify(value)}`);
}
