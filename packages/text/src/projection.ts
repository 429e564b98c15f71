/**
 * The reference's text projection head `proj_t`, applied per token:
 *   Conv1d(in, hidden, k=1, bias=False) -> BatchNorm1d(hidden, affine=False) -> ReLU
 *   -> Conv1d(hidden, out, k=1, bias=False)
 * A kernel-1 conv1d over tokens is a per-token linear map; BatchNorm1d on [B, C, L] normalises
 * each channel over all B*L positions (padding included, as in the reference). The [CLS]
 * row of the output is the report embedding. Parameter names follow the PyTorch
 * nn.Sequential (`0.weight`, `1.running_mean`, `1.running_var`, `1.num_batches_tracked`, `3.weight`).
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng, toFloat32, type RawTensor } from '@g2d-ts/core';

export interface TextProjectionOptions {
  inDim?: number;
  hiddenDim?: number;
  outDim?: number;
  /** BatchNorm eps (PyTorch default 1e-5). */
  eps?: number;
  /** BatchNorm running-stat momentum (PyTorch default 0.1). */
  momentum?: number;
  seed?: number;
}

export class TextProjection {
  readonly inDim: number;
  readonly hiddenDim: number;
  readonly outDim: number;
  readonly eps: number;
  readonly momentum: number;
  /** Conv1d weights squeezed to [out, in]. */
  readonly w1: tf.Variable;
  readonly w2: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  numBatchesTracked = 0;

  constructor(opts: TextProjectionOptions = {}) {
    this.inDim = opts.inDim ?? 768;
    this.hiddenDim = opts.hiddenDim ?? 128;
    this.outDim = opts.outDim ?? 128;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    for (const [k, v] of Object.entries({ inDim: this.inDim, hiddenDim: this.hiddenDim, outDim: this.outDim })) {
      if (!Number.isInteger(v) || v < 1) throw new G2DError(`TextProjection ${k} must be a positive integer (got ${v})`);
    }
    const rng = new Rng(opts.seed ?? 0);
    // PyTorch Conv1d default init: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    const init = (o: number, i: number, label: string) =>
      tf.variable(tf.randomUniform([o, i], -1 / Math.sqrt(i), 1 / Math.sqrt(i), 'float32', rng.fork(label).tfSeed()), true);
    this.w1 = init(this.hiddenDim, this.inDim, 'proj_t.0');
    this.w2 = init(this.outDim, this.hiddenDim, 'proj_t.3');
    this.runningMean = tf.variable(tf.zeros([this.hiddenDim]), false);
    this.runningVar = tf.variable(tf.ones([this.hiddenDim]), false);
  }

  trainableVariables(): tf.Variable[] {
    return [this.w1, this.w2].filter((v) => v.trainable);
  }

  /**
   * x: [B, L, inDim] -> [B, L, outDim]. In training mode BatchNorm uses the batch statistics
   * and updates the running ones (unbiased variance, momentum); otherwise the running ones.
   */
  apply(x: tf.Tensor3D, opts: { training?: boolean } = {}): tf.Tensor3D {
    if (x.rank !== 3 || x.shape[2] !== this.inDim) {
      throw new G2DError(`TextProjection expects [batch, tokens, ${this.inDim}], got [${x.shape.join(', ')}]`);
    }
    const [B, L] = x.shape;
    const training = opts.training ?? false;
    return tf.tidy(() => {
      const h = tf.matMul(x.reshape([B * L, this.inDim]), this.w1, false, true); // [N, hidden]
      let n: tf.Tensor;
      if (training) {
        const N = B * L;
        if (N < 2) throw new G2DError('TextProjection: BatchNorm in training mode needs more than one value per channel (batch * tokens >= 2)');
        const { mean, variance } = tf.moments(h, 0);
        n = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, this.eps)));
        const m = this.momentum;
        this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
        this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(variance, (m * N) / (N - 1))));
        this.numBatchesTracked++;
      } else {
        n = tf.div(tf.sub(h, this.runningMean), tf.sqrt(tf.add(this.runningVar, this.eps)));
      }
      const y = tf.matMul(tf.relu(n), this.w2, false, true);
      return y.reshape([B, L, this.outDim]) as tf.Tensor3D;
    });
  }

  /** Load `proj_t` weights from a PyTorch state dict (keys `${prefix}0.weight`, ...). */
  loadStateDict(tensors: Map<string, RawTensor>, opts: { prefix?: string; source?: string } = {}): void {
    const prefix = opts.prefix ?? 'proj_t.';
    const source = opts.source ?? 'state dict';
    const want: Array<[string, number[], tf.Variable | null]> = [
      [`${prefix}0.weight`, [this.hiddenDim, this.inDim, 1], this.w1],
      [`${prefix}1.running_mean`, [this.hiddenDim], this.runningMean],
      [`${prefix}1.running_var`, [this.hiddenDim], this.runningVar],
      [`${prefix}3.weight`, [this.outDim, this.hiddenDim, 1], this.w2],
    ];
    const bad: string[] = [];
    for (const [k, shape] of want) {
      const t = tensors.get(k);
      if (!t) bad.push(`${k} missing`);
      else if (t.shape.length !== shape.length || t.shape.some((d: number, i: number) => d !== shape[i])) bad.push(`${k} [${t.shape.join(', ')}] (expected [${shape.join(', ')}])`);
    }
    const extra = [...tensors.keys()].filter((k) => k.startsWith(prefix) && !want.some(([w]) => w === k) && k !== `${prefix}1.num_batches_tracked`);
    for (const k of extra) bad.push(`${k} unexpected`);
    if (bad.length) throw new G2DError(`text projection weights do not fit (in ${this.inDim}, hidden ${this.hiddenDim}, out ${this.outDim}): ${bad.join('; ')}`, { source });
    for (const [k, shape, v] of want) {
      const data = toFloat32(tensors.get(k)!);
      const s = shape.length === 3 ? shape.slice(0, 2) : shape;
      tf.tidy(() => v!.assign(tf.tensor(data, s, 'float32')));
    }
    const nbt = tensors.get(`${prefix}1.num_batches_tracked`);
    if (nbt) this.numBatchesTracked = Number(nbt.data[0] ?? 0);
  }

  /** PyTorch-layout state dict (keys `${prefix}0.weight`, ...). */
  stateDict(prefix = 'proj_t.'): Map<string, RawTensor> {
    const f = (v: tf.Variable, shape: number[]): RawTensor => ({ dtype: 'float32', shape, data: v.dataSync() as Float32Array });
    return new Map<string, RawTensor>([
      [`${prefix}0.weight`, f(this.w1, [this.hiddenDim, this.inDim, 1])],
      [`${prefix}1.running_mean`, f(this.runningMean, [this.hiddenDim])],
      [`${prefix}1.running_var`, f(this.runningVar, [this.hiddenDim])],
      [`${prefix}1.num_batches_tracked`, { dtype: 'int64', shape: [], data: BigInt64Array.from([BigInt(this.numBatchesTracked)]) }],
      [`${prefix}3.weight`, f(this.w2, [this.outDim, this.hiddenDim, 1])],
    ]);
  }

  dispose(): void {
    for (const v of [this.w1, this.w2, this.runningMean, this.runningVar]) v.dispose();
  }
}
