/**
 * AttentionPool2d exactly as in the G2D reference (CLIP-style): the H×W map is flattened to
 * tokens, their mean is prepended as the query token, a learned positional embedding
 * ((HW+1) × C, init randn/sqrt(C)) is added, one multi-head attention step uses the mean
 * token as the only query over all HW+1 tokens, then `c_proj` (Linear) projects it.
 * Parameter names match the reference state dict: positional_embedding,
 * mhsa.in_proj_weight, mhsa.in_proj_bias, mhsa.out_proj.{weight,bias}, c_proj.{weight,bias}.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { Linear, Module, MultiheadAttention, fromPretrainedAs, type FromPretrainedOptions } from '@g2d-ts/nn';

export interface AttentionPool2dOptions {
  /** Side of the square input map (reference: image size / 32 = 8). */
  spatialDim: number;
  embedDim: number;
  numHeads: number;
  outputDim?: number;
  seed?: number | string;
}

export interface AttentionPoolOutput {
  /** Pooled embedding [B, outputDim]. */
  pooled: tf.Tensor2D;
  /** Per-head attention of the query over all tokens [B, heads, HW+1]; index 0 is the query (mean) token. */
  weights: tf.Tensor3D;
  /** The spatial part of `weights` as maps [B, heads, H, W] (the reference's `att_map[:, :, 1:]`). */
  attnMap: tf.Tensor4D;
}

export class AttentionPool2d extends Module {
  readonly positionalEmbedding: tf.Variable<tf.Rank.R2>;
  readonly mhsa: MultiheadAttention;
  readonly c_proj: Linear;
  readonly config: AttentionPool2dOptions;

  constructor(opts: AttentionPool2dOptions) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const { spatialDim, embedDim, numHeads } = opts;
    this.config = { ...opts, outputDim: opts.outputDim ?? embedDim };
    this.positionalEmbedding = this.addParam(
      'positional_embedding',
      this.randn([spatialDim ** 2 + 1, embedDim], 1 / Math.sqrt(embedDim)),
    ) as tf.Variable<tf.Rank.R2>;
    this.mhsa = this.addChild('mhsa', new MultiheadAttention(embedDim, numHeads, { rng: this.rng }));
    this.c_proj = this.addChild('c_proj', new Linear(embedDim, opts.outputDim ?? embedDim, { rng: this.rng }));
  }

  /** A saved AttentionPool2d (directory with config.json, or hub id). */
  static fromPretrained(pathOrHubId: string, opts?: FromPretrainedOptions): Promise<AttentionPool2d> {
    return fromPretrainedAs(AttentionPool2d, pathOrHubId, opts);
  }

  /** x: NHWC [B, spatialDim, spatialDim, embedDim]. */
  forward(x: tf.Tensor4D): AttentionPoolOutput {
    const { spatialDim, embedDim, numHeads } = this.config;
    const [B, H, W, C] = x.shape;
    if (H !== spatialDim || W !== spatialDim || C !== embedDim) {
      throw new G2DError(
        `AttentionPool2d: expected [B, ${spatialDim}, ${spatialDim}, ${embedDim}] (NHWC), got [${x.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      const tokens = tf.reshape(x, [B, H * W, C]); // row-major h*W + w, as torch's flatten(2)
      const mean = tf.mean(tokens, 1, true);
      const seq = tf.add(tf.concat([mean, tokens], 1), this.positionalEmbedding) as tf.Tensor3D;
      const q = tf.slice(seq, [0, 0, 0], [B, 1, C]) as tf.Tensor3D;
      const { output, weights } = this.mhsa.forward(q, seq, seq);
      const pooled = tf.reshape(this.c_proj.forward(output), [B, -1]) as tf.Tensor2D;
      const w = tf.reshape(weights, [B, numHeads, H * W + 1]) as tf.Tensor3D;
      const attnMap = tf.reshape(tf.slice(w, [0, 0, 1], [B, numHeads, H * W]), [B, numHeads, H, W]) as tf.Tensor4D;
      return { pooled, weights: w, attnMap };
    });
  }
}
