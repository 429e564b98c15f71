/**
 * Colormaps for heat maps: matplotlib's `jet` (its piecewise-linear definition) and the
 * perceptually uniform `viridis` and `inferno` (control points generated from matplotlib by
 * tools/viz/gen_colormaps.py, linearly interpolated), as 256-entry 8-bit tables.
 */
import { G2DError } from '@g2d-ts/core';
import { CONTROL_POINTS, CONTROL_STEP } from './colormap-data';

export type ColormapName = 'jet' | 'viridis' | 'inferno';
export const COLORMAPS: readonly ColormapName[] = ['jet', 'viridis', 'inferno'];

/** matplotlib's jet segment data: per channel, (x, value) nodes, linear in between. */
const JET: [number, number][][] = [
  [
    [0, 0],
    [0.35, 0],
    [0.66, 1],
    [0.89, 1],
    [1, 0.5],
  ],
  [
    [0, 0],
    [0.125, 0],
    [0.375, 1],
    [0.64, 1],
    [0.91, 0],
    [1, 0],
  ],
  [
    [0, 0.5],
    [0.11, 1],
    [0.34, 1],
    [0.65, 0],
    [1, 0],
  ],
];

function piecewise(nodes: [number, number][], t: number): number {
  for (let i = 1; i < nodes.length; i++) {
    const [x1, v1] = nodes[i]!;
    if (t <= x1) {
      const [x0, v0] = nodes[i - 1]!;
      return v0 + ((t - x0) / (x1 - x0)) * (v1 - v0);
    }
  }
  return nodes[nodes.length - 1]![1];
}

const tables = new Map<ColormapName, Uint8Array>();

function build(name: ColormapName): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  if (name === 'jet') {
    for (let i = 0; i < 256; i++) {
      for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(255 * piecewise(JET[c]!, i / 255));
    }
    return lut;
  }
  const hex = CONTROL_POINTS[name];
  const n = hex.length / 6;
  const pts = new Float64Array(n * 3);
  for (let k = 0; k < n * 3; k++) pts[k] = parseInt(hex.slice(k * 2, k * 2 + 2), 16);
  for (let i = 0; i < 256; i++) {
    const k = Math.min(n - 2, Math.floor(i / CONTROL_STEP));
    const f = (i - k * CONTROL_STEP) / CONTROL_STEP;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(pts[k * 3 + c]! * (1 - f) + pts[(k + 1) * 3 + c]! * f);
  }
  return lut;
}

/** The 256 × RGB table of a colormap (shared; do not modify). */
export function colormapTable(name: ColormapName): Uint8Array {
  if (!COLORMAPS.includes(name)) throw new G2DError(`unknown colormap ${JSON.stringify(name)}; one of ${COLORMAPS.join(', ')}`, { source: 'colormap' });
  let t = tables.get(name);
  if (!t) {
    t = build(name);
    tables.set(name, t);
  }
  return t;
}

/** The colour of t ∈ [0, 1] (clamped; NaN -> 0) as [r, g, b] in 0..255: table entry round(255·t). */
export function colormap(name: ColormapName, t: number): [number, number, number] {
  const lut = colormapTable(name);
  const i = Number.isNaN(t) ? 0 : Math.round(255 * Math.min(1, Math.max(0, t)));
  return [lut[i * 3]!, lut[i * 3 + 1]!, lut[i * 3 + 2]!];
}
