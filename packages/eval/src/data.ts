/**
 * Dataset loading and the evaluation splits, one rule for every app:
 *
 * - `--dataset <adapter>[:<dir>]` goes through @g2d-ts/data's `datasets` registry; `synthetic`
 *   without a folder is generated on the fly (`data.synthetic.count` studies).
 * - Split: the dataset's own split when every item carries one (`meta.split`, e.g. the synthetic
 *   data) and `data.useDatasetSplit`, else a patient-level split seeded by `data.splitSeed`
 *   (fixed across `--seed`, so every seed is tested on the same patients). With `--test`, the
 *   test part is every item of that folder and `--dataset` is split into train/val only.
 * - `--fraction` keeps that share of the training split, whole patients, seeded by `--seed`
 *   (nested: the 1 % sample is inside the 10 % one for the same seed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { datasets, patientFraction, patientSplit, SYNTH_VERSION, type DatasetIndex, type ItemRef } from '@g2d-ts/data';
import type { CommonConfig } from './options';

export interface DatasetSpec {
  /** registry name */
  adapter: string;
  /** absolute root (absent: on-the-fly synthetic) */
  root?: string;
}

/** `adapter[:dir]` -> { adapter, root }; an unknown adapter is an error listing the valid ones. */
export function parseDatasetSpec(spec: string): DatasetSpec {
  const k = spec.indexOf(':');
  const adapter = k > 0 ? spec.slice(0, k) : spec;
  const root = k > 0 ? spec.slice(k + 1) || undefined : undefined;
  if (!datasets.has(adapter)) throw new G2DError(`unknown dataset adapter "${adapter}" (in "${spec}"); valid: ${datasets.list().join(', ')}`);
  if (!root && adapter !== 'synthetic') throw new G2DError(`dataset "${adapter}" needs its folder: --dataset ${adapter}:<dir>`);
  return { adapter, root: root ? path.resolve(root) : undefined };
}

export interface LoadedDataset {
  spec: DatasetSpec;
  /** human-readable name for tables (`NIH ChestX-ray14`, `synthetic`…) */
  displayName: string;
  index: DatasetIndex;
  classes: string[];
  /** items dropped because they have no labels (or no image) */
  dropped: number;
  /** identity of the data for cache keys (adapter, root, generator options) */
  identity: string;
}

const DISPLAY: Record<string, string> = {
  'nih-cxr14': 'NIH ChestX-ray14',
  'covid-chestxray': 'COVID chest X-ray',
  chexpert: 'CheXpert',
  'rsna-pneumonia': 'RSNA Pneumonia',
  'siim-acr': 'SIIM-ACR',
  covidx: 'COVIDx',
  'object-cxr': 'Object-CXR',
  synthetic: 'synthetic',
};

export function datasetDisplayName(adapter: string): string {
  return DISPLAY[adapter] ?? adapter;
}

/** Keep `names` (in that order) of the index's classes; labels are re-mapped. */
export function selectClasses(index: DatasetIndex, names: readonly string[], source = index.name): DatasetIndex {
  const classes = index.classes ?? [];
  const pick = names.map((n) => {
    const j = classes.indexOf(n);
    if (j < 0) throw new G2DError(`data.classes: "${n}" is not a class of ${index.name} (classes: ${classes.join(', ')})`, { source });
    return j;
  });
  return { ...index, classes: [...names], items: index.items.map((it) => (it.labels ? { ...it, labels: pick.map((j) => it.labels![j]!) } : it)) };
}

export interface LoadDatasetOptions {
  classes?: readonly string[];
  onError?: 'fail' | 'skip';
  synthetic?: { count?: number; size?: number; seed?: number };
  adapter?: Record<string, unknown>;
  /** drop items without labels (classification; default true) */
  requireLabels?: boolean;
  log?: (line: string) => void;
}

/** Build the dataset index through the registry, select classes, drop unlabelled items. */
export function loadDataset(specText: string, opts: LoadDatasetOptions = {}): LoadedDataset {
  const spec = parseDatasetSpec(specText);
  const log = opts.log ?? (() => undefined);
  let index: DatasetIndex;
  let identity: string;
  if (spec.adapter === 'synthetic' && !spec.root) {
    const s = opts.synthetic ?? {};
    const o: Record<string, unknown> = { count: s.count ?? 400, seed: s.seed ?? 0, ...(s.size ? { size: s.size } : {}), ...opts.adapter };
    index = datasets.create('synthetic', o as never);
    identity = JSON.stringify({ adapter: 'synthetic', version: SYNTH_VERSION, seed: o.seed, size: o.size ?? 256, options: opts.adapter ?? {} });
  } else {
    if (spec.root && !fs.existsSync(spec.root)) throw new G2DError(`dataset folder not found (for --dataset ${specText})`, { source: spec.root });
    index = datasets.create(spec.adapter, { root: spec.root!, onError: opts.onError ?? 'fail', log, ...opts.adapter } as never);
    identity = JSON.stringify({ adapter: spec.adapter, root: spec.root, options: opts.adapter ?? {} });
  }
  if (!index.classes || index.classes.length === 0) throw new G2DError(`dataset ${spec.adapter} has no classes (labels) to evaluate`, { source: spec.root ?? spec.adapter });
  if (opts.classes) index = selectClasses(index, opts.classes, spec.root ?? spec.adapter);
  const before = index.items.length;
  const keep = index.items.filter((it) => (opts.requireLabels === false || (it.labels && it.labels.length === index.classes!.length)) && (it.image || it.meta?.synthetic));
  const dropped = before - keep.length;
  if (dropped) log(`[eval] ${spec.adapter}: ${dropped} of ${before} items have no labels or no image and are left out`);
  if (keep.length === 0) throw new G2DError(`dataset ${spec.adapter} has no labelled images`, { source: spec.root ?? spec.adapter });
  return { spec, displayName: datasetDisplayName(spec.adapter), index: { ...index, items: keep }, classes: [...index.classes!], dropped, identity };
}

