/**
 * A minimal DICOM Part 10 writer for tests, fixtures and fuzz seeds: Explicit VR Little Endian
 * data set, grey images, native pixel data or encapsulated frames under any transfer syntax.
 * The one writer behind data's tests, the explorer's e2e images and the fuzz seeds.
 */
export interface El {
  tag: [number, number];
  vr: string;
  value: string | number | number[] | Uint8Array;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

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
  if (e.vr === 'US') return u16le(Array.isArray(v) ? v : [v as number]);
  if (e.vr === 'UL') {
    const a = Array.isArray(v) ? v : [v as number];
    const b = new Uint8Array(4 * a.length);
    const dv = new DataView(b.buffer);
    a.forEach((x, i) => dv.setUint32(4 * i, x, true));
    return b;
  }
  const s = Array.isArray(v) ? v.join('\\') : String(v);
  return pad(new TextEncoder().encode(s), e.vr === 'UI' ? 0 : 0x20);
}

/** One data element, explicit VR little endian (4-byte length for OB/OW/OF/SQ/UT/UN). */
export function encodeElement(e: El): Uint8Array {
  const val = encodeValue(e);
  const long = LONG_VRS.has(e.vr);
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, e.tag[0], true);
  dv.setUint16(2, e.tag[1], true);
  head[4] = e.vr.charCodeAt(0);
  head[5] = e.vr.charCodeAt(1);
  if (long) dv.setUint32(8, val.length, true);
  else dv.setUint16(6, val.length, true);
  return concatBytes([head, val]);
}

/** The byte arrays one after the other. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const o = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let k = 0;
  for (const p of parts) {
    o.set(p, k);
    k += p.length;
  }
  return o;
}

/** Encapsulated pixel data: empty basic offset table + one fragment per frame + sequence delimiter. */
export function encapsulate(frames: Uint8Array[]): Uint8Array {
  const item = (b: Uint8Array) => {
    const p = pad(b, 0);
    const h = new Uint8Array(8);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, 0xfffe, true);
    dv.setUint16(2, 0xe000, true);
    dv.setUint32(4, p.length, true);
    return concatBytes([h, p]);
  };
  const end = new Uint8Array(8);
  const dv = new DataView(end.buffer);
  dv.setUint16(0, 0xfffe, true);
  dv.setUint16(2, 0xe0dd, true);
  return concatBytes([item(new Uint8Array(0)), ...frames.map(item), end]);
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
  /** SOP class UID (default: Computed Radiography Image Storage) */
  sopClass?: string;
  /** (0008,0060) Modality (default CR) */
  modality?: string;
  /** (0010,0020) Patient ID (default TESTPATIENT) */
  patientId?: string;
  /** native pixel bytes, or encapsulated frames */
  pixels?: Uint8Array;
  frames?: Uint8Array[];
  /** further elements (any group but 0002), sorted into place */
  extra?: El[];
}

/** A Part 10 file: preamble, `DICM`, group 0002 with its length, the image elements sorted by tag. */
export function writeDicom(spec: ImageSpec): Uint8Array {
  const ts = spec.transferSyntax ?? '1.2.840.10008.1.2.1';
  const metaBody = concatBytes([
    encodeElement({ tag: [0x0002, 0x0001], vr: 'OB', value: new Uint8Array([0, 1]) }),
    encodeElement({ tag: [0x0002, 0x0002], vr: 'UI', value: spec.sopClass ?? '1.2.840.10008.5.1.4.1.1.1' }),
    encodeElement({ tag: [0x0002, 0x0003], vr: 'UI', value: '1.2.3.4.5.6' }),
    encodeElement({ tag: [0x0002, 0x0010], vr: 'UI', value: ts }),
  ]);
  const groupLength = encodeElement({ tag: [0x0002, 0x0000], vr: 'UL', value: metaBody.length });
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const bitsStored = spec.bitsStored ?? bitsAllocated;
  const els: El[] = [
    { tag: [0x0008, 0x0060], vr: 'CS', value: spec.modality ?? 'CR' },
    { tag: [0x0010, 0x0020], vr: 'LO', value: spec.patientId ?? 'TESTPATIENT' },
    { tag: [0x0028, 0x0002], vr: 'US', value: spec.samplesPerPixel ?? 1 },
    { tag: [0x0028, 0x0004], vr: 'CS', value: spec.photometric ?? 'MONOCHROME2' },
    { tag: [0x0028, 0x0010], vr: 'US', value: spec.rows },
    { tag: [0x0028, 0x0011], vr: 'US', value: spec.cols },
    { tag: [0x0028, 0x0100], vr: 'US', value: bitsAllocated },
    { tag: [0x0028, 0x0101], vr: 'US', value: bitsStored },
    { tag: [0x0028, 0x0102], vr: 'US', value: bitsStored - 1 },
    { tag: [0x0028, 0x0103], vr: 'US', value: spec.pixelRepresentation ?? 0 },
    ...(spec.extra ?? []),
  ];
  els.sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]);
  let pix: Uint8Array;
  if (spec.frames) {
    // (7FE0,0010) OB with undefined length
    const h = new Uint8Array([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    pix = concatBytes([h, encapsulate(spec.frames)]);
  } else {
    pix = encodeElement({ tag: [0x7fe0, 0x0010], vr: bitsAllocated > 8 ? 'OW' : 'OB', value: spec.pixels ?? new Uint8Array(0) });
  }
  const pre = new Uint8Array(132);
  pre.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concatBytes([pre, groupLength, metaBody, ...els.map(encodeElement), pix]);
}

/** 16-bit values as little-endian bytes. */
export function u16le(values: ArrayLike<number>): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < values.length; i++) dv.setUint16(2 * i, values[i]! & 0xffff, true);
  return b;
}
