/**
 * The reference's text projection head `proj_t`, applied per token:
 *   Conv1d(in, hidden, k=1, bias=False) -> BatchNorm1d(hidden, affine=False) -> ReLU
 *   -> Conv1d(hidden, out, k=1, bias=False)
 * A kernel-1 conv1d over tokens is a per-token linear map (a `Linear` stored in Conv1d's
 * [out, in, 1] layout); BatchNorm1d on [B, C, L] normalises each channel over all B*L
 * positions (padding included, as in the reference). The [CLS] row of the output is the
 * report embedding. Parameter names follow the PyTorch nn.Sequential (`0.weight`,
 * `1.running_mean`, `1.running_var`, `1.num_batches_tracked`, `3.weight`).
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { BatchNorm, Linear, Module, fromPretrainedAs, relu, type FromPretrainedOptions } from '@g2d-ts/nn';

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

export class TextProjection extends Module {
  readonly config: Required<Omit<TextProjectionOptions, 'seed'>>;
  /** `0`: Conv1d(in, hidden, 1, bias=False). */
  readonly conv1: Linear;
  /** `1`: BatchNorm1d(hidden, affine=False). */
  readonly bn: BatchNorm;
  /** `3`: Conv1d(hidden, out, 1, bias=False). */
  readonly conv2: Linear;

  constructor(opts: TextProjectionOptions = {}) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const cfg = { inDim: opts.inDim ?? 768, hiddenDim: opts.hiddenDim ?? 128, outDim: opts.outDim ?? 128, eps: opts.eps ?? 1e-5, momentum: opts.momentum ?? 0.1 };
    for (const k of ['inDim', 'hiddenDim', 'outDim'] as const) {
      if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new G2DError(`TextProjection ${k} must be a positive integer (got ${cfg[k]})`);
    }
    this.config = cfg;
    // PyTorch Conv1d default init: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as Linear's 'torch'
    this.conv1 = this.addChild('0', new Linear(cfg.inDim, cfg.hiddenDim, { rng: this.rng, bias: false, torchLayout: 'conv1d' }));
    this.bn = this.addChild('1', new BatchNorm(cfg.hiddenDim, { affine: false, eps: cfg.eps, momentum: cfg.momentum }));
    this.conv2 = this.addChild('3', new Linear(cfg.hiddenDim, cfg.outDim, { rng: this.rng, bias: false, torchLayout: 'conv1d' }));
  }

  get inDim(): number {
    return this.config.inDim;
  }
  get hiddenDim(): number {
    return this.config.hiddenDim;
  }
  get outDim(): number {
    return this.config.outDim;
  }
  /** BatchNorm running mean / variance [hidden]. */
  get runningMean(): tf.Variable {
    return this.bn.runningMean;
  }
  get runningVar(): tf.Variable {
    return this.bn.runningVar;
  }
  get numBatchesTracked(): number {
    return this.bn.numBatchesTracked;
  }

  /** A saved TextProjection (directory with config.json, or hub id). */
  static fromPretrained(pathOrHubId: string, opts?: FromPretrainedOptions): Promise<TextProjection> {
    return fromPretrainedAs(TextProjection, pathOrHubId, opts);
  }

  /**
   * x: [B, L, inDim] -> [B, L, outDim]. In training mode BatchNorm uses the batch statistics
   * (over all B*L tokens) and updates the running ones (unbiased variance, momentum);
   * in eval mode the running ones. `training` overrides the module's mode for this call.
   */
  forward(x: tf.Tensor3D, opts: { training?: boolean } = {}): tf.Tensor3D {
    if (x.rank !== 3 || x.shape[2] !== this.inDim) {
      throw new G2DError(`TextProjection expects [batch, tokens, ${this.inDim}], got [${x.shape.join(', ')}]`);
    }
    return this.withTraining(opts.training, () => tf.tidy(() => this.conv2.forward(relu(this.bn.forward(this.conv1.forward(x))))));
  }
}
