/**
 * Zero-shot grounding: for every (image, finding) with a ground-truth region, the similarity
 * between the finding's prompt embedding (`model.encodeText` of its positive prompts from the
 * @g2d-ts/heads prompt file, averaged and re-normalised) and each projected bottleneck cell
 * (`model.patchEmbeddings`), upsampled bilinearly to the stored image's pixels (the map's
 * minimum outside the preprocessing crop). Metrics per case, at the stored size:
 *
 * - pointing game: is the map's maximum inside the region (1/0);
 * - IoU and Dice of the region {map ≥ threshold} (map min-max normalised per image, threshold
 *   0.5 by default) with the ground truth;
 * - chance: the region's share of the image (a uniformly random point's hit rate).
 *
 * Regions: boxes grouped by label (NIH expert boxes; RSNA's boxes go to its one class), masks
 * (SIIM; the prompt set's one class), the synthetic findings' exact masks.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import type { ItemRef } from '@g2d-ts/data';
import { csvField, denseSplits, loadDenseData, loadDenseItem, mapToStored, resultsData, startEvalRun, toInputTensor, transformKey, writeFileAtomicSync, writeResultsJson, writeResultsMd, writeText, type DenseItem, type EvalRunOptions, type LoadedDataset } from '@g2d-ts/eval';
import { defaultPrompts, loadPrompts, type PromptSet } from '@g2d-ts/heads';
import { dice, maskIou, pointingHit } from '@g2d-ts/metrics';
import type { G2DModel } from '@g2d-ts/model';
import { Progress } from '@g2d-ts/train';
import { barChart, drawBox, encodePng, fitRgba, grayImageToRgba, htmlPage, imageGrid, markdownTable, overlayHeatmap, overlayMask, tile, type Rgba } from '@g2d-ts/viz';
import type { GroundConfig } from './config';

export interface CaseResult {
  image: string;
  finding: string;
  hit: number;
  iou: number;
  dice: number;
  /** region's share of the image (chance of the pointing game) */
  area: number;
}

export interface GroundRunResult {
  out: string;
  cases: number;
  perFinding: Record<string, { n: number; pointing: number; iou: number; dice: number; chance: number }>;
  overall: { n: number; pointing: number; iou: number; dice: number; chance: number };
}

const ANATOMY = new Set(['lungs', 'heart']);

/** Ground-truth regions (stored size, 0/1) of one item by finding name (see the module comment). */
export function regionsOf(item: DenseItem, classes: readonly string[], skipped: Map<string, number>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const single = classes.length === 1 ? classes[0]! : undefined;
  const W = item.width;
  const H = item.height;
  if (item.findingMasks) {
    for (const [f, m] of item.findingMasks) {
      if (ANATOMY.has(f)) continue;
      if (classes.includes(f)) out.set(f, m);
      else skipped.set(f, (skipped.get(f) ?? 0) + 1);
    }
    return out;
  }
  if (item.boxes?.length) {
    for (const b of item.boxes) {
      const f = b.label && classes.includes(b.label) ? b.label : single;
      if (!f) {
        skipped.set(b.label ?? '(no label)', (skipped.get(b.label ?? '(no label)') ?? 0) + 1);
        continue;
      }
      const m = out.get(f) ?? new Uint8Array(W * H);
      const x0 = Math.max(0, Math.round(b.box[0]));
      const y0 = Math.max(0, Math.round(b.box[1]));
      const x1 = Math.min(W, Math.round(b.box[2]));
      const y1 = Math.min(H, Math.round(b.box[3]));
      for (let y = y0; y < y1; y++) m.fill(1, y * W + x0, y * W + Math.max(x0, x1));
      out.set(f, m);
    }
    return out;
  }
  if (item.mask && single && item.mask.some((v) => v > 0)) out.set(single, item.mask);
  return out;
}

/** The finding's text embedding: mean of its L2-normalised positive prompt embeddings, re-normalised [D]. */
export function promptEmbedding(model: G2DModel, prompts: readonly string[]): Float32Array {
  const e = tf.tidy(() => {
    const t = model.encodeText([...prompts]);
    const m = tf.mean(t, 0);
    return tf.div(m, tf.maximum(tf.norm(m), 1e-12));
  });
  const v = e.dataSync() as Float32Array;
  e.dispose();
  return Float32Array.from(v);
}

