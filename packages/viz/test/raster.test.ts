/** Raster maths hand-checked on tiny images: grey mapping, resizing, blending, outlines, boxes, tiles, colormaps. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import {
  colormap, colormapTable, createRgba, drawBox, fitRgba, grayImageToRgba, grayToRgba, maskBoundary, overlayHeatmap, overlayMask, resizeBilinearPlane,
  resizeRgba, tile, type Rgba,
} from '../src';

/** The RGB of pixel (x, y). */
const px = (img: Rgba, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
/** Coordinates of the pixels whose colour differs between two images. */
function changed(a: Rgba, b: Rgba): string[] {
  const out: string[] = [];
  for (let y = 0; y < a.height; y++) for (let x = 0; x < a.width; x++) if (px(a, x, y).join() !== px(b, x, y).join()) out.push(`${x},${y}`);
  return out;
}
const gray = (w: number, h: number, v: number) => createRgba(w, h, [v, v, v, 255]);

describe('grayToRgba', () => {
  it('maps the type\'s range (or a given one) to 0..255, rounding half up, clamping, NaN -> black', () => {
    const u8 = grayToRgba(Uint8Array.from([0, 128, 255]), 3, 1);
    expect([px(u8, 0, 0), px(u8, 1, 0), px(u8, 2, 0)]).toEqual([[0, 0, 0, 255], [128, 128, 128, 255], [255, 255, 255, 255]]);
    const f = grayToRgba(Float32Array.from([0, 0.5, 1.2, -1, NaN, 0.25]), 3, 2);
    expect(Array.from({ length: 6 }, (_, i) => px(f, i % 3, Math.floor(i / 3))[0])).toEqual([0, 128, 255, 0, 0, 64]);
    const u16 = grayToRgba(Uint16Array.from([0, 2048, 4095]), 3, 1, { range: [0, 4095] });
    expect(px(u16, 1, 0)[0]).toBe(Math.floor((2048 * 255) / 4095 + 0.5));
    const mm = grayToRgba(Float32Array.from([10, 20, 30]), 3, 1, { range: 'minmax' });
    expect([px(mm, 0, 0)[0], px(mm, 1, 0)[0], px(mm, 2, 0)[0]]).toEqual([0, 128, 255]);
    const img = grayImageToRgba({ width: 2, height: 1, data: Uint16Array.from([0, 1023]), maxValue: 1023 });
    expect(px(img, 1, 0)).toEqual([255, 255, 255, 255]);
  });
  it('rejects a size mismatch, naming the sizes', () => {
    expect(() => grayToRgba(new Uint8Array(5), 2, 2)).toThrow(/5 values, expected width·height = 2·2 = 4/);
    expect(() => grayToRgba(new Uint8Array(4), 0, 4)).toThrow(G2DError);
  });
});

describe('resizing', () => {
  it('bilinear with pixel centres (align_corners = false), hand-worked', () => {
    // 2 -> 4: source positions -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
    expect(Array.from(resizeBilinearPlane({ width: 2, height: 1, data: [0, 1] }, 4, 1))).toEqual([0, 0.25, 0.75, 1]);
    // 2×2 -> 4×4: the centre 2×2 block interpolates both ways
    const r = resizeBilinearPlane({ width: 2, height: 2, data: [0, 1, 2, 3] }, 4, 4);
    expect(r[1 * 4 + 1]).toBeCloseTo(0.25 * 1 + 0.25 * 2, 12);
    expect(r[2 * 4 + 2]).toBeCloseTo(0.75 * 1 + 0.75 * 2, 12);
    expect(r[0]).toBe(0);
    expect(r[15]).toBe(3);
  });
  it('area-averages when shrinking', () => {
    const img = grayToRgba(Uint8Array.from([0, 100, 200, 255, 10, 20]), 6, 1);
    const s = resizeRgba(img, 2, 1);
    expect(px(s, 0, 0)[0]).toBe(100); // (0 + 100 + 200) / 3
    expect(px(s, 1, 0)[0]).toBe(95); // (255 + 10 + 20) / 3
    const t = resizeRgba(grayToRgba(Uint8Array.from([0, 100, 200, 255]), 4, 1), 3, 1);
    // output pixel 1 covers source [4/3, 8/3): 2/3 of pixel 1 (100) and 2/3 of pixel 2 (200) -> 150
    expect(px(t, 1, 0)[0]).toBe(150);
    const f = fitRgba(createRgba(400, 200), 100);
    expect([f.width, f.height]).toEqual([100, 50]);
    expect(fitRgba(createRgba(40, 20), 100).width).toBe(40);
  });
});

describe('colormaps', () => {
  const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'colormaps.json'), 'utf8')) as { t: number[]; maps: Record<string, number[][]> };
  it.each(['jet', 'viridis', 'inferno'] as const)('%s matches matplotlib (8-bit rounding for jet, 1.5/255 for the others)', (name) => {
    let worst = 0;
    golden.t.forEach((t, k) => {
      const c = colormap(name, t);
      for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(c[ch]! - golden.maps[name]![k]![ch]!));
    });
    // jet: its own definition, only 8-bit rounding; viridis/inferno: control points + interpolation
    expect(worst).toBeLessThanOrEqual(name === 'jet' ? 0.5 + 1e-9 : 1.5);
  });
  it('clamps, and rejects unknown names', () => {
    expect(colormap('jet', -1)).toEqual(colormap('jet', 0));
    expect(colormap('jet', 0)).toEqual([0, 0, 128]);
    expect(colormap('jet', 1)).toEqual([128, 0, 0]);
    expect(colormapTable('viridis')).toHaveLength(768);
    expect(() => colormap('rainbow' as never, 0.5)).toThrow(/unknown colormap "rainbow"/);
  });
});

