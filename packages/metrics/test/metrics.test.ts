import {
  rocAuc, multilabelAuc, accuracy, f1Score, bestF1, binaryCounts, dice, maskIou, pointingHit, boxArea, boxIou,
  averagePrecision, meanAveragePrecision, AucAccumulator, DiceAccumulator, BinaryAccumulator,
  AccuracyAccumulator, DetectionMapAccumulator, type BoxXYXY,
} from '../src';

describe('rocAuc (hand-worked, matches sklearn.roc_auc_score)', () => {
  it('ranks with and without ties', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    // pos 0.5 vs neg 0.5 counts one half: (1 + 0.5 + 2) / 4
    expect(rocAuc([0.1, 0.5, 0.5, 0.9], [0, 0, 1, 1])).toBeCloseTo(0.875, 12);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(rocAuc([3, 2, 1], [1, 0, 0])).toBe(1);
    expect(rocAuc([1, 2, 3], [1, 0, 0])).toBe(0);
  });
  it('is NaN with one class, rejects NaN scores and non-binary labels', () => {
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(rocAuc([], [])).toBeNaN();
    expect(() => rocAuc([0.1, NaN], [0, 1])).toThrow(/index 1 is NaN/);
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(/label at index 1 is 2/);
    expect(() => rocAuc([0.1], [0, 1])).toThrow(/1 entries but labels has 2/);
  });
  it('multilabel mean skips undefined classes', () => {
    const r = multilabelAuc([[0.1, 0.3], [0.9, 0.2]], [[0, 1], [1, 1]]);
    expect(r.perClass[0]).toBe(1);
    expect(r.perClass[1]).toBeNaN();
    expect(r.mean).toBe(1);
  });
});

describe('accuracy / F1', () => {
  it('hand-worked', () => {
    expect(accuracy([1, 0, 2, 2], [1, 1, 2, 0])).toBe(0.5);
    expect(accuracy([], [])).toBeNaN();
    // tp=1 (0.9), fp=1 (0.6), fn=1 (0.2) → 2/(2+1+1)
    expect(f1Score([0.9, 0.6, 0.2, 0.1], [1, 0, 1, 0])).toBeCloseTo(0.5, 12);
    expect(f1Score([0.1, 0.2], [0, 0])).toBe(0);
    const b = bestF1([0.9, 0.6, 0.2, 0.1], [1, 0, 1, 0]);
    // threshold 0.2: tp=2, fp=1, fn=0 → F1 0.8, accuracy 3/4
    expect(b.f1).toBeCloseTo(0.8, 12);
    expect(b.threshold).toBe(0.2);
    expect(b.accuracy).toBe(0.75);
  });
});

describe('segmentation metrics', () => {
  it('dice and IoU per image with the empty/empty = 1 rule', () => {
    expect(dice([0.9, 0.2, 0.7, 0.1], [1, 0, 0, 1])).toBeCloseTo(0.5, 12);
    expect(dice([0.1, 0.2], [0, 0])).toBe(1);
    expect(dice([0.1, 0.2], [0, 1])).toBe(0);
    expect(dice([0.5, 0.5], [1, 1])).toBe(0); // strictly > 0.5
    expect(maskIou([0.9, 0.2, 0.7, 0.1], [1, 0, 0, 1])).toBeCloseTo(1 / 3, 12);
    expect(() => dice([1, 2], [1])).toThrow(/2 pixels but target has 1/);
    expect(() => dice([NaN], [1])).toThrow(/NaN/);
  });
  it('pointing game', () => {
    expect(pointingHit([0, 5, 1, 0], [0, 1, 0, 0])).toBe(1);
    expect(pointingHit([0, 5, 1, 0], [0, 0, 1, 1])).toBe(0);
    expect(pointingHit([0, 5, 1, 0], [0, 0, 0, 0])).toBeNaN();
  });
});

