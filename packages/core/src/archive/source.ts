/** Byte sources for the archive readers (a file read on demand, or bytes in memory) and whole-file reads with errors that name the file. */
import * as fs from 'node:fs';
import { G2DError } from '../errors';

export interface ByteSource {
  /** where the bytes come from, for error messages */
  readonly name: string;
  readonly size: number;
  /** exactly `len` bytes at `pos`, or a G2DError naming the source (truncated?) */
  read(pos: number, len: number): Uint8Array;
  close(): void;
}

export function memorySource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    read(pos, len) {
      if (pos < 0 || pos + len > bytes.byteLength) throw new G2DError(`unexpected end of data at byte ${Math.max(pos, bytes.byteLength)} (truncated?)`, { source: name });
      return bytes.subarray(pos, pos + len);
    },
    close() {
      // nothing to release: the bytes belong to the caller
    },
  };
}

/** The G2DError for a failed open/read of `file`: not found, a directory, or the system code. */
function fileError(e: unknown, file: string): G2DError {
  const code = (e as NodeJS.ErrnoException).code;
  const what = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot read file (${code ?? String(e)})`;
  return new G2DError(what, { source: file, cause: e });
}

/** A whole file's bytes, or a G2DError naming the file and what went wrong. */
export function readFileBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw fileError(e, file);
  }
}

/** Reads a file on demand (large checkpoints are never held in memory whole). */
export function fileSource(file: string): ByteSource {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw fileError(e, file);
  }
  const size = fs.fstatSync(fd).size;
  let open = true;
  return {
    name: file,
    size,
    read(pos, len) {
      const buf = new Uint8Array(len);
      let done = 0;
      while (done < len) {
        const n = fs.readSync(fd, buf, done, len - done, pos + done);
        if (n === 0) throw new G2DError(`unexpected end of file at byte ${pos + done} (truncated?)`, { source: file });
        done += n;
      }
      return buf;
    },
    close() {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}
