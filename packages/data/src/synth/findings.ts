/**
 * Findings of the synthetic radiographs: which ones a study has (planned before the anatomy,
 * since cardiomegaly and volume loss change it), and how each is drawn into the attenuation
 * map with its exact pixel mask. A finding's mask is where it was drawn (its density field
 * above a fixed fraction of its peak, or the device itself), clipped to the lung field for lung
 * findings and to the body for all.
 */
import type { Rng } from '@g2d-ts/core';
import { FOV_MM, type Anatomy, type AnatomyMasks, type Frame, type Side, apexTop, diaphragm, lateralWall } from './anatomy';
import { blur3, bezier, clamp, drawBand, smoothstep, stroke, tubeProfile, type Pt } from './raster';
import { lungAirDepth, type AnatomyLayers } from './render';

/** The finding identifiers (file names, labels, CSV values), in label order. */
export const SYNTH_FINDINGS = ['opacity', 'effusion', 'pneumothorax', 'cardiomegaly', 'nodule', 'atelectasis', 'edema', 'support_device'] as const;
export type SynthFindingName = (typeof SYNTH_FINDINGS)[number];

/** Findings inside the lung fields (their masks are clipped to them). */
export const LUNG_FINDINGS: readonly SynthFindingName[] = ['opacity', 'effusion', 'pneumothorax', 'nodule', 'atelectasis', 'edema'];

/** The patient's side (the patient's right is on the image's left). */
export type FindingSide = 'right' | 'left' | 'bilateral' | 'midline';
export type FindingZone = 'upper' | 'middle' | 'lower' | 'apical' | 'basal' | 'perihilar' | 'central';
export type DeviceKind = 'ett' | 'enteric' | 'cvc_ij' | 'cvc_subclavian' | 'pacemaker' | 'ecg';

/** What was drawn, in the units a report uses. */
export interface FindingDetail {
  /** atelectasis: 'plate' | 'lobar'; nodule: 'nodule' | 'mass' | 'calcified' */
  kind?: string;
  device?: DeviceKind;
  /** nodule/mass diameter, pneumothorax rim width, ETT tip to carina (mm) */
  sizeMm?: number;
  /** share of the hemithorax (or both, for edema) the finding covers */
  extent?: number;
  /** effusion: fluid height at the chest wall as a share of the hemithorax height */
  height?: number;
  /** cardiothoracic ratio as drawn */
  ctr?: number;
  /** tip position words for devices */
  tip?: string;
  /** enteric tube tip below the diaphragm */
  tipInStomach?: boolean;
}

export interface SynthFinding {
  name: SynthFindingName;
  side: FindingSide;
  zone: FindingZone;
  /** size / severity parameter the finding was drawn with, 0 (subtle) .. 1 (severe) */
  severity: number;
  /** 0/1, size * size */
  mask: Uint8Array;
  /** [x1, y1, x2, y2] pixel edges of the mask (x2, y2 exclusive) */
  box: [number, number, number, number];
  detail: FindingDetail;
}

export interface FindingPlan {
  name: SynthFindingName;
  side: FindingSide;
  severity: number;
  zone?: 'upper' | 'middle' | 'lower';
  kind?: string;
  device?: DeviceKind;
}

const WEIGHTS: Record<SynthFindingName, number> = {
  opacity: 1.0, effusion: 1.0, pneumothorax: 0.6, cardiomegaly: 0.8, nodule: 0.85, atelectasis: 0.9, edema: 0.55, support_device: 0.8,
};

const pickSide = (r: Rng): Side => (r.bernoulli(0.5) ? 'right' : 'left');
const pickZone = (r: Rng, w: [number, number, number]): 'upper' | 'middle' | 'lower' => {
  const t = r.next() * (w[0] + w[1] + w[2]);
  return t < w[0] ? 'upper' : t < w[0] + w[1] ? 'middle' : 'lower';
};

