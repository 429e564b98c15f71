/**
 * U-Net decoder and segmentation head with segmentation_models_pytorch's semantics and
 * parameter names (decoder.blocks.{i}.conv{1,2}.{0: conv, 1: bn}, segmentation_head.0):
 * each block upsamples (nearest) to the next skip's size, concatenates the skip,
 * then applies 2 × (conv3x3, BatchNorm, ReLU). The decoder is sized from any encoder's
 * outChannels/reductions.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { backboneFromConfig, backbones } from './backbones/registry';
import type { Backbone, BackboneOptions } from './backbones/types';
import { BatchNorm, Conv2d, Module, ModuleList, fromPretrainedAs, relu, resizeNearest, type FromPretrainedOptions, type ModuleOptions } from '@g2d-ts/nn';

/** smp's Conv2dReLU: Sequential(conv (bias only without BN), BN, ReLU) → names "0", "1". */
class Conv2dReLU extends Module {
  readonly conv: Conv2d;
  readonly bn?: BatchNorm;
  constructor(inC: number, outC: number, useBatchnorm: boolean, opts: ModuleOptions) {
    super(opts);
    this.conv = this.addChild('0', new Conv2d(inC, outC, 3, { rng: this.rng, padding: 1, bias: !useBatchnorm, init: 'kaiming_uniform_fan_in' }));
    if (useBatchnorm) this.bn = this.addChild('1', new BatchNorm(outC, { rng: this.rng }));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.conv.forward(x);
      return relu(this.bn ? this.bn.forward(y) : y);
    });
  }
}

export class DecoderBlock extends Module {
  readonly conv1: Conv2dReLU;
  readonly conv2: Conv2dReLU;
  constructor(
    readonly inChannels: number,
    readonly skipChannels: number,
    readonly outChannels: number,
    useBatchnorm: boolean,
    opts: ModuleOptions,
  ) {
    super(opts);
    this.conv1 = this.addChild('conv1', new Conv2dReLU(inChannels + skipChannels, outChannels, useBatchnorm, { rng: this.rng }));
    this.conv2 = this.addChild('conv2', new Conv2dReLU(outChannels, outChannels, useBatchnorm, { rng: this.rng }));
  }
  forward(x: tf.Tensor4D, size: [number, number], skip?: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = resizeNearest(x, size);
      if (skip) h = tf.concat([h, skip], 3);
      return this.conv2.forward(this.conv1.forward(h));
    });
  }
}

export interface UnetDecoderOptions extends ModuleOptions {
  /** Default: the last log2(max reduction) of (256, 128, 64, 32, 16). */
  decoderChannels?: number[];
  useBatchnorm?: boolean;
}

export const DEFAULT_DECODER_CHANNELS = [256, 128, 64, 32, 16];

export class UnetDecoder extends Module {
  readonly blocks: DecoderBlock[] = [];
  readonly decoderChannels: number[];
  /** For block i: the pyramid level whose size it upsamples to, and the skip level (or -1). */
  private readonly plan: { target: number; skip: number }[] = [];

  constructor(
    readonly encoderChannels: number[],
    readonly encoderReductions: number[],
    opts: UnetDecoderOptions = {},
  ) {
    super(opts);
    if (encoderChannels.length !== encoderReductions.length || encoderChannels.length < 2) {
      throw new G2DError('UnetDecoder: encoder channels and reductions must be non-empty lists of equal length');
    }
    const maxRed = encoderReductions[encoderReductions.length - 1]!;
    const nBlocks = Math.round(Math.log2(maxRed));
    if (2 ** nBlocks !== maxRed) throw new G2DError(`UnetDecoder: the deepest reduction (${maxRed}) must be a power of 2`);
    this.decoderChannels = opts.decoderChannels ?? DEFAULT_DECODER_CHANNELS.slice(-nBlocks);
    if (this.decoderChannels.length !== nBlocks) {
      throw new G2DError(
        `UnetDecoder: ${this.decoderChannels.length} decoder channels given, but the encoder (reduction ${maxRed}) needs ${nBlocks}`,
      );
    }
    const holder = this.addChild('blocks', new ModuleList<DecoderBlock>([], { rng: this.rng }));
    let inC = encoderChannels[encoderChannels.length - 1]!;
    for (let i = 0; i < nBlocks; i++) {
      const r = maxRed / 2 ** (i + 1);
      // skips come from levels 1.. (the input itself, level 0, is never concatenated)
      const skip = encoderReductions.findIndex((x, j) => j > 0 && x === r);
      const target = encoderReductions.findIndex((x) => x === r);
      this.plan.push({ target, skip });
      const skipC = skip > 0 ? encoderChannels[skip]! : 0;
      this.blocks.push(holder.push(new DecoderBlock(inC, skipC, this.decoderChannels[i]!, opts.useBatchnorm ?? true, { rng: this.rng })));
      inC = this.decoderChannels[i]!;
    }
  }

