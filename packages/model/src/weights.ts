/**
 * Weights in and out of a `G2DModel`.
 *
 * In: the reference's three checkpoint kinds, told apart by their keys —
 *   `*_checkpoint.pth`       {'epoch', 'model_state_dict', 'optimizer_state_dict'}: every part
 *                            (img_model, proj_v, attnpool, lm_model, proj_t);
 *   `*_encoder_decoder.pth`  img_model.state_dict(): `encoder.*`, `decoder.*`, `segmentation_head.*`;
 *   `*_encoder.pth`          img_model.encoder.state_dict(): the smp ResNetEncoder keys;
 * and our own saved model (a `model.safetensors` or its folder with `config.json`). Keys the
 * model does not use (the reference's `pseudo_conv.*`, the BERT pooler, `position_ids`, a
 * classifier `fc.*`) are reported, not fatal; missing or mis-shaped keys are one error naming
 * every one of them, raised before anything is assigned.
 *
 * Out: `model.safetensors` + `config.json` (our format; no paths or times inside, so identical
 * weights give identical bytes) and the reference's export kinds as PyTorch-loadable `.pth`
 * (and `.safetensors`) with the reference's key names.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { G2DError, readCheckpoint, readSafetensors, writeSafetensors, writeTorchCheckpoint, type RawTensor } from '@g2d-ts/core';
import type { Module } from '@g2d-ts/nn';
import { G2DModel } from './g2d-model';

export type CheckpointKind = 'g2d-ts' | 'reference-checkpoint' | 'reference-encoder-decoder' | 'reference-encoder';

export interface WeightsReport {
  source: string;
  kind: CheckpointKind;
  /** which parts of the model were loaded ('img_model', 'img_model.encoder', 'proj_v', ...) */
  parts: string[];
  loaded: number;
  /** checkpoint keys deliberately not used (pseudo_conv, BERT pooler, position_ids, fc...) */
  ignored: string[];
  /** model parameters not in the checkpoint (only parts the kind does not cover) */
  notCovered: string[];
}

const CONFIG_FILE = 'config.json';
const WEIGHTS_FILE = 'model.safetensors';
export const G2D_FORMAT = 'g2d-ts/G2DModel';

function isUnused(key: string): boolean {
  return G2DModel.isUnusedReferenceKey(key) || /^(encoder\.)?fc\./.test(key);
}

/** The reference kind of a state dict, from its keys. */
export function detectKind(sd: Map<string, RawTensor>, metadata?: Record<string, string>): CheckpointKind {
  if (metadata?.format === G2D_FORMAT) return 'g2d-ts';
  const keys = [...sd.keys()];
  if (keys.some((k) => k.startsWith('lm_model.') || k.startsWith('proj_t.') || k.startsWith('img_model.'))) return 'reference-checkpoint';
  if (keys.some((k) => k.startsWith('decoder.') || k.startsWith('segmentation_head.'))) return 'reference-encoder-decoder';
  if (keys.some((k) => k.startsWith('encoder.') || k.startsWith('conv1.') || k.startsWith('layer1.'))) return 'reference-encoder';
  throw new G2DError(`not a G2D checkpoint: none of its ${keys.length} keys look like the reference's (first: ${keys.slice(0, 5).join(', ')})`);
}

