/**
 * `generateSynthetic(index, opts)`: one synthetic frontal chest radiograph with its findings
 * (exact masks and boxes), report, split and patient id, deterministic in (seed, index, options).
 * Two consecutive indices are two studies of one patient (same body habitus, different
 * positioning, exposure and findings), so patient-level splits are meaningful.
 */
import { G2DError, Rng } from '@g2d-ts/core';
import { type Side, anatomyMasks, buildAnatomy, Frame, samplePatient, sampleStudy } from './anatomy';
import { LUNG_FINDINGS, SYNTH_FINDINGS, anatomyAdjust, drawFinding, planFindings, zoneOf, type DrawContext, type SynthFinding } from './findings';
import { rasterText } from './font';
import { clamp, countMask, maskBox } from './raster';
import { expose, lungAir, renderAnatomy, sampleExposure, type AnatomyLayers } from './render';
import { writeReport } from './report';

export interface SynthOptions {
  /** default 0 */
  seed?: number | string;
  /** image side in pixels (default 256, 64..2048) */
  size?: number;
  /** share of studies without findings (default 0.3) */
  normalShare?: number;
  /** share of reports with noise: comparison sentences, dictation artefacts (default 0.1) */
  reportNoise?: number;
  /** split ratios by patient (default 0.8 / 0.1 / 0.1) */
  splits?: { train: number; val: number; test: number };
}

export type SynthSplit = 'train' | 'val' | 'test';

export interface SynthSample {
  id: string;
  index: number;
  patientId: string;
  split: SynthSplit;
  size: number;
  /** size * size grey, row-major (empty from `syntheticLayout`) */
  image: Uint8Array;
  findings: SynthFinding[];
  /** 0/1 per SYNTH_FINDINGS */
  labels: number[];
  /** the full report (EXAMINATION / FINDINGS / IMPRESSION ... lines) */
  report: string;
  reportSections: { findings: string; impression: string };
  /** anatomy as drawn: masks (0/1) and the parameters a report or evaluation may use */
  anatomy: { body: Uint8Array; lungs: Uint8Array; heart: Uint8Array; ctr: number; view: 'PA' | 'AP'; inspiration: number; rotation: number; mmPerPixel: number };
}

export const STUDIES_PER_PATIENT = 2;

export function synthId(index: number): string {
  return `synth-${String(index).padStart(6, '0')}`;
}

export interface ResolvedSynthOptions {
  seed: number | string;
  size: number;
  normalShare: number;
  reportNoise: number;
  splits: { train: number; val: number; test: number };
}

/** Defaults filled in and every option checked (a G2DError names the bad one). */
export function resolveSynthOptions(opts: SynthOptions = {}): ResolvedSynthOptions {
  const size = opts.size ?? 256;
  if (!Number.isInteger(size) || size < 64 || size > 2048) throw new G2DError(`synthetic option "size" must be an integer in 64..2048, got ${String(opts.size)}`);
  const share = (k: 'normalShare' | 'reportNoise', def: number) => {
    const v = opts[k] ?? def;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new G2DError(`synthetic option "${k}" must be a number in [0, 1], got ${String(opts[k])}`);
    return v;
  };
  const seed = opts.seed ?? 0;
  if (typeof seed !== 'number' && typeof seed !== 'string') throw new G2DError(`synthetic option "seed" must be a number or a string, got ${typeof seed}`);
  if (typeof seed === 'number' && !Number.isFinite(seed)) throw new G2DError(`synthetic option "seed" must be finite, got ${seed}`);
  const splits = opts.splits ?? { train: 0.8, val: 0.1, test: 0.1 };
  const sum = splits.train + splits.val + splits.test;
  if (![splits.train, splits.val, splits.test].every((x) => typeof x === 'number' && x >= 0) || Math.abs(sum - 1) > 1e-9) {
    throw new G2DError(`synthetic option "splits" must be three shares >= 0 summing to 1, got ${JSON.stringify(opts.splits)}`);
  }
  return { seed, size, normalShare: share('normalShare', 0.3), reportNoise: share('reportNoise', 0.1), splits };
}

/** The split of a synthetic patient (by patient, so both studies of a patient share it). */
export function synthSplit(seed: number | string, patientId: string, splits: { train: number; val: number; test: number }): SynthSplit {
  const u = new Rng(`${seed}/split/${patientId}`).next();
  return u < splits.train ? 'train' : u < splits.train + splits.val ? 'val' : 'test';
}

