/**
 * Attenuation map of the normal chest (higher = denser = brighter on the radiograph): body
 * soft tissue as a chord through an elliptic cross-section, lungs as air (blurred fields),
 * mediastinum, heart, trachea, spine, posterior and anterior ribs, clavicles, humeral heads,
 * breast shadows, gastric bubble, vascular lung markings and parenchymal texture. Then the
 * detector: exposure, contrast, gamma, heel-effect gradient and signal-dependent noise.
 */
import type { Rng } from '@g2d-ts/core';
import { type Anatomy, type AnatomyMasks, type Frame, type Side, diaphragm, heartCoord, tables } from './anatomy';
import { blur3, bezier, boneProfile, clamp, drawBand, smoothstep, stroke, tubeProfile, type Pt } from './raster';

export interface AnatomyLayers {
  /** attenuation of everything but the lung markings */
  A: Float32Array;
  /** lung air thickness (0..1), soft-edged */
  air: Float32Array;
  /** vascular markings + texture, already restricted to the lungs (added last, so findings can hide them) */
  markings: Float32Array;
}

export const SIDES: Side[] = ['right', 'left'];

/** Attenuation the lungs' air takes away at full depth (deeper inspiration, more air). */
export function lungAirDepth(ana: Anatomy): number {
  return 0.55 + 0.1 * ana.study.inspiration;
}

/** Lung air thickness (0..1): the lung fields blurred, so edges are soft and the middle deepest. */
export function lungAir(ana: Anatomy, m: AnatomyMasks): Float32Array {
  const S = ana.size;
  const air = new Float32Array(S * S);
  for (let i = 0; i < air.length; i++) air[i] = m.lungs[i]!;
  return blur3(air, S, S, Math.max(1, (0.012 / ana.unitPerPx)));
}

