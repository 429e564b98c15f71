/**
 * Dataset adapters. Each reads a dataset's own published layout and returns an index of item
 * references (paths + labels + text + boxes/mask source), cheap to build and to split; `loadItem`
 * decodes one item into `{image, text?, labels?, mask?, boxes?}`. Bad rows are errors naming
 * the file and line, or, with `onError: 'skip'`, are logged, counted and reported in `skipped`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, createRegistry, type Registry } from '@g2d-ts/core';
import { readCsv, readTextFile, parseCsvRows, rowLine } from './csv';
import { boxesToMask, decodeSiimRle, type Box, type Mask } from './masks';
import { extractSections, readIuReportsArchive, referenceReportText } from './reports';
import { loadImage, type GrayImage, type ImageMeta, type LoadImageOptions } from './image';

export interface ItemRef {
  /** unique id within the dataset (image id) */
  id: string;
  /** patient id: splits never put one patient in two parts */
  patientId: string;
  /** absolute image path (may be absent for report-only datasets) */
  image?: string;
  text?: string;
  labels?: number[];
  boxes?: Box[];
  /** where the mask comes from: a mask image, SIIM RLE strings, or the boxes */
  mask?: { kind: 'image'; path: string } | { kind: 'rle'; rle: string[]; width: number; height: number } | { kind: 'boxes' };
  meta?: Record<string, unknown>;
}

export interface DatasetIndex {
  name: string;
  root: string;
  /** label names, in the order of ItemRef.labels */
  classes?: string[];
  items: ItemRef[];
  skipped: { source: string; reason: string }[];
}

export interface AdapterOptions {
  root: string;
  /** 'fail' (default): the first bad row throws; 'skip': bad rows are logged, counted and listed in `skipped` */
  onError?: 'fail' | 'skip';
  log?: (msg: string) => void;
}

export interface LoadedItem {
  id: string;
  patientId: string;
  image: GrayImage;
  imageMeta: ImageMeta;
  text?: string;
  labels?: number[];
  boxes?: Box[];
  mask?: Mask;
}

class Problems {
  skipped: { source: string; reason: string }[] = [];
  constructor(private opts: AdapterOptions) {}
  /** throw (fail) or record (skip) */
  bad(source: string, reason: string): void {
    if ((this.opts.onError ?? 'fail') === 'fail') throw new G2DError(reason, { source });
    this.skipped.push({ source, reason });
    (this.opts.log ?? ((m: string) => process.stderr.write(`${m}\n`)))(`[g2d-data] skip ${source}: ${reason}`);
  }
  finish(name: string): void {
    if (this.skipped.length) (this.opts.log ?? ((m: string) => process.stderr.write(`${m}\n`)))(`[g2d-data] ${name}: skipped ${this.skipped.length} item(s)`);
  }
}

function need(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new G2DError(`${what} not found`, { source: file });
  return file;
}

/** First existing candidate (plain, .gz, .zip variants), else the first name. */
function findFile(root: string, names: string[]): string {
  for (const n of names) for (const suf of ['', '.gz', '.zip']) if (fs.existsSync(path.join(root, n + suf))) return path.join(root, n + suf);
  return path.join(root, names[0]!);
}

function num(v: string | undefined, where: string, what: string, p: Problems): number | undefined {
  const t = (v ?? '').trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) {
    p.bad(where, `${what} is not a number: "${v ?? ''}"`);
    return undefined;
  }
  return n;
}

// ---------------------------------------------------------------- NIH ChestX-ray14

export const NIH_CLASSES = [
  'Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Mass', 'Nodule', 'Pneumonia',
  'Pneumothorax', 'Consolidation', 'Edema', 'Emphysema', 'Fibrosis', 'Pleural_Thickening', 'Hernia',
] as const;

export interface NihOptions extends AdapterOptions {
  /** Data_Entry CSV (default: Data_Entry_2017_v2020.csv / Data_Entry_2017.csv / data_entry.csv under root) */
  dataEntry?: string;
  /** BBox_List CSV (default BBox_List_2017.csv / bbox.csv under root, if present) */
  bboxList?: string;
  /** only images that have boxes */
  withBoxesOnly?: boolean;
}

