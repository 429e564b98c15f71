/**
 * The G2D model configuration: one schema-validated object for the architecture, the
 * pseudo-mask processor, the objective and the preprocessing, plus the `recipe` switch that
 * picks the reference code's behaviour or the paper's in one place.
 *
 * Option names mirror the component functions they feed (outside code calls those by these
 * names): `pseudoMask.mode` -> attentionToPseudoMask `mode`, `loss.variant` -> bceDiceLoss
 * `variant`, `loss.symmetric` -> clipLoss `symmetric`, `preprocessing.variant` -> the data
 * package's reference preprocessing `variant`. Each is optional: unset, the recipe decides.
 */
import { z, type ZodType } from 'zod';
import { parseConfig, G2DError } from '@g2d-ts/core';

export const RECIPES = ['reference-code', 'paper'] as const;
export type Recipe = (typeof RECIPES)[number];

const positiveInt = z.number().int().positive();

export const TextConfigSchema = z
  .object({
    /** 'bio-clinicalbert' (the cased Bio_ClinicalBERT WordPiece vocabulary), 'synthetic' (the built-in vocabulary of the synthetic dataset, 800 tokens: set vocabSize 800) or a path to a vocab.txt / tokenizer.json */
    vocab: z.string().min(1).default('bio-clinicalbert'),
    vocabSize: positiveInt.default(28996),
    hiddenSize: positiveInt.default(768),
    numHiddenLayers: positiveInt.default(12),
    numAttentionHeads: positiveInt.default(12),
    intermediateSize: positiveInt.default(3072),
    maxPositionEmbeddings: positiveInt.default(512),
    typeVocabSize: positiveInt.default(2),
    hiddenDropoutProb: z.number().min(0).max(1).default(0.1),
    attentionProbsDropoutProb: z.number().min(0).max(1).default(0.1),
    layerNormEps: z.number().positive().default(1e-12),
    /** the first N encoder layers are frozen (the reference: 9 of 12); embeddings stay trainable */
    freezeLayers: z.number().int().min(0).default(9),
    /** tokenizer truncation / max_length padding in training (the reference: 256) */
    maxLength: positiveInt.default(256),
    /** lowercase before WordPiece (unset: the recipe decides; reference-code lowercases, as HF did implicitly) */
    lowercase: z.boolean().optional(),
  })
  .strict();

export const G2DConfigSchema = z
  .object({
    name: z.string().default('custom'),
    description: z.string().optional(),
    recipe: z.enum(RECIPES).default('reference-code'),
    /** image encoder: a CNN backbone of @g2d-ts/vision's registry (resnet18/34/50/101) */
    backbone: z.string().default('resnet50'),
    /** custom encoder config (e.g. ResNet widths) passed to the registry */
    encoderConfig: z.record(z.unknown()).optional(),
    imageSize: positiveInt.default(256),
    inChannels: positiveInt.default(3),
    decoderChannels: z.array(positiveInt).min(1).default([256, 128, 64, 32, 16]),
    projection: z.object({ hidden: positiveInt.default(128), out: positiveInt.default(128) }).strict().default({}),
    attentionHeads: positiveInt.default(4),
    text: TextConfigSchema.default({}),
    pseudoMask: z
      .object({
        mode: z.enum(['code', 'paper']).optional(),
        threshold: z.enum(['quantile', 'mean', 'median', 'quantil']).default('quantile'),
        quantile: z.number().gt(0).lt(1).default(0.85),
        /** 1: one mask from the head mean (the reference); = attentionHeads: one per head */
        numMaps: positiveInt.default(1),
      })
      .strict()
      .default({}),
    loss: z
      .object({
        temperature: z.number().positive().default(0.07),
        symmetric: z.boolean().optional(),
        variant: z.enum(['code', 'paper']).optional(),
        /** optimizer steps trained with VLA only before PS joins (unset: the recipe decides; reference 200) */
        vlaOnlySteps: z.number().int().min(0).optional(),
        /** weight of the PS term after the VLA-only steps (reference 1) */
        psWeight: z.number().min(0).default(1),
        vlaWeight: z.number().min(0).default(1),
      })
      .strict()
      .default({}),
    preprocessing: z
      .object({
        variant: z.enum(['code', 'clean']).optional(),
        /** per-channel normalisation of the [0,1] image (the reference: ImageNet) */
        mean: z.tuple([z.number(), z.number(), z.number()]).default([0.485, 0.456, 0.406]),
        std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([0.229, 0.224, 0.225]),
      })
      .strict()
      .default({}),
  })
  .strict();

