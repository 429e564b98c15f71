/** Bilateral smoothing of binary masks (the paper mode's edge smoothing). */
export { BinarySmoother, bilateralSmoothBinary } from './smoother';
export { DEFAULT_BILATERAL, type BilateralOptions } from './kernel';
