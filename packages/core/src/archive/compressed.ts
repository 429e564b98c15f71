/** Single-stream decompression by content (gzip, or the one file of a .zip), with fflate. */
import { gunzipSync } from 'fflate';
import { G2DError } from '../errors';
import { ZipReader, isZipMagic } from './zip';

export function isGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** The decompressed bytes of a gzip stream, else `bytes` unchanged. */
export function gunzipIfGzip(bytes: Uint8Array, source = '<gzip>'): Uint8Array {
  if (!isGzipMagic(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new G2DError(`corrupt gzip: ${(e as Error).message}`, { source, cause: e });
  }
}

/**
 * Plain bytes as they are, a gzip stream decompressed, or a .zip archive's first file (or the
 * one named `entry`), by content rather than file name.
 */
export function decompressAuto(bytes: Uint8Array, source = '<data>', entry?: string): Uint8Array {
  if (isGzipMagic(bytes)) return gunzipIfGzip(bytes, source);
  if (!isZipMagic(bytes)) return bytes;
  const zip = ZipReader.fromBytes(bytes, source);
  const name = entry ?? [...zip.entries.keys()].find((n) => !n.endsWith('/'));
  if (name === undefined) throw new G2DError('zip archive is empty', { source });
  if (!zip.entries.has(name)) throw new G2DError(`zip has no entry "${name}"`, { source });
  return zip.read(name);
}
