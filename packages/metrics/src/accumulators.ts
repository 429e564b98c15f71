import { G2DError } from '@g2d-ts/core';
import { multilabelAuc, bestF1, accuracy } from './classification';
import { dice } from './segmentation';
import { meanAveragePrecision, type ImageDetections } from './detection';

/** Streaming metric: update with batches, compute at the end, reset between epochs. */
export interface Accumulator<In, Out> {
  update(batch: In): void;
  compute(): Out;
  reset(): void;
  readonly count: number;
}

/** Multi-label AUC over batches of N×C scores and labels (per class + mean). */
export class AucAccumulator implements Accumulator<{ scores: number[][]; labels: number[][] }, { perClass: number[]; mean: number }> {
  private scores: number[][] = [];
  private labels: number[][] = [];
  update({ scores, labels }: { scores: number[][]; labels: number[][] }): void {
    if (scores.length !== labels.length) throw new G2DError(`AucAccumulator: ${scores.length} score rows but ${labels.length} label rows`);
    this.scores.push(...scores);
    this.labels.push(...labels);
  }
  compute() {
    return multilabelAuc(this.scores, this.labels);
  }
  reset(): void {
    this.scores = [];
    this.labels = [];
  }
  get count() {
    return this.scores.length;
  }
}

/** Binary zero-shot metrics: AUC, best F1 and accuracy at that threshold. */
export class BinaryAccumulator implements Accumulator<{ scores: ArrayLike<number>; labels: ArrayLike<number> }, { auc: number; f1: number; accuracy: number; threshold: number }> {
  private s: number[] = [];
  private l: number[] = [];
  update({ scores, labels }: { scores: ArrayLike<number>; labels: ArrayLike<number> }): void {
    this.s.push(...Array.from(scores));
    this.l.push(...Array.from(labels));
  }
  compute() {
    const { perClass } = multilabelAuc(this.s.map((v) => [v]), this.l.map((v) => [v]));
    const b = bestF1(this.s, this.l);
    return { auc: perClass[0] ?? NaN, f1: b.f1, accuracy: b.accuracy, threshold: b.threshold };
  }
  reset(): void {
    this.s = [];
    this.l = [];
  }
  get count() {
    return this.s.length;
  }
}

/** A running mean: `add(total, n)` batches, NaN before any. */
abstract class MeanAccumulator<In> implements Accumulator<In, number> {
  private sum = 0;
  private n = 0;
  abstract update(batch: In): void;
  protected add(total: number, n: number): void {
    this.sum += total;
    this.n += n;
  }
  compute(): number {
    return this.n ? this.sum / this.n : NaN;
  }
  reset(): void {
    this.sum = 0;
    this.n = 0;
  }
  get count() {
    return this.n;
  }
}

/** Mean per-image Dice over batches of flattened masks. */
export class DiceAccumulator extends MeanAccumulator<{ pred: ArrayLike<number>[]; target: ArrayLike<number>[] }> {
  constructor(private readonly opts: { threshold?: number; emptyScore?: number } = {}) {
    super();
  }
  update({ pred, target }: { pred: ArrayLike<number>[]; target: ArrayLike<number>[] }): void {
    if (pred.length !== target.length) throw new G2DError(`DiceAccumulator: ${pred.length} predictions but ${target.length} targets`);
    pred.forEach((p, i) => this.add(dice(p, target[i]!, this.opts), 1));
  }
}

/** Accuracy over batches of integer predictions and labels. */
export class AccuracyAccumulator extends MeanAccumulator<{ pred: ArrayLike<number>; labels: ArrayLike<number> }> {
  update({ pred, labels }: { pred: ArrayLike<number>; labels: ArrayLike<number> }): void {
    const a = accuracy(pred, labels);
    if (pred.length) this.add(a * pred.length, pred.length);
  }
}

/** Detection mAP over IoU thresholds, accumulating images. */
export class DetectionMapAccumulator implements Accumulator<ImageDetections[], number> {
  private images: ImageDetections[] = [];
  constructor(private readonly thresholds?: number[]) {}
  update(batch: ImageDetections[]): void {
    this.images.push(...batch);
  }
  compute(): number {
    return meanAveragePrecision(this.images, this.thresholds);
  }
  reset(): void {
    this.images = [];
  }
  get count() {
    return this.images.length;
  }
}
