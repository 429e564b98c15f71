/**
 * The chest of a synthetic patient: body habitus (patient-level draws, shared by a patient's
 * studies), per-study positioning (inspiration, rotation, tilt, zoom, AP/PA), the geometry of
 * body, hemithoraces, diaphragm domes, mediastinum and heart as implicit functions of patient
 * coordinates (u across, v down, 0..1 over the field of view; the patient's right is on the
 * image's left), and the rasterised anatomy masks every finding is placed against.
 */
import type { Rng } from '@g2d-ts/core';
import { clamp, smoothstep, tabulate } from './raster';

export type Side = 'right' | 'left';

/** One hemithorax. `sgn` maps lateral distance d to image u: u = cx + sgn * d. */
export interface LungGeom {
  side: Side;
  sgn: -1 | 1;
  /** top of the apex (v) */
  vAp: number;
  /** costophrenic angle (v) */
  vCp: number;
  /** top of the diaphragm dome (v) */
  vDome: number;
  /** lateral distance of the dome top */
  dDome: number;
  /** medial edge of the hemithorax (lateral distance) */
  med: number;
  /** lateral wall at its widest (lateral distance) */
  lat: number;
  /** lateral distance of the apex top */
  da: number;
}

export interface HeartGeom {
  hx: number;
  hy: number;
  /** semi-axes */
  a: number;
  b: number;
  /** tilt of the long axis (radians, toward the image's lower right) */
  phi: number;
  cos?: number;
  sin?: number;
}

export interface PatientParams {
  sex: 'F' | 'M';
  /** thorax half width (inner chest wall), field-of-view units */
  hwT: number;
  /** soft-tissue thickness outside the ribs */
  soft: number;
  /** cardiothoracic ratio of this patient's normal heart */
  ctr: number;
  heartRatio: number;
  heartPhi: number;
  ribSpacing: number;
  ribDrop: number;
  breasts: boolean;
  apexV: number;
  /** how far down the arms lie beside the chest (0: lifted away .. 1: along the whole chest) */
  arms: number;
  /** extra width of the shoulders and of the abdomen */
  shoulderW: number;
  hipW: number;
}

export interface StudyParams {
  view: 'PA' | 'AP';
  /** 0 (poor) .. 1 (deep) inspiration */
  inspiration: number;
  /** axial rotation, -1..1 (positive: mediastinum shifts to the image's right) */
  rotation: number;
  /** in-plane tilt (radians) */
  tilt: number;
  zoom: number;
  shiftX: number;
  shiftY: number;
}

export interface Anatomy {
  size: number;
  patient: PatientParams;
  study: StudyParams;
  /** spine / body midline (u) */
  cx: number;
  /** mediastinum centre (u): differs from cx when the patient is rotated */
  cxm: number;
  lungs: Record<Side, LungGeom>;
  heart: HeartGeom;
  /** cardiothoracic ratio as drawn (heart silhouette width / widest inner thorax width) */
  ctr: number;
  /** aortic knob and hila heights (v) */
  vKnob: number;
  vHilum: number;
  vCarina: number;
  /** neck / shoulder heights (v) */
  vNeck: number;
  vShoulder: number;
  /** field-of-view units per pixel, and millimetres per pixel (for report sizes) */
  unitPerPx: number;
  mmPerPx: number;
}

/** Width of the field of view in millimetres (a 43 cm detector, collimated). */
export const FOV_MM = 400;

export function samplePatient(r: Rng): PatientParams {
  const sex = r.bernoulli(0.5) ? 'F' : 'M';
  const obese = r.bernoulli(0.12);
  return {
    sex,
    hwT: r.uniform(0.29, 0.36) * (sex === 'M' ? 1.03 : 0.97),
    soft: r.uniform(0.012, 0.05) + (obese ? r.uniform(0.03, 0.07) : 0),
    ctr: clamp(r.normal(0.44, 0.03), 0.36, 0.485),
    heartRatio: r.uniform(0.66, 0.8),
    heartPhi: r.uniform(0.3, 0.6),
    ribSpacing: r.uniform(0.92, 1.08),
    ribDrop: r.uniform(0.85, 1.2),
    breasts: sex === 'F' && r.bernoulli(0.75),
    apexV: r.uniform(0.1, 0.135),
    arms: r.next(),
    shoulderW: r.uniform(0.07, 0.13),
    hipW: r.uniform(0.03, 0.12),
  };
}