/** Image path: an `image` column (relative to root), else images/ or images_0NN/images/ as released. */
function nihImagePath(root: string, row: Record<string, string>, dirs: string[]): string {
  if (row.image) return path.join(root, row.image);
  const name = row['Image Index']!;
  for (const d of dirs) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  return path.join(root, 'images', name);
}

export function nihChestXray14(opts: NihOptions): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  const entry = opts.dataEntry ?? findFile(root, ['Data_Entry_2017_v2020.csv', 'Data_Entry_2017.csv', 'data_entry.csv']);
  const rows = readCsv(need(entry, 'NIH Data_Entry CSV'), { onBadRow: (w, r) => p.bad(w, r) });
  const dirs = [path.join(root, 'images'), ...Array.from({ length: 12 }, (_, k) => path.join(root, `images_${String(k + 1).padStart(3, '0')}`, 'images'))].filter((d) => fs.existsSync(d));
  const boxes = new Map<string, Box[]>();
  const bfile = opts.bboxList ?? findFile(root, ['BBox_List_2017.csv', 'bbox.csv']);
  if (fs.existsSync(bfile)) {
    const text = readTextFile(bfile);
    const raw = parseCsvRows(text, bfile);
    const header = raw[0]?.fields.map((h) => h.trim()) ?? [];
    const hasXywh = ['x', 'y', 'w', 'h'].every((c) => header.includes(c));
    for (const r of raw.slice(1)) {
      const where = `${bfile}:${r.line}`;
      const get = (c: string) => r.fields[header.indexOf(c)];
      // official file: "Image Index,Finding Label,Bbox [x,y,w,h],,," -> x,y,w,h in columns 2..5
      const vals = hasXywh ? [get('x'), get('y'), get('w'), get('h')] : r.fields.slice(2, 6);
      if (r.fields.length < (hasXywh ? header.length : 6)) {
        p.bad(where, `row has ${r.fields.length} field(s), expected ${hasXywh ? header.length : 6}`);
        continue;
      }
      const nums = vals.map((v, k) => num(v, where, ['x', 'y', 'w', 'h'][k]!, p));
      if (nums.some((v) => v === undefined)) continue;
      const id = get('Image Index') ?? r.fields[0]!;
      const label = (get('Finding Label') ?? r.fields[1] ?? '').trim();
      const list = boxes.get(id) ?? [];
      list.push({ x: nums[0]!, y: nums[1]!, w: nums[2]!, h: nums[3]!, label: label === 'Infiltrate' ? 'Infiltration' : label });
      boxes.set(id, list);
    }
  }
  const items: ItemRef[] = [];
  for (const row of rows) {
    const where = `${entry}:${rowLine(row)}`;
    const id = row['Image Index'];
    const labelsStr = row['Finding Labels'];
    const pid = row['Patient ID'];
    if (!id || labelsStr === undefined || !pid) {
      p.bad(where, 'missing Image Index / Finding Labels / Patient ID');
      continue;
    }
    const found = labelsStr.split('|').map((s) => s.trim()).filter((s) => s && s !== 'No Finding');
    const unknown = found.filter((f) => !(NIH_CLASSES as readonly string[]).includes(f));
    if (unknown.length) {
      p.bad(where, `unknown finding label(s) ${unknown.join(', ')}`);
      continue;
    }
    const b = boxes.get(id);
    if (opts.withBoxesOnly && !b) continue;
    items.push({
      id,
      patientId: String(Number(pid)),
      image: nihImagePath(root, row, dirs),
      labels: NIH_CLASSES.map((c) => (found.includes(c) ? 1 : 0)),
      boxes: b,
      mask: b ? { kind: 'boxes' } : undefined,
      meta: { view: row['View Position'], age: row['Patient Age'], sex: row['Patient Gender'], followUp: row['Follow-up #'] },
    });
  }
  p.finish('NIH ChestX-ray14');
  return { name: 'nih-cxr14', root, classes: [...NIH_CLASSES], items, skipped: p.skipped };
}

// ---------------------------------------------------------------- ieee8023 COVID collection (+ Figure1)

export interface CovidOptions extends AdapterOptions {
  /** which lung masks to attach: human-annotated v7labs (default), model-made lungvae, or none */
  masks?: 'v7labs' | 'lungvae' | 'none';
  /** keep only these views (e.g. ['PA', 'AP', 'AP Supine']); default all */
  views?: string[];
}

