/**
 * Layers mirroring torch.nn (same parameter names, same maths) on channels-last tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { backendHasFilterGrad, dropout, embeddingLookup, layerNorm, linear, padSpatial as pad4, scopedDropoutSeed } from './functional';
import { Module, type ModuleOptions } from './module';
import { dropoutSeedFor, isRecomputing, stashedForRecompute } from './autograd';
import { nativeBatchNormGrad, nativeBatchNormTrain, nativeOnCpu, nativeOps } from './native';

/** PyTorch-style weight initialisers. */
export type ConvInit = 'torch' | 'kaiming_normal_fan_out' | 'kaiming_uniform_fan_in' | 'xavier_uniform';

/**
 * 'valid' conv2d on an already padded NHWC input. On wasm (no Conv2DBackpropFilter kernel)
 * and cpu (a very slow one) the filter gradient is computed with one matMul per kernel tap
 * instead, so every backend can train at a usable speed.
 */
export function conv2dValid(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, dilation = 1): tf.Tensor4D {
  if (dilation === 1 && (stride === 1 || (w.shape[0] === 1 && w.shape[1] === 1)) && x.dtype === 'float32' && nativeOnCpu()) return conv2dNativeCpu(x, w, 'valid', stride);
  if (backendHasFilterGrad() || dilation !== 1) return tf.conv2d(x, w, stride, 'valid', 'NHWC', dilation);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xi, wi]);
    return {
      value: tf.conv2d(xi, wi, stride, 'valid'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        const dx = tf.conv2dTranspose(d, ws, xs.shape, stride, 'valid');
        // dW[a,b,:,:] = window(x, a, b)^T · dy, one matMul per kernel tap; the result is
        // produced directly in HWIO (no weight-sized transposes or slices)
        const [N, OH, OW, Co] = d.shape;
        const [kh, kw, Ci] = ws.shape;
        const dy2 = tf.reshape(d, [N * OH * OW, Co]) as tf.Tensor2D;
        const taps: tf.Tensor2D[] = [];
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const whole = kh === 1 && kw === 1 && stride === 1 && xs.shape[1] === OH && xs.shape[2] === OW;
            const win = whole
              ? xs
              : tf.stridedSlice(xs, [0, a, b, 0], [N, a + (OH - 1) * stride + 1, b + (OW - 1) * stride + 1, Ci], [1, stride, stride, 1]);
            taps.push(tf.matMul(tf.reshape(win, [N * OH * OW, Ci]) as tf.Tensor2D, dy2, true, false));
          }
        }
        const dw = tf.reshape(taps.length === 1 ? taps[0]! : tf.stack(taps), [kh, kw, Ci, Co]);
        return [dx, dw];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}

/**
 * A stride-1 convolution's filter gradient as a forward convolution: dW[a, b, i, o] =
 * Σ_{n,h,w} x[n, h+a, w+b, i]·dy[n, h, w, o] is x with batch and channels swapped ([Ci, H, W, N])
 * convolved ('valid') with dy as the filter ([H', W', N, Co]), giving [Ci, kh, kw, Co]. Faster
 * than Conv2DBackpropFilter for channel-reducing filters (a U-Net decoder's first convolution
 * of each block; batch 8, 3x3: 128→32 at 64² 81 → 46 ms, 32→16 at 128² 111 → 35 ms, 768→256 at
 * 8² 20 → 16 ms), a tie or slower when Ci ≤ Co, so only used for Ci > Co.
 */
function filterGradAsConv(x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, padding: 'valid' | 'same'): tf.Tensor4D {
  const ph = (kh - 1) / 2, pw = (kw - 1) / 2;
  const xp = padding === 'same' ? tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]) : x;
  const out = tf.conv2d(tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D, tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D, 1, 'valid');
  return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
}

