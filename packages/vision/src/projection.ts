/**
 * The G2D projection heads: conv1x1 (no bias) → BatchNorm (affine=false) → ReLU → conv1x1
 * (no bias), with nn.Sequential names "0.weight", "1.running_mean", "1.running_var",
 * "1.num_batches_tracked", "3.weight". `ProjectionHead2d` is the reference's proj_v on
 * an NHWC map (Conv2d/BatchNorm2d); `ProjectionHead1d` is proj_t on [B, L, C] token
 * sequences (Conv1d/BatchNorm1d, statistics over batch and length).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@g2d/core';
import { BatchNorm, Conv2d, relu } from './nn/layers';
import { Module } from './nn/module';

export interface ProjectionHeadOptions {
  inChannels: number;
  hidden?: number;
  out?: number;
  seed?: number | string;
}

export class ProjectionHead2d extends Module {
  readonly conv1: Conv2d;
  readonly bn: BatchNorm;
  readonly conv2: Conv2d;
  readonly config: Required<Omit<ProjectionHeadOptions, 'seed'>>;
  constructor(opts: ProjectionHeadOptions) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const hidden = opts.hidden ?? 128;
    const out = opts.out ?? 128;
    this.config = { inChannels: opts.inChannels, hidden, out };
    this.conv1 = this.addChild('0', new Conv2d(opts.inChannels, hidden, 1, { rng: this.rng, bias: false }));
    this.bn = this.addChild('1', new BatchNorm(hidden, { rng: this.rng, affine: false }));
    this.conv2 = this.addChild('3', new Conv2d(hidden, out, 1, { rng: this.rng, bias: false }));
  }
  /** x: NHWC [B, H, W, inChannels] → [B, H, W, out]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv2.forward(relu(this.bn.forward(this.conv1.forward(x)))));
  }
}

export class ProjectionHead1d extends Module {
  readonly w1: tf.Variable<tf.Rank.R2>;
  readonly bn: BatchNorm;
  readonly w2: tf.Variable<tf.Rank.R2>;
  readonly config: Required<Omit<ProjectionHeadOptions, 'seed'>>;
  constructor(opts: ProjectionHeadOptions) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const hidden = opts.hidden ?? 128;
    const out = opts.out ?? 128;
    this.config = { inChannels: opts.inChannels, hidden, out };
    const b1 = 1 / Math.sqrt(opts.inChannels);
    const b2 = 1 / Math.sqrt(hidden);
    const c1 = this.addChild('0', new Conv1x1(opts.inChannels, hidden, b1, this.rng));
    this.bn = this.addChild('1', new BatchNorm(hidden, { rng: this.rng, affine: false }));
    const c2 = this.addChild('3', new Conv1x1(hidden, out, b2, this.rng));
    this.w1 = c1.weight;
    this.w2 = c2.weight;
  }
  /** x: [B, L, inChannels] → [B, L, out]. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, L, C] = x.shape;
      const h = tf.reshape(tf.matMul(tf.reshape(x, [B * L, C]), this.w1), [B, L, -1]) as tf.Tensor3D;
      const r = relu(this.bn.forward(h));
      return tf.reshape(tf.matMul(tf.reshape(r, [B * L, -1]), this.w2), [B, L, -1]) as tf.Tensor3D;
    });
  }
}

/** torch.nn.Conv1d(kernel 1, bias=False): weight [in, out] here, [out, in, 1] in state dicts. */
class Conv1x1 extends Module {
  readonly weight: tf.Variable<tf.Rank.R2>;
  constructor(inC: number, outC: number, bound: number, rng: Rng) {
    super({ rng });
    this.weight = this.addParam('weight', this.randu([inC, outC], -bound, bound), 'conv1d') as tf.Variable<tf.Rank.R2>;
  }
}
