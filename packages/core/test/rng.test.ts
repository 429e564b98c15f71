import { Rng } from '../src/rng';

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
  });
  it('draws in range with sane moments', () => {
    const r = new Rng('moments');
    const xs = Array.from({ length: 20000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const ns = Array.from({ length: 20000 }, () => r.normal());
    const m = ns.reduce((s, x) => s + x, 0) / ns.length;
    const v = ns.reduce((s, x) => s + (x - m) ** 2, 0) / ns.length;
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
  });
  it('shuffles into a permutation, forks deterministically', () => {
    const r = new Rng(1);
    const s = r.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...s].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Rng(1).fork('aug').next()).toBe(new Rng(1).fork('aug').next());
    expect(new Rng(1).fork('aug').next()).not.toBe(new Rng(1).fork('split').next());
    expect(() => r.int(0)).toThrow(/positive integer/);
  });
});
