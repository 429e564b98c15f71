/** PNG encoding: round trips through @g2d-ts/data's decoder (and fast-png for colour), data URIs, base64. */
import * as path from 'node:path';
import { decode } from 'fast-png';
import { describeShared } from '@g2d-ts/core/testing';
import { decodePngGray, loadImage } from '@g2d-ts/data';
import { base64, createRgba, drawBox, encodePng, grayImageToRgba, grayToRgba, overlayMask, pngDataUri, svgDataUri } from '../src';

describe('encodePng', () => {
  it('grey RGBA round-trips exactly through decodePngGray', () => {
    const g = Uint8Array.from({ length: 7 * 5 }, (_, i) => (i * 37) % 256);
    const bytes = encodePng(grayToRgba(g, 7, 5));
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const { image, meta } = decodePngGray(bytes, 'roundtrip.png');
    expect([image.width, image.height, image.maxValue, meta.channels]).toEqual([7, 5, 255, 3]);
    expect(Array.from(image.data)).toEqual(Array.from(g));
  });
  it('colour pixels: exact RGB via fast-png, and the L value data computes (Pillow weights)', () => {
    const img = drawBox(createRgba(3, 2, [10, 20, 30, 255]), [0, 0, 1, 1], [200, 100, 50], 1);
    const bytes = encodePng(img);
    const d = decode(bytes);
    expect([d.width, d.height, d.channels, d.depth]).toEqual([3, 2, 3, 8]);
    expect(Array.from(d.data.subarray(0, 6))).toEqual([200, 100, 50, 10, 20, 30]);
    const { image } = decodePngGray(bytes);
    expect(image.data[0]).toBe((200 * 19595 + 100 * 38470 + 50 * 7471 + 0x8000) >>> 16);
  });
  it('keeps alpha when some pixel is not opaque', () => {
    const img = createRgba(2, 1, [1, 2, 3, 255]);
    img.data[7] = 128;
    const d = decode(encodePng(img));
    expect(d.channels).toBe(4);
    expect(Array.from(d.data)).toEqual([1, 2, 3, 255, 1, 2, 3, 128]);
  });
  it('is deterministic and validates its input', () => {
    const img = overlayMask(createRgba(16, 16, [90, 90, 90, 255]), new Uint8Array(256).fill(1), { alpha: 0.3 });
    expect(Buffer.from(encodePng(img)).equals(Buffer.from(encodePng(img)))).toBe(true);
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8ClampedArray(4) })).toThrow(/encodePng: img: data has 4 bytes/);
  });
});

describe('data URIs and base64', () => {
  it('base64 equals Node\'s for every padding case', () => {
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n) % 256);
      expect(base64(b)).toBe(Buffer.from(b).toString('base64'));
    }
    const big = Uint8Array.from({ length: 100003 }, (_, i) => (i * 31) % 251);
    expect(base64(big)).toBe(Buffer.from(big).toString('base64'));
  });
  it('pngDataUri decodes back to the same PNG bytes; svgDataUri to the same text', () => {
    const img = createRgba(3, 3, [5, 6, 7, 255]);
    const uri = pngDataUri(img);
    expect(uri.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(uri.slice(22), 'base64').equals(Buffer.from(encodePng(img)))).toBe(true);
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>λ &amp; μ</text></svg>';
    expect(Buffer.from(svgDataUri(svg).slice('data:image/svg+xml;base64,'.length), 'base64').toString('utf8')).toBe(svg);
  });
});

describeShared('a real radiograph', 'data/nih_cxr14_bbox/images', (dir) => {
  it('JPEG -> RGBA -> PNG -> decodePngGray gives back the decoded pixels exactly', async () => {
    const { image } = await loadImage(path.join(dir, '00000032_037.jpg'));
    const png = encodePng(grayImageToRgba(image));
    const back = decodePngGray(png, 'back.png').image;
    expect([back.width, back.height]).toEqual([image.width, image.height]);
    expect(Buffer.from(back.data as Uint8Array).equals(Buffer.from(image.data as Uint8Array))).toBe(true);
  });
});
