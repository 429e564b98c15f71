/**
 * `report.html` of a run: self-contained and offline (inline SVG charts, images as data URIs).
 * Curves from metrics.jsonl, validation from val.jsonl, and — computed now from the newest
 * weights (`final/`, else `latest/`, written at each epoch end) — the paper's Figure 4 for a
 * few validation images (attention, pseudo mask and decoder output overlaid, report beside)
 * and retrieval examples. Rebuildable at any time, also while the run trains.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { createModelWithWeights, type G2DModel } from '@g2d-ts/model';
import { writeFileAtomic, readMetrics } from '@g2d-ts/train';
import {
  barChart, escapeHtml, figure, figureRow, fitRgba, grayToRgba, htmlPage, htmlTable, imageGrid, keyValueTable, lineChart, overlayHeatmap, overlayMask, paragraph,
  type GridCell, type HtmlContent, type Section,
} from '@g2d-ts/viz';
import { PretrainConfigSchema } from './config';
import { openPairs, type PairItem, type PairSet } from './data';
import { prepareImages, validate, type StoredPseudoMaskScore, type ValidationSummary } from './evaluate';
import { describeLearning, learningSummary } from './learning';

export interface ReportOptions {
  model?: G2DModel;
  pairs?: PairSet;
  log?: (l: string) => void;
}

function readJsonl(file: string): Record<string, unknown>[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line torn by a kill
      }
    });
}

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : `${(100 * v).toFixed(1)}%`);

function curves(out: string): string[] {
  const rows = readMetrics(path.join(out, 'metrics.jsonl')) as Record<string, number | null>[];
  if (!rows.length) return [];
  const x = rows.map((r) => Number(r.step));
  const col = (k: string) => rows.map((r) => (typeof r[k] === 'number' && Number.isFinite(r[k]) ? (r[k] as number) : null));
  const smooth = rows.length > 50 ? 0.8 : 0;
  return [
    lineChart({ width: 560, height: 300, title: 'Loss terms', xLabel: 'step', yLabel: 'loss', smoothing: smooth, series: [{ name: 'total', x, y: col('loss') }, { name: 'VLA', x, y: col('vla') }, { name: 'PS', x, y: col('ps') }] }),
    lineChart({ width: 560, height: 300, title: 'In-batch retrieval accuracy (%)', xLabel: 'step', yLabel: '%', smoothing: smooth, series: [{ name: 'top-1', x, y: col('acc1') }, { name: 'top-5', x, y: col('acc5') }] }),
    lineChart({ width: 560, height: 300, title: 'Learning rate', xLabel: 'step', yLabel: 'lr', logY: true, series: [{ name: 'lr', x, y: col('lr') }] }),
    lineChart({ width: 560, height: 300, title: 'Throughput (images/s)', xLabel: 'step', yLabel: 'images/s', smoothing: smooth, series: [{ name: 'images/s', x, y: col('imagesPerSec') }] }),
    lineChart({ width: 560, height: 300, title: 'Memory: RSS (MiB)', xLabel: 'step', yLabel: 'MiB', series: [{ name: 'RSS', x, y: col('rssMiB') }] }),
    lineChart({ width: 560, height: 300, title: 'Live tensors', xLabel: 'step', yLabel: 'tensors', series: [{ name: 'tf.memory().numTensors', x, y: col('numTensors') }] }),
  ];
}

function sigmoidPlane(logits: Float32Array, S: number) {
  const d = new Float32Array(S * S);
  for (let i = 0; i < d.length; i++) d[i] = 1 / (1 + Math.exp(-logits[i]!));
  return { width: S, height: S, data: d };
}

async function figure4(model: G2DModel, items: PairItem[]): Promise<GridCell[]> {
  const S = model.config.imageSize;
  const images = await prepareImages(model, items);
  const att = model.attentionMap(images);
  const pm = model.pseudoMask(att, images);
  const seg = model.segment(images);
  const [, H, h, w] = att.shape;
  const attMean = tf.tidy(() => tf.mean(att, 1));
  const attData = attMean.dataSync() as Float32Array;
  const pmData = pm.dataSync() as Float32Array;
  const segData = seg.dataSync() as Float32Array;
  tf.dispose([images, att, pm, seg, attMean]);
  const cells: GridCell[] = [];
  for (const [k, it] of items.entries()) {
    const gray = await it.load();
    const base = grayToRgba(gray, S, S);
    const heat = { width: w, height: h, data: attData.slice(k * h * w, (k + 1) * h * w) };
    const pseudo = { width: S, height: S, data: Uint8Array.from(pmData.subarray(k * S * S, (k + 1) * S * S), (v) => (v > 0.5 ? 1 : 0)) };
    let a = overlayHeatmap(base, heat, { alpha: 0.5, colormap: 'jet', normalize: true });
    let b = overlayMask(base, pseudo, { color: [255, 200, 0], alpha: 0.35 });
    const truth = it.masks?.();
    if (truth) for (const m of truth.values()) b = overlayMask(b, { width: S, height: S, data: m }, { color: [0, 255, 120], outline: true, outlineWidth: 1 });
    const c = overlayHeatmap(base, sigmoidPlane(segData.subarray(k * S * S, (k + 1) * S * S) as Float32Array, S), { alpha: 0.5, colormap: 'inferno', normalize: false });
    a = fitRgba(a, 200);
    cells.push({ image: a, caption: `${it.id}: attention (mean of ${H} heads)` });
    cells.push({ image: fitRgba(b, 200), caption: `pseudo mask (yellow)${truth?.size ? ' · true findings (green outline)' : ''}` });
    cells.push({ image: fitRgba(c, 200), caption: 'decoder output σ(logits)' });
    cells.push({ caption: it.findings ? `findings: ${it.findings.join(', ') || 'none (normal)'}` : 'report', text: it.text });
  }
  return cells;
}

function retrievalExamples(sim: Float32Array, items: PairItem[], k: number): HtmlContent {
  const N = items.length;
  const rows: string[][] = [];
  for (let i = 0; i < Math.min(k, N); i++) {
    const order = [...Array(N).keys()].sort((a, b) => sim[i * N + b]! - sim[i * N + a]!);
    for (const [r, j] of order.slice(0, 3).entries()) {
      rows.push([r === 0 ? items[i]!.id : '', String(r + 1), sim[i * N + j]!.toFixed(3), j === i ? '✓ (its own report)' : '', items[j]!.text.slice(0, 220)]);
    }
  }
  return htmlTable(rows, ['image', 'rank', 'similarity', '', 'retrieved report']);
}

/** Writes `<out>/report.html`; returns its path. */
/** a signed difference with 4 decimals */
function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
}

