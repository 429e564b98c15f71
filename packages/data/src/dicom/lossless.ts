/**
 * JPEG lossless (ITU-T T.81 process 14, Huffman, predictors 1..7, point transform, restart
 * intervals, interleaved or one scan per component) — a compact decoder tuned for big 16-bit
 * radiographs (table-driven Huffman decoding, no per-sample allocations). Marker parsing,
 * canonical Huffman tables and the bit reader: jpeg-common.ts.
 */
import {
  buildHuffmanTable, extend, findScanEnd, isFrameMarker, skipPastRestart, readFrameHeader, readHuffmanSegment, readRestartInterval, walkSegments,
  type FrameHeader, type HuffmanTable,
} from './jpeg-common';

/** The canonical tables plus the two look-up tables of the hot loops. */
interface LosslessTable extends HuffmanTable {
  /** fast table for codes of <= FAST bits: (length << 8) | symbol, 0 = not in table */
  fast: Uint16Array;
  /**
   * combined table over the next LOOK bits: code + extra bits decoded at once into
   * (difference << 5) | total length; 0 = not resolvable in LOOK bits (use the slow path)
   */
  look: Int32Array;
}

const FAST = 9;
const LOOK = 12;

/** Calls `each(code, length, symbol)` for every code of the table, in canonical order. */
function forEachCode(counts: Uint8Array, vals: Uint8Array, each: (code: number, len: number, sym: number) => void): void {
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]!; i++, code++, k++) each(code, len, vals[k]!);
    code <<= 1;
  }
}

function buildTable(counts: Uint8Array, vals: Uint8Array): LosslessTable {
  const fast = new Uint16Array(1 << FAST);
  const look = new Int32Array(1 << LOOK);
  forEachCode(counts, vals, (code, len, s) => {
    if (len <= FAST) {
      const base = code << (FAST - len);
      fast.fill((len << 8) | s, base, base + (1 << (FAST - len)));
    }
    if (len > LOOK || s > 15 || len + s > LOOK) return;
    const total = len + s;
    const span = 1 << (LOOK - total);
    for (let v = 0; v < 1 << s; v++) {
      const diff = s === 0 ? 0 : extend(v, s);
      const base = ((code << s) | v) << (LOOK - total);
      look.fill((diff << 5) | total, base, base + span);
    }
  });
  const { maxcode, valptr, mincode, vals: v } = buildHuffmanTable(counts, vals);
  return { fast, maxcode, valptr, mincode, vals: v, look };
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
  const tables: (LosslessTable | undefined)[] = [];
  let frame: FrameHeader | undefined;
  let restart = 0;
  // decoded as 16-bit (one monomorphic array type for the hot loops), narrowed at the end for <= 8 bits
  let out: Uint16Array | undefined;
  walkSegments(buf, (m, body, end) => {
    if (m === 0xc3 || m === 0xc7 || m === 0xcb || m === 0xcf) {
      if (m !== 0xc3) throw new Error(`JPEG SOF${(m - 0xc0).toString(16)} (hierarchical/arithmetic lossless) is not supported`);
      frame = readFrameHeader(buf, body);
      if (frame.components.some((c) => c.h !== 1 || c.v !== 1)) throw new Error('subsampled lossless JPEG is not supported');
      if (!frame.width || !frame.height) throw new Error('JPEG frame with zero size (DNL not supported)');
      out = new Uint16Array(frame.width * frame.height * frame.components.length);
    } else if (isFrameMarker(m)) {
      throw new Error(`not a lossless JPEG (SOF${(m - 0xc0).toString(16)})`);
    } else if (m === 0xc4) {
      readHuffmanSegment(buf, body, end, (_tc, th, counts, vals) => {
        tables[th] = buildTable(counts, vals);
      });
    } else if (m === 0xdd) {
      restart = readRestartInterval(buf, body);
    } else if (m === 0xda) {
      if (!out || !frame) throw new Error('SOS before SOF');
      const ns = buf[body]!;
      const sc: { idx: number; huff: LosslessTable }[] = [];
      for (let c = 0; c < ns; c++) {
        const idx = frame.components.findIndex((x) => x.id === buf[body + 1 + 2 * c]);
        const h = tables[buf[body + 2 + 2 * c]! >> 4];
        if (idx < 0 || !h) throw new Error('SOS names an unknown component or Huffman table');
        sc.push({ idx, huff: h });
      }
      const sv = buf[body + 1 + 2 * ns]!;
      const pt = buf[body + 3 + 2 * ns]! & 0x0f;
      const { width, height, precision } = frame;
      const ncomp = frame.components.length;
      return ncomp === 1 && ns === 1 && restart === 0
        ? decodeScanGray(buf, end, out, width, height, sc[0]!.huff, sv, pt, precision)
        : decodeScan(buf, end, out, width, height, ncomp, sc, sv, pt, precision, restart);
    }
    return undefined;
  });
  if (!out || !frame) throw new Error('no lossless frame (SOF3) found');
  const { width, height, precision } = frame;
  return { width, height, components: frame.components.length, precision, data: precision <= 8 ? Uint8Array.from(out) : out };
}

/**
 * Any scan: interleaved components, restart intervals. The bit reader is inlined on purpose
 * (see INLINED below); everything around the scan loops is shared with jpeg12.ts.
 */
function decodeScan(
  buf: Uint8Array,
  start: number,
  out: Uint16Array,
  width: number,
  height: number,
  ncomp: number,
  sc: { idx: number; huff: LosslessTable }[],
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
        p = skipPastRestart(buf, p);
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
  return findScanEnd(buf, p);
}

/**
 * One grey component, no restart intervals (the usual radiograph): the same decoding as
 * decodeScan with the per-sample branches hoisted out of the row loop, Huffman code + extra
 * bits resolved with one table look-up when they fit in LOOK bits, and Ra kept in a register.
 *
 * INLINED: both scan loops keep their bit window in locals with the refill written out,
 * instead of jpeg-common's BitReader (which jpeg12.ts uses). Measured 2026-11-29 (CPU time
 * per decode, medians of 10, each variant in its own process, 2-core VM under load):
 * through BitReader the restart/interleaved path took 8.1-15.0 ms vs 5.1-7.2 ms inlined
 * (512x512 12-bit, restart every row), and this grey path 33-78 ms vs 27-36 ms inlined
 * (the 1576x1976 10-bit CR of the dicom-decode bench): 1.3-3x slower, so they stay inlined.
 */
function decodeScanGray(buf: Uint8Array, start: number, out: Uint16Array, width: number, height: number, h: LosslessTable, sv: number, pt: number, precision: number): number {
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
  return findScanEnd(buf, p);
}
