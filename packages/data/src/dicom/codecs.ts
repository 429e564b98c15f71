/**
 * WebAssembly / JavaScript codecs for the compressed DICOM transfer syntaxes, loaded lazily
 * the first time a file needs them (the npm builds of libjpeg-turbo, CharLS and OpenJPEG, and
 * a pure-JS JPEG lossless decoder).
 */
import { createRequire } from 'node:module';
import { decodeJpegLosslessFast } from './lossless';

// Node's own require (also under ESM, where tsup shims __filename; bundlers' require shims throw)
const req: NodeJS.Require = createRequire(__filename);

/** What a codec gives back for one frame. */
export interface DecodedFrame {
  width: number;
  height: number;
  bitsPerSample: number;
  components: number;
  signed: boolean;
  /** samples, pixel-interleaved when components > 1 (see `planar`) */
  data: Uint8Array | Uint16Array | Int16Array;
  /** true when the codec returned component planes one after the other */
  planar?: boolean;
}

interface EmscriptenDecoder {
  getEncodedBuffer(n: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  getInterleaveMode?(): number;
  delete(): void;
}
type EmscriptenModule = Record<string, new () => EmscriptenDecoder>;

const cache = new Map<string, Promise<EmscriptenModule>>();
const ready = new Map<string, EmscriptenModule>();

async function loadModule(pkg: string): Promise<EmscriptenModule> {
  let p = cache.get(pkg);
  if (!p) {
    const factory = req(`${pkg}/decodewasmjs`) as (opts?: object) => Promise<EmscriptenModule>;
    p = factory({ print: () => undefined, printErr: () => undefined }).then((m) => {
      ready.set(pkg, m);
      return m;
    });
    cache.set(pkg, p);
  }
  return p;
}

const JPEG8 = '@cornerstonejs/codec-libjpeg-turbo-8bit';
const CHARLS = '@cornerstonejs/codec-charls';
const OPENJPEG = '@cornerstonejs/codec-openjpeg';

/** Load every WASM codec now (otherwise each loads on first use). */
export async function initCodecs(): Promise<void> {
  await Promise.all([loadModule(JPEG8), loadModule(CHARLS), loadModule(OPENJPEG)]);
}

function runEmscripten(mod: EmscriptenModule, cls: string, bytes: Uint8Array): DecodedFrame {
  const dec = new mod[cls]!();
  try {
    const enc = dec.getEncodedBuffer(bytes.length);
    enc.set(bytes);
    dec.decode();
    const info = dec.getFrameInfo();
    const raw = dec.getDecodedBuffer();
    const signed = !!info.isSigned;
    let data: Uint8Array | Uint16Array | Int16Array;
    if (info.bitsPerSample <= 8) {
      data = new Uint8Array(raw);
    } else {
      // copy out of the wasm heap (the view dies with the decoder)
      const copy = new Uint8Array(raw);
      data = signed ? new Int16Array(copy.buffer, 0, copy.length >> 1) : new Uint16Array(copy.buffer, 0, copy.length >> 1);
    }
    const planar = cls === 'JpegLSDecoder' && info.componentCount > 1 && dec.getInterleaveMode?.() === 0;
    return { width: info.width, height: info.height, bitsPerSample: info.bitsPerSample, components: info.componentCount, signed, data, planar };
  } finally {
    dec.delete();
  }
}

export async function decodeJpegBaseline(bytes: Uint8Array): Promise<DecodedFrame> {
  return runEmscripten(ready.get(JPEG8) ?? (await loadModule(JPEG8)), 'JPEGDecoder', bytes);
}
export async function decodeJpegLs(bytes: Uint8Array): Promise<DecodedFrame> {
  return runEmscripten(ready.get(CHARLS) ?? (await loadModule(CHARLS)), 'JpegLSDecoder', bytes);
}
export async function decodeJpeg2000(bytes: Uint8Array): Promise<DecodedFrame> {
  return runEmscripten(ready.get(OPENJPEG) ?? (await loadModule(OPENJPEG)), 'J2KDecoder', bytes);
}

interface LosslessDecoderCtor {
  new (): { decode(buffer: ArrayBuffer, offset?: number, length?: number, numBytes?: number): ArrayLike<number> & { buffer: ArrayBuffer }; numComp?: number; xDim?: number; yDim?: number; precision?: number };
}

/**
 * JPEG lossless (process 14), any precision 2..16: our table-driven decoder (lossless.ts), with
 * jpeg-lossless-decoder-js as the fallback for streams it does not take.
 */
export function decodeJpegLossless(bytes: Uint8Array, bytesPerSample: number): DecodedFrame {
  try {
    const r = decodeJpegLosslessFast(bytes);
    if ((r.precision > 8 ? 2 : 1) === bytesPerSample || r.precision > 8) {
      return { width: r.width, height: r.height, bitsPerSample: r.precision, components: r.components, signed: false, data: r.data };
    }
  } catch {
    // fall through to the reference JS decoder, whose error (if any) is reported
  }
  return decodeJpegLosslessLib(bytes, bytesPerSample);
}

/** JPEG lossless via jpeg-lossless-decoder-js. */
export function decodeJpegLosslessLib(bytes: Uint8Array, bytesPerSample: number): DecodedFrame {
  const { Decoder } = req('jpeg-lossless-decoder-js') as { Decoder: LosslessDecoderCtor };
  const d = new Decoder();
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const out = d.decode(buf, 0, buf.byteLength, bytesPerSample);
  const components = d.numComp ?? 1;
  const width = d.xDim ?? 0;
  const height = d.yDim ?? 0;
  const precision = d.precision ?? bytesPerSample * 8;
  const data =
    bytesPerSample === 1
      ? new Uint8Array(out.buffer, (out as Uint8Array).byteOffset ?? 0, width * height * components)
      : new Uint16Array(out.buffer, (out as Uint16Array).byteOffset ?? 0, width * height * components);
  return { width, height, bitsPerSample: precision, components, signed: false, data };
}

/** Sample precision of a JPEG stream (from its first SOFn marker), or undefined. */
export function jpegPrecision(bytes: Uint8Array): { precision: number; sof: number } | undefined {
  let i = 2;
  while (i + 4 < bytes.length) {
    if (bytes[i] !== 0xff) {
      i++;
      continue;
    }
    const m = bytes[i + 1]!;
    if (m === 0xff) {
      i++;
      continue;
    }
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { precision: bytes[i + 4]!, sof: m };
    }
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      i += 2;
      continue;
    }
    const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    i += 2 + len;
  }
  return undefined;
}
