/**
 * One classification evaluation: resolve the encoder, load the data and its splits, train the
 * protocol's head (linear probe on cached frozen features, or the whole encoder + head), test
 * on the held-out split (or --test) and write results.json, results.md, predictions.csv and
 * the plots.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ItemRef } from '@g2d-ts/data';
import { cacheDirs, classificationMetrics, extractFeatures, fractionLabel, imageName, loadEvalData, loadImages, paperTableMarkdown, PhaseTimer, perClassBarSvg, positives, resultsData, startEvalRun, rocSvg, splitSizes, toInputTensor, trainingCurvesSvg, transformKey, writeJson, writePredictionsCsv, writeResultsJson, writeResultsMd, writeSvg, type ClassificationMetrics, type EncoderInfo, type EvalRunOptions, type EvalTransform } from '@g2d-ts/eval';
import { FineTuneClassifier, LinearClassifier } from '@g2d-ts/heads';
import type { G2DModel } from '@g2d-ts/model';
import { saveModel } from '@g2d-ts/nn';
import type { ClassificationConfig } from './config';
import { bceWithLogits, trainLoop, type LoopResult } from './train-loop';

/** What the run gets from its command (@g2d-ts/eval's `EvalRunOptions`). */
export type RunContext = EvalRunOptions;

export interface RunResult {
  out: string;
  metrics: ClassificationMetrics;
  encoder: EncoderInfo;
  training: Omit<LoopResult, 'history'>;
  seconds: number;
  cpuSeconds: number;
}

function labelMatrix(items: readonly ItemRef[]): number[][] {
  return items.map((it) => it.labels!.map((v) => (v === 1 ? 1 : 0)));
}

function stack(rows: readonly Float32Array[], dim: number): tf.Tensor2D {
  const buf = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => buf.set(r, i * dim));
  return tf.tensor2d(buf, [rows.length, dim]);
}

/** Probabilities [N][C] from logits computed batch by batch. */
async function predictProbs(n: number, batch: number, logitsOf: (idx: number[]) => tf.Tensor2D): Promise<number[][]> {
  const out: number[][] = [];
  for (let s = 0; s < n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, n - s) }, (_, k) => s + k);
    const p = tf.tidy(() => tf.sigmoid(logitsOf(idx)));
    const d = (await p.data()) as Float32Array;
    const C = p.shape[1]!;
    p.dispose();
    for (let i = 0; i < idx.length; i++) out.push(Array.from(d.subarray(i * C, (i + 1) * C)));
  }
  return out;
}

/** Validation loss and mean AUC from logits. */
async function validation(n: number, labels: number[][], classes: string[], batch: number, logitsOf: (idx: number[]) => tf.Tensor2D): Promise<{ loss: number; auc: number | null } | null> {
  if (n === 0) return null;
  let lossSum = 0;
  const probs: number[][] = [];
  for (let s = 0; s < n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, n - s) }, (_, k) => s + k);
    const y = tf.tensor2d(idx.map((i) => labels[i]!));
    const logits = logitsOf(idx);
    const l = bceWithLogits(logits, y);
    lossSum += (await l.data())[0]! * idx.length;
    const p = tf.sigmoid(logits);
    const d = (await p.data()) as Float32Array;
    const C = classes.length;
    for (let i = 0; i < idx.length; i++) probs.push(Array.from(d.subarray(i * C, (i + 1) * C)));
    [y, logits, l, p].forEach((t) => t.dispose());
  }
  const m = classificationMetrics(probs, labels, classes);
  return { loss: lossSum / n, auc: m.auc.mean };
}