export interface EvalSplits {
  train: ItemRef[];
  /** the whole training split before --fraction */
  trainFull: ItemRef[];
  val: ItemRef[];
  test: ItemRef[];
  /** where the split came from */
  source: 'dataset' | 'patient-split' | 'test-folder';
}

export interface SplitOptions {
  splitSeed: number;
  ratios: { train: number; val: number; test: number };
  fraction: number;
  seed: number;
  useDatasetSplit?: boolean;
}

function datasetSplitOf(it: ItemRef): string | undefined {
  const s = it.meta?.split;
  return s === 'train' || s === 'val' || s === 'test' ? s : undefined;
}

/** The evaluation splits (see the module comment). Empty training/test parts are errors naming the dataset. */
export function makeSplits(data: LoadedDataset, test: LoadedDataset | undefined, opts: SplitOptions): EvalSplits {
  const items = data.index.items;
  let trainFull: ItemRef[];
  let val: ItemRef[];
  let testItems: ItemRef[];
  let source: EvalSplits['source'];
  const own = (opts.useDatasetSplit ?? true) && items.every((it) => datasetSplitOf(it) !== undefined);
  if (test) {
    if (own) {
      trainFull = items.filter((it) => datasetSplitOf(it) === 'train');
      val = items.filter((it) => datasetSplitOf(it) === 'val');
    } else {
      const tv = opts.ratios.train + opts.ratios.val;
      if (!(tv > 0)) throw new G2DError('data.ratios: train + val must be > 0');
      const s = patientSplit(items, opts.splitSeed, { train: opts.ratios.train / tv, val: opts.ratios.val / tv, test: 0 });
      trainFull = s.train;
      val = s.val;
    }
    testItems = alignClasses(test, data);
    source = 'test-folder';
  } else if (own) {
    trainFull = items.filter((it) => datasetSplitOf(it) === 'train');
    val = items.filter((it) => datasetSplitOf(it) === 'val');
    testItems = items.filter((it) => datasetSplitOf(it) === 'test');
    source = 'dataset';
  } else {
    const s = patientSplit(items, opts.splitSeed, opts.ratios);
    trainFull = s.train;
    val = s.val;
    testItems = s.test;
    source = 'patient-split';
  }
  const where = data.spec.root ?? data.spec.adapter;
  if (trainFull.length === 0) throw new G2DError(`the training split of ${data.spec.adapter} is empty (${items.length} items)`, { source: where });
  if (testItems.length === 0) throw new G2DError(`the test split of ${data.spec.adapter} is empty (${items.length} items; pass --test or change data.ratios)`, { source: where });
  const train = patientFraction(trainFull, opts.fraction, opts.seed);
  return { train, trainFull, val, test: testItems, source };
}

/** The test folder's items with labels in the training dataset's class order (same class names required). */
function alignClasses(test: LoadedDataset, data: LoadedDataset): ItemRef[] {
  const map = data.classes.map((c) => test.classes.indexOf(c));
  const missing = data.classes.filter((_, k) => map[k]! < 0);
  if (missing.length) {
    throw new G2DError(`--test data lacks the class(es) ${missing.join(', ')} of the training data (test classes: ${test.classes.join(', ')})`, { source: test.spec.root ?? test.spec.adapter });
  }
  return test.index.items.map((it) => ({ ...it, labels: map.map((j) => it.labels![j]!) }));
}

/** Counts for results.json (`data.sizes`). */
export function splitSizes(s: EvalSplits): Record<string, { images: number; patients: number }> {
  const c = (l: ItemRef[]) => ({ images: l.length, patients: new Set(l.map((i) => i.patientId)).size });
  return { train: c(s.train), trainFull: c(s.trainFull), val: c(s.val), test: c(s.test) };
}

/** Per-class positive counts in a part (for the log and results.json). */
export function positives(items: readonly ItemRef[], classes: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  classes.forEach((c, j) => (out[c] = items.reduce((s, it) => s + (it.labels?.[j] === 1 ? 1 : 0), 0)));
  return out;
}

/** `image` column of predictions.csv: the image's file name without extension (the item id for generated items). */
export function imageName(it: ItemRef): string {
  if (it.image) return path.basename(it.image, path.extname(it.image));
  return path.basename(it.id, path.extname(it.id));
}

/** Loads the datasets named by a common config (the --dataset one and the optional --test one). */
export function loadEvalData(cfg: CommonConfig, opts: { requireLabels?: boolean; log?: (l: string) => void } = {}): { data: LoadedDataset; test?: LoadedDataset; splits: EvalSplits } {
  const o: LoadDatasetOptions = { classes: cfg.data.classes, onError: cfg.data.onError, synthetic: cfg.data.synthetic, adapter: cfg.data.adapter, requireLabels: opts.requireLabels, log: opts.log };
  const data = loadDataset(cfg.dataset, o);
  const test = cfg.test ? loadDataset(cfg.test, { ...o, classes: undefined }) : undefined;
  const splits = makeSplits(data, test, { splitSeed: cfg.data.splitSeed, ratios: cfg.data.ratios, fraction: cfg.fraction, seed: cfg.seed, useDatasetSplit: cfg.data.useDatasetSplit });
  return { data, test, splits };
}
