/**
 * ZIP writing (stored entries, as torch.save writes them): each entry's data can be aligned to
 * a byte boundary with a padding extra field, ZIP64 records appear only when sizes or offsets
 * need them, and timestamps are fixed so the same entries always give the same bytes. The file
 * is written to a temporary name, fsynced and renamed into place: readers never see half a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { G2DError } from '../errors';
import { ZIP64_EOCD, ZIP64_EXTRA, ZIP64_LOCATOR, ZIP_CENTRAL, ZIP_EOCD, ZIP_LOCAL } from './zip';

export interface ZipWriterOptions {
  /** align every entry's data to this many bytes (torch.save uses 64); default 1 */
  align?: number;
}

/** extra-field id of the alignment padding (the id torch.save uses) */
const PAD_EXTRA = 0x4246;
const U32 = 0xffffffff;
/** DOS date 1980-01-01, time 00:00: fixed, for byte-identical archives */
const DOS_DATE = 0x0021;
const FLAG_UTF8 = 0x0800;

interface Written {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
}

export class ZipWriter {
  private readonly written: Written[] = [];
  private readonly names = new Set<string>();
  private pos = 0;
  private done = false;

  private constructor(
    readonly file: string,
    private readonly tmp: string,
    private readonly fd: number,
    private readonly align: number,
  ) {}

  /** Starts `file` (its folder is created); nothing appears at `file` until `close()`. */
  static create(file: string, opts: ZipWriterOptions = {}): ZipWriter {
    const align = opts.align ?? 1;
    if (!Number.isInteger(align) || align < 1 || align > 4096) throw new G2DError(`align must be an integer in 1..4096, got ${align}`, { source: file });
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
    return new ZipWriter(file, tmp, fs.openSync(tmp, 'w'), align);
  }

  /** Appends one stored entry. */
  add(name: string, data: Uint8Array): void {
    if (this.done) throw new G2DError('zip writer is already closed', { source: this.file });
    if (!name || name.startsWith('/') || name.split('/').includes('..')) throw new G2DError(`bad zip entry name "${name}"`, { source: this.file });
    if (this.names.has(name)) throw new G2DError(`duplicate zip entry "${name}"`, { source: this.file });
    this.names.add(name);
    const nameBytes = new TextEncoder().encode(name);
    const size = data.byteLength;
    const zip64 = size >= U32;
    const z64Len = zip64 ? 20 : 0;
    // padding so that the data starts on an `align` boundary (a padding field is >= 4 bytes)
    let pad = 0;
    if (this.align > 1) {
      const start = this.pos + 30 + nameBytes.length + z64Len;
      pad = (this.align - ((start + 4) % this.align)) % this.align;
      pad += 4;
    }
    const header = new Uint8Array(30 + nameBytes.length + z64Len + pad);
    const v = new DataView(header.buffer);
    const crc = crc32(data) >>> 0;
    v.setUint32(0, ZIP_LOCAL, true);
    v.setUint16(4, zip64 ? 45 : 20, true);
    v.setUint16(6, FLAG_UTF8, true);
    v.setUint16(8, 0, true); // stored
    v.setUint16(10, 0, true);
    v.setUint16(12, DOS_DATE, true);
    v.setUint32(14, crc, true);
    v.setUint32(18, zip64 ? U32 : size, true);
    v.setUint32(22, zip64 ? U32 : size, true);
    v.setUint16(26, nameBytes.length, true);
    v.setUint16(28, z64Len + pad, true);
    header.set(nameBytes, 30);
    let q = 30 + nameBytes.length;
    if (zip64) {
      v.setUint16(q, ZIP64_EXTRA, true);
      v.setUint16(q + 2, 16, true);
      v.setBigUint64(q + 4, BigInt(size), true);
      v.setBigUint64(q + 12, BigInt(size), true);
      q += 20;
    }
    if (pad) {
      v.setUint16(q, PAD_EXTRA, true);
      v.setUint16(q + 2, pad - 4, true);
      header.fill(0x5a, q + 4, q + pad); // 'Z', as torch pads
    }
    this.written.push({ name: nameBytes, crc, size, offset: this.pos });
    this.write(header);
    this.write(data);
  }

