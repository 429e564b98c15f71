/**
 * The browser build's stand-in for Node's global `Buffer` (injected by tsup.browser.config.ts):
 * the DICOM reader hands dicom-parser a Buffer under Node and a plain Uint8Array here (which is
 * what dicom-parser takes in a browser). Only the three calls the reader makes exist.
 */
export const Buffer = {
  isBuffer(_x: unknown): boolean {
    return false;
  },
  from(buffer: ArrayBufferLike, byteOffset?: number, length?: number): Uint8Array {
    return new Uint8Array(buffer, byteOffset, length);
  },
  alloc(size: number): Uint8Array {
    return new Uint8Array(size);
  },
};
