/**
 * Image–report pairs for pretraining, from any supported source, split by patient, and the
 * resumable batch source the training loop reads: the order of an epoch is a function of
 * (seed, epoch), each item's augmentation draws from Rng(seed/aug/epoch/item), so a resumed
 * run reads exactly the batches an uninterrupted one would (reference semantics:
 * drop_last, shuffle).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, Rng } from '@g2d-ts/core';
import {
  colorJitter, compose, datasets, extractSections, generateSynthetic, grayTo3Channels, loadItem, normalize, parseCsv, parseDatasetSpec, patientSplit, randomAffine,
  referencePreprocess, referenceReportText, syntheticDataset, SYNTH_FINDINGS, syntheticLayout, type FloatImage, type ItemRef, type Transform,
} from '@g2d-ts/data';
import type { BertTokenizer } from '@g2d-ts/text';
import type { PretrainConfig } from './config';

export interface PairItem {
  id: string;
  patientId: string;
  text: string;
  /** synthetic: the findings drawn (for the report's overlays and the pseudo-mask IoU) */
  findings?: string[];
  /** grey image in [0, 1] at `size` x `size` */
  load(): Promise<Float32Array>;
  /** synthetic: exact finding masks (0/1, size x size) */
  masks?(): Map<string, Uint8Array>;
}

export interface PairSet {
  name: string;
  size: number;
  train: PairItem[];
  val: PairItem[];
  /** data notes for the report (where it came from, what was skipped) */
  notes: string[];
}

function toUnit(u8: Uint8Array): Float32Array {
  const out = new Float32Array(u8.length);
  for (let i = 0; i < u8.length; i++) out[i] = u8[i]! / 255;
  return out;
}

/** The impression section of a report (cleaned like the reference's text), or `fallback` when it has none. */
function impressionOf(report: string, fallback: string): string {
  const imp = extractSections(report).impression;
  return imp ? referenceReportText(undefined, imp) : fallback;
}

/** Synthetic pairs generated on the fly at the model's size (images cached in memory after first use). */
function syntheticPairs(cfg: PretrainConfig, size: number): PairSet {
  const opts = { seed: cfg.data.seed, size: cfg.data.size ?? size };
  if (opts.size !== size) throw new G2DError(`data.size (${opts.size}) must equal the model's imageSize (${size}) for on-the-fly synthetic data`);
  const cache = new Map<number, ReturnType<typeof generateSynthetic>>();
  const sample = (i: number) => {
    let s = cache.get(i);
    if (!s) {
      s = generateSynthetic(i, opts);
      cache.set(i, s);
    }
    return s;
  };
  const train: PairItem[] = [];
  const val: PairItem[] = [];
  const index = syntheticDataset({ count: cfg.data.count, ...opts });
  index.items.forEach((ref, k) => {
    const lay = syntheticLayout(k, opts);
    const item: PairItem = {
      id: ref.id,
      patientId: ref.patientId,
      text: cfg.data.text === 'impression' ? impressionOf(lay.report, ref.text ?? '') : (ref.text ?? ''),
      findings: [...new Set(lay.findings.map((f) => f.name))],
      load: async () => toUnit(sample(k).image),
      masks: () => {
        const m = new Map<string, Uint8Array>();
        for (const f of sample(k).findings) {
          const prev = m.get(f.name);
          if (!prev) m.set(f.name, Uint8Array.from(f.mask));
          else for (let i = 0; i < prev.length; i++) prev[i] = prev[i]! | f.mask[i]!;
        }
        return m;
      },
    };
    (lay.split === 'train' ? train : val).push(item);
  });
  return { name: `synthetic (seed ${String(opts.seed)}, ${cfg.data.count} pairs, ${size}², generated on the fly)`, size, train, val, notes: ['synthetic radiographs and reports from @g2d-ts/data (not patient data)'] };
}

/** Items of a registered adapter: decoded, reference-preprocessed (crop, min-max, resize) to `size`. */
function adapterPairs(name: string, root: string, cfg: PretrainConfig, size: number, textOf?: (ref: ItemRef) => string | undefined): PairSet {
  const index = datasets.create(name, { root: path.resolve(root), onError: 'skip' });
  const notes = [`${name} at ${path.resolve(root)}: ${index.items.length} images indexed, ${index.skipped.length} rows skipped`];
  const withText = index.items.filter((r) => r.image && (textOf?.(r) ?? r.text ?? '').trim().length > 0);
  if (withText.length < 4) throw new G2DError(`${name}: only ${withText.length} image–report pairs with text; pretraining needs reports`, { source: root });
  notes.push(`${withText.length} pairs with a report`);
  const split = patientSplit(withText, cfg.data.seed, { train: 1 - cfg.data.valFraction, val: cfg.data.valFraction, test: 0 });
  const mk = (ref: ItemRef): PairItem => ({
    id: ref.id,
    patientId: ref.patientId,
    text: (textOf?.(ref) ?? ref.text ?? '').trim(),
    load: async () => {
      const it = await loadItem(ref);
      return toUnit(referencePreprocess(it.image, { size, variant: cfg.recipe === 'paper' ? 'clean' : 'code', source: ref.id }));
    },
  });
  return { name: `${name} (${root})`, size, train: split.train.map(mk), val: split.val.map(mk), notes };
}