/** Similarity maps [h·w] per image and finding embedding: cosine of each projected cell with the prompt. */
export function similarityMaps(model: G2DModel, x: tf.Tensor4D, embeddings: readonly Float32Array[]): { h: number; w: number; maps: Float32Array[][] } {
  const p = model.patchEmbeddings(x);
  const [B, h, w, D] = p.shape;
  const s = tf.tidy(() => tf.matMul(tf.reshape(p, [B * h * w, D]), tf.tensor2d(embeddings.map((e) => Array.from(e)), [embeddings.length, D]), false, true));
  p.dispose();
  const v = s.dataSync() as Float32Array;
  s.dispose();
  const K = embeddings.length;
  const maps: Float32Array[][] = [];
  for (let b = 0; b < B; b++) {
    const per: Float32Array[] = [];
    for (let k = 0; k < K; k++) {
      const m = new Float32Array(h * w);
      for (let i = 0; i < h * w; i++) m[i] = v[(b * h * w + i) * K + k]!;
      per.push(m);
    }
    maps.push(per);
  }
  return { h, w, maps };
}

/** The grid map upsampled to the stored image (bilinear inside the crop, the map's minimum outside). */
export function heatToStored(grid: Float32Array, gh: number, item: DenseItem): Float32Array {
  let mn = Infinity;
  for (const v of grid) mn = Math.min(mn, v);
  return mapToStored(grid, { width: item.width, height: item.height, crop: item.crop, size: gh }, mn);
}

/** Pointing hit, IoU and Dice of one stored-size heat map against a region. */
export function scoreCase(heat: Float32Array, region: Uint8Array, threshold: number): { hit: number; iou: number; dice: number; area: number } {
  let mn = Infinity;
  let mx = -Infinity;
  for (const v of heat) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const span = mx - mn;
  const norm = new Float32Array(heat.length);
  for (let i = 0; i < heat.length; i++) norm[i] = span > 0 ? (heat[i]! - mn) / span : 0;
  let area = 0;
  for (const v of region) area += v > 0 ? 1 : 0;
  // ≥ threshold (dice/maskIou binarise with >, so shift by a hair below)
  const thr = threshold - 1e-7;
  return { hit: pointingHit(heat, region), iou: maskIou(norm, region, { threshold: thr }), dice: dice(norm, region, { threshold: thr }), area: area / region.length };
}

