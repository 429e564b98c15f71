/**
 * Sequential DCT JPEG (baseline / extended, Huffman) for 12-bit samples, which the npm
 * libjpeg-turbo build (8-bit) does not decode: Huffman decoding, dequantisation and libjpeg's
 * accurate integer IDCT ("islow", CONST_BITS 13, PASS1_BITS 1 for 12-bit samples), level shift
 * and clamp. Components must share one sampling factor (no chroma upsampling): the 12-bit
 * streams in DICOM are grey.
 */
const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49,
  56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

interface Huff {
  maxcode: Int32Array;
  valptr: Int32Array;
  mincode: Int32Array;
  vals: Uint8Array;
}

function buildHuff(counts: Uint8Array, vals: Uint8Array): Huff {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    valptr[l] = k;
    mincode[l] = code;
    code += counts[l - 1]!;
    k += counts[l - 1]!;
    maxcode[l] = counts[l - 1]! ? code - 1 : -1;
    code <<= 1;
  }
  return { maxcode, valptr, mincode, vals: Uint8Array.from(vals) };
}

const CONST_BITS = 13;
const F0298 = 2446;
const F0390 = 3196;
const F0541 = 4433;
const F0765 = 6270;
const F0899 = 7373;
const F1175 = 9633;
const F1501 = 12299;
const F1847 = 15137;
const F1961 = 16069;
const F2053 = 16819;
const F2562 = 20995;
const F3072 = 25172;

const descale = (x: number, n: number) => Math.floor((x + 2 ** (n - 1)) / 2 ** n);

