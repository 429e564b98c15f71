/**
 * @g2d-ts/losses: the two G2D training losses as pure functions of tfjs tensors.
 *
 * - `clipLoss`: vision-language alignment (VLA). Reference: L2-normalise both embeddings,
 *   logits = similarity / temperature, cross-entropy image->text plus text->image (a sum);
 *   paper: the image->text direction only (`symmetric: false`). Top-1/top-5 in-batch
 *   retrieval accuracy in percent, the mean of both directions as the reference reports it.
 * - `bceDiceLoss`: pseudo segmentation (PS). Reference ('code'): dice computed on the raw
 *   logits (smooth 1e-5) per sample then averaged, plus 0.2 * BCE-with-logits when training;
 *   paper: 0.5 * (soft dice on sigmoid(logits) + BCE-with-logits).
 *
 * Every tensor op runs inside tf.tidy: only the returned tensors stay alive.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { requireFinite, requireTensor } from '@g2d-ts/nn';

export interface ClipLossOptions {
  /** logits = cosine similarity / temperature (default 0.07, fixed as in the reference) */
  temperature?: number;
  /** true (default, the reference): CE(image->text) + CE(text->image); false (the paper): image->text only */
  symmetric?: boolean;
  /**
   * Compute acc1/acc5 and the per-direction loss values as numbers (default true). This reads
   * the B x B logits back from the backend (a sync); false skips it and sets them to NaN.
   */
  metrics?: boolean;
  /** Check the inputs for NaN/infinite values (default true; reads them back from the backend). */
  validate?: boolean;
}

export interface ClipLossResult {
  /** the loss to minimise (scalar tensor, differentiable w.r.t. both embeddings) */
  loss: tf.Scalar;
  /** top-1 in-batch retrieval accuracy in percent (mean of both directions when symmetric) */
  acc1: number;
  /** top-5 accuracy in percent; with fewer than 5 candidates (B < 5) it is top-B, i.e. 100 */
  acc5: number;
  /** the named terms of the loss as numbers (NaN when `metrics: false`) */
  terms: { imageToText: number; textToImage: number | null };
}

const fmtShape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** `F.normalize(x, dim=-1)`: x / max(||x||_2, 1e-12) row-wise. */
export function l2Normalize(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), eps)));
}

/**
 * Rank of row i's own label among its candidates, ties broken towards the lower index
 * (what a stable descending top-k picks): #{j : s_j > s_i} + #{j < i : s_j == s_i}.
 */
function rankOfDiagonal(sim: Float32Array | Int32Array | Uint8Array, B: number, i: number, transpose: boolean): number {
  const at = (r: number, c: number) => (transpose ? sim[c * B + r]! : sim[r * B + c]!);
  const own = at(i, i);
  let rank = 0;
  for (let j = 0; j < B; j++) {
    const v = at(i, j);
    if (v > own || (v === own && j < i)) rank++;
  }
  return rank;
}

/** Top-k in-batch accuracy in percent (k clamped to B: every candidate then counts). */
function topkPercent(sim: Float32Array | Int32Array | Uint8Array, B: number, k: number, transpose: boolean): number {
  let hits = 0;
  for (let i = 0; i < B; i++) if (rankOfDiagonal(sim, B, i, transpose) < k) hits++;
  return (hits * 100) / B;
}

/**
 * The reference `clip_loss(x, y, temperature)` (G2D's VLA loss): `img` and `txt` are B x D
 * embeddings of the same B image/report pairs (row i of each is a positive pair).
 *
 * With B < 5 the reference's top-5 fails (torch.topk with k > B); here top-5 is then the
 * top-B accuracy, which is 100 (every candidate is within the top B). A batch of 1 gives
 * loss 0, acc1 100, acc5 100.
 */
