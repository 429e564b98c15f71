/**
 * @g2d-ts/train: the one training loop of pretraining and every evaluation app. AdamW with
 * PyTorch semantics, per-iteration LR schedulers, gradient accumulation and clipping, seeded
 * RNG streams, crash-safe resumable checkpoints, `metrics.jsonl`, a progress bar, and `fit`.
 */
export * from './variables';
export * from './adamw';
export * from './gradients';
export * from './schedulers';
export * from './rng';
export * from './checkpoint';
export * from './metrics-log';
export * from './progress';
export * from './trainer';
export { writeFileAtomic, fsyncDir, sha256File } from './fsutil';
