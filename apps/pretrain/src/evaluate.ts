/**
 * Validation during pretraining, on held-out pairs (eval mode):
 * - retrieval: image -> report and report -> image top-1/top-5 over the validation set
 *   (chance = 1/N), and for synthetic data the share of images whose top report describes the
 *   same set of findings (chance = that share under a random ranking);
 * - pseudo masks on findings (synthetic): IoU of the pseudo mask (the processor on the model's
 *   attention) with each finding's true mask, averaged per finding, against two baselines: a
 *   random mask of the same area drawn on the same attention grid (same number of cells), and
 *   the pseudo masks of other validation images (what a fixed location prior, e.g. attention
 *   that always sits on the heart, scores without looking at this image);
 * - how peaked the attention is (every source): the mean-of-heads attention over the h x w cells,
 *   renormalised to sum 1, as `peak` = h*w * its largest cell weight (1 = uniform) and `entropy`
 *   = its entropy / ln(h*w) (1 = uniform), averaged over the images. A pseudo mask is the top
 *   (1 - q) of this map: while the map is flat it is decided by small differences and carries
 *   little about where the findings are.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { maskIou } from '@g2d-ts/metrics';
import type { G2DModel } from '@g2d-ts/model';
import { evalTransform, tokenizeBatch, type PairItem } from './data';

export interface ValidationSummary {
  n: number;
  i2tTop1: number;
  i2tTop5: number;
  t2iTop1: number;
  chance: number;
  findingsMatchTop1?: number;
  findingsMatchChance?: number;
  /** per finding: mean IoU with the true mask of the pseudo mask, of a random same-area mask, of other images' pseudo masks; the images counted */
  pseudoMaskIoU?: Record<string, StoredPseudoMaskScore>;
  /** pooled over the images with any finding: the pseudo mask against the union of the image's finding masks */
  pseudoMaskAny?: StoredPseudoMaskScore;
  /** how peaked the mean-of-heads attention over the cells is: peak (h*w * max weight) and normalised entropy, 1 = uniform for both */
  attention?: {
    peak: number;
    entropy: number;
    cells: number;
    /** images it was measured on (absent in older runs: the retrieval pairs) */
    n?: number;
    /** the mean over the images of the renormalised map, times the cells (1 = uniform), h rows of w: where the attention sits on average (a location prior shows here) */
    mean?: number[][];
  };
}

export interface ValidationResult {
  summary: ValidationSummary;
  /** similarity matrix rows (image i vs report j), for retrieval examples */
  similarity: Float32Array;
  ids: string[];
}

export async function prepareImages(model: G2DModel, items: PairItem[]): Promise<tf.Tensor4D> {
  const S = model.config.imageSize;
  const t = evalTransform({ mean: model.config.preprocessing.mean, std: model.config.preprocessing.std });
  const buf = new Float32Array(items.length * S * S * 3);
  for (const [k, it] of items.entries()) {
    const gray = await it.load();
    buf.set(t({ image: { width: S, height: S, channels: 1, data: gray } }, new Rng(0)).image.data, k * S * S * 3);
  }
  return tf.tensor4d(buf, [items.length, S, S, 3]);
}

/**
 * How peaked `b` attention maps of `cells` weights each (rows summing to 1) are, averaged over
 * the maps: `peak` = cells * max weight, `entropy` = entropy / ln(cells); 1 and 1 when uniform,
 * `cells` and 0 when all weight is on one cell.
 */
export function attentionSpread(weights: ArrayLike<number>, b: number, cells: number): { peak: number; entropy: number } {
  let peak = 0;
  let entropy = 0;
  for (let k = 0; k < b; k++) {
    let mx = 0;
    let ent = 0;
    for (let c = 0; c < cells; c++) {
      const v = weights[k * cells + c]!;
      if (v > mx) mx = v;
      if (v > 0) ent -= v * Math.log(v);
    }
    peak += mx * cells;
    entropy += cells > 1 ? ent / Math.log(cells) : 1;
  }
  return { peak: peak / b, entropy: entropy / b };
}

