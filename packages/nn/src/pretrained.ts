/**
 * Saving and loading whole models through a registry of savable classes (transformers'
 * AutoModel idea):
 *
 * - `registerModelClass('ResNet', { cls: ResNet, fromConfig })`: packages register the models
 *   they define (importing the package registers them).
 * - `saveModel(model, dir)`: `dir/config.json` (`{library_name: 'g2d-ts', g2d_class, config}`)
 *   and `dir/model.safetensors` (PyTorch names and layout), both written atomically.
 * - `autoFromPretrained(pathOrHubId)`: a saved directory (the class named in config.json),
 *   a foreign config.json understood by a registered config reader (smp, timm, Hugging Face
 *   BERT…), or a bare checkpoint file/directory whose architecture a registered checkpoint
 *   reader infers from the keys. Hub ids resolve through `@g2d-ts/core`'s Hugging Face cache.
 * - `fromPretrainedAs(Class, path)`: the same, checked to be a `Class` (the static
 *   `fromPretrained` of each model class).
 * - `loadWeights(model, fileOrStateDict)`: weights into an existing model, the key prefix found.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, type FileSpec, type PretrainedOptions, type RawTensor, readCheckpoint, resolvePretrained, writeSafetensors } from '@g2d-ts/core';
import { type LoadReport, type Module, withoutRandomInit } from './module';

/** config.json of a saved model. */
export interface SavedConfig {
  library_name: 'g2d-ts';
  g2d_format: number;
  /** Registered class name. */
  g2d_class: string;
  /** The model's own name (e.g. a backbone's registry name), when it has one. */
  name?: string;
  /** The options that rebuild the model. */
  config: Record<string, unknown>;
}

export const SAVED_FORMAT_VERSION = 1;

/** How a registered class is saved and rebuilt. */
export interface ModelClassSpec<M extends Module = Module> {
  /** The class itself (a model is saved under this name when `model.constructor === cls`). */
  cls: abstract new (...args: never[]) => M;
  /** The options that rebuild `m` (default: its `config` property). */
  toConfig?(m: M): Record<string, unknown>;
  /** Builds an (untrained) instance from saved options; `saved` is the whole config.json. */
  fromConfig(config: Record<string, unknown>, saved: SavedConfig): M;
}

/** Builds a model from a foreign config.json, or returns null when it is not its format. */
export type ConfigReader = (config: Record<string, unknown>, source: string) => Module | null;
/** Builds a model whose architecture it recognises from checkpoint keys, or returns null. */
export type CheckpointReader = (sd: Map<string, RawTensor>, source: string) => Module | null;

interface Store {
  classes: Map<string, ModelClassSpec>;
  configReaders: Map<string, ConfigReader>;
  checkpointReaders: Map<string, CheckpointReader>;
}

// one registry per process, even when both the CommonJS and the ESM build are loaded
const KEY = Symbol.for('@g2d-ts/nn:model-registry');
function store(): Store {
  const g = globalThis as unknown as Record<symbol, Store | undefined>;
  g[KEY] ??= { classes: new Map(), configReaders: new Map(), checkpointReaders: new Map() };
  return g[KEY]!;
}

/** Registers a savable model class under `name` (re-registering a name replaces it). */
export function registerModelClass<M extends Module>(name: string, spec: ModelClassSpec<M>): void {
  store().classes.set(name, spec as unknown as ModelClassSpec);
}

/** Registers a reader of foreign config.json files (e.g. 'smp', 'timm', 'transformers-bert'). */
export function registerConfigReader(name: string, read: ConfigReader): void {
  store().configReaders.set(name, read);
}

/** Registers an architecture inference from checkpoint keys (bare .pth/.safetensors files). */
export function registerCheckpointReader(name: string, read: CheckpointReader): void {
  store().checkpointReaders.set(name, read);
}

/** Names of the registered classes (those of the packages imported so far). */
export function registeredModelClasses(): string[] {
  return [...store().classes.keys()];
}

/** The registered name of `model`'s class (exact constructor), or null. */
export function modelClassName(model: Module): string | null {
  for (const [name, spec] of store().classes) if (model.constructor === spec.cls) return name;
  return null;
}

const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin', 'model.pth', 'model.pt'];
const MODEL_FILES: FileSpec[] = [
  { anyOf: ['config.json'], optional: true },
  // a directory/snapshot without the standard names: its only checkpoint file
  { anyOf: WEIGHT_FILES, pattern: /\.(safetensors|pth|pt|bin)$/ },
];

async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fh = await fs.promises.open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
}