/**
 * Stride-1 conv2d ('valid', or 'same' for an odd kernel) on TensorFlow's CPU kernels, with the
 * input gradient computed as a forward convolution of dy with the flipped, in/out-transposed
 * filter (padded by k - 1 for 'valid', 'same' again for 'same': the same sum). TensorFlow's
 * Conv2DBackpropInput took 1.2-3.8x as long as that on a 2-core AVX2 machine for the stride-1
 * shapes of a ResNet-50 at 256². A 1x1 convolution with a stride (ResNet downsampling) gets its
 * input gradient as dy · Wᵀ spread onto the strided positions. The filter gradient is
 * TensorFlow's Conv2DBackpropFilter, as in tfjs's own gradient, except for a stride-1 1x1
 * convolution: xᵀ·dy as one matMul (ResNet-50 at 256², batch 8: 16.7 vs 23.0 ms for 256→64 at
 * 64², 10.9 vs 19.7 ms for 1024→256 at 16², the channel-expanding ones equal), and for a
 * channel-reducing stride-1 one (`filterGradAsConv`).
 */
function conv2dNativeCpu(x: tf.Tensor4D, w: tf.Tensor4D, padding: 'valid' | 'same', stride = 1): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xi, wi]);
    return {
      value: tf.conv2d(xi, wi, stride, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        const [kh, kw] = ws.shape;
        const one = kh === 1 && kw === 1;
        if (stride !== 1) {
          // 1x1, stride s ('valid'): x[:, s·i, s·j] · W → dx is dy · Wᵀ at those positions, 0 elsewhere
          const [N, H, W, Ci] = xs.shape;
          const [, h, w2] = d.shape;
          const dxs = tf.conv2d(d, tf.transpose(ws, [0, 1, 3, 2]) as tf.Tensor4D, 1, 'valid');
          const spread = tf.pad(tf.reshape(dxs, [N, h, 1, w2, 1, Ci]), [[0, 0], [0, 0], [0, stride - 1], [0, 0], [0, stride - 1], [0, 0]]);
          const full = tf.reshape(spread, [N, h * stride, w2 * stride, Ci]) as tf.Tensor4D;
          const dx = h * stride === H && w2 * stride === W ? full : tf.slice(full, [0, 0, 0, 0], [N, H, W, Ci]);
          const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: d }, { strides: stride, pad: 'valid', dataFormat: 'NHWC', filterShape: ws.shape }) as tf.Tensor4D;
          return [dx, dw];
        }
        const flipped = (one ? tf.transpose(ws, [0, 1, 3, 2]) : tf.reverse(tf.transpose(ws, [0, 1, 3, 2]), [0, 1])) as tf.Tensor4D;
        const full: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]];
        const dx = tf.conv2d(d, flipped, 1, padding === 'same' || one ? padding : full);
        // a 1x1 filter gradient is one matMul, xᵀ·dy over the N·H·W positions: as fast as
        // Conv2DBackpropFilter or faster (1.1-1.8x for ResNet-50's channel-reducing 1x1s)
        const [, , ci, co] = ws.shape;
        const dw = one
          ? (tf.reshape(tf.matMul(tf.reshape(xs, [-1, ci]) as tf.Tensor2D, tf.reshape(d, [-1, co]) as tf.Tensor2D, true, false), ws.shape) as tf.Tensor4D)
          : ci > co
          ? filterGradAsConv(xs, d, kh, kw, padding)
          : (tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: d }, { strides: 1, pad: padding, dataFormat: 'NHWC', filterShape: ws.shape }) as tf.Tensor4D);
        return [dx, dw];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}

export interface Conv2dOptions extends ModuleOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  bias?: boolean;
  init?: ConvInit;
}