export async function runClassification(cfg: ClassificationConfig, ctx: RunContext): Promise<RunResult> {
  const log = ctx.log;
  const { timer, out, model, info, t } = await startEvalRun('eval-classification', cfg, ctx, { protocol: cfg.protocol });
  const caches = cacheDirs(cfg, ctx.cwd);
  try {
    const { data, splits } = await timer.time('data', () => loadEvalData(cfg, { log }));
    const classes = data.classes;
    const sizes = splitSizes(splits);
    log(
      `[eval] ${data.displayName}: ${classes.length} classes; train ${sizes.train!.images} images (${fractionLabel(cfg.fraction)} of ${sizes.trainFull!.images}), ` +
        `val ${sizes.val!.images}, test ${sizes.test!.images} (${splits.source})`,
    );
    const yTrain = labelMatrix(splits.train);
    const yVal = labelMatrix(splits.val);
    const yTest = labelMatrix(splits.test);
    const inputs: ProtocolInputs = { cfg, ctx, model, info, dataset: data.identity, splits, y: { yTrain, yVal, classes }, t, caches, timer, out };
    const { probs, loop } = cfg.protocol === 'linear' ? await linearProbe(inputs) : await fineTune(inputs);
    const metrics = classificationMetrics(probs, yTest, classes);
    const rows = splits.test.map((it, i) => ({ image: imageName(it), scores: probs[i]!, labels: yTest[i]! }));
    writePredictionsCsv(out, classes, rows);
    const { history, ...training } = loop;
    writeJson(path.join(out, 'training.json'), { history, ...training });
    const curves = trainingCurvesSvg(history, cfg.protocol === 'linear' ? 'Linear probe' : 'Fine-tuning');
    writeSvg(out, 'training-loss.svg', curves.loss);
    writeSvg(out, 'training-auc.svg', curves.auc);
    writeSvg(out, 'roc.svg', rocSvg(classes, probs, yTest, metrics, `ROC, ${data.displayName} test (${metrics.n} images)`));
    writeSvg(out, 'auc-per-class.svg', perClassBarSvg(metrics.auc.perClass, { title: `Test AUC per class (mean ${metrics.auc.mean === null ? '—' : metrics.auc.mean.toFixed(3)})` }));
    const seconds = timer.seconds;
    writeResultsJson(out, {
      task: 'classification',
      protocol: cfg.protocol,
      config: cfg,
      encoder: info,
      data: resultsData(cfg, { displayName: data.displayName, classes, splitSource: splits.source, sizes }, {
        dropped: data.dropped,
        positives: { train: positives(splits.train, classes), val: positives(splits.val, classes), test: positives(splits.test, classes) },
        transform: transformKey(t),
      }),
      runtime: { seconds, cpuSeconds: timer.cpuSeconds, backend: ctx.backend, phases: timer.phases },
      training,
      metrics,
      finishedAt: new Date().toISOString(),
    });
    writeResultsMd(out, resultsMarkdown(cfg, info, data.displayName, metrics, training, sizes, seconds, timer.cpuSeconds));
    return { out, metrics, encoder: info, training, seconds, cpuSeconds: timer.cpuSeconds };
  } finally {
    model.dispose();
  }
}

/** What a protocol (linear probe, fine-tuning) trains and tests on. */
interface ProtocolInputs {
  cfg: ClassificationConfig;
  ctx: RunContext;
  model: G2DModel;
  info: EncoderInfo;
  /** the dataset's identity (cache key) */
  dataset: string;
  splits: { train: ItemRef[]; val: ItemRef[]; test: ItemRef[] };
  y: { yTrain: number[][]; yVal: number[][]; classes: string[] };
  t: EvalTransform;
  caches: ReturnType<typeof cacheDirs>;
  timer: PhaseTimer;
  out: string;
}

