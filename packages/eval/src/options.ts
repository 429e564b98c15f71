/**
 * The command-line and config conventions shared by every `g2d-eval-*` app: one option table
 * (`COMMON_OPTIONS`, spread into the app's own `runCli` command), one config schema
 * (`CommonConfigSchema`, extended by each app) and one way to resolve the final config:
 *
 *   schema defaults < app/protocol defaults < --config file < --set key=value < explicit flags
 *
 * The resolved config is what `results.json` records, so a run can be repeated from it alone.
 */
import * as path from 'node:path';
import { z, type ZodTypeAny } from 'zod';
import { G2DError, UsageError, loadConfig, parseConfig, setPath, type CliOption, type CliValues } from '@g2d-ts/core';

/** The flags every evaluation app takes (spread into the command's `options`). */
export const COMMON_OPTIONS: Record<string, CliOption> = {
  config: { type: 'string', value: 'FILE', description: 'config file (YAML or JSON); flags and --set override it' },
  dataset: {
    type: 'string',
    value: 'ADAPTER[:DIR]',
    description: 'train/val data, split by patient (default: synthetic, generated on the fly),\ne.g. nih-cxr14:../shared/data/nih_cxr14_bbox',
  },
  test: { type: 'string', value: 'ADAPTER[:DIR]', description: 'evaluate on every image of this folder (same layout) instead of the held-out split' },
  encoder: {
    type: 'string',
    value: 'PRESET|PATH',
    description: 'a model preset (random weights of that architecture) or a checkpoint: our saved folder\n(model.safetensors + config.json) or a reference *_checkpoint.pth / *_encoder.pth /\n*_encoder_decoder.pth; default: runs/pretrain-demo/final when present, else random g2d-resnet18-tiny',
  },
  fraction: { type: 'string', value: 'F', description: 'share of the training split used for training: 0.01, 0.1 or 1 (also 1%, 10%, 100%)' },
  seed: { type: 'string', value: 'N', description: 'seed of the label-fraction sample, the head initialisation and the data order (default 0)' },
  out: { type: 'string', value: 'DIR', description: 'output folder (default runs/<app>/<adapter>[-<protocol>]-<pct>-s<seed> in the working directory)' },
  set: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'override one config key (dotted, e.g. train.epochs=5; values parsed as JSON when they can be)' },
  'cache-dir': { type: 'string', value: 'DIR', description: 'feature/image cache folder (default <workspace>/.cache/g2d-eval, or $G2D_EVAL_CACHE)' },
};

/** The config keys every evaluation app shares (apps `.extend()` it with their own). */
export const CommonConfigShape = {
  /** `<adapter>[:<dir>]` (a dataset registry name and its root) */
  dataset: z.string().min(1).default('synthetic'),
  /** `<adapter>[:<dir>]`: evaluate on every item of this folder instead of the held-out split */
  test: z.string().min(1).optional(),
  /** preset name or checkpoint path; unset: the pretrain:demo checkpoint when present, else random g2d-resnet18-tiny */
  encoder: z.string().min(1).optional(),
  /** the architecture to load a reference `.pth` into (our saved folders carry their own config) */
  encoderPreset: z.string().min(1).default('g2d-resnet50'),
  /** seed of a preset's random weights (fixed across --seed, so the random baseline is one encoder and its features are cached once) */
  encoderSeed: z.number().int().min(0).default(0),
  fraction: z.number().gt(0).max(1).default(1),
  seed: z.number().int().min(0).default(0),
  out: z.string().min(1).optional(),
  data: z
    .object({
      /** seed of the patient-level train/val/test split (fixed across --seed: every seed is tested on the same patients) */
      splitSeed: z.number().int().min(0).default(0),
      /** patient shares of the split when the dataset does not define one (with --test: train/val only, renormalised) */
      ratios: z.object({ train: z.number().min(0), val: z.number().min(0), test: z.number().min(0) }).strict().default({ train: 0.7, val: 0.15, test: 0.15 }),
      /** keep only these classes (names of the adapter's classes), in this order */
      classes: z.array(z.string().min(1)).min(1).optional(),
      /** use the dataset's own split (e.g. the synthetic data's meta.split) when every item has one */
      useDatasetSplit: z.boolean().default(true),
      /** bad rows: fail (default) or skip them (counted in results.json) */
      onError: z.enum(['fail', 'skip']).default('fail'),
      /** the on-the-fly synthetic dataset (`--dataset synthetic` without a folder) */
      synthetic: z
        .object({
          count: z.number().int().min(1).default(400),
          size: z.number().int().min(64).max(2048).optional(),
          seed: z.number().int().min(0).default(0),
        })
        .strict()
        .default({}),
      /** extra adapter options (e.g. { masks: 'none' } for covid-chestxray) */
      adapter: z.record(z.unknown()).default({}),
    })
    .strict()
    .default({}),
  cache: z
    .object({
      /** cache folder (the --cache-dir flag; default <workspace>/.cache/g2d-eval or $G2D_EVAL_CACHE) */
      dir: z.string().min(1).optional(),
      /** cache features (frozen-encoder protocols) */
      features: z.boolean().default(true),
      /** cache preprocessed images (uint8, at the model's input size) */
      images: z.boolean().default(true),
    })
    .strict()
    .default({}),
  /** batch size of frozen-encoder inference (feature extraction) */
  inferenceBatchSize: z.number().int().min(1).default(32),
} as const;

