/**
 * `G2DModel`: the G2D reference composition (CNN_AE in cheliu-computation/G2D-NeurIPS24
 * PRETRAIN/models/cnn_ae.py) as one `Module`, parameters under the reference's names so its
 * `model_state_dict` loads directly:
 *
 *   img_model   smp-style U-Net (encoder pyramid [x, C1..C5], decoder, segmentation_head)
 *   proj_v      conv1x1 C5->hidden (no bias), BatchNorm(affine=false), ReLU, conv1x1 hidden->out
 *   attnpool    AttentionPool2d on the *projected* bottleneck (mean token = the only query)
 *   lm_model    BERT (Hugging Face names; its pooler is not built: the reference never uses it)
 *   proj_t      per-token conv1d projection; its BatchNorm sees the whole padded sequence
 *
 * Wiring (reference semantics): image embedding = attention-pooled projected bottleneck (not
 * normalised; the loss normalises); text embedding = L2-normalised projected [CLS] token;
 * attention map = the mean-token query's per-head weights over the h x w cells without the
 * mean-token key; the decoder is fed the raw pyramid, so the PS loss reaches only the encoder,
 * decoder and segmentation head, and VLA never reaches the decoder.
 *
 * Not built (reported as unused when a reference checkpoint is loaded): `pseudo_conv` (defined
 * but never used by the reference), the BERT pooler, `position_ids` buffers.
 *
 * Tensors are NHWC: images [B, H, W, 3] (normalised), segmentation logits [B, H, W, 1].
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { Module, withDropoutSeed } from '@g2d-ts/nn';
import { AttentionPool2d, ProjectionHead2d, Unet } from '@g2d-ts/vision';
import { BertModel, TextProjection, type BertTokenizer } from '@g2d-ts/text';
import { bceDiceLoss, clipLoss, l2Normalize } from '@g2d-ts/losses';
import { attentionToPseudoMask } from '@g2d-ts/pseudo-mask';
import type { G2DConfig } from './config';
import { loadTokenizer } from './tokenizer';
import { createModelWithWeights, type CreateModelOptions } from './create';

export interface G2DInputs {
  /** [B, H, W, 3] float32, normalised (H = W = config.imageSize) */
  images: tf.Tensor4D;
  /** [B, L] int32 token ids */
  inputIds: tf.Tensor2D;
  /** [B, L] int32, 1 for tokens and 0 for padding */
  attentionMask: tf.Tensor2D;
}

export interface ForwardOptions {
  /** Train mode for this call only (BatchNorm batch statistics, dropout); default: the module's mode. */
  training?: boolean;
  /** Run the U-Net decoder (default true). */
  decoder?: boolean;
  /** Seed of this call's dropout masks (a training step's seed: resumed runs draw the same masks). */
  dropoutSeed?: number | string;
}

export interface G2DOutput {
  /** [B, D] attention-pooled projected image embedding (not normalised, as the reference) */
  imageEmbedding: tf.Tensor2D;
  /** [B, D] L2-normalised projected [CLS] token */
  textEmbedding: tf.Tensor2D;
  /** [B, heads, h, w] per-head attention of the mean-token query over the bottleneck cells */
  attention: tf.Tensor4D;
  /** [B, H, W, 1] decoder + segmentation-head logits (absent with `decoder: false`) */
  segLogits?: tf.Tensor4D;
  /** The input images (not owned by the output; the paper-mode body mask reads them). */
  readonly images: tf.Tensor4D;
  /** Disposes the tensors this output owns. */
  dispose(): void;
}

export interface LossOptions {
  /** Optimizer steps taken so far (0-based): PS joins once `step >= loss.vlaOnlySteps`. */
  step: number;
}

export interface G2DLossTerms {
  /** The total to minimise: vlaWeight * VLA (+ psWeight * PS after the VLA-only steps). */
  loss: tf.Scalar;
  vla: number;
  /** The PS loss value (computed, and logged, also during the VLA-only steps, as the reference does); null without decoder output. */
  ps: number | null;
  /** Whether PS is part of `loss` at this step. */
  psActive: boolean;
  acc1: number;
  acc5: number;
  /** The pseudo mask used as the PS target, [B, H, W, numMaps] 0/1 (owned by the caller when `keepMask`). */
  pseudoMask?: tf.Tensor4D;
}

