/**
 * Pretraining run configuration (YAML): the model (a preset plus overrides), the data, the
 * optimisation recipe and the outputs. `loadPretrainConfig` also reads the reference's own
 * PRETRAIN/config.yaml (keys `network`, `trainer`, `optimizer`, `img_path`, `text_path`,
 * `wandb_name`) and maps it onto this schema.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z, type ZodType } from 'zod';
import { G2DError, parseConfig, setPath } from '@g2d-ts/core';

const schedulerSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('cosine-warm-restarts'),
      /** iterations of the first cycle (the reference: 200, stepped every iteration) */
      T0: z.number().int().positive().default(200),
      Tmult: z.number().int().positive().default(1),
      etaMin: z.number().min(0).default(1e-8),
    })
    .strict(),
  z
    .object({
      kind: z.literal('warmup-cosine'),
      warmupSteps: z.number().int().min(0).default(0),
      /** total steps of the cosine; default: the run's total steps */
      totalSteps: z.number().int().positive().optional(),
      minLr: z.number().min(0).default(0),
    })
    .strict(),
  z.object({ kind: z.literal('constant') }).strict(),
]);

export const PretrainConfigSchema = z
  .object({
    name: z.string().default('g2d'),
    description: z.string().optional(),
    /** a @g2d-ts/model preset name */
    model: z.string().default('g2d-resnet50'),
    /** merged over the preset (e.g. { loss: { vlaOnlySteps: 60 } }) */
    modelOverrides: z.record(z.unknown()).default({}),
    /** 'reference-code' | 'paper': shorthand for modelOverrides.recipe */
    recipe: z.enum(['reference-code', 'paper']).optional(),
    /** start from weights: any reference checkpoint kind or our saved model */
    init: z.string().optional(),
    data: z
      .object({
        /**
         * 'synthetic' (generated on the fly, deterministic), 'synthetic:<dir>' (written by
         * `g2d-data synth`), 'mimic-cxr:<dir>' (MGCA master CSV layout), 'mimic-npy:<file.npy>,<file.csv>'
         * (the reference's ext_data.py output), 'covid-chestxray:<dir>', 'covid-figure1:<dir>'
         */
        dataset: z.string().default('synthetic'),
        /** synthetic: number of image-report pairs */
        count: z.number().int().positive().default(1000),
        /** synthetic: generated image size (resized to the model's imageSize) */
        size: z.number().int().positive().optional(),
        /** share of patients held out for validation (retrieval accuracy each epoch, the report's figures) */
        valFraction: z.number().min(0).lt(1).default(0.1),
        /** cap on validation pairs evaluated each epoch */
        maxVal: z.number().int().positive().default(256),
        /**
         * cap on validation images whose attention spread and pseudo masks (synthetic: against
         * each finding's true mask) are scored each epoch; at least the retrieval pairs. The
         * per-finding scores need many images per finding: 64 images hold 8-14 of each.
         */
        maxMaskVal: z.number().int().positive().default(512),
        seed: z.number().int().default(0),
        /** 'reference': CenterCrop + RandomAffine(15, shear 15) + ColorJitter(0.2, 0.2); 'none' */
        augment: z.enum(['reference', 'none']).default('reference'),
        /**
         * the text paired with each image: 'report' (the reference: impression + findings,
         * cleaned as in the reference's dataset code) or 'impression' (the impression section
         * alone: short, mostly positive statements; what a from-scratch text tower can learn in
         * minutes). 'impression' needs a source with separate sections: synthetic, mimic-npy.
         */
        text: z.enum(['report', 'impression']).default('report'),
        /**
         * padding of the training batches: 'max_length' (the reference: every report padded to
         * text.maxLength, so the text projection's BatchNorm statistics mix CLS, word and pad
         * tokens) or 'longest' (to the batch's longest report: fewer pad tokens in those statistics)
         */
        padding: z.enum(['max_length', 'longest']).default('max_length'),
        /** decode/augment worker threads (0: main thread) */
        workers: z.number().int().min(0).default(1),
      })
      .strict()
      .default({}),
    train: z
      .object({
        batchSize: z.number().int().positive().default(64),
        /** epochs to run (the reference's loop runs max_epochs + 1 = 52 with max_epochs 51) */
        epochs: z.number().int().positive().default(52),
        /** stop after this many optimizer steps (optional cap) */
        maxSteps: z.number().int().positive().optional(),
        lr: z.number().positive().default(2e-5),
        weightDecay: z.number().min(0).default(1e-8),
        betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
        eps: z.number().positive().default(1e-8),
        /** learning-rate multipliers by parameter-name prefix, e.g. { attnpool: 10 } (the reference: none) */
        lrScale: z.record(z.number().min(0)).default({}),
        scheduler: schedulerSchema.default({ kind: 'cosine-warm-restarts' }),
        gradAccumulation: z.number().int().positive().default(1),
        clipGradNorm: z.number().positive().nullable().default(null),
        seed: z.number().int().default(42),
        /** write a full resumable checkpoint every N optimizer steps (and at each epoch end) */
        checkpointEvery: z.number().int().positive().default(500),
        /** keep the newest N step checkpoints */
        keepCheckpoints: z.number().int().positive().default(2),
        /** export the reference kinds (encoder, encoder+decoder; .pth + .safetensors) every N epochs (the reference: 2) */
        exportEvery: z.number().int().positive().default(2),
        memory: z.enum(['fast', 'balanced', 'lean']).default('fast'),
      })
      .strict()
      .default({}),
    report: z
      .object({
        /** validation images with attention / pseudo mask / decoder overlays */
        samples: z.number().int().min(0).default(8),
        retrievalExamples: z.number().int().min(0).default(4),
      })
      .strict()
      .default({}),
  })
  .strict();