export function sampleStudy(r: Rng): StudyParams {
  const view = r.bernoulli(0.35) ? 'AP' : 'PA';
  return {
    view,
    inspiration: clamp(r.normal(view === 'AP' ? 0.4 : 0.6, 0.22), 0, 1),
    rotation: clamp(r.normal(0, 0.35), -1, 1),
    tilt: clamp(r.normal(0, 0.03), -0.08, 0.08),
    zoom: r.uniform(1.0, 1.2),
    shiftX: r.uniform(-0.03, 0.03),
    shiftY: r.uniform(-0.03, 0.04),
  };
}

export interface AnatomyAdjust {
  /** heart CTR to draw instead of the patient's (cardiomegaly) */
  ctr?: number;
  /** raise a hemidiaphragm by this much (volume loss from atelectasis) */
  raise?: Partial<Record<Side, number>>;
}

/** Build the geometry of one study. */
export function buildAnatomy(size: number, patient: PatientParams, study: StudyParams, adjust: AnatomyAdjust = {}): Anatomy {
  const cx = 0.5;
  const rot = study.rotation;
  const cxm = cx + 0.022 * rot;
  const insp = study.inspiration;
  const vAp = patient.apexV + (study.view === 'AP' ? 0.012 : 0);
  const vCpR = 0.655 + 0.145 * insp;
  const domeDepth = 0.075 + 0.035 * insp;
  const mk = (side: Side, vCp: number, vDome: number, lat: number): LungGeom => {
    const med = 0.03;
    return { side, sgn: side === 'right' ? -1 : 1, vAp, vCp, vDome, med, lat, dDome: med + 0.42 * (lat - med), da: med + 0.5 * (lat - med) };
  };
  const hw = patient.hwT;
  const raiseR = adjust.raise?.right ?? 0;
  const raiseL = adjust.raise?.left ?? 0;
  const right = mk('right', vCpR - raiseR, vCpR - domeDepth - raiseR, hw * (1 + 0.05 * rot));
  const left = mk('left', vCpR + 0.012 - raiseL, vCpR - domeDepth + 0.022 - raiseL, hw * (1 - 0.05 * rot));
  const lungs = { right, left };
  // heart: an ellipse whose horizontal extent is ctr * inner thorax width
  const ctr = adjust.ctr ?? Math.min(0.485, patient.ctr + (study.view === 'AP' ? 0.015 : 0));
  const heart = fitHeart(lungs, cxm, Math.min(ctr, 0.72), patient);
  const ana: Anatomy = {
    size,
    patient,
    study,
    cx,
    cxm,
    lungs,
    heart,
    ctr: 0,
    vKnob: vAp + 0.165,
    vHilum: vAp + 0.26 + 0.03 * insp,
    vCarina: vAp + 0.18,
    vNeck: 0.035 + 0.03 * (1 - insp),
    vShoulder: 0.19,
    unitPerPx: 1 / (size * study.zoom),
    mmPerPx: FOV_MM / (size * study.zoom),
  };
  ana.heart.cos = Math.cos(ana.heart.phi);
  ana.heart.sin = Math.sin(ana.heart.phi);
  ana.ctr = measureCtr(ana);
  // correct the drawn CTR toward the target (the silhouette is cut by the diaphragm)
  for (let k = 0; k < 3 && Math.abs(ana.ctr - ctr) > 0.004; k++) {
    const f = ctr / ana.ctr;
    ana.heart = { ...ana.heart, a: ana.heart.a * f, b: ana.heart.b * f, hx: cxm + (ana.heart.hx - cxm) * f };
    ana.heart.hy = heartCentreY(ana.lungs, ana.heart);
    ana.ctr = measureCtr(ana);
  }
  return ana;
}

