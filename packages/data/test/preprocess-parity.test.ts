/**
 * Image decoding vs Pillow and the reference preprocessing vs the reference's numpy/skimage
 * code (tools/data/gen_preprocess_goldens.py -> test/fixtures/preprocess-goldens.json):
 * all exact (sha256 of the values).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeShared } from '@g2d-ts/core/testing';
import { loadImage, referencePreprocess } from '../src';

const g = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/preprocess-goldens.json'), 'utf8')) as {
  images: { file: string; shape: number[]; decodeSha256: string; pre256: string; pre224: string }[];
  dicom: { file: string; shape: number[]; convertSha256: string; pre256: string }[];
  synthetic: { name: string; h: number; w: number; dtype: string; input: number[]; size: number; output: number[] }[];
};
const sha = (v: ArrayLike<number>) => crypto.createHash('sha256').update(Buffer.from(Int32Array.from(v).buffer)).digest('hex');

describe('reference preprocessing on synthetic arrays (inline goldens)', () => {
  for (const s of g.synthetic) {
    it(s.name, () => {
      const data = s.dtype === 'uint16' ? Uint16Array.from(s.input) : Uint8Array.from(s.input);
      const out = referencePreprocess({ width: s.w, height: s.h, data }, { size: s.size });
      expect(Array.from(out)).toEqual(s.output);
    });
  }
});

describeShared('PNG/JPEG decoding = Pillow, preprocessing = reference (real images)', 'data', (root) => {
  for (const c of g.images) {
    it(`${c.file}`, async () => {
      const { image } = await loadImage(path.join(root, c.file));
      expect([image.height, image.width]).toEqual(c.shape);
      expect(sha(image.data)).toBe(c.decodeSha256);
      expect(sha(referencePreprocess(image, { size: 256 }))).toBe(c.pre256);
      expect(sha(referencePreprocess(image, { size: 224 }))).toBe(c.pre224);
    });
  }
  for (const c of g.dicom) {
    it(`${c.file} (DICOM -> convert grey -> preprocess)`, async () => {
      const { image } = await loadImage(path.join(root, c.file));
      expect([image.height, image.width]).toEqual(c.shape);
      expect(sha(image.data)).toBe(c.convertSha256);
      expect(sha(referencePreprocess(image, { size: 256 }))).toBe(c.pre256);
    });
  }
});
