/**
 * The shared base suite, run over every registered backbone on every available backend:
 * pyramid channels/reductions, odd input sizes, forward/backward in train mode, eval
 * determinism, save/load round-trip, and no leaked tensors.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, expectArraysClose, expectNoLeakedTensors, testBackends } from '@g2d-ts/core/testing';
import { autoFromPretrained, saveModel } from '@g2d-ts/nn';
import { type Backbone, backbones } from '../src';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-backbones-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Expected spatial size of each level for an H×W input. */
function levelSizes(b: Backbone, h: number, w: number): [number, number][] {
  if (b.reductions.length === 2) {
    const p = b.reductions[1]!;
    return [[h, w], [Math.floor(h / p), Math.floor(w / p)]];
  }
  // ResNet: every stride-2 step (7x7/p3 conv, 3x3/p1 max-pool and convs) gives ceil(n/2)
  const out: [number, number][] = [[h, w]];
  let [a, c] = [h, w];
  for (let i = 1; i < b.reductions.length; i++) {
    a = Math.ceil(a / 2);
    c = Math.ceil(c / 2);
    out.push([a, c]);
  }
  return out;
}

function input(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.randomNormal(shape, 0, 1, 'float32', seed) as tf.Tensor4D;
}

// The pure-JS cpu backend is 50-100x slower than tensorflow/wasm. When a fast backend is
// present, the >30M-parameter models' backward and round-trip run there only (tiny nets cover
// the same code paths on cpu in parity-small.test.ts).
const HEAVY = new Set(['resnet101', 'vit_b_16']);
const fastBackendPresent = testBackends().some((b) => b !== 'cpu');

describeBackends('backbone base suite', ({ backend }) => {
  for (const name of backbones.list()) {
    const heavyIt = backend === 'cpu' && fastBackendPresent && HEAVY.has(name) ? it.skip : it;
    describe(name, () => {
      let net: Backbone;
      const isVit = backbones.meta(name)?.family === 'vit';
      // small inputs keep the cpu backend fast; ViT needs whole patches
      const H = 32;
      const W = isVit ? 48 : 32;
      beforeAll(() => {
        net = backbones.create(name, isVit ? { imageSize: 32 } : {});
      });
      afterAll(() => net.dispose());

      it('registry metadata, channels and reductions match the pyramid', async () => {
        const meta = backbones.meta(name)!;
        expect(net.outChannels).toEqual(meta.outChannels);
        expect(net.reductions).toEqual(meta.reductions);
        net.eval();
        const x = input([2, H, W, 3], 1);
        const feats = await expectNoLeakedTensors(() => net.forward(x), net.outChannels.length);
        const sizes = levelSizes(net, H, W);
        expect(feats.map((f) => f.shape)).toEqual(net.outChannels.map((c, i) => [2, ...sizes[i]!, c]));
        expect(net.reductions.map((r) => H / r)).toEqual(sizes.map(([h]) => (isVit ? h : Math.max(1, h))));
        for (const f of feats) expect(Array.from(f.dataSync()).every(Number.isFinite)).toBe(true);
        tf.dispose([x, ...feats]);
      });

      it('train-mode forward leaks no tensors (BatchNorm statistics updates included)', async () => {
        net.train();
        const x = input([2, H, W, 3], 5);
        const feats = await expectNoLeakedTensors(() => net.forward(x), net.outChannels.length);
        tf.dispose([x, ...feats]);
        net.eval();
      });

      it('handles odd, non-square input sizes', () => {
        net.eval();
        const [h, w] = isVit ? [37, 53] : [33, 47];
        const x = input([1, h, w, 3], 2);
        const feats = net.forward(x);
        expect(feats.map((f) => [f.shape[1], f.shape[2]])).toEqual(levelSizes(net, h, w));
        tf.dispose([x, ...feats]);
      });

      heavyIt('forward/backward in train mode: every trainable parameter gets a finite gradient, BN statistics move', async () => {
        net.train();
        const x = input([2, H, W, 3], 3);
        const vars = net.trainableVariables();
        expect(vars.length).toBeGreaterThan(0);
        const before = net.stateDict();
        await expectNoLeakedTensors(() => {
          const { value, grads } = tf.variableGrads(() => {
            const feats = net.forward(x);
            const last = feats[feats.length - 1]!;
            return tf.mean(tf.square(last)) as tf.Scalar;
          }, vars);
          expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
          let nonzero = 0;
          for (const v of vars) {
            const g = grads[v.name]!;
            expect(g.shape).toEqual(v.shape);
            const d = g.dataSync();
            expect(d.every(Number.isFinite)).toBe(true);
            if (d.some((e) => e !== 0)) nonzero++;
          }
          // (the ViT class token/pos-embedding of unused positions may get zero gradient)
          expect(nonzero).toBeGreaterThan(vars.length * 0.9);
          tf.dispose([value, ...Object.values(grads)]);
        });
        const after = net.stateDict();
        const runKey = [...after.keys()].find((k) => k.endsWith('running_mean'));
        if (runKey) expect(Array.from(after.get(runKey)!.data as Float32Array)).not.toEqual(Array.from(before.get(runKey)!.data as Float32Array));
        net.eval();
        x.dispose();
      });

      heavyIt('save/load round-trip reproduces the outputs exactly', async () => {
        net.eval();
        const dir = path.join(tmp, `${name}-${backend}`);
        await saveModel(net, dir);
        expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).g2d_class).toBeDefined();
        const back = (await autoFromPretrained(dir)) as Backbone;
        back.eval();
        expect(back.name).toBe(name);
        const x = input([1, H, W, 3], 4);
        const a = net.forward(x);
        const b = back.forward(x);
        a.forEach((t, i) => expectArraysClose(b[i]!, t, { rtol: 0, atol: 0 }));
        tf.dispose([x, ...a, ...b]);
        back.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      });
    });
  }
});