export const CommonConfigSchema = z.object(CommonConfigShape).strict();
export type CommonConfig = z.output<typeof CommonConfigSchema>;

/** `0.01`, `1%`, `10%`, `100%`, `1` -> a fraction in (0, 1]. */
export function parseFraction(text: string, what = 'option --fraction'): number {
  const t = text.trim();
  const pct = t.endsWith('%');
  const n = Number(pct ? t.slice(0, -1) : t);
  const f = pct ? n / 100 : n;
  if (t === '' || !Number.isFinite(f) || !(f > 0 && f <= 1)) throw new UsageError(`${what} must be a fraction in (0, 1] such as 0.01, 0.1, 1 or 1%, got "${text}"`);
  return f;
}

/** `key=value` -> [key, value]; the value is JSON when it parses (numbers, booleans, arrays), else the raw string. */
export function parseSetOption(text: string): [string, unknown] {
  const k = text.indexOf('=');
  if (k <= 0) throw new UsageError(`option --set takes KEY=VALUE (dotted key, e.g. train.epochs=5), got "${text}"`);
  const key = text.slice(0, k).trim();
  if (!/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/.test(key)) throw new UsageError(`option --set: "${key}" is not a dotted config key`);
  const raw = text.slice(k + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  return [key, value];
}

export interface CommonFlags {
  config?: string;
  /** dotted key -> value, from --set and the explicit flags (flags last, so they win) */
  overrides: [string, unknown][];
}

/**
 * Reads the common flags into config overrides (paths resolved against `cwd`; usage errors
 * name the option). `--dataset`/`--test` roots are resolved when they name a folder.
 */
export function parseCommonFlags(values: CliValues, cwd: string): CommonFlags {
  const str = (name: string): string | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new UsageError(`option --${name} needs a value`);
    return v;
  };
  const overrides: [string, unknown][] = [];
  const sets = values.set;
  for (const s of Array.isArray(sets) ? sets : typeof sets === 'string' ? [sets] : []) overrides.push(parseSetOption(s));
  const ds = str('dataset');
  if (ds !== undefined) overrides.push(['dataset', resolveDatasetArg(ds, cwd)]);
  const test = str('test');
  if (test !== undefined) overrides.push(['test', resolveDatasetArg(test, cwd)]);
  const enc = str('encoder');
  if (enc !== undefined) overrides.push(['encoder', enc]);
  const fr = str('fraction');
  if (fr !== undefined) overrides.push(['fraction', parseFraction(fr)]);
  const seed = str('seed');
  if (seed !== undefined) {
    const n = Number(seed);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`option --seed must be an integer >= 0, got "${seed}"`);
    overrides.push(['seed', n]);
  }
  const out = str('out');
  if (out !== undefined) overrides.push(['out', path.resolve(cwd, out)]);
  const cache = str('cache-dir');
  if (cache !== undefined) overrides.push(['cache.dir', path.resolve(cwd, cache)]);
  const config = str('config');
  return { config: config === undefined ? undefined : path.resolve(cwd, config), overrides };
}

/** `adapter:relative/dir` -> `adapter:/absolute/dir` (a bare adapter name is kept). */
export function resolveDatasetArg(spec: string, cwd: string): string {
  const k = spec.indexOf(':');
  if (k <= 0) return spec;
  const root = spec.slice(k + 1);
  return root ? `${spec.slice(0, k)}:${path.resolve(cwd, root)}` : spec.slice(0, k);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge (objects merged key by key, everything else replaced). */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/**
 * The run's config: `defaults` (the app's protocol defaults), then the --config file, then the
 * overrides (--set, flags), validated against `schema` (errors name every bad key and the
 * file). Relative paths inside the config file (dataset/test roots, encoder, out) resolve
 * against the file's folder.
 */
export function resolveEvalConfig<S extends ZodTypeAny>(schema: S, defaults: Record<string, unknown>, flags: CommonFlags): z.output<S> {
  let raw: Record<string, unknown> = structuredClone(defaults);
  let source = '<command line>';
  if (flags.config) {
    const file = loadConfig(flags.config, z.record(z.unknown())) as Record<string, unknown>;
    const dir = path.dirname(flags.config);
    for (const k of ['dataset', 'test'] as const) if (typeof file[k] === 'string') file[k] = resolveDatasetArg(file[k] as string, dir);
    for (const k of ['out'] as const) if (typeof file[k] === 'string') file[k] = path.resolve(dir, file[k] as string);
    if (typeof file.encoder === 'string' && /[/\\]|\.(pth|safetensors)$/.test(file.encoder)) file.encoder = path.resolve(dir, file.encoder);
    raw = deepMerge(raw, file);
    source = flags.config;
  }
  for (const [k, v] of flags.overrides) setPath(raw, k, v);
  try {
    return parseConfig(raw, schema, flags.overrides.length ? `${source} + command-line overrides` : source);
  } catch (e) {
    if (e instanceof G2DError) throw e;
    throw new G2DError(`invalid config: ${(e as Error).message}`, { source });
  }
}