/**
 * ieee8023/covid-chestxray-dataset layout: metadata.csv (patientid, finding, view, filename or
 * image, clinical_notes, ...) + images/; optional lung masks (columns mask_v7labs / mask_lungvae, or
 * annotations/lungVAE-masks/<name>_mask.png) and lung_bboxes.csv. Labels: one-hot over the
 * distinct `finding` values (sorted); text = clinical_notes.
 */
export function covidChestXray(opts: CovidOptions): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  const meta = need(path.join(root, 'metadata.csv'), 'metadata.csv');
  const rows = readCsv(meta, { onBadRow: (w, r) => p.bad(w, r) });
  const boxes = new Map<string, Box[]>();
  const bf = path.join(root, 'lung_bboxes.csv');
  if (fs.existsSync(bf)) {
    for (const r of readCsv(bf, { onBadRow: (w, r) => p.bad(w, r) })) {
      const where = `${bf}:${rowLine(r)}`;
      const v = ['x', 'y', 'w', 'h'].map((k) => num(r[k], where, k, p));
      if (v.some((x) => x === undefined)) continue;
      const key = r.image ?? `images/${r.filename}`;
      const l = boxes.get(key) ?? [];
      l.push({ x: v[0]!, y: v[1]!, w: v[2]!, h: v[3]!, label: r.label });
      boxes.set(key, l);
    }
  }
  const findings = [...new Set(rows.map((r) => (r.finding ?? '').trim()).filter(Boolean))].sort();
  const items: ItemRef[] = [];
  for (const r of rows) {
    const where = `${meta}:${rowLine(r)}`;
    const rel = r.image || (r.filename ? `images/${r.filename}` : '');
    if (!rel || !r.patientid) {
      p.bad(where, 'missing image/filename or patientid');
      continue;
    }
    if (opts.views && !opts.views.includes((r.view ?? '').trim())) continue;
    const finding = (r.finding ?? '').trim();
    const which = opts.masks ?? 'v7labs';
    const mrel = which === 'none' ? '' : which === 'v7labs' ? r.mask_v7labs : r.mask_lungvae;
    const text = (r.clinical_notes ?? r.notes ?? '').trim() || undefined;
    items.push({
      id: rel,
      patientId: r.patientid,
      image: path.join(root, rel),
      text,
      labels: finding ? findings.map((f) => (f === finding ? 1 : 0)) : undefined,
      boxes: boxes.get(rel),
      mask: mrel ? { kind: 'image', path: path.join(root, mrel) } : undefined,
      meta: { finding, view: r.view, sex: r.sex, age: r.age },
    });
  }
  p.finish('COVID chest X-ray');
  return { name: 'covid-chestxray', root, classes: findings, items, skipped: p.skipped };
}

// ---------------------------------------------------------------- SIIM-ACR pneumothorax

export interface SiimOptions extends AdapterOptions {
  /** train-rle.csv (default: train-rle.csv / siim-pneumothorax-train-rle.csv(.gz) / *rle*.csv under root) */
  rleCsv?: string;
  /** directory searched recursively for <ImageId>.dcm (default: root) */
  imagesDir?: string;
  width?: number;
  height?: number;
}

function walk(dir: string, ext: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, ext, out);
    else if (e.name.toLowerCase().endsWith(ext)) out.push(p);
  }
  return out;
}