export function synthPatientId(index: number): string {
  return `p${String(Math.floor(index / STUDIES_PER_PATIENT)).padStart(6, '0')}`;
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0) throw new G2DError(`synthetic image index must be an integer >= 0, got ${index}`);
}

/** One synthetic study: image, findings with masks and boxes, report, split. */
export function generateSynthetic(index: number, opts: SynthOptions = {}): SynthSample {
  return synthesize(index, opts, true);
}

/**
 * The same study without drawing the radiograph itself (`image` is empty): findings, masks,
 * boxes, labels and report are identical to `generateSynthetic`'s, at a fraction of the cost.
 * Dataset indexes use it.
 */
export function syntheticLayout(index: number, opts: SynthOptions = {}): SynthSample {
  return synthesize(index, opts, false);
}

function synthesize(index: number, opts: SynthOptions, render: boolean): SynthSample {
  checkIndex(index);
  const o = resolveSynthOptions(opts);
  const { seed, size: S } = o;
  const patientId = synthPatientId(index);
  const pr = new Rng(`${seed}/patient/${patientId}`);
  const sr = new Rng(`${seed}/study/${index}`);
  const patient = samplePatient(pr.fork('habitus'));
  const study = sampleStudy(sr.fork('position'));
  const normal = sr.fork('normal').bernoulli(o.normalShare);
  const plans = planFindings(sr.fork('plan'), normal);
  const ana = buildAnatomy(S, patient, study, anatomyAdjust(plans));
  const frame = new Frame(ana);
  const m = anatomyMasks(ana, frame);
  // every random choice comes from its own forked stream, so skipping the drawing changes nothing else
  const layers: AnatomyLayers = render ? renderAnatomy(ana, frame, m, sr.fork('anatomy')) : { A: new Float32Array(S * S), air: lungAir(ana, m), markings: new Float32Array(S * S) };
  const ctx: DrawContext = { ana, frame, m, layers, r: sr.fork('findings'), markingGain: new Float32Array(S * S).fill(1) };
  const drawn = plans.map((p) => ({ plan: p, ...drawFinding(ctx, p) }));
  const A = layers.A;
  for (let i = 0; i < A.length; i++) A[i] = A[i]! + layers.markings[i]! * ctx.markingGain[i]!;
  const grey = render ? expose(A, S, sampleExposure(sr.fork('exposure')), sr.fork('noise')) : new Float32Array(S * S);

  // detector / positioning artefacts: collimation edges and lead markers; findings under them are not visible
  const visible = new Uint8Array(S * S).fill(1);
  const art = sr.fork('artefacts');
  collimate(grey, visible, S, m.lungs, art);
  const portable = burnMarkers(grey, visible, S, study.view, art);

  const findings: SynthFinding[] = [];
  for (const d of drawn) {
    const mask = d.mask;
    const lung = LUNG_FINDINGS.includes(d.plan.name);
    const within = lung ? (d.plan.side === 'right' || d.plan.side === 'left' ? m.lung[d.plan.side] : m.lungs) : m.body;
    for (let i = 0; i < mask.length; i++) mask[i] = mask[i]! & within[i]! & m.body[i]! & visible[i]!;
    const box = maskBox(mask, S);
    if (!box) continue;
    const detail = { ...d.detail };
    let zone = d.zone;
    if (lung && (d.plan.side === 'right' || d.plan.side === 'left')) {
      const side = d.plan.side as Side;
      if (d.plan.name === 'opacity' || d.plan.name === 'nodule' || (d.plan.name === 'atelectasis' && d.detail.kind === 'plate')) zone = zoneOf(ana, m, mask, side);
      detail.extent = countMask(mask) / Math.max(1, countMask(m.lung[side]));
      if (d.plan.name === 'effusion') {
        // fluid height at its highest point (the lateral meniscus), as a share of the hemithorax height
        let vmin = Infinity;
        for (let i = 0; i < mask.length; i++) if (mask[i] && m.V[i]! < vmin) vmin = m.V[i]!;
        const g = ana.lungs[side];
        detail.height = (g.vCp - vmin) / (g.vCp - g.vAp);
      }
    } else if (lung) detail.extent = countMask(mask) / Math.max(1, countMask(m.lungs));
    findings.push({ name: d.plan.name, side: d.plan.side, zone, severity: d.plan.severity, mask, box: [box[0], box[1], box[2] + 1, box[3] + 1], detail });
  }
  const rep = writeReport({ findings, view: study.view, portable, inspiration: study.inspiration, rotation: study.rotation, noise: o.reportNoise }, sr.fork('report'));
  const image = new Uint8Array(render ? S * S : 0);
  for (let i = 0; i < image.length; i++) image[i] = Math.round(clamp(grey[i]!, 0, 1) * 255);
  return {
    id: synthId(index),
    index,
    patientId,
    split: synthSplit(seed, patientId, o.splits),
    size: S,
    image,
    findings,
    labels: SYNTH_FINDINGS.map((n) => (findings.some((f) => f.name === n) ? 1 : 0)),
    report: rep.text,
    reportSections: { findings: rep.findings, impression: rep.impression },
    anatomy: { body: m.body, lungs: m.lungs, heart: m.heart, ctr: ana.ctr, view: study.view, inspiration: study.inspiration, rotation: study.rotation, mmPerPixel: ana.mmPerPx },
  };
}