export type G2DConfigInput = z.input<typeof G2DConfigSchema>;
type Parsed = z.output<typeof G2DConfigSchema>;

/** A validated config with every recipe-dependent option resolved. */
export interface G2DConfig extends Omit<Parsed, 'pseudoMask' | 'loss' | 'preprocessing' | 'text'> {
  text: Omit<Parsed['text'], 'lowercase'> & { lowercase: boolean };
  pseudoMask: Omit<Parsed['pseudoMask'], 'mode'> & { mode: 'code' | 'paper' };
  loss: Omit<Parsed['loss'], 'symmetric' | 'variant' | 'vlaOnlySteps'> & { symmetric: boolean; variant: 'code' | 'paper'; vlaOnlySteps: number };
  preprocessing: Omit<Parsed['preprocessing'], 'variant'> & { variant: 'code' | 'clean' };
}

/**
 * What each recipe sets (README table). `reference-code` is what the released code does;
 * `paper` is what the paper describes where the two differ.
 */
export const RECIPE_SETTINGS: Record<Recipe, { 'pseudoMask.mode': 'code' | 'paper'; 'loss.variant': 'code' | 'paper'; 'loss.symmetric': boolean; 'loss.vlaOnlySteps': number; 'preprocessing.variant': 'code' | 'clean'; 'text.lowercase': boolean }> = {
  'reference-code': {
    'pseudoMask.mode': 'code',
    'loss.variant': 'code',
    'loss.symmetric': true,
    'loss.vlaOnlySteps': 200,
    'preprocessing.variant': 'code',
    'text.lowercase': true,
  },
  paper: {
    'pseudoMask.mode': 'paper',
    'loss.variant': 'paper',
    'loss.symmetric': false,
    'loss.vlaOnlySteps': 0,
    'preprocessing.variant': 'clean',
    'text.lowercase': false,
  },
};

/** Validates a config object (unknown keys are errors naming them) and resolves the recipe. */
export function resolveConfig(input: unknown, source = '<model config>'): G2DConfig {
  const c = parseConfig<Parsed>(input ?? {}, G2DConfigSchema as unknown as ZodType<Parsed>, source);
  const r = RECIPE_SETTINGS[c.recipe];
  const cfg: G2DConfig = {
    ...c,
    text: { ...c.text, lowercase: c.text.lowercase ?? r['text.lowercase'] },
    pseudoMask: { ...c.pseudoMask, mode: c.pseudoMask.mode ?? r['pseudoMask.mode'] },
    loss: {
      ...c.loss,
      symmetric: c.loss.symmetric ?? r['loss.symmetric'],
      variant: c.loss.variant ?? r['loss.variant'],
      vlaOnlySteps: c.loss.vlaOnlySteps ?? r['loss.vlaOnlySteps'],
    },
    preprocessing: { ...c.preprocessing, variant: c.preprocessing.variant ?? r['preprocessing.variant'] },
  };
  if (cfg.imageSize % 32 !== 0) throw new G2DError(`imageSize must be a multiple of 32 (the encoder's output stride), got ${cfg.imageSize}`, { source });
  if (cfg.projection.out % cfg.attentionHeads !== 0) {
    throw new G2DError(`projection.out (${cfg.projection.out}) must be divisible by attentionHeads (${cfg.attentionHeads})`, { source });
  }
  if (cfg.text.hiddenSize % cfg.text.numAttentionHeads !== 0) {
    throw new G2DError(`text.hiddenSize (${cfg.text.hiddenSize}) must be divisible by text.numAttentionHeads (${cfg.text.numAttentionHeads})`, { source });
  }
  if (cfg.text.freezeLayers > cfg.text.numHiddenLayers) {
    throw new G2DError(`text.freezeLayers (${cfg.text.freezeLayers}) exceeds text.numHiddenLayers (${cfg.text.numHiddenLayers})`, { source });
  }
  if (cfg.text.maxLength > cfg.text.maxPositionEmbeddings) {
    throw new G2DError(`text.maxLength (${cfg.text.maxLength}) exceeds text.maxPositionEmbeddings (${cfg.text.maxPositionEmbeddings})`, { source });
  }
  if (cfg.pseudoMask.numMaps !== 1 && cfg.pseudoMask.numMaps !== cfg.attentionHeads) {
    throw new G2DError(`pseudoMask.numMaps must be 1 or attentionHeads (${cfg.attentionHeads}), got ${cfg.pseudoMask.numMaps}`, { source });
  }
  return cfg;
}

/** Deep-merges `overrides` into `base` (objects merged, everything else replaced). */
export function mergeConfig(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? mergeConfig(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