/** torch.nn.Conv2d (groups = 1): weight HWIO here, OIHW in state dicts. */
export class Conv2d extends Module {
  readonly weight: tf.Variable<tf.Rank.R4>;
  readonly bias?: tf.Variable<tf.Rank.R1>;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: Conv2dOptions = {},
  ) {
    super(opts);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    const k = kernelSize;
    const fanIn = inChannels * k * k;
    const fanOut = outChannels * k * k;
    const shape: [number, number, number, number] = [k, k, inChannels, outChannels];
    const init = opts.init ?? 'torch';
    let w: tf.Tensor;
    if (init === 'kaiming_normal_fan_out') w = this.randn(shape, Math.sqrt(2 / fanOut));
    else if (init === 'kaiming_uniform_fan_in') {
      const b = Math.sqrt(6 / fanIn);
      w = this.randu(shape, -b, b);
    } else if (init === 'xavier_uniform') {
      const b = Math.sqrt(6 / (fanIn + fanOut));
      w = this.randu(shape, -b, b);
    } else {
      const b = 1 / Math.sqrt(fanIn);
      w = this.randu(shape, -b, b);
    }
    this.weight = this.addParam('weight', w, 'conv2d') as tf.Variable<tf.Rank.R4>;
    if (opts.bias ?? true) {
      const b = 1 / Math.sqrt(fanIn);
      const bi = init === 'torch' ? this.randu([outChannels], -b, b) : tf.zeros([outChannels]);
      this.bias = this.addParam('bias', bi) as tf.Variable<tf.Rank.R1>;
    }
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const k = this.kernelSize;
      // stride 1, odd kernel, padding (k-1)/2: TF's 'same' is exactly PyTorch's symmetric
      // padding, without a separate pad op (and its gradient); on the native backend only,
      // since the cpu/wasm path computes filter gradients itself on a padded input
      const same = this.stride === 1 && this.dilation === 1 && k % 2 === 1 && this.padding === (k - 1) / 2 && this.padding > 0;
      const y =
        same && x.dtype === 'float32' && nativeOnCpu()
          ? conv2dNativeCpu(x, this.weight, 'same')
          : same && backendHasFilterGrad()
          ? tf.conv2d(x, this.weight, 1, 'same')
          : conv2dValid(pad4(x, this.padding), this.weight, this.stride, this.dilation);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}

export interface BatchNormOptions extends ModuleOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
}

/**
 * torch.nn.BatchNorm2d / BatchNorm1d over the last (channel) axis. Training mode normalises
 * with the biased batch variance and updates running averages with the unbiased one
 * (momentum 0.1), exactly as PyTorch; eval mode uses the running statistics.
 */