/** SIIM-ACR: dicom-images-train/<study>/<series>/<ImageId>.dcm + train-rle.csv (ImageId, EncodedPixels). */
export function siimAcr(opts: SiimOptions): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  let rleFile = opts.rleCsv;
  if (!rleFile) {
    rleFile = findFile(root, ['train-rle.csv', 'siim-pneumothorax-train-rle.csv']);
    if (!fs.existsSync(rleFile)) {
      const c = fs.readdirSync(root).find((f) => /rle.*\.csv$/i.test(f));
      if (c) rleFile = path.join(root, c);
    }
  }
  const rows = readCsv(need(rleFile, 'SIIM RLE CSV'), { onBadRow: (w, r) => p.bad(w, r) });
  const dcm = new Map<string, string>();
  const dir = opts.imagesDir ?? root;
  if (fs.existsSync(dir)) for (const f of walk(dir, '.dcm')) dcm.set(path.basename(f, path.extname(f)), f);
  const lookup = (id: string) => dcm.get(id) ?? [...dcm.entries()].find(([k]) => k.endsWith(id))?.[1];
  const groups = new Map<string, { rle: string[]; line: number }>();
  for (const r of rows) {
    const where = `${rleFile}:${rowLine(r)}`;
    const id = (r.ImageId ?? '').trim();
    const enc = (r.EncodedPixels ?? '').trim();
    if (!id || !enc) {
      p.bad(where, 'missing ImageId or EncodedPixels');
      continue;
    }
    if (enc !== '-1' && !/^\d+(\s+\d+)*$/.test(enc)) {
      p.bad(where, `EncodedPixels is not "-1" or a list of integers`);
      continue;
    }
    const g = groups.get(id) ?? { rle: [], line: rowLine(r) ?? 0 };
    g.rle.push(enc);
    groups.set(id, g);
  }
  const items: ItemRef[] = [];
  for (const [id, g] of groups) {
    const image = lookup(id);
    if (!image) continue; // labels without images (e.g. a partial download) are not items
    const positive = g.rle.some((r) => r !== '-1');
    items.push({
      id,
      patientId: id,
      image,
      labels: [positive ? 1 : 0],
      mask: { kind: 'rle', rle: g.rle, width: opts.width ?? 1024, height: opts.height ?? 1024 },
      meta: { rleLine: g.line },
    });
  }
  p.finish('SIIM-ACR');
  return { name: 'siim-acr', root, classes: ['Pneumothorax'], items, skipped: p.skipped };
}

// ---------------------------------------------------------------- RSNA Pneumonia

export interface RsnaOptions extends AdapterOptions {
  /** stage_2_train_labels.csv (patientId,x,y,width,height,Target); .zip/.gz accepted */
  labels?: string;
  imagesDir?: string;
  /** include label rows whose DICOM is missing (report-only use); default false */
  keepMissingImages?: boolean;
}

/** RSNA Pneumonia Detection: stage_2_train_images/<patientId>.dcm + box table; boxes -> masks for segmentation. */
export function rsnaPneumonia(opts: RsnaOptions): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  const lf = opts.labels ?? findFile(root, ['stage_2_train_labels.csv', 'kaggle_stage_2_train_labels.csv']);
  const rows = readCsv(need(lf, 'RSNA label table'), { onBadRow: (w, r) => p.bad(w, r) });
  const imgDir = opts.imagesDir ?? path.join(root, 'stage_2_train_images');
  const byId = new Map<string, { target: number; boxes: Box[] }>();
  for (const r of rows) {
    const where = `${lf}:${rowLine(r)}`;
    const id = (r.patientId ?? '').trim();
    const t = (r.Target ?? '').trim();
    if (!id || (t !== '0' && t !== '1')) {
      p.bad(where, `missing patientId or Target not 0/1 ("${r.Target ?? ''}")`);
      continue;
    }
    const e = byId.get(id) ?? { target: 0, boxes: [] };
    if (t === '1') {
      const v = ['x', 'y', 'width', 'height'].map((k) => num(r[k], where, k, p));
      if (v.some((x) => x === undefined)) continue;
      e.boxes.push({ x: v[0]!, y: v[1]!, w: v[2]!, h: v[3]!, label: 'Lung Opacity' });
      e.target = 1;
    }
    byId.set(id, e);
  }
  const items: ItemRef[] = [];
  for (const [id, e] of byId) {
    const image = path.join(imgDir, `${id}.dcm`);
    if (!opts.keepMissingImages && !fs.existsSync(image)) continue;
    items.push({ id, patientId: id, image, labels: [e.target], boxes: e.boxes, mask: { kind: 'boxes' } });
  }
  p.finish('RSNA Pneumonia');
  return { name: 'rsna-pneumonia', root, classes: ['Pneumonia'], items, skipped: p.skipped };
}

// ---------------------------------------------------------------- CheXpert

export const CHEXPERT_5 = ['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion'] as const;
/** uncertain (-1) -> 1 for these (U-Ones), -> 0 for the others (U-Zeros): the MGCA/G2D protocol */
export const CHEXPERT_UNCERTAIN_ONES = ['Atelectasis', 'Edema', 'Pleural Effusion'];