export type PretrainConfig = z.output<typeof PretrainConfigSchema>;

/** `key=value` overrides: values parsed as YAML scalars/flow collections (`1e-3`, `true`, `[1, 2]`). */
export function parseSets(sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const i = s.indexOf('=');
    if (i <= 0) throw new G2DError(`--set expects key=value, got "${s}"`);
    const key = s.slice(0, i).trim();
    const raw = s.slice(i + 1);
    let v: unknown;
    try {
      v = parseYaml(raw);
    } catch {
      v = raw;
    }
    out[key] = v === null && raw.trim() !== 'null' && raw.trim() !== '~' ? raw : v;
  }
  return out;
}

/** Whether a parsed YAML object is the reference's PRETRAIN/config.yaml. */
export function isReferenceConfig(raw: Record<string, unknown>): boolean {
  return 'network' in raw && 'trainer' in raw;
}

/**
 * Maps the reference's config.yaml keys onto ours. Keys the reference itself ignores
 * (feature_dim, trainer.lr, test_interval, num_workers) are dropped; unknown keys are errors.
 */
export function fromReferenceConfig(raw: Record<string, unknown>, source: string): Record<string, unknown> {
  const net = (raw.network ?? {}) as Record<string, unknown>;
  const tr = (raw.trainer ?? {}) as Record<string, unknown>;
  const opt = ((raw.optimizer ?? {}) as Record<string, unknown>).params as Record<string, unknown> | undefined;
  const known = new Set(['network', 'trainer', 'optimizer', 'img_path', 'text_path', 'wandb_name']);
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length) throw new G2DError(`unknown top-level keys for a reference config.yaml: ${unknown.join(', ')}`, { source });
  if (net.decoder !== undefined && net.decoder !== 'yes') {
    throw new G2DError('network.decoder: only "yes" (the G2D CNN_AE model) is supported; "no" is the reference\'s global-only baseline', { source });
  }
  const backbone = String(net.img_model ?? 'resnet50');
  const ph = (net.projection_head ?? {}) as Record<string, unknown>;
  const threshold = String(tr.merge_threshold ?? 'quantil');
  const modelOverrides: Record<string, unknown> = {
    backbone,
    imageSize: net.img_size ?? 256,
    attentionHeads: net.att_pool_head ?? 4,
    projection: { hidden: ph.mlp_hidden_size ?? 128, out: ph.projection_size ?? 128 },
    text: { freezeLayers: net.free_layers ?? 9 },
    pseudoMask: { threshold: threshold === 'quantil' ? 'quantile' : threshold, quantile: tr.quantil ?? 0.85, numMaps: tr.num_pseudo_map ?? 1 },
  };
  if (net.unet_out_channel !== undefined && net.unet_out_channel !== 1) {
    throw new G2DError(`network.unet_out_channel: the pseudo-segmentation head has 1 output channel, got ${String(net.unet_out_channel)}`, { source });
  }
  if (tr.crop_img_size !== undefined && tr.crop_img_size !== net.img_size) {
    throw new G2DError(`trainer.crop_img_size (${String(tr.crop_img_size)}) must equal network.img_size (${String(net.img_size)}): the pseudo mask is made at the image size`, { source });
  }
  const img = raw.img_path as string | undefined;
  const txt = raw.text_path as string | undefined;
  const dataset = img && txt && img !== 'your.npy' ? `mimic-npy:${path.resolve(path.dirname(source), img)},${path.resolve(path.dirname(source), txt)}` : 'synthetic';
  return {
    name: raw.wandb_name && raw.wandb_name !== 'your_name' ? String(raw.wandb_name) : 'g2d-reference',
    model: 'g2d-resnet50',
    recipe: 'reference-code',
    modelOverrides,
    data: { dataset },
    train: {
      batchSize: tr.batch_size ?? 64,
      // the reference loops `range(start_epoch, max_epochs + 1)`: kept, 52 epochs for max_epochs 51
      epochs: Number(tr.max_epochs ?? 51) + 1,
      lr: opt?.lr ?? 2e-5,
      weightDecay: opt?.weight_decay ?? 1e-8,
      scheduler: { kind: 'cosine-warm-restarts', T0: 200, Tmult: 1, etaMin: 1e-8 },
    },
  };
}