describe('detection metrics', () => {
  const gt: BoxXYXY = [0, 0, 10, 10];
  it('box IoU', () => {
    expect(boxIou(gt, [5, 0, 15, 10])).toBeCloseTo(50 / 150, 12);
    expect(boxIou(gt, [20, 20, 30, 30])).toBe(0);
    expect(boxIou(gt, gt)).toBe(1);
  });
  it('AP: a true positive ranked first scores 1, ranked second 0.5', () => {
    expect(averagePrecision([{ boxes: [gt, [20, 20, 30, 30]], scores: [0.9, 0.8], gt: [gt] }], 0.5)).toBeCloseTo(1, 12);
    expect(averagePrecision([{ boxes: [gt, [20, 20, 30, 30]], scores: [0.8, 0.9], gt: [gt] }], 0.5)).toBeCloseTo(0.5, 12);
    // a duplicate detection of the same box is a false positive
    expect(averagePrecision([{ boxes: [gt, gt], scores: [0.9, 0.8], gt: [gt, [50, 50, 60, 60]] }], 0.5)).toBeCloseTo(0.5, 12);
    expect(averagePrecision([{ boxes: [], scores: [], gt: [] }], 0.5)).toBeNaN();
  });
  it('mAP over IoU thresholds 0.4..0.75: IoU 0.6 hits half of the 8 thresholds', () => {
    // [0,0,10,10] vs [0,0,10,16.667]: IoU = 100/166.67 = 0.6
    const im = { boxes: [[0, 0, 10, 50 / 3] as BoxXYXY], scores: [1], gt: [gt] };
    expect(meanAveragePrecision([im])).toBeCloseTo(5 / 8, 12); // 0.4,0.45,0.5,0.55,0.6 hit; 0.65..0.75 miss
  });
});

describe('accumulators equal the one-shot functions', () => {
  it('AUC, dice, binary, accuracy, mAP', () => {
    const auc = new AucAccumulator();
    auc.update({ scores: [[0.1], [0.4]], labels: [[0], [0]] });
    auc.update({ scores: [[0.35], [0.8]], labels: [[1], [1]] });
    expect(auc.count).toBe(4);
    expect(auc.compute().mean).toBeCloseTo(0.75, 12);
    auc.reset();
    expect(auc.compute().mean).toBeNaN();

    const d = new DiceAccumulator();
    d.update({ pred: [[0.9, 0.2, 0.7, 0.1]], target: [[1, 0, 0, 1]] });
    d.update({ pred: [[0, 0]], target: [[0, 0]] });
    expect(d.compute()).toBeCloseTo(0.75, 12);

    const b = new BinaryAccumulator();
    b.update({ scores: [0.9, 0.6], labels: [1, 0] });
    b.update({ scores: [0.2, 0.1], labels: [1, 0] });
    expect(b.compute()).toEqual({ auc: 0.75, f1: 0.8, accuracy: 0.75, threshold: 0.2 });

    const a = new AccuracyAccumulator();
    a.update({ pred: [1, 0], labels: [1, 1] });
    a.update({ pred: [2], labels: [2] });
    expect(a.compute()).toBeCloseTo(2 / 3, 12);
    expect(new AccuracyAccumulator().compute()).toBeNaN();

    const m = new DetectionMapAccumulator([0.5]);
    m.update([{ boxes: [[0, 0, 10, 10]], scores: [0.9], gt: [[0, 0, 10, 10]] }]);
    m.update([{ boxes: [], scores: [], gt: [[0, 0, 5, 5]] }]);
    expect(m.compute()).toBeCloseTo(0.5, 12);
  });
});

// ---------------------------------------------------------------- more hand-worked cases

describe('rocAuc: ties, by pair counting', () => {
  it('counts a tied positive/negative pair as one half', () => {
    // positives {0.4, 0.7, 0.9}, negatives {0.2, 0.4, 0.4}: pairs won 2 + 3 + 3 (0.4 vs 0.4 twice = 2 × 0.5) = 8 of 9
    expect(rocAuc([0.2, 0.4, 0.4, 0.4, 0.7, 0.9], [0, 0, 1, 0, 1, 1])).toBeCloseTo(8 / 9, 12);
    // order of the input does not matter
    expect(rocAuc([0.9, 0.4, 0.2, 0.7, 0.4, 0.4], [1, 0, 0, 1, 1, 0])).toBeCloseTo(8 / 9, 12);
    // typed arrays
    expect(rocAuc(Float32Array.from([0.1, 0.9]), Uint8Array.from([0, 1]))).toBe(1);
  });
  it('multi-label: per class, mean over the defined ones', () => {
    const r = multilabelAuc([[0.1, 0.9, 0.5], [0.8, 0.2, 0.5], [0.4, 0.3, 0.5]], [[0, 1, 0], [1, 0, 0], [1, 0, 1]]);
    expect(r.perClass[0]).toBe(1); // 0.8, 0.4 above 0.1
    expect(r.perClass[1]).toBe(1); // 0.9 above 0.2, 0.3
    expect(r.perClass[2]).toBe(0.5); // all tied
    expect(r.mean).toBeCloseTo(2.5 / 3, 12);
    expect(() => multilabelAuc([[0.1, 0.2], [0.3]], [[0, 1], [1, 0]])).toThrow(/row 1 does not have 2 columns/);
  });
});