/** The findings of one study (empty for a normal study). */
export function planFindings(r: Rng, normal: boolean): FindingPlan[] {
  if (normal) return [];
  const u = r.next();
  const k = u < 0.5 ? 1 : u < 0.8 ? 2 : u < 0.95 ? 3 : 4;
  const names: SynthFindingName[] = [];
  const pool = [...SYNTH_FINDINGS];
  while (names.length < k && pool.length) {
    const tot = pool.reduce((s, n) => s + WEIGHTS[n], 0);
    let t = r.next() * tot;
    let j = 0;
    while (j < pool.length - 1 && t >= WEIGHTS[pool[j]!]) t -= WEIGHTS[pool[j++]!];
    names.push(pool.splice(j, 1)[0]!);
  }
  // heart failure comes as a set: edema with cardiomegaly and effusions
  if (names.includes('edema')) {
    if (!names.includes('cardiomegaly') && r.bernoulli(0.5)) names.push('cardiomegaly');
    if (!names.includes('effusion') && r.bernoulli(0.35)) names.push('effusion');
  }
  const plans: FindingPlan[] = [];
  for (const name of names) {
    const sev = r.next();
    switch (name) {
      case 'opacity':
        plans.push({ name, side: pickSide(r), severity: sev, zone: pickZone(r, [0.25, 0.3, 0.45]) });
        if (r.bernoulli(0.15)) plans.push({ name, side: pickSide(r), severity: r.next(), zone: pickZone(r, [0.3, 0.3, 0.4]) });
        break;
      case 'effusion': {
        const both = r.bernoulli(names.includes('edema') ? 0.6 : 0.2);
        if (both) {
          plans.push({ name, side: 'right', severity: sev });
          plans.push({ name, side: 'left', severity: clamp(sev + r.normal(0, 0.2), 0, 1) });
        } else plans.push({ name, side: pickSide(r), severity: sev });
        break;
      }
      case 'pneumothorax':
        plans.push({ name, side: pickSide(r), severity: sev });
        break;
      case 'cardiomegaly':
        plans.push({ name, side: 'midline', severity: sev });
        break;
      case 'nodule':
        plans.push({ name, side: pickSide(r), severity: sev, zone: pickZone(r, [0.4, 0.3, 0.3]), kind: sev > 0.85 ? 'mass' : r.bernoulli(0.12) ? 'calcified' : 'nodule' });
        break;
      case 'atelectasis': {
        const lobar = r.bernoulli(0.4);
        plans.push({ name, side: pickSide(r), severity: sev, zone: lobar ? 'lower' : pickZone(r, [0.05, 0.3, 0.65]), kind: lobar ? 'lobar' : 'plate' });
        break;
      }
      case 'edema':
        plans.push({ name, side: 'bilateral', severity: sev });
        break;
      case 'support_device': {
        const kinds: DeviceKind[] = ['ett', 'enteric', 'cvc_ij', 'cvc_subclavian', 'pacemaker', 'ecg'];
        const n = 1 + (r.bernoulli(0.4) ? 1 : 0) + (r.bernoulli(0.15) ? 1 : 0);
        const chosen = r.shuffle(kinds).slice(0, n);
        // an enteric tube usually comes with an endotracheal tube
        if (chosen.includes('enteric') && !chosen.includes('ett') && r.bernoulli(0.6)) chosen.push('ett');
        for (const d of chosen) {
          const side: FindingSide = d === 'cvc_ij' ? (r.bernoulli(0.8) ? 'right' : 'left') : d === 'cvc_subclavian' ? (r.bernoulli(0.6) ? 'left' : 'right') : d === 'pacemaker' ? (r.bernoulli(0.85) ? 'left' : 'right') : 'midline';
          plans.push({ name, side, severity: r.next(), device: d });
        }
        break;
      }
    }
  }
  return plans;
}

/** Anatomy changes the plan implies: the drawn CTR and hemidiaphragm elevation. */
export function anatomyAdjust(plans: FindingPlan[]): { ctr?: number; raise?: Partial<Record<Side, number>> } {
  const out: { ctr?: number; raise?: Partial<Record<Side, number>> } = {};
  for (const p of plans) {
    if (p.name === 'cardiomegaly') out.ctr = 0.515 + 0.17 * p.severity;
    if (p.name === 'atelectasis' && p.kind === 'lobar') out.raise = { ...out.raise, [p.side]: 0.02 + 0.03 * p.severity };
  }
  return out;
}

