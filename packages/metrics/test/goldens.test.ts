/**
 * @g2d-ts/metrics against scikit-learn / numpy: test/fixtures/metrics-goldens.json is written
 * by tools/metrics/gen_goldens.py (seeded random inputs; see its docstring for the reference
 * of each metric). Every value must match to 1e-6.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { averagePrecision, bestF1, boxIou, dice, maskIou, meanAveragePrecision, pointingHit, rocAuc, type BoxXYXY, type ImageDetections } from '../src';

interface Goldens {
  format: string;
  auc: { name: string; scores: number[]; labels: number[]; auc: number | null }[];
  bestF1: { name: string; scores: number[]; labels: number[]; f1: number; threshold: number; accuracy: number }[];
  masks: { name: string; pred: number[]; target: number[]; dice: number; iou: number }[];
  boxIou: { a: BoxXYXY; b: BoxXYXY; iou: number }[];
  detection: { name: string; images: ImageDetections[]; ap: Record<string, number | null>; ap50: number | null; map: number | null }[];
  pointing: { name: string; heatmap: number[]; mask: number[]; hit: number }[];
}

const TOL = 1e-6;
const g = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'metrics-goldens.json'), 'utf8')) as Goldens;

function near(actual: number, expected: number | null, what: string): void {
  if (expected === null) {
    if (!Number.isNaN(actual)) throw new Error(`${what}: expected undefined (NaN), got ${actual}`);
    return;
  }
  if (!(Math.abs(actual - expected) <= TOL)) throw new Error(`${what}: ${actual} differs from the golden ${expected} by ${Math.abs(actual - expected)} (> ${TOL})`);
}

describe('metrics match scikit-learn / numpy goldens (tools/metrics/gen_goldens.py)', () => {
  it('the fixture is the expected format and covers every metric', () => {
    expect(g.format).toBe('g2d-metrics-goldens-v1');
    expect(g.auc.length).toBeGreaterThanOrEqual(6);
    expect(g.bestF1.length).toBeGreaterThanOrEqual(4);
    expect(g.masks.length).toBeGreaterThanOrEqual(4);
    expect(g.boxIou.length).toBeGreaterThanOrEqual(20);
    expect(g.detection.length).toBeGreaterThanOrEqual(4);
    expect(g.pointing.length).toBeGreaterThanOrEqual(8);
  });

  it('rocAuc = sklearn roc_auc_score (ties included; one class -> NaN)', () => {
    for (const c of g.auc) near(rocAuc(c.scores, c.labels), c.auc, c.name);
  });

  it('bestF1 = max F1 over sklearn precision_recall_curve, its threshold and the accuracy there', () => {
    for (const c of g.bestF1) {
      const r = bestF1(c.scores, c.labels);
      near(r.f1, c.f1, `${c.name} f1`);
      near(r.threshold, c.threshold, `${c.name} threshold`);
      near(r.accuracy, c.accuracy, `${c.name} accuracy`);
    }
  });

  it('dice / maskIou = sklearn f1_score / jaccard_score on binarised masks (empty/empty = 1)', () => {
    for (const c of g.masks) {
      near(dice(c.pred, c.target), c.dice, `${c.name} dice`);
      near(maskIou(c.pred, c.target), c.iou, `${c.name} iou`);
    }
  });

  it('boxIou = numpy xyxy IoU', () => {
    g.boxIou.forEach((c, k) => near(boxIou(c.a, c.b), c.iou, `boxIou pair ${k}`));
  });

  it('averagePrecision (each IoU 0.4..0.75) and meanAveragePrecision = numpy reference (COCO matching, all-point AP)', () => {
    for (const c of g.detection) {
      for (const [t, ap] of Object.entries(c.ap)) near(averagePrecision(c.images, Number(t)), ap, `${c.name} AP@${t}`);
      near(averagePrecision(c.images, 0.5), c.ap50, `${c.name} AP50`);
      near(meanAveragePrecision(c.images), c.map, `${c.name} mAP`);
    }
  });

  it('pointingHit = numpy argmax inside the mask', () => {
    for (const c of g.pointing) near(pointingHit(c.heatmap, c.mask), c.hit, c.name);
  });

  it('the comparison itself fails on a wrong value (guards the test)', () => {
    const c = g.auc[0]!;
    expect(() => near(rocAuc(c.scores, c.labels) + 2e-6, c.auc, 'perturbed')).toThrow(/differs from the golden/);
  });
});
