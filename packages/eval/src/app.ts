/**
 * The frame every `g2d-eval-*` app shares, so an app writes only what is its own:
 *
 * - `evalAppSpec`: the bin (`run`, an optional `demo` = run with other defaults, `aggregate` for
 *   grids), each command resolving the common flags into the app's config, starting the backend,
 *   calling the app's run and printing its summary;
 * - `startEvalRun`: a run's first steps (phase timer, output folder, encoder, preprocessing);
 * - `loadDenseData` / `denseSplits`: the dense tasks' data (items without annotations left out
 *   by the app's filter) and their patient-level splits;
 * - `resultsData`: the `data` block of `results.json` every app writes.
 */
import type { z, ZodTypeAny } from 'zod';
import { initBackend, packageVersion, type CliArgs, type CliContext, type CliOption, type CliSpec } from '@g2d-ts/core';
import type { G2DModel } from '@g2d-ts/model';
import { loadDataset, makeSplits, splitSizes, type EvalSplits, type LoadedDataset } from './data';
import { denseTestDataset } from './dense';
import { resolveEncoder, type EncoderInfo } from './encoder';
import { gridAggregateCommand } from './grid';
import { COMMON_OPTIONS, parseCommonFlags, resolveEvalConfig, type CommonConfig, type CommonFlags } from './options';
import { transformFor, type EvalTransform } from './preprocess';
import type { ResultsDocument } from './results';
import { outputDir, PhaseTimer } from './run';

/** What a run gets from its command: where it runs, the backend in use, a logger (stderr), and (tests: null) the default checkpoint. */
export interface EvalRunOptions {
  cwd: string;
  backend: string;
  log: (line: string) => void;
  /** default checkpoint override (tests: null = never the demo checkpoint) */
  defaultCheckpoint?: string | null;
}

/** The app-specific part of a bin (see `evalAppSpec`). */
export interface EvalAppDefinition<S extends ZodTypeAny, R> {
  /** the bin's name, e.g. `g2d-eval-segmentation` */
  name: string;
  /** the app's package name (the bin's version) and folder (`__dirname` of its main) */
  packageName: string;
  dir: string;
  summary: string;
  schema: S;
  run: {
    summary: string;
    usage?: string;
    details: string;
    /** the command's options (default: `COMMON_OPTIONS`) */
    options?: Record<string, CliOption>;
    /**
     * the app's defaults below --config, --set and the flags; a function may also read the
     * parsed flags and add overrides (e.g. a protocol flag)
     */
    defaults?: Record<string, unknown> | ((flags: CommonFlags, args: CliArgs, ctx: CliContext) => Record<string, unknown>);
  };
  /** `demo`: `run` with these defaults */
  demo?: { summary: string; defaults: Record<string, unknown> };
  /** the title of the `aggregate` command's table */
  gridTitle: string;
  execute: (cfg: z.output<S>, opts: EvalRunOptions) => Promise<R>;
  /** prints the run's summary to stdout */
  report: (r: R, cfg: z.output<S>, ctx: CliContext) => void;
}

/** A `g2d-eval-*` bin: `run` (the default command), optionally `demo`, and `aggregate`. */
export function evalAppSpec<S extends ZodTypeAny, R>(app: EvalAppDefinition<S, R>): CliSpec {
  const options = app.run.options ?? { ...COMMON_OPTIONS };
  const command = async (args: CliArgs, ctx: CliContext, defaults: EvalAppDefinition<S, R>['run']['defaults']): Promise<number> => {
    const flags = parseCommonFlags(args.values, ctx.cwd);
    const cfg = resolveEvalConfig(app.schema, (typeof defaults === 'function' ? defaults(flags, args, ctx) : defaults) ?? {}, flags);
    const log = (l: string) => ctx.err(`${l}\n`);
    const be = await initBackend({ log });
    app.report(await app.execute(cfg, { cwd: ctx.cwd, backend: be.backend, log }), cfg, ctx);
    return 0;
  };
  const demo = app.demo;
  return {
    name: app.name,
    version: packageVersion(app.dir, app.packageName),
    summary: app.summary,
    defaultCommand: 'run',
    commands: {
      run: { summary: app.run.summary, usage: app.run.usage, options, details: app.run.details, run: (a, ctx) => command(a, ctx, app.run.defaults) },
      ...(demo && {
        demo: {
          summary: demo.summary,
          options,
          details: `Same as run with ${JSON.stringify(demo.defaults)} as defaults (flags and --set still apply).`,
          run: (a: CliArgs, ctx: CliContext) => command(a, ctx, demo.defaults),
        },
      }),
      aggregate: gridAggregateCommand(app.gridTitle),
    },
  };
}

