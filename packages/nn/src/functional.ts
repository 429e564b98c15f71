/**
 * Stateless tensor functions shared by every model: the one `linear` and `layerNorm` of the
 * tree, activations (exact and tanh GELU, a cheap-gradient ReLU), the wasm-safe embedding
 * lookup, dropout, PyTorch-semantics pooling/resizing and the NCHW/NHWC transposes.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { dropoutSeedFor, inCheckpointedBlock } from './autograd';
import { nativeOps, nativeReluGrad } from './native';

/**
 * `x [..., in] · w [in, out] + b [out]` (tfjs layout: weights are [in, out]; PyTorch's
 * nn.Linear weight [out, in] is converted when a state dict is loaded).
 */
export function linear<T extends tf.Tensor>(x: T, w: tf.Tensor2D, b?: tf.Tensor1D): T {
  return tf.tidy(() => {
    const shape = x.shape;
    const inDim = w.shape[0];
    if (shape[shape.length - 1] !== inDim) {
      throw new G2DError(`linear: input's last dimension is ${shape[shape.length - 1]}, the weight expects ${inDim} ([${shape.join(', ')}] · [${w.shape.join(', ')}])`);
    }
    const flat = (shape.length === 2 ? x : tf.reshape(x, [-1, inDim])) as tf.Tensor2D;
    let y: tf.Tensor = tf.matMul(flat, w);
    if (b) y = tf.add(y, b);
    return (shape.length === 2 ? y : tf.reshape(y, [...shape.slice(0, -1), w.shape[1]])) as T;
  });
}

/** LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · gamma + beta (biased variance, as PyTorch). */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D | undefined, beta: tf.Tensor1D | undefined, eps = 1e-5): T {
  return tf.tidy(() => {
    const axis = x.shape.length - 1;
    const mean = tf.mean(x, axis, true);
    const c = tf.sub(x, mean);
    const v = tf.mean(tf.square(c), axis, true);
    let y: tf.Tensor = tf.mul(c, tf.rsqrt(tf.add(v, eps)));
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return y as T;
  });
}

/** GELU with erf (PyTorch's default and transformers' 'gelu'; not the tanh approximation). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T);
}

/** GELU, tanh approximation (transformers' 'gelu_new' / 'gelu_pytorch_tanh'). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner))) as T;
  });
}

/**
 * ReLU with a two-kernel gradient (dy · sign(y), y = relu(x) ≥ 0, so the gradient at 0 is 0 as
 * in PyTorch). tfjs's generic ReLU gradient goes through `step()` (IsNan, Fill, Select,
 * Greater, Cast, Mul), which was the single most expensive kernel group of a native ResNet-50
 * training step; this keeps only the output alive for the backward pass.
 */
export const relu: <T extends tf.Tensor>(x: T) => T = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const y = tf.relu(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      // TensorFlow's one-pass ReluGrad kernel on the native backend (same values)
      const nb = dy.dtype === 'float32' ? nativeOps() : null;
      return nb ? nativeReluGrad(nb, dy, saved[0]!) : tf.mul(dy, tf.sign(saved[0]!));
    },
  };
}) as <T extends tf.Tensor>(x: T) => T;

/** Activation names as transformers' config.json spells them (`hidden_act`). */
export type ActivationName = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu' | 'swish' | 'tanh';
export const ACTIVATIONS: readonly ActivationName[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'swish', 'tanh'];

/** Applies the named activation ('gelu' is the exact erf GELU, 'gelu_new'/'gelu_pytorch_tanh' the tanh form). */
export function activation<T extends tf.Tensor>(name: ActivationName, x: T): T {
  switch (name) {
    case 'gelu':
      return gelu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh(x);
    case 'relu':
      return relu(x);
    case 'silu':
    case 'swish':
      return tf.tidy(() => tf.mul(x, tf.sigmoid(x)) as T);
    case 'tanh':
      return tf.tanh(x);
    default:
      throw new G2DError(`unknown activation "${String(name)}"; known: ${ACTIVATIONS.join(', ')}`);
  }
}