export function clipLoss(img: tf.Tensor2D, txt: tf.Tensor2D, opts: ClipLossOptions = {}): ClipLossResult {
  const source = 'clipLoss';
  requireTensor(img, 'img', source);
  requireTensor(txt, 'txt', source);
  if (img.rank !== 2 || txt.rank !== 2) {
    throw new G2DError(`arguments "img" and "txt" must be B x D matrices, got ${fmtShape(img)} and ${fmtShape(txt)}`, { source });
  }
  if (img.shape[0] !== txt.shape[0] || img.shape[1] !== txt.shape[1]) {
    throw new G2DError(`arguments "img" ${fmtShape(img)} and "txt" ${fmtShape(txt)} must have the same shape (B pairs x D)`, { source });
  }
  if (img.shape[0] === 0 || img.shape[1] === 0) throw new G2DError(`arguments "img" and "txt" are empty ${fmtShape(img)}`, { source });
  const temperature = opts.temperature ?? 0.07;
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) {
    throw new G2DError(`option "temperature" must be a positive number, got ${JSON.stringify(temperature)}`, { source });
  }
  const symmetric = opts.symmetric ?? true;
  if (opts.validate ?? true) {
    requireFinite(img, 'img', source);
    requireFinite(txt, 'txt', source);
  }
  const B = img.shape[0];
  const metrics = opts.metrics ?? true;

  const out: { loss: tf.Scalar; i2t: tf.Scalar; t2i?: tf.Scalar; sim?: tf.Tensor2D } = tf.tidy(() => {
    const x = l2Normalize(img);
    const y = l2Normalize(txt);
    const logits = tf.div(tf.matMul(x, y, false, true), temperature) as tf.Tensor2D;
    const diag = tf.sum(tf.mul(logits, tf.eye(B)), 1);
    // cross-entropy with labels arange(B), via the (stable) log-sum-exp
    const i2t = tf.mean(tf.sub(tf.logSumExp(logits, 1), diag)) as tf.Scalar;
    const sim = metrics ? { sim: logits } : {};
    if (!symmetric) return { loss: tf.clone(i2t), i2t, ...sim };
    const t2i = tf.mean(tf.sub(tf.logSumExp(logits, 0), diag)) as tf.Scalar;
    return { loss: tf.add(i2t, t2i) as tf.Scalar, i2t, t2i, ...sim };
  });
  const { loss, i2t, t2i, sim } = out;

  let acc1 = NaN;
  let acc5 = NaN;
  let terms: ClipLossResult['terms'] = { imageToText: NaN, textToImage: symmetric ? NaN : null };
  if (metrics && sim) {
    const s = sim.dataSync();
    const k5 = Math.min(5, B);
    const a1 = topkPercent(s, B, 1, false);
    const a5 = topkPercent(s, B, k5, false);
    if (symmetric) {
      acc1 = (a1 + topkPercent(s, B, 1, true)) / 2;
      acc5 = (a5 + topkPercent(s, B, k5, true)) / 2;
    } else {
      acc1 = a1;
      acc5 = a5;
    }
    terms = { imageToText: i2t.dataSync()[0]!, textToImage: t2i ? t2i.dataSync()[0]! : null };
  }
  sim?.dispose();
  i2t.dispose();
  t2i?.dispose();
  return { loss, acc1, acc5, terms };
}

export interface BceDiceOptions {
  /** reference ('code') form: add 0.2 * BCE when true (default), dice only when false. Ignored by 'paper'. */
  train?: boolean;
  /** 'code' (default): the reference bceDiceLoss; 'paper': 0.5 * (soft dice on sigmoid + BCE) */
  variant?: 'code' | 'paper';
  /** dice smoothing term (default 1e-5, as the reference) */
  smooth?: number;
  /** Check the inputs for NaN/infinite values (default true; reads them back from the backend). */
  validate?: boolean;
}

export interface BceDiceTerms {
  /** the combined loss */
  loss: tf.Scalar;
  /** 1 - mean per-sample dice coefficient (on raw logits for 'code', on sigmoid for 'paper') */
  dice: tf.Scalar;
  /** mean BCE-with-logits over every element */
  bce: tf.Scalar;
}