export interface ChexpertOptions extends AdapterOptions {
  /** train.csv or valid.csv (relative to root or absolute) */
  csv?: string;
  /** label names (default the 5 competition labels) */
  classes?: readonly string[];
  /** frontal views only (default true, as the protocol) */
  frontalOnly?: boolean;
}

/**
 * CheXpert(-v1.0-small): <root>/train.csv with Path (e.g. CheXpert-v1.0-small/train/patient00001/
 * study1/view1_frontal.jpg, resolved against root's parent or root), Frontal/Lateral, and the labels
 * (1, 0, -1 uncertain, blank). Blank -> 0; uncertain per CHEXPERT_UNCERTAIN_ONES.
 */
export function chexpert(opts: ChexpertOptions): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  const csv = opts.csv ? (path.isAbsolute(opts.csv) ? opts.csv : path.join(root, opts.csv)) : path.join(root, 'train.csv');
  const rows = readCsv(need(csv, 'CheXpert CSV'), { onBadRow: (w, r) => p.bad(w, r) });
  const classes = opts.classes ?? CHEXPERT_5;
  if (rows[0]) for (const c of classes) if (!(c in rows[0])) throw new G2DError(`no label column "${c}"`, { source: csv });
  const items: ItemRef[] = [];
  for (const r of rows) {
    const where = `${csv}:${rowLine(r)}`;
    const rel = r.Path;
    if (!rel) {
      p.bad(where, 'empty Path');
      continue;
    }
    if ((opts.frontalOnly ?? true) && r['Frontal/Lateral'] && r['Frontal/Lateral'] !== 'Frontal') continue;
    const pid = /patient(\d+)/.exec(rel)?.[1];
    if (!pid) {
      p.bad(where, `cannot find patientNNNNN in Path "${rel}"`);
      continue;
    }
    const labels: number[] = [];
    let ok = true;
    for (const c of classes) {
      const v = (r[c] ?? '').trim();
      if (v === '' ) labels.push(0);
      else if (v === '1' || v === '1.0') labels.push(1);
      else if (v === '0' || v === '0.0') labels.push(0);
      else if (v === '-1' || v === '-1.0') labels.push(CHEXPERT_UNCERTAIN_ONES.includes(c) ? 1 : 0);
      else {
        p.bad(where, `label "${c}" has value "${v}" (expected 1, 0, -1 or blank)`);
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    const cand = [path.join(path.dirname(root), rel), path.join(root, rel), path.join(root, rel.split('/').slice(1).join('/'))];
    const image = cand.find((c) => fs.existsSync(c)) ?? cand[0]!;
    items.push({ id: rel, patientId: pid, image, labels, meta: { sex: r.Sex, age: r.Age, view: r['AP/PA'] } });
  }
  p.finish('CheXpert');
  return { name: 'chexpert', root, classes: [...classes], items, skipped: p.skipped };
}

// ---------------------------------------------------------------- MIMIC-CXR(-JPG)

export const MIMIC_CHEXPERT_14 = [
  'Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Enlarged Cardiomediastinum', 'Fracture', 'Lung Lesion',
  'Lung Opacity', 'No Finding', 'Pleural Effusion', 'Pleural Other', 'Pneumonia', 'Pneumothorax', 'Support Devices',
] as const;

export interface MimicOptions extends AdapterOptions {
  /** split to keep ('train' | 'validate' | 'test'); default all */
  split?: string;
  /** views to keep (default PA and AP, as the pretraining data) */
  views?: string[] | 'all';
  /** where the report .txt files live (default <root>/files, i.e. mimic-cxr-reports unpacked over the JPG tree) */
  reportsDir?: string;
  /** skip images whose report has neither findings nor impression (default true) */
  requireText?: boolean;
}

/**
 * MIMIC-CXR-JPG 2.0 layout: files/p10/p10000032/s50414267/<dicom_id>.jpg, mimic-cxr-2.0.0-metadata.csv(.gz),
 * -split.csv(.gz), -chexpert.csv(.gz) (labels 1/0/-1/blank -> U-Ones as CheXpert), reports
 * files/p10/p10000032/s50414267.txt. Text = referenceReportText(findings, impression).
 */
export function mimicCxr(opts: MimicOptions): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  const metaF = need(findFile(root, ['mimic-cxr-2.0.0-metadata.csv']), 'mimic-cxr-2.0.0-metadata.csv');
  const splitF = findFile(root, ['mimic-cxr-2.0.0-split.csv']);
  const labF = findFile(root, ['mimic-cxr-2.0.0-chexpert.csv']);
  const split = new Map<string, string>();
  if (fs.existsSync(splitF)) for (const r of readCsv(splitF, { onBadRow: (w, r) => p.bad(w, r) })) split.set(r.dicom_id!, r.split!);
  const labels = new Map<string, number[]>();
  if (fs.existsSync(labF)) {
    for (const r of readCsv(labF, { onBadRow: (w, r) => p.bad(w, r) })) {
      labels.set(
        `${r.subject_id}/${r.study_id}`,
        MIMIC_CHEXPERT_14.map((c) => {
          const v = (r[c] ?? '').trim();
          return v === '1' || v === '1.0' ? 1 : (v === '-1' || v === '-1.0') && CHEXPERT_UNCERTAIN_ONES.includes(c) ? 1 : 0;
        }),
      );
    }
  }
  const views = opts.views === 'all' ? undefined : (opts.views ?? ['PA', 'AP']);
  const reportsDir = opts.reportsDir ?? path.join(root, 'files');
  const textCache = new Map<string, string | undefined>();
  const items: ItemRef[] = [];
  for (const r of readCsv(metaF, { onBadRow: (w, r) => p.bad(w, r) })) {
    const where = `${metaF}:${rowLine(r)}`;
    const { dicom_id: did, subject_id: sid, study_id: stid } = r;
    if (!did || !sid || !stid) {
      p.bad(where, 'missing dicom_id / subject_id / study_id');
      continue;
    }
    if (views && !views.includes((r.ViewPosition ?? '').trim())) continue;
    const sp = split.get(did);
    if (opts.split && sp !== opts.split) continue;
    const rel = `p${sid.slice(0, 2)}/p${sid}/s${stid}`;
    let text = textCache.get(rel);
    if (!textCache.has(rel)) {
      const rp = path.join(reportsDir, `${rel}.txt`);
      if (fs.existsSync(rp)) {
        const sec = extractSections(fs.readFileSync(rp, 'utf8'));
        text = sec.findings || sec.impression ? referenceReportText(sec.findings, sec.impression) : undefined;
      }
      textCache.set(rel, text);
    }
    if ((opts.requireText ?? true) && !text) continue;
    items.push({
      id: did,
      patientId: sid,
      image: path.join(root, 'files', rel, `${did}.jpg`),
      text,
      labels: labels.get(`${sid}/${stid}`),
      meta: { study: stid, view: r.ViewPosition, split: sp },
    });
  }
  p.finish('MIMIC-CXR');
  return { name: 'mimic-cxr', root, classes: [...MIMIC_CHEXPERT_14], items, skipped: p.skipped };
}