export interface PseudoMaskScore {
  /** mean IoU of the image's own pseudo mask with the true finding mask */
  pseudo: number;
  /** mean IoU of a random mask with as many attention cells as the pseudo mask */
  random: number;
  /** mean IoU of other images' pseudo masks with this image's finding mask (a location prior) */
  other: number;
  /** images with this finding */
  n: number;
  /** 95 % bootstrap interval (over the images) of the mean of own IoU - random-mask IoU */
  ciRandom: [number, number];
  /** 95 % bootstrap interval of the mean of own IoU - other images' masks IoU */
  ciOther: [number, number];
  /** share of the images whose own IoU exceeds their random masks' mean IoU */
  winRandom: number;
}

/** A score as read back from val.jsonl: runs written before a field existed lack it. */
export type StoredPseudoMaskScore = Pick<PseudoMaskScore, 'pseudo' | 'random' | 'n'> & Partial<Omit<PseudoMaskScore, 'pseudo' | 'random' | 'n'>>;

/**
 * Percentile bootstrap interval (95 %) of the mean of `d`, `resamples` resamples drawn with `rng`;
 * [mean, mean] for fewer than 2 values.
 */
export function bootstrapMeanCI(d: readonly number[], rng: Rng, resamples = 2000): [number, number] {
  const n = d.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const m = d.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return [m, m];
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += d[rng.int(n)]!;
    means[r] = s / n;
  }
  means.sort();
  const at = (p: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(p * (resamples - 1))))]!;
  return [at(0.025), at(0.975)];
}

/**
 * Per finding, over the images that have it: mean IoU of the image's pseudo mask with the true
 * finding mask; of `draws` (default 64) random masks of as many cells of the h x w attention
 * grid as the pseudo mask covers; and of the pseudo masks of up to `others` (default 64) other
 * images (drawn at random; every other image when there are fewer).
 *
 * @param pseudo per image, its pseudo mask (S x S, 0/1, row-major)
 * @param truth per image, its finding masks by name (S x S, 0/1), or undefined
 */
export function scorePseudoMasks(
  pseudo: Uint8Array[],
  truth: (Map<string, Uint8Array> | undefined)[],
  grid: { h: number; w: number; size: number },
  rng: Rng,
  opts: { draws?: number; others?: number } = {},
): Record<string, PseudoMaskScore> {
  const { h, w, size: S } = grid;
  const draws = opts.draws ?? 64;
  const others = opts.others ?? 64;
  if (pseudo.length !== truth.length) throw new G2DError(`scorePseudoMasks: ${pseudo.length} pseudo masks but ${truth.length} truth entries`);
  if (S % h !== 0 || S % w !== 0) throw new G2DError(`scorePseudoMasks: size ${S} is not a multiple of the ${h} x ${w} grid`);
  for (const [k, m] of pseudo.entries()) if (m.length !== S * S) throw new G2DError(`scorePseudoMasks: pseudo mask ${k} has ${m.length} pixels, expected ${S} x ${S}`);
  const out: Record<string, { pseudo: number; random: number; other: number; n: number; dRandom: number[]; dOther: number[]; wins: number }> = {};
  const cellOf = new Int32Array(S * S);
  for (let i = 0; i < S * S; i++) cellOf[i] = Math.floor(Math.floor(i / S) / (S / h)) * w + Math.floor((i % S) / (S / w));
  const random = new Uint8Array(S * S);
  truth.forEach((masks, k) => {
    if (!masks || !masks.size) return;
    const own = pseudo[k]!;
    let area = 0;
    for (let i = 0; i < own.length; i++) area += own[i]!;
    const cells = Math.round((area / (S * S)) * h * w);
    const rest = [...pseudo.keys()].filter((j) => j !== k);
    const picked = rest.length > others ? rng.shuffle(rest).slice(0, others) : rest;
    for (const [name, m] of masks) {
      if (m.length !== S * S) throw new G2DError(`scorePseudoMasks: mask "${name}" of image ${k} has ${m.length} pixels, expected ${S} x ${S}`);
      let r = 0;
      for (let d = 0; d < draws; d++) {
        const chosen = new Uint8Array(h * w);
        for (const c of rng.shuffle([...Array(h * w).keys()]).slice(0, cells)) chosen[c] = 1;
        for (let i = 0; i < S * S; i++) random[i] = chosen[cellOf[i]!]!;
        r += maskIou(random, m);
      }
      let o = 0;
      for (const j of picked) o += maskIou(pseudo[j]!, m);
      const e = (out[name] ??= { pseudo: 0, random: 0, other: 0, n: 0, dRandom: [], dOther: [], wins: 0 });
      const p = maskIou(own, m);
      const rm = draws ? r / draws : 0;
      const om = picked.length ? o / picked.length : 0;
      e.pseudo += p;
      e.random += rm;
      e.other += om;
      e.n += 1;
      e.dRandom.push(p - rm);
      e.dOther.push(p - om);
      if (p > rm) e.wins++;
    }
  });
  return Object.fromEntries(
    Object.entries(out)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [
        k,
        { pseudo: v.pseudo / v.n, random: v.random / v.n, other: v.other / v.n, n: v.n, ciRandom: bootstrapMeanCI(v.dRandom, rng), ciOther: bootstrapMeanCI(v.dOther, rng), winRandom: v.wins / v.n },
      ]),
  );
}