/** libjpeg jpeg_idct_islow on one block (coefficients in natural order, already dequantised). */
function idctIslow(c: Float64Array, ws: Float64Array, out: Uint16Array | Uint8Array, o: number, stride: number, bits: number): void {
  const PASS1 = bits === 8 ? 2 : 1;
  const center = 1 << (bits - 1);
  const maxv = (1 << bits) - 1;
  for (let col = 0; col < 8; col++) {
    if (!c[8 + col] && !c[16 + col] && !c[24 + col] && !c[32 + col] && !c[40 + col] && !c[48 + col] && !c[56 + col]) {
      const dc = c[col]! * 2 ** PASS1;
      for (let k = 0; k < 8; k++) ws[8 * k + col] = dc;
      continue;
    }
    let z2 = c[16 + col]!;
    let z3 = c[48 + col]!;
    let z1 = (z2 + z3) * F0541;
    let tmp2 = z1 + z3 * -F1847;
    let tmp3 = z1 + z2 * F0765;
    z2 = c[col]!;
    z3 = c[32 + col]!;
    let tmp0 = (z2 + z3) * 2 ** CONST_BITS;
    let tmp1 = (z2 - z3) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = c[56 + col]!;
    tmp1 = c[40 + col]!;
    tmp2 = c[24 + col]!;
    tmp3 = c[8 + col]!;
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
    const n = CONST_BITS - PASS1;
    ws[col] = descale(tmp10 + tmp3, n);
    ws[56 + col] = descale(tmp10 - tmp3, n);
    ws[8 + col] = descale(tmp11 + tmp2, n);
    ws[48 + col] = descale(tmp11 - tmp2, n);
    ws[16 + col] = descale(tmp12 + tmp1, n);
    ws[40 + col] = descale(tmp12 - tmp1, n);
    ws[24 + col] = descale(tmp13 + tmp0, n);
    ws[32 + col] = descale(tmp13 - tmp0, n);
  }
  const n2 = CONST_BITS + PASS1 + 3;
  const put = (v: number) => {
    const x = v + center;
    return x < 0 ? 0 : x > maxv ? maxv : x;
  };
  for (let row = 0; row < 8; row++) {
    const w = row * 8;
    let z2 = ws[w + 2]!;
    let z3 = ws[w + 6]!;
    let z1 = (z2 + z3) * F0541;
    let tmp2 = z1 + z3 * -F1847;
    let tmp3 = z1 + z2 * F0765;
    let tmp0 = (ws[w]! + ws[w + 4]!) * 2 ** CONST_BITS;
    let tmp1 = (ws[w]! - ws[w + 4]!) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = ws[w + 7]!;
    tmp1 = ws[w + 5]!;
    tmp2 = ws[w + 3]!;
    tmp3 = ws[w + 1]!;
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
    const r = o + row * stride;
    out[r] = put(descale(tmp10 + tmp3, n2));
    out[r + 7] = put(descale(tmp10 - tmp3, n2));
    out[r + 1] = put(descale(tmp11 + tmp2, n2));
    out[r + 6] = put(descale(tmp11 - tmp2, n2));
    out[r + 2] = put(descale(tmp12 + tmp1, n2));
    out[r + 5] = put(descale(tmp12 - tmp1, n2));
    out[r + 3] = put(descale(tmp13 + tmp0, n2));
    out[r + 4] = put(descale(tmp13 - tmp0, n2));
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
  const len = buf.length;
  let p = 2;
  if (buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error('not a JPEG stream (no SOI)');
  const qt: Int32Array[] = [];
  const dcT: Huff[] = [];
  const acT: Huff[] = [];
  let restart = 0;
  let width = 0;
  let height = 0;
  let precision = 8;
  let comps: { id: number; h: number; v: number; tq: number }[] = [];
  let out: Uint16Array | Uint8Array | undefined;
  while (p < len) {
    if (buf[p] !== 0xff) {
      p++;
      continue;
    }
    const m = buf[p + 1]!;
    p += 2;
    if (m === 0xd8 || m === 0xff || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      if (m === 0xff) p--;
      continue;
    }
    if (m === 0xd9) break;
    const segLen = (buf[p]! << 8) | buf[p + 1]!;
    const body = p + 2;
    const end = p + segLen;
    if (end > len) throw new Error('truncated JPEG segment');
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
      let q = body;
      while (q < end) {
        const tc = buf[q]! >> 4;
        const th = buf[q]! & 15;
        const counts = buf.subarray(q + 1, q + 17);
        let n = 0;
        for (let i = 0; i < 16; i++) n += counts[i]!;
        (tc ? acT : dcT)[th] = buildHuff(counts, buf.subarray(q + 17, q + 17 + n));
        q += 17 + n;
      }
    } else if (m === 0xdd) {
      restart = (buf[body]! << 8) | buf[body + 1]!;
    } else if (m === 0xc0 || m === 0xc1) {
      precision = buf[body]!;
      height = (buf[body + 1]! << 8) | buf[body + 2]!;
      width = (buf[body + 3]! << 8) | buf[body + 4]!;
      const nf = buf[body + 5]!;
      comps = [];
      for (let c = 0; c < nf; c++) comps.push({ id: buf[body + 6 + 3 * c]!, h: buf[body + 7 + 3 * c]! >> 4, v: buf[body + 7 + 3 * c]! & 15, tq: buf[body + 8 + 3 * c]! });
      if (comps.some((c) => c.h !== comps[0]!.h || c.v !== comps[0]!.v)) throw new Error('chroma-subsampled JPEG is not supported by the 12-bit decoder');
      if (precision !== 8 && precision !== 12) throw new Error(`JPEG sample precision ${precision} is not 8 or 12`);
      out = precision > 8 ? new Uint16Array(width * height * nf) : new Uint8Array(width * height * nf);
    } else if (m >= 0xc2 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      throw new Error(`JPEG SOF${(m - 0xc0).toString(16)} (progressive/lossless/arithmetic) is not handled by the sequential decoder`);
    } else if (m === 0xda) {
      if (!out) throw new Error('SOS before SOF');
      const ns = buf[body]!;
      const sc: { ci: number; dc: Huff; ac: Huff }[] = [];
      for (let c = 0; c < ns; c++) {
        const ci = comps.findIndex((x) => x.id === buf[body + 1 + 2 * c]);
        const t = buf[body + 2 + 2 * c]!;
        const dc = dcT[t >> 4];
        const ac = acT[t & 15];
        if (ci < 0 || !dc || !ac) throw new Error('SOS names an unknown component or Huffman table');
        sc.push({ ci, dc, ac });
      }
      p = decodeScan(buf, end, out, width, height, comps.length, sc, comps.map((c) => qt[c.tq]!), precision, restart);
      continue;
    }
    p = end;
  }
  if (!out) throw new Error('no SOF0/SOF1 frame found');
  return { width, height, components: comps.length, precision, data: out };
}

function decodeScan(buf: Uint8Array, start: number, out: Uint16Array | Uint8Array, width: number, height: number, nf: number, sc: { ci: number; dc: Huff; ac: Huff }[], qts: Int32Array[], precision: number, restart: number): number {
  const len = buf.length;
  let p = start;
  let acc = 0;
  let bits = 0;
  let marker = false;
  const fill = () => {
    while (bits <= 16) {
      let b = 0;
      if (!marker && p < len) {
        b = buf[p]!;
        if (b === 0xff) {
          if (buf[p + 1] === 0) p += 2;
          else {
            marker = true;
            b = 0;
          }
        } else p++;
      }
      acc = (acc << 8) | b;
      bits += 8;
    }
  };
  const decode = (h: Huff): number => {
    fill();
    let l = 1;
    let code = (acc >> (bits - 1)) & 1;
    while (l < 16 && code > h.maxcode[l]!) {
      l++;
      code = (acc >> (bits - l)) & ((1 << l) - 1);
    }
    if (code > h.maxcode[l]!) throw new Error('corrupt Huffman code');
    bits -= l;
    acc &= (1 << bits) - 1;
    return h.vals[h.valptr[l]! + code - h.mincode[l]!]!;
  };
  const receiveExtend = (s: number): number => {
    if (s === 0) return 0;
    fill();
    const v = (acc >> (bits - s)) & ((1 << s) - 1);
    bits -= s;
    acc &= (1 << bits) - 1;
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  };
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
        acc = 0;
        bits = 0;
        while (p < len && !(buf[p] === 0xff && buf[p + 1]! >= 0xd0 && buf[p + 1]! <= 0xd7)) p++;
        p += 2;
        marker = false;
        preds.fill(0);
      }
      for (const s of sc) {
        coef.fill(0);
        const q = qts[s.ci]!;
        preds[s.ci] = preds[s.ci]! + receiveExtend(decode(s.dc));
        coef[0] = preds[s.ci]! * q[0]!;
        for (let k = 1; k < 64; ) {
          const rs = decode(s.ac);
          const r = rs >> 4;
          const sz = rs & 15;
          if (sz) {
            k += r;
            if (k > 63) throw new Error('corrupt JPEG: AC index past 63');
            const z = ZIGZAG[k]!;
            coef[z] = receiveExtend(sz) * q[z]!;
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
  while (p < len && !(buf[p] === 0xff && buf[p + 1] !== 0 && !(buf[p + 1]! >= 0xd0 && buf[p + 1]! <= 0xd7))) p++;
  return p;
}
