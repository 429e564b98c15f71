/**
 * JPEG lossless (ITU-T T.81 process 14, Huffman, predictors 1..7, point transform, restart
 * intervals, interleaved or one scan per component) — a compact decoder tuned for big 16-bit
 * radiographs (table-driven Huffman decoding, no per-sample allocations).
 */
interface Huff {
  /** fast table for codes of <= FAST bits: (length << 8) | symbol, 0 = not in table */
  fast: Uint16Array;
  maxcode: Int32Array;
  valptr: Int32Array;
  mincode: Int32Array;
  vals: Uint8Array;
  /**
   * combined table over the next LOOK bits: code + extra bits decoded at once into
   * (difference << 5) | total length; 0 = not resolvable in LOOK bits (use the slow path)
   */
  look: Int32Array;
}

const FAST = 9;
const LOOK = 12;

function buildHuff(counts: Uint8Array, vals: Uint8Array): Huff {
  const fast = new Uint16Array(1 << FAST);
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1]!;
    valptr[len] = k;
    mincode[len] = code;
    for (let i = 0; i < n; i++) {
      if (len <= FAST) {
        const base = code << (FAST - len);
        const span = 1 << (FAST - len);
        for (let j = 0; j < span; j++) fast[base + j] = (len << 8) | vals[k]!;
      }
      code++;
      k++;
    }
    maxcode[len] = n ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { fast, maxcode, valptr, mincode, vals, look: buildLook(counts, vals) };
}

function buildLook(counts: Uint8Array, vals: Uint8Array): Int32Array {
  const look = new Int32Array(1 << LOOK);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1]!;
    for (let i = 0; i < n; i++, code++, k++) {
      const s = vals[k]!;
      if (len > LOOK || s > 15 || len + s > LOOK) continue;
      const total = len + s;
      const span = 1 << (LOOK - total);
      for (let v = 0; v < 1 << s; v++) {
        const diff = s === 0 ? 0 : v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
        const base = ((code << s) | v) << (LOOK - total);
        const e = (diff << 5) | total;
        for (let j = 0; j < span; j++) look[base + j] = e;
      }
    }
    code <<= 1;
  }
  return look;
}

export interface LosslessResult {
  width: number;
  height: number;
  components: number;
  precision: number;
  /** pixel-interleaved samples */
  data: Uint8Array | Uint16Array;
}

export function decodeJpegLosslessFast(buf: Uint8Array): LosslessResult {
  const len = buf.length;
  let p = 0;
  const u16 = () => {
    const v = (buf[p]! << 8) | buf[p + 1]!;
    p += 2;
    return v;
  };
  if (u16() !== 0xffd8) throw new Error('not a JPEG stream (no SOI)');
  const tables: (Huff | undefined)[] = [];
  let width = 0;
  let height = 0;
  let precision = 0;
  let ncomp = 0;
  let compIds: number[] = [];
  let restart = 0;
  // decoded as 16-bit (one monomorphic array type for the hot loops), narrowed at the end for <= 8 bits
  let out: Uint16Array | undefined;
  while (p < len) {
    if (buf[p] !== 0xff) {
      p++;
      continue;
    }
    const m = buf[p + 1]!;
    p += 2;
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) {
      if (m === 0xff) p--;
      continue;
    }
    if (m === 0xd9) break;
    const segLen = u16();
    const segEnd = p + segLen - 2;
    if (segEnd > len) throw new Error('truncated JPEG segment');
    if (m === 0xc3 || m === 0xc7 || m === 0xcb || m === 0xcf) {
      if (m !== 0xc3) throw new Error(`JPEG SOF${(m - 0xc0).toString(16)} (hierarchical/arithmetic lossless) is not supported`);
      precision = buf[p]!;
      height = (buf[p + 1]! << 8) | buf[p + 2]!;
      width = (buf[p + 3]! << 8) | buf[p + 4]!;
      ncomp = buf[p + 5]!;
      compIds = [];
      for (let c = 0; c < ncomp; c++) {
        compIds.push(buf[p + 6 + 3 * c]!);
        if (buf[p + 7 + 3 * c] !== 0x11) throw new Error('subsampled lossless JPEG is not supported');
      }
      if (!width || !height) throw new Error('JPEG frame with zero size (DNL not supported)');
      out = new Uint16Array(width * height * ncomp);
    } else if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      throw new Error(`not a lossless JPEG (SOF${(m - 0xc0).toString(16)})`);
    } else if (m === 0xc4) {
      let q = p;
      while (q < segEnd) {
        const tc = buf[q]! & 0x0f;
        const counts = buf.subarray(q + 1, q + 17);
        let n = 0;
        for (let i = 0; i < 16; i++) n += counts[i]!;
        tables[tc] = buildHuff(counts, buf.subarray(q + 17, q + 17 + n));
        q += 17 + n;
      }
    } else if (m === 0xdd) {
      restart = (buf[p]! << 8) | buf[p + 1]!;
    } else if (m === 0xda) {
      if (!out) throw new Error('SOS before SOF');
      const ns = buf[p]!;
      const sc: { idx: number; huff: Huff }[] = [];
      for (let c = 0; c < ns; c++) {
        const id = buf[p + 1 + 2 * c]!;
        const td = buf[p + 2 + 2 * c]! >> 4;
        const idx = compIds.indexOf(id);
        const h = tables[td];
        if (idx < 0 || !h) throw new Error('SOS names an unknown component or Huffman table');
        sc.push({ idx, huff: h });
      }
      const sv = buf[p + 1 + 2 * ns]!;
      const pt = buf[p + 3 + 2 * ns]! & 0x0f;
      p = segEnd;
      p =
        ncomp === 1 && ns === 1 && restart === 0
          ? decodeScanGray(buf, p, out, width, height, sc[0]!.huff, sv, pt, precision)
          : decodeScan(buf, p, out, width, height, ncomp, sc, sv, pt, precision, restart);
      continue;
    }
    p = segEnd;
  }
  if (!out) throw new Error('no lossless frame (SOF3) found');
  return { width, height, components: ncomp, precision, data: precision <= 8 ? Uint8Array.from(out) : out };
}

