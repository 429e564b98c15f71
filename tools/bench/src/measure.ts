/**
 * Timing of a training step in this process: warm-up steps, timed steps, tensor growth,
 * RSS after each timed step and the process's peak RSS (VmHWM: every allocation of the run,
 * the warm-up included).
 */
import * as tf from '@tensorflow/tfjs';
import { median, peakRssMiB, type Figures } from './types';

export function measureSteps(step: (i: number) => void, opts: { warmup: number; iters: number }): Figures & { medianMs: number } {
  let i = 0;
  for (let w = 0; w < opts.warmup; w++) step(i++);
  const tensors0 = tf.memory().numTensors;
  const times: number[] = [];
  const rss: number[] = [];
  for (let k = 0; k < opts.iters; k++) {
    const t0 = performance.now();
    step(i++);
    times.push(performance.now() - t0);
    rss.push(process.memoryUsage().rss / 2 ** 20);
  }
  return {
    medianMs: median(times),
    minMs: Math.min(...times),
    iters: opts.iters,
    warmup: opts.warmup,
    tensorGrowthPerStep: (tf.memory().numTensors - tensors0) / opts.iters,
    rssAfterStepsMiB: rss.map((x) => Math.round(x)).join('/'),
    peakRssMiB: peakRssMiB(),
  };
}