export function renderAnatomy(ana: Anatomy, frame: Frame, m: AnatomyMasks, r: Rng): AnatomyLayers {
  const S = ana.size;
  const N = S * S;
  const { U, V } = m;
  const px = 1 / ana.unitPerPx; // pixels per field-of-view unit
  const A = new Float32Array(N);
  const soft = ana.patient.soft;
  const thick = 0.78 + 2.2 * soft;
  const prof = tables(ana);
  const h = ana.heart;
  const hr = Math.max(h.a, h.b) * 1.1;
  const vAbd0 = ana.lungs.right.vDome - 0.02, vAbd1 = ana.lungs.right.vCp + 0.06;
  // soft tissue (chord through an elliptic body), mediastinum and heart
  for (let i = 0; i < N; i++) {
    if (!m.body[i]) continue;
    const u = U[i]!, v = V[i]!;
    const du = u - ana.cx;
    // torso: chord through an elliptic cross-section; the arms beside it are cylinders of their own
    const ht = prof.torso(v);
    const adu = Math.abs(du);
    let a = adu < ht ? thick * Math.sqrt(1 - (du / ht) ** 2) : 0;
    const hb = prof.body(v);
    if (hb > ht + 0.005) {
      const ar = (hb - ht) / 2 + 0.01;
      const q = (adu - (hb - ar)) / ar;
      if (q > -1 && q < 1) a += 0.45 * thick * Math.sqrt(1 - q * q);
    }
    // abdomen below the domes is denser (liver, bowel)
    a += 0.12 * smoothstep(vAbd0, vAbd1, v);
    // mediastinum (soft edges)
    const dm = u - ana.cxm;
    const mw = dm < 0 ? prof.medR(v) : prof.medL(v);
    if (Math.abs(dm) < mw + 0.012 && v < h.hy + 0.1) a += 0.14 * smoothstep(mw + 0.012, mw - 0.012, Math.abs(dm)) * smoothstep(0.0, 0.12, v) * smoothstep(h.hy + 0.1, h.hy, v);
    // heart: ellipsoid thickness
    if (Math.abs(u - h.hx) < hr && Math.abs(v - h.hy) < hr) {
      const hc = heartCoord(h, u, v);
      if (hc < 1.1) {
        // below the diaphragm the heart merges into the abdomen's density
        const g = du < 0 ? ana.lungs.right : ana.lungs.left;
        const fade = smoothstep(diaphragm(g, Math.abs(du)) + 0.03, diaphragm(g, Math.abs(du)) - 0.01, v);
        a += fade * (0.08 * Math.sqrt(Math.max(0, 1.05 - hc)) + 0.05 * smoothstep(1.1, 0.9, hc));
      }
    }
    A[i] = a;
  }
  // lungs: air, blurred so the edges are soft and the middle is deepest
  const air = lungAir(ana, m);
  const depth = lungAirDepth(ana);
  for (let i = 0; i < N; i++) A[i] = A[i]! - depth * air[i]! * (m.body[i] ? 1 : 0);

  // trachea and main bronchi (air)
  const trach: Pt[] = bezier([frame.toPixel(ana.cxm - 0.004, -0.05), frame.toPixel(ana.cxm, 0.1), frame.toPixel(ana.cxm + 0.004, ana.vCarina)], 12);
  drawBand(A, S, S, trach, 0.014 * px, -0.11, tubeProfile);
  for (const sgn of [-1, 1]) {
    const br = bezier([frame.toPixel(ana.cxm + 0.004, ana.vCarina), frame.toPixel(ana.cxm + sgn * 0.03, ana.vCarina + 0.03), frame.toPixel(ana.cxm + sgn * 0.06, ana.vCarina + 0.07)], 8);
    drawBand(A, S, S, br, 0.009 * px, -0.07, tubeProfile);
  }

  // spine: vertebral bodies with end plates, pedicles and spinous processes
  const bone = new Float32Array(N);
  const vert = 0.047 * ana.patient.ribSpacing;
  for (let i = 0; i < N; i++) {
    if (!m.body[i]) continue;
    const du = U[i]! - ana.cx, v = V[i]!;
    if (Math.abs(du) > 0.04) continue;
    const ph = ((v + 0.02) / vert) % 1;
    const disc = smoothstep(0.0, 0.1, ph) * smoothstep(1.0, 0.86, ph);
    const body = smoothstep(0.03, 0.024, Math.abs(du));
    const rim = Math.exp(-(((Math.abs(du) - 0.026) / 0.004) ** 2));
    const ped = Math.exp(-(((Math.abs(du) - 0.021) / 0.005) ** 2) - (((ph - 0.35) / 0.15) ** 2));
    const spin = Math.exp(-((du / 0.005) ** 2) - (((ph - 0.7) / 0.16) ** 2));
    // the spine shows through the mediastinum; it fades into the soft tissue of the neck and abdomen
    const vis = 0.45 + 0.55 * smoothstep(0.05, 0.2, v) * smoothstep(ana.lungs.left.vCp + 0.1, ana.lungs.left.vDome, v);
    bone[i] = vis * (0.07 * body * disc + 0.04 * rim * disc + 0.06 * ped + 0.04 * spin);
  }

  // ribs: posterior (bright, curving down laterally) and anterior (faint, running down medially)
  const sp = ana.patient.ribSpacing;
  for (const side of SIDES) {
    const g = ana.lungs[side];
    const s = g.sgn;
    const step = ((g.vCp - g.vAp + 0.05) / 9.6) * sp;
    for (let k = 1; k <= 11; k++) {
      const v0 = g.vAp - 0.05 + k * step;
      const ext = Math.min(1, 0.5 + 0.17 * k);
      const dEnd = (g.lat + 0.022) * ext;
      const drop = (0.09 + 0.012 * k) * ana.patient.ribDrop;
      const ctrl: Pt[] = [];
      for (let j = 0; j <= 14; j++) {
        const t = j / 14;
        const d = 0.028 + (dEnd - 0.028) * (1 - (1 - t) ** 1.7);
        const v = v0 - 0.03 * Math.sin(Math.PI * Math.min(1, t * 1.4)) + drop * t ** 2.4;
        ctrl.push(frame.toPixel(ana.cx + s * d, v));
      }
      const hw = (0.0105 + 0.0012 * Math.min(k, 6)) * px;
      drawBand(bone, S, S, ctrl, (t) => hw * (0.75 + 0.25 * Math.min(1, t * 4)), k >= 10 ? 0.05 : 0.08, boneProfile);
      if (k >= 2 && k <= 8) {
        // anterior rib: from the lateral wall down and medially, fading toward the cartilage
        const va = v0 + 0.02;
        const ant: Pt[] = bezier([frame.toPixel(ana.cx + s * (g.lat + 0.015), va), frame.toPixel(ana.cx + s * g.lat * 0.6, va + 0.03), frame.toPixel(ana.cx + s * g.lat * 0.25, va + 0.1)], 10);
        drawBand(bone, S, S, ant, hw * 0.8, 0.04, (rr, t) => boneProfile(rr) * (1 - 0.8 * t));
      }
    }
    // clavicle: medial head near the mediastinum, lateral end toward the shoulder (higher on AP)
    const vCl = g.vAp + (ana.study.view === 'AP' ? 0.035 : 0.065);
    const cl: Pt[] = bezier([
      frame.toPixel(ana.cxm + s * 0.035, vCl + 0.03),
      frame.toPixel(ana.cx + s * 0.13, vCl + 0.02),
      frame.toPixel(ana.cx + s * 0.2, vCl - 0.035),
      frame.toPixel(ana.cx + s * (g.lat + 0.06), vCl - 0.045),
    ], 16);
    drawBand(bone, S, S, cl, (t) => (0.0125 + 0.004 * Math.abs(t - 0.45)) * px, 0.16, boneProfile);
    // humeral head and scapula edge at the shoulder
    const hu = ana.cx + s * (ana.patient.hwT + ana.patient.soft + 0.075);
    const [hx, hy] = frame.toPixel(hu, ana.vShoulder - 0.01);
    drawBand(bone, S, S, [[hx - 0.5, hy], [hx + 0.5, hy]], 0.048 * px, 0.12, boneProfile);
    drawBand(bone, S, S, [frame.toPixel(hu + s * 0.01, ana.vShoulder + 0.02), frame.toPixel(hu + s * 0.03, ana.vShoulder + 0.3)], 0.022 * px, 0.1, boneProfile);
    const scap: Pt[] = bezier([frame.toPixel(ana.cx + s * (g.lat + 0.05), ana.vShoulder + 0.02), frame.toPixel(ana.cx + s * (g.lat * (ana.study.view === 'AP' ? 0.8 : 0.97)), 0.3), frame.toPixel(ana.cx + s * (g.lat + 0.01), 0.46)], 12);
    drawBand(bone, S, S, scap, 0.006 * px, 0.05, boneProfile);
  }
  for (let i = 0; i < N; i++) if (m.body[i]) A[i] = A[i]! + bone[i]!;

  // breast shadows (lower lateral soft tissue with a sharp inferior edge)
  if (ana.patient.breasts) {
    for (const side of SIDES) {
      const g = ana.lungs[side];
      const bu = ana.cx + g.sgn * g.lat * 0.62, bv = g.vDome - 0.02, rad = 0.11 + 0.5 * ana.patient.soft;
      for (let i = 0; i < N; i++) {
        if (!m.body[i]) continue;
        const q = ((U[i]! - bu) / (rad * 1.2)) ** 2 + ((V[i]! - bv) / rad) ** 2;
        if (q < 1 && V[i]! > bv - rad * 0.6) A[i] = A[i]! + 0.1 * Math.sqrt(1 - q) * smoothstep(bv - rad * 0.6, bv, V[i]!);
      }
    }
  }
  // gastric bubble under the left dome
  if (r.bernoulli(0.6)) {
    const g = ana.lungs.left;
    const bu = ana.cx + g.lat * r.uniform(0.35, 0.6), bv = g.vDome + r.uniform(0.045, 0.07), rx = r.uniform(0.025, 0.05), ry = rx * r.uniform(0.5, 0.8);
    for (let i = 0; i < N; i++) {
      if (!m.body[i]) continue;
      const dv = V[i]! - bv;
      const q = ((U[i]! - bu) / rx) ** 2 + (dv / ry) ** 2;
      if (q < 1) A[i] = A[i]! - 0.22 * smoothstep(1, 0.6, q) * (dv < 0 ? 1 : smoothstep(ry, 0, dv));
    }
  }

  // vascular markings: branching trees from each hilum, thinning outward; parenchymal texture
  const markings = new Float32Array(N);
  for (const side of SIDES) {
    const g = ana.lungs[side];
    const [hx, hy] = frame.toPixel(ana.cxm + g.sgn * 0.075, ana.vHilum);
    const nMain = 7 + r.int(4);
    const grow = (x: number, y: number, ang: number, len: number, amp: number, depth: number) => {
      const bend = r.normal(0, 0.15);
      const x1 = x + Math.cos(ang) * len, y1 = y + Math.sin(ang) * len;
      stroke(markings, S, S, x, y, x1, y1, amp);
      if (depth > 0) {
        grow(x1, y1, ang + bend - r.uniform(0.2, 0.5), len * r.uniform(0.6, 0.8), amp * 0.72, depth - 1);
        grow(x1, y1, ang + bend + r.uniform(0.2, 0.5), len * r.uniform(0.6, 0.8), amp * 0.72, depth - 1);
      }
    };
    for (let k = 0; k < nMain; k++) {
      // fan from straight up (-pi/2) over lateral to down; lateral = angle 0 for the left lung, pi for the right
      const a0 = -Math.PI / 2 + (Math.PI * (k + r.uniform(0.2, 0.8))) / nMain;
      const ang = g.sgn > 0 ? a0 : Math.PI - a0;
      grow(hx, hy, ang, r.uniform(0.05, 0.08) * px, 0.22, 4);
    }
    // hilar vessels
    for (let i = 0; i < N; i++) {
      const dx = (U[i]! - (ana.cxm + g.sgn * 0.08)) / 0.035, dy = (V[i]! - ana.vHilum) / 0.06;
      const q = dx * dx + dy * dy;
      if (q < 4) markings[i] = markings[i]! + 0.07 * Math.exp(-q);
    }
  }
  blur3(markings, S, S, Math.max(0.6, 0.0035 * px));
  const tex = new Float32Array(N);
  for (let i = 0; i < N; i++) tex[i] = (r.next() - 0.5) * 3.46; // unit variance; the blur makes it near Gaussian
  blur3(tex, S, S, Math.max(1, 0.006 * px));
  const texAmp = 0.06 * Math.sqrt(Math.max(1, 0.006 * px));
  for (let i = 0; i < N; i++) markings[i] = (markings[i]! + texAmp * tex[i]!) * air[i]! * (m.body[i] ? 1 : 0);
  return { A, air, markings };
}

