/**
 * Memory modes of the backbones and the U-Net: 'balanced' and 'lean' recompute blocks in the
 * backward pass; the gradients and the BatchNorm running statistics must equal 'fast' (the
 * plain path) on every backend, under both @g2d-ts/nn's backward pass and tfjs's. A block
 * boundary with consumers outside the block (a pyramid level the decoder also reads) gets its
 * gradient summed in another order, so agreement is to float32 rounding there, not bitwise.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@g2d-ts/core';
import { describeBackends, expectNamedArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { variableGrads, type MemoryMode, type Module } from '@g2d-ts/nn';
import { ResNet, Unet, VisionTransformer } from '../src';

/** float32 summation order (see above); a real error is orders of magnitude larger */
const CLOSE = { rtol: 1e-5, atol: 1e-6 };
const MODES: MemoryMode[] = ['fast', 'balanced', 'lean'];

function image(b: number, s: number, seed: number): tf.Tensor4D {
  const r = new Rng(seed);
  const d = new Float32Array(b * s * s * 3);
  for (let i = 0; i < d.length; i++) d[i] = r.next() * 2 - 1;
  return tf.tensor4d(d, [b, s, s, 3]);
}

/** One training step's gradients (by parameter name) and the buffers/counters after it. */
function step(model: Module, loss: () => tf.Scalar, how: 'nn' | 'tf'): Map<string, Float32Array> {
  const names = new Map(model.namedParameters().map(([n, v]) => [v.name, n]));
  const { value, grads } = how === 'nn' ? variableGrads(loss, model.trainableVariables()) : tf.variableGrads(loss, model.trainableVariables());
  const out = new Map<string, Float32Array>([['loss', value.dataSync() as Float32Array]]);
  for (const [k, g] of Object.entries(grads)) out.set(`grad:${names.get(k)}`, g!.dataSync() as Float32Array);
  for (const [n, e] of model.namedEntries()) {
    if (e.kind === 'tensor' && e.buffer) out.set(n, e.variable.dataSync() as Float32Array);
    if (e.kind === 'counter') out.set(n, new Float32Array([e.get()]));
  }
  value.dispose();
  tf.dispose(Object.values(grads));
  return out;
}

function expectSame(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string): void {
  expectNamedArraysClose(a, b, what, CLOSE);
}

const tinyUnet = (block: 'basic' | 'bottleneck') =>
  new Unet({
    encoder: new ResNet(`tiny-${block}`, { block, layers: block === 'basic' ? [1, 1, 1, 1] : [1, 2, 1, 1], widths: [4, 4, 8, 8], stemWidth: 4 }, { seed: 3 }),
    decoderChannels: [8, 8, 4, 4, 4],
    seed: 3,
  });

describeBackends('memory modes: ResNet + U-Net', ({ backend }) => {
  // the pure-JS cpu backend takes seconds per step even for this tiny net: one block kind there
  for (const block of backend === 'cpu' ? (['basic'] as const) : (['basic', 'bottleneck'] as const)) {
    it(`U-Net on a ${block} ResNet: every mode gives the plain path's gradients and BatchNorm statistics (2 steps)`, async () => {
      const x = image(2, 32, 1);
      const results = await Promise.all(
        MODES.map((mode) => {
          const m = tinyUnet(block).setMemoryMode(mode);
          const loss = () =>
            tf.tidy(() => {
              const { features, logits } = m.forwardAll(x);
              // the PS-like loss on the decoder and a VLA-like one on the bottleneck
              const l = tf.add(tf.mean(tf.square(logits)), tf.mean(features[features.length - 1]!));
              tf.dispose(features.slice(1));
              return l as tf.Scalar;
            });
          return expectNoLeakedTensors(() => {
            const r = [step(m, loss, 'nn'), step(m, loss, 'tf')];
            m.dispose();
            return r;
          });
        }),
      );
      for (let i = 1; i < MODES.length; i++) {
        expectSame(results[i]![0]!, results[0]![0]!, `${MODES[i]} vs fast (nn backward)`);
        expectSame(results[i]![1]!, results[0]![1]!, `${MODES[i]} vs fast (tfjs backward, second step)`);
      }
      x.dispose();
    });
  }

  it('ViT encoder blocks: lean and balanced give the plain path\'s gradients', () => {
    const x = image(2, 16, 2);
    const cfg = { imageSize: 16, patchSize: 8, numLayers: 3, numHeads: 2, hiddenDim: 8, mlpDim: 16 };
    const res = MODES.map((mode) => {
      const m = new VisionTransformer('vit-tiny', cfg, { seed: 4 }).setMemoryMode(mode);
      const r = step(m, () => tf.tidy(() => {
        const f = m.forward(x);
        const l = tf.mean(tf.square(f[1]!)) as tf.Scalar;
        tf.dispose(f);
        return l;
      }), 'nn');
      m.dispose();
      return r;
    });
    expectSame(res[1]!, res[0]!, 'balanced vs fast');
    expectSame(res[2]!, res[0]!, 'lean vs fast');
    x.dispose();
  });
});
