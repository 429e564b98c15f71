/**
 * The zero-shot grounding run's config: the shared evaluation keys (@g2d-ts/eval) plus the
 * prompts, which images are evaluated, the binarisation of the similarity map and the outputs.
 */
import { z } from 'zod';
import { CommonConfigShape } from '@g2d-ts/eval';

export const GroundConfigSchema = z
  .object({
    ...CommonConfigShape,
    grounding: z
      .object({
        /**
         * which images: 'all' (default: nothing is trained, so every image with a region is a
         * test case; --test selects that folder) or 'test' (the held-out split, as the
         * trained protocols)
         */
        split: z.enum(['all', 'test']).default('all'),
        /** a prompt file (JSON/YAML, @g2d-ts/heads' zero-shot layout); default: the prompts shipped with @g2d-ts/heads */
        prompts: z.string().min(1).optional(),
        /** the prompt set (default: the dataset adapter's name) */
        promptSet: z.string().min(1).optional(),
        /** the predicted region: the similarity map, min-max normalised per image, at or above this */
        threshold: z.number().gt(0).lt(1).default(0.5),
        /** only these findings (default: every finding with a region and prompts) */
        findings: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict()
      .default({}),
    output: z
      .object({
        /** heat-map overlays for this many cases (spread over them) */
        overlays: z.number().int().min(0).default(12),
      })
      .strict()
      .default({}),
  })
  .strict();

export type GroundConfig = z.output<typeof GroundConfigSchema>;
