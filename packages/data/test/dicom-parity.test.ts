/**
 * Pixel parity with pydicom 2.4 + pylibjpeg on every file of ../shared/data/dicom_samples.
 * Goldens: tools/data/gen_dicom_goldens.py -> test/fixtures/dicom-goldens.json.
 * Lossless: identical sha256 of all values (max abs diff 0). Lossy: a strided sample of the
 * values within LOSSY_ATOL (libjpeg-turbo vs Pillow's libjpeg-turbo / libjpeg's colour
 * transform; our 12-bit islow IDCT vs libjpeg's for JPEG Extended), mean within 0.05.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeShared } from '@g2d-ts/core/testing';
import { G2DError } from '@g2d-ts/core';
import { readDicom, decodeDicomGray } from '../src';

interface Summary { shape: number[]; sha256: string; min: number; max: number; mean: number; sampleStride?: number; sample?: number[]; error?: string }
interface Entry { status: 'ok' | 'error'; lossy?: boolean; error?: string; stored?: Summary; convert?: Summary; note?: string }
const goldens = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/dicom-goldens.json'), 'utf8')) as { files: Record<string, Entry> };

/** Documented tolerance for lossy transfer syntaxes (max abs difference of a stored value). */
export const LOSSY_ATOL = 1;

/** Files we reject, with the reason our error must give. */
const EXPECTED_ERRORS: Record<string, RegExp> = {
  'codecs/fodicom_chrJapMulti_CR_CHEST_32x32.dcm': /no Pixel Data \(7FE0,0010\) element/,
  'codecs/pydicom_MR_truncated.dcm': /truncated/,
  'codecs/pydicom_no_meta.dcm': /not a DICOM file: no "DICM" marker/,
};
/** `convert` (grey mapping) refusals. */
const EXPECTED_CONVERT_ERRORS: Record<string, RegExp> = {
  'codecs/fodicom_GH1261.dcm': /Window Width 0 must be >= 1/,
  'codecs/pydicom_examples_palette.dcm': /PALETTE COLOR/,
};

function summarize(values: ArrayLike<number>): { sha256: string; min: number; max: number; mean: number; i32: Int32Array } {
  const i32 = Int32Array.from(values);
  const sha256 = crypto.createHash('sha256').update(Buffer.from(i32.buffer)).digest('hex');
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of i32) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { sha256, min, max, mean: sum / i32.length, i32 };
}

const lossyExact: string[] = [];
const lossyInexact: string[] = [];

function compare(label: string, ours: ArrayLike<number>, g: Summary, lossy: boolean): void {
  const s = summarize(ours);
  if (lossy) (s.sha256 === g.sha256 ? lossyExact : lossyInexact).push(label);
  const n = g.shape.reduce((a, b) => a * b, 1);
  expect(s.i32.length).toBe(n);
  if (!lossy) {
    if (s.sha256 !== g.sha256) throw new Error(`${label}: lossless pixels differ from pydicom (ours min ${s.min} max ${s.max} mean ${s.mean}; pydicom min ${g.min} max ${g.max} mean ${g.mean})`);
    return;
  }
  let worst = 0;
  g.sample!.forEach((v, k) => {
    worst = Math.max(worst, Math.abs(s.i32[k * g.sampleStride!]! - v));
  });
  if (worst > LOSSY_ATOL) throw new Error(`${label}: lossy sample max abs diff ${worst} > ${LOSSY_ATOL}`);
  expect(Math.abs(s.mean - g.mean)).toBeLessThan(0.05);
}

describeShared('DICOM pixel parity with pydicom + pylibjpeg', 'data/dicom_samples', (root) => {
  afterAll(() => {
    // visible record of how close the lossy ones are: bit-identical (sha256) or within LOSSY_ATOL
    process.stdout.write(`[dicom-parity] lossy comparisons bit-identical: ${lossyExact.length}; within ±${LOSSY_ATOL} only: ${lossyInexact.join(', ') || 'none'}\n`);
  });
  for (const [file, g] of Object.entries(goldens.files)) {
    const abs = path.join(root, file);
    const expectErr = EXPECTED_ERRORS[file];
    if (expectErr) {
      it(`${file}: rejected with a clear error`, async () => {
        const err = await readDicom(abs).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(G2DError);
        expect((err as Error).message).toContain(abs);
        expect((err as Error).message).toMatch(expectErr);
      });
      continue;
    }
    if (g.status !== 'ok') {
      it(`${file}: pydicom fails (${g.error}) and so must we`, async () => {
        await expect(readDicom(abs)).rejects.toBeInstanceOf(G2DError);
      });
      continue;
    }
    it(`${file}: stored values match pydicom${g.lossy ? ` (lossy, atol ${LOSSY_ATOL})` : ' exactly'}`, async () => {
      const px = await readDicom(abs);
      compare(file, px.pixels, g.stored!, !!g.lossy || !!g.note);
    });
    const cErr = EXPECTED_CONVERT_ERRORS[file];
    if (cErr) {
      it(`${file}: grey conversion refused with a clear error`, async () => {
        await expect(decodeDicomGray(fs.readFileSync(abs), abs)).rejects.toThrow(cErr);
      });
    } else if (g.convert && !g.convert.error) {
      it(`${file}: convert values (modality LUT, VOI, MONOCHROME1) match`, async () => {
        const img = await decodeDicomGray(fs.readFileSync(abs), abs);
        compare(`${file} convert`, img.image.data, g.convert!, !!g.lossy || !!g.note);
      });
    }
  }
});
