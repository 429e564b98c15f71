/**
 * DICOM reading: dicom-parser for the data set, the codecs for compressed pixel data, and
 * the DICOM rules for BitsStored masking / sign extension. The result holds the *stored*
 * values (what pydicom's `pixel_array` gives), plus the metadata needed downstream.
 */
import * as dicomParserNs from 'dicom-parser';

// dicom-parser ships a UMD bundle: under Node's ESM loader its API sits on `default`
const dicomParser = ((dicomParserNs as unknown as { default?: typeof dicomParserNs }).default ?? dicomParserNs) as typeof dicomParserNs;
import { G2DError, readFileBytes } from '@g2d-ts/core';
import { transferSyntax, type TransferSyntaxInfo } from './uids';
import { decodeJpeg2000, decodeJpegBaseline, decodeJpegLossless, decodeJpegLs, jpegPrecision, type DecodedFrame } from './codecs';
import { decodeRleFrame } from './rle';
import { decodeJpegSequential } from './jpeg12';

export type StoredArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

export interface LutData {
  /** number of entries, first stored value mapped, bits per entry (LUT Descriptor) */
  descriptor: [number, number, number];
  data: Uint16Array;
  explanation?: string;
}

export interface DicomMeta {
  source: string;
  transferSyntaxUID: string;
  transferSyntaxName: string;
  /** false for ACR-NEMA style files without the 128-byte preamble + "DICM" + file meta */
  hasPart10Header: boolean;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  numberOfFrames: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement */
  pixelRepresentation: number;
  photometricInterpretation: string;
  /** set when decoding changed the colour space (YBR_* JPEG/J2K decoded to RGB) */
  originalPhotometricInterpretation?: string;
  planarConfiguration: number;
  modality?: string;
  bodyPartExamined?: string;
  viewPosition?: string;
  patientId?: string;
  patientSex?: string;
  patientAge?: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  studyDate?: string;
  /** mm between pixel centres [row, column] (PixelSpacing, else ImagerPixelSpacing) */
  pixelSpacing?: [number, number];
  pixelSpacingSource?: 'PixelSpacing' | 'ImagerPixelSpacing';
  rescaleSlope?: number;
  rescaleIntercept?: number;
  rescaleType?: string;
  windowCenter?: number[];
  windowWidth?: number[];
  voiLutFunction?: string;
  modalityLut?: LutData;
  voiLut?: LutData;
  presentationLutShape?: string;
  lossyImageCompression?: string;
  specificCharacterSet?: string;
}

export interface DicomPixels {
  meta: DicomMeta;
  /** stored values of every frame, frame-major, pixel-interleaved samples (frames × rows × cols × spp) */
  pixels: StoredArray;
}

const te = (tag: string) => `x${tag.replace(/[(),]/g, '').toLowerCase()}`;

function str(ds: dicomParserNs.DataSet, tag: string): string | undefined {
  const el = ds.elements[te(tag)];
  if (!el || el.length === 0) return undefined;
  const s = ds.string(te(tag));
  return s === undefined || s === '' ? undefined : s;
}

function nums(ds: dicomParserNs.DataSet, tag: string): number[] | undefined {
  const s = str(ds, tag);
  if (s === undefined) return undefined;
  const out = s.split('\\').map((x) => Number(x.trim())).filter((x) => Number.isFinite(x));
  return out.length ? out : undefined;
}

function us(ds: dicomParserNs.DataSet, tag: string): number | undefined {
  const el = ds.elements[te(tag)];
  if (!el || el.length < 2) return undefined;
  return ds.uint16(te(tag));
}