/**
 * The same scores pooled over the images with any finding: each image's pseudo mask against the
 * union of its finding masks ("the finding mask" of an image with several findings).
 */
export function scorePseudoMasksAny(
  pseudo: Uint8Array[],
  truth: (Map<string, Uint8Array> | undefined)[],
  grid: { h: number; w: number; size: number },
  rng: Rng,
  opts: { draws?: number; others?: number } = {},
): PseudoMaskScore | undefined {
  const union = truth.map((masks, k) => {
    if (!masks || !masks.size) return undefined;
    const u = new Uint8Array(grid.size * grid.size);
    for (const [name, m] of masks) {
      if (m.length !== u.length) throw new G2DError(`scorePseudoMasksAny: mask "${name}" of image ${k} has ${m.length} pixels, expected ${grid.size} x ${grid.size}`);
      for (let i = 0; i < u.length; i++) if (m[i]) u[i] = 1;
    }
    return new Map([['any', u]]);
  });
  return scorePseudoMasks(pseudo, union, grid, rng, opts).any;
}

function key(findings: string[] | undefined): string {
  return [...(findings ?? [])].sort().join('|');
}

/**
 * Validation on held-out pairs, in one pass over the first max(retrieval, masks) of `val` (one
 * image forward per batch gives both the embeddings and the attention): retrieval over the first
 * `retrieval` pairs (default: all); the attention spread and the pseudo-mask scores over the first
 * `masks` images (default: the retrieval pairs; 0: none). The mask scores may use more images than
 * retrieval: the per-finding scores need many images with each finding, while retrieval's chance
 * level depends on its set size.
 */
