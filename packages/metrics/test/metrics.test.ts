import {
  rocAuc, multilabelAuc, accuracy, f1Score, bestF1, dice, maskIou, pointingHit, boxIou,
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
