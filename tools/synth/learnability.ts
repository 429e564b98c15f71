/**
 * Is the synthetic task learnable, and not trivially? A small CNN is trained on 1,000 synthetic
 * studies (256x256, downsampled to 64x64) to predict each finding, then scored on 300 held-out
 * studies (other patients) with the per-finding ROC AUC (@g2d-ts/metrics rocAuc).
 *
 *   pnpm exec tsx --tsconfig tools/build/tsconfig.run.json tools/synth/learnability.ts [--train 1000] [--test 300] [--epochs 25] [--json FILE]
 *
 * Runs on the backend initBackend picks (G2D_BACKEND=tensorflow for the native one).
 */
import * as path from 'node:path';
import { createRequire } from 'node:module';
// tools/ has no node_modules of its own: types and module come from the copy the workspace packages use
import type * as TF from '../../packages/core/node_modules/@tensorflow/tfjs';
import { initBackend, Rng } from '@g2d-ts/core';
import { generateSynthetic, SYNTH_FINDINGS } from '@g2d-ts/data';
import { rocAuc } from '@g2d-ts/metrics';
import { writeAtomic } from './canvas';

const ROOT = path.resolve(__dirname, '../..');
const tf = createRequire(path.join(ROOT, 'packages/core/package.json'))('@tensorflow/tfjs') as typeof TF;

const args = process.argv.slice(2);
const arg = (k: string, d: string) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : d;
};
const N_TRAIN = Number(arg('train', '1000'));
const N_TEST = Number(arg('test', '300'));
const EPOCHS = Number(arg('epochs', '25'));
const SIZE = 256;
const SMALL = 64;
const SEED = 'learnability';

/** Studies [from, from + n): 64x64 images (4x4 means) and labels. Indices >= N_TRAIN are other patients. */
function makeSet(from: number, n: number): { x: Float32Array; y: Float32Array } {
  const f = SIZE / SMALL;
  const x = new Float32Array(n * SMALL * SMALL);
  const y = new Float32Array(n * SYNTH_FINDINGS.length);
  const t0 = Date.now();
  for (let k = 0; k < n; k++) {
    const s = generateSynthetic(from + k, { seed: SEED, size: SIZE });
    const o = k * SMALL * SMALL;
    for (let yy = 0; yy < SMALL; yy++) {
      for (let xx = 0; xx < SMALL; xx++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) sum += s.image[(yy * f + dy) * SIZE + xx * f + dx]!;
        x[o + yy * SMALL + xx] = sum / (f * f * 255);
      }
    }
    y.set(s.labels, k * SYNTH_FINDINGS.length);
    if ((k + 1) % 250 === 0) console.error(`  generated ${k + 1}/${n} (${((Date.now() - t0) / (k + 1)).toFixed(0)} ms/image)`);
  }
  return { x, y };
}

function model(seed: number): TF.Sequential {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed + k });
  const m = tf.sequential();
  const conv = (filters: number, k: number, first = false) =>
    m.add(tf.layers.conv2d({ ...(first ? { inputShape: [SMALL, SMALL, 1] } : {}), filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(k) }));
  const block = (filters: number, k: number, first = false) => {
    conv(filters, k, first);
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.reLU());
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  };
  block(16, 1, true); // 32
  block(32, 2); // 16
  block(64, 3); // 8
  block(64, 4); // 4
  m.add(tf.layers.flatten());
  m.add(tf.layers.dropout({ rate: 0.5, seed: seed + 5 }));
  m.add(tf.layers.dense({ units: SYNTH_FINDINGS.length, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 7 }) }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  return m;
}

async function main(): Promise<void> {
  const info = await initBackend();
  console.error(`generating ${N_TRAIN} training and ${N_TEST} held-out studies (${SIZE}x${SIZE} -> ${SMALL}x${SMALL}, seed "${SEED}")`);
  const train = makeSet(0, N_TRAIN);
  const test = makeSet(N_TRAIN + (N_TRAIN % 2), N_TEST); // start on a patient boundary: no patient in both
  // each image standardised on its own (exposure differs from study to study)
  const norm = (a: Float32Array) => {
    const out = new Float32Array(a.length);
    const n = SMALL * SMALL;
    for (let o = 0; o < a.length; o += n) {
      let mu = 0, sq = 0;
      for (let i = 0; i < n; i++) {
        mu += a[o + i]!;
        sq += a[o + i]! ** 2;
      }
      mu /= n;
      const sd = Math.sqrt(Math.max(1e-8, sq / n - mu * mu));
      for (let i = 0; i < n; i++) out[o + i] = (a[o + i]! - mu) / sd;
    }
    return out;
  };
  const xTr = tf.tensor4d(norm(train.x), [N_TRAIN, SMALL, SMALL, 1]);
  const yTr = tf.tensor2d(train.y, [N_TRAIN, SYNTH_FINDINGS.length]);
  const xTe = tf.tensor4d(norm(test.x), [N_TEST, SMALL, SMALL, 1]);
  const seed = new Rng(SEED).tfSeed();
  const m = model(seed);
  const t0 = Date.now();
  await m.fit(xTr, yTr, {
    epochs: EPOCHS,
    batchSize: 32,
    shuffle: true,
    verbose: 0,
    callbacks: { onEpochEnd: (e, logs) => void ((e + 1) % 5 === 0 && console.error(`  epoch ${e + 1}/${EPOCHS}: loss ${logs?.loss?.toFixed(4)}`)) },
  });
  const trainS = (Date.now() - t0) / 1000;
  const pred = (m.predict(xTe) as TF.Tensor).dataSync();
  const rows = SYNTH_FINDINGS.map((name, j) => {
    const scores: number[] = [], labels: number[] = [];
    for (let k = 0; k < N_TEST; k++) {
      scores.push(pred[k * SYNTH_FINDINGS.length + j]!);
      labels.push(test.y[k * SYNTH_FINDINGS.length + j]!);
    }
    const pos = labels.filter((l) => l === 1).length;
    const trainPos = Array.from({ length: N_TRAIN }, (_, k) => train.y[k * SYNTH_FINDINGS.length + j]!).filter((l) => l === 1).length;
    return { finding: name, auc: rocAuc(scores, labels), testPositives: pos, trainPositives: trainPos };
  });
  const meanAuc = rows.reduce((s, r) => s + r.auc, 0) / rows.length;
  console.log(`| finding | AUC (held-out, n=${N_TEST}) | positives (test / train) |`);
  console.log('|---|---|---|');
  for (const r of rows) console.log(`| \`${r.finding}\` | ${r.auc.toFixed(3)} | ${r.testPositives} / ${r.trainPositives} |`);
  console.log(`| mean | ${meanAuc.toFixed(3)} | |`);
  console.log(`backend ${info.backend}; ${N_TRAIN} training studies, ${EPOCHS} epochs, training ${trainS.toFixed(0)} s`);
  const json = arg('json', '');
  if (json) writeAtomic(path.resolve(json), `${JSON.stringify({ backend: info.backend, train: N_TRAIN, test: N_TEST, epochs: EPOCHS, size: SMALL, seed: SEED, meanAuc, rows }, null, 1)}\n`);
  tf.dispose([xTr, yTr, xTe]);
  m.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
