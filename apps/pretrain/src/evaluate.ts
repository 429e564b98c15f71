/**
 * Validation during pretraining, on held-out pairs (eval mode):
 * - retrieval: image -> report and report -> image top-1/top-5 over the validation set
 *   (chance = 1/N), and for synthetic data the share of images whose top report describes the
 *   same set of findings (chance = that share under a random ranking);
 * - pseudo masks on findings (synthetic): IoU of the pseudo mask (the processor on the model's
 *   attention) with each finding's true mask, against a random mask of the same area drawn on
 *   the same attention grid (same number of cells), averaged per finding;
 * - how peaked the attention is (every source): the mean-of-heads attention over the h x w cells,
 *   renormalised to sum 1, as `peak` = h*w * its largest cell weight (1 = uniform) and `entropy`
 *   = its entropy / ln(h*w) (1 = uniform), averaged over the images. A pseudo mask is the top
 *   (1 - q) of this map: while the map is flat it is decided by small differences and carries
 *   little about where the findings are.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@g2d-ts/core';
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
  /** per finding: mean IoU of the pseudo mask with the true mask, of a random same-area mask, and the images counted */
  pseudoMaskIoU?: Record<string, { pseudo: number; random: number; n: number }>;
  /** how peaked the mean-of-heads attention over the cells is: peak (h*w * max weight) and normalised entropy, 1 = uniform for both */
  attention?: { peak: number; entropy: number; cells: number };
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

function key(findings: string[] | undefined): string {
  return [...(findings ?? [])].sort().join('|');
}

export async function validate(model: G2DModel, items: PairItem[], opts: { seed: number | string; batch?: number }): Promise<ValidationResult> {
  const B = opts.batch ?? 32;
  const N = items.length;
  const D = model.config.projection.out;
  const img = new Float32Array(N * D);
  const txt = new Float32Array(N * D);
  const S = model.config.imageSize;
  const iou: Record<string, { pseudo: number; random: number; n: number }> = {};
  const rng = new Rng(`${String(opts.seed)}/val-random-masks`);
  let attPeak = 0;
  let attEntropy = 0;
  let attCells = 0;
  for (let s = 0; s < N; s += B) {
    const part = items.slice(s, s + B);
    const images = await prepareImages(model, part);
    const e = model.encodeImage(images);
    img.set(e.dataSync(), s * D);
    e.dispose();
    const tok = tokenizeBatch(model.tokenizer, part.map((p) => p.text), model.config.text.maxLength, 'longest');
    const ids = tf.tensor2d(tok.inputIds, [part.length, tok.length], 'int32');
    const mask = tf.tensor2d(tok.attentionMask, [part.length, tok.length], 'int32');
    const te = model.encodeText({ inputIds: ids, attentionMask: mask });
    txt.set(te.dataSync(), s * D);
    tf.dispose([te, ids, mask]);
    const att = model.attentionMap(images); // [b, heads, h, w]
    const [b, , h, w] = att.shape;
    {
      const m = tf.tidy(() => {
        const a = tf.reshape(tf.mean(att, 1), [b, h * w]);
        return tf.div(a, tf.sum(a, 1, true));
      });
      const spread = attentionSpread(m.dataSync(), b, h * w);
      m.dispose();
      attPeak += spread.peak * b;
      attEntropy += spread.entropy * b;
      attCells = h * w;
    }
    if (part.some((p) => p.masks && p.findings?.length)) {
      const pm = model.pseudoMask(att, images); // [b, S, S, 1]
      const pmData = pm.dataSync();
      pm.dispose();
      part.forEach((p, k) => {
        if (!p.masks) return;
        const pseudo = pmData.subarray(k * S * S, (k + 1) * S * S);
        let area = 0;
        for (let i = 0; i < pseudo.length; i++) area += pseudo[i]! > 0.5 ? 1 : 0;
        const cells = Math.round((area / (S * S)) * h * w);
        for (const [name, m] of p.masks()) {
          const one = (pred: (i: number) => boolean) => {
            let inter = 0;
            let uni = 0;
            for (let i = 0; i < m.length; i++) {
              const a = pred(i);
              const b = m[i]! > 0;
              if (a && b) inter++;
              if (a || b) uni++;
            }
            return uni ? inter / uni : 1;
          };
          const pIoU = one((i) => pseudo[i]! > 0.5);
          // random mask of the same area on the same grid: `cells` random cells of h x w
          let rIoU = 0;
          const draws = 8;
          for (let d = 0; d < draws; d++) {
            const chosen = new Uint8Array(h * w);
            for (const c of rng.shuffle([...Array(h * w).keys()]).slice(0, cells)) chosen[c] = 1;
            const ch = S / h;
            const cw = S / w;
            rIoU += one((i) => chosen[Math.floor(Math.floor(i / S) / ch) * w + Math.floor((i % S) / cw)] === 1);
          }
          const r = (iou[name] ??= { pseudo: 0, random: 0, n: 0 });
          r.pseudo += pIoU;
          r.random += rIoU / draws;
          r.n += 1;
        }
      });
    }
    tf.dispose([att, images]);
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
  if (N > 0 && attCells > 0) summary.attention = { peak: attPeak / N, entropy: attEntropy / N, cells: attCells };
  if (Object.keys(iou).length) {
    summary.pseudoMaskIoU = Object.fromEntries(Object.entries(iou).sort().map(([k, v]) => [k, { pseudo: v.pseudo / v.n, random: v.random / v.n, n: v.n }]));
  }
  return { summary, similarity: sim, ids: items.map((p) => p.id) };
}