/** Collimation: on some studies one to four edges are shuttered (lighter, flat), never over the lungs. */
function collimate(grey: Float32Array, visible: Uint8Array, S: number, lungs: Uint8Array, r: Rng): void {
  if (!r.bernoulli(0.3)) return;
  const lb = maskBox(lungs, S) ?? [S / 4, S / 4, (3 * S) / 4, (3 * S) / 4];
  const level = r.uniform(0.45, 0.9);
  const edges: { side: number; at: number; slope: number }[] = [];
  const room = [lb[0], lb[1], S - 1 - lb[2], S - 1 - lb[3]]; // left, top, right, bottom
  for (let k = 0; k < 4; k++) {
    if (!r.bernoulli(0.55)) continue;
    const maxW = Math.min(room[k]! - 4, 0.09 * S);
    if (maxW < 3) continue;
    edges.push({ side: k, at: r.uniform(2, maxW), slope: r.normal(0, 0.01) });
  }
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let out = false;
      for (const e of edges) {
        if (e.side === 0) out ||= x < e.at + e.slope * (y - S / 2);
        else if (e.side === 1) out ||= y < e.at + e.slope * (x - S / 2);
        else if (e.side === 2) out ||= x > S - 1 - e.at + e.slope * (y - S / 2);
        else out ||= y > S - 1 - e.at + e.slope * (x - S / 2);
      }
      if (out) {
        const i = y * S + x;
        grey[i] = level + 0.25 * (grey[i]! - 0.5) * 0.2;
        visible[i] = 0;
      }
    }
  }
}

/** Lead markers: "R" on the image's left or "L" on its right, and "AP" / "PORTABLE" on some AP studies. */
function burnMarkers(grey: Float32Array, visible: Uint8Array, S: number, view: 'PA' | 'AP', r: Rng): boolean {
  const plot = (x: number, y: number, val: number) => {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
        visible[yy * S + xx] = 0;
      }
    }
    if (x >= 0 && y >= 0 && x < S && y < S) grey[y * S + x] = val;
  };
  const scale = Math.max(1, Math.round(S / 110));
  let portable = false;
  let markerLeft = false;
  if (r.bernoulli(0.65)) {
    const left = r.bernoulli(0.5);
    markerLeft = left;
    const letter = left ? 'R' : 'L';
    const x0 = left ? Math.round(r.uniform(0.03, 0.1) * S) : Math.round(S - r.uniform(0.03, 0.1) * S - 5 * scale);
    const y0 = Math.round(r.uniform(0.03, 0.12) * S);
    const val = r.uniform(0.92, 1);
    rasterText(letter, x0, y0, scale, (x, y) => plot(x, y, val));
  }
  if (view === 'AP' && r.bernoulli(0.6)) {
    const s2 = Math.max(1, scale - 1);
    const words = r.bernoulli(0.7) ? ['AP', 'PORTABLE'] : ['AP'];
    portable = words.length === 2;
    const x0 = Math.round(S * (markerLeft ? r.uniform(0.68, 0.75) : r.uniform(0.05, 0.1)));
    const y0 = Math.round(S * r.uniform(0.02, 0.05));
    const val = r.uniform(0.85, 1);
    words.forEach((w, k) => rasterText(w, x0 + (k === 0 ? 3 * 6 * s2 : 0), y0 + k * 9 * s2, s2, (x, y) => plot(x, y, val)));
  }
  return portable;
}