async function linearProbe({ cfg, ctx, model, info, dataset, splits, y, t, caches, timer, out }: ProtocolInputs): Promise<{ probs: number[][]; loop: LoopResult }> {
  const feats = await timer.time('features', async () => {
    const all = [...splits.train, ...splits.val, ...splits.test];
    const r = await extractFeatures({
      model,
      encoder: info,
      items: all,
      dataset,
      transform: t,
      kind: cfg.features,
      batchSize: cfg.inferenceBatchSize,
      cacheDir: caches.features,
      imageCacheDir: caches.images,
      log: ctx.log,
      label: 'features',
    });
    ctx.log(`[eval] features: ${r.cached} cached, ${r.computed} computed in ${r.seconds.toFixed(1)} s${r.cacheFile ? ` (${r.cacheFile})` : ''}`);
    return r;
  });
  const nTr = splits.train.length;
  const nVa = splits.val.length;
  const D = feats.dim;
  const xTrain = stack(feats.features.slice(0, nTr), D);
  const xVal = nVa ? stack(feats.features.slice(nTr, nTr + nVa), D) : null;
  const xTest = stack(feats.features.slice(nTr + nVa), D);
  const yTrainT = tf.tensor2d(y.yTrain);
  const head = new LinearClassifier({ inFeatures: D, numClasses: y.classes.length, dropout: cfg.train.dropout, seed: cfg.seed });
  try {
    const gather = (x: tf.Tensor2D, idx: number[]) => tf.gather(x, tf.tensor1d(idx, 'int32')) as tf.Tensor2D;
    const loop = await timer.time('train', () =>
      trainLoop({
        groups: [{ name: 'head', variables: new Map(head.namedParameters()), lr: cfg.train.lr }],
        weightDecay: cfg.train.weightDecay,
        betas: cfg.train.betas,
        epochs: cfg.train.epochs,
        batchSize: cfg.train.batchSize,
        nTrain: nTr,
        seed: cfg.seed,
        patience: cfg.train.patience,
        minDelta: cfg.train.minDelta,
        maxMinutes: cfg.train.maxMinutes,
        state: head.namedVariables(),
        batchLoss: (idx) => tf.tidy(() => bceWithLogits(head.forward(gather(xTrain, idx)), gather(yTrainT, idx))),
        validate: () => validation(nVa, y.yVal, y.classes, 256, (idx) => tf.tidy(() => head.forward(gather(xVal!, idx)))),
        setTraining: (on) => head.train(on),
        label: 'linear',
        log: ctx.log,
      }),
    );
    head.eval();
    const probs = await timer.time('test', () => predictProbs(splits.test.length, 256, (idx) => tf.tidy(() => head.forward(gather(xTest, idx)))));
    await saveModel(head, path.join(out, 'head'), { classes: JSON.stringify(y.classes), features: cfg.features, encoderWeightsHash: info.weightsHash });
    return { probs, loop };
  } finally {
    [xTrain, xVal, xTest, yTrainT].forEach((x) => x?.dispose());
    head.dispose();
  }
}

async function fineTune({ cfg, ctx, model, dataset, splits, y, t, caches, timer }: ProtocolInputs): Promise<{ probs: number[][]; loop: LoopResult }> {
  const imgs = await timer.time('images', async () => {
    const load = (items: ItemRef[]) => loadImages(items, t, { cacheDir: caches.images, dataset });
    return { train: await load(splits.train), val: await load(splits.val), test: await load(splits.test) };
  });
  const clf = new FineTuneClassifier(model.img_model.encoder, { numClasses: y.classes.length, dropout: cfg.train.dropout, seed: cfg.seed });
  // the G2D model's other parts stay frozen and unused; the classifier trains the encoder and its head
  const [encGroup, headGroup] = clf.parameterGroups();
  const infer = cfg.inferenceBatchSize;
  const logitsOn = (list: Uint8Array[]) => (idx: number[]) => {
    const x = toInputTensor(idx.map((i) => list[i]!), t);
    try {
      return clf.forward(x);
    } finally {
      x.dispose();
    }
  };
  try {
    const loop = await timer.time('train', () =>
      trainLoop({
        groups: [
          { name: 'encoder', variables: encGroup!.variables, lr: cfg.train.lr },
          { name: 'head', variables: headGroup!.variables, lr: cfg.train.headLr ?? cfg.train.lr },
        ],
        weightDecay: cfg.train.weightDecay,
        betas: cfg.train.betas,
        epochs: cfg.train.epochs,
        batchSize: cfg.train.batchSize,
        nTrain: splits.train.length,
        seed: cfg.seed,
        patience: cfg.train.patience,
        minDelta: cfg.train.minDelta,
        maxMinutes: cfg.train.maxMinutes,
        state: clf.namedVariables(),
        batchLoss: (idx) => {
          const x = toInputTensor(idx.map((i) => imgs.train[i]!), t);
          const yy = tf.tensor2d(idx.map((i) => y.yTrain[i]!));
          try {
            return bceWithLogits(clf.forward(x), yy);
          } finally {
            x.dispose();
            yy.dispose();
          }
        },
        validate: () => validation(splits.val.length, y.yVal, y.classes, infer, logitsOn(imgs.val)),
        setTraining: (on) => clf.train(on),
        label: 'finetune',
        log: ctx.log,
      }),
    );
    clf.eval();
    const probs = await timer.time('test', () => predictProbs(splits.test.length, infer, logitsOn(imgs.test)));
    return { probs, loop };
  } finally {
    // the encoder belongs to `model` (disposed by the caller); free only the head
    clf.head.dispose();
  }
}