/** Everything a drawing routine needs. */
export interface DrawContext {
  ana: Anatomy;
  frame: Frame;
  m: AnatomyMasks;
  layers: AnatomyLayers;
  r: Rng;
  /** markings are multiplied by this (pneumothorax: no lung markings beyond the pleural line) */
  markingGain: Float32Array;
}

/** Relative height in a hemithorax (0 apex .. 1 costophrenic angle). */
function relHeight(ana: Anatomy, side: Side, v: number): number {
  const g = ana.lungs[side];
  return (v - g.vAp) / (g.vCp - g.vAp);
}

/** A lung-field pixel of `side` whose relative height lies in the zone, away from the edges. */
function samplePoint(ctx: DrawContext, side: Side, zone: 'upper' | 'middle' | 'lower' | undefined, margin: number): number {
  const { ana, m, r } = ctx;
  const S = ana.size;
  const lung = m.lung[side];
  const range = zone === 'upper' ? [0.08, 0.36] : zone === 'middle' ? [0.36, 0.64] : zone === 'lower' ? [0.64, 0.93] : [0.1, 0.9];
  const mpx = Math.max(1, Math.round(margin));
  let fallback = -1;
  for (let tries = 0; tries < 400; tries++) {
    const i = r.int(S * S);
    if (!lung[i]) continue;
    const s = relHeight(ana, side, m.V[i]!);
    if (s < range[0]! || s > range[1]!) continue;
    if (fallback < 0) fallback = i;
    const x = i % S, y = (i - x) / S;
    if (x - mpx < 0 || x + mpx >= S || y - mpx < 0 || y + mpx >= S) continue;
    if (lung[i - mpx] && lung[i + mpx] && lung[i - mpx * S] && lung[i + mpx * S]) return i;
  }
  if (fallback >= 0) return fallback;
  for (let i = 0; i < S * S; i++) if (lung[i]) return i;
  return -1;
}

function addField(ctx: DrawContext, F: Float32Array, amp: number, where?: Uint8Array): void {
  const A = ctx.layers.A;
  for (let i = 0; i < F.length; i++) if (F[i]! > 0 && (!where || where[i])) A[i] = A[i]! + amp * F[i]!;
}

function thresholdMask(F: Float32Array, thr: number, within: Uint8Array): Uint8Array {
  const mask = new Uint8Array(F.length);
  for (let i = 0; i < F.length; i++) if (F[i]! >= thr && within[i]) mask[i] = 1;
  return mask;
}

/** Blotchy multiplier in [1 - depth, 1] (smooth noise) for patchy opacities. */
function patchy(ctx: DrawContext, scalePx: number, depth: number): Float32Array {
  const S = ctx.ana.size;
  const n = new Float32Array(S * S);
  for (let i = 0; i < n.length; i++) n[i] = ctx.r.next();
  blur3(n, S, S, Math.max(1, scalePx));
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n.length; i++) {
    lo = Math.min(lo, n[i]!);
    hi = Math.max(hi, n[i]!);
  }
  for (let i = 0; i < n.length; i++) n[i] = 1 - depth + depth * ((n[i]! - lo) / (hi - lo || 1));
  return n;
}

type Drawn = { mask: Uint8Array; zone: FindingZone; detail: FindingDetail };

