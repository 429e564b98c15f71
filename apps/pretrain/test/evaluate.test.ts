/** The pseudo-mask scoring of validation, by hand on a 4 x 4 image with a 2 x 2 attention grid. */
import { G2DError, Rng } from '@g2d-ts/core';
import { attentionSpread, bootstrapMeanCI, scorePseudoMasks, scorePseudoMasksAny } from '../src/evaluate';

/** A 4 x 4 mask (row-major) covering the given cells of the 2 x 2 grid (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right). */
function cells(...cs: number[]): Uint8Array {
  const m = new Uint8Array(16);
  for (let i = 0; i < 16; i++) if (cs.includes(Math.floor(Math.floor(i / 4) / 2) * 2 + Math.floor((i % 4) / 2))) m[i] = 1;
  return m;
}

describe('scorePseudoMasks', () => {
  const grid = { h: 2, w: 2, size: 4 };

  it('own mask, random same-area masks and other images\' masks, by hand', () => {
    // image 0: pseudo mask on cell 0, finding "x" exactly there        -> own IoU 1
    // image 1: pseudo mask on cell 3, finding "x" on cell 0            -> own IoU 0
    // image 2: normal (no finding), pseudo mask on cells 0 and 1; counts only as an "other" image
    const pseudo = [cells(0), cells(3), cells(0, 1)];
    const truth = [new Map([['x', cells(0)]]), new Map([['x', cells(0)]]), undefined];
    const s = scorePseudoMasks(pseudo, truth, grid, new Rng(1), { draws: 4000 });
    expect(Object.keys(s)).toEqual(['x']);
    expect(s.x!.n).toBe(2);
    expect(s.x!.pseudo).toBeCloseTo(0.5, 12); // (1 + 0) / 2
    // others of image 0: image 1 (cell 3: IoU 0) and image 2 (cells 0+1 vs cell 0: 4/8 = 0.5) -> 0.25
    // others of image 1: image 0 (cell 0: IoU 1) and image 2 (0.5) -> 0.75; mean 0.5
    expect(s.x!.other).toBeCloseTo(0.5, 12);
    // a random one-cell mask hits the one true cell with probability 1/4 (IoU 1), else IoU 0
    expect(s.x!.random).toBeGreaterThan(0.22);
    expect(s.x!.random).toBeLessThan(0.28);
  });

  it('a fixed location prior beats random but not other images\' masks; content-following masks beat both', () => {
    // every image's mask sits on cell 2 (the "heart"); findings in cell 2 for half of them, cell 1 for the rest
    const fixed = [cells(2), cells(2), cells(2), cells(2)];
    const truth = [cells(2), cells(2), cells(1), cells(1)].map((m) => new Map([['f', m]]));
    const a = scorePseudoMasks(fixed, truth, grid, new Rng(2), { draws: 2000 });
    expect(a.f!.pseudo).toBeCloseTo(0.5, 12);
    expect(a.f!.other).toBeCloseTo(0.5, 12); // the same prior, whatever the image: no better than its own mask
    expect(a.f!.pseudo).toBeGreaterThan(a.f!.random);
    // masks that follow the finding
    const following = [cells(2), cells(2), cells(1), cells(1)];
    const b = scorePseudoMasks(following, truth, grid, new Rng(2), { draws: 2000 });
    expect(b.f!.pseudo).toBe(1);
    expect(b.f!.other).toBeCloseTo((1 / 3 + 1 / 3 + 1 / 3 + 1 / 3) / 4, 12); // one of the 3 others matches
    expect(b.f!.pseudo).toBeGreaterThan(b.f!.other);
  });

  it('per-image wins and the bootstrap interval of own - random', () => {
    // 6 images, the finding always on cell 1; masks on it for 4 images, on cell 2 for 2 images
    const truth = Array.from({ length: 6 }, () => new Map([['f', cells(1)]]));
    const pseudo = [cells(1), cells(1), cells(1), cells(1), cells(2), cells(2)];
    const s = scorePseudoMasks(pseudo, truth, grid, new Rng(4), { draws: 4000 });
    expect(s.f!.winRandom).toBeCloseTo(4 / 6, 12); // IoU 1 beats ~0.25, IoU 0 does not
    // differences ~ +0.75 (x4) and -0.25 (x2): mean ~ +0.417; resampled means lie in [-0.25, 0.75]
    expect(s.f!.ciRandom[0]).toBeLessThan(s.f!.pseudo - s.f!.random);
    expect(s.f!.ciRandom[1]).toBeGreaterThan(s.f!.pseudo - s.f!.random);
    expect(s.f!.ciRandom[0]).toBeGreaterThanOrEqual(-0.26);
    expect(s.f!.ciRandom[1]).toBeLessThanOrEqual(0.76);
    // masks always on the finding: every difference is ~ +0.75, the interval clears 0
    const all = scorePseudoMasks(truth.map(() => cells(1)), truth, grid, new Rng(4), { draws: 4000 });
    expect(all.f!.ciRandom[0]).toBeGreaterThan(0.7);
    expect(all.f!.winRandom).toBe(1);
    // the same fixed mask everywhere: own = other for each image, the interval is [0, 0]
    expect(all.f!.ciOther).toEqual([0, 0]);
  });

  it('any finding: each image against the union of its finding masks, by hand', () => {
    // image 0: findings x (cell 0) and y (cell 1), pseudo mask on cells 0 + 1 -> IoU 1 with the union
    // image 1: finding x on cell 2, pseudo mask on cell 3 -> IoU 0; image 2: normal, not counted
    const pseudo = [cells(0, 1), cells(3), cells(2)];
    const truth = [new Map([['x', cells(0)], ['y', cells(1)]]), new Map([['x', cells(2)]]), undefined];
    const a = scorePseudoMasksAny(pseudo, truth, grid, new Rng(5), { draws: 6000 })!;
    expect(a.n).toBe(2);
    expect(a.pseudo).toBeCloseTo(0.5, 12);
    // random 2-cell masks vs cells {0,1}: 1 of 6 pairs IoU 1, 4 of 6 IoU 1/3, 1 of 6 IoU 0 -> 7/18;
    // random 1-cell masks vs cell 2: 1/4; mean (7/18 + 1/4) / 2 = 23/72
    expect(a.random).toBeGreaterThan(23 / 72 - 0.02);
    expect(a.random).toBeLessThan(23 / 72 + 0.02);
    // others of image 0: cells 3 (0) and 2 (0) -> 0; of image 1: cells 0+1 (0) and 2 (1) -> 0.5; mean 0.25
    expect(a.other).toBeCloseTo(0.25, 12);
    expect(a.winRandom).toBeCloseTo(0.5, 12);
    expect(scorePseudoMasksAny([cells(0)], [undefined], grid, new Rng(5))).toBeUndefined();
  });

  it('samples at most `others` other images, deterministically per seed', () => {
    const n = 40;
    const pseudo = Array.from({ length: n }, (_, k) => cells(k % 4));
    const truth = pseudo.map((_, k) => (k === 0 ? new Map([['f', cells(0)]]) : undefined));
    const a = scorePseudoMasks(pseudo, truth, grid, new Rng(3), { others: 5, draws: 1 });
    const b = scorePseudoMasks(pseudo, truth, grid, new Rng(3), { others: 5, draws: 1 });
    expect(a).toEqual(b);
    expect(a.f!.other * 5).toBeCloseTo(Math.round(a.f!.other * 5), 12); // a mean over exactly 5 IoUs of 0 or 1
  });

  it('errors name what is wrong', () => {
    expect(() => scorePseudoMasks([cells(0)], [], grid, new Rng(0))).toThrow(G2DError);
    expect(() => scorePseudoMasks([new Uint8Array(15)], [undefined], grid, new Rng(0))).toThrow(/pseudo mask 0 has 15 pixels, expected 4 x 4/);
    expect(() => scorePseudoMasks([cells(0)], [new Map([['x', new Uint8Array(3)]])], grid, new Rng(0))).toThrow(/mask "x" of image 0 has 3 pixels/);
    expect(() => scorePseudoMasks([cells(0)], [undefined], { h: 3, w: 3, size: 4 }, new Rng(0))).toThrow(/not a multiple of the 3 x 3 grid/);
  });
});

