/**
 * Raster images (PNG incl. 16-bit, JPEG) and one entry point, `loadImage`, that also takes
 * DICOM, so callers never care which format a dataset ships.
 */
import * as path from 'node:path';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { G2DError, readFileBytes } from '@g2d-ts/core';
import { decodeJpegBaseline, decodeJpegLossless, jpegPrecision, type DecodedFrame } from './dicom/codecs';
import { decodeJpegSequential } from './dicom/jpeg12';
import { decodeDicom, type DicomMeta } from './dicom/read';
import { presentQuantized, type PresentationOptions } from './dicom/lut';

/** A grey image: integer samples 0..maxValue (uint8 for 8-bit sources, uint16 otherwise). */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array;
  /** value of white (255 for 8-bit, 2^BitsStored - 1 for DICOM, 65535 for 16-bit PNG) */
  maxValue: number;
}

export type ImageFormat = 'dicom' | 'png' | 'jpeg';

export interface ImageMeta {
  source: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** the source's own channel count before grey conversion */
  channels: number;
  bitDepth: number;
  /** DICOM header fields (pixel spacing, view, ids, ...) when the source is DICOM */
  dicom?: DicomMeta;
  /** what was applied to reach the grey image */
  steps?: string[];
}

export interface LoadedImage {
  image: GrayImage;
  meta: ImageMeta;
}

/** Which format the bytes hold, from their magic numbers. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return 'dicom';
  return undefined;
}

/** Pillow's RGB -> L: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, on 8-bit samples. */
export function rgbToL(src: ArrayLike<number>, n: number, channels: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    out[i] = (src[o]! * 19595 + src[o + 1]! * 38470 + src[o + 2]! * 7471 + 0x8000) >>> 16;
  }
  return out;
}

function rgbToL16(src: ArrayLike<number>, n: number, channels: number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    out[i] = Math.round((src[o]! * 299 + src[o + 1]! * 587 + src[o + 2]! * 114) / 1000);
  }
  return out;
}

/** Decode a PNG (1/2/4/8/16-bit grey, grey+alpha, RGB, RGBA, palette) to grey. */
export function decodePngGray(bytes: Uint8Array, source = '<buffer>'): LoadedImage {
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new G2DError(`corrupt or truncated PNG: ${(e as Error).message}`, { source, cause: e });
  }
  const { width, height, depth, channels } = png;
  const n = width * height;
  let data: Uint8Array | Uint16Array;
  let maxValue: number;
  if (png.palette) {
    const pal = png.palette;
    const idx = png.data;
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const c = pal[idx[i]!] ?? [0, 0, 0];
      rgb[3 * i] = c[0]!;
      rgb[3 * i + 1] = c[1]!;
      rgb[3 * i + 2] = c[2]!;
    }
    data = rgbToL(rgb, n, 3);
    maxValue = 255;
  } else if (channels === 1 || channels === 2) {
    const src = png.data;
    if (depth < 8) {
      // Pillow expands 1/2/4-bit grey to 0..255
      const scale = 255 / (2 ** depth - 1);
      data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.round(src[i * channels]! * scale);
      maxValue = 255;
    } else {
      data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
      if (channels === 1) data.set(src.subarray(0, n) as never);
      else for (let i = 0; i < n; i++) data[i] = src[i * 2]!;
      maxValue = depth === 16 ? 65535 : 255;
    }
  } else {
    data = depth === 16 ? rgbToL16(png.data, n, channels) : rgbToL(png.data, n, channels);
    maxValue = depth === 16 ? 65535 : 255;
  }
  return { image: { width, height, data, maxValue }, meta: { source, format: 'png', width, height, channels, bitDepth: depth } };
}

