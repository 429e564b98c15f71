/** Helpers to read the packed masks of the goldens and of the cross-check fixture. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/** numpy.packbits bytes (MSB first) -> n values of 0/1. */
export function unpackBits(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return out;
}

export function decodeMask(m: { shape: number[]; packbits_base64?: string; zlib_packbits_base64?: string }): Uint8Array {
  const n = m.shape.reduce((a, b) => a * b, 1);
  const raw = m.zlib_packbits_base64
    ? zlib.inflateSync(Buffer.from(m.zlib_packbits_base64, 'base64'))
    : Buffer.from(m.packbits_base64!, 'base64');
  return unpackBits(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), n);
}

export function decodeF32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

export interface CrossCase {
  name: string;
  input: string;
  batch: number;
  num_maps: number;
  threshold: 'quantil' | 'mean' | 'median';
  quantile: number;
  size: number;
  mask: { shape: number[]; zlib_packbits_base64: string };
}

export function loadCrosscheck(): { inputs: Record<string, { shape: number[]; data: Float32Array }>; cases: CrossCase[] } {
  const raw = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/crosscheck.json'), 'utf8'));
  const inputs: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(raw.inputs as Record<string, { shape: number[]; f32le_base64: string }>)) {
    inputs[k] = { shape: v.shape, data: decodeF32(v.f32le_base64) };
  }
  return { inputs, cases: raw.cases };
}

/** Index and count of the differing elements. */
export function diffCount(a: ArrayLike<number>, b: ArrayLike<number>): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { count, first };
}
