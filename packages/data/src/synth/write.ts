/**
 * `writeSyntheticDataset`: a folder of synthetic studies, byte-identical for the same options
 * whatever the folder (no paths, times or host names in any file):
 *
 *   images/<id>.png                 8-bit grey radiographs
 *   masks/<finding>/<id>.png        0/255 masks, one per finding present in the image
 *   boxes.csv                       image,finding,x1,y1,x2,y2,side,zone,severity (one row per finding instance)
 *   metadata.csv                    image,findings,report,split,patient (findings |-separated, empty for normal)
 *   README.txt                      what the data is (synthetic) and how it was made
 *
 * Every file is written atomically (temporary file, fsync, rename); README.txt is written last,
 * so a folder with a README.txt is complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, writeFileAtomic } from '@g2d-ts/core';
import { encodeGrayPng } from '../image';
import { SYNTH_FINDINGS, type SynthFindingName } from './findings';
import { generateSynthetic, resolveSynthOptions, type SynthOptions } from './generate';

/**
 * Version of the generator, written to README.txt and used by caches as part of a dataset's
 * identity: bump it whenever the drawing, the findings or the reports change.
 */
export const SYNTH_VERSION = 2;

export interface WriteSyntheticOptions extends SynthOptions {
  out: string;
  count: number;
  /** called after each image */
  onProgress?: (done: number, count: number) => void;
}

export interface WriteSyntheticResult {
  out: string;
  count: number;
  normal: number;
  /** images with each finding */
  perFinding: Record<SynthFindingName, number>;
  splits: Record<'train' | 'val' | 'test', number>;
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function maskPng(mask: Uint8Array, size: number): Uint8Array {
  const d = new Uint8Array(mask.length);
  for (let i = 0; i < d.length; i++) d[i] = mask[i] ? 255 : 0;
  return encodeGrayPng({ width: size, height: size, data: d, maxValue: 255 });
}

export function writeSyntheticDataset(opts: WriteSyntheticOptions): WriteSyntheticResult {
  if (!opts.out || typeof opts.out !== 'string') throw new G2DError('synthetic dataset: "out" (the output folder) is required');
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new G2DError(`synthetic dataset: "count" must be an integer >= 1, got ${String(opts.count)}`);
  const o = resolveSynthOptions(opts);
  const out = path.resolve(opts.out);
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new G2DError('output exists and is not a folder', { source: out });
  fs.mkdirSync(path.join(out, 'images'), { recursive: true });
  const perFinding = Object.fromEntries(SYNTH_FINDINGS.map((n) => [n, 0])) as Record<SynthFindingName, number>;
  const splits = { train: 0, val: 0, test: 0 };
  const boxes = ['image,finding,x1,y1,x2,y2,side,zone,severity'];
  const meta = ['image,findings,report,split,patient'];
  let normal = 0;
  for (let index = 0; index < opts.count; index++) {
    const s = generateSynthetic(index, o);
    const rel = `images/${s.id}.png`;
    writeFileAtomic(path.join(out, rel), encodeGrayPng({ width: s.size, height: s.size, data: s.image, maxValue: 255 }));
    const names = SYNTH_FINDINGS.filter((n) => s.findings.some((f) => f.name === n));
    for (const n of names) {
      const union = new Uint8Array(s.size * s.size);
      for (const f of s.findings) if (f.name === n) for (let i = 0; i < union.length; i++) union[i] = union[i]! | f.mask[i]!;
      const dir = path.join(out, 'masks', n);
      fs.mkdirSync(dir, { recursive: true });
      writeFileAtomic(path.join(dir, `${s.id}.png`), maskPng(union, s.size));
      perFinding[n]++;
    }
    for (const f of s.findings) boxes.push([rel, f.name, ...f.box.map(String), f.side, f.zone, f.severity.toFixed(4)].join(','));
    meta.push([rel, names.join('|'), csvField(s.report), s.split, s.patientId].join(','));
    if (!names.length) normal++;
    splits[s.split]++;
    opts.onProgress?.(index + 1, opts.count);
  }
  writeFileAtomic(path.join(out, 'boxes.csv'), `${boxes.join('\n')}\n`);
  writeFileAtomic(path.join(out, 'metadata.csv'), `${meta.join('\n')}\n`);
  const readme = [
    'SYNTHETIC CHEST RADIOGRAPHS - NOT PATIENT DATA',
    '',
    'Every image, mask, box and report in this folder is synthetic: drawn by a procedural',
    `generator (@g2d-ts/data generateSynthetic, generator version ${SYNTH_VERSION}), not taken from any patient.`,
    'They are meant for testing and demonstrating software. They are not fit for any clinical use,',
    'and a model trained on them learns the generator, not medicine.',
    '',
    'How they were made',
    '  Each study is drawn as an attenuation map and exposed: body soft tissue, two lungs whose',
    '  shape follows inspiration, body size and rotation, heart and mediastinum, trachea, clavicles,',
    '  posterior and anterior ribs, spine, diaphragm domes and costophrenic angles, vascular lung',
    '  markings; then exposure, contrast and gamma variation, detector noise, and on some studies',
    '  collimation edges and lead markers. Findings are drawn into it at anatomical places, each',
    '  with a size/severity parameter. A finding\'s mask is exactly where it was drawn (its density',
    '  above 30 % of its peak, or the device itself), clipped to the lung field for lung findings',
    '  and to the visible body for all. The report is written from what was drawn (side, zone,',
    '  size), negates absent findings, and on a share of studies carries noise (comparison',
    '  sentences, dictation artefacts). Side words are the patient\'s side: the patient\'s right',
    '  is on the image\'s left.',
    '',
    'Parameters',
    `  seed: ${String(o.seed)}`,
    `  count: ${opts.count}`,
    `  size: ${o.size} x ${o.size} pixels`,
    `  normal share: ${o.normalShare}`,
    `  report noise: ${o.reportNoise}`,
    `  splits (by patient, 2 studies per patient): train ${o.splits.train} / val ${o.splits.val} / test ${o.splits.test}`,
    '  regenerate: g2d-data synth --out DIR --count N --seed S --size N',
    '',
    'Contents',
    '  images/<id>.png             8-bit grey radiographs',
    '  masks/<finding>/<id>.png    0/255 masks of each finding present in the image',
    '  boxes.csv                   image,finding,x1,y1,x2,y2,side,zone,severity; one row per finding',
    '                              instance; x2, y2 exclusive (pixel edges)',
    '  metadata.csv                image,findings,report,split,patient; findings |-separated, empty',
    '                              for a normal study',
    `  findings: ${SYNTH_FINDINGS.join(', ')}`,
    '',
    'Counts',
    `  images: ${opts.count} (normal ${normal}); splits: train ${splits.train}, val ${splits.val}, test ${splits.test}`,
    ...SYNTH_FINDINGS.map((n) => `  ${n}: ${perFinding[n]}`),
    '',
  ].join('\n');
  writeFileAtomic(path.join(out, 'README.txt'), readme);
  return { out, count: opts.count, normal, perFinding, splits };
}

