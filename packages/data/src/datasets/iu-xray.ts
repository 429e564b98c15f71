/** IU X-ray (OpenI): reports (NLMCXR_reports.tgz or reports.csv), images optional. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCsv, rowLine } from '../csv';
import { readIuReportsArchive, referenceReportText } from '../reports';
import { buildIndex, need } from './common';
import type { AdapterOptions, DatasetIndex, ItemRef } from './types';

export interface IuOptions extends AdapterOptions {
  /** directory of the OpenI PNGs (NLMCXR_png: <image_id>.png); without it, items carry text only */
  imagesDir?: string;
}

/**
 * IU X-ray: reports from NLMCXR_reports.tgz (ecgen-radiology/*.xml) or reports.csv, one item per
 * image id (or per report when no image ids), text = referenceReportText(findings, impression),
 * labels = none (MeSH tags in meta).
 */
export function iuXray(opts: IuOptions): DatasetIndex {
  return buildIndex(opts, 'IU X-ray', (p, root) => {
    const tgz = path.join(root, 'NLMCXR_reports.tgz');
    const csv = path.join(root, 'reports.csv');
    type Rep = { uid: string; findings?: string; impression?: string; imageIds: string[]; mesh: string[]; where: string };
    const reps: Rep[] = [];
    if (fs.existsSync(tgz)) {
      for (const r of readIuReportsArchive(tgz)) reps.push({ uid: r.uid, findings: r.findings, impression: r.impression, imageIds: r.imageIds, mesh: r.meshMajor, where: `${tgz}:${r.report}` });
    } else {
      for (const r of readCsv(need(csv, 'IU reports (NLMCXR_reports.tgz or reports.csv)'), { onBadRow: (w, r) => p.bad(w, r) })) {
        reps.push({
          uid: r.uid!,
          findings: r.findings || undefined,
          impression: r.impression || undefined,
          imageIds: (r.image_ids ?? '').split(';').filter(Boolean),
          mesh: (r.mesh_major ?? '').split(';').filter(Boolean),
          where: `${csv}:${rowLine(r)}`,
        });
      }
    }
    const items: ItemRef[] = [];
    for (const r of reps) {
      if (!r.findings && !r.impression) {
        p.bad(r.where, 'report has neither findings nor impression');
        continue;
      }
      const text = referenceReportText(r.findings, r.impression);
      const ids = r.imageIds.length ? r.imageIds : [`report-${r.uid}`];
      for (const id of ids) {
        items.push({ id, patientId: r.uid, image: opts.imagesDir ? path.join(opts.imagesDir, `${id}.png`) : undefined, text, meta: { mesh: r.mesh, uid: r.uid } });
      }
    }
    return { name: 'iu-xray', items };
  });
}