function readLut(ds: dicomParserNs.DataSet, seqTag: string, pixelRepresentation: number, littleEndian: boolean): LutData | undefined {
  const seq = ds.elements[te(seqTag)];
  const item = seq?.items?.[0]?.dataSet;
  if (!item) return undefined;
  const desc = item.elements[te('(0028,3002)')];
  const lutEl = item.elements[te('(0028,3006)')];
  if (!desc || !lutEl) return undefined;
  const n0 = item.uint16(te('(0028,3002)'), 0) ?? 0;
  let first = item.uint16(te('(0028,3002)'), 1) ?? 0;
  if (pixelRepresentation === 1 && first > 32767) first -= 65536;
  const depth = item.uint16(te('(0028,3002)'), 2) ?? 16;
  const n = n0 === 0 ? 65536 : n0;
  const data = new Uint16Array(n);
  const bytes = item.byteArray;
  if (lutEl.length >= 2 * n) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset + lutEl.dataOffset, 2 * n);
    for (let i = 0; i < n; i++) data[i] = dv.getUint16(2 * i, littleEndian);
  } else if (lutEl.length >= n) {
    // 8-bit entries packed as bytes (non-conformant but seen in the wild)
    for (let i = 0; i < n; i++) data[i] = bytes[lutEl.dataOffset + i]!;
  } else {
    return undefined;
  }
  return { descriptor: [n, first, depth], data, explanation: str(item, '(0028,3003)') };
}

function stripNulls(s: string | undefined): string | undefined {
  const t = s?.replace(/\0/g, '').trim();
  return t ? t : undefined;
}