export interface Exposure {
  /** attenuation gain of 1 - exp(-k A) */
  k: number;
  lo: number;
  hi: number;
  gamma: number;
  noise: number;
  /** heel effect: brightness gradient along x */
  heel: number;
  /** detector background (outside the body) */
  background: number;
}

export function sampleExposure(r: Rng): Exposure {
  return {
    k: r.uniform(0.5, 1.3),
    lo: r.uniform(-0.06, 0.06),
    hi: r.uniform(0.9, 1.12),
    gamma: r.uniform(0.75, 1.25),
    noise: r.uniform(0.006, 0.03),
    heel: r.normal(0, 0.03),
    background: r.uniform(0, 0.08),
  };
}

/** Attenuation -> grey in [0, 1] through the exposure curve, plus detector noise. */
export function expose(A: Float32Array, size: number, e: Exposure, r: Rng): Float32Array {
  const N = size * size;
  const out = new Float32Array(N);
  let amax = 0;
  for (let i = 0; i < N; i++) if (A[i]! > amax) amax = A[i]!;
  const norm = 1 - Math.exp(-e.k * Math.max(amax, 1.2));
  // the response curve as a table over attenuation 0..amax (before heel effect and window)
  const L = 4096;
  const top = Math.max(amax, 1e-6);
  const curve = new Float32Array(L + 1);
  for (let k = 0; k <= L; k++) curve[k] = e.background + (1 - e.background) * ((1 - Math.exp(-e.k * ((k / L) * top))) / norm);
  const gam = new Float32Array(L + 1);
  for (let k = 0; k <= L; k++) gam[k] = Math.pow(k / L, e.gamma);
  // correlated (blurred) noise plus white noise; uniform draws, near Gaussian after the blur / sum
  const cn = new Float32Array(N);
  for (let i = 0; i < N; i++) cn[i] = (r.next() - 0.5) * 3.46;
  blur3(cn, size, size, 1);
  const inv = 1 / (e.hi - e.lo);
  for (let y = 0; y < size; y++) {
    const heel = 1 + e.heel * ((y / size) - 0.5);
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const a = A[i]!;
      let g = curve[a <= 0 ? 0 : Math.min(L, Math.round((a / top) * L))]!;
      g = clamp((g * heel - e.lo) * inv, 0, 1);
      g = gam[Math.round(g * L)]!;
      const sd = e.noise * Math.sqrt(0.15 + g);
      const white = (r.next() + r.next() - 1) * 2.45; // unit variance
      out[i] = g + sd * (0.8 * white + 1.6 * cn[i]!);
    }
  }
  return out;
}
