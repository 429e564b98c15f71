/** CheXpert(-v1.0-small): train.csv / valid.csv with U-Ones/U-Zeros uncertain labels. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { readCsv, rowLine } from '../csv';
import { buildIndex, need } from './common';
import { CHEXPERT_5, CHEXPERT_UNCERTAIN_ONES } from './labels';
import type { AdapterOptions, DatasetIndex, ItemRef } from './types';

export interface ChexpertOptions extends AdapterOptions {
  /** train.csv or valid.csv (relative to root or absolute) */
  csv?: string;
  /** label names (default the 5 competition labels) */
  classes?: readonly string[];
  /** frontal views only (default true, as the protocol) */
  frontalOnly?: boolean;
}

/**
 * CheXpert(-v1.0-small): <root>/train.csv with Path (e.g. CheXpert-v1.0-small/train/patient00001/
 * study1/view1_frontal.jpg, resolved against root's parent or root), Frontal/Lateral, and the labels
 * (1, 0, -1 uncertain, blank). Blank -> 0; uncertain per CHEXPERT_UNCERTAIN_ONES.
 */
export function chexpert(opts: ChexpertOptions): DatasetIndex {
  return buildIndex(opts, 'CheXpert', (p, root) => {
    const csv = opts.csv ? (path.isAbsolute(opts.csv) ? opts.csv : path.join(root, opts.csv)) : path.join(root, 'train.csv');
    const rows = readCsv(need(csv, 'CheXpert CSV'), { onBadRow: (w, r) => p.bad(w, r) });
    const classes = opts.classes ?? CHEXPERT_5;
    if (rows[0]) for (const c of classes) if (!(c in rows[0])) throw new G2DError(`no label column "${c}"`, { source: csv });
    const items: ItemRef[] = [];
    for (const r of rows) {
      const where = `${csv}:${rowLine(r)}`;
      const rel = r.Path;
      if (!rel) {
        p.bad(where, 'empty Path');
        continue;
      }
      if ((opts.frontalOnly ?? true) && r['Frontal/Lateral'] && r['Frontal/Lateral'] !== 'Frontal') continue;
      const pid = /patient(\d+)/.exec(rel)?.[1];
      if (!pid) {
        p.bad(where, `cannot find patientNNNNN in Path "${rel}"`);
        continue;
      }
      const labels: number[] = [];
      let ok = true;
      for (const c of classes) {
        const v = (r[c] ?? '').trim();
        if (v === '' ) labels.push(0);
        else if (v === '1' || v === '1.0') labels.push(1);
        else if (v === '0' || v === '0.0') labels.push(0);
        else if (v === '-1' || v === '-1.0') labels.push(CHEXPERT_UNCERTAIN_ONES.includes(c) ? 1 : 0);
        else {
          p.bad(where, `label "${c}" has value "${v}" (expected 1, 0, -1 or blank)`);
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      const cand = [path.join(path.dirname(root), rel), path.join(root, rel), path.join(root, rel.split('/').slice(1).join('/'))];
      const image = cand.find((c) => fs.existsSync(c)) ?? cand[0]!;
      items.push({ id: rel, patientId: pid, image, labels, meta: { sex: r.Sex, age: r.Age, view: r['AP/PA'] } });
    }
    return { name: 'chexpert', classes: [...classes], items };
  });
}
