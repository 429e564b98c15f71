/**
 * The zero-shot config: the common evaluation keys (@g2d-ts/eval) plus the prompts. No
 * training: `fraction` does not apply (the test split is the same for every fraction).
 */
import { z } from 'zod';
import { CommonConfigShape } from '@g2d-ts/eval';

export const ZeroShotConfigSchema = z
  .object({
    ...CommonConfigShape,
    /** a prompt file (JSON or YAML, @g2d-ts/heads layout); unset: the prompts shipped with @g2d-ts/heads */
    prompts: z.string().min(1).optional(),
    /** the prompt set to use (default: the dataset adapter's name, e.g. nih-cxr14, synthetic) */
    promptSet: z.string().min(1).optional(),
    /** softmax temperature over (positive, negative) cosine similarities (MedKLIP: 1) */
    temperature: z.number().positive().default(1),
    /** evaluate on the held-out test split (default, comparable with the trained protocols) or on every image */
    split: z.enum(['test', 'all']).default('test'),
  })
  .strict();

export type ZeroShotConfig = z.output<typeof ZeroShotConfigSchema>;