// ---------------------------------------------------------------- COVIDx

export interface CovidxOptions extends AdapterOptions {
  /** split file: train.txt / test.txt (COVIDx8+: "patientid filename label source") */
  split?: 'train' | 'test' | 'val';
}

/** COVIDx: <root>/<split>.txt (or <split>_COVIDx*.txt) lines "patient_id filename label source", images in <root>/<split>/. */
export function covidx(opts: CovidxOptions): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  const split = opts.split ?? 'train';
  const list =
    [path.join(root, `${split}.txt`), ...fs.readdirSync(root).filter((f) => new RegExp(`^${split}.*\\.txt$`, 'i').test(f)).map((f) => path.join(root, f))].find((f) => fs.existsSync(f)) ??
    path.join(root, `${split}.txt`);
  const lines = readTextFile(need(list, `COVIDx ${split} list`)).split(/\r?\n/);
  const raw: { pid: string; file: string; label: string }[] = [];
  lines.forEach((l, k) => {
    const t = l.trim();
    if (!t) return;
    const f = t.split(/\s+/);
    if (f.length < 3) {
      p.bad(`${list}:${k + 1}`, `expected "patient_id filename label [source]", got ${f.length} field(s)`);
      return;
    }
    raw.push({ pid: f[0]!, file: f[1]!, label: f[2]! });
  });
  const classes = [...new Set(raw.map((r) => r.label))].sort();
  const items = raw.map((r) => ({
    id: r.file,
    patientId: r.pid,
    image: path.join(root, split, r.file),
    labels: classes.map((c) => (c === r.label ? 1 : 0)),
    meta: { label: r.label },
  }));
  p.finish('COVIDx');
  return { name: 'covidx', root, classes, items, skipped: p.skipped };
}