function decodeScan(
  buf: Uint8Array,
  start: number,
  out: Uint16Array,
  width: number,
  height: number,
  ncomp: number,
  sc: { idx: number; huff: Huff }[],
  sv: number,
  pt: number,
  precision: number,
  restart: number,
): number {
  const len = buf.length;
  let p = start;
  // bit window: the low `bits` (<= 24) bits of `acc` are unread; acc stays a small integer
  let acc = 0;
  let bits = 0;
  let hitMarker = false;
  const mask = 0xffff;
  const init = 1 << (precision - pt - 1);
  const nsc = sc.length;
  const stride = ncomp;
  const rowLen = width * stride;
  const FMASK = (1 << FAST) - 1;
  let mcus = 0;
  // first line of the scan / of a restart interval: x = 0 predicts 2^(P-Pt-1), the rest Ra;
  // other lines: x = 0 predicts Rb, the rest use the selection value (T.81 H.1.2.1)
  let firstLine = true;
  for (let y = 0; y < height; y++) {
    const row = y * rowLen;
    for (let x = 0; x < width; x++) {
      if (restart && mcus > 0 && mcus % restart === 0) {
        bits = 0;
        acc = 0;
        while (p < len && !(buf[p] === 0xff && buf[p + 1]! >= 0xd0 && buf[p + 1]! <= 0xd7)) p++;
        p += 2;
        hitMarker = false;
        firstLine = true;
      }
      const o0 = row + x * stride;
      for (let c = 0; c < nsc; c++) {
        const h = sc[c]!.huff;
        const ci = sc[c]!.idx;
        const o = o0 + ci;
        // ---- refill to >= 17 bits (the window stays below 2^24: small integers for V8)
        while (bits <= 16) {
          let b = 0;
          if (!hitMarker && p < len) {
            b = buf[p]!;
            if (b === 0xff) {
              if (buf[p + 1] === 0x00) p += 2;
              else {
                hitMarker = true;
                b = 0;
              }
            } else p++;
          }
          acc = (acc << 8) | b;
          bits += 8;
        }
        // ---- Huffman symbol
        let sym: number;
        const f = h.fast[(acc >> (bits - FAST)) & FMASK]!;
        if (f) {
          bits -= f >> 8;
          sym = f & 0xff;
          acc &= (1 << bits) - 1;
        } else {
          let l = FAST + 1;
          let code = (acc >> (bits - l)) & ((1 << l) - 1);
          while (l <= 16 && code > h.maxcode[l]!) {
            l++;
            code = (acc >> (bits - l)) & ((1 << l) - 1);
          }
          if (l > 16) throw new Error('corrupt Huffman code in lossless JPEG');
          bits -= l;
          acc &= (1 << bits) - 1;
          sym = h.vals[h.valptr[l]! + code - h.mincode[l]!]!;
        }
        // ---- difference
        let diff = 0;
        if (sym === 16) diff = 32768;
        else if (sym !== 0) {
          if (bits < sym) {
            while (bits <= 16) {
              let b = 0;
              if (!hitMarker && p < len) {
                b = buf[p]!;
                if (b === 0xff) {
                  if (buf[p + 1] === 0x00) p += 2;
                  else {
                    hitMarker = true;
                    b = 0;
                  }
                } else p++;
              }
              acc = (acc << 8) | b;
              bits += 8;
            }
          }
          const v = (acc >> (bits - sym)) & ((1 << sym) - 1);
          bits -= sym;
          diff = v < 1 << (sym - 1) ? v - (1 << sym) + 1 : v;
        }
        acc &= (1 << bits) - 1;
        // ---- prediction
        let pred: number;
        if (firstLine) pred = x === 0 ? init : out[o - stride]! >> pt;
        else if (x === 0) pred = out[o - rowLen]! >> pt;
        else if (sv === 1) pred = out[o - stride]! >> pt;
        else {
          const ra = out[o - stride]! >> pt;
          const rb = out[o - rowLen]! >> pt;
          const rc = out[o - rowLen - stride]! >> pt;
          switch (sv) {
            case 2: pred = rb; break;
            case 3: pred = rc; break;
            case 4: pred = ra + rb - rc; break;
            case 5: pred = ra + ((rb - rc) >> 1); break;
            case 6: pred = rb + ((ra - rc) >> 1); break;
            case 7: pred = (ra + rb) >> 1; break;
            default: pred = ra;
          }
        }
        out[o] = (((pred + diff) & mask) << pt) & mask;
      }
      mcus++;
    }
    firstLine = false;
  }
  // skip to the next marker
  while (p < len && !(buf[p] === 0xff && buf[p + 1] !== 0 && !(buf[p + 1]! >= 0xd0 && buf[p + 1]! <= 0xd7))) p++;
  return p;
}

