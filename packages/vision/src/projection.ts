/**
 * The G2D projection heads: conv1x1 (no bias) → BatchNorm (affine=false) → ReLU → conv1x1
 * (no bias), with nn.Sequential names "0.weight", "1.running_mean", "1.running_var",
 * "1.num_batches_tracked", "3.weight". `ProjectionHead2d` is the reference's proj_v on
 * an NHWC map (Conv2d/BatchNorm2d). The text side's proj_t (Conv1d/BatchNorm1d over tokens)
 * is `TextProjection` in @g2d-ts/text.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@g2d-ts/core';
import { BatchNorm, Conv2d, Module, fromPretrainedAs, relu, type FromPretrainedOptions } from '@g2d-ts/nn';

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
  static fromPretrained(pathOrHubId: string, opts?: FromPretrainedOptions): Promise<ProjectionHead2d> {
    return fromPretrainedAs(ProjectionHead2d, pathOrHubId, opts);
  }
  /** x: NHWC [B, H, W, inChannels] → [B, H, W, out]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv2.forward(relu(this.bn.forward(this.conv1.forward(x)))));
  }
}
