/** ieee8023 COVID-19 chest X-ray collection (+ Figure1): metadata.csv, lung masks and boxes. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCsv, rowLine } from '../csv';
import type { Box } from '../masks';
import { buildIndex, need, num } from './common';
import type { AdapterOptions, DatasetIndex, ItemRef } from './types';

export interface CovidOptions extends AdapterOptions {
  /** which lung masks to attach: human-annotated v7labs (default), model-made lungvae, or none */
  masks?: 'v7labs' | 'lungvae' | 'none';
  /** keep only these views (e.g. ['PA', 'AP', 'AP Supine']); default all */
  views?: string[];
}

/**
 * ieee8023/covid-chestxray-dataset layout: metadata.csv (patientid, finding, view, filename or
 * image, clinical_notes, ...) + images/; optional lung masks (columns mask_v7labs / mask_lungvae, or
 * annotations/lungVAE-masks/<name>_mask.png) and lung_bboxes.csv. Labels: one-hot over the
 * distinct `finding` values (sorted); text = clinical_notes.
 */
export function covidChestXray(opts: CovidOptions): DatasetIndex {
  return buildIndex(opts, 'COVID chest X-ray', (p, root) => {
    const meta = need(path.join(root, 'metadata.csv'), 'metadata.csv');
    const rows = readCsv(meta, { onBadRow: (w, r) => p.bad(w, r) });
    const boxes = new Map<string, Box[]>();
    const bf = path.join(root, 'lung_bboxes.csv');
    if (fs.existsSync(bf)) {
      for (const r of readCsv(bf, { onBadRow: (w, r) => p.bad(w, r) })) {
        const where = `${bf}:${rowLine(r)}`;
        const v = ['x', 'y', 'w', 'h'].map((k) => num(r[k], where, k, p));
        if (v.some((x) => x === undefined)) continue;
        const key = r.image ?? `images/${r.filename}`;
        const l = boxes.get(key) ?? [];
        l.push({ x: v[0]!, y: v[1]!, w: v[2]!, h: v[3]!, label: r.label });
        boxes.set(key, l);
      }
    }
    const findings = [...new Set(rows.map((r) => (r.finding ?? '').trim()).filter(Boolean))].sort();
    const items: ItemRef[] = [];
    for (const r of rows) {
      const where = `${meta}:${rowLine(r)}`;
      const rel = r.image || (r.filename ? `images/${r.filename}` : '');
      if (!rel || !r.patientid) {
        p.bad(where, 'missing image/filename or patientid');
        continue;
      }
      if (opts.views && !opts.views.includes((r.view ?? '').trim())) continue;
      const finding = (r.finding ?? '').trim();
      const which = opts.masks ?? 'v7labs';
      const mrel = which === 'none' ? '' : which === 'v7labs' ? r.mask_v7labs : r.mask_lungvae;
      const text = (r.clinical_notes ?? r.notes ?? '').trim() || undefined;
      items.push({
        id: rel,
        patientId: r.patientid,
        image: path.join(root, rel),
        text,
        labels: finding ? findings.map((f) => (f === finding ? 1 : 0)) : undefined,
        boxes: boxes.get(rel),
        mask: mrel ? { kind: 'image', path: path.join(root, mrel) } : undefined,
        meta: { finding, view: r.view, sex: r.sex, age: r.age },
      });
    }
    return { name: 'covid-chestxray', classes: findings, items };
  });
}
