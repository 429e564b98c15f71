/**
 * The `synthetic` dataset adapter. Without a root it generates on the fly: `count` studies of
 * `size`² from `seed` (items carry labels, report text, boxes and their split; the image and
 * mask are drawn again, deterministically, when an item is loaded). With a root (the
 * `synthetic:<dir>` form) it reads a folder written by `g2d-data synth` / writeSyntheticDataset.
 * Splits come with the data (meta.split, by patient); `split` keeps one part.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { readCsv, rowLine } from '../csv';
import { Problems, need, num } from '../datasets/common';
import type { AdapterOptions, DatasetIndex, ItemRef } from '../datasets/types';
import type { LoadedItem } from '../load-item';
import type { Box, Mask } from '../masks';
import { extractSections, referenceReportText } from '../reports';
import { SYNTH_FINDINGS, type SynthFindingName } from './findings';
import { generateSynthetic, resolveSynthOptions, syntheticLayout, type ResolvedSynthOptions, type SynthOptions, type SynthSample } from './generate';

export interface SyntheticAdapterOptions extends Partial<AdapterOptions>, SynthOptions {
  /** a folder written by `g2d-data synth`; absent or empty: generate on the fly */
  root?: string;
  /** studies generated on the fly (default 1000; ignored with a root) */
  count?: number;
  /** keep only this split */
  split?: 'train' | 'val' | 'test';
  /** which finding's mask items carry (default: none) */
  mask?: SynthFindingName;
}

/** What an on-the-fly item needs to be drawn again (ItemRef.meta.synthetic). */
export interface SyntheticItemSource {
  index: number;
  options: ResolvedSynthOptions;
  mask?: SynthFindingName;
}

/** `name:root` (e.g. `synthetic:/data/synth`) -> { name, root }; a bare name has no root. */
export function parseDatasetSpec(spec: string): { name: string; root?: string } {
  const k = spec.indexOf(':');
  if (k <= 0) return { name: spec };
  const root = spec.slice(k + 1);
  return { name: spec.slice(0, k), root: root || undefined };
}

function intOption(v: unknown, what: string, lo: number): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < lo) throw new G2DError(`synthetic dataset option "${what}" must be an integer >= ${lo}, got ${JSON.stringify(v)}`);
  return n;
}

function checkMaskOption(mask: unknown): SynthFindingName | undefined {
  if (mask === undefined) return undefined;
  if (!(SYNTH_FINDINGS as readonly unknown[]).includes(mask)) throw new G2DError(`synthetic dataset option "mask" must be one of ${SYNTH_FINDINGS.join(', ')}, got ${JSON.stringify(mask)}`);
  return mask as SynthFindingName;
}

function checkSplitOption(split: unknown): 'train' | 'val' | 'test' | undefined {
  if (split === undefined) return undefined;
  if (split !== 'train' && split !== 'val' && split !== 'test') throw new G2DError(`synthetic dataset option "split" must be train, val or test, got ${JSON.stringify(split)}`);
  return split;
}

function toBoxes(s: SynthSample): Box[] {
  return s.findings.map((f) => ({ x: f.box[0], y: f.box[1], w: f.box[2] - f.box[0], h: f.box[3] - f.box[1], label: f.name }));
}

function reportText(report: string): string {
  const sec = extractSections(report);
  return referenceReportText(sec.findings, sec.impression);
}

/** The `synthetic` adapter (see the file comment). */
export function syntheticDataset(opts: SyntheticAdapterOptions = {}): DatasetIndex {
  const split = checkSplitOption(opts.split);
  const mask = checkMaskOption(opts.mask);
  if (opts.root) return readSyntheticFolder(opts.root, { ...opts, split, mask });
  const count = intOption(opts.count, 'count', 1) ?? 1000;
  const o = resolveSynthOptions({ ...opts, size: intOption(opts.size, 'size', 1), seed: opts.seed });
  const items: ItemRef[] = [];
  for (let index = 0; index < count; index++) {
    const s = syntheticLayout(index, o);
    if (split && s.split !== split) continue;
    const source: SyntheticItemSource = { index, options: o, mask };
    items.push({
      id: s.id,
      patientId: s.patientId,
      text: reportText(s.report),
      labels: s.labels,
      boxes: toBoxes(s),
      meta: { synthetic: source, split: s.split, findings: s.findings.map((f) => f.name), report: s.report, size: o.size },
    });
  }
  return { name: 'synthetic', root: '', classes: [...SYNTH_FINDINGS], items, skipped: [] };
}

/** Is this item generated on the fly (to be loaded with loadSyntheticItem)? */
export function isSyntheticItem(ref: ItemRef): boolean {
  return !!ref.meta && typeof ref.meta.synthetic === 'object' && ref.meta.synthetic !== null && !ref.image;
}

