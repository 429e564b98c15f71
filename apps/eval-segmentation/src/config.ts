/**
 * The segmentation run's config: the shared evaluation keys (@g2d-ts/eval) plus the mask
 * selection, the U-Net transfer set-up, the fine-tuning recipe and the outputs.
 *
 * Defaults follow the reference downstream protocol (G2D.md: U-Net, encoder frozen, lr 2e-4,
 * BCE + Dice) where it fixes them; the rest (epochs, batch, schedule) is sized for a CPU run.
 */
import { z } from 'zod';
import { CommonConfigShape, fitRecipeShape } from '@g2d-ts/eval';
import { SYNTH_FINDINGS } from '@g2d-ts/data';

/** Synthetic targets besides a single finding name. */
export const SYNTH_TARGETS = ['lung-findings', 'all-findings', 'lungs', 'heart'] as const;

const DataSchema = CommonConfigShape.data
  .removeDefault()
  .extend({
    /** covid-chestxray: which lung masks (human V7 Labs `v7labs`, model-made `lungvae`); images without one are left out */
    masks: z.enum(['v7labs', 'lungvae']).default('v7labs'),
    /**
     * synthetic: what to segment: `lung-findings` (union of the findings drawn in the lungs:
     * opacity, effusion, pneumothorax, nodule, atelectasis, edema), `all-findings`, one finding
     * name, or the anatomy (`lungs`, `heart`; on-the-fly data only)
     */
    target: z
      .string()
      .refine((t) => (SYNTH_TARGETS as readonly string[]).includes(t) || (SYNTH_FINDINGS as readonly string[]).includes(t), {
        message: `must be one of ${[...SYNTH_TARGETS, ...SYNTH_FINDINGS].join(', ')}`,
      })
      .default('lung-findings'),
  })
  .strict()
  .default({});

export const SegConfigSchema = z
  .object({
    ...CommonConfigShape,
    data: DataSchema,
    seg: z
      .object({
        /** also transfer the pretrained decoder and segmentation head (G2D's own, from the checkpoint) */
        transferDecoder: z.boolean().default(false),
        /** freeze the encoder: 'auto' = frozen when it has pretrained weights, trained with the decoder when random */
        freezeEncoder: z.union([z.literal('auto'), z.boolean()]).default('auto'),
        /** probability threshold of the predicted masks and the Dice */
        threshold: z.number().gt(0).lt(1).default(0.5),
      })
      .strict()
      .default({}),
    train: z
      .object({
        ...fitRecipeShape({ epochs: 12, batchSize: 8, lr: 2e-4, valEvery: 1 }),
        /** 'paper': 0.5·(soft Dice(σ) + BCE) (the "BCE + Dice" of the downstream protocol); 'code': the reference's raw-logit dice + 0.2·BCE */
        loss: z.enum(['paper', 'code']).default('paper'),
        /** training-time augmentation: 'light' = random rotation ±10° and brightness/contrast ±0.1 (image and mask together); 'none' */
        augment: z.enum(['light', 'none']).default('light'),
        /** stop after the optimizer step that crosses this many minutes of training (optional cap; the last weights are validated too) */
        maxMinutes: z.number().positive().optional(),
      })
      .strict()
      .default({}),
    output: z
      .object({
        /** overlay images written for this many test images (spread over the test set) */
        overlays: z.number().int().min(0).default(12),
        /** write the predicted masks (predictions/<image>.png) */
        predictions: z.boolean().default(true),
      })
      .strict()
      .default({}),
  })
  .strict();

export type SegConfig = z.output<typeof SegConfigSchema>;
