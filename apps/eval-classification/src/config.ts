/**
 * The classification config: the common evaluation keys (@g2d-ts/eval) plus the protocol and
 * its training hyper-parameters. Defaults per protocol are the reference protocols'
 * (../shared/reference/G2D.md, "Downstream protocols"):
 *
 * | protocol | what trains | epochs | lr | batch | optimizer |
 * |---|---|---|---|---|---|
 * | linear (CheXpert, RSNA, COVIDx) | a linear layer on frozen pooled features | 50 | 5e-4 | 8 | AdamW, wd 1e-6 |
 * | finetune (NIH ChestX-ray14) | the whole encoder + linear layer | 50 | 1e-4 | 64 | AdamW, wd 1e-6 |
 *
 * Early stopping on the validation mean AUC (patience: ours, 10 epochs linear / 5 finetune;
 * the best epoch's weights are restored for testing).
 */
import { z } from 'zod';
import { CommonConfigShape, FEATURE_KINDS } from '@g2d-ts/eval';

export const PROTOCOLS = ['linear', 'finetune'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const TrainSchema = z
  .object({
    epochs: z.number().int().min(1),
    batchSize: z.number().int().min(1),
    /** learning rate of the encoder (finetune) and of the head (linear) */
    lr: z.number().positive(),
    /** learning rate of the head when fine-tuning (unset: lr) */
    headLr: z.number().positive().optional(),
    weightDecay: z.number().min(0),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    /** epochs without a better validation AUC before stopping (0: never stop early) */
    patience: z.number().int().min(0),
    /** a validation AUC must beat the best by more than this to count */
    minDelta: z.number().min(0).default(0),
    /** dropout before the linear layer */
    dropout: z.number().min(0).lt(1).default(0),
    /** stop training after this many minutes (the best epoch so far is tested); unset: no limit */
    maxMinutes: z.number().positive().optional(),
  })
  .strict();

export const ClassificationConfigSchema = z
  .object({
    ...CommonConfigShape,
    protocol: z.enum(PROTOCOLS).default('linear'),
    /** linear probe input: average-pooled last encoder stage (default) or the model's image embedding */
    features: z.enum(FEATURE_KINDS).default('avgpool'),
    train: TrainSchema,
  })
  .strict();

export type ClassificationConfig = z.output<typeof ClassificationConfigSchema>;

export const PROTOCOL_DEFAULTS: Record<Protocol, z.input<typeof TrainSchema>> = {
  linear: { epochs: 50, batchSize: 8, lr: 5e-4, weightDecay: 1e-6, patience: 10 },
  finetune: { epochs: 50, batchSize: 64, lr: 1e-4, weightDecay: 1e-6, patience: 5 },
};

/** The defaults a run starts from (before --config, --set and flags), for a protocol. */
export function defaultsFor(protocol: Protocol): Record<string, unknown> {
  return { protocol, train: { ...PROTOCOL_DEFAULTS[protocol] } };
}
