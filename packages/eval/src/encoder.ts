/**
 * `--encoder` resolution, one rule for every evaluation app:
 *
 * - a preset name (`g2d-resnet18-tiny`, `g2d-resnet50`): that architecture with random weights
 *   (seeded by `encoderSeed`, default 0: the random baseline is one fixed encoder);
 * - a path: our saved folder (`model.safetensors` + `config.json`, its own config) or a
 *   reference checkpoint (`*_checkpoint.pth`, `*_encoder.pth`, `*_encoder_decoder.pth`, loaded
 *   into `encoderPreset`, default `g2d-resnet50`);
 * - nothing: the pretrain:demo checkpoint (`<workspace>/runs/pretrain-demo/final`) when it
 *   exists, else random `g2d-resnet18-tiny`; the output says which.
 *
 * Every resolved encoder carries a weights hash (sha256 over the state dict: names, shapes,
 * bytes), the key of the feature cache.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { createModel, createModelWithWeights, listModels, type G2DModel, type CheckpointKind } from '@g2d-ts/model';

export const DEFAULT_PRESET = 'g2d-resnet18-tiny';
export const DEMO_CHECKPOINT = path.join('runs', 'pretrain-demo', 'final');

export interface EncoderInfo {
  /** what --encoder said (null: not given) */
  spec: string | null;
  /** how it was resolved */
  kind: 'preset' | 'checkpoint' | 'default-checkpoint' | 'default-random';
  /** the architecture (preset name or the saved config's name) */
  architecture: string;
  /** the checkpoint path (absolute) */
  path?: string;
  checkpointKind?: CheckpointKind;
  /** model parts the checkpoint filled (the rest is random) */
  loadedParts?: string[];
  /** seed of the random weights (presets, and the parts a partial checkpoint does not cover) */
  seed: number;
  /** sha256 of the weights (the feature cache key) */
  weightsHash: string;
  /** short row label for results tables: `random g2d-resnet18-tiny`, `G2D (pretrain-demo)`… */
  label: string;
  /** one line for the log and results.json */
  note: string;
}

export interface ResolvedEncoder {
  model: G2DModel;
  info: EncoderInfo;
}

export interface ResolveEncoderOptions {
  /** where relative paths resolve (default process.cwd()) */
  cwd?: string;
  /** architecture for reference .pth checkpoints (default g2d-resnet50) */
  preset?: string;
  /** seed of random weights (default 0) */
  seed?: number;
  /** the default checkpoint: undefined = look for runs/pretrain-demo/final in the workspace; null = none */
  defaultCheckpoint?: string | null;
  log?: (line: string) => void;
}

/** The workspace root (a folder with pnpm-workspace.yaml or nx.json) above `from`, or null. */
export function findWorkspaceRoot(from: string = process.cwd()): string | null {
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'pnpm-workspace.yaml')) || fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** `<workspace>/runs/pretrain-demo/final` when it holds a saved model (from cwd, then from this module), else null. */
export function findDemoCheckpoint(cwd: string = process.cwd()): string | null {
  for (const start of [cwd, __dirname]) {
    const root = findWorkspaceRoot(start);
    if (!root) continue;
    const dir = path.join(root, DEMO_CHECKPOINT);
    if (fs.existsSync(path.join(dir, 'model.safetensors'))) return dir;
  }
  return null;
}

/** sha256 over a model's state dict (sorted names, dtype, shape and bytes), hex. */
export function weightsHash(model: G2DModel): string {
  const h = crypto.createHash('sha256');
  const sd = model.stateDict();
  for (const name of [...sd.keys()].sort()) {
    const t = sd.get(name)!;
    h.update(`${name}|${t.dtype}|${t.shape.join(',')}|`);
    const d = t.data as ArrayBufferView;
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

function looksLikePath(spec: string): boolean {
  return /[/\\]/.test(spec) || /\.(pth|pt|bin|safetensors)$/i.test(spec) || spec.startsWith('.');
}

/** Resolve `--encoder` (see the module comment). Throws a G2DError naming the spec when it is neither a preset nor an existing path. */
export async function resolveEncoder(spec: string | undefined | null, opts: ResolveEncoderOptions = {}): Promise<ResolvedEncoder> {
  const cwd = opts.cwd ?? process.cwd();
  const seed = opts.seed ?? 0;
  const log = opts.log ?? (() => undefined);
  const presets = listModels();
  if (spec && presets.includes(spec)) {
    const model = createModel(spec, { seed });
    const info: EncoderInfo = {
      spec,
      kind: 'preset',
      architecture: spec,
      seed,
      weightsHash: weightsHash(model),
      label: `random ${spec}`,
      note: `encoder: ${spec} with random weights (seed ${seed})`,
    };
    log(`[eval] ${info.note}`);
    return { model, info };
  }
  let file: string | null;
  let kind: EncoderInfo['kind'];
  if (spec) {
    file = path.resolve(cwd, spec);
    if (!fs.existsSync(file)) {
      throw new G2DError(
        `--encoder: "${spec}" is neither a model preset (${presets.join(', ')}) nor an existing checkpoint${looksLikePath(spec) ? '' : ' path'}`,
        { source: file },
      );
    }
    kind = 'checkpoint';
  } else {
    file = opts.defaultCheckpoint === undefined ? findDemoCheckpoint(cwd) : opts.defaultCheckpoint;
    kind = file ? 'default-checkpoint' : 'default-random';
  }
  if (!file) {
    const model = createModel(DEFAULT_PRESET, { seed });
    const info: EncoderInfo = {
      spec: null,
      kind,
      architecture: DEFAULT_PRESET,
      seed,
      weightsHash: weightsHash(model),
      label: `random ${DEFAULT_PRESET}`,
      note: `encoder: no --encoder and no pretrain:demo checkpoint (${DEMO_CHECKPOINT}) found, so random ${DEFAULT_PRESET} weights (seed ${seed})`,
    };
    log(`[eval] ${info.note}`);
    return { model, info };
  }
  const isOurs = fs.statSync(file).isDirectory() || /\.safetensors$/i.test(file);
  let result: Awaited<ReturnType<typeof createModelWithWeights>>;
  try {
    result = isOurs && fs.existsSync(path.join(fs.statSync(file).isDirectory() ? file : path.dirname(file), 'config.json'))
      ? await createModelWithWeights(undefined, file, { seed })
      : await createModelWithWeights(opts.preset ?? 'g2d-resnet50', file, { seed });
  } catch (e) {
    if (e instanceof G2DError) throw new G2DError(`--encoder: cannot load ${file}: ${e.message}`, { source: spec ?? DEMO_CHECKPOINT, cause: e });
    throw e;
  }
  const { model, report } = result;
  const partial = report.notCovered.length > 0;
  const name = kind === 'default-checkpoint' ? 'pretrain-demo' : path.basename(file);
  const info: EncoderInfo = {
    spec: spec ?? null,
    kind,
    architecture: model.config.name,
    path: file,
    checkpointKind: report.kind,
    loadedParts: report.parts,
    seed,
    weightsHash: weightsHash(model),
    label: `G2D (${name})`,
    note:
      (kind === 'default-checkpoint' ? `encoder: no --encoder given, so the pretrain:demo checkpoint ${file}` : `encoder: ${file}`) +
      ` (${report.kind}, ${model.config.name}; loaded ${report.parts.join(', ')}` +
      (partial ? `; ${report.notCovered.length} entries not in the checkpoint keep random weights (seed ${seed})` : '') +
      ')',
  };
  log(`[eval] ${info.note}`);
  return { model, info };
}