export interface G2DModelOptions {
  /** Seed of the random initial weights (default 0). */
  seed?: number;
}

export class G2DModel extends Module {
  readonly config: G2DConfig;
  readonly img_model: Unet;
  readonly proj_v: ProjectionHead2d;
  readonly attnpool: AttentionPool2d;
  readonly lm_model: BertModel;
  readonly proj_t: TextProjection;
  private _tokenizer?: BertTokenizer;

  constructor(config: G2DConfig, opts: G2DModelOptions = {}) {
    super();
    this.config = config;
    const seed = opts.seed ?? 0;
    const c = config;
    this.img_model = this.addChild(
      'img_model',
      new Unet({
        encoder: c.backbone,
        encoderConfig: c.encoderConfig,
        encoderOptions: { inChannels: c.inChannels, seed },
        decoderChannels: c.decoderChannels,
        classes: 1,
        seed,
      }),
    );
    const enc = this.img_model.encoder;
    const C = enc.outChannels;
    const red = enc.reductions[enc.reductions.length - 1]!;
    if (c.imageSize % red !== 0) throw new G2DError(`imageSize ${c.imageSize} must be a multiple of the encoder's output stride ${red} (backbone ${c.backbone})`);
    this.proj_v = this.addChild(
      'proj_v',
      new ProjectionHead2d({ inChannels: C[C.length - 1]!, hidden: c.projection.hidden, out: c.projection.out, seed: `${seed}/proj_v` }),
    );
    this.attnpool = this.addChild(
      'attnpool',
      new AttentionPool2d({ spatialDim: c.imageSize / red, embedDim: c.projection.out, numHeads: c.attentionHeads, outputDim: c.projection.out, seed: `${seed}/attnpool` }),
    );
    const t = c.text;
    this.lm_model = this.addChild(
      'lm_model',
      new BertModel(
        {
          vocabSize: t.vocabSize,
          hiddenSize: t.hiddenSize,
          numHiddenLayers: t.numHiddenLayers,
          numAttentionHeads: t.numAttentionHeads,
          intermediateSize: t.intermediateSize,
          maxPositionEmbeddings: t.maxPositionEmbeddings,
          typeVocabSize: t.typeVocabSize,
          hiddenDropoutProb: t.hiddenDropoutProb,
          attentionProbsDropoutProb: t.attentionProbsDropoutProb,
          layerNormEps: t.layerNormEps,
        },
        { seed: seed + 1, addPoolingLayer: false },
      ),
    );
    this.proj_t = this.addChild('proj_t', new TextProjection({ inDim: t.hiddenSize, hiddenDim: c.projection.hidden, outDim: c.projection.out, seed: seed + 2 }));
    // the reference freezes BERT encoder layers 0..N-1; the embeddings stay trainable
    const frozen = Array.from({ length: t.freezeLayers }, (_, i) => `lm_model.encoder.layer.${i}.`);
    if (frozen.length) this.freeze(frozen);
  }

  /**
   * transformers-style loading: our saved folder (`model.safetensors` + `config.json`, config
   * from the file), or a reference checkpoint (`*_checkpoint.pth`, `*_encoder.pth`,
   * `*_encoder_decoder.pth`) with `config` (a preset name or config object). Eval mode.
   */
  static async fromPretrained(weights: string, opts: CreateModelOptions & { config?: Parameters<typeof createModelWithWeights>[0] } = {}): Promise<G2DModel> {
    const { model } = await createModelWithWeights(opts.config, weights, opts);
    return model.eval();
  }

  /** Reference-checkpoint keys this model deliberately does not build. */
  static isUnusedReferenceKey(key: string): boolean {
    return (
      key.startsWith('pseudo_conv.') ||
      key.startsWith('lm_model.pooler.') ||
      key.endsWith('position_ids') ||
      key === 'lm_model.embeddings.position_ids'
    );
  }

