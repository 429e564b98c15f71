/**
 * @g2d-ts/metrics: evaluation metrics for the G2D downstream suite, each as a plain function
 * and as a streaming accumulator. ROC AUC (binary, multi-label), accuracy, F1 and best F1,
 * Dice and mask IoU, the pointing game, box IoU and detection AP/mAP.
 */
export { accuracy, bestF1, binaryCounts, f1Score, multilabelAuc, rocAuc, type BinaryCounts } from './classification';
export { dice, maskIou, pointingHit } from './segmentation';
export { averagePrecision, boxArea, boxIou, meanAveragePrecision, type BoxXYXY, type ImageDetections } from './detection';
export { AccuracyAccumulator, AucAccumulator, BinaryAccumulator, DetectionMapAccumulator, DiceAccumulator, type Accumulator } from './accumulators';