export class BatchNorm extends Module {
  readonly weight?: tf.Variable<tf.Rank.R1>;
  readonly bias?: tf.Variable<tf.Rank.R1>;
  readonly runningMean: tf.Variable<tf.Rank.R1>;
  readonly runningVar: tf.Variable<tf.Rank.R1>;
  numBatchesTracked = 0;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super(opts);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    if (opts.affine ?? true) {
      this.weight = this.addParam('weight', tf.ones([numFeatures])) as tf.Variable<tf.Rank.R1>;
      this.bias = this.addParam('bias', tf.zeros([numFeatures])) as tf.Variable<tf.Rank.R1>;
    }
    this.runningMean = this.addBuffer('running_mean', tf.zeros([numFeatures])) as tf.Variable<tf.Rank.R1>;
    this.runningVar = this.addBuffer('running_var', tf.ones([numFeatures])) as tf.Variable<tf.Rank.R1>;
    this.addCounter(
      'num_batches_tracked',
      () => this.numBatchesTracked,
      (v) => (this.numBatchesTracked = v),
    );
  }

  forward<T extends tf.Tensor>(x: T): T {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    // tf.batchNorm is one fused kernel on the native backend (fewer taped intermediates)
    // (affine=false: tf.batchNorm with no scale/offset cannot be recorded for gradients — its
    // kernel saves the missing inputs — so the plain formula is used there)
    const norm = (mean: tf.Tensor, variance: tf.Tensor) =>
      (this.weight
        ? tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, this.bias, this.weight, this.eps)
        : tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)))) as T;
    if (!this.training) return tf.tidy(() => norm(this.runningMean, this.runningVar));
    const n = x.size / x.shape[x.shape.length - 1]!;
    if (n <= 1) throw new G2DError(`BatchNorm: expected more than 1 value per channel when training, got input shape [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const { y, mean, variance } = this.trainNormalize(x, axes, n);
      if (isRecomputing()) {
        // a checkpointed block recomputed for its gradient: the statistics were updated on its first run
        tf.dispose([mean, variance]);
        return y as T;
      }
      // running statistics (unbiased variance), updated in place; never part of the loss
      const m = this.momentum;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)) as tf.Tensor1D);
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(variance, (m * n) / (n - 1))) as tf.Tensor1D);
      tf.dispose([mean, variance]);
      this.numBatchesTracked += 1;
      return y as T;
    });
  }

  /**
   * Batch-statistics normalisation with an analytic backward pass
   * (dx = γ·r/N · (N·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ(dy·x̂), dβ = Σdy): a handful of ops instead
   * of the generic gradients of moments + batchNorm.
   */
  private trainNormalize(x: tf.Tensor, axes: number[], n: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
    const nb = x.dtype === 'float32' && x.rank >= 2 && x.rank <= 4 ? nativeOps() : null;
    if (nb) return this.trainNormalizeNative(nb, x);
    const eps = this.eps;
    const affine = !!this.weight;
    let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const xi = args[0] as tf.Tensor;
      const gamma = affine ? (args[1] as tf.Tensor1D) : undefined;
      const beta = affine ? (args[2] as tf.Tensor1D) : undefined;
      const save = args[args.length - 1] as tf.GradSaveFunc;
      // biased variance, as PyTorch normalises with; a checkpointed block's recomputation gets the
      // statistics of its first run back (the same values) instead of reducing the input again
      const [mean, variance] = stashedForRecompute(() => {
        const m = tf.moments(xi, axes);
        return [m.mean, m.variance];
      }) as [tf.Tensor, tf.Tensor];
      // clones escape the tidy scopes for the running-statistics update (disposed by the caller)
      stats = { mean: tf.keep(mean.clone()), variance: tf.keep(variance.clone()) };
      const rstd = tf.rsqrt(tf.add(variance, eps));
      save(affine ? [xi, mean, rstd, gamma!] : [xi, mean, rstd]);
      return {
        value: tf.batchNorm(xi, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, eps),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, mu, rs, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
          const xhat = tf.mul(tf.sub(xs, mu), rs);
          const sumDy = tf.sum(dy, axes);
          const sumDyXhat = tf.sum(tf.mul(dy, xhat), axes);
          const scale = g ? tf.mul(g, rs) : rs;
          const dx = tf.mul(tf.sub(tf.sub(dy, tf.div(sumDy, n)), tf.mul(xhat, tf.div(sumDyXhat, n))), scale);
          return g ? [dx, sumDyXhat, sumDy] : [dx];
        },
      };
    });
    const y = affine ? f(x, this.weight!, this.bias!) : f(x);
    return { y, mean: stats!.mean, variance: stats!.variance };
  }

  /**
   * The same on TensorFlow's native backend, by its fused training kernels (FusedBatchNormV3 /
   * FusedBatchNormGradV3, see ./native): one pass forward and one backward instead of a dozen.
   * Rank-2/3 inputs ([N, C], [N, L, C]) run as [N, 1, 1, C] / [N, 1, L, C]. A checkpointed
   * block's recomputation runs the kernel again on the same input (same statistics, bit for bit).
   */
  private trainNormalizeNative(nb: NonNullable<ReturnType<typeof nativeOps>>, x: tf.Tensor): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
    const eps = this.eps;
    const affine = !!this.weight;
    const C = x.shape[x.rank - 1]!;
    const as4d = (t: tf.Tensor): tf.Tensor4D =>
      (t.rank === 4 ? t : t.rank === 3 ? tf.reshape(t, [t.shape[0]!, 1, t.shape[1]!, C]) : tf.reshape(t, [t.shape[0]!, 1, 1, C])) as tf.Tensor4D;
    let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const xi = as4d(args[0] as tf.Tensor);
      const gamma = affine ? (args[1] as tf.Tensor1D) : tf.ones([C]);
      const beta = affine ? (args[2] as tf.Tensor1D) : tf.zeros([C]);
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const r = nativeBatchNormTrain(nb, xi, gamma as tf.Tensor1D, beta as tf.Tensor1D, eps);
      stats = { mean: tf.keep(r.mean.clone()), variance: tf.keep(r.variance.clone()) };
      save([xi, gamma, r.mean, r.variance, r.reserve]);
      return {
        value: tf.reshape(r.y, x.shape),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, g, mu, v, rs] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor];
          const [dx, dg, db] = nativeBatchNormGrad(nb, as4d(dy), xs, g, mu, v, rs, eps);
          const dxs = tf.reshape(dx, x.shape);
          if (affine) return [dxs, dg, db];
          tf.dispose([dg, db]);
          return [dxs];
        },
      };
    });
    const y = affine ? f(x, this.weight!, this.bias!) : f(x);
    return { y, mean: stats!.mean, variance: stats!.variance };
  }
}

export interface LinearOptions extends ModuleOptions {
  bias?: boolean;
  /**
   * 'torch' (default: U(±1/sqrt(in)) weight and bias), 'xavier_uniform' (zero bias), 'zeros',
   * or 'normal' (N(0, std) weight, zero bias: transformers' BERT init).
   */
  init?: 'torch' | 'xavier_uniform' | 'zeros' | 'normal';
  /** Standard deviation for `init: 'normal'` (default 0.02). */
  std?: number;
  /**
   * How the weight is stored in state dicts: 'linear' (default, nn.Linear [out, in]) or
   * 'conv1d' (a kernel-1 nn.Conv1d, [out, in, 1]; the same per-position map).
   */
  torchLayout?: 'linear' | 'conv1d';
}

/** torch.nn.Linear on the last axis: weight [in, out] here, [out, in] in state dicts. */
export class Linear extends Module {
  readonly weight: tf.Variable<tf.Rank.R2>;
  readonly bias?: tf.Variable<tf.Rank.R1>;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super(opts);
    for (const [k, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new G2DError(`Linear: ${k} must be a positive integer, got ${v}`);
    }
    const b = 1 / Math.sqrt(inFeatures);
    const init = opts.init ?? 'torch';
    let w: tf.Tensor;
    if (init === 'xavier_uniform') {
      const xb = Math.sqrt(6 / (inFeatures + outFeatures));
      w = this.randu([inFeatures, outFeatures], -xb, xb);
    } else if (init === 'zeros') w = tf.zeros([inFeatures, outFeatures]);
    else if (init === 'normal') w = this.randn([inFeatures, outFeatures], opts.std ?? 0.02);
    else w = this.randu([inFeatures, outFeatures], -b, b);
    this.weight = this.addParam('weight', w, opts.torchLayout ?? 'linear') as tf.Variable<tf.Rank.R2>;
    if (opts.bias ?? true) {
      const bi = init !== 'torch' ? tf.zeros([outFeatures]) : this.randu([outFeatures], -b, b);
      this.bias = this.addParam('bias', bi) as tf.Variable<tf.Rank.R1>;
    }
  }

  forward<T extends tf.Tensor>(x: T): T {
    return linear(x, this.weight, this.bias);
  }
}

/** torch.nn.LayerNorm over the last axis (elementwise affine). */
export class LayerNorm extends Module {
  readonly weight: tf.Variable<tf.Rank.R1>;
  readonly bias: tf.Variable<tf.Rank.R1>;
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
    opts: ModuleOptions = {},
  ) {
    super(opts);
    this.weight = this.addParam('weight', tf.ones([dim])) as tf.Variable<tf.Rank.R1>;
    this.bias = this.addParam('bias', tf.zeros([dim])) as tf.Variable<tf.Rank.R1>;
  }
  forward<T extends tf.Tensor>(x: T): T {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export interface EmbeddingOptions extends ModuleOptions {
  /** Row kept at zero at initialisation (nn.Embedding's padding_idx). */
  paddingIdx?: number;
  /** Standard deviation of the N(0, std) init (PyTorch default 1; transformers' BERT 0.02). */
  std?: number;
}

/** torch.nn.Embedding: weight [num, dim]; forward(ids) → [...ids.shape, dim] (wasm-safe gradient). */
export class Embedding extends Module {
  readonly weight: tf.Variable<tf.Rank.R2>;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super(opts);
    const w = this.randn([numEmbeddings, embeddingDim], opts.std ?? 1);
    const pad = opts.paddingIdx;
    if (pad !== undefined && (!Number.isInteger(pad) || pad < 0 || pad >= numEmbeddings)) {
      w.dispose();
      throw new G2DError(`Embedding: paddingIdx ${pad} is outside [0, ${numEmbeddings - 1}]`);
    }
    const init =
      pad === undefined
        ? w
        : tf.tidy(() => tf.mul(w, tf.sub(1, tf.reshape(tf.oneHot(tf.tensor1d([pad], 'int32'), numEmbeddings), [numEmbeddings, 1]))));
    if (init !== w) w.dispose();
    this.weight = this.addParam('weight', init) as tf.Variable<tf.Rank.R2>;
  }
  /** ids: an int32 tensor of any shape (values in [0, numEmbeddings)). */
  forward(ids: tf.Tensor): tf.Tensor {
    return embeddingLookup(this.weight, ids);
  }
}

/**
 * torch.nn.Dropout: in training mode zeroes values with probability `rate` and scales the rest
 * by 1/(1 − rate); identity (a clone) in eval mode. The masks come from this module's seeded
 * generator, so a model built with the same seed drops the same values call after call.
 */
export class Dropout extends Module {
  constructor(
    readonly rate: number,
    opts: ModuleOptions = {},
  ) {
    super(opts);
    if (!(rate >= 0 && rate < 1)) throw new G2DError(`Dropout: rate must be in [0, 1), got ${rate}`);
  }
  forward<T extends tf.Tensor>(x: T): T {
    if (!this.training || this.rate === 0) return x.clone();
    // inside a checkpointed block the seed is recorded, and replayed when the block is recomputed
    return dropout(x, this.rate, dropoutSeedFor(() => scopedDropoutSeed() ?? this.seed()));
  }
}

/**
 * torch.nn.MultiheadAttention (batch-first tensors here; PyTorch's names: in_proj_weight,
 * in_proj_bias, out_proj.weight, out_proj.bias). Returns the per-head attention weights
 * [B, heads, Lq, Lk] as with `average_attn_weights=False`. No dropout (inference maths).
 */
export class MultiheadAttention extends Module {
  readonly inProjWeight: tf.Variable<tf.Rank.R2>;
  readonly inProjBias: tf.Variable<tf.Rank.R1>;
  readonly out_proj: Linear;
  readonly headDim: number;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: ModuleOptions = {},
  ) {
    super(opts);
    if (embedDim % numHeads !== 0) throw new G2DError(`MultiheadAttention: embedDim ${embedDim} is not divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    const b = Math.sqrt(6 / (embedDim + 3 * embedDim));
    this.inProjWeight = this.addParam(
      'in_proj_weight',
      this.randu([embedDim, 3 * embedDim], -b, b),
      'linear',
    ) as tf.Variable<tf.Rank.R2>;
    this.inProjBias = this.addParam('in_proj_bias', tf.zeros([3 * embedDim])) as tf.Variable<tf.Rank.R1>;
    this.out_proj = this.addChild('out_proj', new Linear(embedDim, embedDim, { rng: this.rng }));
    tf.tidy(() => this.out_proj.bias!.assign(tf.zeros([embedDim])));
  }

  /** query [B, Lq, E], key/value [B, Lk, E] → output [B, Lq, E], weights [B, heads, Lq, Lk]. */
  forward(query: tf.Tensor3D, key: tf.Tensor3D, value: tf.Tensor3D): { output: tf.Tensor3D; weights: tf.Tensor4D } {
    return tf.tidy(() => {
      const E = this.embedDim;
      const H = this.numHeads;
      const hd = this.headDim;
      const [B, Lq] = query.shape;
      const Lk = key.shape[1];
      // one packed projection per distinct input, then slice the (small) result: slicing
      // weight columns is slow on the cpu backend
      const packed = (x: tf.Tensor3D) => tf.add(tf.matMul(tf.reshape(x, [-1, E]), this.inProjWeight), this.inProjBias);
      const pq = packed(query);
      const pk = key === query ? pq : packed(key);
      const pv = value === key ? pk : packed(value);
      const heads = (y: tf.Tensor, i: number, L: number) =>
        tf.transpose(tf.reshape(tf.slice(y, [0, i * E], [-1, E]), [B, L, H, hd]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, L, hd]
      const proj = (_x: tf.Tensor3D, i: number, L: number) => heads(i === 0 ? pq : i === 1 ? pk : pv, i, L);
      const q = tf.mul(proj(query, 0, Lq), 1 / Math.sqrt(hd));
      const k = proj(key, 1, Lk);
      const v = proj(value, 2, Lk);
      const weights = tf.softmax(tf.matMul(q, k, false, true)) as tf.Tensor4D; // [B, H, Lq, Lk]
      const ctx = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [B, Lq, E]) as tf.Tensor3D;
      return { output: this.out_proj.forward(ctx), weights };
    });
  }
}