describe('bestF1 over every distinct score', () => {
  it('picks the threshold of the highest F1, with the accuracy there', () => {
    // t=0.1: tp3 fp2 → 6/8; t=0.35: tp3 fp1 → 6/7 (acc 4/5); t=0.4: tp2 fp1 fn1 → 4/6; t=0.8: tp2 fn1 → 4/5; t=0.9: tp1 fn2 → 2/4
    const b = bestF1([0.1, 0.35, 0.4, 0.8, 0.9], [0, 1, 0, 1, 1]);
    expect(b.f1).toBeCloseTo(6 / 7, 12);
    expect(b.threshold).toBe(0.35);
    expect(b.accuracy).toBeCloseTo(0.8, 12);
  });
  it('on equal F1 the lowest threshold wins; no positives gives F1 0 at +Infinity', () => {
    // t=0.3: tp2 fp2 → 2/3; t=0.5: 2/5; t=0.7: 1/2; t=0.9: tp1 fn1 → 2/3 (tie: 0.3 kept)
    const b = bestF1([0.3, 0.5, 0.7, 0.9], [1, 0, 0, 1]);
    expect(b.f1).toBeCloseTo(2 / 3, 12);
    expect(b.threshold).toBe(0.3);
    expect(b.accuracy).toBe(0.5);
    expect(bestF1([0.1, 0.2], [0, 0])).toEqual({ f1: 0, threshold: Infinity, accuracy: 1 });
    expect(bestF1([], [])).toEqual({ f1: 0, threshold: Infinity, accuracy: NaN });
  });
  it('f1Score and binaryCounts at a given threshold (>= is positive)', () => {
    expect(binaryCounts([0.5, 0.49, 0.7, 0.2], [1, 1, 0, 0], 0.5)).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1 });
    expect(f1Score([0.5, 0.49, 0.7, 0.2], [1, 1, 0, 0], 0.5)).toBeCloseTo(0.5, 12);
  });
});

describe('dice / IoU by hand', () => {
  it('counts overlap on binarised masks', () => {
    // pred {0,1,4}, target {0,3,4}: inter 2 → dice 4/6, IoU 2/4
    expect(dice([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])).toBeCloseTo(2 / 3, 12);
    expect(maskIou([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])).toBeCloseTo(0.5, 12);
    // probabilities against a uint8 mask, custom threshold
    expect(dice(Float32Array.from([0.3, 0.3, 0.1]), Uint8Array.from([1, 1, 0]), { threshold: 0.2 })).toBe(1);
  });
  it('empty prediction on an empty target: emptyScore (default 1)', () => {
    expect(dice([0, 0, 0], [0, 0, 0])).toBe(1);
    expect(dice([0, 0, 0], [0, 0, 0], { emptyScore: 0 })).toBe(0);
    expect(maskIou([0, 0], [0, 0])).toBe(1);
    expect(maskIou([0, 0], [0, 0], { emptyScore: NaN })).toBeNaN();
    // a prediction on an empty target, or none on a non-empty one, scores 0
    expect(dice([1, 0], [0, 0])).toBe(0);
    expect(maskIou([0, 0], [0, 1])).toBe(0);
  });
});

describe('pointing game by hand', () => {
  it('the first maximum decides; the target is binarised at 0.5', () => {
    expect(pointingHit([5, 0, 5], [0, 0, 1])).toBe(0); // ties: index 0
    expect(pointingHit([5, 0, 5], [1, 0, 0])).toBe(1);
    expect(pointingHit([0, 2, 1], [0.2, 0.8, 0.9])).toBe(1);
    expect(pointingHit([0, 2, 1], [0.9, 0.5, 0.2])).toBe(0); // 0.5 is not inside
    expect(() => pointingHit([1, 2], [1])).toThrow(/2 pixels but target has 1/);
  });
});

describe('box IoU by hand', () => {
  it('overlap, containment, touching and degenerate boxes', () => {
    expect(boxIou([0, 0, 4, 4], [2, 2, 6, 6])).toBeCloseTo(4 / 28, 12);
    expect(boxIou([0, 0, 10, 10], [2, 2, 4, 4])).toBeCloseTo(4 / 100, 12);
    expect(boxIou([0, 0, 2, 2], [2, 0, 4, 2])).toBe(0); // shared edge only
    expect(boxIou([1, 1, 1, 1], [1, 1, 1, 1])).toBe(0); // zero area: no union
    expect(boxArea([4, 4, 0, 0])).toBe(0); // inverted corners have no area
    expect(boxIou([0, 0, 4, 4], [2, 2, 6, 6])).toBe(boxIou([2, 2, 6, 6], [0, 0, 4, 4]));
  });
});

