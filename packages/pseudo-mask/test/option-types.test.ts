/**
 * Each function's options type is named for it: `AttentionToPseudoMaskOptions` (tensors) for
 * attentionToPseudoMask, `PseudoMaskFromArrayOptions` (plain arrays) for pseudoMaskFromArray.
 * The generic name `PseudoMaskOptions` (the array function's options, which do not fit the
 * tensor function) is no longer exported: `pnpm --filter @g2d-ts/pseudo-mask run typecheck`
 * (tsconfig includes test/) fails on the `@ts-expect-error` below if it comes back.
 */
import * as tf from '@tensorflow/tfjs';
import * as api from '../src';
import { attentionToPseudoMask, pseudoMaskFromArray, type AttentionToPseudoMaskOptions, type PseudoMaskFromArrayOptions } from '../src';

// @ts-expect-error the array processor's options are not exported under the generic name
export type Trap = api.PseudoMaskOptions;

describe('options types', () => {
  it('each function takes the options type named for it', () => {
    const att = tf.tensor4d(Array.from({ length: 2 * 2 * 2 }, (_, i) => i), [1, 2, 2, 2]);
    const tensorOpts: AttentionToPseudoMaskOptions = { size: 4, mode: 'paper', image: tf.ones([1, 4, 4, 1]) };
    const arrayOpts: PseudoMaskFromArrayOptions = { size: 4, mode: 'paper', image: { data: new Float32Array(16).fill(1), shape: [1, 4, 4, 1] } };
    const a = attentionToPseudoMask(att, tensorOpts);
    const b = pseudoMaskFromArray({ data: att.dataSync(), shape: att.shape }, arrayOpts);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.data));
    expect(b.shape).toEqual([1, 1, 4, 4]);
    tf.dispose([att, tensorOpts.image!, a]);
  });
});