describe('bootstrapMeanCI', () => {
  it('degenerate inputs, constants, and an interval around the mean that is reproducible per seed', () => {
    expect(bootstrapMeanCI([], new Rng(0)).every(Number.isNaN)).toBe(true);
    expect(bootstrapMeanCI([0.3], new Rng(0))).toEqual([0.3, 0.3]);
    expect(bootstrapMeanCI([2, 2, 2], new Rng(0))).toEqual([2, 2]);
    // 50 zeros and 50 ones: the mean's standard error is 0.05, so the 95 % interval is about 0.5 +- 0.1
    const d = Array.from({ length: 100 }, (_, k) => k % 2);
    const [lo, hi] = bootstrapMeanCI(d, new Rng(7));
    expect(lo).toBeGreaterThan(0.37);
    expect(lo).toBeLessThan(0.45);
    expect(hi).toBeGreaterThan(0.55);
    expect(hi).toBeLessThan(0.63);
    expect(bootstrapMeanCI(d, new Rng(7))).toEqual([lo, hi]);
  });
});

describe('attentionSpread', () => {
  it('uniform maps: 1 and 1; one-hot: cells and 0', () => {
    expect(attentionSpread([0.25, 0.25, 0.25, 0.25], 1, 4)).toEqual({ peak: 1, entropy: 1 });
    const s = attentionSpread([1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25], 2, 4);
    expect(s.peak).toBeCloseTo((4 + 1) / 2, 12);
    expect(s.entropy).toBeCloseTo((0 + 1) / 2, 12);
  });
});
