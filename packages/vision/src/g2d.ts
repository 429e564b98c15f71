/**
 * The image half of the G2D reference model (CNN_AE): `img_model` (smp-style U-Net),
 * `proj_v` (projection head on the deepest map), `attnpool` (AttentionPool2d on the projected
 * map) and `pseudo_conv` (a 1x1 conv the reference defines but never uses; kept so reference
 * checkpoints load strictly). Names match the reference's `model_state_dict`.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, type RawTensor, Rng } from '@g2d-ts/core';
import { AttentionPool2d } from './attention-pool';
import { Conv2d, Module, fromPretrainedAs, type FromPretrainedOptions } from '@g2d-ts/nn';
import { ProjectionHead2d } from './projection';
import { Unet } from './unet';

export interface G2DVisionOptions {
  /** Encoder registry name (default "resnet50"). */
  backbone?: string;
  /** Custom encoder config (from config.json). */
  encoderConfig?: Record<string, unknown>;
  /** Input size; the attention pool works on imageSize/32 (default 256 → 8×8). */
  imageSize?: number;
  inChannels?: number;
  /** proj_v hidden and output width (reference 128, 128). */
  projHidden?: number;
  projOut?: number;
  /** Attention-pool heads (reference 4). */
  heads?: number;
  /** U-Net output channels (reference 1). */
  classes?: number;
  decoderChannels?: number[];
  /** Keep the unused `pseudo_conv` (default true, as in the reference). */
  pseudoConv?: boolean;
  seed?: number | string;
}

export interface G2DVisionOutput {
  /** Encoder pyramid, input first (NHWC). */
  pyramid: tf.Tensor4D[];
  /** Deepest encoder map [B, h, w, C]. */
  imgEmb: tf.Tensor4D;
  /** proj_v(imgEmb) [B, h, w, projOut]. */
  projImgEmb: tf.Tensor4D;
  /** Attention-pooled embedding [B, projOut] (the VLA image embedding). */
  pooled: tf.Tensor2D;
  /** Per-head attention maps [B, heads, h, w] (the pseudo-mask source). */
  attnMap: tf.Tensor4D;
  /** U-Net logits [B, H, W, classes] (omitted with `{ decoder: false }`). */
  logits?: tf.Tensor4D;
}

export class G2DVisionModel extends Module {
  readonly img_model: Unet;
  readonly proj_v: ProjectionHead2d;
  readonly attnpool: AttentionPool2d;
  readonly pseudo_conv?: Conv2d;
  readonly config: Record<string, unknown>;

  constructor(opts: G2DVisionOptions = {}) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const imageSize = opts.imageSize ?? 256;
    const seed = opts.seed ?? 0;
    this.img_model = this.addChild(
      'img_model',
      new Unet({
        encoder: opts.backbone ?? 'resnet50',
        encoderConfig: opts.encoderConfig,
        encoderOptions: { inChannels: opts.inChannels, seed },
        classes: opts.classes ?? 1,
        decoderChannels: opts.decoderChannels,
        seed,
      }),
    );
    const enc = this.img_model.encoder;
    const red = enc.reductions[enc.reductions.length - 1]!;
    if (imageSize % red !== 0) throw new G2DError(`G2DVisionModel: imageSize ${imageSize} must be a multiple of ${red}`);
    const C = enc.outChannels;
    const projOut = opts.projOut ?? 128;
    const heads = opts.heads ?? 4;
    this.proj_v = this.addChild('proj_v', new ProjectionHead2d({ inChannels: C[C.length - 1]!, hidden: opts.projHidden ?? 128, out: projOut, seed: `${seed}/proj_v` }));
    this.attnpool = this.addChild(
      'attnpool',
      new AttentionPool2d({ spatialDim: imageSize / red, embedDim: projOut, numHeads: heads, outputDim: projOut, seed: `${seed}/attnpool` }),
    );
    if (opts.pseudoConv ?? true) {
      this.pseudo_conv = this.addChild('pseudo_conv', new Conv2d(C[C.length - 2]!, projOut, 1, { rng: this.rng }));
    }
    this.config = {
      backbone: enc.name,
      encoderConfig: enc.config,
      imageSize,
      inChannels: C[0],
      projHidden: opts.projHidden ?? 128,
      projOut,
      heads,
      classes: opts.classes ?? 1,
      decoderChannels: this.img_model.decoder.decoderChannels,
      pseudoConv: opts.pseudoConv ?? true,
    };
  }

  /** The text side of a full reference checkpoint is not part of this model. */
  override isIgnorableKey(key: string): boolean {
    return key.startsWith('lm_model.') || key.startsWith('proj_t.');
  }

  /** A saved G2DVisionModel, or the image part of a reference checkpoint (`*_checkpoint.pth`…). */
  static fromPretrained(pathOrHubId: string, opts?: FromPretrainedOptions): Promise<G2DVisionModel> {
    return fromPretrainedAs(G2DVisionModel, pathOrHubId, opts);
  }

  /**
   * The reference's get_img_emb (+ get_img_dec unless `decoder: false`). `training` overrides
   * the module's mode for this call. Caller disposes outputs.
   */
  forward(x: tf.Tensor4D, opts: { decoder?: boolean; training?: boolean } = {}): G2DVisionOutput {
    return this.withTraining(opts.training, () => this.run(x, opts.decoder ?? true));
  }

  private run(x: tf.Tensor4D, decoder: boolean): G2DVisionOutput {
    const pyramid = this.img_model.encoder.forward(x);
    const imgEmb = pyramid[pyramid.length - 1]!;
    const projImgEmb = this.proj_v.forward(imgEmb);
    const { pooled, weights, attnMap } = this.attnpool.forward(projImgEmb);
    weights.dispose();
    const out: G2DVisionOutput = { pyramid, imgEmb, projImgEmb, pooled, attnMap };
    if (decoder) {
      out.logits = tf.tidy(() => this.img_model.segmentation_head.forward(this.img_model.decoder.forward(pyramid)));
    }
    return out;
  }
}

/**
 * Splits a reference full-model state dict (`*_checkpoint.pth` → model_state_dict) into the
 * image part (img_model/proj_v/attnpool/pseudo_conv, loadable into G2DVisionModel), the
 * text encoder (`lm_model.*`, prefix removed) and the text projection (`proj_t.*`, prefix
 * removed). Anything else is returned under `other`.
 */
export function splitG2DStateDict(sd: Map<string, RawTensor>): {
  image: Map<string, RawTensor>;
  text: Map<string, RawTensor>;
  projT: Map<string, RawTensor>;
  other: Map<string, RawTensor>;
} {
  const image = new Map<string, RawTensor>();
  const text = new Map<string, RawTensor>();
  const projT = new Map<string, RawTensor>();
  const other = new Map<string, RawTensor>();
  for (const [k, v] of sd) {
    if (/^(img_model|proj_v|attnpool|pseudo_conv)\./.test(k)) image.set(k, v);
    else if (k.startsWith('lm_model.')) text.set(k.slice('lm_model.'.length), v);
    else if (k.startsWith('proj_t.')) projT.set(k.slice('proj_t.'.length), v);
    else other.set(k, v);
  }
  return { image, text, projT, other };
}
