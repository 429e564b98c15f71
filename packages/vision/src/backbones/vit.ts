/**
 * Vision Transformer (ViT-B/16 by default) with torchvision's parameter names
 * (conv_proj, class_token, encoder.pos_embedding, encoder.layers.encoder_layer_{i}.*,
 * encoder.ln). timm checkpoints (patch_embed/cls_token/pos_embed/blocks.{i}) are renamed on
 * import. The pyramid is [x, patch-token map] (the final LayerNorm'd tokens without the class
 * token, reshaped to [B, H/16, W/16, hidden]).
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { Conv2d, LayerNorm, Linear, Module, ModuleDict, MultiheadAttention, fromPretrainedAs, gelu, type FromPretrainedOptions, type ModuleOptions } from '@g2d-ts/nn';
import type { Backbone, BackboneOptions } from './types';

export interface ViTConfig {
  imageSize: number;
  patchSize: number;
  numLayers: number;
  numHeads: number;
  hiddenDim: number;
  mlpDim: number;
  inChannels?: number;
  eps?: number;
}

class MLPBlock extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, mlpDim: number, opts: ModuleOptions) {
    super(opts);
    // torchvision MLP: Sequential(Linear, GELU, Dropout, Linear, Dropout)
    this.fc1 = this.addChild('0', new Linear(dim, mlpDim, { rng: this.rng, init: 'xavier_uniform' }));
    this.fc2 = this.addChild('3', new Linear(mlpDim, dim, { rng: this.rng, init: 'xavier_uniform' }));
  }
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }
}

class EncoderBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly self_attention: MultiheadAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLPBlock;
  constructor(cfg: ViTConfig, opts: ModuleOptions) {
    super(opts);
    const eps = cfg.eps ?? 1e-6;
    this.ln_1 = this.addChild('ln_1', new LayerNorm(cfg.hiddenDim, eps));
    this.self_attention = this.addChild('self_attention', new MultiheadAttention(cfg.hiddenDim, cfg.numHeads, { rng: this.rng }));
    this.ln_2 = this.addChild('ln_2', new LayerNorm(cfg.hiddenDim, eps));
    this.mlp = this.addChild('mlp', new MLPBlock(cfg.hiddenDim, cfg.mlpDim, { rng: this.rng }));
  }
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const h = this.ln_1.forward(x);
      const y = tf.add(x, this.self_attention.forward(h, h, h).output) as tf.Tensor3D;
      return tf.add(y, this.mlp.forward(this.ln_2.forward(y))) as tf.Tensor3D;
    });
  }
}

class Encoder extends Module {
  readonly posEmbedding: tf.Variable;
  readonly layers: EncoderBlock[] = [];
  readonly ln: LayerNorm;
  constructor(cfg: ViTConfig, seqLen: number, opts: ModuleOptions) {
    super(opts);
    this.posEmbedding = this.addParam('pos_embedding', this.randn([1, seqLen, cfg.hiddenDim], 0.02));
    const holder = this.addChild('layers', new ModuleDict<EncoderBlock>({ rng: this.rng }));
    for (let i = 0; i < cfg.numLayers; i++) this.layers.push(holder.set(`encoder_layer_${i}`, new EncoderBlock(cfg, { rng: this.rng })));
    this.ln = this.addChild('ln', new LayerNorm(cfg.hiddenDim, cfg.eps ?? 1e-6));
  }
}

export class VisionTransformer extends Module implements Backbone {
  readonly outChannels: number[];
  readonly reductions: number[];
  readonly conv_proj: Conv2d;
  readonly classToken: tf.Variable;
  readonly encoder: Encoder;
  readonly config: Record<string, unknown>;
  readonly grid: number;

  constructor(
    readonly name: string,
    readonly vitConfig: ViTConfig,
    opts: BackboneOptions = {},
  ) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const cfg = { ...vitConfig, inChannels: opts.inChannels ?? vitConfig.inChannels ?? 3 };
    if (cfg.imageSize % cfg.patchSize !== 0) throw new G2DError(`${name}: imageSize must be a multiple of patchSize`);
    this.grid = cfg.imageSize / cfg.patchSize;
    const o = { rng: this.rng };
    this.conv_proj = this.addChild('conv_proj', new Conv2d(cfg.inChannels, cfg.hiddenDim, cfg.patchSize, { ...o, stride: cfg.patchSize }));
    this.classToken = this.addParam('class_token', tf.zeros([1, 1, cfg.hiddenDim]));
    this.encoder = this.addChild('encoder', new Encoder(cfg, this.grid * this.grid + 1, o));
    this.outChannels = [cfg.inChannels, cfg.hiddenDim];
    this.reductions = [1, cfg.patchSize];
    this.config = { ...cfg };
  }

  /** Position embeddings for a gh × gw grid (bilinear interpolation when it differs from training). */
  private positions(gh: number, gw: number): tf.Tensor {
    const pe = this.encoder.posEmbedding;
    if (gh === this.grid && gw === this.grid) return pe;
    const D = pe.shape[2]!;
    const cls = tf.slice(pe, [0, 0, 0], [1, 1, D]);
    const grid = tf.reshape(tf.slice(pe, [0, 1, 0], [1, this.grid * this.grid, D]), [1, this.grid, this.grid, D]) as tf.Tensor4D;
    const resized = tf.image.resizeBilinear(grid, [gh, gw], false, true);
    return tf.concat([cls, tf.reshape(resized, [1, gh * gw, D])], 1);
  }

  /** Final (LayerNorm'd) tokens [B, 1 + gh*gw, hidden]; index 0 is the class token. */
  forwardTokens(x: tf.Tensor4D): { tokens: tf.Tensor3D; gh: number; gw: number } {
    const { patchSize } = this.vitConfig;
    if (x.rank !== 4 || x.shape[3] !== this.outChannels[0] || x.shape[1] < patchSize || x.shape[2] < patchSize) {
      throw new G2DError(
        `${this.name}: expected an NHWC batch [B, H>=${patchSize}, W>=${patchSize}, ${this.outChannels[0]}], got [${x.shape.join(', ')}]`,
      );
    }
    const gh = Math.floor(x.shape[1] / patchSize);
    const gw = Math.floor(x.shape[2] / patchSize);
    const tokens = tf.tidy(() => {
      const B = x.shape[0];
      const D = this.outChannels[1]!;
      const p = this.conv_proj.forward(x); // [B, gh, gw, D]
      let h = tf.reshape(p, [B, gh * gw, D]) as tf.Tensor3D;
      h = tf.concat([tf.tile(this.classToken, [B, 1, 1]), h], 1) as tf.Tensor3D;
      h = tf.add(h, this.positions(gh, gw)) as tf.Tensor3D;
      // memory modes: 'lean' recomputes every encoder block in the backward pass, 'balanced' every second one
      const mode = this.memoryMode;
      let i = 0;
      for (const l of this.encoder.layers) {
        const recompute = mode === 'lean' || (mode === 'balanced' && i++ % 2 === 1);
        h = this.runBlock(recompute, l, (t) => l.forward(t as tf.Tensor3D), [h]);
      }
      return this.encoder.ln.forward(h);
    });
    return { tokens, gh, gw };
  }

  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    const { tokens, gh, gw } = this.forwardTokens(x);
    const map = tf.tidy(() => {
      const [B, L, D] = tokens.shape;
      return tf.reshape(tf.slice(tokens, [0, 1, 0], [B, L - 1, D]), [B, gh, gw, D]) as tf.Tensor4D;
    });
    tokens.dispose();
    return [x.clone(), map];
  }

  static fromPretrained(pathOrHubId: string, opts?: FromPretrainedOptions): Promise<VisionTransformer> {
    return fromPretrainedAs(VisionTransformer, pathOrHubId, opts);
  }

  override isIgnorableKey(key: string): boolean {
    return key.startsWith('heads.') || key.startsWith('head.') || key.startsWith('fc_norm.');
  }

  /** timm → torchvision names. */
  override translateKey(k: string): string {
    const t = k
      .replace(/^patch_embed\.proj\./, 'conv_proj.')
      .replace(/^cls_token$/, 'class_token')
      .replace(/^pos_embed$/, 'encoder.pos_embedding')
      .replace(/^norm\./, 'encoder.ln.')
      .replace(/^blocks\.(\d+)\.norm1\./, 'encoder.layers.encoder_layer_$1.ln_1.')
      .replace(/^blocks\.(\d+)\.norm2\./, 'encoder.layers.encoder_layer_$1.ln_2.')
      .replace(/^blocks\.(\d+)\.attn\.qkv\.weight$/, 'encoder.layers.encoder_layer_$1.self_attention.in_proj_weight')
      .replace(/^blocks\.(\d+)\.attn\.qkv\.bias$/, 'encoder.layers.encoder_layer_$1.self_attention.in_proj_bias')
      .replace(/^blocks\.(\d+)\.attn\.proj\./, 'encoder.layers.encoder_layer_$1.self_attention.out_proj.')
      .replace(/^blocks\.(\d+)\.mlp\.fc1\./, 'encoder.layers.encoder_layer_$1.mlp.0.')
      .replace(/^blocks\.(\d+)\.mlp\.fc2\./, 'encoder.layers.encoder_layer_$1.mlp.3.');
    // torchvision < 0.13 MLP names
    return t.replace(/\.mlp\.linear_1\./, '.mlp.0.').replace(/\.mlp\.linear_2\./, '.mlp.3.');
  }
}

export const VIT_CONFIGS: Record<string, ViTConfig> = {
  vit_b_16: { imageSize: 224, patchSize: 16, numLayers: 12, numHeads: 12, hiddenDim: 768, mlpDim: 3072 },
};