/**
 * Embedding lookup `table[ids]` → [...ids.shape, H]. Its gradient normally needs the
 * UnsortedSegmentSum kernel, which the wasm backend lacks; there the table gradient is a
 * scatter-add (ScatterNd).
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend())) return tf.gather(table, ids);
  const [V, H] = table.shape;
  const flat = tf.reshape(ids, [-1]);
  const f = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flat]);
    return {
      value: tf.gather(t as tf.Tensor2D, flat),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.scatterND(tf.reshape(saved[0]!, [-1, 1]), dy as tf.Tensor2D, [V, H]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return tf.reshape(f(table) as tf.Tensor, [...ids.shape, H]);
}

let dropoutScope: Rng | null = null;

/**
 * Runs `fn` with every `Dropout` layer drawing its mask seeds from `Rng(seed)` in call order,
 * instead of from its own stateful generator: a training step seeded from the step number
 * draws the same masks when a run is resumed (the generators' states are not checkpointed).
 */
export function withDropoutSeed<T>(seed: number | string | undefined, fn: () => T): T {
  if (seed === undefined) return fn();
  const prev = dropoutScope;
  dropoutScope = new Rng(seed);
  try {
    return fn();
  } finally {
    dropoutScope = prev;
  }
}

/** The next mask seed of the active `withDropoutSeed` scope, or undefined outside one. */
export function scopedDropoutSeed(): number | undefined {
  return dropoutScope ? dropoutScope.int(2 ** 31 - 1) : undefined;
}

/**
 * Inverted dropout: zeroes each value with probability `rate` and scales the rest by
 * 1 / (1 − rate) (PyTorch's F.dropout in training mode). `seed` makes the mask repeatable.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed?: number): T {
  if (!(rate >= 0 && rate < 1)) throw new G2DError(`dropout: rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x.clone();
  // an unseeded mask inside a checkpointed block gets a recorded seed (the recomputation replays it)
  const s = seed ?? (inCheckpointedBlock() ? dropoutSeedFor(() => Math.floor(Math.random() * (2 ** 31 - 1))) : undefined);
  return tf.dropout(x, rate, undefined, s) as T;
}

function pad4(x: tf.Tensor4D, p: number, value = 0): tf.Tensor4D {
  return p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], value) : x;
}

/** Max pooling (NHWC) with PyTorch's symmetric padding semantics (pad cells never win). */
export function maxPool2d(x: tf.Tensor4D, kernel: number, stride: number, padding: number): tf.Tensor4D {
  return tf.tidy(() => tf.maxPool(pad4(x, padding, -Infinity), kernel, stride, 'valid'));
}

/** Nearest-neighbour resize (NHWC) with PyTorch's `F.interpolate(mode='nearest')` indexing. */
export function resizeNearest(x: tf.Tensor4D, size: [number, number]): tf.Tensor4D {
  if (x.shape[1] === size[0] && x.shape[2] === size[1]) return x.clone();
  return tf.image.resizeNearestNeighbor(x, size, false, false);
}

/** [B, C, H, W] (PyTorch) → [B, H, W, C] (g2d-ts). */
export function nchwToNhwc(x: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(x, [0, 2, 3, 1]);
}

/** [B, H, W, C] → [B, C, H, W]. */
export function nhwcToNchw(x: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(x, [0, 3, 1, 2]);
}

let filterGradCache: { backend: string; ok: boolean } | undefined;
/**
 * Whether to use the backend's Conv2DBackpropFilter kernel. wasm has none, and the pure-JS
 * cpu one is a naive loop (minutes for a ResNet-50 backward), so both use the per-tap matMul
 * formulation in `conv2dValid`.
 */
export function backendHasFilterGrad(): boolean {
  const b = tf.getBackend();
  if (!filterGradCache || filterGradCache.backend !== b) {
    filterGradCache = { backend: b, ok: b !== 'cpu' && tf.getKernel('Conv2DBackpropFilter', b) != null };
  }
  return filterGradCache.ok;
}

/** Zero padding of H and W by `p` on each side (NHWC). */
export function padSpatial(x: tf.Tensor4D, p: number, value = 0): tf.Tensor4D {
  return pad4(x, p, value);
}