/**
 * One grey component, no restart intervals (the usual radiograph): the same decoding as
 * decodeScan with the per-sample branches hoisted out of the row loop, Huffman code + extra
 * bits resolved with one table look-up when they fit in LOOK bits, and Ra kept in a register.
 */
function decodeScanGray(buf: Uint8Array, start: number, out: Uint16Array, width: number, height: number, h: Huff, sv: number, pt: number, precision: number): number {
  const len = buf.length;
  let p = start;
  let acc = 0;
  let bits = 0;
  let hitMarker = false;
  const mask = 0xffff;
  const init = 1 << (precision - pt - 1);
  const look = h.look;
  const fast = h.fast;
  const FMASK = (1 << FAST) - 1;
  const maxcode = h.maxcode;
  const valptr = h.valptr;
  const mincode = h.mincode;
  const vals = h.vals;
  const LMASK = (1 << LOOK) - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    // Ra (already >> pt) of the previous sample on this line
    let ra = 0;
    for (let x = 0; x < width; x++) {
      // ---- refill to >= 17 bits (the window stays below 2^24)
      while (bits <= 16) {
        let b = 0;
        if (!hitMarker && p < len) {
          b = buf[p]!;
          if (b === 0xff) {
            if (buf[p + 1] === 0x00) p += 2;
            else {
              hitMarker = true;
              b = 0;
            }
          } else p++;
        }
        acc = (acc << 8) | b;
        bits += 8;
      }
      let diff: number;
      const e = look[(acc >> (bits - LOOK)) & LMASK]!;
      if (e !== 0) {
        bits -= e & 31;
        diff = e >> 5;
      } else {
        let sym: number;
        const f = fast[(acc >> (bits - FAST)) & FMASK]!;
        if (f) {
          bits -= f >> 8;
          sym = f & 0xff;
        } else {
          let l = FAST + 1;
          let code = (acc >> (bits - l)) & ((1 << l) - 1);
          while (l <= 16 && code > maxcode[l]!) {
            l++;
            code = (acc >> (bits - l)) & ((1 << l) - 1);
          }
          if (l > 16) throw new Error('corrupt Huffman code in lossless JPEG');
          bits -= l;
          sym = vals[valptr[l]! + code - mincode[l]!]!;
        }
        acc &= (1 << bits) - 1;
        diff = 0;
        if (sym === 16) diff = 32768;
        else if (sym !== 0) {
          if (bits < sym) {
            while (bits <= 16) {
              let b = 0;
              if (!hitMarker && p < len) {
                b = buf[p]!;
                if (b === 0xff) {
                  if (buf[p + 1] === 0x00) p += 2;
                  else {
                    hitMarker = true;
                    b = 0;
                  }
                } else p++;
              }
              acc = (acc << 8) | b;
              bits += 8;
            }
          }
          const v = (acc >> (bits - sym)) & ((1 << sym) - 1);
          bits -= sym;
          diff = v < 1 << (sym - 1) ? v - (1 << sym) + 1 : v;
        }
      }
      acc &= (1 << bits) - 1;
      // ---- prediction (T.81 H.1.2.1: first line Ra / 2^(P-Pt-1); x = 0 Rb; else the selector)
      const o = row + x;
      let pred: number;
      if (y === 0) pred = x === 0 ? init : ra;
      else if (x === 0) pred = out[o - width]! >> pt;
      else if (sv === 1) pred = ra;
      else {
        const rb = out[o - width]! >> pt;
        const rc = out[o - width - 1]! >> pt;
        switch (sv) {
          case 2: pred = rb; break;
          case 3: pred = rc; break;
          case 4: pred = ra + rb - rc; break;
          case 5: pred = ra + ((rb - rc) >> 1); break;
          case 6: pred = rb + ((ra - rc) >> 1); break;
          case 7: pred = (ra + rb) >> 1; break;
          default: pred = ra;
        }
      }
      const val = (((pred + diff) & mask) << pt) & mask;
      out[o] = val;
      ra = val >> pt;
    }
  }
  while (p < len && !(buf[p] === 0xff && buf[p + 1] !== 0 && !(buf[p + 1]! >= 0xd0 && buf[p + 1]! <= 0xd7))) p++;
  return p;
}