  /** features: the encoder pyramid (NHWC), input first. */
  forward(features: tf.Tensor4D[]): tf.Tensor4D {
    if (features.length !== this.encoderChannels.length) {
      throw new G2DError(`UnetDecoder: expected ${this.encoderChannels.length} pyramid levels, got ${features.length}`);
    }
    // memory modes: 'lean' recomputes every block in the backward pass, 'balanced' all but the
    // first two (the high-resolution blocks: most activation memory, least compute)
    const mode = this.memoryMode;
    return tf.tidy(() => {
      let x = features[features.length - 1]!;
      for (let i = 0; i < this.blocks.length; i++) {
        const { target, skip } = this.plan[i]!;
        const size: [number, number] =
          target >= 0 ? [features[target]!.shape[1], features[target]!.shape[2]] : [x.shape[1] * 2, x.shape[2] * 2];
        const block = this.blocks[i]!;
        const recompute = mode === 'lean' || (mode === 'balanced' && i >= 2);
        const inputs = skip > 0 ? [x, features[skip]!] : [x];
        x = this.runBlock(recompute, block, (h, s) => block.forward(h as tf.Tensor4D, size, s as tf.Tensor4D | undefined), inputs);
      }
      return x;
    });
  }
}

/** smp's SegmentationHead: conv (kernel 3, padding 1) → classes; no activation, no upsampling. */
export class SegmentationHead extends Module {
  readonly conv: Conv2d;
  constructor(inChannels: number, classes: number, opts: ModuleOptions & { kernelSize?: number } = {}) {
    super(opts);
    const k = opts.kernelSize ?? 3;
    this.conv = this.addChild('0', new Conv2d(inChannels, classes, k, { rng: this.rng, padding: Math.floor(k / 2), init: 'xavier_uniform' }));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.forward(x);
  }
}

export interface UnetOptions {
  /** Registry name (default "resnet50") or a constructed backbone. */
  encoder?: string | Backbone;
  /** Options for the registry backbone (inChannels, seed…). */
  encoderOptions?: BackboneOptions;
  /** For custom encoders saved in config.json. */
  encoderConfig?: Record<string, unknown>;
  decoderChannels?: number[];
  decoderUseBatchnorm?: boolean;
  /** Output channels (default 1). */
  classes?: number;
  seed?: number | string;
}

export interface UnetOutput {
  /** Encoder pyramid, input first. */
  features: tf.Tensor4D[];
  /** Last decoder block's output (before the head). */
  decoderOutput: tf.Tensor4D;
  /** Segmentation logits [B, H, W, classes]. */
  logits: tf.Tensor4D;
}

/** smp.Unet: encoder (any registered backbone) + UnetDecoder + SegmentationHead. NHWC in and out. */
export class Unet extends Module {
  readonly encoder: Backbone;
  readonly decoder: UnetDecoder;
  readonly segmentation_head: SegmentationHead;
  readonly config: Record<string, unknown>;

  constructor(opts: UnetOptions = {}) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const enc = opts.encoder ?? 'resnet50';
    this.encoder =
      typeof enc === 'string'
        ? opts.encoderConfig
          ? backboneFromConfig(enc, opts.encoderConfig, opts.encoderOptions)
          : backbones.create(enc, opts.encoderOptions)
        : enc;
    this.addChild('encoder', this.encoder);
    this.decoder = this.addChild(
      'decoder',
      new UnetDecoder(this.encoder.outChannels, this.encoder.reductions, {
        rng: this.rng,
        decoderChannels: opts.decoderChannels,
        useBatchnorm: opts.decoderUseBatchnorm,
      }),
    );
    const classes = opts.classes ?? 1;
    this.segmentation_head = this.addChild(
      'segmentation_head',
      new SegmentationHead(this.decoder.decoderChannels[this.decoder.decoderChannels.length - 1]!, classes, { rng: this.rng }),
    );
    this.config = {
      encoder: this.encoder.name,
      encoderConfig: this.encoder.config,
      decoderChannels: this.decoder.decoderChannels,
      decoderUseBatchnorm: opts.decoderUseBatchnorm ?? true,
      classes,
    };
  }

  /** A saved Unet (our directory, an smp hub directory, or a bare smp.Unet checkpoint). */
  static fromPretrained(pathOrHubId: string, opts?: FromPretrainedOptions): Promise<Unet> {
    return fromPretrainedAs(Unet, pathOrHubId, opts);
  }

  /** Runs encoder, decoder and head; the caller owns (and disposes) every returned tensor. */
  forwardAll(x: tf.Tensor4D): UnetOutput {
    const features = this.encoder.forward(x);
    const decoderOutput = this.decoder.forward(features);
    const logits = this.segmentation_head.forward(decoderOutput);
    return { features, decoderOutput, logits };
  }

  /** Segmentation logits [B, H, W, classes]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { logits } = this.forwardAll(x);
      return logits;
    });
  }
}
