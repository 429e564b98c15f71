/**
 * ZIP reading: central directory + local headers, ZIP64, stored and deflated entries (inflated
 * with fflate), over a file read on demand (checkpoints) or bytes in memory (.zip tables).
 */
import { inflateSync } from 'fflate';
import { G2DError } from '../errors';
import { fileSource, memorySource, type ByteSource } from './source';

export const ZIP_LOCAL = 0x04034b50;
export const ZIP_CENTRAL = 0x02014b50;
export const ZIP_EOCD = 0x06054b50;
export const ZIP64_EOCD = 0x06064b50;
export const ZIP64_LOCATOR = 0x07064b50;
/** extra-field id of the ZIP64 extended information */
export const ZIP64_EXTRA = 0x0001;

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

const dataView = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export class ZipReader {
  private constructor(
    private readonly src: ByteSource,
    /** entries by name, in central-directory order */
    readonly entries: Map<string, ZipEntry>,
  ) {}

  /** Opens a file; entries are read on demand. Close it when done. */
  static open(file: string): ZipReader {
    return ZipReader.over(fileSource(file));
  }

  /** Reads an archive held in memory (`source` names it in errors). */
  static fromBytes(bytes: Uint8Array, source = '<zip>'): ZipReader {
    return ZipReader.over(memorySource(bytes, source));
  }

  private static over(src: ByteSource): ZipReader {
    try {
      return new ZipReader(src, readCentralDirectory(src));
    } catch (e) {
      src.close();
      throw e;
    }
  }

  get source(): string {
    return this.src.name;
  }

  close(): void {
    this.src.close();
  }

  /** One entry's (decompressed) bytes. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new G2DError(`zip entry "${name}" not found`, { source: this.src.name });
    const local = dataView(this.src.read(e.localHeaderOffset, 30));
    if (local.getUint32(0, true) !== ZIP_LOCAL) throw new G2DError(`corrupt zip: bad local header for "${name}"`, { source: this.src.name });
    const dataStart = e.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    const raw = this.src.read(dataStart, e.compressedSize);
    if (e.method === 0) return raw;
    if (e.method === 8) {
      let out: Uint8Array;
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw new G2DError(`corrupt zip: cannot inflate "${name}" (${(err as Error).message})`, { source: this.src.name, cause: err });
      }
      if (out.byteLength !== e.size) throw new G2DError(`corrupt zip: "${name}" inflated to ${out.byteLength} bytes, expected ${e.size}`, { source: this.src.name });
      return out;
    }
    throw new G2DError(`zip entry "${name}" uses unsupported compression method ${e.method}`, { source: this.src.name });
  }
}

function readCentralDirectory(src: ByteSource): Map<string, ZipEntry> {
  const file = src.name;
  const tailLen = Math.min(src.size, 65557 + 20);
  const tail = src.read(src.size - tailLen, tailLen);
  const tv = dataView(tail);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === ZIP_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new G2DError('not a zip archive (no end-of-central-directory record)', { source: file });
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  // the ZIP64 locator sits just before the EOCD record
  if (eocd >= 20 && tv.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
    const zv = dataView(src.read(Number(tv.getBigUint64(eocd - 20 + 8, true)), 56));
    if (zv.getUint32(0, true) !== ZIP64_EOCD) throw new G2DError('corrupt zip64 end-of-central-directory record', { source: file });
    count = Number(zv.getBigUint64(32, true));
    cdSize = Number(zv.getBigUint64(40, true));
    cdOffset = Number(zv.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > src.size) throw new G2DError('corrupt zip: central directory past end of file (truncated?)', { source: file });
  const cd = src.read(cdOffset, cdSize);
  const cv = dataView(cd);
  const entries = new Map<string, ZipEntry>();
  const dec = new TextDecoder();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== ZIP_CENTRAL) throw new G2DError(`corrupt zip: bad central directory entry ${i}`, { source: file });
    const method = cv.getUint16(p + 10, true);
    const crc32 = cv.getUint32(p + 16, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: present fields are those saturated in the fixed record
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = cv.getUint16(q, true);
      const len = cv.getUint16(q + 2, true);
      if (id === ZIP64_EXTRA) {
        let r = q + 4;
        const next = () => {
          const v = Number(cv.getBigUint64(r, true));
          r += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      q += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size, crc32, localHeaderOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}

/** True when the first bytes are a ZIP local file header. */
export function isZipMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}
