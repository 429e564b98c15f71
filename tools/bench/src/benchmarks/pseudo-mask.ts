/**
 * `pseudo-mask`: the parameter-free processor (code mode, the reference's steps) on a batch
 * of 64 attention maps (4 heads, 8x8) -> 64 x 1 x 256 x 256 masks, against numpy doing the
 * same steps on the same maps in the same run. ratio = our ms per batch / numpy's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { attentionToPseudoMask } from '@g2d/pseudo-mask';
import { defineBenchmark, median, timeIt } from '../types';

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
        },
        reference: ref as Record<string, number | string | boolean | null>,
        ratio: ours / refMs,
        unit: `ms per batch of ${B} (${HEADS}x${GRID}x${GRID} -> ${SIZE}x${SIZE}, quantile 0.85)`,
        notes: 'ours: attentionToPseudoMask on the active backend (tensor in, tensor out); reference: numpy 1.24 with the same steps on the same maps',
      };
    } finally {
      att.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});