/** Decode a JPEG (8-bit baseline/progressive via libjpeg-turbo, or lossless) to grey. */
export async function decodeJpegGray(bytes: Uint8Array, source = '<buffer>'): Promise<LoadedImage> {
  const p = jpegPrecision(bytes);
  if (!p) throw new G2DError('corrupt JPEG: no frame header (SOF) found', { source });
  let d: DecodedFrame;
  try {
    if (p.sof === 0xc3) d = decodeJpegLossless(bytes, p.precision > 8 ? 2 : 1);
    else if (p.precision === 12) {
      const x = decodeJpegSequential(bytes);
      d = { width: x.width, height: x.height, bitsPerSample: 12, components: x.components, signed: false, data: x.data };
    } else d = await decodeJpegBaseline(bytes);
  } catch (e) {
    throw new G2DError(`corrupt or unsupported JPEG (${p.precision}-bit, SOF${(p.sof - 0xc0).toString(16)}): ${typeof e === 'number' ? `codec error ${e}` : (e as Error)?.message ?? e}`, { source, cause: e });
  }
  const n = d.width * d.height;
  let data: Uint8Array | Uint16Array;
  if (d.components === 1) data = d.data instanceof Uint8Array ? d.data : Uint16Array.from(d.data);
  else if (d.bitsPerSample <= 8) data = rgbToL(d.data, n, d.components);
  else data = rgbToL16(d.data, n, d.components);
  const maxValue = d.bitsPerSample <= 8 ? 255 : 2 ** d.bitsPerSample - 1;
  return {
    image: { width: d.width, height: d.height, data, maxValue },
    meta: { source, format: 'jpeg', width: d.width, height: d.height, channels: d.components, bitDepth: d.bitsPerSample },
  };
}

export interface LoadImageOptions extends PresentationOptions {
  /** force a format instead of sniffing the bytes / extension */
  format?: ImageFormat;
}

/**
 * Decode DICOM to the grey image described in `g2d-data convert --help`: Modality LUT, VOI,
 * MONOCHROME1 inversion, quantised to 0..2^BitsStored-1.
 */
export async function decodeDicomGray(bytes: Uint8Array, source = '<buffer>', opts: PresentationOptions = {}): Promise<LoadedImage> {
  const frame = opts.frame ?? 0;
  const px = await decodeDicom(bytes, { source, frames: [frame] });
  const maxValue = 2 ** px.meta.bitsStored - 1;
  const p = presentQuantized(px, maxValue, { ...opts, frame: 0 });
  const data = p.data;
  return {
    image: { width: p.width, height: p.height, data, maxValue },
    meta: {
      source,
      format: 'dicom',
      width: p.width,
      height: p.height,
      channels: px.meta.samplesPerPixel,
      bitDepth: px.meta.bitsStored,
      dicom: px.meta,
      steps: p.steps,
    },
  };
}

/** Decode image bytes of any supported format to grey. */
export async function decodeImage(bytes: Uint8Array, source = '<buffer>', opts: LoadImageOptions = {}): Promise<LoadedImage> {
  const ext = path.extname(source).toLowerCase();
  const fmt =
    opts.format ??
    sniffFormat(bytes) ??
    (ext === '.dcm' || ext === '.dicom' || ext === '' ? 'dicom' : undefined);
  switch (fmt) {
    case 'png':
      return decodePngGray(bytes, source);
    case 'jpeg':
      return decodeJpegGray(bytes, source);
    case 'dicom':
      return decodeDicomGray(bytes, source, opts);
    default:
      throw new G2DError(`unrecognised image format (not PNG, JPEG or DICOM; extension "${ext}")`, { source });
  }
}

/** Read a file and decode it (PNG, JPEG or DICOM) to grey. */
export async function loadImage(file: string, opts: LoadImageOptions = {}): Promise<LoadedImage> {
  const bytes = readFileBytes(file);
  if (bytes.length === 0) throw new G2DError('file is empty', { source: file });
  return decodeImage(bytes, file, opts);
}

/** Samples as float32 in [0, 1] (value / maxValue). */
export function toFloat32(img: GrayImage): Float32Array {
  const out = new Float32Array(img.data.length);
  const inv = 1 / img.maxValue;
  for (let i = 0; i < out.length; i++) out[i] = img.data[i]! * inv;
  return out;
}

/** Encode a grey image as PNG: 8-bit when maxValue <= 255, else 16-bit. */
export function encodeGrayPng(img: GrayImage, bits?: 8 | 16): Uint8Array {
  const depth = bits ?? (img.maxValue <= 255 ? 8 : 16);
  const data = depth === 16 ? (img.data instanceof Uint16Array ? img.data : Uint16Array.from(img.data)) : img.data instanceof Uint8Array ? img.data : Uint8Array.from(img.data);
  return encodePng({ width: img.width, height: img.height, data, depth, channels: 1 });
}
