/** clipLoss: hand-worked values, invariances, edge cases and errors. */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { clipLoss, l2Normalize } from '../src';

/** Plain-JS reference of the symmetric loss (float64), for cross-checking. */
function jsClip(x: number[][], y: number[][], T: number) {
  const norm = (v: number[]) => {
    const n = Math.max(Math.hypot(...v), 1e-12);
    return v.map((a) => a / n);
  };
  const X = x.map(norm);
  const Y = y.map(norm);
  const B = X.length;
  const s = X.map((a) => Y.map((b) => a.reduce((acc, ai, k) => acc + ai * b[k]!, 0) / T));
  const ce = (rows: number[][]) =>
    rows.reduce((acc, r, i) => {
      const m = Math.max(...r);
      return acc + m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0)) - r[i]!;
    }, 0) / B;
  const sT = s[0]!.map((_, j) => s.map((r) => r[j]!));
  return { i2t: ce(s), t2i: ce(sT) };
}

describeBackends('clipLoss', ({ rtol, atol }) => {
  it('hand-worked: orthogonal unit pairs give 2 * log(1 + exp(-1/T)) and 100% accuracy', () => {
    const x = tf.tensor2d([[1, 0], [0, 1]]);
    const r = clipLoss(x, x, { temperature: 0.5 });
    expectArraysClose(r.loss, [2 * Math.log1p(Math.exp(-1 / 0.5))], { rtol, atol: 1e-7 });
    expect(r.acc1).toBe(100);
    expect(r.acc5).toBe(100);
    tf.dispose([x, r.loss]);
  });

  it('matches a plain float64 implementation on random embeddings (both directions)', () => {
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const y = tf.randomNormal([6, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
    const ref = jsClip(x.arraySync(), y.arraySync(), 0.1);
    const r = clipLoss(x, y, { temperature: 0.1 });
    expectArraysClose(r.loss, [ref.i2t + ref.t2i], { rtol, atol });
    expectArraysClose([r.terms.imageToText, r.terms.textToImage!], [ref.i2t, ref.t2i], { rtol, atol });
    const one = clipLoss(x, y, { temperature: 0.1, symmetric: false });
    expectArraysClose(one.loss, [ref.i2t], { rtol, atol });
    expect(one.terms.textToImage).toBeNull();
    tf.dispose([x, y, r.loss, one.loss]);
  });

  it('is invariant to the scale of each embedding (L2 normalisation)', () => {
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 3) as tf.Tensor2D;
    const y = tf.randomNormal([4, 8], 0, 1, 'float32', 4) as tf.Tensor2D;
    const scale = tf.tensor2d([[3], [0.01], [100], [1]]);
    const a = clipLoss(x, y);
    const xs = tf.mul(x, scale) as tf.Tensor2D;
    const b = clipLoss(xs, y);
    expectArraysClose(b.loss, a.loss, { rtol, atol });
    expect(b.acc1).toBe(a.acc1);
    tf.dispose([x, y, scale, xs, a.loss, b.loss]);
  });

  it('accuracy: in-batch retrieval in percent, mean of both directions', () => {
    // image i matches text i for i = 0, 1; images 2 and 3 both point at text 0
    const img = tf.tensor2d([[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0.1, 0], [1, 0, 0, 0.1]]);
    const txt = tf.tensor2d([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
    const r = clipLoss(img, txt);
    // image->text: rows 0, 1 correct (2/4); text->image: text 0's best image is 0 (tie-free),
    // text 1 -> image 1, text 2 -> image 2, text 3 -> image 3: 4/4
    expect(r.acc1).toBeCloseTo((50 + 100) / 2, 10);
    expect(r.acc5).toBe(100); // B = 4 < 5: top-4 is every candidate
    tf.dispose([img, txt, r.loss]);
  });

  it('ties in the similarity go to the lower index (identical texts)', () => {
    const img = tf.randomNormal([5, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
    const txt = tf.ones([5, 3]) as tf.Tensor2D;
    const r = clipLoss(img, txt, { symmetric: false });
    // every image sees 5 equal scores: only image 0's own text ranks first
    expect(r.acc1).toBeCloseTo(20, 10);
    expect(r.acc5).toBe(100);
    tf.dispose([img, txt, r.loss]);
  });

  it('batch of 1: loss 0, acc1 = acc5 = 100 (top-5 is top-B for B < 5)', () => {
    const x = tf.tensor2d([[0.3, -2, 5]]);
    const y = tf.tensor2d([[1, 1, 1]]);
    const r = clipLoss(x, y);
    expectArraysClose(r.loss, [0], { rtol, atol: 1e-6 });
    expect(r.acc1).toBe(100);
    expect(r.acc5).toBe(100);
    tf.dispose([x, y, r.loss]);
  });

  it('is numerically stable for a tiny temperature and huge embeddings', () => {
    const x = tf.mul(tf.randomNormal([8, 4], 0, 1, 'float32', 6), 1e18) as tf.Tensor2D;
    const y = tf.randomNormal([8, 4], 0, 1, 'float32', 7) as tf.Tensor2D;
    const r = clipLoss(x, y, { temperature: 1e-4 });
    const v = r.loss.dataSync()[0]!;
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThanOrEqual(0);
    tf.dispose([x, y, r.loss]);
  });

  it('gives finite gradients for both embeddings', () => {
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 8) as tf.Tensor2D;
    const y = tf.randomNormal([4, 6], 0, 1, 'float32', 9) as tf.Tensor2D;
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => clipLoss(a as tf.Tensor2D, b as tf.Tensor2D, { metrics: false, validate: false }).loss);
    const [gx, gy] = g([x, y]);
    for (const t of [gx!, gy!]) expect(Array.from(t.dataSync()).every(Number.isFinite)).toBe(true);
    expect(Math.max(...Array.from(gx!.dataSync()).map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([x, y, gx!, gy!]);
  });

  it('metrics: false skips the read-back (NaN accuracies)', () => {
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 10) as tf.Tensor2D;
    const r = clipLoss(x, x, { metrics: false });
    expect(Number.isNaN(r.acc1)).toBe(true);
    expect(Number.isNaN(r.terms.imageToText)).toBe(true);
    tf.dispose([x, r.loss]);
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([8, 16], 0, 1, 'float32', 11) as tf.Tensor2D;
    const y = tf.randomNormal([8, 16], 0, 1, 'float32', 12) as tf.Tensor2D;
    await expectNoLeakedTensors(() => {
      clipLoss(x, y).loss.dispose();
      clipLoss(x, y, { symmetric: false }).loss.dispose();
      clipLoss(x, y, { metrics: false }).loss.dispose();
      l2Normalize(x).dispose();
    });
    tf.dispose([x, y]);
  });

  it('rejects NaN / infinite inputs naming the argument', () => {
    const good = tf.tensor2d([[1, 2], [3, 4]]);
    const nan = tf.tensor2d([[1, NaN], [3, 4]]);
    const inf = tf.tensor2d([[1, 2], [Infinity, 4]]);
    expect(() => clipLoss(nan, good)).toThrow(G2DError);
    expect(() => clipLoss(nan, good)).toThrow(/clipLoss: argument "img" contains NaN at flat index 1/);
    expect(() => clipLoss(good, nan)).toThrow(/argument "txt" contains NaN/);
    expect(() => clipLoss(good, inf)).toThrow(/argument "txt" contains an infinite value at flat index 2/);
    tf.dispose([good, nan, inf]);
  });

  it('rejects bad shapes and options with a clear message', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    const b = tf.zeros([3, 3]) as tf.Tensor2D;
    const v = tf.zeros([3]) as unknown as tf.Tensor2D;
    expect(() => clipLoss(a, b)).toThrow(/"img" \[2, 3\] and "txt" \[3, 3\] must have the same shape/);
    expect(() => clipLoss(v, v)).toThrow(/must be B x D matrices/);
    expect(() => clipLoss(a, a, { temperature: 0 })).toThrow(/option "temperature" must be a positive number/);
    expect(() => clipLoss([[1]] as unknown as tf.Tensor2D, a)).toThrow(/argument "img" must be a tf.Tensor/);
    tf.dispose([a, b, v]);
  });
});