function drawOpacity(ctx: DrawContext, p: FindingPlan): Drawn {
  const { ana, m, r } = ctx;
  const S = ana.size;
  const side = p.side as Side;
  const px = 1 / ana.unitPerPx;
  const R = (0.04 + 0.09 * p.severity) * px;
  const c = samplePoint(ctx, side, p.zone, R * 0.5);
  const cx = c % S, cy = (c - cx) / S;
  const F = new Float32Array(S * S);
  const nb = 3 + r.int(4);
  const blobs = Array.from({ length: nb }, () => ({ x: cx + r.normal(0, 0.45) * R, y: cy + r.normal(0, 0.35) * R, rad: R * r.uniform(0.45, 0.8) }));
  const x0 = Math.max(0, Math.floor(cx - 3 * R)), x1 = Math.min(S - 1, Math.ceil(cx + 3 * R));
  const y0 = Math.max(0, Math.floor(cy - 3 * R)), y1 = Math.min(S - 1, Math.ceil(cy + 3 * R));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let f = 0;
      for (const b of blobs) f = Math.max(f, Math.exp(-(((x - b.x) ** 2 + (y - b.y) ** 2) / (b.rad * b.rad))));
      F[y * S + x] = f;
    }
  }
  const tex = patchy(ctx, Math.max(1, R / 6), 0.45);
  for (let i = 0; i < F.length; i++) F[i] = F[i]! * tex[i]! * m.lung[side][i]!;
  const dens = (0.2 + 0.38 * p.severity) * r.uniform(0.8, 1.2);
  addField(ctx, F, dens);
  const mask = thresholdMask(F, 0.3, m.lung[side]);
  return { mask, zone: p.zone ?? 'middle', detail: {} };
}

function drawEffusion(ctx: DrawContext, p: FindingPlan): Drawn {
  const { ana, m, layers } = ctx;
  const side = p.side as Side;
  const g = ana.lungs[side];
  const H = g.vCp - g.vAp;
  const h = 0.05 + 0.6 * p.severity ** 1.2;
  const vLat = g.vCp - h * H;
  const menis = 0.04 + 0.16 * h;
  // the upper margin is hazy (the fluid layer thins upward), more so for larger effusions
  const softw = 0.015 + 0.05 * h;
  const F = new Float32Array(ana.size ** 2);
  const lung = m.lung[side];
  const mask = new Uint8Array(F.length);
  for (let i = 0; i < F.length; i++) {
    // the soft lung edge (air > 0) too, so the air deficit is cancelled up to the chest wall and diaphragm
    if (!lung[i] && !(layers.air[i]! > 0.002 && m.body[i] && (m.U[i]! - ana.cx) * g.sgn > 0)) continue;
    const d = Math.abs(m.U[i]! - ana.cx);
    const v = m.V[i]!;
    const t = clamp((d - g.med) / (g.lat - g.med), 0, 1);
    // meniscus: flat medially, climbing steeply along the lateral chest wall
    const top = vLat + menis * (1 - t ** 3);
    const f = smoothstep(top - softw, top + softw * 0.6, v) ** 1.3;
    if (f <= 0) continue;
    F[i] = f * (0.8 + 0.2 * smoothstep(top, g.vCp, v));
    if (f >= 0.3 && lung[i]) mask[i] = 1;
  }
  // fluid replaces the aerated lung: add back the air and a little more
  const depth = lungAirDepth(ana);
  for (let i = 0; i < F.length; i++) if (F[i]! > 0) layers.A[i] = layers.A[i]! + F[i]! * (depth + 0.1) * layers.air[i]!;
  for (let i = 0; i < F.length; i++) if (F[i]! > 0) ctx.markingGain[i] = ctx.markingGain[i]! * (1 - 0.8 * F[i]!);
  return { mask, zone: 'basal', detail: { height: h } };
}