  /** Writes the central directory, fsyncs and renames the archive into place. */
  close(): void {
    if (this.done) return;
    const cdStart = this.pos;
    for (const e of this.written) {
      const big = [e.size >= U32, e.size >= U32, e.offset >= U32];
      const z64Len = big.some(Boolean) ? 4 + 8 * big.filter(Boolean).length : 0;
      const rec = new Uint8Array(46 + e.name.length + z64Len);
      const v = new DataView(rec.buffer);
      v.setUint32(0, ZIP_CENTRAL, true);
      v.setUint16(4, z64Len ? 45 : 20, true); // made by: MS-DOS attributes, spec version
      v.setUint16(6, z64Len ? 45 : 20, true);
      v.setUint16(8, FLAG_UTF8, true);
      v.setUint16(12, 0, true);
      v.setUint16(14, DOS_DATE, true);
      v.setUint32(16, e.crc, true);
      v.setUint32(20, big[1] ? U32 : e.size, true);
      v.setUint32(24, big[0] ? U32 : e.size, true);
      v.setUint16(28, e.name.length, true);
      v.setUint16(30, z64Len, true);
      v.setUint32(42, big[2] ? U32 : e.offset, true);
      rec.set(e.name, 46);
      if (z64Len) {
        let q = 46 + e.name.length;
        v.setUint16(q, ZIP64_EXTRA, true);
        v.setUint16(q + 2, z64Len - 4, true);
        q += 4;
        for (const [k, val] of [e.size, e.size, e.offset].entries()) {
          if (!big[k]) continue;
          v.setBigUint64(q, BigInt(val), true);
          q += 8;
        }
      }
      this.write(rec);
    }
    const cdSize = this.pos - cdStart;
    const n = this.written.length;
    if (n >= 0xffff || cdStart >= U32 || cdSize >= U32) {
      const z = new Uint8Array(56 + 20);
      const v = new DataView(z.buffer);
      const at = this.pos;
      v.setUint32(0, ZIP64_EOCD, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(n), true);
      v.setBigUint64(32, BigInt(n), true);
      v.setBigUint64(40, BigInt(cdSize), true);
      v.setBigUint64(48, BigInt(cdStart), true);
      v.setUint32(56, ZIP64_LOCATOR, true);
      v.setBigUint64(64, BigInt(at), true);
      v.setUint32(72, 1, true);
      this.write(z);
    }
    const end = new Uint8Array(22);
    const v = new DataView(end.buffer);
    v.setUint32(0, ZIP_EOCD, true);
    v.setUint16(8, Math.min(n, 0xffff), true);
    v.setUint16(10, Math.min(n, 0xffff), true);
    v.setUint32(12, Math.min(cdSize, U32), true);
    v.setUint32(16, Math.min(cdStart, U32), true);
    this.write(end);
    this.done = true;
    try {
      fs.fsyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
    }
    fs.renameSync(this.tmp, this.file);
  }

  /** Drops the unfinished archive (nothing is left at `file` or the temporary name). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    fs.closeSync(this.fd);
    fs.rmSync(this.tmp, { force: true });
  }

  private write(b: Uint8Array): void {
    let off = 0;
    while (off < b.byteLength) off += fs.writeSync(this.fd, b, off, b.byteLength - off, this.pos + off);
    this.pos += b.byteLength;
  }
}

/** Writes a whole archive from `[name, bytes]` pairs (atomically); the writer is aborted on error. */
export function writeZip(file: string, entries: Iterable<[string, Uint8Array]>, opts: ZipWriterOptions = {}): void {
  const w = ZipWriter.create(file, opts);
  try {
    for (const [name, data] of entries) w.add(name, data);
  } catch (e) {
    w.abort();
    throw e;
  }
  w.close();
}
