/** Object-CXR (JF Healthcare): foreign-object annotations as boxes. */
import * as path from 'node:path';
import { readCsv, rowLine } from '../csv';
import type { Box } from '../masks';
import { buildIndex, need } from './common';
import type { AdapterOptions, DatasetIndex, ItemRef } from './types';

export interface ObjectCxrOptions extends AdapterOptions {
  /** which annotation table and image folder (default 'train') */
  split?: 'train' | 'dev';
}

/**
 * Object-CXR (JF Healthcare): train.csv / dev.csv with image_name, annotation, where annotation is
 * ";"-separated objects "<type> x1 y1 x2 y2 ..." (0 rectangle, 1 ellipse: bbox corners; 2 polygon:
 * its points); images in train/ or dev/. Each object becomes its bounding box; label 1 = has objects.
 */
export function objectCxr(opts: ObjectCxrOptions): DatasetIndex {
  return buildIndex(opts, 'Object-CXR', (p, root) => {
    const split = opts.split ?? 'train';
    const csv = need(path.join(root, `${split}.csv`), `Object-CXR ${split}.csv`);
    const items: ItemRef[] = [];
    for (const r of readCsv(csv, { onBadRow: (w, r) => p.bad(w, r) })) {
      const where = `${csv}:${rowLine(r)}`;
      const name = r.image_name;
      if (!name) {
        p.bad(where, 'empty image_name');
        continue;
      }
      const ann = (r.annotation ?? '').trim();
      const boxes: Box[] = [];
      let ok = true;
      for (const obj of ann ? ann.split(';').filter((s) => s.trim()) : []) {
        const v = obj.trim().split(/\s+/).map(Number);
        if (v.length < 5 || v.some((x) => !Number.isFinite(x)) || ![0, 1, 2].includes(v[0]!) || (v.length - 1) % 2 !== 0) {
          p.bad(where, `malformed annotation object "${obj.trim()}"`);
          ok = false;
          break;
        }
        const xs = v.slice(1).filter((_, k) => k % 2 === 0);
        const ys = v.slice(1).filter((_, k) => k % 2 === 1);
        const x0 = Math.min(...xs);
        const y0 = Math.min(...ys);
        boxes.push({ x: x0, y: y0, w: Math.max(...xs) - x0, h: Math.max(...ys) - y0, label: ['rectangle', 'ellipse', 'polygon'][v[0]!] });
      }
      if (!ok) continue;
      items.push({ id: name, patientId: name.replace(/\.[^.]+$/, ''), image: path.join(root, split, name), labels: [boxes.length ? 1 : 0], boxes, mask: { kind: 'boxes' } });
    }
    return { name: 'object-cxr', classes: ['foreign object'], items };
  });
}