function drawPneumothorax(ctx: DrawContext, p: FindingPlan): Drawn {
  const { ana, m, layers } = ctx;
  const S = ana.size;
  const side = p.side as Side;
  const g = ana.lungs[side];
  const lung = m.lung[side];
  const d0 = 0.012 + 0.1 * p.severity ** 1.2;
  const reach = p.severity < 0.35 ? 0.45 + p.severity : 1.1;
  const mask = new Uint8Array(S * S);
  let maxRim = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!lung[i]) continue;
    const v = m.V[i]!;
    const s = relHeight(ana, side, v);
    if (s > reach) continue;
    const d = Math.abs(m.U[i]! - ana.cx);
    const rim = d0 * (1 - 0.7 * clamp(s / reach, 0, 1));
    const dl = lateralWall(g, v) - d;
    const dt = v - apexTop(g, d);
    if (Math.min(dl, dt) < rim) {
      mask[i] = 1;
      maxRim = Math.max(maxRim, rim);
    }
  }
  // pleural air: darker, no markings; the visceral pleural line is a thin white line; the lung collapses a little
  const line = new Uint8Array(S * S);
  for (let y = 1; y < S - 1; y++) {
    for (let x = 1; x < S - 1; x++) {
      const i = y * S + x;
      if (!lung[i] || mask[i]) continue;
      if (mask[i - 1] || mask[i + 1] || mask[i - S] || mask[i + S]) line[i] = 1;
    }
  }
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      layers.A[i] = layers.A[i]! - 0.1;
      ctx.markingGain[i] = 0;
    } else if (line[i]) layers.A[i] = layers.A[i]! + 0.07;
    else if (lung[i]) layers.A[i] = layers.A[i]! + 0.06 * p.severity;
  }
  return { mask, zone: p.severity < 0.35 ? 'apical' : 'upper', detail: { sizeMm: Math.round(maxRim * FOV_MM) } };
}

function drawCardiomegaly(ctx: DrawContext): Drawn {
  return { mask: ctx.m.heart.slice(), zone: 'central', detail: { ctr: ctx.ana.ctr } };
}

function drawNodule(ctx: DrawContext, p: FindingPlan): Drawn {
  const { ana, m, r } = ctx;
  const S = ana.size;
  const side = p.side as Side;
  const mm = p.kind === 'mass' ? 32 + 35 * ((p.severity - 0.85) / 0.15) : 7 + 23 * (p.severity / 0.85) ** 1.2;
  const R = mm / 2 / ana.mmPerPx;
  const c = samplePoint(ctx, side, p.zone, R + 1);
  const cx = (c % S) + r.uniform(-0.5, 0.5), cy = Math.floor(c / S) + r.uniform(-0.5, 0.5);
  const lobes = Array.from({ length: 5 }, () => r.uniform(-0.12, 0.12) * (p.kind === 'mass' ? 1 : 0.4));
  const ph = r.uniform(0, Math.PI * 2);
  const F = new Float32Array(S * S);
  const ext = Math.ceil(R * 1.4 + 2);
  for (let y = Math.max(0, Math.floor(cy - ext)); y <= Math.min(S - 1, Math.ceil(cy + ext)); y++) {
    for (let x = Math.max(0, Math.floor(cx - ext)); x <= Math.min(S - 1, Math.ceil(cx + ext)); x++) {
      const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const a = Math.atan2(dy, dx);
      let rr = 1;
      lobes.forEach((l, k) => (rr += l * Math.sin((k + 2) * a + ph)));
      const q = Math.hypot(dx, dy) / (R * rr);
      if (q < 1.25) F[y * S + x] = smoothstep(1.25, 0.75, q) * Math.sqrt(Math.max(0, 1 - 0.5 * q * q));
    }
  }
  const dens = p.kind === 'calcified' ? r.uniform(0.4, 0.55) : r.uniform(0.2, 0.42);
  addField(ctx, F, dens, m.lung[side]);
  const mask = thresholdMask(F, 0.3, m.lung[side]);
  return { mask, zone: p.zone ?? 'middle', detail: { kind: p.kind, sizeMm: Math.round(mm) } };
}

