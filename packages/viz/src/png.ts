/**
 * PNG encoding of RGBA images (fast-png, the encoder @g2d-ts/data also uses) and data URIs
 * for self-contained HTML. Opaque images are written as RGB (a quarter smaller).
 */
import { encode } from 'fast-png';
import { checkRgba, type Rgba } from './raster';
import { base64 } from './util';

/** PNG bytes of an image: 8-bit RGB when every pixel is opaque, else 8-bit RGBA. Deterministic. */
export function encodePng(img: Rgba): Uint8Array {
  checkRgba(img, 'encodePng: img');
  const src = img.data;
  let opaque = true;
  for (let i = 3; i < src.length; i += 4) {
    if (src[i] !== 255) {
      opaque = false;
      break;
    }
  }
  if (!opaque) return encode({ width: img.width, height: img.height, data: new Uint8Array(src.buffer, src.byteOffset, src.length), depth: 8, channels: 4 });
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, o = 0; i < src.length; i += 4, o += 3) {
    rgb[o] = src[i]!;
    rgb[o + 1] = src[i + 1]!;
    rgb[o + 2] = src[i + 2]!;
  }
  return encode({ width: img.width, height: img.height, data: rgb, depth: 8, channels: 3 });
}

/** `data:image/png;base64,…` of an image, for <img src> in a self-contained page. */
export function pngDataUri(img: Rgba): string {
  return `data:image/png;base64,${base64(encodePng(img))}`;
}

/** `data:image/svg+xml;base64,…` of an SVG document (e.g. a chart used as an <img>). */
export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${base64(new TextEncoder().encode(svg))}`;
}