  private checkInputs(x: G2DInputs): void {
    if (!x || typeof x !== 'object') throw new G2DError('G2DModel.forward: inputs must be { images, inputIds, attentionMask }');
    const { images, inputIds, attentionMask } = x;
    const S = this.config.imageSize;
    if (!(images instanceof tf.Tensor) || images.rank !== 4 || images.shape[1] !== S || images.shape[2] !== S || images.shape[3] !== this.config.inChannels) {
      throw new G2DError(
        `G2DModel.forward: "images" must be a [B, ${S}, ${S}, ${this.config.inChannels}] tensor (NHWC, config.imageSize ${S}), got ${images instanceof tf.Tensor ? `[${images.shape.join(', ')}]` : typeof images}`,
      );
    }
    for (const [name, t] of [
      ['inputIds', inputIds],
      ['attentionMask', attentionMask],
    ] as const) {
      if (!(t instanceof tf.Tensor) || t.rank !== 2 || t.shape[0] !== images.shape[0]) {
        throw new G2DError(`G2DModel.forward: "${name}" must be a [B, L] int32 tensor with B = ${images.shape[0]} (the images' batch), got ${t instanceof tf.Tensor ? `[${t.shape.join(', ')}]` : typeof t}`);
      }
    }
    if (inputIds.shape[1] !== attentionMask.shape[1]) {
      throw new G2DError(`G2DModel.forward: "inputIds" [${inputIds.shape.join(', ')}] and "attentionMask" [${attentionMask.shape.join(', ')}] differ in length`);
    }
    if (images.shape[0]! < 1) throw new G2DError('G2DModel.forward: empty batch');
  }

  /**
   * One forward pass of both towers (the reference's `forward`). The caller owns the output
   * (call `out.dispose()`); inside `tf.variableGrads`/`tf.tidy` it is cleaned up with the scope.
   */
  forward(inputs: G2DInputs, opts: ForwardOptions = {}): G2DOutput {
    this.checkInputs(inputs);
    return this.withTraining(opts.training, () => withDropoutSeed(opts.dropoutSeed, () => {
      const img = this.imageForward(inputs.images, opts.decoder ?? true);
      const textEmbedding = this.textForward(inputs.inputIds, inputs.attentionMask);
      const owned = [img.imageEmbedding, textEmbedding, img.attention, ...(img.segLogits ? [img.segLogits] : [])];
      return {
        imageEmbedding: img.imageEmbedding,
        textEmbedding,
        attention: img.attention,
        segLogits: img.segLogits,
        images: inputs.images,
        dispose: () => owned.forEach((t) => t.dispose()),
      };
    }));
  }

  private imageForward(images: tf.Tensor4D, decoder: boolean): { imageEmbedding: tf.Tensor2D; attention: tf.Tensor4D; segLogits?: tf.Tensor4D } {
    const pyramid = this.img_model.encoder.forward(images);
    try {
      const [imageEmbedding, attention] = tf.tidy(() => {
        const proj = this.proj_v.forward(pyramid[pyramid.length - 1]!);
        const { pooled, weights, attnMap } = this.attnpool.forward(proj);
        weights.dispose();
        return [pooled, attnMap] as const;
      });
      const segLogits = decoder ? tf.tidy(() => this.img_model.segmentation_head.forward(this.img_model.decoder.forward(pyramid))) : undefined;
      return { imageEmbedding, attention, segLogits };
    } finally {
      // the pyramid's first entry is the input itself: never dispose the caller's tensor
      for (const t of pyramid) if (t !== images) t.dispose();
    }
  }