// ---------------------------------------------------------------- Object-CXR

/**
 * Object-CXR (JF Healthcare): train.csv / dev.csv with image_name, annotation, where annotation is
 * ";"-separated objects "<type> x1 y1 x2 y2 ..." (0 rectangle, 1 ellipse: bbox corners; 2 polygon:
 * its points); images in train/ or dev/. Each object becomes its bounding box; label 1 = has objects.
 */
export function objectCxr(opts: AdapterOptions & { split?: 'train' | 'dev' }): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  const split = opts.split ?? 'train';
  const csv = need(path.join(root, `${split}.csv`), `Object-CXR ${split}.csv`);
  const items: ItemRef[] = [];
  for (const r of readCsv(csv, { onBadRow: (w, r) => p.bad(w, r) })) {
    const where = `${csv}:${rowLine(r)}`;
    const name = r.image_name;
    if (!name) {
      p.bad(where, 'empty image_name');
      continue;
    }
    const ann = (r.annotation ?? '').trim();
    const boxes: Box[] = [];
    let ok = true;
    for (const obj of ann ? ann.split(';').filter((s) => s.trim()) : []) {
      const v = obj.trim().split(/\s+/).map(Number);
      if (v.length < 5 || v.some((x) => !Number.isFinite(x)) || ![0, 1, 2].includes(v[0]!) || (v.length - 1) % 2 !== 0) {
        p.bad(where, `malformed annotation object "${obj.trim()}"`);
        ok = false;
        break;
      }
      const xs = v.slice(1).filter((_, k) => k % 2 === 0);
      const ys = v.slice(1).filter((_, k) => k % 2 === 1);
      const x0 = Math.min(...xs);
      const y0 = Math.min(...ys);
      boxes.push({ x: x0, y: y0, w: Math.max(...xs) - x0, h: Math.max(...ys) - y0, label: ['rectangle', 'ellipse', 'polygon'][v[0]!] });
    }
    if (!ok) continue;
    items.push({ id: name, patientId: name.replace(/\.[^.]+$/, ''), image: path.join(root, split, name), labels: [boxes.length ? 1 : 0], boxes, mask: { kind: 'boxes' } });
  }
  p.finish('Object-CXR');
  return { name: 'object-cxr', root, classes: ['foreign object'], items, skipped: p.skipped };
}

// ---------------------------------------------------------------- IU X-ray (OpenI)

export interface IuOptions extends AdapterOptions {
  /** directory of the OpenI PNGs (NLMCXR_png: <image_id>.png); without it, items carry text only */
  imagesDir?: string;
}

/**
 * IU X-ray: reports from NLMCXR_reports.tgz (ecgen-radiology/*.xml) or reports.csv, one item per
 * image id (or per report when no image ids), text = referenceReportText(findings, impression),
 * labels = none (MeSH tags in meta).
 */
export function iuXray(opts: IuOptions): DatasetIndex {
  const root = opts.root;
  const p = new Problems(opts);
  const tgz = path.join(root, 'NLMCXR_reports.tgz');
  const csv = path.join(root, 'reports.csv');
  type Rep = { uid: string; findings?: string; impression?: string; imageIds: string[]; mesh: string[]; where: string };
  const reps: Rep[] = [];
  if (fs.existsSync(tgz)) {
    for (const r of readIuReportsArchive(tgz)) reps.push({ uid: r.uid, findings: r.findings, impression: r.impression, imageIds: r.imageIds, mesh: r.meshMajor, where: `${tgz}:${r.report}` });
  } else {
    for (const r of readCsv(need(csv, 'IU reports (NLMCXR_reports.tgz or reports.csv)'), { onBadRow: (w, r) => p.bad(w, r) })) {
      reps.push({
        uid: r.uid!,
        findings: r.findings || undefined,
        impression: r.impression || undefined,
        imageIds: (r.image_ids ?? '').split(';').filter(Boolean),
        mesh: (r.mesh_major ?? '').split(';').filter(Boolean),
        where: `${csv}:${rowLine(r)}`,
      });
    }
  }
  const items: ItemRef[] = [];
  for (const r of reps) {
    if (!r.findings && !r.impression) {
      p.bad(r.where, 'report has neither findings nor impression');
      continue;
    }
    const text = referenceReportText(r.findings, r.impression);
    const ids = r.imageIds.length ? r.imageIds : [`report-${r.uid}`];
    for (const id of ids) {
      items.push({ id, patientId: r.uid, image: opts.imagesDir ? path.join(opts.imagesDir, `${id}.png`) : undefined, text, meta: { mesh: r.mesh, uid: r.uid } });
    }
  }
  p.finish('IU X-ray');
  return { name: 'iu-xray', root, items, skipped: p.skipped };
}

