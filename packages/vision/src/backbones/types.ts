import type * as tf from '@tensorflow/tfjs';
import type { Module } from '@g2d-ts/nn';

/**
 * An image encoder returning a feature pyramid. Input and features are NHWC
 * ([batch, height, width, channels]); `features[0]` is (a copy of) the input itself, as in
 * segmentation_models_pytorch, followed by one map per stage.
 */
export interface Backbone extends Module {
  /** Registry name (e.g. "resnet50"). */
  readonly name: string;
  /** Channels of each pyramid level, input first (ResNet-50: 3, 64, 256, 512, 1024, 2048). */
  readonly outChannels: number[];
  /** Down-sampling factor of each level (ResNet: 1, 2, 4, 8, 16, 32). */
  readonly reductions: number[];
  /** The options that rebuild this backbone (saved in config.json). */
  readonly config: Record<string, unknown>;
  forward(x: tf.Tensor4D): tf.Tensor4D[];
}

export interface BackboneOptions {
  /** Input channels (default 3). */
  inChannels?: number;
  /** Seed for the initial weights (default 0). */
  seed?: number | string;
  [key: string]: unknown;
}
