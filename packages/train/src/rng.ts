/**
 * One seed for a whole run. Every random stream is derived from (seed, label, keys…), e.g.
 * `rng.for('dropout', step, microStep)`: counter-based, so a run resumed at step k draws
 * exactly what the uninterrupted run drew at step k, and the only RNG state a checkpoint
 * needs is the seed itself.
 */
import { G2DError, Rng } from '@g2d-ts/core';

export interface RunRngState {
  seed: number | string;
}

export class RunRng {
  readonly seed: number | string;

  constructor(seed: number | string = 0) {
    if (!(typeof seed === 'string' || (typeof seed === 'number' && Number.isFinite(seed)))) {
      throw new G2DError(`seed must be a finite number or a string, got ${String(seed)}`);
    }
    this.seed = seed;
  }

  /** A seed string for components that take their own seed (a data loader, an augmentation pipeline). */
  derive(label: string, ...keys: (string | number)[]): string {
    return [this.seed, label, ...keys].join('/');
  }

  /** A fresh Rng for (label, keys…): the same arguments always give the same stream. */
  for(label: string, ...keys: (string | number)[]): Rng {
    return new Rng(this.derive(label, ...keys));
  }

  /** A 31-bit integer seed for TensorFlow.js ops (`tf.randomUniform(shape, 0, 1, 'float32', seed)`, dropout…). */
  tfSeed(label: string, ...keys: (string | number)[]): number {
    return this.for(label, ...keys).tfSeed();
  }

  state(): RunRngState {
    return { seed: this.seed };
  }

  static fromState(state: RunRngState, source?: string): RunRng {
    if (!state || (typeof state.seed !== 'number' && typeof state.seed !== 'string')) {
      throw new G2DError('rng state: seed missing', { source });
    }
    return new RunRng(state.seed);
  }
}