export async function validate(
  model: G2DModel,
  val: PairItem[],
  opts: { seed: number | string; batch?: number; retrieval?: number; masks?: number },
): Promise<ValidationResult> {
  const B = opts.batch ?? 32;
  const N = Math.min(opts.retrieval ?? val.length, val.length);
  const M = Math.min(opts.masks ?? N, val.length);
  const items = val.slice(0, N);
  const D = model.config.projection.out;
  const img = new Float32Array(N * D);
  const txt = new Float32Array(N * D);
  const S = model.config.imageSize;
  const withMasks = val.slice(0, M).some((p) => p.masks && p.findings?.length);
  const pseudo: Uint8Array[] = [];
  const truth: (Map<string, Uint8Array> | undefined)[] = [];
  let grid: { h: number; w: number; size: number } | undefined;
  let attPeak = 0;
  let attEntropy = 0;
  let attSum: Float64Array | undefined;
  let attShape: [number, number] = [0, 0];
  for (let s = 0; s < Math.max(N, M); s += B) {
    const part = val.slice(s, s + B);
    const images = await prepareImages(model, part);
    const { embedding, attention: att } = model.encodeImageWithAttention(images); // [b, D], [b, heads, h, w]
    const forRetrieval = part.slice(0, Math.max(0, N - s));
    if (forRetrieval.length) {
      img.set(embedding.dataSync().subarray(0, forRetrieval.length * D), s * D);
      const tok = tokenizeBatch(model.tokenizer, forRetrieval.map((p) => p.text), model.config.text.maxLength, 'longest');
      const ids = tf.tensor2d(tok.inputIds, [forRetrieval.length, tok.length], 'int32');
      const mask = tf.tensor2d(tok.attentionMask, [forRetrieval.length, tok.length], 'int32');
      const te = model.encodeText({ inputIds: ids, attentionMask: mask });
      txt.set(te.dataSync(), s * D);
      tf.dispose([te, ids, mask]);
    }
    const forMasks = part.slice(0, Math.max(0, M - s));
    if (forMasks.length) {
      const [b, , h, w] = att.shape;
      const m = tf.tidy(() => {
        const a = tf.reshape(tf.mean(att, 1), [b, h * w]);
        return tf.div(a, tf.sum(a, 1, true));
      });
      const md = m.dataSync().subarray(0, forMasks.length * h * w);
      m.dispose();
      const spread = attentionSpread(md, forMasks.length, h * w);
      attPeak += spread.peak * forMasks.length;
      attEntropy += spread.entropy * forMasks.length;
      attSum ??= new Float64Array(h * w);
      attShape = [h, w];
      for (let k = 0; k < md.length; k++) attSum[k % (h * w)] += md[k]!;
      if (withMasks) {
        const pm = model.pseudoMask(att, images); // [b, S, S, 1]
        const pmData = pm.dataSync();
        pm.dispose();
        forMasks.forEach((p, k) => {
          const own = new Uint8Array(S * S);
          const src = pmData.subarray(k * S * S, (k + 1) * S * S);
          for (let i = 0; i < own.length; i++) own[i] = src[i]! > 0.5 ? 1 : 0;
          pseudo.push(own);
          truth.push(p.masks && p.findings?.length ? p.masks() : undefined);
        });
        grid = { h, w, size: S };
      }
    }
    tf.dispose([embedding, att, images]);
  }
  // similarity and retrieval
  const sim = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let d = 0;
      for (let k = 0; k < D; k++) d += img[i * D + k]! * txt[j * D + k]!;
      sim[i * N + j] = d;
    }
  }
  const rank = (row: (j: number) => number, truth: number) => {
    const v = row(truth);
    let higher = 0;
    for (let j = 0; j < N; j++) if (row(j) > v) higher++;
    return higher;
  };
  let i2t1 = 0;
  let i2t5 = 0;
  let t2i1 = 0;
  let fm = 0;
  let fmChance = 0;
  const synthetic = items.every((p) => p.findings !== undefined);
  for (let i = 0; i < N; i++) {
    const r = rank((j) => sim[i * N + j]!, i);
    if (r === 0) i2t1++;
    if (r < 5) i2t5++;
    if (rank((j) => sim[j * N + i]!, i) === 0) t2i1++;
    if (synthetic) {
      let best = 0;
      for (let j = 1; j < N; j++) if (sim[i * N + j]! > sim[i * N + best]!) best = j;
      if (key(items[best]!.findings) === key(items[i]!.findings)) fm++;
      let same = 0;
      for (let j = 0; j < N; j++) if (key(items[j]!.findings) === key(items[i]!.findings)) same++;
      fmChance += same / N;
    }
  }
  const summary: ValidationSummary = { n: N, i2tTop1: i2t1 / N, i2tTop5: i2t5 / N, t2iTop1: t2i1 / N, chance: 1 / N };
  if (synthetic) {
    summary.findingsMatchTop1 = fm / N;
    summary.findingsMatchChance = fmChance / N;
  }
  if (M > 0 && attSum) {
    const [h, w] = attShape;
    const cells = h * w;
    const mean = Array.from({ length: h }, (_, r) => Array.from({ length: w }, (_, c) => (attSum![r * w + c]! / M) * cells));
    summary.attention = { peak: attPeak / M, entropy: attEntropy / M, cells, n: M, mean };
  }
  if (withMasks && grid) {
    const scores = scorePseudoMasks(pseudo, truth, grid, new Rng(`${String(opts.seed)}/val-random-masks`));
    if (Object.keys(scores).length) summary.pseudoMaskIoU = scores;
    const any = scorePseudoMasksAny(pseudo, truth, grid, new Rng(`${String(opts.seed)}/val-random-masks-any`));
    if (any) summary.pseudoMaskAny = any;
  }
  return { summary, similarity: sim, ids: items.map((p) => p.id) };
}