/** covid_figure1_agchung: metadata.csv (image, patientid, notes) + images/. */
function figure1Pairs(root: string, cfg: PretrainConfig, size: number): PairSet {
  const csvFile = path.join(path.resolve(root), 'metadata.csv');
  if (!fs.existsSync(csvFile)) throw new G2DError('covid-figure1: no metadata.csv (expected the covid_figure1_agchung layout: metadata.csv + images/)', { source: root });
  const rows = parseCsv(fs.readFileSync(csvFile, 'utf8'), csvFile);
  const refs: ItemRef[] = [];
  rows.forEach((r, i) => {
    const img = r.image ?? r.filename;
    const notes = (r.notes ?? '').trim();
    if (!img) throw new G2DError(`row ${i + 2}: missing "image"`, { source: csvFile });
    if (!notes) return;
    refs.push({ id: path.basename(img).replace(/\.[^.]+$/, ''), patientId: r.patientid || path.basename(img), image: path.join(path.dirname(csvFile), img), text: notes });
  });
  const split = patientSplit(refs, cfg.data.seed, { train: 1 - cfg.data.valFraction, val: cfg.data.valFraction, test: 0 });
  const mk = (ref: ItemRef): PairItem => ({
    id: ref.id,
    patientId: ref.patientId,
    text: ref.text!,
    load: async () => toUnit(referencePreprocess((await loadItem(ref)).image, { size, source: ref.id })),
  });
  return { name: `covid-figure1 (${root})`, size, train: split.train.map(mk), val: split.val.map(mk), notes: [`covid_figure1_agchung: ${refs.length} images with case notes of ${rows.length}`] };
}

/** The reference's ext_data.py output: an (N, R, R) uint8 .npy beside a CSV with findings/impression, row i = row i. */
function npyPairs(spec: string, cfg: PretrainConfig, size: number): PairSet {
  const [npy, csvFile] = spec.split(',').map((s) => path.resolve(s.trim())) as [string, string];
  if (!npy || !csvFile) throw new G2DError(`mimic-npy expects <file.npy>,<file.csv>, got "${spec}"`);
  const fd = fs.openSync(npy, 'r');
  const head = Buffer.alloc(4096);
  fs.readSync(fd, head, 0, 4096, 0);
  if (head.toString('latin1', 1, 6) !== 'NUMPY') throw new G2DError('not a .npy file', { source: npy });
  const major = head[6]!;
  const hlen = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  const hoff = major === 1 ? 10 : 12;
  const header = head.toString('latin1', hoff, hoff + hlen);
  const shape = /'shape':\s*\((\d+),\s*(\d+),\s*(\d+)\)/.exec(header);
  if (!/'descr':\s*'\|u1'/.test(header) || !shape) throw new G2DError(`expected an (N, R, R) uint8 array, header ${header.trim()}`, { source: npy });
  if (/'fortran_order':\s*True/.test(header)) throw new G2DError('Fortran-ordered arrays are not supported', { source: npy });
  const [n, h, w] = [Number(shape[1]), Number(shape[2]), Number(shape[3])];
  const dataStart = hoff + hlen;
  const rows = parseCsv(fs.readFileSync(csvFile, 'utf8'), csvFile);
  if (rows.length !== n) throw new G2DError(`the .npy has ${n} images but ${path.basename(csvFile)} has ${rows.length} rows (row i must pair with image i)`, { source: csvFile });
  const refs = rows.map((r, i) => ({
    id: r.dicom_id || r.image || String(i),
    patientId: r.subject_id || String(i),
    text: cfg.data.text === 'impression' && (r.impression ?? '').trim() ? referenceReportText(undefined, r.impression) : referenceReportText(r.findings ?? '', r.impression ?? ''),
    meta: { row: i },
  })) as (ItemRef & { meta: { row: number } })[];
  const split = patientSplit(refs, cfg.data.seed, { train: 1 - cfg.data.valFraction, val: cfg.data.valFraction, test: 0 });
  const mk = (ref: (typeof refs)[number]): PairItem => ({
    id: ref.id,
    patientId: ref.patientId,
    text: ref.text!,
    load: async () => {
      const buf = Buffer.alloc(h * w);
      fs.readSync(fd, buf, 0, h * w, dataStart + ref.meta.row * h * w);
      const u8 = new Uint8Array(buf.buffer, buf.byteOffset, h * w);
      return toUnit(h === size && w === size ? u8 : referencePreprocess({ width: w, height: h, data: u8, maxValue: 255 } as Parameters<typeof referencePreprocess>[0], { size, source: ref.id }));
    },
  });
  return { name: `mimic-npy (${path.basename(npy)})`, size, train: split.train.map(mk), val: split.val.map(mk), notes: [`${n} images ${h}x${w} from ${npy}`] };
}

