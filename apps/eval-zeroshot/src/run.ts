/**
 * One zero-shot evaluation: the model's image embeddings (cached like frozen features) against
 * each class's positive / negative prompt embeddings (`ZeroShotClassifier` of @g2d-ts/heads);
 * AUC, and F1 and accuracy at the best-F1 threshold per class as MedKLIP reports them.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { cacheDirs, classificationMetrics, extractFeatures, imageName, loadEvalData, paperTableMarkdown, parseDatasetSpec, perClassBarSvg, positives, resultsData, rocSvg, splitSizes, startEvalRun, transformKey, writePredictionsCsv, writeResultsJson, writeResultsMd, writeSvg, type ClassificationMetrics, type EncoderInfo, type EvalRunOptions } from '@g2d-ts/eval';
import { defaultPrompts, loadPrompts, promptsFor, ZeroShotClassifier } from '@g2d-ts/heads';
import type { ZeroShotConfig } from './config';

/** What the run gets from its command (@g2d-ts/eval's `EvalRunOptions`). */
export type RunContext = EvalRunOptions;

export interface ZeroShotResult {
  out: string;
  metrics: ClassificationMetrics;
  encoder: EncoderInfo;
  seconds: number;
}

export async function runZeroShot(cfg: ZeroShotConfig, ctx: RunContext): Promise<ZeroShotResult> {
  const log = ctx.log;
  const { timer, out, model, info, t } = await startEvalRun('eval-zeroshot', cfg, ctx);
  const caches = cacheDirs(cfg, ctx.cwd);
  try {
    if (info.loadedParts && !info.loadedParts.includes('lm_model')) {
      throw new G2DError(
        `zero-shot needs the text encoder, but ${info.path} (${info.checkpointKind}) holds only ${info.loadedParts.join(', ')}: pass a full checkpoint (our final/ folder or *_checkpoint.pth)`,
        { source: info.path },
      );
    }
    const { data, splits } = await timer.time('data', () => loadEvalData(cfg, { log }));
    const classes = data.classes;
    const items = cfg.split === 'all' ? [...splits.trainFull, ...splits.val, ...splits.test] : splits.test;
    const labels = items.map((it) => it.labels!.map((v) => (v === 1 ? 1 : 0)));
    const setName = cfg.promptSet ?? parseDatasetSpec(cfg.dataset).adapter;
    const file = cfg.prompts ? loadPrompts(cfg.prompts) : defaultPrompts();
    const prompts = promptsFor(setName, classes, file, cfg.prompts ?? '@g2d-ts/heads prompts/zero-shot.json');
    log(`[eval] zero-shot: ${classes.length} classes, prompt set "${setName}"${cfg.prompts ? ` from ${cfg.prompts}` : ''}; ${items.length} ${cfg.split === 'all' ? '' : 'test '}images`);
    const head = await timer.time('prompts', () => ZeroShotClassifier.fromPrompts(model, prompts, classes, { temperature: cfg.temperature }));
    let probs: number[][];
    try {
      const feats = await timer.time('embeddings', () =>
        extractFeatures({ model, encoder: info, items, dataset: data.identity, transform: t, kind: 'embedding', batchSize: cfg.inferenceBatchSize, cacheDir: caches.features, imageCacheDir: caches.images, log, label: 'embeddings' }),
      );
      log(`[eval] embeddings: ${feats.cached} cached, ${feats.computed} computed in ${feats.seconds.toFixed(1)} s`);
      probs = await timer.time('score', async () => {
        const buf = new Float32Array(items.length * feats.dim);
        feats.features.forEach((r, i) => buf.set(r, i * feats.dim));
        const x = tf.tensor2d(buf, [items.length, feats.dim]);
        const p = head.forward(x);
        const d = (await p.data()) as Float32Array;
        x.dispose();
        p.dispose();
        const C = classes.length;
        return items.map((_, i) => Array.from(d.subarray(i * C, (i + 1) * C)));
      });
    } finally {
      head.dispose();
    }
    const metrics = classificationMetrics(probs, labels, classes);
    writePredictionsCsv(out, classes, items.map((it, i) => ({ image: imageName(it), scores: probs[i]!, labels: labels[i]! })));
    writeSvg(out, 'auc-per-class.svg', perClassBarSvg(metrics.auc.perClass, { title: `Zero-shot AUC per class, ${data.displayName} (mean ${metrics.auc.mean === null ? '—' : metrics.auc.mean.toFixed(3)})` }));
    writeSvg(out, 'roc.svg', rocSvg(classes, probs, labels, metrics, `Zero-shot ROC, ${data.displayName} (${metrics.n} images)`));
    const seconds = timer.seconds;
    const sizes = splitSizes(splits);
    writeResultsJson(out, {
      task: 'zero-shot-classification',
      config: cfg,
      encoder: info,
      data: resultsData(
        cfg,
        { displayName: data.displayName, classes, splitSource: splits.source, sizes: { ...sizes, evaluated: { images: items.length, patients: new Set(items.map((i) => i.patientId)).size } } },
        { evaluatedSplit: cfg.split, positives: positives(items, classes), transform: transformKey(t) },
      ),
      prompts: { set: setName, file: cfg.prompts ?? null, temperature: cfg.temperature, pairs: prompts },
      runtime: { seconds, cpuSeconds: timer.cpuSeconds, backend: ctx.backend, phases: timer.phases },
      metrics: { ...metrics, summary: { auc: metrics.auc.mean, f1: metrics.bestF1.meanF1, accuracy: metrics.bestF1.meanAccuracy } },
      finishedAt: new Date().toISOString(),
    });
    writeResultsMd(out, markdown(cfg, info, data.displayName, metrics, seconds, setName, timer.cpuSeconds));
    return { out, metrics, encoder: info, seconds };
  } finally {
    model.dispose();
  }
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : (v * 100).toFixed(1));

