/**
 * One detection evaluation run: config → encoder (frozen) → data (items with box annotations)
 * → C3–C5 features (cached) → YOLOv3-style head trained with AdamW (best validation mAP kept)
 * → test detections mapped to each stored image's pixels → mAP over IoU 0.4–0.75 → outputs:
 *
 *   <out>/results.json, results.md   mAP (mean over classes with ground truth), per class, AP@IoU
 *   <out>/predictions.csv            image, class, score, x1, y1, x2, y2 (stored image pixels)
 *   <out>/overlays/<image>.png       ground truth green, detections red; overlays.png tiled, overlays.html captioned
 *   <out>/training.svg, metrics.jsonl
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng, type RawTensor } from '@g2d-ts/core';
import type { ItemRef } from '@g2d-ts/data';
import { boxToInput, fitScheduler, boxToStored, cacheDirs, csvField, denseSplits, fractionLabel, loadDenseData, loadDenseItem, paperTableMarkdown, resultsData, startEvalRun, transformKey, writeFileAtomicSync, writeJson, writeResultsJson, writeResultsMd, writeText, type DenseItem, type EvalRunOptions, type LoadedDataset } from '@g2d-ts/eval';
import { defaultAnchors, kmeansAnchors, YoloDetectionHead, type Anchor, type Detection, type DetectionTarget, type BoxXYXY } from '@g2d-ts/heads';
import { averagePrecision } from '@g2d-ts/metrics';
import { AdamW, fit, Progress } from '@g2d-ts/train';
import { drawBox, encodePng, fitRgba, grayImageToRgba, htmlPage, imageGrid, lineChart, markdownTable, tile, type Rgba } from '@g2d-ts/viz';
import type { DetConfig } from './config';
import { levelTensors, pyramidFeatures, pyramidLayout, type PyramidLayout } from './features';

export interface DetRunResult {
  out: string;
  map: number;
  perClass: Record<string, number | null>;
  testImages: number;
}

const SINGLE = 'finding';

function useSingleClass(adapter: string, cfg: DetConfig): boolean {
  if (cfg.data.boxClasses === 'single' || adapter === 'object-cxr') return true;
  if (cfg.data.boxClasses === 'labels') return false;
  return adapter === 'rsna-pneumonia';
}

/** Items with box annotations (an empty list = a negative image); items without any box information are left out. */
function withBoxes(d: LoadedDataset, log: (l: string) => void): LoadedDataset {
  const keep = d.index.items.filter((it) => Array.isArray(it.boxes));
  const dropped = d.index.items.length - keep.length;
  if (dropped) log(`[detection] ${d.spec.adapter}: ${dropped} of ${d.index.items.length} images have no box annotation and are left out`);
  if (!keep.length) throw new G2DError(`no image of ${d.spec.adapter} has box annotations`, { source: d.spec.root });
  return { ...d, index: { ...d.index, items: keep }, dropped: d.dropped + dropped };
}

interface DetItem {
  item: DenseItem;
  /** ground truth at the stored size: box + class index */
  gt: { box: BoxXYXY; cls: number }[];
  /** the same in input pixels (clipped, boxes under 1 px dropped) */
  target: DetectionTarget;
}

function toDetItem(item: DenseItem, classOf: (label: string | undefined) => number): DetItem {
  const gt = (item.boxes ?? []).map((b) => ({ box: b.box, cls: classOf(b.label) }));
  const S = item.size;
  const boxes: BoxXYXY[] = [];
  const classes: number[] = [];
  for (const g of gt) {
    const b = boxToInput(g.box, item);
    const c: BoxXYXY = [Math.max(0, b[0]), Math.max(0, b[1]), Math.min(S, b[2]), Math.min(S, b[3])];
    if (c[2] - c[0] >= 1 && c[3] - c[1] >= 1) {
      boxes.push(c);
      classes.push(g.cls);
    }
  }
  return { item, gt, target: { boxes, classes } };
}

