/**
 * What the explorer computes for one image, with the packages that define it (no
 * re-implementation): the evaluation apps' preprocessing (@g2d-ts/data's reference
 * preprocessing to `imageSize`², grey -> 3 channels, the model's mean/std), the model's
 * attention maps, pseudo masks from @g2d-ts/pseudo-mask, the decoder's segmentation, text-to-patch
 * grounding (cosine of the prompt's embedding and `patchEmbeddings`), zero-shot scores from
 * @g2d-ts/heads' `ZeroShotClassifier` and the image–report retrieval score. Every function
 * reads tensors back asynchronously (no pipeline stall on WebGL/WebGPU) and disposes what it made.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { nonZeroBBox, referencePreprocess, type GrayImage } from '@g2d-ts/data/browser';
import { ZeroShotClassifier, type PromptSet } from '@g2d-ts/heads';
import type { G2DModel } from '@g2d-ts/model';
import { attentionToPseudoMask } from '@g2d-ts/pseudo-mask';
import type { BertTokenizer } from '@g2d-ts/text';

export interface PreparedImage {
  /** model input side S (config.imageSize) */
  size: number;
  /** the preprocessed grey image, S*S uint8 */
  gray: Uint8Array;
  /** [1, S, S, 3] normalised model input (owned: dispose with `disposePrepared`) */
  input: tf.Tensor4D;
  /** the region of the original image the model sees (the preprocessing's crop to non-zero pixels), original pixels */
  roi: { x: number; y: number; w: number; h: number };
}

/** The evaluation preprocessing of `img` for `model` (crop to non-zero, min-max, resize to S², normalise). */
export function prepareImage(img: GrayImage, model: G2DModel, source = '<image>'): PreparedImage {
  const cfg = model.config;
  const S = cfg.imageSize;
  const bb = nonZeroBBox(img);
  if (!bb) throw new G2DError('image is entirely zero: nothing to look at', { source });
  const gray = referencePreprocess(img, { size: S, variant: cfg.preprocessing.variant, source });
  const [m0, m1, m2] = cfg.preprocessing.mean;
  const [s0, s1, s2] = cfg.preprocessing.std;
  const a = [1 / (255 * s0), 1 / (255 * s1), 1 / (255 * s2)];
  const b = [-m0 / s0, -m1 / s1, -m2 / s2];
  const buf = new Float32Array(S * S * 3);
  for (let i = 0, o = 0; i < S * S; i++) {
    const v = gray[i]!;
    buf[o++] = v * a[0]! + b[0]!;
    buf[o++] = v * a[1]! + b[1]!;
    buf[o++] = v * a[2]! + b[2]!;
  }
  const [y0, y1, x0, x1] = bb;
  return { size: S, gray, input: tf.tensor4d(buf, [1, S, S, 3]), roi: { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 } };
}

export function disposePrepared(p: PreparedImage | undefined): void {
  p?.input.dispose();
}

export interface AttentionMaps {
  heads: Float32Array[];
  mean: Float32Array;
  h: number;
  w: number;
}

/** Per-head attention of the mean-token query over the bottleneck cells, and their mean. */
export async function attentionMaps(model: G2DModel, p: PreparedImage): Promise<AttentionMaps> {
  const att = model.attentionMap(p.input);
  try {
    const [, H, h, w] = att.shape;
    const data = (await att.data()) as Float32Array;
    const n = h * w;
    const heads = Array.from({ length: H }, (_, k) => data.slice(k * n, (k + 1) * n));
    const mean = new Float32Array(n);
    for (const m of heads) for (let i = 0; i < n; i++) mean[i] = mean[i]! + m[i]! / H;
    return { heads, mean, h, w };
  } finally {
    att.dispose();
  }
}

export interface PseudoMaskOptions {
  mode: 'code' | 'paper';
  /** threshold quantile in (0, 1) */
  quantile: number;
}