function heartCentreY(lungs: Record<Side, LungGeom>, h: HeartGeom): number {
  const F = Math.sqrt(h.a ** 2 * Math.sin(h.phi) ** 2 + h.b ** 2 * Math.cos(h.phi) ** 2);
  return lungs.left.vDome + 0.03 - 0.6 * F;
}

function fitHeart(lungs: Record<Side, LungGeom>, cxm: number, ctr: number, p: PatientParams): HeartGeom {
  const width = ctr * (lungs.right.lat + lungs.left.lat);
  const phi = p.heartPhi;
  const ratio = p.heartRatio;
  const a = width / 2 / Math.sqrt(Math.cos(phi) ** 2 + ratio ** 2 * Math.sin(phi) ** 2);
  const h: HeartGeom = { hx: cxm + 0.2 * width, hy: 0, a, b: a * ratio, phi };
  h.hy = heartCentreY(lungs, h);
  return h;
}

/** Horizontal extent of the heart silhouette above the diaphragm over the widest inner thorax. */
function measureCtr(ana: Anatomy): number {
  let lo = Infinity, hi = -Infinity;
  const { heart: h } = ana;
  const c = Math.cos(h.phi), s = Math.sin(h.phi);
  const F = Math.sqrt(h.a ** 2 * s ** 2 + h.b ** 2 * c ** 2);
  const rows = 160, cols = 64;
  for (let k = 0; k <= rows; k++) {
    const dv = -F + (2 * F * k) / rows;
    // the ellipse's chord at this height: (du c + dv s)^2 / a^2 + (-du s + dv c)^2 / b^2 = 1, a quadratic in du
    const A2 = c * c / h.a ** 2 + s * s / h.b ** 2;
    const B2 = 2 * dv * (c * s / h.a ** 2 - s * c / h.b ** 2);
    const C2 = (dv * s) ** 2 / h.a ** 2 + (dv * c) ** 2 / h.b ** 2 - 1;
    const disc = B2 * B2 - 4 * A2 * C2;
    if (disc < 0) continue;
    const q = Math.sqrt(disc);
    const u0 = h.hx + (-B2 - q) / (2 * A2), u1 = h.hx + (-B2 + q) / (2 * A2);
    const v = h.hy + dv;
    for (let j = 0; j <= cols; j++) {
      const u = u0 + ((u1 - u0) * j) / cols;
      if (u >= lo && u <= hi) continue;
      const side: Side = u < ana.cx ? 'right' : 'left';
      if (v <= diaphragm(ana.lungs[side], Math.abs(u - ana.cx))) {
        if (u < lo) lo = u;
        if (u > hi) hi = u;
      }
    }
  }
  return hi > lo ? (hi - lo) / (ana.lungs.right.lat + ana.lungs.left.lat) : 0;
}

/** Diaphragm height (v) under lateral distance d of a hemithorax (medially it slopes down to the cardiophrenic angle). */
export function diaphragm(g: LungGeom, d: number): number {
  if (d >= g.dDome) {
    const t = Math.min(1.15, (d - g.dDome) / (g.lat - g.dDome));
    return g.vDome + (g.vCp - g.vDome) * t ** 2.2;
  }
  const t = clamp((g.dDome - d) / (g.dDome - g.med), 0, 2);
  return g.vDome + 0.035 * t * t;
}

/** Inner chest wall / apex: is (d, v) inside the hemithorax outline (above the diaphragm)? */
/** s^0.7 on [0, 1], tabulated (evaluated for every pixel). */
const POW07 = tabulate((s) => Math.pow(s, 0.7), 0, 1, 1025);

/** Lateral wall (before apex rounding) at relative height s (0 apex .. 1 costophrenic angle). */
function wallAt(g: LungGeom, s: number): number {
  return g.lat * (0.8 + 0.2 * POW07(s));
}

export function inHemithorax(g: LungGeom, d: number, v: number): boolean {
  if (v < g.vAp || v > g.vCp) return false;
  const s = (v - g.vAp) / (g.vCp - g.vAp);
  const latS = wallAt(g, s);
  const s1 = 0.3;
  let lo = g.med, hi = latS;
  if (s < s1) {
    const w = Math.sqrt(1 - (1 - s / s1) ** 2);
    lo = g.da - (g.da - g.med) * w;
    hi = g.da + (latS - g.da) * w;
  }
  if (d < lo || d > hi) return false;
  return v <= diaphragm(g, d);
}

