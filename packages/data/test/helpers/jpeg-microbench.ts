/**
 * Decode-only timing of the two JPEG decoders (not a test): `pnpm exec tsx test/helpers/jpeg-microbench.ts`
 * from packages/data. Prints the median ms per image for the lossless grey fast path (a real
 * 1576x1976 CR), the general lossless path (restart intervals), and the sequential DCT decoder
 * on real 8-bit 1024² JPEGs. Needs ../shared/data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedPath } from '@g2d-ts/core/testing';
import { decodeJpegLosslessFast } from '../../src/dicom/lossless';
import { decodeJpegSequential } from '../../src/dicom/jpeg12';
import { encodeJpegLossless } from './lossless-encoder';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}
function time(fn: () => void, reps: number): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

const dcm = sharedPath('data/dicom_samples/codecs/fodicom_CR-ModalitySequenceLUT.dcm');
const nih = sharedPath('data/nih_cxr14_bbox/images');
if (!dcm || !nih) throw new Error('needs ../shared/data');
const bytes = fs.readFileSync(dcm);
let s = 0;
while (!(bytes[s] === 0xff && bytes[s + 1] === 0xd8 && bytes[s + 2] === 0xff)) s++;
const lossless = bytes.subarray(s);
const w = 512;
const img = Array.from({ length: w * w }, (_, i) => ((i % w) * 3 + Math.floor(i / w) * 5 + ((i * 2654435761) >>> 28)) & 0xfff);
const restart = encodeJpegLossless(img, w, w, 12, 1, 1, w);
const jpgs = fs.readdirSync(nih).sort().slice(0, 4).map((f) => fs.readFileSync(path.join(nih, f)));
const reps = Number(process.argv[2] ?? 15);
const r = {
  losslessGrayMs: time(() => decodeJpegLosslessFast(lossless), reps),
  losslessRestartMs: time(() => decodeJpegLosslessFast(restart), reps),
  sequentialMs: time(() => jpgs.forEach((j) => decodeJpegSequential(j)), reps) / jpgs.length,
};
console.log(JSON.stringify(r));
