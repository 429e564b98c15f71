/**
 * `ZeroShotClassifier`: zero-shot classification from positive / negative prompt pairs
 * (MedKLIP / CheXzero style). Each class's prompts are embedded once with the model's text
 * encoder, averaged per side and L2-normalised; an image embedding scores
 *
 *   p(class) = softmax([sim(img, pos), sim(img, neg)] / temperature)[0]
 *
 * (cosine similarities; `temperature` 1 by default, as MedKLIP; 0.07 gives the pretraining
 * logit scale). The prompt embeddings are buffers (`positive` [C, D], `negative` [C, D]), so
 * the head saves and loads like any Module.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { Module } from '@g2d-ts/nn';
import type { PromptSet } from './prompts';

/** Anything that embeds report text into the joint space (a G2D model's `encodeText`). */
export interface TextEncoder {
  encodeText(texts: string[]): tf.Tensor2D;
}

export interface ZeroShotOptions {
  /** softmax temperature over (positive, negative) similarities (default 1) */
  temperature?: number;
}

function meanNormalized(e: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const m = tf.mean(e, 0);
    return tf.div(m, tf.maximum(tf.norm(m), 1e-12)) as tf.Tensor1D;
  });
}

export class ZeroShotClassifier extends Module {
  readonly classes: string[];
  readonly prompts: PromptSet;
  readonly temperature: number;
  readonly positive: tf.Variable;
  readonly negative: tf.Variable;

  /** Builds from prompt embeddings already computed ([C, D] each, L2-normalised rows). */
  constructor(classes: readonly string[], prompts: PromptSet, positive: tf.Tensor2D, negative: tf.Tensor2D, opts: ZeroShotOptions = {}) {
    super();
    const C = classes.length;
    if (C === 0) throw new G2DError('ZeroShotClassifier: no classes');
    if (positive.rank !== 2 || negative.rank !== 2 || positive.shape[0] !== C || negative.shape[0] !== C || positive.shape[1] !== negative.shape[1]) {
      throw new G2DError(`ZeroShotClassifier: prompt embeddings must be [${C}, D] each, got [${positive.shape.join(', ')}] and [${negative.shape.join(', ')}]`);
    }
    const t = opts.temperature ?? 1;
    if (!(t > 0) || !Number.isFinite(t)) throw new G2DError(`ZeroShotClassifier: "temperature" must be > 0, got ${t}`);
    this.classes = [...classes];
    this.prompts = prompts;
    this.temperature = t;
    this.positive = this.addBuffer('positive', positive);
    this.negative = this.addBuffer('negative', negative);
  }

  /** Embeds every class's prompts with `encoder` (eval mode) and builds the head. */
  static fromPrompts(encoder: TextEncoder, prompts: PromptSet, classes: readonly string[] = Object.keys(prompts), opts: ZeroShotOptions = {}): ZeroShotClassifier {
    if (!encoder || typeof encoder.encodeText !== 'function') throw new G2DError('ZeroShotClassifier.fromPrompts: "encoder" must have encodeText(texts) (a G2D model)');
    const pos: tf.Tensor1D[] = [];
    const neg: tf.Tensor1D[] = [];
    try {
      for (const c of classes) {
        const p = prompts[c];
        if (!p || !p.positive?.length || !p.negative?.length) throw new G2DError(`ZeroShotClassifier.fromPrompts: class "${c}" needs at least one positive and one negative prompt`);
        for (const [side, list] of [[pos, p.positive], [neg, p.negative]] as const) {
          const e = encoder.encodeText(list);
          side.push(meanNormalized(e));
          e.dispose();
        }
      }
      const P = tf.stack(pos) as tf.Tensor2D;
      const N = tf.stack(neg) as tf.Tensor2D;
      return new ZeroShotClassifier(classes, prompts, P, N, opts);
    } finally {
      [...pos, ...neg].forEach((t) => t.dispose());
    }
  }

  /** Cosine similarities [B, C] of L2-normalised image embeddings to the positive and negative prompts. */
  similarities(imageEmbeddings: tf.Tensor2D): { positive: tf.Tensor2D; negative: tf.Tensor2D } {
    const D = this.positive.shape[1]!;
    if (!(imageEmbeddings instanceof tf.Tensor) || imageEmbeddings.rank !== 2 || imageEmbeddings.shape[1] !== D) {
      throw new G2DError(`ZeroShotClassifier: image embeddings must be [B, ${D}], got ${imageEmbeddings instanceof tf.Tensor ? `[${imageEmbeddings.shape.join(', ')}]` : typeof imageEmbeddings}`);
    }
    return tf.tidy(() => {
      const x = tf.div(imageEmbeddings, tf.maximum(tf.norm(imageEmbeddings, 'euclidean', 1, true), 1e-12));
      return { positive: tf.matMul(x, this.positive, false, true) as tf.Tensor2D, negative: tf.matMul(x, this.negative, false, true) as tf.Tensor2D };
    });
  }

  /** image embeddings [B, D] -> p(class) [B, C] (see the module comment). */
  forward(imageEmbeddings: tf.Tensor2D): tf.Tensor2D {
    const s = this.similarities(imageEmbeddings);
    try {
      // softmax over two logits = sigmoid of their difference
      return tf.tidy(() => tf.sigmoid(tf.div(tf.sub(s.positive, s.negative), this.temperature)) as tf.Tensor2D);
    } finally {
      s.positive.dispose();
      s.negative.dispose();
    }
  }
}
