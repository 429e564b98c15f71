/** Our JPEG lossless decoder vs a reference encoder (round trip) and jpeg-lossless-decoder-js. */
import { decodeJpegLosslessFast } from '../src/dicom/lossless';
import { decodeJpegLosslessLib } from '../src/dicom/codecs';
import { encodeJpegLossless } from './helpers/lossless-encoder';

function image(w: number, h: number, comps: number, precision: number, seed: number): number[] {
  const max = 2 ** precision - 1;
  let s = seed;
  return Array.from({ length: w * h * comps }, (_, i) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const x = (i / comps) % w;
    return Math.min(max, Math.round(((x * 37) % max) * 0.5 + (s % Math.max(2, max >> 3))));
  });
}

describe('JPEG lossless decoder', () => {
  for (const predictor of [1, 2, 3, 4, 5, 6, 7]) {
    for (const [precision, comps, restart] of [[12, 1, 0], [8, 3, 0], [16, 1, 13], [10, 1, 7 * 9]] as const) {
      it(`predictor ${predictor}, ${precision}-bit, ${comps} component(s), restart ${restart}`, () => {
        const w = 13;
        const h = 9;
        const img = image(w, h, comps, precision, predictor * 31 + precision);
        const jpg = encodeJpegLossless(img, w, h, precision, comps, predictor, restart);
        const r = decodeJpegLosslessFast(jpg);
        expect([r.width, r.height, r.components, r.precision]).toEqual([w, h, comps, precision]);
        expect(Array.from(r.data)).toEqual(img);
        if (comps === 1 && !restart) expect(Array.from(decodeJpegLosslessLib(jpg, precision > 8 ? 2 : 1).data)).toEqual(img);
      });
    }
  }
  // the one-component, no-restart fast path (combined code + extra-bits table, 8-bit narrowing)
  for (const predictor of [1, 4, 7]) {
    for (const precision of [2, 8, 16]) {
      it(`fast grey path: predictor ${predictor}, ${precision}-bit, 61x37`, () => {
        const w = 61;
        const h = 37;
        const img = image(w, h, 1, precision, predictor * 7 + precision);
        const r = decodeJpegLosslessFast(encodeJpegLossless(img, w, h, precision, 1, predictor, 0));
        expect(r.data).toBeInstanceOf(precision <= 8 ? Uint8Array : Uint16Array);
        expect(Array.from(r.data)).toEqual(img);
      });
    }
  }
  it('rejects non-lossless and truncated streams', () => {
    expect(() => decodeJpegLosslessFast(Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]))).toThrow(/not a lossless JPEG/);
    expect(() => decodeJpegLosslessFast(Uint8Array.from([1, 2, 3]))).toThrow(/no SOI/);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeShared } from '@g2d-ts/core/testing';
import { decodeJpegSequential } from '../src/dicom/jpeg12';
import { loadImage } from '../src';

describeShared('sequential DCT decoder (the 12-bit path) on 8-bit streams = libjpeg-turbo', 'data/nih_cxr14_bbox/images', (dir) => {
  it('bit-identical to libjpeg-turbo (islow IDCT) on real grey JPEGs', async () => {
    for (const f of fs.readdirSync(dir).sort().slice(0, 4)) {
      const file = path.join(dir, f);
      const ours = decodeJpegSequential(fs.readFileSync(file));
      const ref = await loadImage(file);
      expect([ours.width, ours.height]).toEqual([ref.image.width, ref.image.height]);
      let worst = 0;
      for (let i = 0; i < ours.data.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - ref.image.data[i]!));
      expect(worst).toBe(0);
    }
  });
});