function drawAtelectasis(ctx: DrawContext, p: FindingPlan): Drawn {
  const { ana, m, r } = ctx;
  const S = ana.size;
  const side = p.side as Side;
  const g = ana.lungs[side];
  const px = 1 / ana.unitPerPx;
  const F = new Float32Array(S * S);
  if (p.kind === 'lobar') {
    // lower-lobe collapse: a dense wedge from the hilum to the medial hemidiaphragm
    const tri: [number, number][] = [
      [ana.cxm + g.sgn * 0.07, ana.vHilum + 0.02],
      [ana.cx + g.sgn * g.med, diaphragm(g, g.med) + 0.01],
      [ana.cx + g.sgn * (g.med + (0.35 + 0.3 * p.severity) * (g.lat - g.med)), diaphragm(g, g.med + (0.35 + 0.3 * p.severity) * (g.lat - g.med)) + 0.01],
    ];
    const inTri = (u: number, v: number) => {
      let sgn = 0;
      for (let k = 0; k < 3; k++) {
        const [ax, ay] = tri[k]!, [bx, by] = tri[(k + 1) % 3]!;
        const c = (bx - ax) * (v - ay) - (by - ay) * (u - ax);
        if (c !== 0) {
          if (sgn === 0) sgn = Math.sign(c);
          else if (Math.sign(c) !== sgn) return false;
        }
      }
      return true;
    };
    for (let i = 0; i < F.length; i++) if (m.body[i] && inTri(m.U[i]!, m.V[i]!)) F[i] = 1;
    blur3(F, S, S, Math.max(1, 0.006 * px));
    addField(ctx, F, 0.2 + 0.2 * p.severity, m.lung[side]);
    return { mask: thresholdMask(F, 0.5, m.lung[side]), zone: 'lower', detail: { kind: 'lobar' } };
  }
  // plate-like (discoid): a thin, nearly horizontal band
  const L = (0.07 + 0.1 * p.severity) * px;
  const c = samplePoint(ctx, side, p.zone, L * 0.4);
  const cx = c % S, cy = (c - cx) / S;
  const ang = r.normal(0, 0.2) + (g.sgn > 0 ? -1 : 1) * 0.12;
  const pts: Pt[] = bezier([
    [cx - (Math.cos(ang) * L) / 2, cy - (Math.sin(ang) * L) / 2],
    [cx + r.normal(0, 0.1) * L, cy + r.normal(0, 0.08) * L],
    [cx + (Math.cos(ang) * L) / 2, cy + (Math.sin(ang) * L) / 2],
  ], 10);
  const th = (0.009 + 0.012 * p.severity) * px;
  drawBand(F, S, S, pts, (t) => th * (0.5 + 0.5 * Math.sin(Math.PI * t)), 1, tubeProfile);
  blur3(F, S, S, Math.max(1, th * 0.6));
  let peak = 0;
  for (let i = 0; i < F.length; i++) peak = Math.max(peak, F[i]!);
  for (let i = 0; i < F.length; i++) F[i] = F[i]! / (peak || 1);
  for (let i = 0; i < F.length; i++) F[i] = F[i]! * m.lung[side][i]!;
  addField(ctx, F, (0.1 + 0.14 * p.severity) * r.uniform(0.75, 1.2));
  const mask = thresholdMask(F, 0.3, m.lung[side]);
  return { mask, zone: p.zone ?? 'lower', detail: { kind: 'plate' } };
}

function drawEdema(ctx: DrawContext, p: FindingPlan): Drawn {
  const { ana, m, r, frame } = ctx;
  const S = ana.size;
  const px = 1 / ana.unitPerPx;
  const F = new Float32Array(S * S);
  const sx = 0.07 + 0.1 * p.severity, sy = 0.09 + 0.1 * p.severity;
  for (let i = 0; i < F.length; i++) {
    if (!m.lungs[i]) continue;
    const du = m.U[i]! - ana.cxm;
    const dx = (Math.abs(du) - 0.09) / sx, dy = (m.V[i]! - ana.vHilum) / sy;
    F[i] = Math.exp(-(Math.max(0, dx) ** 2 + 0.3 * Math.min(0, dx) ** 2 + dy * dy));
  }
  const tex = patchy(ctx, Math.max(1, 0.02 * px), 0.35);
  for (let i = 0; i < F.length; i++) F[i] = F[i]! * tex[i]!;
  // Kerley B lines: short horizontal lines at the lateral bases
  const kerley = new Float32Array(S * S);
  if (p.severity > 0.15) {
    for (const side of ['right', 'left'] as Side[]) {
      const g = ana.lungs[side];
      const n = 3 + r.int(4);
      for (let k = 0; k < n; k++) {
        const v = g.vCp - (0.03 + 0.09 * r.next()) * (g.vCp - g.vAp);
        const d = lateralWall(g, v) - 0.003;
        const [ax, ay] = frame.toPixel(ana.cx + g.sgn * d, v);
        const [bx, by] = frame.toPixel(ana.cx + g.sgn * (d - r.uniform(0.012, 0.025)), v + r.normal(0, 0.002));
        stroke(kerley, S, S, ax, ay, bx, by, 1);
      }
    }
  }
  const dens = 0.07 + 0.36 * p.severity;
  for (let i = 0; i < F.length; i++) {
    if (!m.lungs[i]) continue;
    const k = Math.min(1, kerley[i]!);
    ctx.layers.A[i] = ctx.layers.A[i]! + dens * F[i]! + 0.06 * k;
    if (k > 0.3) F[i] = Math.max(F[i]!, 0.3);
  }
  return { mask: thresholdMask(F, 0.3, m.lungs), zone: 'perihilar', detail: {} };
}