/** Lateral wall of the hemithorax at height v (for chest-wall distances). */
export function lateralWall(g: LungGeom, v: number): number {
  const s = clamp((v - g.vAp) / (g.vCp - g.vAp), 0, 1);
  const latS = wallAt(g, s);
  if (s < 0.3) return g.da + (latS - g.da) * Math.sqrt(1 - (1 - s / 0.3) ** 2);
  return latS;
}

/** Top of the apex at lateral distance d (v), +Infinity outside the apex span. */
export function apexTop(g: LungGeom, d: number): number {
  const s1 = 0.3;
  const latTop = wallAt(g, s1);
  const span = d < g.da ? (g.da - d) / (g.da - g.med) : (d - g.da) / (latTop - g.da);
  if (span > 1) return g.vAp + s1 * (g.vCp - g.vAp);
  // invert w = sqrt(1 - (1 - s/s1)^2): s = s1 * (1 - sqrt(1 - w^2))
  return g.vAp + (g.vCp - g.vAp) * s1 * (1 - Math.sqrt(Math.max(0, 1 - span * span)));
}

/** Half width of the mediastinum to the patient's right / left of cxm at height v (tabulated in `tables`). */
function mediastinumExact(ana: Anatomy, v: number, side: Side): number {
  const grow = smoothstep(ana.lungs.right.vAp + 0.05, ana.vHilum, v);
  const hil = 0.012 * Math.exp(-(((v - ana.vHilum) / 0.05) ** 2));
  if (side === 'right') return 0.05 + 0.012 * grow + hil;
  return 0.054 + 0.014 * grow + hil + 0.022 * Math.exp(-(((v - ana.vKnob) / 0.032) ** 2));
}

export function heartCoord(h: HeartGeom, u: number, v: number): number {
  const du = u - h.hx, dv = v - h.hy;
  const c = h.cos ?? Math.cos(h.phi), s = h.sin ?? Math.sin(h.phi);
  const p = du * c + dv * s, q = -du * s + dv * c;
  return (p / h.a) ** 2 + (q / h.b) ** 2;
}

/** Heart silhouette: the heart ellipse above the diaphragm. */
export function inHeartSilhouette(ana: Anatomy, u: number, v: number): boolean {
  if (heartCoord(ana.heart, u, v) >= 1) return false;
  const side: Side = u < ana.cx ? 'right' : 'left';
  const g = ana.lungs[side];
  return v <= diaphragm(g, Math.abs(u - ana.cx));
}

export interface Profiles {
  /** body half width at height v (skin outline, arms included) */
  body: (v: number) => number;
  /** half width of the torso alone (neck, shoulder girdle, chest wall, abdomen): its chord gives the soft-tissue thickness */
  torso: (v: number) => number;
  /** mediastinum half widths to the patient's right / left */
  medR: (v: number) => number;
  medL: (v: number) => number;
}
const TABLES = new WeakMap<Anatomy, Profiles>();

/** Per-height profiles, tabulated once per study (fetch once, then evaluate per pixel). */
export function tables(ana: Anatomy): Profiles {
  let t = TABLES.get(ana);
  if (!t) {
    t = {
      body: tabulate((v) => bodyExact(ana, v, true), -0.4, 1.4, 720),
      torso: tabulate((v) => bodyExact(ana, v, false), -0.4, 1.4, 720),
      medR: tabulate((v) => mediastinumExact(ana, v, 'right'), -0.4, 1.4, 720),
      medL: tabulate((v) => mediastinumExact(ana, v, 'left'), -0.4, 1.4, 720),
    };
    TABLES.set(ana, t);
  }
  return t;
}

