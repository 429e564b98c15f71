/** RSNA Pneumonia Detection: DICOMs + box table. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCsv, rowLine } from '../csv';
import type { Box } from '../masks';
import { buildIndex, findFile, need, num } from './common';
import type { AdapterOptions, DatasetIndex, ItemRef } from './types';

export interface RsnaOptions extends AdapterOptions {
  /** stage_2_train_labels.csv (patientId,x,y,width,height,Target); .zip/.gz accepted */
  labels?: string;
  imagesDir?: string;
  /** include label rows whose DICOM is missing (report-only use); default false */
  keepMissingImages?: boolean;
}

/** RSNA Pneumonia Detection: stage_2_train_images/<patientId>.dcm + box table; boxes -> masks for segmentation. */
export function rsnaPneumonia(opts: RsnaOptions): DatasetIndex {
  return buildIndex(opts, 'RSNA Pneumonia', (p, root) => {
    const lf = opts.labels ?? findFile(root, ['stage_2_train_labels.csv', 'kaggle_stage_2_train_labels.csv']);
    const rows = readCsv(need(lf, 'RSNA label table'), { onBadRow: (w, r) => p.bad(w, r) });
    const imgDir = opts.imagesDir ?? path.join(root, 'stage_2_train_images');
    const byId = new Map<string, { target: number; boxes: Box[] }>();
    for (const r of rows) {
      const where = `${lf}:${rowLine(r)}`;
      const id = (r.patientId ?? '').trim();
      const t = (r.Target ?? '').trim();
      if (!id || (t !== '0' && t !== '1')) {
        p.bad(where, `missing patientId or Target not 0/1 ("${r.Target ?? ''}")`);
        continue;
      }
      const e = byId.get(id) ?? { target: 0, boxes: [] };
      if (t === '1') {
        const v = ['x', 'y', 'width', 'height'].map((k) => num(r[k], where, k, p));
        if (v.some((x) => x === undefined)) continue;
        e.boxes.push({ x: v[0]!, y: v[1]!, w: v[2]!, h: v[3]!, label: 'Lung Opacity' });
        e.target = 1;
      }
      byId.set(id, e);
    }
    const items: ItemRef[] = [];
    for (const [id, e] of byId) {
      const image = path.join(imgDir, `${id}.dcm`);
      if (!opts.keepMissingImages && !fs.existsSync(image)) continue;
      items.push({ id, patientId: id, image, labels: [e.target], boxes: e.boxes, mask: { kind: 'boxes' } });
    }
    return { name: 'rsna-pneumonia', classes: ['Pneumonia'], items };
  });
}
