import { describeLearning, learningSummary } from '../src/learning';
import { attentionSpread } from '../src/evaluate';

describe('learningSummary (hand-worked)', () => {
  // 20 steps: vla 10, 9, ..., -9 (first tenth = steps 0-1: mean 9.5; last tenth = steps 18-19: mean -8.5)
  // PS active from step 10: ps = 2 * (20 - step) -> active values 20, 18, ..., 2 (10 values; tenth = 1 step)
  const rows = Array.from({ length: 20 }, (_, s) => ({ step: s, vla: 10 - s, ps: 2 * (20 - s), psActive: s >= 10 ? 1 : 0, rssMiB: 100 + s, numTensors: s < 2 ? 50 + s : 60 }));

  it('compares the first and the last tenth', () => {
    const l = learningSummary(rows);
    expect(l.steps).toBe(20);
    expect(l.vla).toEqual({ steps: 2, first: 9.5, last: -8.5, relChange: (-8.5 - 9.5) / 9.5 });
    expect(l.ps).toEqual({ steps: 1, first: 20, last: 2, relChange: -0.9 });
    // after the first PS step (step 10): rss 111 -> 119, tensors 60 throughout
    expect(l.rssMiB).toEqual({ first: 111, last: 119 });
    expect(l.numTensors).toEqual({ first: 60, last: 60, constantAfterWarmup: true });
  });

  it('keeps the newest row of a step logged twice (a resumed run) and says when tensors grow', () => {
    const dup = [...rows.slice(0, 15), { step: 14, vla: 100, ps: 0, psActive: 1, rssMiB: 1, numTensors: 61 }, ...rows.slice(15)];
    const l = learningSummary(dup);
    expect(l.steps).toBe(20);
    expect(l.numTensors!.constantAfterWarmup).toBe(false);
    expect(describeLearning(l).join('\n')).toMatch(/NOT constant/);
  });

  it('says when PS never became active', () => {
    const l = learningSummary(rows.slice(0, 10));
    expect(l.ps).toBeUndefined();
    expect(describeLearning(l).join('\n')).toMatch(/PS loss: never active/);
  });
});

describe('attentionSpread (hand-worked)', () => {
  it('is 1 and 1 for uniform maps, cells and 0 for a one-cell map, averaged over the maps', () => {
    expect(attentionSpread([0.25, 0.25, 0.25, 0.25], 1, 4)).toEqual({ peak: 1, entropy: 1 });
    expect(attentionSpread([0, 1, 0, 0], 1, 4)).toEqual({ peak: 4, entropy: 0 });
    // two maps: [0.5, 0.5, 0, 0] has peak 2 and entropy ln 2 / ln 4 = 0.5; with a uniform map the means are 1.5 and 0.75
    const r = attentionSpread([0.5, 0.5, 0, 0, 0.25, 0.25, 0.25, 0.25], 2, 4);
    expect(r.peak).toBeCloseTo(1.5, 12);
    expect(r.entropy).toBeCloseTo(0.75, 12);
  });
});
