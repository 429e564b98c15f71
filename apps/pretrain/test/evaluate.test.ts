/** The pseudo-mask scoring of validation, by hand on a 4 x 4 image with a 2 x 2 attention grid. */
import { G2DError, Rng } from '@g2d-ts/core';
import { attentionSpread, scorePseudoMasks } from '../src/evaluate';

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

describe('attentionSpread', () => {
  it('uniform maps: 1 and 1; one-hot: cells and 0', () => {
    expect(attentionSpread([0.25, 0.25, 0.25, 0.25], 1, 4)).toEqual({ peak: 1, entropy: 1 });
    const s = attentionSpread([1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25], 2, 4);
    expect(s.peak).toBeCloseTo((4 + 1) / 2, 12);
    expect(s.entropy).toBeCloseTo((0 + 1) / 2, 12);
  });
});