function pct(v: number | null): string {
  return v === null ? '—' : (v * 100).toFixed(1);
}

/** results.md: the paper-style headline table, then per-class results and the run's facts. */
export function resultsMarkdown(
  cfg: ClassificationConfig,
  info: EncoderInfo,
  displayName: string,
  m: ClassificationMetrics,
  training: Omit<LoopResult, 'history'>,
  sizes: Record<string, { images: number; patients: number }>,
  seconds: number,
  cpuSeconds: number,
): string {
  const proto = cfg.protocol === 'linear' ? 'Linear probe' : 'Fine-tuning';
  const column = `${displayName} ${fractionLabel(cfg.fraction)}`;
  const lines = [
    `# ${proto}: ${displayName}, ${fractionLabel(cfg.fraction)} of the training labels, seed ${cfg.seed}`,
    '',
    `Test mean AUC (×100) over the classes with both labels in the test split${m.accuracy.top1 !== undefined ? '; top-1 accuracy for single-label data' : ''}.`,
    '',
    paperTableMarkdown({ columns: [column], rows: [{ method: `${info.label}, ${cfg.protocol}`, cells: { [column]: m.auc.mean } }], scale: 100 }),
    '',
    `## Per class (test: ${m.n} images)`,
    '',
    '| class | positives | AUC | best F1 | ACC at best F1 | ACC at 0.5 |',
    '|---|---:|---:|---:|---:|---:|',
    ...m.classes.map((c) => {
      const f = m.bestF1.perClass[c];
      return `| ${c.replace(/\|/g, '\\|')} | ${m.positives[c]} | ${pct(m.auc.perClass[c] ?? null)} | ${f ? pct(f.f1) : '—'} | ${f ? pct(f.accuracy) : '—'} | ${pct(m.accuracy.perClass[c] ?? null)} |`;
    }),
    `| **mean** | | **${pct(m.auc.mean)}** | ${pct(m.bestF1.meanF1)} | ${pct(m.bestF1.meanAccuracy)} | ${pct(m.accuracy.mean)} |`,
    '',
    ...(m.accuracy.top1 !== undefined ? [`Top-1 accuracy: ${pct(m.accuracy.top1)}`, ''] : []),
    '## Run',
    '',
    `- ${info.note}`,
    `- data: ${cfg.dataset}${cfg.test ? `, test folder ${cfg.test}` : ''}; train ${sizes.train!.images} images / ${sizes.train!.patients} patients, val ${sizes.val!.images}, test ${sizes.test!.images}`,
    `- protocol: ${cfg.protocol}${cfg.protocol === 'linear' ? ` on ${cfg.features} features` : ''}; AdamW lr ${cfg.train.lr}${cfg.protocol === 'finetune' ? ` (head ${cfg.train.headLr ?? cfg.train.lr})` : ''}, wd ${cfg.train.weightDecay}, batch ${cfg.train.batchSize}, up to ${cfg.train.epochs} epochs`,
    `- training: ${training.epochsRun} epochs, ${training.steps} steps, stopped by ${training.stoppedBy}; best epoch ${training.bestEpoch ?? '—'} (monitor: ${training.monitor})`,
    `- runtime: ${seconds.toFixed(1)} s wall clock, ${cpuSeconds.toFixed(1)} s CPU (all threads)`,
    '',
    'Files: results.json, predictions.csv, roc.svg, auc-per-class.svg, training-loss.svg, training-auc.svg, training.json' + (cfg.protocol === 'linear' ? ', head/ (the trained linear layer)' : ''),
    '',
  ];
  return lines.join('\n');
}

