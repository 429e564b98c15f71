/** COVIDx: split list files + image folders. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTextFile } from '../csv';
import { buildIndex, need } from './common';
import type { AdapterOptions, DatasetIndex } from './types';

export interface CovidxOptions extends AdapterOptions {
  /** split file: train.txt / test.txt (COVIDx8+: "patientid filename label source") */
  split?: 'train' | 'test' | 'val';
}

/** COVIDx: <root>/<split>.txt (or <split>_COVIDx*.txt) lines "patient_id filename label source", images in <root>/<split>/. */
export function covidx(opts: CovidxOptions): DatasetIndex {
  return buildIndex(opts, 'COVIDx', (p, root) => {
    const split = opts.split ?? 'train';
    const list =
      [path.join(root, `${split}.txt`), ...fs.readdirSync(root).filter((f) => new RegExp(`^${split}.*\\.txt$`, 'i').test(f)).map((f) => path.join(root, f))].find((f) => fs.existsSync(f)) ??
      path.join(root, `${split}.txt`);
    const lines = readTextFile(need(list, `COVIDx ${split} list`)).split(/\r?\n/);
    const raw: { pid: string; file: string; label: string }[] = [];
    lines.forEach((l, k) => {
      const t = l.trim();
      if (!t) return;
      const f = t.split(/\s+/);
      if (f.length < 3) {
        p.bad(`${list}:${k + 1}`, `expected "patient_id filename label [source]", got ${f.length} field(s)`);
        return;
      }
      raw.push({ pid: f[0]!, file: f[1]!, label: f[2]! });
    });
    const classes = [...new Set(raw.map((r) => r.label))].sort();
    const items = raw.map((r) => ({
      id: r.file,
      patientId: r.pid,
      image: path.join(root, split, r.file),
      labels: classes.map((c) => (c === r.label ? 1 : 0)),
      meta: { label: r.label },
    }));
    return { name: 'covidx', classes, items };
  });
}