function drawDevice(ctx: DrawContext, p: FindingPlan): Drawn {
  const { ana, m, r, frame } = ctx;
  const S = ana.size;
  const px = 1 / ana.unitPerPx;
  // drawn into its own layer, then clipped to the body together with its mask
  const A = new Float32Array(S * S);
  const mask = new Uint8Array(S * S);
  const tp = (u: number, v: number) => frame.toPixel(u, v);
  const wire = (pts: Pt[], hw: number, amp: number) => drawBand(A, S, S, pts, Math.max(0.75, hw * px), amp * 1.8, (rr) => 0.6 + 0.4 * tubeProfile(rr), mask);
  const detail: FindingDetail = { device: p.device };
  const g = ana.lungs;
  switch (p.device) {
    case 'ett': {
      // tip 1-7 cm above the carina
      const mm = 12 + 58 * r.next();
      const vTip = ana.vCarina - mm / FOV_MM;
      const pts = bezier([tp(ana.cxm + 0.004, -0.08), tp(ana.cxm - 0.003, 0.06), tp(ana.cxm + 0.002, vTip)], 12);
      drawBand(A, S, S, pts, 0.009 * px, 0.16, (rr) => (rr > 0.6 ? 1 : 0.25), mask);
      wire(pts.map(([x, y]) => [x + 0.004 * px, y] as Pt), 0.0018, 0.2);
      detail.sizeMm = Math.round(mm / 5) * 5;
      break;
    }
    case 'enteric': {
      const inStomach = r.bernoulli(0.88);
      const vEnd = inStomach ? g.left.vDome + r.uniform(0.06, 0.1) : g.left.vDome - r.uniform(0.03, 0.08);
      const uEnd = inStomach ? ana.cx + g.left.lat * r.uniform(0.35, 0.55) : ana.cxm + 0.02;
      const pts = bezier([tp(ana.cxm + 0.01, -0.08), tp(ana.cxm + 0.012, 0.35), tp(ana.cxm + 0.02, g.left.vDome + 0.02), tp(uEnd, vEnd)], 28);
      wire(pts, 0.0045, 0.16);
      detail.tipInStomach = inStomach;
      break;
    }
    case 'cvc_ij':
    case 'cvc_subclavian': {
      const sgn = p.side === 'right' ? -1 : 1;
      const vTip = ana.vCarina + r.uniform(-0.01, 0.07);
      const tipU = ana.cxm - 0.035;
      const start: [number, number] = p.device === 'cvc_ij' ? [ana.cx + sgn * 0.06, -0.06] : [ana.cx + sgn * (g.right.lat * 0.75), g.right.vAp + 0.075];
      const mid: [number, number] = p.device === 'cvc_ij' ? [ana.cx + sgn * 0.05, g.right.vAp + 0.05] : [ana.cx + sgn * 0.12, g.right.vAp + 0.1];
      const pts = bezier([tp(...start), tp(...mid), tp(tipU + (sgn > 0 ? 0.02 : 0), ana.vCarina - 0.04), tp(tipU, vTip)], 24);
      wire(pts, 0.0035, 0.16);
      detail.tip = vTip < ana.vCarina + 0.02 ? 'in the SVC' : vTip < ana.vCarina + 0.05 ? 'in the lower SVC' : 'at the cavoatrial junction';
      break;
    }
    case 'pacemaker': {
      const sgn = p.side === 'right' ? -1 : 1;
      const gu = ana.cx + sgn * ana.lungs[p.side as Side].lat * 0.62, gv = ana.lungs.left.vAp + 0.1;
      const w = 0.035, hgt = 0.028;
      for (let i = 0; i < mask.length; i++) {
        if (!m.body[i]) continue;
        const q = Math.max(Math.abs(m.U[i]! - gu) / w, Math.abs(m.V[i]! - gv) / hgt);
        if (q < 1) {
          A[i] = A[i]! + 0.45 * (q > 0.85 ? 1.2 : 1);
          mask[i] = 1;
        }
      }
      const h = ana.heart;
      for (const [tu, tv] of [[h.hx - 0.4 * h.a, h.hy - 0.35 * h.b], [h.hx + 0.45 * h.a, h.hy + 0.4 * h.b]] as [number, number][]) {
        wire(bezier([tp(gu - sgn * 0.02, gv + 0.01), tp(ana.cxm - 0.02, ana.vCarina + 0.02), tp(ana.cxm - 0.03, h.hy - 0.1), tp(tu, tv)], 24), 0.0025, 0.22);
      }
      detail.tip = 'right atrium and right ventricle';
      break;
    }
    case 'ecg': {
      const n = 3 + r.int(3);
      for (let k = 0; k < n; k++) {
        const side: Side = k % 2 ? 'left' : 'right';
        const lg = ana.lungs[side];
        const eu = ana.cx + lg.sgn * lg.lat * r.uniform(0.5, 1.05), ev = r.uniform(lg.vAp + 0.02, lg.vCp);
        const [ex, ey] = tp(eu, ev);
        drawBand(A, S, S, [[ex - 0.3, ey], [ex + 0.3, ey]], 0.013 * px, 0.12, (rr) => (rr > 0.75 ? 1 : rr < 0.3 ? 1.5 : 0.2), mask);
        const wu = eu + lg.sgn * r.uniform(0.02, 0.06), wv = ev + r.uniform(-0.1, 0.1);
        wire(bezier([[ex, ey], tp((eu + wu) / 2, (ev + wv) / 2 + 0.02), tp(wu, wv)], 8), 0.002, 0.12);
      }
      break;
    }
  }
  for (let i = 0; i < mask.length; i++) {
    if (m.body[i]) ctx.layers.A[i] = ctx.layers.A[i]! + A[i]!;
    else mask[i] = 0;
  }
  return { mask, zone: p.device === 'pacemaker' || p.device === 'cvc_subclavian' ? 'upper' : 'central', detail };
}

const DRAWERS: Record<SynthFindingName, (ctx: DrawContext, p: FindingPlan) => Drawn> = {
  opacity: drawOpacity,
  effusion: drawEffusion,
  pneumothorax: drawPneumothorax,
  cardiomegaly: drawCardiomegaly,
  nodule: drawNodule,
  atelectasis: drawAtelectasis,
  edema: drawEdema,
  support_device: drawDevice,
};

/** Draw one planned finding; the mask is not yet clipped to the visible field. */
export function drawFinding(ctx: DrawContext, p: FindingPlan): Drawn {
  return DRAWERS[p.name](ctx, p);
}

/** Zone of a lung-finding mask from where it was drawn (its centroid's relative height). */
export function zoneOf(ana: Anatomy, m: AnatomyMasks, mask: Uint8Array, side: Side): 'upper' | 'middle' | 'lower' {
  let sv = 0, n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) {
    sv += m.V[i]!;
    n++;
  }
  const s = relHeight(ana, side, sv / Math.max(1, n));
  return s < 0.36 ? 'upper' : s < 0.64 ? 'middle' : 'lower';
}