  private textForward(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { lastHiddenState } = this.lm_model.forward({ inputIds, attentionMask }, { validate: false });
      const proj = this.proj_t.forward(lastHiddenState); // every position, padding included (reference BN)
      const [B, , D] = proj.shape;
      const cls = tf.reshape(tf.slice(proj, [0, 0, 0], [B, 1, D]), [B, D]) as tf.Tensor2D;
      return l2Normalize(cls);
    });
  }

  /**
   * The G2D objective on one forward output: VLA = clipLoss(image, text) (temperature and
   * direction from the config); PS = bceDiceLoss(segLogits, pseudo mask of the *detached*
   * attention) with the config's pseudo-mask options; total = VLA for the first
   * `loss.vlaOnlySteps` steps, VLA + PS after (weights from the config).
   */
  loss(out: G2DOutput, opts: LossOptions & { keepMask?: boolean }): G2DLossTerms {
    if (!out || !(out.imageEmbedding instanceof tf.Tensor)) throw new G2DError('G2DModel.loss: "out" must be the output of G2DModel.forward');
    const step = opts?.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      throw new G2DError(`G2DModel.loss: option "step" must be a non-negative integer (optimizer steps so far), got ${JSON.stringify(step)}`);
    }
    const L = this.config.loss;
    const vla = clipLoss(out.imageEmbedding, out.textEmbedding, { temperature: L.temperature, symmetric: L.symmetric });
    const psActive = step >= L.vlaOnlySteps && L.psWeight > 0 && out.segLogits !== undefined;
    let psTensor: tf.Scalar | undefined;
    let mask: tf.Tensor4D | undefined;
    if (out.segLogits) {
      mask = this.pseudoMask(out.attention, out.images);
      psTensor = bceDiceLoss(out.segLogits, mask, { variant: L.variant, validate: false });
    }
    const total = tf.tidy(() => {
      let t = L.vlaWeight === 1 ? tf.clone(vla.loss) : tf.mul(vla.loss, L.vlaWeight);
      if (psActive && psTensor) t = tf.add(t, L.psWeight === 1 ? psTensor : tf.mul(psTensor, L.psWeight));
      return t as tf.Scalar;
    });
    const vlaValue = vla.loss.dataSync()[0]!;
    const psValue = psTensor ? psTensor.dataSync()[0]! : null;
    vla.loss.dispose();
    psTensor?.dispose();
    const keep = opts.keepMask ?? false;
    if (!keep) mask?.dispose();
    return { loss: total, vla: vlaValue, ps: psValue, psActive, acc1: vla.acc1, acc5: vla.acc5, ...(keep && mask ? { pseudoMask: mask } : {}) };
  }

  /**
   * The parameter-free processor on attention maps [B, heads, h, w] -> pseudo masks
   * [B, H, W, numMaps] (NHWC, 0/1 float32, no gradient). Paper mode reads `images` for the body mask.
   */
  pseudoMask(attention: tf.Tensor4D, images?: tf.Tensor4D): tf.Tensor4D {
    const P = this.config.pseudoMask;
    const S = this.config.imageSize;
    const nchw = attentionToPseudoMask(attention, {
      mode: P.mode,
      numMaps: P.numMaps,
      threshold: P.threshold,
      quantile: P.quantile,
      size: [S, S],
      ...(P.mode === 'paper' && images ? { image: images, imageLayout: 'NHWC' as const } : {}),
    });
    if (nchw.shape[1] === 1) {
      const r = tf.reshape(nchw, [nchw.shape[0], S, S, 1]) as tf.Tensor4D;
      nchw.dispose();
      return r;
    }
    const r = tf.transpose(nchw, [0, 2, 3, 1]) as tf.Tensor4D;
    nchw.dispose();
    return r;
  }

  // ---------------------------------------------------------------- inference helpers (eval mode)

  /** The tokenizer of the config's vocabulary (loaded on first use). */
  get tokenizer(): BertTokenizer {
    this._tokenizer ??= loadTokenizer(this.config.text);
    return this._tokenizer;
  }

  /** Tokenizes reports as the reference's training mode does (truncation, padding to maxLength). */
  tokenize(texts: string[], opts: { padding?: 'max_length' | 'longest' } = {}): { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D } {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new G2DError('G2DModel.tokenize: "texts" must be an array of strings');
    const enc = this.tokenizer.encodeBatchTensors(texts, {
      padding: opts.padding ?? 'max_length',
      maxLength: this.config.text.maxLength,
      truncation: true,
    } as Parameters<BertTokenizer['encodeBatchTensors']>[1]);
    return { inputIds: enc.inputIds as tf.Tensor2D, attentionMask: enc.attentionMask as tf.Tensor2D };
  }

  /** L2-normalised image embeddings [B, D] (eval mode, no decoder). */
  encodeImage(images: tf.Tensor4D): tf.Tensor2D {
    this.checkImages(images, 'encodeImage');
    const { embedding, attention } = this.encodeImageWithAttention(images);
    attention.dispose();
    return embedding;
  }

  /**
   * `encodeImage` and `attentionMap` from one forward pass (eval mode, no decoder): the
   * L2-normalised embeddings [B, D] and the per-head attention maps [B, heads, h, w].
   */
  encodeImageWithAttention(images: tf.Tensor4D): { embedding: tf.Tensor2D; attention: tf.Tensor4D } {
    this.checkImages(images, 'encodeImageWithAttention');
    return this.withTraining(false, () => {
      const { imageEmbedding, attention } = this.imageForward(images, false);
      const embedding = l2Normalize(imageEmbedding);
      imageEmbedding.dispose();
      return { embedding, attention };
    });
  }

  /** L2-normalised report embeddings [B, D] (eval mode) from strings or token tensors. */
  encodeText(texts: string[] | { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D }): tf.Tensor2D {
    return this.withTraining(false, () => {
      if (Array.isArray(texts)) {
        const { inputIds, attentionMask } = this.tokenize(texts, { padding: 'longest' });
        try {
          return this.textForward(inputIds, attentionMask);
        } finally {
          inputIds.dispose();
          attentionMask.dispose();
        }
      }
      if (!texts || !(texts.inputIds instanceof tf.Tensor) || !(texts.attentionMask instanceof tf.Tensor)) {
        throw new G2DError('G2DModel.encodeText: pass an array of strings or { inputIds, attentionMask } tensors');
      }
      return this.textForward(texts.inputIds, texts.attentionMask);
    });
  }

  /** The decoder's last feature map [B, H, W, C] (before the segmentation head), eval mode. */
  denseFeatures(images: tf.Tensor4D): tf.Tensor4D {
    this.checkImages(images, 'denseFeatures');
    return this.withTraining(false, () => {
      const pyramid = this.img_model.encoder.forward(images);
      try {
        return this.img_model.decoder.forward(pyramid);
      } finally {
        for (const t of pyramid) if (t !== images) t.dispose();
      }
    });
  }

  /** L2-normalised projected bottleneck cells [B, h, w, D] (the reference's `patch_emb`), eval mode: text-to-patch grounding. */
  patchEmbeddings(images: tf.Tensor4D): tf.Tensor4D {
    this.checkImages(images, 'patchEmbeddings');
    return this.withTraining(false, () => {
      const pyramid = this.img_model.encoder.forward(images);
      try {
        return tf.tidy(() => {
          const p = this.proj_v.forward(pyramid[pyramid.length - 1]!);
          return tf.div(p, tf.maximum(tf.norm(p, 'euclidean', -1, true), 1e-12)) as tf.Tensor4D;
        });
      } finally {
        for (const t of pyramid) if (t !== images) t.dispose();
      }
    });
  }

  /** Per-head attention maps [B, heads, h, w] (eval mode). */
  attentionMap(images: tf.Tensor4D): tf.Tensor4D {
    this.checkImages(images, 'attentionMap');
    return this.withTraining(false, () => {
      const { imageEmbedding, attention } = this.imageForward(images, false);
      imageEmbedding.dispose();
      return attention;
    });
  }

  /** Segmentation logits [B, H, W, 1] of the pretrained decoder (eval mode). */
  segment(images: tf.Tensor4D): tf.Tensor4D {
    this.checkImages(images, 'segment');
    return this.withTraining(false, () => this.img_model.forward(images));
  }

  private checkImages(images: tf.Tensor4D, fn: string): void {
    const S = this.config.imageSize;
    if (!(images instanceof tf.Tensor) || images.rank !== 4 || images.shape[3] !== this.config.inChannels) {
      throw new G2DError(`G2DModel.${fn}: "images" must be a [B, H, W, ${this.config.inChannels}] tensor (NHWC), got ${images instanceof tf.Tensor ? `[${images.shape.join(', ')}]` : typeof images}`);
    }
    if (fn !== 'denseFeatures' && fn !== 'segment' && (images.shape[1] !== S || images.shape[2] !== S)) {
      throw new G2DError(`G2DModel.${fn}: images must be ${S}x${S} (config.imageSize; the attention pool's positional embedding is sized for it), got ${images.shape[1]}x${images.shape[2]}`);
    }
  }
}
