/**
 * Minimal ZIP reader (central directory + local headers, ZIP64, stored and deflated
 * entries) over a file handle, so large checkpoints are never read into memory whole.
 */
import { promises as fsp } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { G2DError } from '../errors';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export class ZipReader {
  private constructor(
    readonly file: string,
    private readonly fh: fsp.FileHandle,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  static async open(file: string): Promise<ZipReader> {
    const fh = await fsp.open(file, 'r');
    try {
      const entries = await readCentralDirectory(fh, file);
      return new ZipReader(file, fh, entries);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Reads one entry's (decompressed) bytes. */
  async read(name: string): Promise<Uint8Array> {
    const e = this.entries.get(name);
    if (!e) throw new G2DError(`zip entry "${name}" not found`, { source: this.file });
    const local = await readAt(this.fh, e.localHeaderOffset, 30, this.file);
    const dv = new DataView(local.buffer, local.byteOffset, local.byteLength);
    if (dv.getUint32(0, true) !== 0x04034b50) {
      throw new G2DError(`corrupt zip: bad local header for "${name}"`, { source: this.file });
    }
    const dataStart = e.localHeaderOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    const raw = await readAt(this.fh, dataStart, e.compressedSize, this.file);
    if (e.method === 0) return raw;
    if (e.method === 8) {
      const out = inflateRawSync(raw);
      if (out.byteLength !== e.size) {
        throw new G2DError(`corrupt zip: "${name}" inflated to ${out.byteLength} bytes, expected ${e.size}`, { source: this.file });
      }
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    throw new G2DError(`zip entry "${name}" uses unsupported compression method ${e.method}`, { source: this.file });
  }
}

async function readAt(fh: fsp.FileHandle, pos: number, len: number, file: string): Promise<Uint8Array> {
  const buf = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const { bytesRead } = await fh.read(buf, done, len - done, pos + done);
    if (bytesRead === 0) throw new G2DError(`unexpected end of file at byte ${pos + done} (truncated?)`, { source: file });
    done += bytesRead;
  }
  return buf;
}

async function readCentralDirectory(fh: fsp.FileHandle, file: string): Promise<Map<string, ZipEntry>> {
  const { size } = await fh.stat();
  const tailLen = Math.min(size, 65557 + 20);
  const tail = await readAt(fh, size - tailLen, tailLen, file);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new G2DError('not a zip archive (no end-of-central-directory record)', { source: file });
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  // ZIP64 locator sits just before the EOCD record
  if (eocd >= 20 && tv.getUint32(eocd - 20, true) === 0x07064b50) {
    const z64Offset = Number(tv.getBigUint64(eocd - 20 + 8, true));
    const z = await readAt(fh, z64Offset, 56, file);
    const zv = new DataView(z.buffer);
    if (zv.getUint32(0, true) !== 0x06064b50) throw new G2DError('corrupt zip64 end-of-central-directory record', { source: file });
    count = Number(zv.getBigUint64(32, true));
    cdSize = Number(zv.getBigUint64(40, true));
    cdOffset = Number(zv.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > size) throw new G2DError('corrupt zip: central directory past end of file (truncated?)', { source: file });
  const cd = await readAt(fh, cdOffset, cdSize, file);
  const cv = new DataView(cd.buffer);
  const entries = new Map<string, ZipEntry>();
  const dec = new TextDecoder();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== 0x02014b50) {
      throw new G2DError(`corrupt zip: bad central directory entry ${i}`, { source: file });
    }
    const method = cv.getUint16(p + 10, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let usize = cv.getUint32(p + 24, true);
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
      if (id === 0x0001) {
        let r = q + 4;
        if (usize === 0xffffffff) {
          usize = Number(cv.getBigUint64(r, true));
          r += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(cv.getBigUint64(r, true));
          r += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cv.getBigUint64(r, true));
      }
      q += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size: usize, localHeaderOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}

/** True when the first bytes are a ZIP local file header. */
export function isZipMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}
