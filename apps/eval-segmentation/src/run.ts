/**
 * One segmentation evaluation run: config → encoder → data (images without a mask of the
 * selected set left out) → U-Net fine-tuning → test predictions at each stored image's pixel
 * size → per-image Dice → outputs:
 *
 *   <out>/results.json, results.md      metrics, config, encoder, data sizes, runtime
 *   <out>/per_image.csv                 image, dice (one row per test image)
 *   <out>/predictions/<image>.png       predicted masks, 0/255, the stored image's size
 *   <out>/overlays/<image>.png          sample overlays (ground truth green, prediction red)
 *   <out>/overlays.png                  the sample as one tiled figure
 *   <out>/training.svg, dice_hist.svg   training curves, per-image Dice histogram
 *   <out>/metrics.jsonl                 one line per optimizer step
 */
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { LUNG_FINDINGS, SYNTH_FINDINGS, encodeGrayPng, type ItemRef } from '@g2d-ts/data';
import { csvField, denseSplits, fractionLabel, loadDenseData, loadDenseItem, mapToStored, maskToInput, paperTableMarkdown, resultsData, startEvalRun, transformKey, writeFileAtomicSync, writeJson, writeResultsJson, writeResultsMd, writeText, type DenseItem, type EvalRunOptions, type LoadedDataset } from '@g2d-ts/eval';
import { dice, maskIou } from '@g2d-ts/metrics';
import { Progress } from '@g2d-ts/train';
import { encodePng, histogramChart, lineChart, markdownTable } from '@g2d-ts/viz';
import type { SegConfig } from './config';
import { buildSegModel, predictProbabilities, trainSegmentation, type SegSample } from './seg';
import { overlayRgba, writeOverlays } from './overlays';

export interface SegRunResult {
  out: string;
  meanDice: number;
  meanIou: number;
  testImages: number;
}

/** Which synthetic masks make the target. */
function syntheticTargetNames(target: string): string[] {
  if (target === 'lung-findings') return [...LUNG_FINDINGS];
  if (target === 'all-findings') return [...SYNTH_FINDINGS];
  return [target];
}

function isSynthetic(d: LoadedDataset): boolean {
  return d.spec.adapter === 'synthetic';
}

/** The dataset with only items that have a mask of the selected set (synthetic: every item; an absent finding = empty target). */
export function withMasks(d: LoadedDataset, cfg: SegConfig, log: (l: string) => void): LoadedDataset {
  if (isSynthetic(d)) {
    if ((cfg.data.target === 'lungs' || cfg.data.target === 'heart') && d.spec.root) {
      throw new G2DError(`data.target "${cfg.data.target}" (anatomy) exists for generated synthetic data only, not for a synthetic folder`, { source: d.spec.root });
    }
    return d;
  }
  const keep = d.index.items.filter((it) => it.mask);
  const dropped = d.index.items.length - keep.length;
  const which = d.spec.adapter === 'covid-chestxray' ? `${cfg.data.masks} ` : '';
  if (dropped) log(`[segmentation] ${d.spec.adapter}: ${dropped} of ${d.index.items.length} images have no ${which}mask and are left out`);
  if (!keep.length) throw new G2DError(`no image of ${d.spec.adapter} has a ${which}mask`, { source: d.spec.root });
  return { ...d, index: { ...d.index, items: keep }, dropped: d.dropped + dropped };
}

/** A dense item with its target mask (stored size) set for the task. */
async function loadTarget(ref: ItemRef, d: LoadedDataset, cfg: SegConfig, size: number, variant: 'code' | 'clean', keepImage = false): Promise<DenseItem> {
  const synth = isSynthetic(d);
  const it = await loadDenseItem(ref, { size, variant, mask: !synth, keepImage, findingMasks: synth, root: d.spec.root });
  if (synth) {
    const m = new Uint8Array(it.width * it.height);
    for (const name of syntheticTargetNames(cfg.data.target)) {
      const f = it.findingMasks?.get(name);
      if (f) for (let i = 0; i < m.length; i++) m[i] = m[i]! | f[i]!;
    }
    it.mask = m;
    it.findingMasks = undefined;
  }
  if (!it.mask) throw new G2DError('item has no mask', { source: ref.image ?? ref.id });
  return it;
}

async function loadSamples(refs: readonly ItemRef[], d: LoadedDataset, cfg: SegConfig, size: number, variant: 'code' | 'clean', label: string): Promise<SegSample[]> {
  const out: SegSample[] = [];
  const bar = new Progress({ total: refs.length, label });
  try {
    for (let k = 0; k < refs.length; k++) {
      const it = await loadTarget(refs[k]!, d, cfg, size, variant);
      out.push({ image: it.image, mask: maskToInput(it.mask!, it) });
      bar.update({ step: k + 1, epoch: 0 });
    }
  } finally {
    bar.done();
  }
  return out;
}