/** Loads `sd` (keys relative to `target`) into `target`, all-or-nothing, with one error for every missing or mis-shaped key. */
function loadPart(target: Module, sd: Map<string, RawTensor>, source: string, what: string): { loaded: number; ignored: string[] } {
  const want = new Set(target.namedEntries().map(([n]) => n));
  const ignored: string[] = [];
  const unexpected: string[] = [];
  for (const k of sd.keys()) {
    if (want.has(k)) continue;
    if (isUnused(k)) ignored.push(k);
    else unexpected.push(k);
  }
  const missing = [...want].filter((k) => !sd.has(k) && !k.endsWith('num_batches_tracked'));
  if (missing.length || unexpected.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing (${missing.length}): ${missing.slice(0, 40).join(', ')}${missing.length > 40 ? ', ...' : ''}`);
    if (unexpected.length) parts.push(`not part of the model (${unexpected.length}): ${unexpected.slice(0, 40).join(', ')}${unexpected.length > 40 ? ', ...' : ''}`);
    throw new G2DError(`cannot load ${what}: ${parts.join('; ')}`, { source });
  }
  // shapes are checked (all of them, before any assignment) by loadStateDict
  const r = target.loadStateDict(sd, { strict: false, source, ignore: isUnused });
  return { loaded: r.loaded.length, ignored };
}

/** Reads a weights file (or our saved folder) into a state dict plus our format's metadata. */
export async function readWeights(file: string): Promise<{ sd: Map<string, RawTensor>; metadata?: Record<string, string>; config?: unknown; source: string }> {
  let source = path.resolve(file);
  if (!fs.existsSync(source)) throw new G2DError('no such checkpoint file or folder', { source });
  let config: unknown;
  if (fs.statSync(source).isDirectory()) {
    const dir = source;
    const w = path.join(dir, WEIGHTS_FILE);
    if (!fs.existsSync(w)) throw new G2DError(`folder has no ${WEIGHTS_FILE} (a saved G2D model is a folder with ${WEIGHTS_FILE} and ${CONFIG_FILE})`, { source: dir });
    source = w;
  }
  const cfgFile = path.join(path.dirname(source), CONFIG_FILE);
  if (source.endsWith('.safetensors')) {
    const { tensors, metadata } = await readSafetensors(source);
    if (metadata?.format === G2D_FORMAT && fs.existsSync(cfgFile)) {
      try {
        config = (JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { model?: unknown }).model;
      } catch (e) {
        throw new G2DError(`not valid JSON: ${(e as Error).message}`, { source: cfgFile });
      }
    }
    return { sd: tensors, metadata, config, source };
  }
  return { sd: await readCheckpoint(source), source };
}

/** Loads any supported checkpoint into `model` (see the module comment). */
export async function loadG2DWeights(model: G2DModel, file: string): Promise<WeightsReport> {
  const { sd, metadata, source } = await readWeights(file);
  const kind = detectKind(sd, metadata);
  const all = new Set(model.namedEntries().map(([n]) => n));
  let res: { loaded: number; ignored: string[] };
  let parts: string[];
  let covered: (k: string) => boolean;
  switch (kind) {
    case 'g2d-ts':
    case 'reference-checkpoint':
      res = loadPart(model, sd, source, kind === 'g2d-ts' ? 'the saved G2D model' : 'the reference checkpoint (model_state_dict)');
      parts = ['img_model', 'proj_v', 'attnpool', 'lm_model', 'proj_t'];
      covered = () => true;
      break;
    case 'reference-encoder-decoder':
      res = loadPart(model.img_model, sd, source, 'the reference encoder+decoder (img_model)');
      parts = ['img_model'];
      covered = (k) => k.startsWith('img_model.');
      break;
    case 'reference-encoder': {
      // smp's ResNetEncoder keys, or the same under an `encoder.` prefix
      const stripped = [...sd.keys()].every((k) => k.startsWith('encoder.')) ? new Map([...sd].map(([k, v]) => [k.slice('encoder.'.length), v])) : sd;
      res = loadPart(model.img_model.encoder, stripped, source, 'the reference encoder (img_model.encoder)');
      parts = ['img_model.encoder'];
      covered = (k) => k.startsWith('img_model.encoder.');
      break;
    }
  }
  return { source, kind, parts, loaded: res.loaded, ignored: res.ignored, notCovered: [...all].filter((k) => !covered(k)) };
}

/** The model's parameters and buffers under the reference's names (PyTorch layout). */
export function referenceStateDict(model: G2DModel): Map<string, RawTensor> {
  return model.stateDict();
}

/**
 * Saves the model as `<dir>/model.safetensors` + `<dir>/config.json` (atomic writes; the
 * weights file holds no paths or times, so the same weights give the same bytes).
 */
export async function saveG2DModel(model: G2DModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, WEIGHTS_FILE), model.stateDict(), { format: G2D_FORMAT });
  const cfg = { format: G2D_FORMAT, version: 1, model: model.config, ...extra };
  const tmp = path.join(dir, `.${CONFIG_FILE}.tmp-${process.pid}`);
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(cfg, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path.join(dir, CONFIG_FILE));
}

export interface ExportOptions {
  /** file stem, as the reference names them: `<name>_encoder.pth`, `<name>_encoder_decoder.pth` (default 'g2d') */
  name?: string;
  /** also write `.safetensors` next to each `.pth` (default true) */
  safetensors?: boolean;
  /** also write the full model state as `<name>_checkpoint.pth` ({model_state_dict} keys flattened; default false) */
  full?: boolean;
}

/**
 * Writes the reference's export kinds: `<name>_encoder.pth` (img_model.encoder's keys, what
 * MGCA-style downstream code loads) and `<name>_encoder_decoder.pth` (img_model's keys with
 * `encoder.`/`decoder.`/`segmentation_head.` prefixes), PyTorch-loadable, plus `.safetensors`.
 * Returns the written paths.
 */
export async function exportReferenceCheckpoints(model: G2DModel, dir: string, opts: ExportOptions = {}): Promise<string[]> {
  const name = opts.name ?? 'g2d';
  const sd = model.stateDict();
  const pick = (prefix: string) => new Map([...sd].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  const kinds: [string, Map<string, RawTensor>][] = [
    [`${name}_encoder`, pick('img_model.encoder.')],
    [`${name}_encoder_decoder`, pick('img_model.')],
  ];
  if (opts.full) kinds.push([`${name}_checkpoint`, sd]);
  const written: string[] = [];
  await fsp.mkdir(dir, { recursive: true });
  for (const [stem, m] of kinds) {
    const pth = path.join(dir, `${stem}.pth`);
    await writeTorchCheckpoint(pth, m);
    written.push(pth);
    if (opts.safetensors ?? true) {
      const st = path.join(dir, `${stem}.safetensors`);
      await writeSafetensors(st, m, { format: 'pt' });
      written.push(st);
    }
  }
  return written;
}