function bodyExact(ana: Anatomy, v: number, arms: boolean): number {
  const chest = ana.patient.hwT + 0.028 + ana.patient.soft;
  const neck = 0.07 + 0.4 * ana.patient.soft;
  const shoulder = chest + ana.patient.shoulderW;
  if (v < ana.vNeck) return neck;
  if (v < ana.vShoulder) {
    // trapezius sloping down from the neck, rounding into the arm
    const t = (v - ana.vNeck) / (ana.vShoulder - ana.vNeck);
    return neck + (shoulder - neck) * (1 - (1 - t) ** 1.6);
  }
  const hips = ana.patient.hipW * smoothstep(0.7, 1.1, v);
  if (!arms) return shoulder + (chest - shoulder) * smoothstep(ana.vShoulder, ana.vShoulder + 0.12, v) + hips;
  const armEnd = 0.3 + 0.5 * ana.patient.arms;
  return shoulder + (chest - shoulder) * smoothstep(armEnd, armEnd + 0.2, v) + hips;
}

/** Pixel <-> patient coordinates (tilt, zoom, shift). */
export class Frame {
  readonly size: number;
  private cos: number;
  private sin: number;
  constructor(private ana: Anatomy) {
    this.size = ana.size;
    this.cos = Math.cos(ana.study.tilt);
    this.sin = Math.sin(ana.study.tilt);
  }
  /** patient (u, v) -> pixel (x, y) (continuous; pixel centres at k + 0.5) */
  toPixel(u: number, v: number): [number, number] {
    const { zoom, shiftX, shiftY } = this.ana.study;
    const xr = (u - 0.5) * zoom, yr = (v - 0.5) * zoom;
    const X = xr * this.cos - yr * this.sin, Y = xr * this.sin + yr * this.cos;
    return [(X + 0.5 + shiftX) * this.size, (Y + 0.5 + shiftY) * this.size];
  }
  /** U and V of every pixel centre */
  grid(): { U: Float32Array; V: Float32Array } {
    const S = this.size;
    const { zoom, shiftX, shiftY } = this.ana.study;
    const U = new Float32Array(S * S), V = new Float32Array(S * S);
    for (let y = 0; y < S; y++) {
      const Y = (y + 0.5) / S - 0.5 - shiftY;
      for (let x = 0; x < S; x++) {
        const X = (x + 0.5) / S - 0.5 - shiftX;
        U[y * S + x] = 0.5 + (X * this.cos + Y * this.sin) / zoom;
        V[y * S + x] = 0.5 + (-X * this.sin + Y * this.cos) / zoom;
      }
    }
    return { U, V };
  }
}

export interface AnatomyMasks {
  U: Float32Array;
  V: Float32Array;
  body: Uint8Array;
  /** lung fields (hemithorax minus mediastinum and heart) per side */
  lung: Record<Side, Uint8Array>;
  /** both lung fields */
  lungs: Uint8Array;
  heart: Uint8Array;
  mediastinum: Uint8Array;
}

export function anatomyMasks(ana: Anatomy, frame: Frame): AnatomyMasks {
  const S = ana.size;
  const { U, V } = frame.grid();
  const body = new Uint8Array(S * S);
  const lr = new Uint8Array(S * S), ll = new Uint8Array(S * S), lungs = new Uint8Array(S * S);
  const heart = new Uint8Array(S * S), med = new Uint8Array(S * S);
  const t = tables(ana);
  for (let i = 0; i < S * S; i++) {
    const u = U[i]!, v = V[i]!;
    const du = u - ana.cx;
    if (Math.abs(du) < t.body(v)) body[i] = 1;
    else continue;
    const dm = u - ana.cxm;
    const m = Math.abs(dm) < (dm < 0 ? t.medR(v) : t.medL(v)) && v < ana.heart.hy + 0.05;
    const h = inHeartSilhouette(ana, u, v);
    if (m) med[i] = 1;
    if (h) heart[i] = 1;
    if (m || h) continue;
    const g = du < 0 ? ana.lungs.right : ana.lungs.left;
    if (inHemithorax(g, Math.abs(du), v)) {
      (du < 0 ? lr : ll)[i] = 1;
      lungs[i] = 1;
    }
  }
  return { U, V, body, lung: { right: lr, left: ll }, lungs, heart, mediastinum: med };
}