/** BCE with logits, mean over elements: max(x, 0) - x t + log(1 + exp(-|x|)). */
function bceWithLogits(x: tf.Tensor, t: tf.Tensor): tf.Scalar {
  return tf.mean(tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))))) as tf.Scalar;
}

/**
 * The PS loss with its named terms (all three tensors are returned; dispose them or call
 * inside tf.tidy). `logits` and `target` have the same shape with the batch first; each
 * sample's dice is over all of its elements, so any layout with the batch first works.
 */
export function bceDiceTerms(logits: tf.Tensor, target: tf.Tensor, opts: BceDiceOptions = {}): BceDiceTerms {
  const source = 'bceDiceLoss';
  requireTensor(logits, 'logits', source);
  requireTensor(target, 'target', source);
  if (logits.rank < 1 || logits.shape.some((d) => d === 0)) {
    throw new G2DError(`argument "logits" must be a non-empty tensor with the batch first, got ${fmtShape(logits)}`, { source });
  }
  if (logits.shape.length !== target.shape.length || logits.shape.some((d, i) => d !== target.shape[i])) {
    throw new G2DError(`arguments "logits" ${fmtShape(logits)} and "target" ${fmtShape(target)} must have the same shape`, { source });
  }
  const variant = opts.variant ?? 'code';
  if (variant !== 'code' && variant !== 'paper') {
    throw new G2DError(`option "variant" must be 'code' or 'paper', got ${JSON.stringify(variant)}`, { source });
  }
  const smooth = opts.smooth ?? 1e-5;
  if (typeof smooth !== 'number' || !(smooth >= 0)) {
    throw new G2DError(`option "smooth" must be a non-negative number, got ${JSON.stringify(smooth)}`, { source });
  }
  if (opts.validate ?? true) {
    requireFinite(logits, 'logits', source);
    requireFinite(target, 'target', source);
  }
  const train = opts.train ?? true;
  const B = logits.shape[0]!;
  return tf.tidy(() => {
    const x = tf.cast(logits, 'float32');
    const t = tf.cast(target, 'float32');
    const bce = bceWithLogits(x, t);
    const p = variant === 'paper' ? tf.sigmoid(x) : x; // the reference's dice uses raw logits
    const pf = tf.reshape(p, [B, -1]);
    const tfl = tf.reshape(t, [B, -1]);
    const inter = tf.sum(tf.mul(pf, tfl), 1);
    const coef = tf.div(tf.add(tf.mul(inter, 2), smooth), tf.add(tf.add(tf.sum(pf, 1), tf.sum(tfl, 1)), smooth));
    const dice = tf.sub(1, tf.mean(coef)) as tf.Scalar;
    let loss: tf.Scalar;
    if (variant === 'paper') loss = tf.mul(0.5, tf.add(dice, bce)) as tf.Scalar;
    else loss = train ? (tf.add(dice, tf.mul(0.2, bce)) as tf.Scalar) : (tf.clone(dice) as tf.Scalar);
    return { loss, dice, bce };
  });
}

/**
 * The PS loss as a scalar tensor. 'code' (default) = the reference `bceDiceLoss(pred,
 * target, train)`: `1 - mean_b (2 sum(x t) + s) / (sum(x) + sum(t) + s)` on the raw logits x
 * (smooth s = 1e-5), `+ 0.2 * BCEWithLogits` when `train`. Because the reference's dice uses
 * raw logits, an empty target with logits summing to about -s divides by ~0 (the reference
 * does the same). 'paper' = `0.5 * (softDice(sigmoid(x)) + BCEWithLogits)`, train or not.
 */
export function bceDiceLoss(logits: tf.Tensor, target: tf.Tensor, opts: BceDiceOptions = {}): tf.Scalar {
  const { loss, dice, bce } = bceDiceTerms(logits, target, opts);
  dice.dispose();
  bce.dispose();
  return loss;
}
