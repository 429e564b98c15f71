/**
 * Sequential DCT JPEG (baseline / extended, Huffman) for 12-bit samples, which the npm
 * libjpeg-turbo build (8-bit) does not decode: Huffman decoding, dequantisation and libjpeg's
 * accurate integer IDCT ("islow", CONST_BITS 13, PASS1_BITS 1 for 12-bit samples), level shift
 * and clamp. Components must share one sampling factor (no chroma upsampling): the 12-bit
 * streams in DICOM are grey. Marker parsing, Huffman tables and the bit reader: jpeg-common.ts.
 */
import {
  BitReader, buildHuffmanTable, findScanEnd, isFrameMarker, readFrameHeader, readHuffmanSegment, readRestartInterval, walkSegments,
  type FrameHeader, type HuffmanTable,
} from './jpeg-common';

const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49,
  56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

const CONST_BITS = 13;
// libjpeg's FIX(x) = round(x * 2^13) multipliers of jidctint.c, named by x
const [F0298, F0390, F0541, F0765, F0899, F1175, F1501, F1847, F1961, F2053, F2562, F3072] = [
  2446, 3196, 4433, 6270, 7373, 9633, 12299, 15137, 16069, 16819, 20995, 25172,
] as const;

const descale = (x: number, n: number) => Math.floor((x + 2 ** (n - 1)) / 2 ** n);

/**
 * One 8-point pass of libjpeg's islow IDCT over in[o + k * s], k = 0..7, into r[0..7]
 * (scaled by 2^CONST_BITS, not yet descaled): the even part from inputs 0, 2, 4, 6, the odd
 * part from 1, 3, 5, 7, exactly libjpeg's operations.
 */
function idct8(inp: Float64Array, o: number, s: number, r: Float64Array): void {
  let z2 = inp[o + 2 * s]!;
  let z3 = inp[o + 6 * s]!;
  let z1 = (z2 + z3) * F0541;
  let tmp2 = z1 + z3 * -F1847;
  let tmp3 = z1 + z2 * F0765;
  z2 = inp[o]!;
  z3 = inp[o + 4 * s]!;
  let tmp0 = (z2 + z3) * 2 ** CONST_BITS;
  let tmp1 = (z2 - z3) * 2 ** CONST_BITS;
  const tmp10 = tmp0 + tmp3;
  const tmp13 = tmp0 - tmp3;
  const tmp11 = tmp1 + tmp2;
  const tmp12 = tmp1 - tmp2;
  tmp0 = inp[o + 7 * s]!;
  tmp1 = inp[o + 5 * s]!;
  tmp2 = inp[o + 3 * s]!;
  tmp3 = inp[o + s]!;
  z1 = tmp0 + tmp3;
  z2 = tmp1 + tmp2;
  z3 = tmp0 + tmp2;
  let z4 = tmp1 + tmp3;
  const z5 = (z3 + z4) * F1175;
  tmp0 *= F0298;
  tmp1 *= F2053;
  tmp2 *= F3072;
  tmp3 *= F1501;
  z1 *= -F0899;
  z2 *= -F2562;
  z3 = z3 * -F1961 + z5;
  z4 = z4 * -F0390 + z5;
  tmp0 += z1 + z3;
  tmp1 += z2 + z4;
  tmp2 += z2 + z3;
  tmp3 += z1 + z4;
  r[0] = tmp10 + tmp3;
  r[7] = tmp10 - tmp3;
  r[1] = tmp11 + tmp2;
  r[6] = tmp11 - tmp2;
  r[2] = tmp12 + tmp1;
  r[5] = tmp12 - tmp1;
  r[3] = tmp13 + tmp0;
  r[4] = tmp13 - tmp0;
}

const pass = new Float64Array(8);

/** libjpeg jpeg_idct_islow on one block (coefficients in natural order, already dequantised). */
function idctIslow(c: Float64Array, ws: Float64Array, out: Uint16Array | Uint8Array, o: number, stride: number, bits: number): void {
  const PASS1 = bits === 8 ? 2 : 1;
  const center = 1 << (bits - 1);
  const maxv = (1 << bits) - 1;
  // columns: descale by CONST_BITS - PASS1 into the workspace (all-zero AC: the DC, scaled)
  const n = CONST_BITS - PASS1;
  for (let col = 0; col < 8; col++) {
    if (!c[8 + col] && !c[16 + col] && !c[24 + col] && !c[32 + col] && !c[40 + col] && !c[48 + col] && !c[56 + col]) {
      const dc = c[col]! * 2 ** PASS1;
      for (let k = 0; k < 8; k++) ws[8 * k + col] = dc;
      continue;
    }
    idct8(c, col, 8, pass);
    for (let k = 0; k < 8; k++) ws[8 * k + col] = descale(pass[k]!, n);
  }
  // rows: descale by CONST_BITS + PASS1 + 3, level shift, clamp
  const n2 = CONST_BITS + PASS1 + 3;
  for (let row = 0; row < 8; row++) {
    idct8(ws, row * 8, 1, pass);
    const r = o + row * stride;
    for (let k = 0; k < 8; k++) {
      const x = descale(pass[k]!, n2) + center;
      out[r + k] = x < 0 ? 0 : x > maxv ? maxv : x;
    }
  }
}