async function loadDetItems(refs: readonly ItemRef[], t: { size: number; variant: 'code' | 'clean' }, classOf: (l: string | undefined) => number, label: string): Promise<DetItem[]> {
  const out: DetItem[] = [];
  const bar = new Progress({ total: refs.length, label });
  try {
    for (let k = 0; k < refs.length; k++) {
      out.push(toDetItem(await loadDenseItem(refs[k]!, { size: t.size, variant: t.variant, mask: false }), classOf));
      bar.update({ step: k + 1, epoch: 0 });
    }
  } finally {
    bar.done();
  }
  return out;
}

export interface ApResult {
  /** per class: mean AP over the IoU thresholds (null: no ground truth of the class) */
  perClass: Record<string, number | null>;
  /** mean over classes with ground truth */
  map: number;
  /** per IoU threshold: AP averaged over classes */
  byIou: Record<string, number>;
}

/** mAP of detections against ground truth, both in the same pixel space. */
export function detectionAp(dets: readonly Detection[][], gts: readonly { box: BoxXYXY; cls: number }[][], classes: readonly string[], thresholds: readonly number[]): ApResult {
  const perClass: Record<string, number | null> = {};
  const byIouSum = thresholds.map(() => 0);
  let counted = 0;
  classes.forEach((c, k) => {
    const images = dets.map((d, i) => {
      const mine = d.filter((x) => x.classIndex === k);
      return { boxes: mine.map((x) => x.box), scores: mine.map((x) => x.score), gt: gts[i]!.filter((g) => g.cls === k).map((g) => g.box) };
    });
    if (!images.some((im) => im.gt.length)) {
      perClass[c] = null;
      return;
    }
    const aps = thresholds.map((th) => averagePrecision(images, th));
    aps.forEach((a, j) => (byIouSum[j]! += a));
    perClass[c] = aps.reduce((s, v) => s + v, 0) / aps.length;
    counted++;
  });
  const vals = Object.values(perClass).filter((v): v is number => v !== null);
  const byIou: Record<string, number> = {};
  thresholds.forEach((th, j) => (byIou[th.toFixed(2)] = counted ? byIouSum[j]! / counted : NaN));
  return { perClass, map: vals.length ? vals.reduce((s, v) => s + v, 0) / vals.length : NaN, byIou };
}

function detectAll(head: YoloDetectionHead, rows: readonly Float32Array[], layout: PyramidLayout, cfg: DetConfig, size: number): Detection[][] {
  const out: Detection[][] = [];
  const bs = cfg.inferenceBatchSize;
  for (let s = 0; s < rows.length; s += bs) {
    const lv = levelTensors(rows.slice(s, s + bs), layout);
    try {
      out.push(...head.detect(lv, { imageSize: [size, size], scoreThreshold: cfg.det.scoreThreshold, iouThreshold: cfg.det.nmsIou, maxDetections: cfg.det.maxDetections }));
    } finally {
      tf.dispose(lv);
    }
  }
  return out;
}

function sampleIndices(n: number, k: number): number[] {
  const m = Math.min(n, k);
  return Array.from({ length: m }, (_, i) => Math.floor(((i + 0.5) * n) / m));
}

