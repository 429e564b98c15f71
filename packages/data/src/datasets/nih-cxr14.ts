/** NIH ChestX-ray14: Data_Entry CSV (+ BBox_List) -> multi-label items, boxes as masks. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCsv, readTextFile, parseCsvRows, rowLine } from '../csv';
import type { Box } from '../masks';
import { buildIndex, findFile, need, num } from './common';
import { NIH_CLASSES } from './labels';
import type { AdapterOptions, DatasetIndex, ItemRef } from './types';

export interface NihOptions extends AdapterOptions {
  /** Data_Entry CSV (default: Data_Entry_2017_v2020.csv / Data_Entry_2017.csv / data_entry.csv under root) */
  dataEntry?: string;
  /** BBox_List CSV (default BBox_List_2017.csv / bbox.csv under root, if present) */
  bboxList?: string;
  /** only images that have boxes */
  withBoxesOnly?: boolean;
}

/** Image path: an `image` column (relative to root), else images/ or images_0NN/images/ as released. */
function nihImagePath(root: string, row: Record<string, string>, dirs: string[]): string {
  if (row.image) return path.join(root, row.image);
  const name = row['Image Index']!;
  for (const d of dirs) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  return path.join(root, 'images', name);
}

export function nihChestXray14(opts: NihOptions): DatasetIndex {
  return buildIndex(opts, 'NIH ChestX-ray14', (p, root) => {
    const entry = opts.dataEntry ?? findFile(root, ['Data_Entry_2017_v2020.csv', 'Data_Entry_2017.csv', 'data_entry.csv']);
    const rows = readCsv(need(entry, 'NIH Data_Entry CSV'), { onBadRow: (w, r) => p.bad(w, r) });
    const dirs = [path.join(root, 'images'), ...Array.from({ length: 12 }, (_, k) => path.join(root, `images_${String(k + 1).padStart(3, '0')}`, 'images'))].filter((d) => fs.existsSync(d));
    const boxes = new Map<string, Box[]>();
    const bfile = opts.bboxList ?? findFile(root, ['BBox_List_2017.csv', 'bbox.csv']);
    if (fs.existsSync(bfile)) {
      const text = readTextFile(bfile);
      const raw = parseCsvRows(text, bfile);
      const header = raw[0]?.fields.map((h) => h.trim()) ?? [];
      const hasXywh = ['x', 'y', 'w', 'h'].every((c) => header.includes(c));
      for (const r of raw.slice(1)) {
        const where = `${bfile}:${r.line}`;
        const get = (c: string) => r.fields[header.indexOf(c)];
        // official file: "Image Index,Finding Label,Bbox [x,y,w,h],,," -> x,y,w,h in columns 2..5
        const vals = hasXywh ? [get('x'), get('y'), get('w'), get('h')] : r.fields.slice(2, 6);
        if (r.fields.length < (hasXywh ? header.length : 6)) {
          p.bad(where, `row has ${r.fields.length} field(s), expected ${hasXywh ? header.length : 6}`);
          continue;
        }
        const nums = vals.map((v, k) => num(v, where, ['x', 'y', 'w', 'h'][k]!, p));
        if (nums.some((v) => v === undefined)) continue;
        const id = get('Image Index') ?? r.fields[0]!;
        const label = (get('Finding Label') ?? r.fields[1] ?? '').trim();
        const list = boxes.get(id) ?? [];
        list.push({ x: nums[0]!, y: nums[1]!, w: nums[2]!, h: nums[3]!, label: label === 'Infiltrate' ? 'Infiltration' : label });
        boxes.set(id, list);
      }
    }
    const items: ItemRef[] = [];
    for (const row of rows) {
      const where = `${entry}:${rowLine(row)}`;
      const id = row['Image Index'];
      const labelsStr = row['Finding Labels'];
      const pid = row['Patient ID'];
      if (!id || labelsStr === undefined || !pid) {
        p.bad(where, 'missing Image Index / Finding Labels / Patient ID');
        continue;
      }
      const found = labelsStr.split('|').map((s) => s.trim()).filter((s) => s && s !== 'No Finding');
      const unknown = found.filter((f) => !(NIH_CLASSES as readonly string[]).includes(f));
      if (unknown.length) {
        p.bad(where, `unknown finding label(s) ${unknown.join(', ')}`);
        continue;
      }
      const b = boxes.get(id);
      if (opts.withBoxesOnly && !b) continue;
      items.push({
        id,
        patientId: String(Number(pid)),
        image: nihImagePath(root, row, dirs),
        labels: NIH_CLASSES.map((c) => (found.includes(c) ? 1 : 0)),
        boxes: b,
        mask: b ? { kind: 'boxes' } : undefined,
        meta: { view: row['View Position'], age: row['Patient Age'], sex: row['Patient Gender'], followUp: row['Follow-up #'] },
      });
    }
    return { name: 'nih-cxr14', classes: [...NIH_CLASSES], items };
  });
}
