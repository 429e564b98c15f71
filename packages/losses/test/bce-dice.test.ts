/** bceDiceLoss: hand-worked values of both variants, edge cases and errors. */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { bceDiceLoss, bceDiceTerms } from '../src';

const S = 1e-5;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** -t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)), averaged */
const bce = (x: number[], t: number[]) =>
  x.reduce((a, xi, i) => a - t[i]! * Math.log(sigmoid(xi)) - (1 - t[i]!) * Math.log(1 - sigmoid(xi)), 0) / x.length;
/** 1 - mean over samples of (2 sum(p t) + s) / (sum(p) + sum(t) + s) */
const dice = (p: number[][], t: number[][]) =>
  1 -
  p.reduce((a, pi, b) => {
    const inter = pi.reduce((s, v, i) => s + v * t[b]![i]!, 0);
    const sp = pi.reduce((s, v) => s + v, 0);
    const st = t[b]!.reduce((s, v) => s + v, 0);
    return a + (2 * inter + S) / (sp + st + S);
  }, 0) /
    p.length;

describeBackends('bceDiceLoss', ({ rtol, atol }) => {
  const x = [[1, -1, 0.5, 2], [2, 0, -3, 0.25]];
  const t = [[1, 0, 0, 1], [1, 1, 0, 0]];

  it('code variant: dice on raw logits + 0.2 BCE (train), dice only (eval)', () => {
    const lx = tf.tensor2d(x);
    const lt = tf.tensor2d(t);
    // hand-worked dice: sample 0: (2*3 + s)/(2.5 + 2 + s); sample 1: (2*2 + s)/(-0.75 + 2 + s)
    const d = 1 - ((6 + S) / (4.5 + S) + (4 + S) / (1.25 + S)) / 2;
    expect(dice(x, t)).toBeCloseTo(d, 12);
    const b = bce(x.flat(), t.flat());
    expectArraysClose(bceDiceLoss(lx, lt), [d + 0.2 * b], { rtol, atol });
    expectArraysClose(bceDiceLoss(lx, lt, { train: false }), [d], { rtol, atol });
    const terms = bceDiceTerms(lx, lt);
    expectArraysClose([terms.dice.dataSync()[0]!, terms.bce.dataSync()[0]!], [d, b], { rtol, atol });
    tf.dispose([lx, lt, terms.loss, terms.dice, terms.bce]);
  });

  it('paper variant: 0.5 * (soft dice on sigmoid + BCE), train flag ignored', () => {
    const lx = tf.tensor2d(x);
    const lt = tf.tensor2d(t);
    const want = 0.5 * (dice(x.map((r) => r.map(sigmoid)), t) + bce(x.flat(), t.flat()));
    expectArraysClose(bceDiceLoss(lx, lt, { variant: 'paper' }), [want], { rtol, atol });
    expectArraysClose(bceDiceLoss(lx, lt, { variant: 'paper', train: false }), [want], { rtol, atol });
    tf.dispose([lx, lt]);
  });

  it('empty and full targets (the reference formula, no special case)', () => {
    const xs = [[0.5, 1.5, 2, 1], [3, 0.25, 0.25, 0.5]];
    const lx = tf.tensor2d(xs);
    const empty = tf.zeros([2, 4]);
    const full = tf.ones([2, 4]);
    // empty: coefficient s / (sum(x) + s) per sample
    const dEmpty = 1 - (S / (5 + S) + S / (4 + S)) / 2;
    expectArraysClose(bceDiceLoss(lx, empty, { train: false }), [dEmpty], { rtol, atol });
    expectArraysClose(bceDiceLoss(lx, empty), [dEmpty + 0.2 * bce(xs.flat(), Array(8).fill(0))], { rtol, atol });
    // full: (2 sum(x) + s) / (sum(x) + 4 + s)
    const dFull = 1 - ((10 + S) / (9 + S) + (8 + S) / (8 + S)) / 2;
    expectArraysClose(bceDiceLoss(lx, full, { train: false }), [dFull], { rtol, atol });
    // paper variant on an empty target: the soft dice coefficient tends to 0, not NaN
    const p = bceDiceLoss(lx, empty, { variant: 'paper' }).dataSync()[0]!;
    expect(Number.isFinite(p)).toBe(true);
    tf.dispose([lx, empty, full]);
  });

  it('depends only on each sample: any layout with the batch first gives the same value', () => {
    const lx = tf.randomNormal([3, 1, 4, 5], 0, 2, 'float32', 1);
    const lt = tf.cast(tf.greater(tf.randomUniform([3, 1, 4, 5], 0, 1, 'float32', 2), 0.6), 'float32');
    const a = bceDiceLoss(lx, lt);
    const px = tf.transpose(lx, [0, 3, 2, 1]);
    const pt = tf.transpose(lt, [0, 3, 2, 1]);
    const b = bceDiceLoss(px, pt);
    const c = bceDiceLoss(tf.reshape(lx, [3, 20]), tf.reshape(lt, [3, 20]));
    expectArraysClose(b, a, { rtol, atol });
    expectArraysClose(c, a, { rtol, atol });
    tf.dispose([lx, lt, a, px, pt, b, c]);
  });

  it('gives finite gradients w.r.t. the logits, stable for large logits', () => {
    const lx = tf.tensor2d([[80, -80, 3, -0.5]]);
    const lt = tf.tensor2d([[1, 0, 0, 1]]);
    for (const variant of ['code', 'paper'] as const) {
      const g = tf.grad((a: tf.Tensor) => bceDiceLoss(a, lt, { variant, validate: false }))(lx);
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      g.dispose();
      const v = bceDiceLoss(lx, lt, { variant }).dataSync()[0]!;
      expect(Number.isFinite(v)).toBe(true);
    }
    tf.dispose([lx, lt]);
  });

  it('leaks no tensors', async () => {
    const lx = tf.randomNormal([2, 1, 8, 8], 0, 1, 'float32', 3);
    const lt = tf.zeros([2, 1, 8, 8]);
    await expectNoLeakedTensors(() => {
      bceDiceLoss(lx, lt).dispose();
      bceDiceLoss(lx, lt, { train: false }).dispose();
      bceDiceLoss(lx, lt, { variant: 'paper' }).dispose();
      const t = bceDiceTerms(lx, lt);
      tf.dispose([t.loss, t.dice, t.bce]);
    });
    tf.dispose([lx, lt]);
  });

  it('rejects NaN inputs, mismatched shapes and bad options with a clear message', () => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const nan = tf.tensor2d([[1, 2], [NaN, 4]]);
    const b = tf.zeros([2, 3]);
    expect(() => bceDiceLoss(nan, a)).toThrow(G2DError);
    expect(() => bceDiceLoss(nan, a)).toThrow(/bceDiceLoss: argument "logits" contains NaN at flat index 2/);
    expect(() => bceDiceLoss(a, nan)).toThrow(/argument "target" contains NaN/);
    expect(() => bceDiceLoss(a, b)).toThrow(/"logits" \[2, 2\] and "target" \[2, 3\] must have the same shape/);
    expect(() => bceDiceLoss(a, a, { variant: 'dice' as 'code' })).toThrow(/option "variant" must be 'code' or 'paper'/);
    tf.dispose([a, nan, b]);
  });
});