describe('overlayHeatmap', () => {
  it('blends round((1 − α)·base + α·colour) after bilinear resize and min-max normalisation', () => {
    const base = gray(4, 1, 100);
    const out = overlayHeatmap(base, { width: 2, height: 1, data: [5, 7] }, { alpha: 0.5, colormap: 'jet' });
    // normalised [0, 1] -> resized [0, .25, .75, 1] -> jet entries 0, 64, 191, 255
    const expected = [0, 0.25, 0.75, 1].map((t) => colormap('jet', t).map((c) => Math.floor(0.5 * 100 + 0.5 * c + 0.5)));
    for (let x = 0; x < 4; x++) expect(px(out, x, 0).slice(0, 3)).toEqual(expected[x]);
    // jet(0) = (0, 0, 128), jet(1) = (128, 0, 0), by hand
    expect(px(out, 0, 0)).toEqual([50, 50, 114, 255]);
    expect(px(out, 3, 0)).toEqual([114, 50, 50, 255]);
    // the input is untouched
    expect(px(base, 0, 0)).toEqual([100, 100, 100, 255]);
  });
  it('normalize false / fixed range, alpha 0 and 1, threshold, square bare arrays', () => {
    const base = gray(2, 2, 40);
    const a1 = overlayHeatmap(base, Float32Array.from([0, 1, 1, 0]), { alpha: 1, normalize: false, colormap: 'viridis' });
    expect(px(a1, 1, 0).slice(0, 3)).toEqual(colormap('viridis', 1));
    expect(px(a1, 0, 0).slice(0, 3)).toEqual(colormap('viridis', 0));
    const a0 = overlayHeatmap(base, Float32Array.from([0, 1, 1, 0]), { alpha: 0 });
    expect(changed(a0, base)).toEqual([]);
    const fixed = overlayHeatmap(base, [0, 5, 10, 20], { alpha: 1, normalize: [0, 10], colormap: 'inferno' });
    expect(px(fixed, 1, 0).slice(0, 3)).toEqual(colormap('inferno', 0.5));
    expect(px(fixed, 1, 1).slice(0, 3)).toEqual(colormap('inferno', 1)); // clamped
    const th = overlayHeatmap(base, [0, 0.2, 0.8, 1], { alpha: 1, threshold: 0.5, normalize: false });
    expect(changed(th, base)).toEqual(['0,1', '1,1']);
  });
  it('rejects NaN in the map, a non-square bare array and bad options', () => {
    const base = gray(4, 4, 0);
    expect(() => overlayHeatmap(base, [0, NaN, 1, 1])).toThrow(/heat: contains NaN at index 1 \(row 0, column 1\)/);
    expect(() => overlayHeatmap(base, [1, 2, 3])).toThrow(/neither the base image's 4×4 nor a square map/);
    expect(() => overlayHeatmap(base, [1, 2, 3, 4], { alpha: 2 })).toThrow(/alpha/);
    expect(() => overlayHeatmap(base, [1, 2, 3, 4], { colormap: 'hot' as never })).toThrow(/colormap/);
    expect(() => overlayHeatmap({ width: 2, height: 2, data: new Uint8ClampedArray(3) }, [1])).toThrow(/base: data has 3 bytes/);
  });
});

describe('overlayMask', () => {
  // 5×5 with a 3×3 block in the middle
  const block = Array.from({ length: 25 }, (_, i) => (i % 5 >= 1 && i % 5 <= 3 && Math.floor(i / 5) >= 1 && Math.floor(i / 5) <= 3 ? 1 : 0));
  it('fills mask pixels with alpha blending', () => {
    const base = gray(5, 5, 100);
    const out = overlayMask(base, block, { color: [255, 0, 0], alpha: 0.4 });
    expect(changed(out, base)).toHaveLength(9);
    // 0.6·100 + 0.4·255 = 162, 0.6·100 = 60
    expect(px(out, 2, 2)).toEqual([162, 60, 60, 255]);
    expect(px(out, 0, 0)).toEqual([100, 100, 100, 255]);
  });
  it('outline paints only the boundary ring (opaque by default)', () => {
    const base = gray(5, 5, 100);
    const out = overlayMask(base, block, { color: [0, 255, 0], outline: true });
    expect(changed(out, base).sort()).toEqual(['1,1', '1,2', '1,3', '2,1', '2,3', '3,1', '3,2', '3,3'].sort());
    expect(px(out, 1, 1)).toEqual([0, 255, 0, 255]);
    expect(px(out, 2, 2)).toEqual([100, 100, 100, 255]);
    // a 2-pixel outline of the 3×3 block covers all of it
    expect(changed(overlayMask(base, block, { outline: true, outlineWidth: 2 }), base)).toHaveLength(9);
  });
  it('a mask touching the image edge is closed along the edge', () => {
    const full = new Uint8Array(16).fill(1);
    const b = maskBoundary(full, 4, 4);
    expect(Array.from(b)).toEqual([1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
  });
  it('resizes a smaller mask nearest-neighbour, thresholds 0/255 masks, accepts booleans', () => {
    const base = gray(4, 4, 0);
    const out = overlayMask(base, { width: 2, height: 2, data: [255, 0, 0, 0] }, { alpha: 1 });
    expect(changed(out, base).sort()).toEqual(['0,0', '0,1', '1,0', '1,1']);
    const bools = overlayMask(gray(2, 1, 0), [true, false], { alpha: 1, color: [9, 9, 9] });
    expect(px(bools, 0, 0)).toEqual([9, 9, 9, 255]);
    expect(px(bools, 1, 0)).toEqual([0, 0, 0, 255]);
    expect(() => overlayMask(base, { width: 2, height: 2, data: [1, 0, 0] })).toThrow(/mask: data has 3 values, expected width·height = 4/);
    expect(() => overlayMask(base, block.slice(0, 16), { color: [300, 0, 0] })).toThrow(/color/);
  });
});

describe('drawBox', () => {
  it('draws a thickness-1 outline inside [x1, x2) × [y1, y2)', () => {
    const img = gray(6, 6, 0);
    const out = drawBox(img, [1, 1, 5, 5], [255, 0, 0], 1);
    const ring = [];
    for (let y = 1; y < 5; y++) for (let x = 1; x < 5; x++) if (x === 1 || x === 4 || y === 1 || y === 4) ring.push(`${x},${y}`);
    expect(changed(out, img).sort()).toEqual(ring.sort());
    expect(ring).toHaveLength(12);
    expect(px(out, 1, 1)).toEqual([255, 0, 0, 255]);
    // thickness 2 fills the 4×4 box
    expect(changed(drawBox(img, [1, 1, 5, 5], [255, 0, 0], 2), img)).toHaveLength(16);
  });
  it('rounds fractional corners, clips at the image edge, blends a 4th colour component', () => {
    const img = gray(4, 4, 0);
    const out = drawBox(img, [-2.4, 0.6, 2.4, 9], [200, 100, 0, 128], 1);
    // x in [-2, 2) ∩ image = {0, 1}; y in [1, 9) ∩ image = {1, 2, 3}: left edge is off-image,
    // so visible: top row y=1 (x 0..1), right column x=1; bottom row (y=8) is off-image
    expect(changed(out, img).sort()).toEqual(['0,1', '1,1', '1,2', '1,3'].sort());
    expect(px(out, 1, 2)).toEqual([Math.floor((128 / 255) * 200 + 0.5), Math.floor((128 / 255) * 100 + 0.5), 0, 255]);
  });
  it('rejects inverted or non-finite boxes', () => {
    const img = gray(4, 4, 0);
    expect(() => drawBox(img, [3, 0, 1, 2])).toThrow(/box: needs x2 ≥ x1/);
    expect(() => drawBox(img, [0, 0, NaN, 2])).toThrow(/box: must be \[x1, y1, x2, y2\]/);
    expect(() => drawBox(img, [0, 0, 1, 2], [0, 0, 0], 0)).toThrow(/thickness/);
  });
});

describe('tile', () => {
  it('lays images out in a grid with padding, centred in equal cells', () => {
    const a = createRgba(2, 1, [10, 0, 0, 255]);
    const b = createRgba(1, 1, [20, 0, 0, 255]);
    const c = createRgba(2, 1, [30, 0, 0, 255]);
    const t = tile([a, b, c], 2, 1, [0, 0, 0, 255]);
    // cells 2×1, 2 columns, 2 rows: width 2·2 + 3·1 = 7, height 2·1 + 3·1 = 5
    expect([t.width, t.height]).toEqual([7, 5]);
    expect(px(t, 1, 1)[0]).toBe(10);
    expect(px(t, 2, 1)[0]).toBe(10);
    expect(px(t, 4, 1)[0]).toBe(20); // 1-pixel image centred (floor) in the second cell
    expect(px(t, 5, 1)[0]).toBe(0);
    expect(px(t, 1, 3)[0]).toBe(30);
    expect(px(t, 0, 0)[0]).toBe(0);
    expect(() => tile([], 2)).toThrow(/non-empty/);
    expect(() => tile([a], 0)).toThrow(/cols/);
  });
});