/** Element names that are valid explicit VRs (to tell explicit from implicit in headerless files). */
const VRS = new Set('AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));

/** Decide how to parse: Part 10, meta without preamble, or a raw ACR-NEMA style data set. */
function prepareBytes(bytes: Uint8Array, source: string): { bytes: Uint8Array; opts: dicomParserNs.ParseDicomOptions; part10: boolean } {
  const isDicm = (off: number) => bytes.length >= off + 4 && bytes[off] === 0x44 && bytes[off + 1] === 0x49 && bytes[off + 2] === 0x43 && bytes[off + 3] === 0x4d;
  if (isDicm(128)) return { bytes, opts: {}, part10: true };
  if (bytes.length < 8) throw new G2DError(`not a DICOM file: only ${bytes.length} bytes`, { source });
  if (isDicm(0)) {
    // "DICM" + meta but no preamble: give it one
    const b = new Uint8Array(bytes.length + 128);
    b.set(bytes, 128);
    return { bytes: b, opts: {}, part10: true };
  }
  const group = bytes[0]! | (bytes[1]! << 8);
  const elem = bytes[2]! | (bytes[3]! << 8);
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  if (group === 0x0002) {
    const b = new Uint8Array(bytes.length + 132);
    b.set([0x44, 0x49, 0x43, 0x4d], 128);
    b.set(bytes, 132);
    return { bytes: b, opts: {}, part10: true };
  }
  // an ACR-NEMA / raw data set starts with a low, even group number (0008 identifying, 0018, 0020, 0028 ...)
  if (group % 2 !== 0 || group < 0x0008 || group > 0x0028) {
    throw new G2DError(
      `not a DICOM file: no "DICM" marker at byte 128 and the data does not start like a raw (ACR-NEMA) data set ` +
        `(first tag would be (${group.toString(16).padStart(4, '0')},${elem.toString(16).padStart(4, '0')}))`,
      { source },
    );
  }
  const explicit = VRS.has(vr);
  return { bytes, opts: { TransferSyntaxUID: explicit ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2' }, part10: false };
}

/** Parse the data set (no pixel decoding). */
export function parseDicomBytes(input: Uint8Array, source = '<buffer>', parse: { untilTag?: string } = {}): { dataSet: dicomParserNs.DataSet; ts: TransferSyntaxInfo; part10: boolean } {
  const prep = prepareBytes(input, source);
  // dicom-parser inflates deflated data sets with zlib when given a Buffer
  // own a dedicated ArrayBuffer, so that an element claiming more bytes than the file has can
  // never read into unrelated memory of a shared/pooled buffer (RangeError instead)
  let buf: Buffer;
  if (prep.bytes.byteOffset === 0 && prep.bytes.buffer.byteLength === prep.bytes.byteLength) {
    buf = Buffer.isBuffer(prep.bytes) ? prep.bytes : Buffer.from(prep.bytes.buffer, 0, prep.bytes.byteLength);
  } else {
    buf = Buffer.alloc(prep.bytes.byteLength);
    buf.set(prep.bytes);
  }
  let dataSet: dicomParserNs.DataSet;
  try {
    dataSet = dicomParser.parseDicom(buf, parse.untilTag ? { ...prep.opts, untilTag: parse.untilTag } : prep.opts);
  } catch (e) {
    const msg = typeof e === 'string' ? e : e instanceof Error ? e.message : String((e as { exception?: string })?.exception ?? e);
    const why = /buffer overrun|beyond the end|past the end/i.test(msg)
      ? `truncated or corrupt: an element's length runs past the end of the file (${msg.replace(/^dicomParser[.:]\w+: /, '')})`
      : `cannot parse DICOM data set: ${msg.replace(/^dicomParser[.:]\w+: /, '')}`;
    throw new G2DError(why, { source, cause: e });
  }
  const uid = stripNulls(dataSet.string('x00020010'));
  if (!uid) throw new G2DError('file meta has no Transfer Syntax UID (0002,0010)', { source });
  const ts = transferSyntax(uid);
  if (!ts) throw new G2DError(`unknown transfer syntax UID "${uid}"`, { source });
  return { dataSet, ts, part10: prep.part10 };
}

function readMeta(ds: dicomParserNs.DataSet, ts: TransferSyntaxInfo, part10: boolean, source: string): DicomMeta {
  try {
    return readMetaFields(ds, ts, part10, source);
  } catch (e) {
    if (e instanceof G2DError) throw e;
    // dicom-parser's accessors throw strings, e.g. for a value that runs past the end of a cut file
    const msg = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
    throw new G2DError(`truncated or corrupt header: ${msg.replace(/^dicomParser[.:]\w+: /, '')}`, { source, cause: e });
  }
}

function readMetaFields(ds: dicomParserNs.DataSet, ts: TransferSyntaxInfo, part10: boolean, source: string): DicomMeta {
  const rows = us(ds, '(0028,0010)');
  const columns = us(ds, '(0028,0011)');
  const bitsAllocated = us(ds, '(0028,0100)');
  if (rows === undefined || columns === undefined) throw new G2DError('no Rows (0028,0010) / Columns (0028,0011): the data set holds no image', { source });
  if (bitsAllocated === undefined) throw new G2DError('no Bits Allocated (0028,0100)', { source });
  const pixelRepresentation = us(ds, '(0028,0103)') ?? 0;
  const bitsStored = us(ds, '(0028,0101)') ?? bitsAllocated;
  const spacing = nums(ds, '(0028,0030)');
  const imager = nums(ds, '(0018,1164)');
  const sp = spacing && spacing.length >= 2 ? spacing : imager && imager.length >= 2 ? imager : undefined;
  const le = ts.littleEndian;
  const meta: DicomMeta = {
    source,
    transferSyntaxUID: ts.uid,
    transferSyntaxName: ts.name,
    hasPart10Header: part10,
    rows,
    columns,
    samplesPerPixel: us(ds, '(0028,0002)') ?? 1,
    numberOfFrames: Math.max(1, Number(str(ds, '(0028,0008)') ?? 1) || 1),
    bitsAllocated,
    bitsStored,
    highBit: us(ds, '(0028,0102)') ?? bitsStored - 1,
    pixelRepresentation,
    photometricInterpretation: (stripNulls(str(ds, '(0028,0004)')) ?? 'MONOCHROME2').toUpperCase(),
    planarConfiguration: us(ds, '(0028,0006)') ?? 0,
    modality: stripNulls(str(ds, '(0008,0060)')),
    bodyPartExamined: stripNulls(str(ds, '(0018,0015)')),
    viewPosition: stripNulls(str(ds, '(0018,5101)')),
    patientId: stripNulls(str(ds, '(0010,0020)')),
    patientSex: stripNulls(str(ds, '(0010,0040)')),
    patientAge: stripNulls(str(ds, '(0010,1010)')),
    studyInstanceUID: stripNulls(str(ds, '(0020,000D)')),
    seriesInstanceUID: stripNulls(str(ds, '(0020,000E)')),
    sopInstanceUID: stripNulls(str(ds, '(0008,0018)')),
    studyDate: stripNulls(str(ds, '(0008,0020)')),
    pixelSpacing: sp ? [sp[0]!, sp[1]!] : undefined,
    pixelSpacingSource: spacing && spacing.length >= 2 ? 'PixelSpacing' : sp ? 'ImagerPixelSpacing' : undefined,
    rescaleSlope: nums(ds, '(0028,1053)')?.[0],
    rescaleIntercept: nums(ds, '(0028,1052)')?.[0],
    rescaleType: stripNulls(str(ds, '(0028,1054)')),
    windowCenter: nums(ds, '(0028,1050)'),
    windowWidth: nums(ds, '(0028,1051)'),
    voiLutFunction: stripNulls(str(ds, '(0028,1056)'))?.toUpperCase(),
    modalityLut: readLut(ds, '(0028,3000)', pixelRepresentation, le),
    voiLut: readLut(ds, '(0028,3010)', pixelRepresentation, le),
    presentationLutShape: stripNulls(str(ds, '(2050,0020)')),
    lossyImageCompression: stripNulls(str(ds, '(0028,2110)')),
    specificCharacterSet: stripNulls(str(ds, '(0008,0005)')),
  };
  if (![1, 3, 4].includes(meta.samplesPerPixel)) throw new G2DError(`Samples per Pixel ${meta.samplesPerPixel} is not supported`, { source });
  if (![8, 16, 32].includes(bitsAllocated)) {
    throw new G2DError(`Bits Allocated ${bitsAllocated} is not supported (8, 16 or 32; 1-bit bitmaps are overlays, not images)`, { source });
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new G2DError(`Bits Stored ${bitsStored} is outside 1..Bits Allocated (${bitsAllocated})`, { source });
  return meta;
}

function allocStored(meta: DicomMeta, n: number): StoredArray {
  const signed = meta.pixelRepresentation === 1;
  switch (meta.bitsAllocated) {
    case 8:
      return signed ? new Int8Array(n) : new Uint8Array(n);
    case 16:
      return signed ? new Int16Array(n) : new Uint16Array(n);
    default:
      return signed ? new Int32Array(n) : new Uint32Array(n);
  }
}

function storedType(meta: DicomMeta): abstract new (n: number) => StoredArray {
  const signed = meta.pixelRepresentation === 1;
  if (meta.bitsAllocated === 8) return signed ? Int8Array : Uint8Array;
  if (meta.bitsAllocated === 16) return signed ? Int16Array : Uint16Array;
  return signed ? Int32Array : Uint32Array;
}

/** storeMasked(a, 0, a, meta) in place (the same values, without the copy). */
function maskInPlace(a: StoredArray, meta: DicomMeta): void {
  const bs = meta.bitsStored;
  if (bs >= meta.bitsAllocated) return;
  const n = a.length;
  if (meta.pixelRepresentation === 1) {
    const sh = 32 - bs;
    for (let i = 0; i < n; i++) a[i] = (a[i]! << sh) >> sh;
  } else if (a instanceof Uint16Array && a.byteOffset % 4 === 0) {
    // two samples per 32-bit word (the mask is the same for either byte order)
    const m = (1 << bs) - 1;
    const m2 = (m | (m << 16)) >>> 0;
    const q = n >> 1;
    const w = new Uint32Array(a.buffer, a.byteOffset, q);
    for (let k = 0; k < q; k++) w[k] = w[k]! & m2;
    if (n & 1) a[n - 1] = a[n - 1]! & m;
  } else {
    const m = bs >= 32 ? 0xffffffff : (1 << bs) - 1;
    for (let i = 0; i < n; i++) a[i] = (a[i]! & m) >>> 0;
  }
}

/**
 * Write `src` (numbers as decoded) into `dst` at `offset`, applying BitsStored masking (unsigned)
 * or sign extension from bit BitsStored-1 (signed), as PS3.5 8.1.1 prescribes.
 */
function storeMasked(dst: StoredArray, offset: number, src: ArrayLike<number>, meta: DicomMeta): void {
  const bs = meta.bitsStored;
  const n = src.length;
  // fast path: nothing to mask and the same integer type -> a plain copy
  if (bs === meta.bitsAllocated && ArrayBuffer.isView(src) && (src as StoredArray).constructor === dst.constructor) {
    dst.set(src as never, offset);
    return;
  }
  if (meta.pixelRepresentation === 1) {
    const sh = 32 - bs;
    for (let i = 0; i < n; i++) dst[offset + i] = (src[i]! << sh) >> sh;
  } else if (bs < 32) {
    const mask = (1 << bs) - 1;
    for (let i = 0; i < n; i++) dst[offset + i] = (src[i]! & mask) >>> 0;
  } else {
    for (let i = 0; i < n; i++) dst[offset + i] = src[i]!;
  }
}

function nativeFrames(ds: dicomParserNs.DataSet, el: dicomParserNs.Element, meta: DicomMeta, ts: TransferSyntaxInfo): StoredArray {
  const { rows, columns, samplesPerPixel: spp, numberOfFrames: frames, bitsAllocated } = meta;
  const perFrame = rows * columns * spp;
  const bytesPer = bitsAllocated >> 3;
  const need = perFrame * frames * bytesPer;
  const present = Math.min(el.length, ds.byteArray.length - el.dataOffset);
  if (present < need) {
    throw new G2DError(
      `pixel data is truncated: ${present} bytes present, ${need} expected (${rows}×${columns}×${spp} samples × ${bitsAllocated} bits × ${frames} frame(s))`,
      { source: meta.source },
    );
  }
  const bytes = ds.byteArray;
  const total = perFrame * frames;
  const le = ts.littleEndian;
  let raw: Uint8Array | Uint16Array | Uint32Array;
  const start = bytes.byteOffset + el.dataOffset;
  if (bytesPer === 1) raw = new Uint8Array(bytes.buffer, start, total);
  else {
    // an aligned little-endian view when possible, else a copy (byte-swapped for big endian)
    const aligned = start % bytesPer === 0;
    const src = aligned ? bytes.buffer : bytes.buffer.slice(start, start + need);
    const off = aligned ? start : 0;
    raw = bytesPer === 2 ? new Uint16Array(src, off, total) : new Uint32Array(src, off, total);
    if (!le) {
      const dv = new DataView(bytes.buffer, start, need);
      const sw = bytesPer === 2 ? new Uint16Array(total) : new Uint32Array(total);
      if (bytesPer === 2) for (let i = 0; i < total; i++) sw[i] = dv.getUint16(2 * i, false);
      else for (let i = 0; i < total; i++) sw[i] = dv.getUint32(4 * i, false);
      raw = sw;
    }
  }
  const out = allocStored(meta, total);
  if (spp > 1 && meta.planarConfiguration === 1) {
    // colour-by-plane -> pixel-interleaved
    const plane = rows * columns;
    const tmp = new Uint32Array(total);
    for (let f = 0; f < frames; f++) {
      const b = f * perFrame;
      for (let s = 0; s < spp; s++) for (let p = 0; p < plane; p++) tmp[b + p * spp + s] = raw[b + s * plane + p]!;
    }
    storeMasked(out, 0, tmp, meta);
  } else {
    storeMasked(out, 0, raw, meta);
  }
  return out;
}

function encapsulatedFrame(ds: dicomParserNs.DataSet, el: dicomParserNs.Element, meta: DicomMeta, frame: number): Uint8Array {
  const fragments = el.fragments ?? [];
  const bot = el.basicOffsetTable ?? [];
  if (fragments.length === 0) throw new G2DError('encapsulated pixel data has no fragments', { source: meta.source });
  try {
    if (bot.length > 0) return dicomParser.readEncapsulatedImageFrame(ds, el, frame) as Uint8Array;
    if (meta.numberOfFrames === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length) as Uint8Array;
    if (fragments.length === meta.numberOfFrames) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, frame, 1) as Uint8Array;
    const table = dicomParser.createJPEGBasicOffsetTable(ds, el);
    return dicomParser.readEncapsulatedImageFrame(ds, el, frame, table) as Uint8Array;
  } catch (e) {
    if (e instanceof G2DError) throw e;
    throw new G2DError(`cannot read encapsulated frame ${frame}: ${String((e as Error)?.message ?? e)}`, { source: meta.source, cause: e });
  }
}

function checkDims(d: DecodedFrame, meta: DicomMeta, what: string): void {
  if (d.width !== meta.columns || d.height !== meta.rows) {
    throw new G2DError(`${what} stream is ${d.width}×${d.height} but the header says ${meta.columns}×${meta.rows}`, { source: meta.source });
  }
  if (d.components !== meta.samplesPerPixel) {
    throw new G2DError(`${what} stream has ${d.components} components but Samples per Pixel is ${meta.samplesPerPixel}`, { source: meta.source });
  }
}

async function decodeCompressedFrame(bytes: Uint8Array, meta: DicomMeta, ts: TransferSyntaxInfo): Promise<ArrayLike<number>> {
  const src = meta.source;
  const wrap = async (what: string, f: () => Promise<DecodedFrame> | DecodedFrame): Promise<DecodedFrame> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof G2DError) throw e;
      const msg = typeof e === 'number' ? `codec error code ${e}` : e instanceof Error ? e.message : String(e);
      throw new G2DError(`${what} decoding failed (${ts.name}): ${msg}`, { source: src, cause: e });
    }
  };
  switch (ts.codec) {
    case 'rle': {
      const le = decodeRleFrame(bytes, meta.rows, meta.columns, meta.samplesPerPixel, meta.bitsAllocated, src);
      const n = meta.rows * meta.columns * meta.samplesPerPixel;
      const dv = new DataView(le.buffer, le.byteOffset, le.byteLength);
      const out = new Uint32Array(n);
      const b = meta.bitsAllocated >> 3;
      for (let i = 0; i < n; i++) out[i] = b === 1 ? le[i]! : b === 2 ? dv.getUint16(2 * i, true) : dv.getUint32(4 * i, true);
      return out;
    }
    case 'jpeg-baseline':
    case 'jpeg-extended': {
      const p = jpegPrecision(bytes);
      if (!p) throw new G2DError(`JPEG stream has no SOF marker (corrupt or not JPEG)`, { source: src });
      if (p.sof === 0xc3 || p.sof === 0xc7 || p.sof === 0xcb || p.sof === 0xcf) {
        const d = await wrap('JPEG lossless', () => decodeJpegLossless(bytes, p.precision > 8 ? 2 : 1));
        checkDims(d, meta, 'JPEG lossless');
        return d.data;
      }
      if (p.precision !== 8) {
        if (p.precision !== 12 || (p.sof !== 0xc0 && p.sof !== 0xc1)) {
          throw new G2DError(`${p.precision}-bit JPEG (SOF${(p.sof - 0xc0).toString(16)}, ${ts.name}) is not supported: only 8-bit, and 12-bit sequential, DCT JPEG decode here`, { source: src });
        }
        const r = await wrap('12-bit JPEG', () => {
          const x = decodeJpegSequential(bytes);
          return { width: x.width, height: x.height, bitsPerSample: 12, components: x.components, signed: false, data: x.data };
        });
        checkDims(r, meta, '12-bit JPEG');
        return r.data;
      }
      const d = await wrap('JPEG', () => decodeJpegBaseline(bytes));
      checkDims(d, meta, 'JPEG');
      return d.data;
    }
    case 'jpeg-lossless': {
      const p = jpegPrecision(bytes);
      if (!p) throw new G2DError(`JPEG lossless stream has no SOF marker (corrupt or not JPEG)`, { source: src });
      const d = await wrap('JPEG lossless', () => decodeJpegLossless(bytes, p.precision > 8 ? 2 : 1));
      checkDims(d, meta, 'JPEG lossless');
      return d.data;
    }
    case 'jpeg-ls': {
      const d = await wrap('JPEG-LS', () => decodeJpegLs(bytes));
      checkDims(d, meta, 'JPEG-LS');
      return d.planar ? planarToInterleaved(d.data, meta) : d.data;
    }
    case 'jpeg2000': {
      const d = await wrap('JPEG 2000', () => decodeJpeg2000(bytes));
      checkDims(d, meta, 'JPEG 2000');
      // OpenJPEG returns component planes
      return d.components > 1 ? planarToInterleaved(d.data, meta) : d.data;
    }
    default:
      throw new G2DError(`transfer syntax ${ts.uid} (${ts.name}) is recognised but not supported`, { source: src });
  }
}