/** Opens `data.dataset` (see the config schema for the forms it takes). */
export function openPairs(cfg: PretrainConfig, size: number): PairSet {
  const spec = cfg.data.dataset;
  const { name, root } = parseDatasetSpec(spec);
  if (cfg.data.text === 'impression' && !(name === 'synthetic' && !root) && name !== 'mimic-npy') {
    throw new G2DError(`data.text: "impression" needs a source whose reports keep their sections (synthetic generated on the fly, mimic-npy); "${spec}" gives one text per image: use data.text: report`);
  }
  switch (name) {
    case 'synthetic':
      if (!root) return syntheticPairs(cfg, size);
      return adapterPairs('synthetic', root, cfg, size);
    case 'mimic-npy':
      if (!root) throw new G2DError('mimic-npy needs <file.npy>,<file.csv>');
      return npyPairs(root, cfg, size);
    case 'covid-figure1':
      if (!root) throw new G2DError('covid-figure1 needs a folder: covid-figure1:<dir>');
      return figure1Pairs(root, cfg, size);
    case 'covid-chestxray':
      if (!root) throw new G2DError('covid-chestxray needs a folder: covid-chestxray:<dir>');
      // its adapter's text is the clinical notes: the reports of this dataset
      return adapterPairs(name, root, cfg, size);
    default:
      if (!root) throw new G2DError(`data.dataset "${spec}": give a folder as ${name}:<dir> (or use synthetic)`);
      return adapterPairs(name, root, cfg, size);
  }
}

export const SYNTHETIC_FINDINGS = SYNTH_FINDINGS;

/** One training batch as plain arrays (tensors are made inside the training step's tape). */
export interface PairBatch {
  ids: string[];
  /** [B, S, S, 3] normalised, row-major */
  images: Float32Array;
  batch: number;
  size: number;
  /** [B, L] */
  inputIds: Int32Array;
  attentionMask: Int32Array;
  length: number;
}

export interface BatchSourceOptions {
  batchSize: number;
  seed: number | string;
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  augment: 'reference' | 'none';
  tokenizer: BertTokenizer;
  maxLength: number;
  /** training padding (the reference: 'max_length') */
  padding?: 'max_length' | 'longest';
}

/** The reference train transform at the model's size: RandomAffine(15, shear 15), ColorJitter(0.2, 0.2), grey -> 3, normalise. */
export function trainTransform(o: BatchSourceOptions): Transform {
  const tail = compose(grayTo3Channels(), normalize(o.mean, o.std));
  return o.augment === 'reference' ? compose(randomAffine({ degrees: 15, shear: 15 }), colorJitter({ brightness: 0.2, contrast: 0.2 }), tail) : tail;
}

export function evalTransform(o: Pick<BatchSourceOptions, 'mean' | 'std'>): Transform {
  return compose(grayTo3Channels(), normalize(o.mean, o.std));
}

export function tokenizeBatch(tok: BertTokenizer, texts: string[], maxLength: number, padding: 'max_length' | 'longest' = 'max_length'): { inputIds: Int32Array; attentionMask: Int32Array; length: number } {
  const enc = tok.encodeBatch(texts, { padding, maxLength, truncation: true });
  const L = enc.inputIds[0]!.length;
  const ids = new Int32Array(texts.length * L);
  const mask = new Int32Array(texts.length * L);
  enc.inputIds.forEach((row, b) => ids.set(row, b * L));
  enc.attentionMask.forEach((row, b) => mask.set(row, b * L));
  return { inputIds: ids, attentionMask: mask, length: L };
}

/** Resumable, deterministic batches over `items` (drop_last, as the reference's DataLoader). */
export class PairBatches {
  readonly length: number;
  constructor(
    private readonly items: PairItem[],
    private readonly o: BatchSourceOptions,
  ) {
    this.length = Math.floor(items.length / o.batchSize);
    if (this.length < 1) throw new G2DError(`${items.length} training pairs is less than one batch of ${o.batchSize}: lower train.batchSize or use more data`);
  }

  order(epoch: number): number[] {
    return new Rng(`${String(this.o.seed)}/order/${epoch}`).shuffle([...this.items.keys()]);
  }

  async *epoch(epoch: number, startBatch: number): AsyncGenerator<PairBatch> {
    const order = this.order(epoch);
    const t = trainTransform(this.o);
    const { batchSize: B, size: S } = this.o;
    for (let b = startBatch; b < this.length; b++) {
      const idx = order.slice(b * B, (b + 1) * B);
      const images = new Float32Array(B * S * S * 3);
      const texts: string[] = [];
      for (const [k, i] of idx.entries()) {
        const item = this.items[i]!;
        const gray = await item.load();
        const img: FloatImage = { width: S, height: S, channels: 1, data: gray };
        const out = t({ image: img }, new Rng(`${String(this.o.seed)}/aug/${epoch}/${i}`));
        images.set(out.image.data, k * S * S * 3);
        texts.push(item.text);
      }
      const tok = tokenizeBatch(this.o.tokenizer, texts, this.o.maxLength, this.o.padding ?? 'max_length');
      yield { ids: idx.map((i) => this.items[i]!.id), images, batch: B, size: S, ...tok };
    }
  }
}