describe('AP / mAP by hand', () => {
  const A: BoxXYXY = [0, 0, 10, 10];
  const B: BoxXYXY = [20, 20, 30, 30];
  it('all-point interpolated AP of TP, FP, TP', () => {
    // ranked: TP (P 1, R 1/2), FP (P 1/2, R 1/2), TP (P 2/3, R 1); envelope [1, 2/3, 2/3] → 1/2·1 + 1/2·2/3
    const im = { boxes: [A, [50, 50, 60, 60] as BoxXYXY, B], scores: [0.9, 0.8, 0.7], gt: [A, B] };
    expect(averagePrecision([im], 0.5)).toBeCloseTo(0.5 + 1 / 3, 12);
  });
  it('ranks detections across images; an unmatched ground truth caps recall', () => {
    // image 1: TP at 0.6; image 2: FP at 0.95, TP at 0.5, one gt never found (3 gts)
    // ranked: FP (P 0, R 0), TP (P 1/2, R 1/3), TP (P 2/3, R 2/3) → envelope [2/3, 2/3, 2/3] → 2/3 · 2/3
    const ims = [
      { boxes: [A], scores: [0.6], gt: [A] },
      { boxes: [[70, 70, 80, 80] as BoxXYXY, B], scores: [0.95, 0.5], gt: [B, [40, 40, 45, 45] as BoxXYXY] },
    ];
    expect(averagePrecision(ims, 0.5)).toBeCloseTo(4 / 9, 12);
  });
  it('IoU exactly at the threshold matches; matching is greedy on the best IoU', () => {
    // [0,0,10,5] vs A: IoU 50/100 = 0.5 exactly
    expect(averagePrecision([{ boxes: [[0, 0, 10, 5]], scores: [1], gt: [A] }], 0.5)).toBe(1);
    expect(averagePrecision([{ boxes: [[0, 0, 10, 5]], scores: [1], gt: [A] }], 0.51)).toBe(0);
    // the first detection overlaps g1 (IoU 0.5) and g2 (IoU 1): it takes g2, so the second
    // ([0,4,10,10]: IoU 0.6 with g1, 0.1 with g2) still finds g1; first-match would give AP 0.5
    const g1: BoxXYXY = [0, 0, 10, 10];
    const g2: BoxXYXY = [0, 0, 10, 5];
    expect(averagePrecision([{ boxes: [g2, [0, 4, 10, 10]], scores: [0.9, 0.8], gt: [g1, g2] }], 0.5)).toBe(1);
  });
  it('mAP averages AP over the thresholds; bad input names the image', () => {
    // IoU 0.6: AP 1 at 0.5, 0 at 0.9
    const im = { boxes: [[0, 0, 10, 6] as BoxXYXY], scores: [1], gt: [A] };
    expect(meanAveragePrecision([im], [0.5, 0.9])).toBe(0.5);
    expect(() => averagePrecision([{ boxes: [A], scores: [], gt: [A] }], 0.5)).toThrow(/image 0 has 1 boxes but 0 scores/);
  });
});

describe('accumulators: batches, reset and count', () => {
  it('equal the one-shot functions whatever the batching', () => {
    const scores = [0.2, 0.4, 0.4, 0.4, 0.7, 0.9];
    const labels = [0, 0, 1, 0, 1, 1];
    const b = new BinaryAccumulator();
    b.update({ scores: scores.slice(0, 1), labels: labels.slice(0, 1) });
    b.update({ scores: scores.slice(1), labels: labels.slice(1) });
    expect(b.count).toBe(6);
    const one = bestF1(scores, labels);
    expect(b.compute()).toEqual({ auc: rocAuc(scores, labels), f1: one.f1, accuracy: one.accuracy, threshold: one.threshold });
    b.reset();
    expect(b.count).toBe(0);
    const d = new DiceAccumulator({ emptyScore: 0 });
    d.update({ pred: [[0, 0]], target: [[0, 0]] });
    expect(d.compute()).toBe(0);
    expect(new DiceAccumulator().compute()).toBeNaN();
    expect(() => d.update({ pred: [[0]], target: [] })).toThrow(/1 predictions but 0 targets/);
  });
});
