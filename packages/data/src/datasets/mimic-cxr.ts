/** MIMIC-CXR-JPG 2.0 with its reports: the pretraining data. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCsv, rowLine } from '../csv';
import { extractSections, referenceReportText } from '../reports';
import { buildIndex, findFile, need } from './common';
import { MIMIC_CHEXPERT_14, CHEXPERT_UNCERTAIN_ONES } from './labels';
import type { AdapterOptions, DatasetIndex, ItemRef } from './types';

export interface MimicOptions extends AdapterOptions {
  /** split to keep ('train' | 'validate' | 'test'); default all */
  split?: string;
  /** views to keep (default PA and AP, as the pretraining data) */
  views?: string[] | 'all';
  /** where the report .txt files live (default <root>/files, i.e. mimic-cxr-reports unpacked over the JPG tree) */
  reportsDir?: string;
  /** skip images whose report has neither findings nor impression (default true) */
  requireText?: boolean;
}

/**
 * MIMIC-CXR-JPG 2.0 layout: files/p10/p10000032/s50414267/<dicom_id>.jpg, mimic-cxr-2.0.0-metadata.csv(.gz),
 * -split.csv(.gz), -chexpert.csv(.gz) (labels 1/0/-1/blank -> U-Ones as CheXpert), reports
 * files/p10/p10000032/s50414267.txt. Text = referenceReportText(findings, impression).
 */
export function mimicCxr(opts: MimicOptions): DatasetIndex {
  return buildIndex(opts, 'MIMIC-CXR', (p, root) => {
    const metaF = need(findFile(root, ['mimic-cxr-2.0.0-metadata.csv']), 'mimic-cxr-2.0.0-metadata.csv');
    const splitF = findFile(root, ['mimic-cxr-2.0.0-split.csv']);
    const labF = findFile(root, ['mimic-cxr-2.0.0-chexpert.csv']);
    const split = new Map<string, string>();
    if (fs.existsSync(splitF)) for (const r of readCsv(splitF, { onBadRow: (w, r) => p.bad(w, r) })) split.set(r.dicom_id!, r.split!);
    const labels = new Map<string, number[]>();
    if (fs.existsSync(labF)) {
      for (const r of readCsv(labF, { onBadRow: (w, r) => p.bad(w, r) })) {
        labels.set(
          `${r.subject_id}/${r.study_id}`,
          MIMIC_CHEXPERT_14.map((c) => {
            const v = (r[c] ?? '').trim();
            return v === '1' || v === '1.0' ? 1 : (v === '-1' || v === '-1.0') && CHEXPERT_UNCERTAIN_ONES.includes(c) ? 1 : 0;
          }),
        );
      }
    }
    const views = opts.views === 'all' ? undefined : (opts.views ?? ['PA', 'AP']);
    const reportsDir = opts.reportsDir ?? path.join(root, 'files');
    const textCache = new Map<string, string | undefined>();
    const items: ItemRef[] = [];
    for (const r of readCsv(metaF, { onBadRow: (w, r) => p.bad(w, r) })) {
      const where = `${metaF}:${rowLine(r)}`;
      const { dicom_id: did, subject_id: sid, study_id: stid } = r;
      if (!did || !sid || !stid) {
        p.bad(where, 'missing dicom_id / subject_id / study_id');
        continue;
      }
      if (views && !views.includes((r.ViewPosition ?? '').trim())) continue;
      const sp = split.get(did);
      if (opts.split && sp !== opts.split) continue;
      const rel = `p${sid.slice(0, 2)}/p${sid}/s${stid}`;
      let text = textCache.get(rel);
      if (!textCache.has(rel)) {
        const rp = path.join(reportsDir, `${rel}.txt`);
        if (fs.existsSync(rp)) {
          const sec = extractSections(fs.readFileSync(rp, 'utf8'));
          text = sec.findings || sec.impression ? referenceReportText(sec.findings, sec.impression) : undefined;
        }
        textCache.set(rel, text);
      }
      if ((opts.requireText ?? true) && !text) continue;
      items.push({
        id: did,
        patientId: sid,
        image: path.join(root, 'files', rel, `${did}.jpg`),
        text,
        labels: labels.get(`${sid}/${stid}`),
        meta: { study: stid, view: r.ViewPosition, split: sp },
      });
    }
    return { name: 'mimic-cxr', classes: [...MIMIC_CHEXPERT_14], items };
  });
}
