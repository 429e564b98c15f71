/** DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, PackBits segments. */
import { G2DError } from '@g2d-ts/core';

/**
 * Decode one RLE frame into pixel-interleaved samples of `bitsAllocated` bits (little-endian
 * byte order in the returned bytes).
 */
export function decodeRleFrame(
  frame: Uint8Array,
  rows: number,
  cols: number,
  samplesPerPixel: number,
  bitsAllocated: number,
  source: string,
): Uint8Array {
  const bytesPerSample = bitsAllocated >> 3;
  const nPix = rows * cols;
  if (frame.length < 64) throw new G2DError(`RLE frame is ${frame.length} bytes, shorter than its 64-byte header`, { source });
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const nSeg = dv.getUint32(0, true);
  const expected = bytesPerSample * samplesPerPixel;
  if (nSeg !== expected) {
    throw new G2DError(`RLE header lists ${nSeg} segments, expected ${expected} (${samplesPerPixel} samples × ${bytesPerSample} bytes)`, { source });
  }
  const offsets: number[] = [];
  for (let s = 0; s < nSeg; s++) offsets.push(dv.getUint32(4 + 4 * s, true));
  const out = new Uint8Array(nPix * expected);
  const stride = expected;
  for (let s = 0; s < nSeg; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = s % bytesPerSample; // 0 = most significant
    // little-endian output: most significant byte goes last within the sample
    const base = sample * bytesPerSample + (bytesPerSample - 1 - byteInSample);
    let p = offsets[s]!;
    const end = s + 1 < nSeg ? offsets[s + 1]! : frame.length;
    if (p < 64 || p > frame.length || end > frame.length) throw new G2DError(`RLE segment ${s} offset ${p} is outside the frame`, { source });
    let o = 0;
    while (o < nPix && p < end) {
      const n = (frame[p++]! << 24) >> 24;
      if (n >= 0) {
        const cnt = n + 1;
        for (let k = 0; k < cnt && o < nPix; k++) out[(o++) * stride + base] = frame[p++]!;
      } else if (n > -128) {
        const cnt = 1 - n;
        const v = frame[p++]!;
        for (let k = 0; k < cnt && o < nPix; k++) out[(o++) * stride + base] = v;
      }
    }
    if (o < nPix) throw new G2DError(`RLE segment ${s} ends after ${o} of ${nPix} pixels (truncated data)`, { source });
  }
  return out;
}

/** Encode pixel-interleaved little-endian samples as one DICOM RLE frame (used by tests and tools). */
export function encodeRleFrame(data: Uint8Array, rows: number, cols: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  const bps = bitsAllocated >> 3;
  const nPix = rows * cols;
  const nSeg = bps * samplesPerPixel;
  const segs: Uint8Array[] = [];
  for (let s = 0; s < nSeg; s++) {
    const sample = Math.floor(s / bps);
    const byteIdx = s % bps;
    const base = sample * bps + (bps - 1 - byteIdx);
    const plane = new Uint8Array(nPix);
    for (let i = 0; i < nPix; i++) plane[i] = data[i * nSeg + base]!;
    const enc: number[] = [];
    for (let r = 0; r < rows; r++) {
      // runs never cross a row (PS3.5 G.3.1)
      let i = r * cols;
      const rowEnd = i + cols;
      while (i < rowEnd) {
        let run = 1;
        while (i + run < rowEnd && run < 128 && plane[i + run] === plane[i]) run++;
        if (run >= 2) {
          enc.push((1 - run) & 0xff, plane[i]!);
          i += run;
        } else {
          let lit = 1;
          while (i + lit < rowEnd && lit < 128 && !(i + lit + 1 < rowEnd && plane[i + lit] === plane[i + lit + 1])) lit++;
          enc.push(lit - 1);
          for (let k = 0; k < lit; k++) enc.push(plane[i + k]!);
          i += lit;
        }
      }
    }
    if (enc.length % 2) enc.push(0x80);
    segs.push(Uint8Array.from(enc));
  }
  const total = 64 + segs.reduce((a, s) => a + s.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, nSeg, true);
  let off = 64;
  segs.forEach((s, k) => {
    dv.setUint32(4 + 4 * k, off, true);
    out.set(s, off);
    off += s.length;
  });
  return out;
}
