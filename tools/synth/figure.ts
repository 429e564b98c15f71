/**
 * README figures of the synthetic dataset (packages/data/docs/):
 *   synth-grid.png       generated radiographs with their finding masks outlined and their reports
 *   synth-intensity.png  intensity statistics of generated images against the real images in
 *                        ../shared/data (NIH ChestX-ray14 and ieee8023 COVID subsets), computed
 *                        now from the files; no real image is written anywhere
 * Both sides go through the same reference preprocessing (crop to the non-zero box, min-max,
 * 256x256, 'clean' variant) before the statistics are taken.
 *
 *   pnpm exec tsx --tsconfig tools/build/tsconfig.run.json tools/synth/figure.ts [--out DIR] [--count N]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadImage, referencePreprocess, generateSynthetic, syntheticLayout, SYNTH_FINDINGS, type SynthFindingName } from '@g2d-ts/data';
import { Canvas, encodeRgbPng, wrap, writeAtomic, type RGB } from './canvas';

const ROOT = path.resolve(__dirname, '../..');
const args = process.argv.slice(2);
const arg = (k: string, d: string) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : d;
};
const OUT = path.resolve(arg('out', path.join(ROOT, 'packages/data/docs')));
const SYNTH_COUNT = Number(arg('count', '400'));
const SEED = 0;

export const COLORS: Record<SynthFindingName, RGB> = {
  opacity: [255, 70, 70],
  effusion: [70, 150, 255],
  pneumothorax: [255, 230, 0],
  cardiomegaly: [255, 0, 255],
  nodule: [0, 230, 0],
  atelectasis: [255, 150, 0],
  edema: [0, 230, 230],
  support_device: [170, 110, 255],
};

/** Indices whose findings together cover every finding (n - 2 studies), then two normal studies. */
function pickIndices(n: number): number[] {
  const seen = new Set<string>();
  const picked: number[] = [];
  const normals: number[] = [];
  for (let k = 0; k < 400 && (picked.length < n - 2 || normals.length < 2); k++) {
    const s = syntheticLayout(k, { seed: SEED, size: 256 });
    if (!s.findings.length) {
      if (normals.length < 2) normals.push(k);
      continue;
    }
    const fresh = new Set(s.findings.filter((f) => !seen.has(f.name)).map((f) => f.name)).size;
    const need = seen.size >= SYNTH_FINDINGS.length ? 0 : seen.size < 5 ? 2 : 1;
    if (picked.length < n - 2 && fresh >= need) {
      s.findings.forEach((f) => seen.add(f.name));
      picked.push(k);
    }
  }
  return [...picked, ...normals];
}

function grid(): void {
  const S = 256, cols = 4, pad = 8, textCols = 42, lineH = 9;
  const idx = pickIndices(8);
  const samples = idx.map((k) => generateSynthetic(k, { seed: SEED, size: S }));
  const texts = samples.map((s) => wrap(s.report, textCols));
  const rows = Math.ceil(samples.length / cols);
  const textH = Math.max(...texts.map((t) => t.length)) * lineH + 6;
  const legendH = 28;
  const W = cols * (S + pad) + pad, H = legendH + rows * (S + textH + pad) + pad;
  const cv = new Canvas(W, H, [255, 255, 255]);
  cv.text('Synthetic chest radiographs (g2d-data synth, seed 0): finding masks outlined, reports below. Not patient data.', pad, 6, [0, 0, 0]);
  let lx = pad;
  for (const n of SYNTH_FINDINGS) {
    cv.rect(lx, 17, lx + 7, 24, COLORS[n], true);
    lx += 10 + cv.text(n, lx + 10, 17, [40, 40, 40]) + 8;
  }
  samples.forEach((s, j) => {
    const x0 = pad + (j % cols) * (S + pad);
    const y0 = legendH + Math.floor(j / cols) * (S + textH + pad);
    cv.grey(s.image, S, S, x0, y0, 2); // 128 grey levels: an indexed PNG with the outline colours
    for (const f of s.findings) cv.outline(f.mask, S, S, x0, y0, COLORS[f.name]);
    cv.text(s.id, x0 + 3, y0 + S - 10, [255, 255, 0]);
    texts[j]!.forEach((line, k) => cv.text(line, x0, y0 + S + 4 + k * lineH, [20, 20, 20]));
  });
  writeAtomic(path.join(OUT, 'synth-grid.png'), encodeRgbPng(cv));
  console.log(`synth-grid.png: indices ${idx.join(', ')}`);
}

interface Stats {
  name: string;
  n: number;
  hist: Float64Array;
  means: number[];
  stds: number[];
  pct: number[][];
}

const BINS = 64;
const PCTS = [5, 25, 50, 75, 95];

function addImage(st: Stats, u8: Uint8Array): void {
  const h = new Float64Array(BINS);
  let sum = 0, sq = 0;
  const counts = new Uint32Array(256);
  for (let i = 0; i < u8.length; i++) {
    const v = u8[i]!;
    counts[v]!++;
    sum += v;
    sq += v * v;
    h[Math.min(BINS - 1, Math.floor((v / 256) * BINS))]! += 1;
  }
  for (let b = 0; b < BINS; b++) st.hist[b]! += h[b]! / u8.length;
  const mean = sum / u8.length;
  st.means.push(mean);
  st.stds.push(Math.sqrt(Math.max(0, sq / u8.length - mean * mean)));
  const p: number[] = [];
  let acc = 0, v = 0;
  for (const q of PCTS) {
    const target = (q / 100) * u8.length;
    while (v < 255 && acc + counts[v]! < target) acc += counts[v++]!;
    p.push(v);
  }
  st.pct.push(p);
  st.n++;
}

