/** Minimal DICOM Part 10 writer for tests (explicit VR little endian data set). */
export interface El {
  tag: [number, number];
  vr: string;
  value: string | number | number[] | Uint8Array;
}

function pad(b: Uint8Array, padByte: number): Uint8Array {
  if (b.length % 2 === 0) return b;
  const o = new Uint8Array(b.length + 1);
  o.set(b);
  o[b.length] = padByte;
  return o;
}

function encodeValue(e: El): Uint8Array {
  const v = e.value;
  if (v instanceof Uint8Array) return pad(v, 0);
  if (e.vr === 'US') {
    const a = Array.isArray(v) ? v : [v as number];
    const b = new Uint8Array(2 * a.length);
    const dv = new DataView(b.buffer);
    a.forEach((x, i) => dv.setUint16(2 * i, x, true));
    return b;
  }
  const s = Array.isArray(v) ? v.join('\\') : String(v);
  return pad(new TextEncoder().encode(s), e.vr === 'UI' ? 0 : 0x20);
}

function encodeElement(e: El): Uint8Array {
  const val = encodeValue(e);
  const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(e.vr);
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, e.tag[0], true);
  dv.setUint16(2, e.tag[1], true);
  head[4] = e.vr.charCodeAt(0);
  head[5] = e.vr.charCodeAt(1);
  if (long) dv.setUint32(8, val.length, true);
  else dv.setUint16(6, val.length, true);
  const out = new Uint8Array(head.length + val.length);
  out.set(head);
  out.set(val, head.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const o = new Uint8Array(n);
  let k = 0;
  for (const p of parts) {
    o.set(p, k);
    k += p.length;
  }
  return o;
}

/** Encapsulated pixel data: empty basic offset table + one fragment per frame. */
export function encapsulate(frames: Uint8Array[]): Uint8Array {
  const item = (b: Uint8Array) => {
    const p = pad(b, 0);
    const h = new Uint8Array(8);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, 0xfffe, true);
    dv.setUint16(2, 0xe000, true);
    dv.setUint32(4, p.length, true);
    return concat([h, p]);
  };
  const end = new Uint8Array(8);
  const dv = new DataView(end.buffer);
  dv.setUint16(0, 0xfffe, true);
  dv.setUint16(2, 0xe0dd, true);
  return concat([item(new Uint8Array(0)), ...frames.map(item), end]);
}

export interface ImageSpec {
  rows: number;
  cols: number;
  bitsAllocated?: number;
  bitsStored?: number;
  pixelRepresentation?: number;
  photometric?: string;
  samplesPerPixel?: number;
  transferSyntax?: string;
  /** native pixel bytes, or encapsulated frames */
  pixels?: Uint8Array;
  frames?: Uint8Array[];
  extra?: El[];
}

export function writeDicom(spec: ImageSpec): Uint8Array {
  const ts = spec.transferSyntax ?? '1.2.840.10008.1.2.1';
  const meta = [
    encodeElement({ tag: [0x0002, 0x0001], vr: 'OB', value: new Uint8Array([0, 1]) }),
    encodeElement({ tag: [0x0002, 0x0002], vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.1' }),
    encodeElement({ tag: [0x0002, 0x0003], vr: 'UI', value: '1.2.3.4.5.6' }),
    encodeElement({ tag: [0x0002, 0x0010], vr: 'UI', value: ts }),
  ];
  const metaBody = concat(meta);
  const gl = encodeElement({ tag: [0x0002, 0x0000], vr: 'UL', value: new Uint8Array(new Uint32Array([metaBody.length]).buffer) });
  // UL is a short-VR element: fix its header (length 4)
  const glFixed = new Uint8Array(12);
  glFixed.set([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00]);
  new DataView(glFixed.buffer).setUint32(8, metaBody.length, true);
  void gl;
  const els: El[] = [
    { tag: [0x0008, 0x0060], vr: 'CS', value: 'CR' },
    { tag: [0x0010, 0x0020], vr: 'LO', value: 'TESTPATIENT' },
    { tag: [0x0028, 0x0002], vr: 'US', value: spec.samplesPerPixel ?? 1 },
    { tag: [0x0028, 0x0004], vr: 'CS', value: spec.photometric ?? 'MONOCHROME2' },
    { tag: [0x0028, 0x0010], vr: 'US', value: spec.rows },
    { tag: [0x0028, 0x0011], vr: 'US', value: spec.cols },
    { tag: [0x0028, 0x0100], vr: 'US', value: spec.bitsAllocated ?? 16 },
    { tag: [0x0028, 0x0101], vr: 'US', value: spec.bitsStored ?? spec.bitsAllocated ?? 16 },
    { tag: [0x0028, 0x0102], vr: 'US', value: (spec.bitsStored ?? spec.bitsAllocated ?? 16) - 1 },
    { tag: [0x0028, 0x0103], vr: 'US', value: spec.pixelRepresentation ?? 0 },
    ...(spec.extra ?? []),
  ];
  els.sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]);
  const body = els.map(encodeElement);
  let pix: Uint8Array;
  if (spec.frames) {
    const enc = encapsulate(spec.frames);
    const h = new Uint8Array(12);
    h.set([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    pix = concat([h, enc]);
  } else {
    pix = encodeElement({ tag: [0x7fe0, 0x0010], vr: (spec.bitsAllocated ?? 16) > 8 ? 'OW' : 'OB', value: spec.pixels ?? new Uint8Array(0) });
  }
  const pre = new Uint8Array(132);
  pre.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concat([pre, glFixed, metaBody, ...body, pix]);
}

export function u16le(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint16(2 * i, v & 0xffff, true));
  return b;
}
