/** `g2d-data convert`: any supported radiograph -> a grey PNG that looks right in an ordinary viewer. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { G2DError, intOption, writeFileAtomic, type CliCommand } from '@g2d-ts/core';
import { encodeGrayPng, loadImage, type GrayImage } from '../image';

/** Inserts an `sBIT` chunk (grey: one byte, the significant bits) right after IHDR. */
export function withSbit(png: Uint8Array, significantBits: number): Uint8Array {
  const ihdrEnd = 8 + 4 + 4 + 13 + 4;
  const chunk = new Uint8Array(4 + 4 + 1 + 4);
  const dv = new DataView(chunk.buffer);
  dv.setUint32(0, 1);
  chunk.set([0x73, 0x42, 0x49, 0x54], 4); // "sBIT"
  chunk[8] = significantBits;
  dv.setUint32(9, crc32(chunk.subarray(4, 9)) >>> 0);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd), 0);
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

/** Significant bits of a 0..maxValue image when maxValue is 2^b - 1, else undefined. */
function bitsOf(maxValue: number): number | undefined {
  const b = Math.log2(maxValue + 1);
  return Number.isInteger(b) ? b : undefined;
}

/**
 * The viewer-ready PNG samples: 8- and 16-bit images as they are; a b-bit image (2^b - 1 white,
 * e.g. 10- or 12-bit DICOM) scaled to the PNG depth by left-bit replication (the PNG
 * specification's method: white stays white) with `sBIT` = b, so `value >> (depth - b)`
 * gives back the exact b-bit values. Other ranges are scaled linearly.
 */
export function viewerPng(img: GrayImage): { png: Uint8Array; depth: 8 | 16; maxValue: number; note: string } {
  const { maxValue } = img;
  if (maxValue === 255 || maxValue === 65535) {
    return { png: encodeGrayPng(img), depth: maxValue === 255 ? 8 : 16, maxValue, note: 'values as decoded' };
  }
  const b = bitsOf(maxValue);
  const depth: 8 | 16 = maxValue < 255 ? 8 : 16;
  const n = img.data.length;
  const data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  if (b !== undefined && b >= depth / 2) {
    const up = depth - b;
    const down = b - up;
    for (let i = 0; i < n; i++) {
      const v = img.data[i]!;
      data[i] = (v << up) | (v >> down);
    }
    const png = withSbit(encodeGrayPng({ ...img, data, maxValue: 2 ** depth - 1 }, depth), b);
    return { png, depth, maxValue: 2 ** depth - 1, note: `${b}-bit values scaled to ${depth} bits by bit replication; sBIT ${b} (value >> ${up} gives the ${b}-bit value)` };
  }
  const top = 2 ** depth - 1;
  for (let i = 0; i < n; i++) data[i] = Math.floor((img.data[i]! / maxValue) * top + 0.5);
  return { png: encodeGrayPng({ ...img, data, maxValue: top }, depth), depth, maxValue: top, note: `0..${maxValue} scaled linearly to 0..${top}` };
}

export const HELP_CONVERT = `For DICOM the grey value of each pixel is:
  1. s = stored value (BitsStored bits, masked / sign-extended per PixelRepresentation)
  2. m = Modality LUT: the Modality LUT Sequence if present, else s*RescaleSlope+RescaleIntercept
         when both are present, else s
  3. g = VOI (unless --no-voi): the VOI LUT Sequence if present, else the window
         (WindowCenter/WindowWidth, VOILUTFunction LINEAR | LINEAR_EXACT | SIGMOID), computed as
         pydicom's apply_voi_lut(prefer_lut=True); else g = m
  4. u = clip((g - lo) / (hi - lo), 0, 1) over the NOMINAL range [lo, hi] of g (not the image's
         own min/max): the window output range (pydicom's y_min..y_max), or 0..2^bits-1 of the
         LUT used, or the rescaled/stored range implied by BitsStored and PixelRepresentation
  5. MONOCHROME1: u = 1 - u (so bone is bright; --no-invert keeps it)
  6. v = floor(u * (2^BitsStored - 1) + 0.5): the BitsStored-bit grey value
The PNG (default) is what an ordinary viewer shows correctly: 8-bit sources as 8-bit PNG; a
  b-bit source (9..15 bits, e.g. 10- or 12-bit DICOM) as a 16-bit PNG scaled by left-bit
  replication (v << (16-b) | v >> (2b-16): black stays 0, white becomes 65535) with an sBIT
  chunk = b, so value >> (16-b) recovers v exactly; 16-bit sources as they are.
  --exact writes v itself (0..2^BitsStored-1 in a 16-bit PNG, no sBIT): exact values for
  programs, but nearly black in a viewer.
RGB / YBR_FULL colour becomes grey via ITU-R 601 luma (Pillow's 'L'); PALETTE COLOR is refused.
PNG/JPEG inputs are written as their grey values (colour -> luma).`;

export const convertCommand: CliCommand = {
  summary: 'decode a DICOM, PNG or JPEG radiograph and write it as a grey PNG',
  positionals: [{ name: 'in' }, { name: 'out.png' }],
  options: {
    'no-voi': { type: 'boolean', description: 'skip the VOI step (window / VOI LUT)' },
    'voi-index': { type: 'string', value: 'K', description: 'which of several windows / VOI LUTs to use (default 0)' },
    'no-invert': { type: 'boolean', description: 'keep MONOCHROME1 as stored (no 1 - u)' },
    frame: { type: 'string', value: 'N', description: 'frame of a multi-frame DICOM (default 0)' },
    exact: { type: 'boolean', description: 'write the BitsStored-bit values unscaled (no sBIT): exact, but dark in a viewer' },
  },
  details: HELP_CONVERT,
  async run({ values, positionals }, ctx) {
    const input = ctx.resolvePath(positionals.in!);
    const output = ctx.resolvePath(positionals['out.png']!);
    const { image, meta } = await loadImage(input, {
      voi: !values['no-voi'],
      voiIndex: intOption(values, 'voi-index', 0, { min: 0 }),
      invertMonochrome1: !values['no-invert'],
      frame: intOption(values, 'frame', 0, { min: 0 }),
    });
    let out: { png: Uint8Array; depth: number; maxValue: number; note: string };
    if (values.exact) {
      const depth = image.maxValue <= 255 ? 8 : 16;
      out = { png: encodeGrayPng(image), depth, maxValue: image.maxValue, note: 'exact values' };
    } else out = viewerPng(image);
    if (fs.existsSync(output) && fs.statSync(output).isDirectory()) throw new G2DError('the output is a folder; give a file name ending in .png', { source: output });
    try {
      fs.mkdirSync(path.dirname(output), { recursive: true });
      writeFileAtomic(output, out.png);
    } catch (e) {
      throw new G2DError(`cannot write the PNG (${(e as Error).message})`, { source: output, cause: e });
    }
    ctx.out(`${positionals['out.png']}: ${image.width}x${image.height} ${out.depth}-bit grey, values 0..${out.maxValue}, ${out.note}${meta.steps ? ` (${meta.steps.join('; ')})` : ''}\n`);
    return 0;
  },
};
