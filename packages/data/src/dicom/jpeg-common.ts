/**
 * What the two JPEG decoders (jpeg12.ts: sequential DCT, lossless.ts: process 14) share:
 * walking the marker segments, reading frame headers and Huffman tables (canonical code
 * tables, T.81 Annex C), finding restart and end-of-scan markers, value extension (T.81
 * F.2.2.1), and a bit reader for the scans that are not hot enough to inline it.
 */

/** Canonical Huffman decoding tables of one DHT table (T.81 F.2.2.3 / C.2). */
export interface HuffmanTable {
  /** largest code of each length 1..16 (-1: none); maxcode[17] is a sentinel above every code */
  maxcode: Int32Array;
  /** index into `vals` of the first code of each length */
  valptr: Int32Array;
  /** smallest code of each length */
  mincode: Int32Array;
  vals: Uint8Array;
}

export function buildHuffmanTable(counts: Uint8Array, vals: Uint8Array): HuffmanTable {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1]!;
    valptr[len] = k;
    mincode[len] = code;
    code += n;
    k += n;
    maxcode[len] = n ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { maxcode, valptr, mincode, vals: Uint8Array.from(vals) };
}

/** The signed value of the `s` extra bits `v` (T.81 F.2.2.1 EXTEND). */
export function extend(v: number, s: number): number {
  return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
}

export interface FrameComponent {
  id: number;
  /** sampling factors */
  h: number;
  v: number;
  /** quantisation table (DCT) */
  tq: number;
}

export interface FrameHeader {
  precision: number;
  height: number;
  width: number;
  components: FrameComponent[];
}

/** A SOFn segment body. */
export function readFrameHeader(buf: Uint8Array, body: number): FrameHeader {
  const nf = buf[body + 5]!;
  const components: FrameComponent[] = [];
  for (let c = 0; c < nf; c++) {
    const o = body + 6 + 3 * c;
    components.push({ id: buf[o]!, h: buf[o + 1]! >> 4, v: buf[o + 1]! & 15, tq: buf[o + 2]! });
  }
  return { precision: buf[body]!, height: (buf[body + 1]! << 8) | buf[body + 2]!, width: (buf[body + 3]! << 8) | buf[body + 4]!, components };
}

/** Every table of a DHT segment: `store(tableClass (0 DC / lossless, 1 AC), id, counts, values)`. */
export function readHuffmanSegment(buf: Uint8Array, body: number, end: number, store: (tc: number, th: number, counts: Uint8Array, vals: Uint8Array) => void): void {
  let q = body;
  while (q < end) {
    const counts = buf.subarray(q + 1, q + 17);
    let n = 0;
    for (let i = 0; i < 16; i++) n += counts[i]!;
    store(buf[q]! >> 4, buf[q]! & 15, counts, buf.subarray(q + 17, q + 17 + n));
    q += 17 + n;
  }
}

/** Restart interval of a DRI segment body. */
export function readRestartInterval(buf: Uint8Array, body: number): number {
  return (buf[body]! << 8) | buf[body + 1]!;
}

/**
 * Walks the marker segments from SOI to EOI: for each segment with a length, calls
 * `segment(marker, body, end)` (`body` = first byte after the length, `end` = first byte
 * after the segment). The callback returns where to continue (after an entropy-coded scan)
 * or nothing (continue at `end`). Fill bytes and stand-alone markers are skipped.
 */
export function walkSegments(buf: Uint8Array, segment: (marker: number, body: number, end: number) => number | void): void {
  const len = buf.length;
  if (buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error('not a JPEG stream (no SOI)');
  let p = 2;
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
    const end = p + ((buf[p]! << 8) | buf[p + 1]!);
    if (end > len) throw new Error('truncated JPEG segment');
    const next = segment(m, p + 2, end);
    p = next ?? end;
  }
}

/** SOFn markers other than the sequential/lossless Huffman ones (DHT, JPG, DAC are not frames). */
export function isFrameMarker(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/** The position just after the next RSTn marker at or after `p`. */
export function skipPastRestart(buf: Uint8Array, p: number): number {
  const len = buf.length;
  while (p < len && !(buf[p] === 0xff && buf[p + 1]! >= 0xd0 && buf[p + 1]! <= 0xd7)) p++;
  return p + 2;
}

/** The position of the next marker that is neither stuffing nor RSTn (the end of a scan). */
export function findScanEnd(buf: Uint8Array, p: number): number {
  const len = buf.length;
  while (p < len && !(buf[p] === 0xff && buf[p + 1] !== 0 && !(buf[p + 1]! >= 0xd0 && buf[p + 1]! <= 0xd7))) p++;
  return p;
}

/**
 * MSB-first bit reader over entropy-coded data: byte stuffing (FF 00) removed, zeros fed once
 * a marker is reached. The window `acc` holds `bits` unread bits (17..24 after `fill`, so it
 * stays a small integer). jpeg12.ts decodes through it: no measurable cost there (seven
 * paired runs against its former closures, 1024² 8-bit JPEGs on the loaded 2-core VM: 22-57 ms
 * vs 20-64 ms, at most 8% slower in a pair, faster in four). lossless.ts inlines the same
 * logic in its scan loops, where this object cost 1.3-3x (figures in lossless.ts).
 */
export class BitReader {
  acc = 0;
  bits = 0;
  /** a marker was reached: zeros from here on */
  private marker = false;

  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
  ) {}

  /** refill to at least 17 bits */
  fill(): void {
    const buf = this.buf;
    while (this.bits <= 16) {
      let b = 0;
      if (!this.marker && this.pos < buf.length) {
        b = buf[this.pos]!;
        if (b === 0xff) {
          if (buf[this.pos + 1] === 0) this.pos += 2;
          else {
            this.marker = true;
            b = 0;
          }
        } else this.pos++;
      }
      this.acc = (this.acc << 8) | b;
      this.bits += 8;
    }
  }

  /** the next `n` (<= 16) bits as an unsigned number */
  take(n: number): number {
    if (this.bits < n) this.fill();
    const v = (this.acc >> (this.bits - n)) & ((1 << n) - 1);
    this.bits -= n;
    this.acc &= (1 << this.bits) - 1;
    return v;
  }

  /** one Huffman symbol, code length by code length (T.81 F.2.2.3 DECODE) */
  huffman(h: HuffmanTable): number {
    this.fill();
    let l = 1;
    let code = (this.acc >> (this.bits - 1)) & 1;
    while (l <= 16 && code > h.maxcode[l]!) {
      l++;
      code = (this.acc >> (this.bits - l)) & ((1 << l) - 1);
    }
    if (l > 16) throw new Error('corrupt Huffman code');
    this.bits -= l;
    this.acc &= (1 << this.bits) - 1;
    return h.vals[h.valptr[l]! + code - h.mincode[l]!]!;
  }

  /** `s` extra bits, extended to a signed value (0 for s = 0) */
  receiveExtend(s: number): number {
    return s === 0 ? 0 : extend(this.take(s), s);
  }

  /** continue after the next RSTn marker with an empty window */
  restart(): void {
    this.pos = skipPastRestart(this.buf, this.pos);
    this.acc = 0;
    this.bits = 0;
    this.marker = false;
  }
}
