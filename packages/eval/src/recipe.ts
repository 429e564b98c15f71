/**
 * The training recipe of the evaluation apps that train a head (or a decoder) with
 * @g2d-ts/train's `fit`: one set of config keys (`train.*`), the app choosing the defaults,
 * and the learning-rate schedule they describe.
 */
import { z } from 'zod';
import { ConstantLR, WarmupCosine, type LrScheduler } from '@g2d-ts/train';

/** `train.*` keys with the app's defaults (spread into the app's `train` object schema). */
export function fitRecipeShape(d: { epochs: number; batchSize: number; lr: number; valEvery: number }) {
  return {
    epochs: z.number().int().positive().default(d.epochs),
    batchSize: z.number().int().positive().default(d.batchSize),
    /** AdamW's learning rate */
    lr: z.number().positive().default(d.lr),
    weightDecay: z.number().min(0).default(1e-6),
    /** 'cosine' (decay to minLr over the run, after warmupSteps) or 'constant' */
    scheduler: z.enum(['cosine', 'constant']).default('cosine'),
    warmupSteps: z.number().int().min(0).default(0),
    minLr: z.number().min(0).default(1e-6),
    /** keep the epoch with the best validation metric ('best-val') or the last one */
    select: z.enum(['best-val', 'last']).default('best-val'),
    /** validate every N epochs (and at the last) */
    valEvery: z.number().int().positive().default(d.valEvery),
    /** stop after this many optimizer steps in total (optional cap) */
    maxSteps: z.number().int().positive().optional(),
  };
}

/** The schedule the recipe describes over `total` optimizer steps. */
export function fitScheduler(T: { lr: number; scheduler: 'cosine' | 'constant'; warmupSteps: number; minLr: number }, total: number): LrScheduler {
  return T.scheduler === 'cosine'
    ? new WarmupCosine({ baseLr: T.lr, warmupSteps: Math.min(T.warmupSteps, total), totalSteps: Math.max(1, total), etaMin: T.minLr })
    : new ConstantLR({ baseLr: T.lr, warmupSteps: T.warmupSteps });
}
