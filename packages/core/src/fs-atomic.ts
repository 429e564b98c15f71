/**
 * Atomic file writes: readers see the old file or the whole new one, never half of it, and a
 * crash leaves at most a hidden temporary file (`.<name>.tmp-<pid>-<hex>`) beside the target.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The temporary names writeFileAtomic uses for `name` (to recognise leftovers of a crashed write). */
export function isAtomicTempName(fileName: string, name?: string): boolean {
  const m = /^\.(.+)\.tmp-\d+-[0-9a-f]{8}$/.exec(fileName);
  return m !== null && (name === undefined || m[1] === name);
}

/** Writes `data` to `file` atomically: a temporary file in the same folder, fsync, rename, fsync of the folder. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = fs.openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* some file systems cannot fsync a folder */
  }
}