export interface DctResult {
  width: number;
  height: number;
  components: number;
  precision: number;
  data: Uint16Array | Uint8Array;
}

/** Decode a sequential (SOF0/SOF1) Huffman JPEG, 8- or 12-bit, without chroma subsampling. */
export function decodeJpegSequential(buf: Uint8Array): DctResult {
  const qt: Int32Array[] = [];
  const dcT: HuffmanTable[] = [];
  const acT: HuffmanTable[] = [];
  let restart = 0;
  let frame: FrameHeader | undefined;
  let out: Uint16Array | Uint8Array | undefined;
  walkSegments(buf, (m, body, end) => {
    if (m === 0xdb) {
      let q = body;
      while (q < end) {
        const pq = buf[q]! >> 4;
        const tq = buf[q]! & 15;
        const t = new Int32Array(64);
        for (let k = 0; k < 64; k++) t[ZIGZAG[k]!] = pq ? (buf[q + 1 + 2 * k]! << 8) | buf[q + 2 + 2 * k]! : buf[q + 1 + k]!;
        qt[tq] = t;
        q += 1 + (pq ? 128 : 64);
      }
    } else if (m === 0xc4) {
      readHuffmanSegment(buf, body, end, (tc, th, counts, vals) => {
        (tc ? acT : dcT)[th] = buildHuffmanTable(counts, vals);
      });
    } else if (m === 0xdd) {
      restart = readRestartInterval(buf, body);
    } else if (m === 0xc0 || m === 0xc1) {
      frame = readFrameHeader(buf, body);
      const { precision, components: comps } = frame;
      if (comps.some((c) => c.h !== comps[0]!.h || c.v !== comps[0]!.v)) throw new Error('chroma-subsampled JPEG is not supported by the 12-bit decoder');
      if (precision !== 8 && precision !== 12) throw new Error(`JPEG sample precision ${precision} is not 8 or 12`);
      const n = frame.width * frame.height * comps.length;
      out = precision > 8 ? new Uint16Array(n) : new Uint8Array(n);
    } else if (isFrameMarker(m)) {
      throw new Error(`JPEG SOF${(m - 0xc0).toString(16)} (progressive/lossless/arithmetic) is not handled by the sequential decoder`);
    } else if (m === 0xda) {
      if (!out || !frame) throw new Error('SOS before SOF');
      const comps = frame.components;
      const ns = buf[body]!;
      const sc: ScanComponent[] = [];
      for (let c = 0; c < ns; c++) {
        const ci = comps.findIndex((x) => x.id === buf[body + 1 + 2 * c]);
        const t = buf[body + 2 + 2 * c]!;
        const dc = dcT[t >> 4];
        const ac = acT[t & 15];
        if (ci < 0 || !dc || !ac) throw new Error('SOS names an unknown component or Huffman table');
        sc.push({ ci, dc, ac });
      }
      return decodeScan(buf, end, out, frame, sc, comps.map((c) => qt[c.tq]!), restart);
    }
    return undefined;
  });
  if (!out || !frame) throw new Error('no SOF0/SOF1 frame found');
  return { width: frame.width, height: frame.height, components: frame.components.length, precision: frame.precision, data: out };
}

interface ScanComponent {
  ci: number;
  dc: HuffmanTable;
  ac: HuffmanTable;
}

function decodeScan(buf: Uint8Array, start: number, out: Uint16Array | Uint8Array, frame: FrameHeader, sc: ScanComponent[], qts: Int32Array[], restart: number): number {
  const { width, height, precision } = frame;
  const nf = frame.components.length;
  const br = new BitReader(buf, start);
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  const preds = new Float64Array(nf);
  const coef = new Float64Array(64);
  const ws = new Float64Array(64);
  const block = precision > 8 ? new Uint16Array(64) : new Uint8Array(64);
  let mcu = 0;
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      if (restart && mcu > 0 && mcu % restart === 0) {
        br.restart();
        preds.fill(0);
      }
      for (const s of sc) {
        coef.fill(0);
        const q = qts[s.ci]!;
        preds[s.ci] = preds[s.ci]! + br.receiveExtend(br.huffman(s.dc));
        coef[0] = preds[s.ci]! * q[0]!;
        for (let k = 1; k < 64; ) {
          const rs = br.huffman(s.ac);
          const r = rs >> 4;
          const sz = rs & 15;
          if (sz) {
            k += r;
            if (k > 63) throw new Error('corrupt JPEG: AC index past 63');
            const z = ZIGZAG[k]!;
            coef[z] = br.receiveExtend(sz) * q[z]!;
            k++;
          } else if (r === 15) k += 16;
          else break;
        }
        idctIslow(coef, ws, block, 0, 8, precision);
        const x0 = bx * 8;
        const y0 = by * 8;
        for (let y = 0; y < 8 && y0 + y < height; y++) {
          for (let x = 0; x < 8 && x0 + x < width; x++) out[((y0 + y) * width + x0 + x) * nf + s.ci] = block[y * 8 + x]!;
        }
      }
      mcu++;
    }
  }
  return findScanEnd(buf, br.pos);
}