// ---------------------------------------------------------------- loading

/** Decode an item's image (and mask). Masks come out at the image's size, 0/1. */
export async function loadItem(ref: ItemRef, opts: LoadImageOptions = {}): Promise<LoadedItem> {
  if (!ref.image) throw new G2DError('item has no image (report-only dataset)', { source: ref.id });
  const { image, meta } = await loadImage(ref.image, opts);
  let mask: Mask | undefined;
  const m = ref.mask;
  if (m?.kind === 'image') {
    const mi = await loadImage(m.path);
    if (mi.image.width !== image.width || mi.image.height !== image.height) {
      throw new G2DError(`mask is ${mi.image.width}x${mi.image.height}, image is ${image.width}x${image.height}`, { source: m.path });
    }
    const d = new Uint8Array(mi.image.data.length);
    const half = mi.image.maxValue / 2;
    for (let i = 0; i < d.length; i++) d[i] = mi.image.data[i]! > half ? 1 : 0;
    mask = { width: image.width, height: image.height, data: d };
  } else if (m?.kind === 'rle') {
    mask = decodeSiimRle(m.rle, m.width, m.height, ref.id);
    if (mask.width !== image.width || mask.height !== image.height) {
      throw new G2DError(`RLE mask is ${m.width}x${m.height}, image is ${image.width}x${image.height}`, { source: ref.image });
    }
  } else if (m?.kind === 'boxes') {
    mask = boxesToMask(ref.boxes ?? [], image.width, image.height);
  }
  return { id: ref.id, patientId: ref.patientId, image, imageMeta: meta, text: ref.text, labels: ref.labels, boxes: ref.boxes, mask };
}

// ---------------------------------------------------------------- registry

/** Every adapter by name (`datasets.create('nih-cxr14', { root })`); unknown names list the valid ones. */
export const datasets: Registry<AdapterOptions & Record<string, unknown>, DatasetIndex> = createRegistry<AdapterOptions & Record<string, unknown>, DatasetIndex>('dataset');
datasets.register('mimic-cxr', (o) => mimicCxr(o as MimicOptions), { layout: 'MIMIC-CXR-JPG 2.0 + reports' });
datasets.register('chexpert', (o) => chexpert(o as ChexpertOptions), { layout: 'CheXpert-v1.0(-small) train.csv / valid.csv' });
datasets.register('rsna-pneumonia', (o) => rsnaPneumonia(o as RsnaOptions), { layout: 'stage_2_train_images/*.dcm + stage_2_train_labels.csv' });
datasets.register('siim-acr', (o) => siimAcr(o as SiimOptions), { layout: 'dicom-images-train/**/<ImageId>.dcm + train-rle.csv' });
datasets.register('covidx', (o) => covidx(o as CovidxOptions), { layout: '<split>.txt + <split>/ images' });
datasets.register('nih-cxr14', (o) => nihChestXray14(o as NihOptions), { layout: 'Data_Entry_2017(_v2020).csv + BBox_List_2017.csv + images*/' });
datasets.register('object-cxr', (o) => objectCxr(o as AdapterOptions & { split?: 'train' | 'dev' }), { layout: 'train.csv / dev.csv + train/ dev/' });
datasets.register('iu-xray', (o) => iuXray(o as IuOptions), { layout: 'NLMCXR_reports.tgz or reports.csv (+ NLMCXR_png)' });
datasets.register('covid-chestxray', (o) => covidChestXray(o as CovidOptions), { layout: 'ieee8023 metadata.csv + images/ (+ masks, lung_bboxes.csv)' });
