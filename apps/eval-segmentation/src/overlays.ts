/**
 * Overlay figures of a sample of test images: the stored radiograph with the predicted mask
 * filled in red and the ground truth outlined in green, one PNG per image
 * (`overlays/<image>.png`), all of them tiled into `overlays.png` and captioned in
 * `overlays.html`.
 */
import * as path from 'node:path';
import type { GrayImage } from '@g2d-ts/data';
import { writeFileAtomicSync, writeText } from '@g2d-ts/eval';
import { encodePng, fitRgba, grayImageToRgba, htmlPage, imageGrid, overlayMask, tile, type Rgba } from '@g2d-ts/viz';

/** The overlay of one image as RGBA (ground truth 0/1, prediction 0/255, both at the stored size). */
export function overlayRgba(stored: GrayImage, truth: Uint8Array, pred: Uint8Array): Rgba {
  let o = grayImageToRgba(stored);
  o = overlayMask(o, pred, { color: [255, 40, 40], alpha: 0.35 });
  o = overlayMask(o, truth, { color: [40, 230, 60], outline: true, outlineWidth: Math.max(1, Math.round(Math.max(stored.width, stored.height) / 256)) });
  return o;
}

export function overlayImage(stored: GrayImage, truth: Uint8Array, pred: Uint8Array): Uint8Array {
  return encodePng(overlayRgba(stored, truth, pred));
}

/** Writes the per-image overlays, the tiled figure and the captioned page (nothing when the sample is empty). */
export function writeOverlays(out: string, items: { name: string; dice: number; png: Uint8Array; rgba?: Rgba }[]): void {
  if (!items.length) return;
  for (const it of items) writeFileAtomicSync(path.join(out, 'overlays', `${it.name}.png`), it.png);
  const thumbs = items.filter((it) => it.rgba).map((it) => fitRgba(it.rgba!, 256));
  if (thumbs.length) writeFileAtomicSync(path.join(out, 'overlays.png'), encodePng(tile(thumbs, Math.min(4, thumbs.length))));
  writeText(
    path.join(out, 'overlays.html'),
    htmlPage({
      title: 'Segmentation overlays',
      sections: [
        {
          title: 'Test sample (green outline: ground truth; red: prediction)',
          body: imageGrid(
            items.map((it) => ({ image: it.png, caption: `${it.name}: Dice ${it.dice.toFixed(3)}` })),
            { columns: 4 },
          ),
        },
      ],
    }),
  );
}