function markdown(cfg: ZeroShotConfig, info: EncoderInfo, name: string, m: ClassificationMetrics, seconds: number, setName: string, cpuSeconds: number): string {
  const cols = [`${name} AUC`, `${name} F1`, `${name} ACC`];
  return [
    `# Zero-shot classification: ${name}`,
    '',
    'Mean over classes of AUC, and of F1 and accuracy at each class\'s best-F1 threshold (MedKLIP\'s protocol), ×100.',
    '',
    paperTableMarkdown({ columns: cols, rows: [{ method: info.label, cells: { [cols[0]!]: m.auc.mean, [cols[1]!]: m.bestF1.meanF1, [cols[2]!]: m.bestF1.meanAccuracy } }], scale: 100 }),
    '',
    `## Per class (${cfg.split === 'all' ? 'all' : 'test'}: ${m.n} images)`,
    '',
    '| class | positives | AUC | F1 | ACC | threshold |',
    '|---|---:|---:|---:|---:|---:|',
    ...m.classes.map((c) => {
      const f = m.bestF1.perClass[c];
      return `| ${c.replace(/\|/g, '\\|')} | ${m.positives[c]} | ${pct(m.auc.perClass[c])} | ${f ? pct(f.f1) : '—'} | ${f ? pct(f.accuracy) : '—'} | ${f ? f.threshold.toFixed(4) : '—'} |`;
    }),
    `| **mean** | | **${pct(m.auc.mean)}** | ${pct(m.bestF1.meanF1)} | ${pct(m.bestF1.meanAccuracy)} | |`,
    '',
    '## Run',
    '',
    `- ${info.note}`,
    `- data: ${cfg.dataset}${cfg.test ? `, test folder ${cfg.test}` : ''}; prompt set "${setName}"${cfg.prompts ? ` (${path.basename(cfg.prompts)})` : ' (shipped with @g2d-ts/heads)'}, temperature ${cfg.temperature}`,
    `- runtime: ${seconds.toFixed(1)} s wall clock, ${cpuSeconds.toFixed(1)} s CPU (all threads)`,
    '',
    'Files: results.json, predictions.csv, auc-per-class.svg (sorted), roc.svg',
    '',
  ].join('\n');
}