/** Overlay sample: indices spread evenly over the test set. */
function sampleIndices(n: number, k: number): Set<number> {
  const s = new Set<number>();
  if (k <= 0 || n === 0) return s;
  for (let i = 0; i < Math.min(n, k); i++) s.add(Math.floor(((i + 0.5) * n) / Math.min(n, k)));
  return s;
}

export async function runSegmentation(cfg: SegConfig, opts: EvalRunOptions): Promise<SegRunResult> {
  const log = opts.log;
  const { timer, out, model, info, t } = await startEvalRun('eval-segmentation', cfg, opts, { protocol: cfg.seg.transferDecoder ? 'encdec' : undefined, tag: 'segmentation' });

  // data
  const { data, test } = loadDenseData(cfg, {
    log,
    keep: (d) => withMasks(d, cfg, log),
    adapterOptions: (adapter) => (adapter === 'covid-chestxray' ? { masks: cfg.data.masks } : {}),
  });
  if (test && test.spec.adapter !== data.spec.adapter) log(`[segmentation] note: --test uses adapter ${test.spec.adapter}, training data ${data.spec.adapter}`);
  const { splits, sizes } = denseSplits(cfg, data, test);
  log(`[segmentation] ${data.displayName}: train ${sizes.train.images} images (${fractionLabel(cfg.fraction)} of ${sizes.trainFull.images}), val ${sizes.val.images}, test ${sizes.test.images}${test ? ` (${cfg.test})` : ''}; split: ${splits.source}`);
  const trainSamples = await timer.time('load', () => loadSamples(splits.train, data, cfg, t.size, t.variant, 'load train'));
  const valSamples = await timer.time('load', () => loadSamples(splits.val, data, cfg, t.size, t.variant, 'load val'));

  // model
  const { unet, info: segInfo } = buildSegModel(model, info, cfg);
  const encoderNote = info.note;
  model.dispose();
  log(
    `[segmentation] U-Net: encoder ${segInfo.encoderFrozen ? 'frozen' : 'trained'}, decoder ${segInfo.decoder}; ${segInfo.trainableParams.toLocaleString('en-US')} trainable / ${segInfo.frozenParams.toLocaleString('en-US')} frozen parameters`,
  );

  // fine-tuning
  const tr = await timer.time('train', () => trainSegmentation({ unet, encoderFrozen: segInfo.encoderFrozen, train: trainSamples, val: valSamples, transform: t, cfg, out, log }));
  log(`[segmentation] trained ${tr.steps} steps; kept epoch ${tr.selectedEpoch + 1}${tr.selectedValDice === null ? '' : ` (validation Dice ${tr.selectedValDice.toFixed(4)})`}`);

  // test: predictions at each stored image's size
  const perImage: { image: string; dice: number; iou: number; foreground: boolean }[] = [];
  const overlayPick = sampleIndices(splits.test.length, cfg.output.overlays);
  const overlays: Parameters<typeof writeOverlays>[1] = [];
  const testData = test ?? data;
  const names = new Set<string>();
  await timer.time('test', async () => {
    const bar = new Progress({ total: splits.test.length, label: 'test' });
    const bs = cfg.inferenceBatchSize;
    try {
      for (let s = 0; s < splits.test.length; s += bs) {
        const refs = splits.test.slice(s, s + bs);
        const items: DenseItem[] = [];
        for (let k = 0; k < refs.length; k++) items.push(await loadTarget(refs[k]!, testData, cfg, t.size, t.variant, overlayPick.has(s + k)));
        const probs = predictProbabilities(unet, items.map((it) => it.image), t, bs);
        items.forEach((it, k) => {
          if (names.has(it.name)) throw new G2DError(`two test images are named "${it.name}" (predictions/<name>.png would collide)`, { source: it.ref.image ?? it.id });
          names.add(it.name);
          const full = mapToStored(probs[k]!, it);
          const d = dice(full, it.mask!, { threshold: cfg.seg.threshold });
          const j = maskIou(full, it.mask!, { threshold: cfg.seg.threshold });
          perImage.push({ image: it.name, dice: d, iou: j, foreground: it.mask!.some((v) => v > 0) });
          const bin = new Uint8Array(full.length);
          for (let i = 0; i < bin.length; i++) bin[i] = full[i]! > cfg.seg.threshold ? 255 : 0;
          if (cfg.output.predictions) writeFileAtomicSync(path.join(out, 'predictions', `${it.name}.png`), encodeGrayPng({ width: it.width, height: it.height, data: bin, maxValue: 255 }, 8));
          if (it.stored) {
            const rgba = overlayRgba(it.stored, it.mask!, bin);
            overlays.push({ name: it.name, dice: d, png: encodePng(rgba), rgba });
          }
        });
        bar.update({ step: Math.min(splits.test.length, s + bs), epoch: 0 });
      }
    } finally {
      bar.done();
    }
  });
  unet.dispose();

  const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
  const dices = perImage.map((r) => r.dice);
  const meanDiceV = mean(dices);
  const meanIouV = mean(perImage.map((r) => r.iou));
  const pos = perImage.filter((r) => r.foreground);
  const sorted = [...dices].sort((a, b) => a - b);
  const median = sorted.length ? (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2 : NaN;

  // outputs
  writeText(path.join(out, 'per_image.csv'), ['image,dice', ...perImage.map((r) => `${csvField(r.image)},${r.dice}`)].join('\n') + '\n');
  writeOverlays(out, overlays);
  writeText(
    path.join(out, 'training.svg'),
    lineChart({
      title: 'Fine-tuning: training loss and validation Dice',
      xLabel: 'step',
      yLabel: 'loss / Dice',
      markers: true,
      series: [
        { name: 'train loss (epoch mean)', points: tr.lossCurve.map((p) => [p.step, p.loss] as [number, number]) },
        { name: 'validation Dice', points: tr.valCurve.map((p) => [p.step, p.dice] as [number, number]) },
      ],
    }),
  );
  if (dices.length) writeText(path.join(out, 'dice_hist.svg'), histogramChart({ title: `Per-image Dice on ${perImage.length} test images`, xLabel: 'Dice', series: [{ name: 'test', values: dices }], bins: 20, range: [0, 1], normalize: 'count' }));
  const task = cfg.seg.transferDecoder ? 'encoder + decoder transferred' : 'encoder only';
  const target = isSynthetic(data) ? `target ${cfg.data.target}` : data.spec.adapter === 'covid-chestxray' ? `${cfg.data.masks} lung masks` : 'masks';
  const column = `${data.displayName} ${fractionLabel(cfg.fraction)}`;
  const metrics = {
    dice: { mean: meanDiceV, median, min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN, meanForeground: mean(pos.map((r) => r.dice)), nForeground: pos.length, n: perImage.length },
    iou: { mean: meanIouV },
    threshold: cfg.seg.threshold,
    validation: { selectedEpoch: tr.selectedEpoch, dice: tr.selectedValDice },
  };
  writeResultsJson(out, {
    task: 'segmentation',
    protocol: cfg.seg.transferDecoder ? 'encoder+decoder' : 'encoder',
    config: cfg,
    encoder: { ...info, note: encoderNote, frozen: segInfo.encoderFrozen, decoder: segInfo.decoder, trainableParams: segInfo.trainableParams, frozenParams: segInfo.frozenParams },
    data: resultsData(cfg, { displayName: data.displayName, classes: [target], splitSource: splits.source, sizes }, {
      leftOut: data.dropped + (test?.dropped ?? 0),
      masks: data.spec.adapter === 'covid-chestxray' ? cfg.data.masks : undefined,
      target: isSynthetic(data) ? cfg.data.target : undefined,
      transform: transformKey(t),
    }),
    runtime: { seconds: timer.seconds, cpuSeconds: timer.cpuSeconds, backend: opts.backend, phases: timer.phases, steps: tr.steps, epochs: tr.epochs, stoppedBy: tr.stoppedBy },
    metrics,
    training: { lossCurve: tr.lossCurve, valCurve: tr.valCurve },
  });
  writeJson(path.join(out, 'training.json'), { lossCurve: tr.lossCurve, valCurve: tr.valCurve });
  const md = [
    `# Segmentation: ${data.displayName} (${target})`,
    '',
    `Dice per image at ${cfg.seg.threshold} (empty prediction on an empty mask = 1), computed at each stored image's pixel size; ${perImage.length} test images${test ? ` from ${cfg.test}` : ' (held-out patients)'}.`,
    '',
    paperTableMarkdown({ columns: [column], rows: [{ method: `${info.label}, ${task}`, cells: { [column]: meanDiceV } }] }),
    '',
    markdownTable(
      ['metric', 'value'],
      [
        ['mean Dice', meanDiceV.toFixed(4)],
        ['median Dice', median.toFixed(4)],
        [`mean Dice on images with foreground (${pos.length})`, mean(pos.map((r) => r.dice)).toFixed(4)],
        ['mean IoU', meanIouV.toFixed(4)],
        ['validation Dice of the kept epoch', tr.selectedValDice === null ? '—' : tr.selectedValDice.toFixed(4)],
        ['encoder', `${info.label} (${segInfo.encoderFrozen ? 'frozen' : 'trained'})`],
        ['decoder', segInfo.decoder],
        ['images train / val / test', `${sizes.train.images} / ${sizes.val.images} / ${sizes.test.images}`],
        ['optimizer steps', `${tr.steps} (${tr.epochs} epochs; stopped by ${tr.stoppedBy})`],
        ['runtime', `${timer.seconds.toFixed(0)} s wall, ${timer.cpuSeconds.toFixed(0)} s CPU (${opts.backend})`],
      ],
    ),
    '',
    `Files: \`per_image.csv\`, \`predictions/<image>.png\` (0/255), \`overlays.png\` (green = ground truth outline, red = prediction), \`training.svg\`, \`dice_hist.svg\`.`,
    '',
  ].join('\n');
  writeResultsMd(out, md);
  return { out, meanDice: meanDiceV, meanIou: meanIouV, testImages: perImage.length };
}