function planarToInterleaved(data: ArrayLike<number>, meta: DicomMeta): Uint32Array | Int32Array {
  const plane = meta.rows * meta.columns;
  const spp = meta.samplesPerPixel;
  const out = new Int32Array(plane * spp);
  for (let s = 0; s < spp; s++) for (let p = 0; p < plane; p++) out[p * spp + s] = data[s * plane + p]!;
  return out;
}

export interface ReadDicomOptions {
  /** only these frames (0-based); default all */
  frames?: number[];
  /** label used in error messages (default: the path, or "<buffer>") */
  source?: string;
}

/** Parse + decode a DICOM file held in memory. */
export async function decodeDicom(bytes: Uint8Array, opts: ReadDicomOptions = {}): Promise<DicomPixels> {
  const source = opts.source ?? '<buffer>';
  const { dataSet, ts, part10 } = parseDicomBytes(bytes, source);
  if (ts.codec === 'unsupported') throw new G2DError(`transfer syntax ${ts.uid} (${ts.name}) is recognised but not supported`, { source });
  const el = dataSet.elements.x7fe00010;
  if (!el) {
    const other = dataSet.elements.x7fe00008 ? 'Float Pixel Data' : dataSet.elements.x7fe00009 ? 'Double Float Pixel Data' : undefined;
    throw new G2DError(other ? `only ${other} is present, which is not supported` : 'no Pixel Data (7FE0,0010) element: the data set holds no image', { source });
  }
  const meta = readMeta(dataSet, ts, part10, source);
  const frames = opts.frames ?? Array.from({ length: meta.numberOfFrames }, (_, i) => i);
  for (const f of frames) if (!(f >= 0 && f < meta.numberOfFrames)) throw new G2DError(`frame ${f} out of range (0..${meta.numberOfFrames - 1})`, { source });
  const perFrame = meta.rows * meta.columns * meta.samplesPerPixel;
  if (ts.codec === 'native') {
    if (el.encapsulatedPixelData) throw new G2DError(`pixel data is encapsulated but the transfer syntax (${ts.name}) is native`, { source });
    const all = nativeFrames(dataSet, el, meta, ts);
    if (frames.length === meta.numberOfFrames) return { meta, pixels: all };
    const out = allocStored(meta, perFrame * frames.length);
    frames.forEach((f, k) => out.set(all.subarray(f * perFrame, (f + 1) * perFrame) as never, k * perFrame));
    return { meta: { ...meta, numberOfFrames: frames.length }, pixels: out };
  }
  if (!el.encapsulatedPixelData) throw new G2DError(`transfer syntax ${ts.name} needs encapsulated pixel data, but it is native`, { source });
  let out: StoredArray | undefined;
  for (let k = 0; k < frames.length; k++) {
    const fb = encapsulatedFrame(dataSet, el, meta, frames[k]!);
    const dec = await decodeCompressedFrame(fb, meta, ts);
    if (dec.length < perFrame) throw new G2DError(`frame ${frames[k]} decoded to ${dec.length} samples, expected ${perFrame}`, { source });
    if (frames.length === 1 && dec.length === perFrame && ArrayBuffer.isView(dec) && dec.constructor === storedType(meta)) {
      // the codec's output is a fresh array of the stored type: mask it in place, no copy
      out = dec as StoredArray;
      maskInPlace(out, meta);
      break;
    }
    out ??= allocStored(meta, perFrame * frames.length);
    storeMasked(out, k * perFrame, dec.length === perFrame ? dec : Array.prototype.slice.call(dec, 0, perFrame), meta);
  }
  if (!out) throw new G2DError('no frames requested', { source });
  const outMeta = { ...meta, numberOfFrames: frames.length };
  // libjpeg / OpenJPEG hand back RGB for YCbCr-coded colour (as pydicom's pylibjpeg path does)
  if (meta.samplesPerPixel === 3 && /^YBR/.test(meta.photometricInterpretation) && ['jpeg-baseline', 'jpeg-extended', 'jpeg2000'].includes(ts.codec)) {
    outMeta.originalPhotometricInterpretation = meta.photometricInterpretation;
    outMeta.photometricInterpretation = 'RGB';
  }
  return { meta: outMeta, pixels: out };
}