function mean(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

function summarize(cases: CaseResult[]): { n: number; pointing: number; iou: number; dice: number; chance: number } {
  return { n: cases.length, pointing: mean(cases.map((c) => c.hit)), iou: mean(cases.map((c) => c.iou)), dice: mean(cases.map((c) => c.dice)), chance: mean(cases.map((c) => c.area)) };
}

function sampleIndices(n: number, k: number): Set<number> {
  const m = Math.min(n, k);
  return new Set(Array.from({ length: m }, (_, i) => Math.floor(((i + 0.5) * n) / m)));
}

export async function runGrounding(cfg: GroundConfig, opts: EvalRunOptions): Promise<GroundRunResult> {
  const log = opts.log;
  const { timer, out, model, info, t } = await startEvalRun('eval-grounding', cfg, opts, { tag: 'grounding' });
  if (info.loadedParts && !info.loadedParts.includes('lm_model')) {
    log(`[grounding] warning: ${info.path} holds no text encoder (${info.checkpointKind}); the prompt embeddings come from random text weights`);
  }

  // data and cases
  const { data, test } = loadDenseData(cfg, { log });
  let refs: ItemRef[];
  let evalData: LoadedDataset;
  let splitNote: string;
  let sizes: Record<string, { images: number; patients: number }> | undefined;
  if (cfg.grounding.split === 'test') {
    const split = denseSplits(cfg, data, test);
    refs = split.splits.test;
    evalData = test ?? data;
    sizes = split.sizes;
    splitNote = test ? `every image of ${cfg.test}` : `the held-out test split (${split.splits.source})`;
  } else {
    evalData = test ?? data;
    refs = evalData.index.items;
    splitNote = `every image of ${test ? cfg.test : cfg.dataset} (zero-shot: nothing is trained)`;
  }
  const setName = cfg.grounding.promptSet ?? evalData.spec.adapter;
  const promptFile = cfg.grounding.prompts ? loadPrompts(path.resolve(opts.cwd, cfg.grounding.prompts)) : defaultPrompts();
  const promptSource = cfg.grounding.prompts ?? '@g2d-ts/heads prompts/zero-shot.json';
  const set: PromptSet | undefined = promptFile.sets[setName];
  if (!set) throw new G2DError(`no prompt set "${setName}" (sets: ${Object.keys(promptFile.sets).join(', ')}); pass --set grounding.promptSet=<set> or a prompt file`, { source: promptSource });
  let classes = Object.keys(set);
  if (cfg.grounding.findings) {
    const bad = cfg.grounding.findings.filter((f) => !classes.includes(f));
    if (bad.length) throw new G2DError(`grounding.findings: ${bad.join(', ')} not in prompt set "${setName}" (${classes.join(', ')})`, { source: promptSource });
    classes = cfg.grounding.findings;
  }
  const embeddings = classes.map((c) => promptEmbedding(model, set[c]!.positive));
  log(`[grounding] ${refs.length} images of ${evalData.displayName} (${splitNote}); prompts: set "${setName}" of ${promptSource}, ${classes.length} findings`);

  // evaluation
  const cases: CaseResult[] = [];
  const skipped = new Map<string, number>();
  const heatSamples: { item: DenseItem; finding: string; heat: Float32Array; region: Uint8Array; res: CaseResult }[] = [];
  const synth = evalData.spec.adapter === 'synthetic';
  const bar = new Progress({ total: refs.length, label: 'grounding' });
  // overlays: a spread over the images that have a region (decided after the pass from the case list would need a second pass; sample images up front instead)
  const pickImages = sampleIndices(refs.length, cfg.output.overlays * 3);
  await timer.time('evaluate', async () => {
    try {
      for (let s = 0; s < refs.length; s += cfg.inferenceBatchSize) {
        const batch = refs.slice(s, s + cfg.inferenceBatchSize);
        const items: DenseItem[] = [];
        for (let k = 0; k < batch.length; k++) {
          items.push(await loadDenseItem(batch[k]!, { size: t.size, variant: t.variant, mask: !synth, findingMasks: synth, root: evalData.spec.root, keepImage: pickImages.has(s + k) }));
        }
        const regions = items.map((it) => regionsOf(it, classes, skipped));
        const keep = items.map((_, k) => k).filter((k) => regions[k]!.size > 0);
        if (keep.length) {
          const x = toInputTensor(keep.map((k) => items[k]!.image), t);
          const { h, maps } = similarityMaps(model, x, embeddings);
          x.dispose();
          keep.forEach((k, j) => {
            const it = items[k]!;
            for (const [f, region] of regions[k]!) {
              const heat = heatToStored(maps[j]![classes.indexOf(f)]!, h, it);
              const r = scoreCase(heat, region, cfg.grounding.threshold);
              const res: CaseResult = { image: it.name, finding: f, ...r };
              cases.push(res);
              if (it.stored && heatSamples.length < cfg.output.overlays) heatSamples.push({ item: it, finding: f, heat, region, res });
            }
          });
        }
        bar.update({ step: Math.min(refs.length, s + cfg.inferenceBatchSize), epoch: 0 });
      }
    } finally {
      bar.done();
    }
  });
  model.dispose();
  if (skipped.size) log(`[grounding] regions without prompts (left out): ${[...skipped].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (!cases.length) throw new G2DError(`no (image, finding) pair with a ground-truth region among ${refs.length} images of ${evalData.displayName}`, { source: evalData.spec.root ?? evalData.spec.adapter });

  // outputs
  const perFinding: GroundRunResult['perFinding'] = {};
  for (const c of classes) {
    const mine = cases.filter((x) => x.finding === c);
    if (mine.length) perFinding[c] = summarize(mine);
  }
  const overall = summarize(cases);
  writeText(path.join(out, 'per_case.csv'), ['image,finding,hit,iou,dice,area', ...cases.map((c) => [c.image, c.finding, c.hit, c.iou, c.dice, c.area].map((v) => csvField(v)).join(','))].join('\n') + '\n');
  const cells: { image: Uint8Array; caption: string }[] = [];
  const thumbs: Rgba[] = [];
  for (const sm of heatSamples) {
    const it = sm.item;
    let o = grayImageToRgba(it.stored!);
    o = overlayHeatmap(o, { width: it.width, height: it.height, data: sm.heat }, { alpha: 0.45, colormap: 'jet' });
    o = overlayMask(o, sm.region, { color: [255, 255, 255], outline: true, outlineWidth: Math.max(1, Math.round(it.width / 256)) });
    let arg = 0;
    for (let i = 1; i < sm.heat.length; i++) if (sm.heat[i]! > sm.heat[arg]!) arg = i;
    const px = arg % it.width;
    const py = Math.floor(arg / it.width);
    const r = Math.max(3, Math.round(it.width / 64));
    o = drawBox(o, [px - r, py - r, px + r, py + r], sm.res.hit ? [0, 255, 0] : [255, 0, 255], Math.max(1, Math.round(r / 3)));
    const png = encodePng(o);
    writeFileAtomicSync(path.join(out, 'overlays', `${it.name}_${sm.finding.replace(/[^\w.-]+/g, '_')}.png`), png);
    thumbs.push(fitRgba(o, 256));
    cells.push({ image: png, caption: `${it.name} · ${sm.finding}: ${sm.res.hit ? 'hit' : 'miss'}, IoU ${sm.res.iou.toFixed(2)}, Dice ${sm.res.dice.toFixed(2)}` });
  }
  if (thumbs.length) {
    writeFileAtomicSync(path.join(out, 'overlays.png'), encodePng(tile(thumbs, Math.min(4, thumbs.length))));
    writeText(
      path.join(out, 'overlays.html'),
      htmlPage({ title: 'Zero-shot grounding', sections: [{ title: 'Similarity maps (jet), ground-truth region (white outline), maximum (green square: hit, magenta: miss)', body: imageGrid(cells, { columns: 4 }) }] }),
    );
  }
  const fl = Object.keys(perFinding);
  writeText(
    path.join(out, 'pointing.svg'),
    barChart({
      title: 'Pointing game: hit rate (blue) vs chance = region share of the image (grey)',
      bars: fl.flatMap((f) => [
        { label: f, value: perFinding[f]!.pointing, color: '#4c78a8' },
        { label: `${f} (chance)`, value: perFinding[f]!.chance, color: '#b0b0b0' },
      ]),
      horizontal: true,
      domain: [0, 1],
      showValues: true,
      digits: 2,
    }),
  );
  writeResultsJson(out, {
    task: 'zero-shot-grounding',
    config: cfg,
    encoder: info,
    data: resultsData(cfg, {
      displayName: evalData.displayName,
      classes,
      splitSource: cfg.grounding.split === 'test' ? 'test-split' : 'all-images',
      sizes: sizes ?? { eval: { images: refs.length, patients: new Set(refs.map((r) => r.patientId)).size } },
    }, {
      cases: cases.length,
      promptSet: setName,
      prompts: promptSource,
      transform: transformKey(t),
      regionsWithoutPrompts: Object.fromEntries(skipped),
    }),
    runtime: { seconds: timer.seconds, backend: opts.backend, phases: timer.phases },
    metrics: { pointing: overall.pointing, iou: overall.iou, dice: overall.dice, chance: overall.chance, n: overall.n, perFinding, threshold: cfg.grounding.threshold },
  });
  const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '—');
  writeResultsMd(
    out,
    [
      `# Zero-shot grounding: ${evalData.displayName}`,
      '',
      `Similarity of each finding's prompt embedding with the projected bottleneck cells of ${info.label}, upsampled to the stored image; ${cases.length} (image, finding) cases on ${splitNote}. Pointing = the map's maximum inside the ground-truth region; IoU / Dice of {min-max normalised map ≥ ${cfg.grounding.threshold}}; chance = the region's share of the image.`,
      '',
      markdownTable(
        ['finding', 'cases', 'pointing', 'chance', 'IoU', 'Dice'],
        [...fl.map((f) => [f, String(perFinding[f]!.n), pct(perFinding[f]!.pointing), pct(perFinding[f]!.chance), pct(perFinding[f]!.iou), pct(perFinding[f]!.dice)]), ['**all**', String(overall.n), pct(overall.pointing), pct(overall.chance), pct(overall.iou), pct(overall.dice)]],
      ),
      '',
      `Runtime ${timer.seconds.toFixed(0)} s (${opts.backend}). Files: \`per_case.csv\` (image, finding, hit, iou, dice, area), \`overlays.png\` / \`overlays.html\`, \`pointing.svg\`.`,
      '',
    ].join('\n'),
  );
  return { out, cases: cases.length, perFinding, overall };
}