/** Writes `dir/config.json` and `dir/model.safetensors` (each atomically: temp file, fsync, rename). */
export async function saveModel(model: Module, dir: string, metadata: Record<string, string> = {}): Promise<void> {
  const name = modelClassName(model);
  if (!name) {
    throw new G2DError(
      `saveModel: ${model.constructor.name} is not a registered model class (registered: ${registeredModelClasses().join(', ') || 'none'}); register it with registerModelClass`,
    );
  }
  const spec = store().classes.get(name)!;
  const config = spec.toConfig ? spec.toConfig(model) : ((model as unknown as { config?: Record<string, unknown> }).config ?? {});
  const ownName = (model as unknown as { name?: unknown }).name;
  const cfg: SavedConfig = {
    library_name: 'g2d-ts',
    g2d_format: SAVED_FORMAT_VERSION,
    g2d_class: name,
    ...(typeof ownName === 'string' ? { name: ownName } : {}),
    config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
  };
  await fs.promises.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, 'model.safetensors'), model.stateDict(), { format: 'pt', g2d_class: name, ...metadata });
  await writeFileAtomic(path.join(dir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
}

/** Builds the (untrained) model a config.json describes: ours, or a registered foreign format. */
export function modelFromConfigJson(cfg: Record<string, unknown>, source = 'config.json'): Module {
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new G2DError('config.json must be a JSON object', { source });
  const s = store();
  if (cfg.library_name === 'g2d-ts') {
    const cls = String(cfg.g2d_class);
    const spec = s.classes.get(cls);
    if (!spec) {
      throw new G2DError(
        `g2d_class "${cls}" is not registered (registered: ${registeredModelClasses().join(', ') || 'none'}); import the package that defines it (e.g. @g2d-ts/vision, @g2d-ts/text)`,
        { source },
      );
    }
    const config = cfg.config;
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new G2DError('"config" must be an object', { source });
    return spec.fromConfig(config as Record<string, unknown>, cfg as unknown as SavedConfig);
  }
  for (const read of s.configReaders.values()) {
    const m = read(cfg, source);
    if (m) return m;
  }
  throw new G2DError(`config.json describes no known model (expected the g2d-ts format or one of: ${[...s.configReaders.keys()].join(', ') || 'no readers registered'})`, {
    source,
  });
}

/** Builds the model whose architecture a registered checkpoint reader recognises in `sd`'s keys. */
export function modelFromStateDict(sd: Map<string, RawTensor>, source = '(state dict)'): Module {
  for (const read of store().checkpointReaders.values()) {
    const m = read(sd, source);
    if (m) return m;
  }
  const keys = [...sd.keys()];
  throw new G2DError(
    `cannot infer the architecture from the checkpoint keys (${keys.slice(0, 6).join(', ')}${keys.length > 6 ? '…' : ''}); save a config.json beside it or build the model and call loadWeights`,
    { source },
  );
}

export interface FromPretrainedOptions extends PretrainedOptions {
  /** Strict name/shape checking (default true). */
  strict?: boolean;
  /** Called with the load report. */
  onReport?: (r: LoadReport) => void;
}

const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new G2DError(`invalid JSON: ${(e as Error).message}`, { source: file });
  }
}

/**
 * Builds a model and loads its weights from a local directory (config.json + weights), a
 * local checkpoint file (architecture inferred from its keys), or a Hugging Face hub id
 * (cache first; downloads when online). The model is returned in eval mode (as transformers'
 * from_pretrained); call `train()` to fine-tune.
 */
export async function autoFromPretrained(pathOrHubId: string, opts: FromPretrainedOptions = {}): Promise<Module> {
  let weights: string;
  let build: (sd: Map<string, RawTensor>) => Module;
  if (isFile(pathOrHubId)) {
    weights = path.resolve(pathOrHubId);
    build = (sd) => modelFromStateDict(sd, weights);
  } else {
    const { revision, cacheDir, offline, accessToken, hubUrl, fetch } = opts;
    const r = await resolvePretrained(pathOrHubId, MODEL_FILES, { revision, cacheDir, offline, accessToken, hubUrl, fetch });
    weights = r.files.get(WEIGHT_FILES[0]!)!;
    const cfgPath = r.files.get('config.json');
    if (cfgPath) {
      const cfg = readJson(cfgPath);
      build = () => modelFromConfigJson(cfg, cfgPath);
    } else build = (sd) => modelFromStateDict(sd, weights);
  }
  const sd = await readCheckpoint(weights);
  const model = withoutRandomInit(() => build(sd));
  try {
    const report = model.loadStateDict(sd, { strict: opts.strict ?? true, source: weights, findPrefix: true });
    opts.onReport?.(report);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model.eval();
}

/** `autoFromPretrained`, checked to give an instance of `cls` (the static `fromPretrained` of model classes). */
export async function fromPretrainedAs<M extends Module>(
  cls: abstract new (...args: never[]) => M,
  pathOrHubId: string,
  opts: FromPretrainedOptions = {},
): Promise<M> {
  const m = await autoFromPretrained(pathOrHubId, opts);
  if (!(m instanceof cls)) {
    const got = m.constructor.name;
    m.dispose();
    throw new G2DError(`holds a ${got}, not a ${cls.name}; use autoFromPretrained or ${got}.fromPretrained`, { source: pathOrHubId });
  }
  return m;
}

export interface LoadWeightsOptions {
  /** Missing/unexpected keys are errors (default true); shape mismatches always are. */
  strict?: boolean;
  /** Force the key prefix instead of finding it (e.g. "img_model.encoder."). */
  prefix?: string;
}

/**
 * Loads a checkpoint file (safetensors, PyTorch zip or legacy pickle) or a state dict into
 * `model`, finding where its keys live ("", "module.", "encoder.", "img_model.encoder."…).
 */
export async function loadWeights(model: Module, source: string | Map<string, RawTensor>, opts: LoadWeightsOptions = {}): Promise<LoadReport> {
  const sd = typeof source === 'string' ? await readCheckpoint(source) : source;
  return model.loadStateDict(sd, {
    strict: opts.strict ?? true,
    source: typeof source === 'string' ? source : '(state dict)',
    prefix: opts.prefix,
    findPrefix: opts.prefix === undefined,
  });
}
