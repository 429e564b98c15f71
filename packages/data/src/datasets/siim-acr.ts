/** SIIM-ACR pneumothorax: DICOMs + train-rle.csv. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCsv, rowLine } from '../csv';
import { buildIndex, findFile, need, walk } from './common';
import type { AdapterOptions, DatasetIndex, ItemRef } from './types';

export interface SiimOptions extends AdapterOptions {
  /** train-rle.csv (default: train-rle.csv / siim-pneumothorax-train-rle.csv(.gz) / *rle*.csv under root) */
  rleCsv?: string;
  /** directory searched recursively for <ImageId>.dcm (default: root) */
  imagesDir?: string;
  width?: number;
  height?: number;
}

/** SIIM-ACR: dicom-images-train/<study>/<series>/<ImageId>.dcm + train-rle.csv (ImageId, EncodedPixels). */
export function siimAcr(opts: SiimOptions): DatasetIndex {
  return buildIndex(opts, 'SIIM-ACR', (p, root) => {
    let rleFile = opts.rleCsv;
    if (!rleFile) {
      rleFile = findFile(root, ['train-rle.csv', 'siim-pneumothorax-train-rle.csv']);
      if (!fs.existsSync(rleFile)) {
        const c = fs.readdirSync(root).find((f) => /rle.*\.csv$/i.test(f));
        if (c) rleFile = path.join(root, c);
      }
    }
    const rows = readCsv(need(rleFile, 'SIIM RLE CSV'), { onBadRow: (w, r) => p.bad(w, r) });
    const dcm = new Map<string, string>();
    const dir = opts.imagesDir ?? root;
    if (fs.existsSync(dir)) for (const f of walk(dir, '.dcm')) dcm.set(path.basename(f, path.extname(f)), f);
    const lookup = (id: string) => dcm.get(id) ?? [...dcm.entries()].find(([k]) => k.endsWith(id))?.[1];
    const groups = new Map<string, { rle: string[]; line: number }>();
    for (const r of rows) {
      const where = `${rleFile}:${rowLine(r)}`;
      const id = (r.ImageId ?? '').trim();
      const enc = (r.EncodedPixels ?? '').trim();
      if (!id || !enc) {
        p.bad(where, 'missing ImageId or EncodedPixels');
        continue;
      }
      if (enc !== '-1' && !/^\d+(\s+\d+)*$/.test(enc)) {
        p.bad(where, `EncodedPixels is not "-1" or a list of integers`);
        continue;
      }
      const g = groups.get(id) ?? { rle: [], line: rowLine(r) ?? 0 };
      g.rle.push(enc);
      groups.set(id, g);
    }
    const items: ItemRef[] = [];
    for (const [id, g] of groups) {
      const image = lookup(id);
      if (!image) continue; // labels without images (e.g. a partial download) are not items
      const positive = g.rle.some((r) => r !== '-1');
      items.push({
        id,
        patientId: id,
        image,
        labels: [positive ? 1 : 0],
        mask: { kind: 'rle', rle: g.rle, width: opts.width ?? 1024, height: opts.height ?? 1024 },
        meta: { rleLine: g.line },
      });
    }
    return { name: 'siim-acr', classes: ['Pneumothorax'], items };
  });
}
