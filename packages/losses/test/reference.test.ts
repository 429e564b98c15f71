/**
 * The losses against the reference implementation's own outputs (goldens from
 * cheliu-computation/G2D-NeurIPS24 clip_loss / bceDiceLoss, torch 1.13), on every backend.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, describeShared, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { bceDiceLoss, clipLoss } from '../src';

interface T { shape: number[]; data?: number[]; packbits_base64?: string }

function unpack(m: T): Float32Array {
  const n = m.shape.reduce((a, b) => a * b, 1);
  const bytes = Buffer.from(m.packbits_base64!, 'base64');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return out;
}

const TOL = { rtol: 1e-5, atol: 1e-7 };

describeShared('reference goldens (losses)', 'goldens/reference-g2d/seed1234.json', (file) => {
  const cases = JSON.parse(fs.readFileSync(file, 'utf8')).cases as Record<string, Record<string, unknown> & { fn: string }>;
  const clip = Object.entries(cases).filter(([, c]) => c.fn === 'clip_loss');
  const dice = Object.entries(cases).filter(([, c]) => c.fn === 'bceDiceLoss');

  it('has the expected cases', () => {
    expect(clip.length).toBeGreaterThanOrEqual(2);
    expect(dice.length).toBeGreaterThanOrEqual(2);
  });

  describeBackends('goldens', () => {
    for (const [name, c] of clip) {
      it(`${name}: loss, acc1, acc5`, async () => {
        const x = c.x as T;
        const y = c.y as T;
        await expectNoLeakedTensors(() => {
          const img = tf.tensor2d(x.data!, x.shape as [number, number]);
          const txt = tf.tensor2d(y.data!, y.shape as [number, number]);
          const r = clipLoss(img, txt, { temperature: c.temperature as number });
          expectArraysClose(r.loss, [c.loss as number], TOL);
          expect(r.acc1).toBeCloseTo(c.acc1 as number, 10);
          expect(r.acc5).toBeCloseTo(c.acc5 as number, 10);
          // the terms add up to the loss
          expectArraysClose([r.terms.imageToText + r.terms.textToImage!], [c.loss as number], TOL);
          tf.dispose([img, txt, r.loss]);
        });
      });
    }
    for (const [name, c] of dice) {
      it(`${name}: train and eval`, async () => {
        const pred = c.pred as T;
        await expectNoLeakedTensors(() => {
          const p = tf.tensor(pred.data!, pred.shape);
          const t = tf.tensor(unpack(c.target as T), (c.target as T).shape);
          const train = bceDiceLoss(p, t, { train: true });
          const evalLoss = bceDiceLoss(p, t, { train: false });
          expectArraysClose(train, [c.loss_train as number], TOL);
          expectArraysClose(evalLoss, [c.loss_eval as number], TOL);
          tf.dispose([p, t, train, evalLoss]);
        });
      });
    }
  });
});