/** What a run has after its first steps. */
export interface EvalRunStart {
  timer: PhaseTimer;
  out: string;
  model: G2DModel;
  info: EncoderInfo;
  /** the reference preprocessing at the model's input size */
  t: EvalTransform;
}

/**
 * A run's first steps: the phase timer, the output folder (`outputDir`; logged as
 * `[<tag>] outputs in …` when `tag` is given) and the encoder (phase `encoder`).
 */
export async function startEvalRun(app: string, cfg: CommonConfig, opts: EvalRunOptions, o: { protocol?: string; tag?: string } = {}): Promise<EvalRunStart> {
  const timer = new PhaseTimer();
  const out = outputDir(app, cfg, opts.cwd, o.protocol);
  if (o.tag) opts.log(`[${o.tag}] outputs in ${out}`);
  const { model, info } = await timer.time('encoder', () =>
    resolveEncoder(cfg.encoder, { cwd: opts.cwd, preset: cfg.encoderPreset, seed: cfg.encoderSeed, log: opts.log, defaultCheckpoint: opts.defaultCheckpoint }),
  );
  return { timer, out, model, info, t: transformFor(model.config) };
}

/**
 * A dense task's `--dataset` and optional `--test` folder, without labels required; `keep`
 * leaves out the items the task cannot use (no mask, no box information) and logs it;
 * `adapterOptions` adds options per adapter to `data.adapter`.
 */
export function loadDenseData(
  cfg: CommonConfig,
  o: { log: (line: string) => void; keep?: (d: LoadedDataset) => LoadedDataset; adapterOptions?: (adapter: string) => Record<string, unknown> },
): { data: LoadedDataset; test?: LoadedDataset } {
  const one = (spec: string) => {
    const adapter = spec.split(':')[0]!;
    const d = loadDataset(spec, { onError: cfg.data.onError, synthetic: cfg.data.synthetic, adapter: { ...cfg.data.adapter, ...o.adapterOptions?.(adapter) }, requireLabels: false, log: o.log });
    return o.keep ? o.keep(d) : d;
  };
  return { data: one(cfg.dataset), test: cfg.test ? one(cfg.test) : undefined };
}

/** The patient-level splits of a dense task (`--test`: every item of that folder is the test split) and their sizes. */
export function denseSplits(cfg: CommonConfig, data: LoadedDataset, test?: LoadedDataset): { splits: EvalSplits; sizes: ReturnType<typeof splitSizes> } {
  const splits = makeSplits(data, test && denseTestDataset(test, data), {
    splitSeed: cfg.data.splitSeed,
    ratios: cfg.data.ratios,
    fraction: cfg.fraction,
    seed: cfg.seed,
    useDatasetSplit: cfg.data.useDatasetSplit,
  });
  return { splits, sizes: splitSizes(splits) };
}

/** `results.json`'s `data` block: the keys every app writes (from the config and the run's data), then `extra`. */
export function resultsData(
  cfg: CommonConfig,
  d: { displayName: string; classes: string[]; splitSource: string; sizes: ResultsDocument['data']['sizes'] },
  extra: Record<string, unknown> = {},
): ResultsDocument['data'] {
  return { dataset: cfg.dataset, displayName: d.displayName, test: cfg.test, classes: d.classes, fraction: cfg.fraction, seed: cfg.seed, splitSource: d.splitSource, sizes: d.sizes, ...extra };
}