export async function runDetection(cfg: DetConfig, opts: EvalRunOptions): Promise<DetRunResult> {
  const log = opts.log;
  const { timer, out, model, info, t } = await startEvalRun('eval-detection', cfg, opts, { tag: 'detection' });
  const layout = pyramidLayout(model, t.size);
  const caches = cacheDirs(cfg, opts.cwd);

  // data
  const { data, test } = loadDenseData(cfg, { log, keep: (d) => withBoxes(d, log) });
  const { splits, sizes } = denseSplits(cfg, data, test);
  const single = useSingleClass(data.spec.adapter, cfg);
  const labels = [...new Set(data.index.items.flatMap((it) => (it.boxes ?? []).map((b) => b.label ?? SINGLE)))].sort();
  const classes = single ? [SINGLE] : labels.length ? labels : [SINGLE];
  const classOf = (label: string | undefined): number => {
    if (single) return 0;
    const k = classes.indexOf(label ?? SINGLE);
    if (k < 0) throw new G2DError(`box label "${label}" is not a class of the training data (${classes.join(', ')})`, { source: cfg.test ?? cfg.dataset });
    return k;
  };
  log(`[detection] ${data.displayName}: train ${sizes.train.images} images (${fractionLabel(cfg.fraction)} of ${sizes.trainFull.images}), val ${sizes.val.images}, test ${sizes.test.images}${test ? ` (${cfg.test})` : ''}; classes: ${classes.join(', ')}`);
  const [train, val, testItems] = await timer.time('load', async () => [
    await loadDetItems(splits.train, t, classOf, 'load train'),
    await loadDetItems(splits.val, t, classOf, 'load val'),
    await loadDetItems(splits.test, t, classOf, 'load test'),
  ]);
  const nBoxes = (l: DetItem[]) => l.reduce((s, d) => s + d.target.boxes.length, 0);
  if (nBoxes(train) === 0) throw new G2DError(`the training images (${train.length}) hold no box: nothing to learn`, { source: cfg.dataset });

  // features (frozen encoder)
  const feats = async (items: DetItem[], d: LoadedDataset, label: string) =>
    pyramidFeatures({ model, encoder: info, items: items.map((x) => x.item), dataset: d.identity, transform: t, layout, batchSize: cfg.inferenceBatchSize, cacheDir: caches.features, label, log });
  const [trainRows, valRows, testRows] = await timer.time('features', async () => [await feats(train, data, 'features train'), await feats(val, data, 'features val'), await feats(testItems, test ?? data, 'features test')]);
  model.dispose();

  // anchors
  const sizesWh = train.flatMap((d) => d.target.boxes.map((b) => [b[2] - b[0], b[3] - b[1]] as [number, number]));
  let anchors: Anchor[][];
  let anchorNote: string;
  const distinct = new Set(sizesWh.map((s) => `${s[0]},${s[1]}`)).size;
  if (cfg.det.anchors === 'kmeans' && distinct >= 9) {
    const km = kmeansAnchors(sizesWh, { k: 9, levels: 3, seed: cfg.seed });
    anchors = km.anchors;
    anchorNote = `k-means on ${sizesWh.length} training boxes (mean best IoU ${km.meanIou.toFixed(3)})`;
  } else {
    anchors = defaultAnchors(t.size);
    anchorNote = cfg.det.anchors === 'kmeans' ? `YOLOv3 defaults scaled to ${t.size}px (only ${distinct} distinct training box sizes, k-means needs 9)` : `YOLOv3 defaults scaled to ${t.size}px`;
  }
  log(`[detection] anchors: ${anchorNote}: ${anchors.map((l) => l.map((a) => `${a[0].toFixed(1)}x${a[1].toFixed(1)}`).join(' ')).join(' | ')}`);

  // head + training
  const head = new YoloDetectionHead(
    {
      inChannels: layout.shapes.map((s) => s[2]),
      strides: layout.strides,
      anchors,
      numClasses: classes.length,
      classNames: classes,
      topDown: cfg.det.topDown,
      loss: { box: cfg.det.boxLoss, ignoreThreshold: cfg.det.ignoreThreshold },
    },
    { seed: `detection/${cfg.seed}` },
  );
  const T = cfg.train;
  const bs = Math.min(T.batchSize, train.length);
  const perEpoch = Math.ceil(train.length / bs);
  const total = Math.min(T.maxSteps ?? Infinity, perEpoch * T.epochs);
  const vars = head.namedVariables();
  const optimizer = new AdamW(vars, { lr: T.lr, weightDecay: T.weightDecay });
  const scheduler = fitScheduler(T, total);
  const lossCurve: { epoch: number; step: number; loss: number }[] = [];
  const valCurve: { epoch: number; step: number; map: number }[] = [];
  let best: { epoch: number; map: number; state: Map<string, RawTensor> } | null = null;
  const size = t.size;
  head.train();
  const res = await timer.time('train', () =>
    fit<number[]>({
      variables: vars,
      optimizer,
      scheduler,
      data: {
        length: perEpoch,
        *epoch(epoch: number, start: number): Iterable<number[]> {
          const order = new Rng(`detection/${cfg.seed}/order/${epoch}`).shuffle(train.map((_, i) => i));
          for (let b = start; b < perEpoch; b++) yield order.slice(b * bs, (b + 1) * bs);
        },
      },
      epochs: T.epochs,
      maxSteps: T.maxSteps,
      seed: cfg.seed,
      out,
      checkpoint: false,
      progress: { label: 'detection' },
      log,
      step: (idx) => {
        const lv = levelTensors(idx.map((i) => trainRows[i]!), layout);
        const terms = head.loss(head.forward(lv, { training: true }), idx.map((i) => train[i]!.target), { imageSize: [size, size] });
        return { loss: terms.loss, metrics: { box: terms.box, obj: terms.obj, cls: terms.cls } };
      },
      onEpochEnd: (e) => {
        lossCurve.push({ epoch: e.epoch, step: e.steps, loss: e.meanLoss });
        const last = e.epoch === T.epochs - 1 || e.steps >= total;
        if (!val.length || T.select === 'last' || ((e.epoch + 1) % T.valEvery !== 0 && !last)) return;
        if (nBoxes(val) === 0) return;
        head.eval();
        const dets = detectAll(head, valRows, layout, cfg, size);
        head.train();
        const ap = detectionAp(
          dets,
          val.map((d) => d.target.boxes.map((b, j) => ({ box: b, cls: d.target.classes[j]! }))),
          classes,
          cfg.det.iouThresholds,
        );
        valCurve.push({ epoch: e.epoch, step: e.steps, map: ap.map });
        log(`[detection] epoch ${e.epoch + 1}/${T.epochs}: train loss ${e.meanLoss.toFixed(4)}, validation mAP ${ap.map.toFixed(4)} (${val.length} images)`);
        if (Number.isFinite(ap.map) && (!best || ap.map > best.map)) best = { epoch: e.epoch, map: ap.map, state: head.stateDict() };
      },
    }),
  );
  const kept = best as { epoch: number; map: number; state: Map<string, RawTensor> } | null;
  if (kept && T.select === 'best-val') head.loadStateDict(kept.state);
  head.eval();
  log(`[detection] trained ${res.steps} steps${kept && T.select === 'best-val' ? `; kept epoch ${kept.epoch + 1} (validation mAP ${kept.map.toFixed(4)})` : ''}`);

  // test
  const dets = await timer.time('test', () => detectAll(head, testRows, layout, cfg, size));
  head.dispose();
  const stored = dets.map((d, i) => d.map((x) => ({ ...x, box: boxToStored(x.box, testItems[i]!.item) })));
  const ap = detectionAp(stored, testItems.map((d) => d.gt), classes, cfg.det.iouThresholds);
  const rows = ['image,class,score,x1,y1,x2,y2'];
  stored.forEach((d, i) => {
    for (const x of d) rows.push([testItems[i]!.item.name, classes[x.classIndex]!, x.score, ...x.box].map((v) => csvField(v)).join(','));
  });
  writeText(path.join(out, 'predictions.csv'), rows.join('\n') + '\n');

  // overlays
  const pick = sampleIndices(testItems.length, cfg.output.overlays);
  const cells: { image: Uint8Array; caption: string; text: string }[] = [];
  const thumbs: Rgba[] = [];
  for (const i of pick) {
    const d = testItems[i]!;
    const full = await loadDenseItem(d.item.ref, { size: t.size, variant: t.variant, mask: false, keepImage: true });
    let o = grayImageToRgba(full.stored!);
    const th = Math.max(1, Math.round(Math.max(full.width, full.height) / 256));
    for (const g of d.gt) o = drawBox(o, g.box, [40, 230, 60], th);
    const shown = stored[i]!.filter((x) => x.score >= cfg.output.overlayScore).slice(0, cfg.output.overlayBoxes);
    for (const x of shown) o = drawBox(o, x.box, [255, 50, 50], th);
    const png = encodePng(o);
    writeFileAtomicSync(path.join(out, 'overlays', `${d.item.name}.png`), png);
    thumbs.push(fitRgba(o, 256));
    cells.push({
      image: png,
      caption: d.item.name,
      text: [`truth: ${d.gt.map((g) => classes[g.cls]).join(', ') || 'none'}`, ...shown.map((x) => `${classes[x.classIndex]} ${x.score.toFixed(2)}`)].join('\n'),
    });
  }
  if (thumbs.length) {
    writeFileAtomicSync(path.join(out, 'overlays.png'), encodePng(tile(thumbs, Math.min(4, thumbs.length))));
    writeText(path.join(out, 'overlays.html'), htmlPage({ title: 'Detection overlays', sections: [{ title: `Test sample (green: ground truth; red: detections with score ≥ ${cfg.output.overlayScore}, at most ${cfg.output.overlayBoxes})`, body: imageGrid(cells, { columns: 4 }) }] }));
  }
  writeText(
    path.join(out, 'training.svg'),
    lineChart({ title: 'Detection head: training loss (epoch mean)', xLabel: 'step', yLabel: 'loss', markers: true, series: [{ name: 'train loss', points: lossCurve.map((p) => [p.step, p.loss] as [number, number]) }] }),
  );
  if (valCurve.length) {
    writeText(
      path.join(out, 'validation.svg'),
      lineChart({ title: 'Validation mAP (IoU 0.4–0.75)', xLabel: 'step', yLabel: 'mAP', markers: true, series: [{ name: 'validation mAP', points: valCurve.map((p) => [p.step, p.map] as [number, number]) }] }),
    );
  }

  // results
  const column = `${data.displayName} ${fractionLabel(cfg.fraction)}`;
  const metrics = { map: ap.map, perClass: ap.perClass, apByIou: ap.byIou, iouThresholds: cfg.det.iouThresholds, nmsIou: cfg.det.nmsIou, detections: stored.reduce((s, d) => s + d.length, 0), groundTruthBoxes: testItems.reduce((s, d) => s + d.gt.length, 0) };
  writeResultsJson(out, {
    task: 'detection',
    protocol: 'yolov3-frozen-c3c5',
    config: cfg,
    encoder: { ...info, frozen: true },
    data: resultsData(cfg, { displayName: data.displayName, classes, splitSource: splits.source, sizes }, {
      boxes: { train: nBoxes(train), val: nBoxes(val), test: metrics.groundTruthBoxes },
      leftOut: data.dropped + (test?.dropped ?? 0),
      transform: transformKey(t),
    }),
    head: { anchors, anchorNote, numClasses: classes.length, params: vars.size },
    runtime: { seconds: timer.seconds, backend: opts.backend, phases: timer.phases, steps: res.steps },
    metrics,
    training: { lossCurve, valCurve, selectedEpoch: kept?.epoch ?? null },
  });
  writeJson(path.join(out, 'training.json'), { lossCurve, valCurve });
  writeResultsMd(
    out,
    [
      `# Detection: ${data.displayName}`,
      '',
      `YOLOv3-style head on frozen C3–C5 features of ${info.label}; mAP = mean over classes of AP averaged over IoU ${cfg.det.iouThresholds.join(', ')} (NMS at ${cfg.det.nmsIou}), boxes in the stored images' pixels; ${testItems.length} test images${test ? ` from ${cfg.test}` : ' (held-out patients)'}, ${metrics.groundTruthBoxes} ground-truth boxes.`,
      '',
      paperTableMarkdown({ columns: [column], rows: [{ method: info.label, cells: { [column]: ap.map } }] }),
      '',
      '## Per class (mAP over the IoU thresholds)',
      '',
      markdownTable(
        ['class', 'test boxes', 'mAP'],
        classes.map((c, k) => [c, String(testItems.reduce((s, d) => s + d.gt.filter((g) => g.cls === k).length, 0)), ap.perClass[c] === null ? '—' : (100 * ap.perClass[c]!).toFixed(1)]),
      ),
      '',
      '## AP by IoU threshold (mean over classes)',
      '',
      markdownTable(['IoU', 'AP'], Object.entries(ap.byIou).map(([k, v]) => [k, Number.isFinite(v) ? (100 * v).toFixed(1) : '—'])),
      '',
      `Anchors: ${anchorNote}. Training: ${res.steps} steps, runtime ${timer.seconds.toFixed(0)} s (${opts.backend}).`,
      '',
      'Files: `predictions.csv` (image, class, score, x1, y1, x2, y2), `overlays.png` / `overlays.html` (green: ground truth, red: detections), `training.svg`, `validation.svg`.',
      '',
    ].join('\n'),
  );
  return { out, map: ap.map, perClass: ap.perClass, testImages: testItems.length };
}