/** whether `a` beats `b`, and whether the bootstrap interval of the difference clears 0 */
export function beats(a: number, b: number, ci?: [number, number]): string {
  if (!(a > b)) return ci && ci[1] < 0 ? 'no, clearly' : 'no';
  if (!ci) return 'yes';
  return ci[0] > 0 ? 'yes, clearly' : 'yes, within noise';
}

export async function writeReport(outDir: string, opts: ReportOptions = {}): Promise<string> {
  const out = path.resolve(outDir);
  const log = opts.log ?? (() => undefined);
  const runFile = path.join(out, 'run.json');
  if (!fs.existsSync(runFile)) throw new G2DError('not a pretraining run folder (no run.json)', { source: out });
  const run = JSON.parse(fs.readFileSync(runFile, 'utf8')) as { config: unknown; model: { name: string; recipe: string; imageSize: number }; data: { name: string; train: number; val: number; notes: string[] }; totalSteps: number; backend: string };
  const cfg = PretrainConfigSchema.parse(run.config);
  let model = opts.model;
  let owned = false;
  if (!model) {
    const w = ['final', 'latest'].map((d) => path.join(out, d)).find((d) => fs.existsSync(path.join(d, 'model.safetensors')));
    if (w) {
      model = (await createModelWithWeights(undefined, w)).model;
      owned = true;
      log(`report: weights from ${w}`);
    }
  }
  const sections: Section[] = [];
  const metrics = readMetrics(path.join(out, 'metrics.jsonl'));
  const last = metrics[metrics.length - 1] as Record<string, number> | undefined;
  sections.push({
    title: 'Run',
    body: keyValueTable([
      ['model', `${run.model.name} (recipe ${run.model.recipe}, ${run.model.imageSize}²)`],
      ['data', `${run.data.name}: ${run.data.train} training / ${run.data.val} validation pairs`],
      ['steps', `${last ? last.step + 1 : 0} of ${run.totalSteps}${last ? ` (epoch ${last.epoch})` : ''}`],
      ['batch', String(cfg.train.batchSize)],
      ['optimizer', `AdamW lr ${cfg.train.lr}, weight decay ${cfg.train.weightDecay}; scheduler ${cfg.train.scheduler.kind}`],
      ['backend', run.backend],
      ...(run.data.notes.map((n) => ['note', n]) as [string, string][]),
    ]),
  });
  if (metrics.length) {
    sections.push({ title: 'Did it learn?', body: htmlTable(describeLearning(learningSummary(metrics as Record<string, unknown>[])).map((l) => [l]), ['from metrics.jsonl']) });
  }
  const charts = curves(out);
  if (charts.length) sections.push({ title: 'Training curves', body: figureRow(charts.map((svg) => figure({ svg }))) });
  const val = readJsonl(path.join(out, 'val.jsonl')) as unknown as (ValidationSummary & { epoch: number; step: number })[];
  if (val.length) {
    const att = (v: ValidationSummary) => (v.attention ? [v.attention.peak.toFixed(2), v.attention.entropy.toFixed(3)] : ['—', '—']);
    const rows = val.map((v) => [String(v.epoch), String(v.step), String(v.n), pct(v.i2tTop1), pct(v.i2tTop5), pct(v.t2iTop1), pct(v.chance), pct(v.findingsMatchTop1), pct(v.findingsMatchChance), ...att(v)]);
    const body: HtmlContent[] = [];
    body.push(htmlTable(rows, ['epoch', 'steps', 'pairs', 'image→report top-1', 'top-5', 'report→image top-1', 'chance (top-1)', 'same findings', 'chance (same findings)', 'attention peak (1 = uniform)', 'attention entropy (1 = uniform)']));
    if (val.some((v) => v.attention)) {
      body.push(paragraph('Attention: the mean-of-heads attention-pooling weights over the cells, renormalised; "peak" is the largest weight times the number of cells, "entropy" the entropy over ln(cells). Both are 1 for a uniform map. The pseudo mask is the top of this map, so while it is nearly flat the pseudo masks carry little about where the findings are.'));
    }
    const lastVal = val[val.length - 1]!;
    const meanMap = lastVal.attention?.mean;
    if (meanMap?.length) {
      body.push(paragraph(
        `Where the attention sits on average (last epoch, ${lastVal.attention!.n ?? lastVal.n} held-out images): the mean of the renormalised mean-of-heads maps, times the number of cells (1 = uniform), laid out as the image (top row = top of the image). ` +
          'Cells well above 1 everywhere are a location prior: the pseudo masks of every image fall there, whatever the image shows.',
      ));
      body.push(htmlTable(meanMap.map((row, r) => [`row ${r + 1}`, ...row.map((v) => v.toFixed(2))]), ['', ...meanMap[0]!.map((_, c) => `column ${c + 1}`)]));
    }
    if (lastVal.pseudoMaskIoU) {
      const e = Object.entries(lastVal.pseudoMaskIoU);
      const hasOther = e.every(([, v]) => typeof v.other === 'number');
      body.push(paragraph(
        'Pseudo masks on the findings (held-out synthetic images with that finding): mean IoU of the pseudo mask with the true finding mask, against a random mask of the same area on the same attention grid' +
          (hasOther ? ", and against the pseudo masks of other validation images (a fixed location prior, e.g. attention that always sits on the heart, scores this without looking at the image; beating it means the mask follows this image's content)." : '.'),
      ));
      const f4 = (x: number) => x.toFixed(4);
      const mean = (f: (v: (typeof e)[number][1]) => number) => e.reduce((a, [, v]) => a + f(v), 0) / e.length;
      const wins = e.filter(([, v]) => v.pseudo > v.random).length;
      const sure = e.filter(([, v]) => v.ciRandom && v.ciRandom[0] > 0).length;
      const winsOther = e.filter(([, v]) => hasOther && v.pseudo > v.other!).length;
      const hasCI = e.every(([, v]) => v.ciRandom);
      const row = (k: string, v: StoredPseudoMaskScore) => [
        k,
        String(v.n),
        f4(v.pseudo),
        f4(v.random),
        ...(hasOther ? [typeof v.other === 'number' ? f4(v.other) : '—'] : []),
        ...(hasCI ? [v.ciRandom ? `${signed(v.pseudo - v.random)} [${signed(v.ciRandom[0])}, ${signed(v.ciRandom[1])}]` : '—'] : []),
        beats(v.pseudo, v.random, v.ciRandom),
        ...(hasOther ? [typeof v.other === 'number' ? beats(v.pseudo, v.other, v.ciOther) : '—'] : []),
      ];
      body.push(htmlTable(
        [
          ...e.map(([k, v]) => row(k, v)),
          [
            'mean of the findings',
            String(e.reduce((a, [, v]) => a + v.n, 0)),
            f4(mean((v) => v.pseudo)),
            f4(mean((v) => v.random)),
            ...(hasOther ? [f4(mean((v) => v.other!))] : []),
            ...(hasCI ? [signed(mean((v) => v.pseudo - v.random))] : []),
            `${wins} of ${e.length}${hasCI ? ` (${sure} with the interval above 0)` : ''}`,
            ...(hasOther ? [`${winsOther} of ${e.length}`] : []),
          ],
          ...(lastVal.pseudoMaskAny ? [row('any finding (pooled: the union of its masks)', lastVal.pseudoMaskAny)] : []),
        ],
        [
          'finding',
          'images',
          'pseudo-mask IoU',
          'random-mask IoU',
          ...(hasOther ? ["other images' masks IoU"] : []),
          ...(hasCI ? ['pseudo − random [95 % bootstrap interval]'] : []),
          'beats random',
          ...(hasOther ? ["beats other images' masks"] : []),
        ],
      ));
      if (hasCI) {
        body.push(paragraph(
          '"yes, clearly": the 95 % bootstrap interval of the mean difference (resampling the images) lies above 0; "yes, within noise": the mean is higher but the interval includes 0; "no": the mean is not higher. ' +
            `Scored on ${lastVal.attention?.n ?? lastVal.n} held-out images.`,
        ));
      }
      body.push(figure({
        svg: barChart({
          title: hasOther ? "Pseudo-mask IoU vs random and other images' masks (last epoch)" : 'Pseudo-mask IoU vs random (last epoch)',
          horizontal: true,
          bars: e.flatMap(([k, v]) => [
            { label: `${k} · pseudo`, value: v.pseudo },
            { label: `${k} · random`, value: v.random },
            ...(hasOther ? [{ label: `${k} · other images`, value: v.other! }] : []),
          ]),
        }),
      }));
    }
    sections.push({ title: 'Validation (held-out patients)', body });
  }
  if (model) {
    let pairs = opts.pairs;
    try {
      pairs ??= openPairs(cfg, model.config.imageSize);
    } catch (e) {
      log(`report: data not available for the figures (${(e as Error).message})`);
    }
    if (pairs && pairs.val.length) {
      const items = pairs.val.slice(0, Math.max(1, cfg.report.samples));
      sections.push({
        title: 'What the model sees (the paper\'s Figure 4)',
        body: [paragraph('Validation images: the attention-pooling map (mean of the heads), the parameter-free pseudo mask made from it (the PS target), and the U-Net decoder\'s output; the report beside.'), imageGrid(await figure4(model, items), { columns: 4 })],
      });
      if (cfg.report.retrievalExamples > 0 && pairs.val.length >= 2) {
        const vItems = pairs.val.slice(0, Math.min(cfg.data.maxVal, 64));
        const v = await validate(model, vItems, { seed: cfg.train.seed, masks: 0 }); // retrieval only
        sections.push({ title: `Retrieval examples (top 3 of ${vItems.length} validation reports)`, body: retrievalExamples(v.similarity, vItems, cfg.report.retrievalExamples) });
      }
    }
  } else {
    sections.push({ title: 'Figures', body: paragraph('No weights yet (they are written at the end of each epoch): rebuild the report later.') });
  }
  if (owned) model?.dispose();
  const page = htmlPage({ title: `G2D pretraining — ${escapeHtml(cfg.name)}`, sections });
  const file = path.join(out, 'report.html');
  await writeFileAtomic(file, page);
  return file;
}
