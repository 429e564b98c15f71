/**
 * A page with every @g2d-ts/viz output, to look at in a browser (and to screenshot):
 *
 *   pnpm exec tsx --tsconfig tools/build/tsconfig.run.json tools/viz/demo.ts /tmp/vizdemo
 *   chromium --headless --no-sandbox --screenshot=/tmp/vizdemo/shot.png \
 *     --window-size=1200,1600 file:///tmp/vizdemo/index.html
 *
 * Real data where the repository has it (../shared/data: NIH ChestX-ray14 radiographs with
 * expert boxes, COVID radiographs with human lung masks, their intensity histograms, NIH
 * label counts); the training curves, scores and the attention map are synthetic and say so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng, G2DError, writeFileAtomic } from '@g2d-ts/core';
import { loadImage, readCsv } from '@g2d-ts/data';
import { rocAuc } from '@g2d-ts/metrics';
import {
  barChart, details, drawBox, figure, figureRow, fitRgba, formatMeanStd, grayImageToRgba, histogramChart, htmlPage, htmlTable, imageGrid, keyValueTable,
  grayToRgba, lineChart, markdownTable, meanStd, overlayHeatmap, overlayMask, paragraph, preformatted, rocChart, tile, encodePng, type Rgba,
} from '@g2d-ts/viz';

function sharedData(): string {
  const candidates = [process.env.G2D_SHARED_DIR && path.join(process.env.G2D_SHARED_DIR, 'data'), path.resolve(__dirname, '../../../shared/data')];
  for (const c of candidates) if (c && fs.existsSync(path.join(c, 'nih_cxr14_bbox'))) return c;
  throw new G2DError('shared data not found (looked for ../shared/data beside the checkout; set G2D_SHARED_DIR)', { source: 'tools/viz/demo.ts' });
}

/** fpr/tpr at every distinct threshold (scores descending). */
function rocPoints(scores: number[], labels: number[]): { fpr: number[]; tpr: number[] } {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const P = labels.reduce((s, v) => s + v, 0);
  const N = labels.length - P;
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < idx.length; k++) {
    if (labels[idx[k]!]) tp++;
    else fp++;
    if (k === idx.length - 1 || scores[idx[k + 1]!] !== scores[idx[k]!]) {
      fpr.push(fp / N);
      tpr.push(tp / P);
    }
  }
  return { fpr, tpr };
}

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? '/tmp/vizdemo');
  fs.mkdirSync(out, { recursive: true });
  const data = sharedData();
  const rng = new Rng('viz-demo');
  const t0 = Date.now();

  // ---- synthetic training curves (20 000 steps, a NaN gap, warm restarts) ----------------
  const steps = 20000;
  const vla: [number, number | null][] = [];
  const ps: [number, number | null][] = [];
  const lr: [number, number][] = [];
  const acc1: [number, number][] = [];
  const acc5: [number, number][] = [];
  const ips: [number, number][] = [];
  for (let s = 0; s < steps; s++) {
    const base = 4.2 * Math.exp(-s / 5000) + 1.1;
    vla.push([s, s >= 9000 && s < 9400 ? null : base + rng.normal(0, 0.25) + (s === 12000 ? 3 : 0)]);
    ps.push([s, s < 200 ? null : 0.9 * Math.exp(-(s - 200) / 7000) + 0.25 + rng.normal(0, 0.04)]);
    const tc = s % 2000; // CosineAnnealingWarmRestarts, T_0 = 2000 steps
    lr.push([s, 1e-8 + 0.5 * (2e-5 - 1e-8) * (1 + Math.cos((Math.PI * tc) / 2000))]);
    if (s % 500 === 0) {
      acc1.push([s, Math.min(100, 100 * (1 - Math.exp(-s / 6000)) * 0.62 + rng.normal(0, 1.5))]);
      acc5.push([s, Math.min(100, 100 * (1 - Math.exp(-s / 5000)) * 0.93 + rng.normal(0, 1.2))]);
    }
    if (s % 50 === 0) ips.push([s, 88 + rng.normal(0, 4) - (s > 15000 && s < 15600 ? 40 : 0)]);
  }
  const lossChart = lineChart({
    title: 'Training loss (synthetic demo curves)',
    xLabel: 'step',
    yLabel: 'loss',
    smoothing: 0.95,
    series: [
      { name: 'VLA (image–text contrastive)', points: vla },
      { name: 'PS (pseudo segmentation)', points: ps },
    ],
  });
  const lrChart = lineChart({ title: 'Learning rate (log scale)', xLabel: 'step', yLabel: 'lr', logY: true, series: [{ name: 'lr', points: lr }], width: 530 });
  const accChart = lineChart({
    title: 'In-batch retrieval accuracy',
    xLabel: 'step',
    yLabel: 'accuracy (%)',
    yDomain: [0, 100],
    markers: true,
    series: [
      { name: 'top-1', points: acc1 },
      { name: 'top-5', points: acc5, dashed: true },
    ],
    width: 530,
  });
  const ipsChart = lineChart({ title: 'Throughput', xLabel: 'step', yLabel: 'images / s', series: [{ name: 'images/s', points: ips }], width: 530 });

  // ---- real: NIH label counts; synthetic: per-class AUC over 3 seeds ---------------------
  const entries = readCsv(path.join(data, 'nih_cxr14_bbox', 'data_entry.csv'));
  const counts = new Map<string, number>();
  for (const e of entries) for (const l of e['Finding Labels']!.split('|')) counts.set(l, (counts.get(l) ?? 0) + 1);
  const countChart = barChart({
    title: `NIH ChestX-ray14 subset: images per finding (n = ${entries.length})`,
    bars: [...counts].map(([label, value]) => ({ label, value })),
    sorted: true,
    horizontal: true,
    valueLabel: 'images',
    digits: 0,
    width: 480,
  });
  const classes = ['Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Mass', 'Nodule', 'Pneumonia', 'Pneumothorax'];
  const aucRows: { label: string; mean: number; std: number }[] = classes.map((label, i) => {
    const seeds = [0, 1, 2].map(() => 0.62 + 0.03 * i + rng.normal(0, 0.02));
    const { mean, std } = meanStd(seeds);
    return { label, mean, std };
  });
  aucRows.push({ label: 'Hernia', mean: NaN, std: NaN });
  const aucChart = barChart({
    title: 'Zero-shot AUC per class, mean ± std over 3 seeds (synthetic)',
    bars: aucRows.map((r) => ({ label: r.label, value: Number.isFinite(r.mean) ? r.mean : null, error: Number.isFinite(r.std) ? r.std : null })),
    valueLabel: 'AUC',
    domain: [0, 1],
    reference: { value: 0.5, label: 'chance' },
    width: 600,
  });

  // ---- synthetic ROC curves -------------------------------------------------------------
  const rocCurves = [
    { name: 'Pneumothorax', sep: 1.6 },
    { name: 'Effusion', sep: 1.0 },
    { name: 'Nodule', sep: 0.4 },
  ].map(({ name, sep }) => {
    const labels: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < 400; i++) {
      const y = rng.bernoulli(0.3) ? 1 : 0;
      labels.push(y);
      scores.push(rng.normal(y * sep, 1));
    }
    return { name, ...rocPoints(scores, labels), auc: rocAuc(scores, labels) };
  });
  const roc = rocChart({ title: 'ROC, synthetic scores', curves: rocCurves });

  // ---- real: intensity histograms of NIH vs COVID radiographs ----------------------------
  const nihFiles = fs.readdirSync(path.join(data, 'nih_cxr14_bbox', 'images')).sort().slice(0, 12);
  const covidMeta = readCsv(path.join(data, 'covid_chestxray_ieee8023', 'metadata.csv'));
  const covidFiles = covidMeta.filter((r) => r.mask_v7labs).slice(0, 12);
  const pixels = async (files: string[]) => {
    const all: number[] = [];
    for (const f of files) {
      const { image } = await loadImage(f);
      for (let i = 0; i < image.data.length; i += 7) all.push(image.data[i]! / image.maxValue);
    }
    return Float32Array.from(all);
  };
  const hist = histogramChart({
    title: 'Pixel intensities (12 images each, every 7th pixel)',
    xLabel: 'intensity (0 = black, 1 = white)',
    bins: 64,
    width: 580,
    range: [0, 1],
    series: [
      { name: 'NIH ChestX-ray14', values: await pixels(nihFiles.map((f) => path.join(data, 'nih_cxr14_bbox', 'images', f))) },
      { name: 'COVID-19 image collection', values: await pixels(covidFiles.map((r) => path.join(data, 'covid_chestxray_ieee8023', r.image!))) },
    ],
  });

  // ---- real radiograph + expert box, synthetic attention map, its pseudo mask -------------
  const boxes = readCsv(path.join(data, 'nih_cxr14_bbox', 'bbox.csv'));
  const pick = boxes.filter((b) => b['Finding Label'] === 'Cardiomegaly')[3]!;
  const { image: nihImg } = await loadImage(path.join(data, 'nih_cxr14_bbox', pick.image!));
  const base = grayImageToRgba(nihImg);
  const bx = [Number(pick.x), Number(pick.y), Number(pick.x) + Number(pick.w), Number(pick.y) + Number(pick.h)] as const;
  // an 8×8 "attention map" peaking at the box centre (synthetic; the model's comes from AttentionPool2d)
  const G = 8;
  const cx = ((bx[0] + bx[2]) / 2 / base.width) * G - 0.5;
  const cy = ((bx[1] + bx[3]) / 2 / base.height) * G - 0.5;
  const att = new Float32Array(G * G);
  for (let y = 0; y < G; y++) for (let x = 0; x < G; x++) att[y * G + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 3) + 0.15 * rng.next();
  // pseudo mask as the processor builds it: nearest upsampling, > the 0.85 quantile
  const sorted = Array.from(att).sort((a, b) => a - b);
  const pos = 0.85 * (sorted.length - 1);
  const q = sorted[Math.floor(pos)]! + (pos - Math.floor(pos)) * (sorted[Math.ceil(pos)]! - sorted[Math.floor(pos)]!);
  const pseudo = { width: G, height: G, data: Array.from(att, (v) => (v > q ? 1 : 0)) };
  const heat = overlayHeatmap(base, { width: G, height: G, data: att }, { alpha: 0.45, colormap: 'jet' });
  const heatViridis = overlayHeatmap(base, { width: G, height: G, data: att }, { alpha: 0.5, colormap: 'inferno', threshold: 0.35 });
  const maskFill = overlayMask(base, pseudo, { color: [255, 200, 0], alpha: 0.35 });
  const withBox = drawBox(overlayMask(base, pseudo, { color: [255, 200, 0], outline: true, outlineWidth: 3 }), bx, [0, 255, 80], 3);

  // ---- real: COVID radiograph with its human (V7) lung mask ------------------------------
  const cv = covidFiles[0]!;
  const { image: cimg } = await loadImage(path.join(data, 'covid_chestxray_ieee8023', cv.image!));
  const { image: cmask } = await loadImage(path.join(data, 'covid_chestxray_ieee8023', cv.mask_v7labs!));
  const cbase = grayImageToRgba(cimg);
  const lungMask = { width: cmask.width, height: cmask.height, data: cmask.data };
  const lungFill = overlayMask(cbase, lungMask, { color: [0, 160, 255], alpha: 0.35 });
  const lungOutline = overlayMask(cbase, lungMask, { color: [0, 220, 120], outline: true, outlineWidth: 2 });

  // ---- a grid of NIH images with their boxes and labels (the report-beside-image layout) ---
  const gridCells = [];
  for (const b of boxes.slice(0, 40).filter((_, i) => i % 5 === 0)) {
    const { image } = await loadImage(path.join(data, 'nih_cxr14_bbox', b.image!));
    const im = drawBox(grayImageToRgba(image), [Number(b.x), Number(b.y), Number(b.x) + Number(b.w), Number(b.y) + Number(b.h)], [255, 60, 60], 3);
    const entry = entries.find((e) => e['Image Index'] === b['Image Index']);
    gridCells.push({
      image: fitRgba(im, 256),
      caption: `${b['Image Index']}: ${b['Finding Label']}`,
      text: entry ? `Labels: ${entry['Finding Labels']}\nPatient ${entry['Patient ID']}, ${entry['Patient Age']} y, ${entry['Patient Gender']}, ${entry['View Position']}` : '',
    });
  }
  const tiled: Rgba = tile([base, heat, maskFill, withBox].map((im) => fitRgba(im, 200)), 4, 6);

  // ---- tables ------------------------------------------------------------------------------
  const headers = ['class', 'AUC (mean ± std)', 'n seeds', 'note <raw & "quoted">'];
  const rows = aucRows.map((r) => [r.label, formatMeanStd(r.mean, r.std), 3, r.label === 'Hernia' ? 'no positives | undefined' : null]);
  const md = markdownTable(headers, rows, { align: ['left', 'right', 'right', 'left'] });

  const page = htmlPage({
    title: '@g2d-ts/viz demo',
    subtitle: 'Every chart and overlay type. Radiographs, boxes, masks, histograms and label counts are real (../shared/data); curves, scores and the attention map are synthetic.',
    sections: [
      {
        title: 'Training curves',
        body: [
          figure({ svg: lossChart, caption: 'EMA smoothing 0.95 over faint raw values; a NaN gap at steps 9000–9400; one spike at step 12000 survives decimation; PS starts after 200 steps.' }),
          figureRow([figure({ svg: lrChart }), figure({ svg: accChart })]),
          figureRow([figure({ svg: ipsChart })]),
        ],
      },
      {
        title: 'Scores',
        body: [figureRow([figure({ svg: aucChart, caption: 'Hernia has no value (n/a): no bar.' }), figure({ svg: roc })]), figureRow([figure({ svg: countChart }), figure({ svg: hist })])],
      },
      {
        title: 'Overlays on a real radiograph',
        body: [
          paragraph(`NIH ${pick['Image Index']} (${pick['Finding Label']}, expert box in green). The 8×8 attention map is synthetic; the pseudo mask is its 0.85 quantile, as the processor builds it.`),
          imageGrid(
            [
              { image: fitRgba(base, 320), caption: 'radiograph' },
              { image: fitRgba(heat, 320), caption: 'attention, jet, α 0.45' },
              { image: fitRgba(heatViridis, 320), caption: 'attention, inferno, threshold 0.35' },
              { image: fitRgba(maskFill, 320), caption: 'pseudo mask, filled' },
              { image: fitRgba(withBox, 320), caption: 'pseudo mask outline + expert box' },
              { image: fitRgba(lungFill, 320), caption: `COVID ${path.basename(cv.image!)}: V7 lung mask, filled` },
              { image: fitRgba(lungOutline, 320), caption: 'same, outline 2 px' },
              { image: grayToRgba(att, G, G, { range: 'minmax' }), caption: 'the 8×8 map itself (pixelated)', pixelated: true },
            ],
            { columns: 4 },
          ),
          figure({ image: tiled, caption: 'tile(): four overlays in one PNG' }),
        ],
      },
      { title: 'Image grid with text', body: imageGrid(gridCells, { columns: 4 }) },
      {
        title: 'Tables',
        body: [
          htmlTable(rows, headers, { caption: 'htmlTable (text escaped; numbers right-aligned)' }),
          keyValueTable({ 'images in NIH subset': entries.length, 'expert boxes': boxes.length, 'demo seed': 'viz-demo', 'time to build (s)': null }),
          details('markdownTable output', preformatted(md), true),
        ],
      },
    ],
    footer: 'Generated by tools/viz/demo.ts. No scripts, no external requests.',
  });

  writeFileAtomic(path.join(out, 'index.html'), page);
  writeFileAtomic(path.join(out, 'results.md'), md);
  for (const [name, svg] of Object.entries({ loss: lossChart, lr: lrChart, acc: accChart, ips: ipsChart, auc: aucChart, counts: countChart, roc, hist })) {
    writeFileAtomic(path.join(out, `${name}.svg`), svg);
  }
  writeFileAtomic(path.join(out, 'overlays.png'), encodePng(tiled));
  console.log(`wrote ${path.join(out, 'index.html')} (${(page.length / 1024).toFixed(0)} KiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
