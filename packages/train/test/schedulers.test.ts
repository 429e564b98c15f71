/** LR schedulers: torch/transformers sequences (golden), state export/import, the reference recipe, errors. */
import { G2DError } from '@g2d-ts/core';
import { ConstantLR, CosineAnnealingWarmRestarts, WarmupCosine, createScheduler, type LrScheduler } from '../src';
import { loadGolden, schedulerFor } from './toy';

const golden = loadGolden();

function run(s: LrScheduler, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(s.lr);
    s.step();
  }
  return out;
}

function expectSameLrs(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    if (Math.abs(a - expected[i]!) > 1e-12 * Math.abs(expected[i]!)) throw new Error(`lr[${i}] = ${a}, torch ${expected[i]}`);
  });
}

describe('schedulers', () => {
  for (const seq of golden.lr_sequences) {
    it(`${JSON.stringify(seq.scheduler)}: the torch/transformers sequence (${seq.lrs.length} iterations)`, () => {
      expectSameLrs(run(schedulerFor(seq.base_lr, seq.scheduler)!, seq.lrs.length), seq.lrs);
    });

    it(`${seq.scheduler.kind}: state exported mid-way and loaded into a fresh scheduler continues the sequence`, () => {
      const a = schedulerFor(seq.base_lr, seq.scheduler)!;
      const k = Math.floor(seq.lrs.length * 0.6);
      run(a, k);
      const st = JSON.parse(JSON.stringify(a.state())); // through JSON, as in a checkpoint
      const b = schedulerFor(seq.base_lr, seq.scheduler)!;
      b.loadState(st);
      expectSameLrs(run(b, seq.lrs.length - k), seq.lrs.slice(k));
    });
  }

  it('the reference recipe: T0=200, etaMin=1e-8, restarts to 2e-5 every 200 iterations', () => {
    const s = new CosineAnnealingWarmRestarts({ baseLr: 2e-5, T0: 200, etaMin: 1e-8 });
    const lrs = run(s, 601);
    for (const t of [0, 200, 400, 600]) expect(lrs[t]).toBe(2e-5);
    for (let t = 0; t < 601; t++) {
      const want = 1e-8 + ((2e-5 - 1e-8) * (1 + Math.cos((Math.PI * (t % 200)) / 200))) / 2;
      expect(Math.abs(lrs[t]! - want)).toBeLessThan(1e-20);
    }
    expect(lrs[100]).toBeCloseTo((2e-5 + 1e-8) / 2, 15);
  });

  it('T_mult > 1 grows the cycles: 3, 9, 27', () => {
    const s = new CosineAnnealingWarmRestarts({ baseLr: 1, T0: 3, TMult: 3 });
    const lrs = run(s, 40);
    const restarts = lrs.map((v, i) => (v === 1 ? i : -1)).filter((i) => i >= 0);
    expect(restarts).toEqual([0, 3, 12, 39]);
  });

  it('warm-up cosine: linear ramp, cosine to etaMin, then flat at etaMin (no rise past totalSteps)', () => {
    const s = new WarmupCosine({ baseLr: 1, warmupSteps: 4, totalSteps: 12, etaMin: 0.1 });
    const lrs = run(s, 20);
    expect(lrs.slice(0, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(lrs[8]).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    for (let i = 12; i < 20; i++) expect(lrs[i]).toBeCloseTo(0.1, 12);
    for (let i = 5; i < 12; i++) expect(lrs[i]!).toBeLessThan(lrs[i - 1]!);
  });

  it('constant (with and without warm-up)', () => {
    expect(run(new ConstantLR({ baseLr: 0.5 }), 3)).toEqual([0.5, 0.5, 0.5]);
    expect(run(new ConstantLR({ baseLr: 1, warmupSteps: 2 }), 4)).toEqual([0, 0.5, 1, 1]);
  });

  it('createScheduler builds each kind and rejects unknown kinds and bad arguments', () => {
    expect(createScheduler(1, { kind: 'cosine-warm-restarts', T0: 5 }).kind).toBe('cosine-warm-restarts');
    expect(createScheduler(1, { kind: 'warmup-cosine', warmupSteps: 1, totalSteps: 5 }).kind).toBe('warmup-cosine');
    expect(createScheduler(1, { kind: 'constant' }).kind).toBe('constant');
    expect(() => createScheduler(1, { kind: 'step' } as never, 'config.yaml: scheduler')).toThrow(/config\.yaml: scheduler: unknown scheduler kind "step"/);
    expect(() => new CosineAnnealingWarmRestarts({ baseLr: 1, T0: 0 })).toThrow(G2DError);
    expect(() => new CosineAnnealingWarmRestarts({ baseLr: 1, T0: 2.5 })).toThrow(/T0 must be a positive integer/);
    expect(() => new CosineAnnealingWarmRestarts({ baseLr: 1, T0: 2, TMult: 0 })).toThrow(/TMult/);
    expect(() => new CosineAnnealingWarmRestarts({ baseLr: -1, T0: 2 })).toThrow(/baseLr/);
    expect(() => new WarmupCosine({ baseLr: 1, warmupSteps: 5, totalSteps: 3 })).toThrow(/totalSteps \(3\) must be >= warmupSteps \(5\)/);
  });

  it('loadState rejects another kind or a corrupt state', () => {
    const s = new CosineAnnealingWarmRestarts({ baseLr: 1, T0: 4 });
    expect(() => s.loadState(new ConstantLR({ baseLr: 1 }).state(), 'ckpt')).toThrow(/ckpt: scheduler state is for "constant"/);
    expect(() => s.loadState({ kind: 'cosine-warm-restarts', t: 3, Tcur: 5, Ti: 4 })).toThrow(/Tcur must be an integer in \[0, Ti\)/);
    expect(() => s.loadState({ kind: 'cosine-warm-restarts', t: -1, Tcur: 0, Ti: 4 })).toThrow(/t must be an integer >= 0/);
  });
});