/** The pseudo mask (S*S, 0/1) the PS task would train on: @g2d-ts/pseudo-mask on the mean attention. */
export async function pseudoMask(model: G2DModel, p: PreparedImage, opts: PseudoMaskOptions): Promise<Uint8Array> {
  if (!(opts.quantile > 0 && opts.quantile < 1)) throw new G2DError(`pseudo mask: quantile must be in (0, 1), got ${opts.quantile}`);
  const att = model.attentionMap(p.input);
  let mask: tf.Tensor4D | undefined;
  try {
    mask = attentionToPseudoMask(att, {
      mode: opts.mode,
      numMaps: 1,
      threshold: 'quantile',
      quantile: opts.quantile,
      size: [p.size, p.size],
      ...(opts.mode === 'paper' ? { image: p.input, imageLayout: 'NHWC' as const } : {}),
    });
    const d = await mask.data();
    const out = new Uint8Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = d[i]! > 0 ? 1 : 0;
    return out;
  } finally {
    att.dispose();
    mask?.dispose();
  }
}

/** The pretrained decoder's output as probabilities (sigmoid of the segmentation logits), S*S. */
export async function decoderMap(model: G2DModel, p: PreparedImage): Promise<Float32Array> {
  const logits = model.segment(p.input);
  const prob = tf.sigmoid(logits);
  try {
    return (await prob.data()) as Float32Array;
  } finally {
    logits.dispose();
    prob.dispose();
  }
}

/** L2-normalised report embeddings [B, D] through the model's text tower (eval tokenisation: pad to the longest). */
export function encodeTexts(model: G2DModel, tok: BertTokenizer, texts: string[]): tf.Tensor2D {
  const enc = tok.encodeBatchTensors(texts, { padding: 'longest', maxLength: model.config.text.maxLength, truncation: true });
  try {
    return model.encodeText({ inputIds: enc.inputIds as tf.Tensor2D, attentionMask: enc.attentionMask as tf.Tensor2D });
  } finally {
    enc.inputIds.dispose();
    enc.attentionMask.dispose();
    enc.tokenTypeIds.dispose();
  }
}

export interface Grounding {
  /** cosine similarity of the prompt and each bottleneck cell, h*w */
  map: Float32Array;
  h: number;
  w: number;
  min: number;
  max: number;
}

/** Text-to-patch grounding: cosine of the prompt's embedding and every projected bottleneck cell. */
export async function grounding(model: G2DModel, tok: BertTokenizer, p: PreparedImage, prompt: string): Promise<Grounding> {
  const text = prompt.trim();
  if (!text) throw new G2DError('grounding: type a finding first');
  const t = encodeTexts(model, tok, [text]);
  const patches = model.patchEmbeddings(p.input);
  const sim = tf.tidy(() => tf.sum(tf.mul(patches, tf.reshape(t, [1, 1, 1, t.shape[1]])), -1));
  try {
    const [, h, w] = sim.shape as [number, number, number];
    const map = (await sim.data()) as Float32Array;
    let min = Infinity;
    let max = -Infinity;
    for (const v of map) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { map, h, w, min, max };
  } finally {
    t.dispose();
    patches.dispose();
    sim.dispose();
  }
}

/** Zero-shot classifier of a prompt set with this model's text tower (build once per model and set). */
export function zeroShotClassifier(model: G2DModel, tok: BertTokenizer, prompts: PromptSet): ZeroShotClassifier {
  return ZeroShotClassifier.fromPrompts({ encodeText: (texts: string[]) => encodeTexts(model, tok, texts) }, prompts);
}

/** L2-normalised image embedding [1, D] (owned by the caller). */
export function imageEmbedding(model: G2DModel, p: PreparedImage): tf.Tensor2D {
  return model.encodeImage(p.input);
}

/** p(class) for each class of the classifier, sorted from the highest. */
export async function zeroShotScores(clf: ZeroShotClassifier, image: tf.Tensor2D): Promise<{ label: string; p: number }[]> {
  const probs = clf.forward(image);
  try {
    const d = await probs.data();
    return clf.classes.map((label, i) => ({ label, p: d[i]! })).sort((a, b) => b.p - a.p);
  } finally {
    probs.dispose();
  }
}

/** The retrieval score of a report for the image: cosine of the two embeddings (both L2-normalised). */
export async function retrievalScore(model: G2DModel, tok: BertTokenizer, image: tf.Tensor2D, report: string): Promise<number> {
  const text = report.trim();
  if (!text) throw new G2DError('retrieval: the report is empty');
  const t = encodeTexts(model, tok, [text]);
  const cos = tf.tidy(() => tf.sum(tf.mul(image, t)));
  try {
    return (await cos.data())[0]!;
  } finally {
    t.dispose();
    cos.dispose();
  }
}