/** Loads a run config (ours or the reference's config.yaml), applies `--set` overrides and validates. */
export function loadPretrainConfig(file: string | undefined, sets: string[] = []): { config: PretrainConfig; source: string } {
  let raw: Record<string, unknown> = {};
  const source = file ? path.resolve(file) : '<defaults>';
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(source, 'utf8');
    } catch (e) {
      throw new G2DError(`cannot read the config (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { source });
    }
    try {
      raw = (parseYaml(text) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new G2DError(`not valid YAML: ${(e as Error).message}`, { source });
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new G2DError('the config must be a YAML mapping', { source });
    if (isReferenceConfig(raw)) raw = fromReferenceConfig(raw, source);
  }
  for (const [k, v] of Object.entries(parseSets(sets))) setPath(raw, k, v);
  return { config: parseConfig<PretrainConfig>(raw, PretrainConfigSchema as unknown as ZodType<PretrainConfig>, source), source };
}

/** The config a run was started with (its `run.json`), with `--set` overrides applied on top. */
export function configOfRun(outDir: string, sets: string[] = []): PretrainConfig {
  const source = path.join(path.resolve(outDir), 'run.json');
  if (!fs.existsSync(source)) throw new G2DError('not a pretraining run folder (no run.json)', { source: path.resolve(outDir) });
  let raw: Record<string, unknown>;
  try {
    raw = (JSON.parse(fs.readFileSync(source, 'utf8')) as { config?: Record<string, unknown> }).config ?? {};
  } catch (e) {
    throw new G2DError(`run.json is not valid JSON: ${(e as Error).message}`, { source });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new G2DError('run.json has no "config" mapping', { source });
  raw = structuredClone(raw);
  for (const [k, v] of Object.entries(parseSets(sets))) setPath(raw, k, v);
  return parseConfig<PretrainConfig>(raw, PretrainConfigSchema as unknown as ZodType<PretrainConfig>, source);
}
