/**
 * `pseudo-mask`: the parameter-free processor (code mode, the reference's steps) on a batch
 * of 64 attention maps (4 heads, 8x8) -> 64 x 1 x 256 x 256 masks, against numpy doing the
 * same steps on the same maps in the same run. ratio = our ms per batch / numpy's.
 *
 * Also reports paper mode on the same maps (ours only: the reference has no paper mode) with
 * 64 synthetic 256 x 256 radiographs (bright elliptic body, darker lungs, noise): Otsu body
 * masks + hole filling + in-body threshold + bilateral smoothing per call (`paper*`), and
 * with the body masks precomputed once and passed as `bodyMask` (`paperBodyMask*`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { attentionToPseudoMask, bodyMask } from '@g2d-ts/pseudo-mask';
import { defineBenchmark, median, timeIt } from '../types';

/** B x 1 x size x size float32 phantoms: bright ellipse (0.7) with two darker lungs (0.3) on 0.05, +-0.03 noise. */
function phantoms(B: number, size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const img = new Float32Array(B * size * size);
  for (let b = 0; b < B; b++) {
    const cy = size * (0.45 + 0.1 * rnd());
    const cx = size * (0.45 + 0.1 * rnd());
    const ry = size * (0.35 + 0.08 * rnd());
    const rx = size * (0.3 + 0.08 * rnd());
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const body = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1;
        const lung = ((y - cy) / (ry * 0.6)) ** 2 + ((Math.abs(x - cx) - rx * 0.45) / (rx * 0.3)) ** 2 <= 1;
        img[(b * size + y) * size + x] = (body ? (lung ? 0.3 : 0.7) : 0.05) + (rnd() - 0.5) * 0.06;
      }
    }
  }
  return img;
}

const B = 64;
const HEADS = 4;
const GRID = 8;
const SIZE = 256;

export default defineBenchmark({
  name: 'pseudo-mask',
  description: `attention maps ${B}x${HEADS}x${GRID}x${GRID} -> ${B}x1x${SIZE}x${SIZE} pseudo masks (code mode, 0.85 quantile) vs numpy`,
  async run(ctx) {
    const iters = ctx.quick ? 10 : 50;
    const att = tf.tidy(() => tf.softmax(tf.randomNormal([B, HEADS, GRID * GRID], 0, 2, 'float32', 1234)).reshape([B, HEADS, GRID, GRID])) as tf.Tensor4D;
    const data = att.dataSync() as Float32Array;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-bench-pm-'));
    const input = path.join(dir, 'att.f32');
    fs.writeFileSync(input, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    try {
      // tensor in -> tensor out (reads the input, builds the output tensor)
      const tensorMs = await timeIt(() => attentionToPseudoMask(att, { size: SIZE }).dispose(), iters, 3);
      const meanMs = await timeIt(() => attentionToPseudoMask(att, { size: SIZE, threshold: 'mean' }).dispose(), iters, 3);
      const mask = attentionToPseudoMask(att, { size: SIZE });
      const ones = tf.tidy(() => tf.sum(mask).dataSync()[0]!);
      mask.dispose();
      // paper mode (ours only)
      const paperIters = ctx.quick ? 5 : 30;
      const image = tf.tensor4d(phantoms(B, SIZE, 99), [B, 1, SIZE, SIZE]);
      const bodies = bodyMask(image);
      let paperMs: number[];
      let paperPerHeadMs: number[];
      let paperNoSmoothMs: number[];
      let paperBodyMaskMs: number[];
      let paperOnes: number;
      try {
        paperMs = await timeIt(() => attentionToPseudoMask(att, { mode: 'paper', image, size: SIZE }).dispose(), paperIters, 3);
        paperPerHeadMs = await timeIt(() => attentionToPseudoMask(att, { mode: 'paper', image, size: SIZE, numMaps: HEADS }).dispose(), paperIters, 2);
        paperNoSmoothMs = await timeIt(() => attentionToPseudoMask(att, { mode: 'paper', image, size: SIZE, smoothing: false }).dispose(), paperIters, 2);
        paperBodyMaskMs = await timeIt(() => attentionToPseudoMask(att, { mode: 'paper', bodyMask: bodies, size: SIZE }).dispose(), paperIters, 2);
        const pm = attentionToPseudoMask(att, { mode: 'paper', image, size: SIZE });
        paperOnes = tf.tidy(() => tf.sum(pm).dataSync()[0]!);
        pm.dispose();
      } finally {
        tf.dispose([image, bodies]);
      }
      ctx.log(
        `paper mode: ${median(paperMs).toFixed(2)} ms/batch (image, Otsu per call), ` +
          `${median(paperBodyMaskMs).toFixed(2)} ms/batch (precomputed bodyMask), ` +
          `${median(paperPerHeadMs).toFixed(2)} ms/batch (${HEADS} maps per image)`,
      );
      const ref = await ctx.runPython('tools/bench/reference/pseudo-mask.py', [
        '--input', input, '--batch', String(B), '--heads', String(HEADS), '--grid', String(GRID), '--size', String(SIZE),
        '--iters', String(iters),
      ]);
      const ours = median(tensorMs);
      const refMs = Number(ref.medianMs);
      ctx.log(`ours ${ours.toFixed(2)} ms/batch, numpy ${refMs.toFixed(2)} ms/batch`);
      return {
        ours: {
          medianMs: ours,
          minMs: Math.min(...tensorMs),
          meanThresholdMedianMs: median(meanMs),
          iters,
          maskOnes: ones,
          masksAgree: ones === Number(ref.maskOnes),
          paperMedianMs: median(paperMs),
          paperMinMs: Math.min(...paperMs),
          paperPerHeadMedianMs: median(paperPerHeadMs),
          paperNoSmoothingMedianMs: median(paperNoSmoothMs),
          paperBodyMaskMedianMs: median(paperBodyMaskMs),
          paperIters,
          paperMaskOnes: paperOnes,
        },
        reference: ref as Record<string, number | string | boolean | null>,
        ratio: ours / refMs,
        unit: `ms per batch of ${B} (${HEADS}x${GRID}x${GRID} -> ${SIZE}x${SIZE}, quantile 0.85)`,
        notes:
          'ours: attentionToPseudoMask on the active backend (tensor in, tensor out); reference: numpy 1.24 with the same steps on the same maps. ' +
          `paper*: paper mode (ms per batch of ${B}, ours only, no reference) on ${B} synthetic ${SIZE}x${SIZE} radiographs: ` +
          'paperMedianMs = Otsu body masks from the image + hole filling + in-body 0.85 quantile + bilateral smoothing (defaults); ' +
          `paperPerHeadMedianMs = the same with one mask per head (${HEADS} maps per image); paperNoSmoothingMedianMs = smoothing off; ` +
          'paperBodyMaskMedianMs = body masks precomputed once and passed as bodyMask',
      };
    } finally {
      att.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});
