/**
 * Archives, read and written in one place: ZIP (read over a file on demand or from memory,
 * ZIP64, stored/deflated; written stored, aligned, atomically, as torch.save does), tar/.tar.gz
 * reading, and decompression by content (gzip, single-file zip). Inflate/gunzip use fflate.
 */
export { ZipReader, isZipMagic, type ZipEntry } from './zip';
export { ZipWriter, writeZip, type ZipWriterOptions } from './zip-writer';
export { readTar } from './tar';
export { decompressAuto, gunzipIfGzip, isGzipMagic } from './compressed';
export { readFileBytes } from './source';