/** Read + decode a DICOM file from disk. */
export async function readDicom(path: string, opts: ReadDicomOptions = {}): Promise<DicomPixels> {
  const bytes = readFileBytes(path);
  return decodeDicom(bytes, { ...opts, source: opts.source ?? path });
}

/** What `readDicomMeta` adds to the header fields. */
export interface DicomPixelDataInfo {
  hasPixelData: boolean;
  /** the Pixel Data element's declared length (undefined length: the encapsulated bytes found) */
  pixelDataBytes?: number;
  encapsulated?: boolean;
  fragments?: number;
  /** every byte the header promises is in the file (native: rows × columns × samples × bits × frames; encapsulated: every fragment and the sequence delimiter) */
  pixelDataComplete: boolean;
  /** why not, when !pixelDataComplete */
  pixelDataProblem?: string;
}

/** Metadata only (no pixel decoding), e.g. for `g2d-data inspect`; says whether the pixel data is all there. */
export function readDicomMeta(bytes: Uint8Array, source = '<buffer>'): DicomMeta & DicomPixelDataInfo {
  let parsed: ReturnType<typeof parseDicomBytes>;
  try {
    parsed = parseDicomBytes(bytes, source);
  } catch (e) {
    // a file cut inside its pixel data: the header before it is still worth reporting
    if (!(e instanceof G2DError) || !/runs past the end of the file/.test(e.message)) throw e;
    parsed = parseDicomBytes(bytes, source, { untilTag: 'x7fe00010' });
    if (!parsed.dataSet.elements.x7fe00010) throw e;
  }
  const { dataSet, ts, part10 } = parsed;
  const el = dataSet.elements.x7fe00010;
  const meta = readMeta(dataSet, ts, part10, source);
  const info: DicomPixelDataInfo = { hasPixelData: !!el, pixelDataBytes: el?.length, encapsulated: el?.encapsulatedPixelData, fragments: el?.fragments?.length, pixelDataComplete: false };
  if (!el) info.pixelDataProblem = 'no Pixel Data (7FE0,0010) element';
  else {
    const fileBytes = dataSet.byteArray.length;
    if (el.encapsulatedPixelData) {
      const frags = el.fragments ?? [];
      const cut = frags.find((f) => f.position + f.length > fileBytes);
      if (frags.length === 0) info.pixelDataProblem = 'encapsulated pixel data has no fragments';
      else if (cut) info.pixelDataProblem = `pixel data is truncated: fragment ${frags.indexOf(cut)} needs ${cut.length} bytes, ${Math.max(0, fileBytes - cut.position)} present`;
      else if (el.hadUndefinedLength && !(el.length >= 0 && el.length < 0xffffffff && el.dataOffset + el.length <= fileBytes)) {
        info.pixelDataProblem = 'pixel data is truncated: the file ends before the sequence delimiter of the encapsulated pixel data';
      }
    } else {
      const need = meta.rows * meta.columns * meta.samplesPerPixel * meta.numberOfFrames * (meta.bitsAllocated >> 3);
      const present = Math.max(0, Math.min(el.length, fileBytes - el.dataOffset));
      if (present < need) info.pixelDataProblem = `pixel data is truncated: ${present} bytes present, ${need} expected (${meta.rows}×${meta.columns}×${meta.samplesPerPixel} samples × ${meta.bitsAllocated} bits × ${meta.numberOfFrames} frame(s))`;
    }
    info.pixelDataComplete = info.pixelDataProblem === undefined;
  }
  return { ...meta, ...info };
}