const newStats = (name: string): Stats => ({ name, n: 0, hist: new Float64Array(BINS), means: [], stds: [], pct: [] });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

async function realStats(name: string, dir: string): Promise<Stats | null> {
  if (!fs.existsSync(dir)) {
    console.log(`SKIP: ${dir} not found; the intensity plot leaves ${name} out`);
    return null;
  }
  const st = newStats(name);
  for (const f of fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()) {
    const { image } = await loadImage(path.join(dir, f));
    addImage(st, referencePreprocess(image, { size: 256, variant: 'clean', source: f }));
  }
  return st;
}

function synthStats(): Stats {
  const st = newStats('synthetic');
  for (let k = 0; k < SYNTH_COUNT; k++) {
    const s = generateSynthetic(k, { seed: SEED, size: 256 });
    addImage(st, referencePreprocess({ width: 256, height: 256, data: s.image }, { size: 256, variant: 'clean' }));
  }
  return st;
}

function plot(all: Stats[]): void {
  const colors: RGB[] = [[200, 40, 40], [40, 110, 220], [20, 150, 60]];
  const W = 900, H = 430;
  const cv = new Canvas(W, H, [255, 255, 255]);
  cv.text('Grey-level statistics after the reference preprocessing (crop, min-max, 256x256): synthetic vs real', 10, 8, [0, 0, 0]);
  // left: mean normalised histogram
  const L = { x: 50, y: 40, w: 380, h: 250 };
  const ymax = Math.max(...all.flatMap((s) => [...s.hist].map((v) => v / s.n))) * 1.1;
  cv.rect(L.x, L.y, L.x + L.w, L.y + L.h, [0, 0, 0]);
  all.forEach((s, j) => {
    let px = -1, py = -1;
    for (let b = 0; b < BINS; b++) {
      const x = L.x + ((b + 0.5) / BINS) * L.w, y = L.y + L.h - ((s.hist[b]! / s.n) / ymax) * L.h;
      if (px >= 0) cv.line(px, py, x, y, colors[j]!, 2);
      px = x;
      py = y;
    }
  });
  for (const t of [0, 64, 128, 192, 255]) cv.text(String(t), L.x + (t / 256) * L.w - 6, L.y + L.h + 5, [0, 0, 0]);
  cv.text('grey level', L.x + L.w / 2 - 27, L.y + L.h + 16, [0, 0, 0]);
  cv.textUp('share of pixels (mean histogram)', L.x - 14, L.y + L.h - 20, [0, 0, 0]);
  // right: per-image mean vs std
  const R = { x: 500, y: 40, w: 380, h: 250 };
  cv.rect(R.x, R.y, R.x + R.w, R.y + R.h, [0, 0, 0]);
  all.forEach((s, j) => s.means.forEach((m, k) => {
    const x = R.x + (m / 255) * R.w, y = R.y + R.h - (s.stds[k]! / 128) * R.h;
    cv.rect(x - 1, y - 1, x + 1, y + 1, colors[j]!, true);
  }));
  for (const t of [0, 64, 128, 192, 255]) cv.text(String(t), R.x + (t / 255) * R.w - 6, R.y + R.h + 5, [0, 0, 0]);
  for (const t of [0, 32, 64, 96, 128]) cv.text(String(t), R.x - 22, R.y + R.h - (t / 128) * R.h - 3, [0, 0, 0]);
  cv.text('per-image mean', R.x + R.w / 2 - 42, R.y + R.h + 16, [0, 0, 0]);
  cv.textUp('per-image std', R.x - 28, R.y + R.h - 60, [0, 0, 0]);
  // table
  let y = 330;
  cv.text('dataset             images  mean (sd)      std (sd)       p5   p25  p50  p75  p95  (means over images)', 10, y, [0, 0, 0]);
  all.forEach((s, j) => {
    y += 14;
    cv.rect(10, y, 17, y + 7, colors[j]!, true);
    const p = PCTS.map((_, q) => mean(s.pct.map((r) => r[q]!)).toFixed(0).padStart(4));
    const row = `${s.name.padEnd(17)} ${String(s.n).padStart(6)}  ${mean(s.means).toFixed(1).padStart(5)} (${sd(s.means).toFixed(1).padStart(4)})   ${mean(s.stds).toFixed(1).padStart(5)} (${sd(s.stds).toFixed(1).padStart(4)})  ${p.join(' ')}`;
    cv.text(row, 22, y, [0, 0, 0]);
    console.log(row);
  });
  writeAtomic(path.join(OUT, 'synth-intensity.png'), encodeRgbPng(cv));
}

async function main(): Promise<void> {
  grid();
  const shared = [process.env.G2D_SHARED_DIR, path.join(ROOT, '..', 'shared')].find((d) => d && fs.existsSync(path.join(d, 'data')));
  const real = shared
    ? (await Promise.all([realStats('NIH CXR14 subset', path.join(shared, 'data/nih_cxr14_bbox/images')), realStats('ieee8023 COVID', path.join(shared, 'data/covid_chestxray_ieee8023/images'))])).filter((s): s is Stats => !!s)
    : (console.log('SKIP: ../shared/data not found; the intensity plot shows the synthetic images only'), []);
  plot([...real, synthStats()]);
  console.log(`wrote ${path.join(OUT, 'synth-grid.png')} and ${path.join(OUT, 'synth-intensity.png')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