/** Draw an on-the-fly item again: image (8-bit grey), text, labels, boxes and, if asked for, the mask. */
export function loadSyntheticItem(ref: ItemRef): LoadedItem {
  const src = ref.meta?.synthetic as SyntheticItemSource | undefined;
  if (!src || !Number.isInteger(src.index)) throw new G2DError('not an on-the-fly synthetic item (meta.synthetic missing)', { source: ref.id });
  const s = generateSynthetic(src.index, src.options);
  if (s.id !== ref.id) throw new G2DError(`synthetic item regenerated as ${s.id}`, { source: ref.id });
  let mask: Mask | undefined;
  if (src.mask) {
    const d = new Uint8Array(s.size * s.size);
    for (const f of s.findings) if (f.name === src.mask) for (let i = 0; i < d.length; i++) d[i] = d[i]! | f.mask[i]!;
    mask = { width: s.size, height: s.size, data: d };
  }
  return {
    id: s.id,
    patientId: s.patientId,
    image: { width: s.size, height: s.size, data: s.image, maxValue: 255 },
    imageMeta: { source: `synthetic:${String(src.options.seed)}/${s.id}`, format: 'png', width: s.size, height: s.size, channels: 1, bitDepth: 8, steps: ['generated by @g2d-ts/data generateSynthetic (synthetic, not patient data)'] },
    text: reportText(s.report),
    labels: s.labels,
    boxes: toBoxes(s),
    mask,
  };
}

/** Width and height from a PNG's IHDR (the first 24 bytes). */
function pngSize(file: string): { width: number; height: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(24);
    const n = fs.readSync(fd, b, 0, 24, 0);
    if (n < 24 || b.readUInt32BE(0) !== 0x89504e47 || b.toString('latin1', 12, 16) !== 'IHDR') throw new G2DError('not a PNG file', { source: file });
    return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  } finally {
    fs.closeSync(fd);
  }
}

function readSyntheticFolder(rootIn: string, opts: SyntheticAdapterOptions): DatasetIndex {
  const root = path.resolve(rootIn);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new G2DError('synthetic dataset folder not found (write one with: g2d-data synth --out DIR --count N)', { source: root });
  const p = new Problems({ root, onError: opts.onError, log: opts.log });
  const metaFile = need(path.join(root, 'metadata.csv'), 'metadata.csv of a synthetic dataset');
  const boxFile = path.join(root, 'boxes.csv');
  const boxes = new Map<string, Box[]>();
  if (fs.existsSync(boxFile)) {
    for (const r of readCsv(boxFile, { onBadRow: (w, why) => p.bad(w, why) })) {
      const where = `${boxFile}:${rowLine(r)}`;
      const f = (r.finding ?? '').trim();
      if (!r.image || !(SYNTH_FINDINGS as readonly string[]).includes(f)) {
        p.bad(where, `missing image or unknown finding "${f}" (expected one of ${SYNTH_FINDINGS.join(', ')})`);
        continue;
      }
      const v = (['x1', 'y1', 'x2', 'y2'] as const).map((k) => num(r[k], where, k, p));
      if (v.some((x) => x === undefined)) continue;
      const [x1, y1, x2, y2] = v as number[];
      if (!(x2! > x1! && y2! > y1!)) {
        p.bad(where, `empty box ${x1},${y1},${x2},${y2}`);
        continue;
      }
      const l = boxes.get(r.image) ?? [];
      l.push({ x: x1!, y: y1!, w: x2! - x1!, h: y2! - y1!, label: f });
      boxes.set(r.image, l);
    }
  }
  let size: { width: number; height: number } | undefined;
  const items: ItemRef[] = [];
  for (const r of readCsv(metaFile, { onBadRow: (w, why) => p.bad(w, why) })) {
    const where = `${metaFile}:${rowLine(r)}`;
    const rel = (r.image ?? '').trim();
    if (!rel || r.findings === undefined || r.report === undefined) {
      p.bad(where, 'missing image, findings or report column');
      continue;
    }
    const names = r.findings.split('|').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(SYNTH_FINDINGS as readonly string[]).includes(n));
    if (unknown.length) {
      p.bad(where, `unknown finding(s) ${unknown.join(', ')} (expected ${SYNTH_FINDINGS.join(', ')})`);
      continue;
    }
    const sp = (r.split ?? '').trim();
    if (sp && sp !== 'train' && sp !== 'val' && sp !== 'test') {
      p.bad(where, `split must be train, val or test, got "${sp}"`);
      continue;
    }
    if (opts.split && sp !== opts.split) continue;
    const id = path.basename(rel, path.extname(rel));
    const image = path.join(root, rel);
    let mask: ItemRef['mask'];
    if (opts.mask) {
      if (names.includes(opts.mask)) mask = { kind: 'image', path: path.join(root, 'masks', opts.mask, `${id}.png`) };
      else {
        size ??= pngSize(image);
        mask = { kind: 'rle', rle: ['-1'], width: size.width, height: size.height }; // an empty mask
      }
    }
    items.push({
      id,
      patientId: (r.patient ?? '').trim() || id,
      image,
      text: reportText(r.report),
      labels: SYNTH_FINDINGS.map((n) => (names.includes(n) ? 1 : 0)),
      boxes: boxes.get(rel) ?? [],
      mask,
      meta: { split: sp || undefined, findings: names, report: r.report },
    });
  }
  p.finish('synthetic');
  return { name: 'synthetic', root, classes: [...SYNTH_FINDINGS], items, skipped: p.skipped };
}

