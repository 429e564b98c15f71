/**
 * Code mode against the reference: the goldens (the reference's own transform_att2label on
 * the shared seed-1234 inputs) and the committed cross-check fixture (the reference steps
 * re-run with torch / torchvision / numpy on inputs built to stress ties and float32
 * rounding; tools/pseudo-mask/crosscheck_reference.py). Masks must match exactly, on every backend.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, describeShared, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { attentionToPseudoMask, attentionToPseudoMaskAsync, pseudoMaskFromArray } from '../src';
import { decodeMask, diffCount, loadCrosscheck } from './fixtures';

describeShared('reference goldens (transform_att2label)', 'goldens/reference-g2d/seed1234.json', (file) => {
  const all = JSON.parse(fs.readFileSync(file, 'utf8')).cases as Record<string, Record<string, unknown> & { fn: string }>;
  const cases = Object.entries(all).filter(([, c]) => c.fn === 'transform_att2label');

  it('has the six att2label cases', () => expect(cases.length).toBe(6));

  describeBackends('goldens', () => {
    for (const [name, c] of cases) {
      it(`${name}: mask matches exactly`, async () => {
        const att = c.att_map as { shape: [number, number, number, number]; data: number[] };
        const want = c.pseudo_mask as { shape: number[]; packbits_base64: string };
        await expectNoLeakedTensors(async () => {
          const a = tf.tensor4d(att.data, att.shape);
          const opts = {
            numMaps: c.num_pseudo_map as number,
            threshold: c.merge_threshold as 'quantil',
            quantile: c.quantil as number,
            size: c.size as number,
          };
          const m = attentionToPseudoMask(a, opts);
          expect(m.shape).toEqual(want.shape);
          expect(m.dtype).toBe('float32');
          const d = diffCount(m.dataSync(), decodeMask(want));
          expect(d).toEqual({ count: 0, first: -1 });
          const m2 = await attentionToPseudoMaskAsync(a, opts);
          expect(diffCount(m2.dataSync(), m.dataSync()).count).toBe(0);
          tf.dispose([a, m, m2]);
        });
      });
    }
  });
});

describe('cross-check fixture (reference steps, adversarial inputs)', () => {
  const { inputs, cases } = loadCrosscheck();
  it('covers the tricky families', () => {
    for (const f of ['softmax', 'equal', 'few', 'ulp', 'wide', 'large', 'seven', 'sixteen']) {
      expect(cases.some((c) => c.name.startsWith(f))).toBe(true);
    }
  });
  const slice = (c: (typeof cases)[number]) => {
    const inp = inputs[c.input]!;
    const per = inp.shape.slice(1).reduce((a, b) => a * b, 1);
    return { data: inp.data.subarray(0, c.batch * per), shape: [c.batch, ...inp.shape.slice(1)] as [number, number, number, number] };
  };

  it.each(cases.map((c) => [c.name, c] as const))('%s (typed-array core)', (_name, c) => {
    const r = pseudoMaskFromArray(slice(c), { numMaps: c.num_maps, threshold: c.threshold, quantile: c.quantile, size: c.size });
    expect(r.shape).toEqual(c.mask.shape);
    expect(diffCount(r.data, decodeMask(c.mask))).toEqual({ count: 0, first: -1 });
  });

  describeBackends('tensor API', () => {
    it('every fixture case matches through attentionToPseudoMask', () => {
      const bad: string[] = [];
      for (const c of cases) {
        const s = slice(c);
        const a = tf.tensor4d(s.data, s.shape);
        const m = attentionToPseudoMask(a, { numMaps: c.num_maps, threshold: c.threshold, quantile: c.quantile, size: c.size });
        if (diffCount(m.dataSync(), decodeMask(c.mask)).count) bad.push(c.name);
        tf.dispose([a, m]);
      }
      expect(bad).toEqual([]);
    });
  });
});
