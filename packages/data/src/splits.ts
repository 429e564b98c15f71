/**
 * Deterministic patient-level splits and 1% / 10% / 100% training fractions from a seed, and
 * the split files written next to the results so a run can be reproduced exactly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, Rng } from '@g2d-ts/core';

export interface SplitRatios {
  train: number;
  val: number;
  test: number;
}

export interface Splits<T> {
  train: T[];
  val: T[];
  test: T[];
}

function groupByPatient<T extends { patientId: string }>(items: readonly T[]): Map<string, T[]> {
  const g = new Map<string, T[]>();
  for (const it of items) {
    const l = g.get(it.patientId);
    if (l) l.push(it);
    else g.set(it.patientId, [it]);
  }
  return g;
}

/**
 * Patient-level split: the sorted patient ids are shuffled with Rng(`${seed}/split`) and cut by
 * cumulative patient count (rounded), so no patient is in two parts and the same seed always
 * gives the same split. Items keep their input order within each part.
 */
export function patientSplit<T extends { patientId: string }>(items: readonly T[], seed: number | string, ratios: SplitRatios = { train: 0.7, val: 0.15, test: 0.15 }): Splits<T> {
  const sum = ratios.train + ratios.val + ratios.test;
  if (![ratios.train, ratios.val, ratios.test].every((r) => r >= 0) || Math.abs(sum - 1) > 1e-9) {
    throw new G2DError(`split ratios must be >= 0 and sum to 1, got train ${ratios.train} val ${ratios.val} test ${ratios.test}`);
  }
  const groups = groupByPatient(items);
  const pids = new Rng(`${seed}/split`).shuffle([...groups.keys()].sort());
  const n = pids.length;
  const nTrain = Math.round(n * ratios.train);
  const nVal = Math.min(n - nTrain, Math.round(n * ratios.val));
  const part = new Map<string, keyof Splits<T>>();
  pids.forEach((p, k) => part.set(p, k < nTrain ? 'train' : k < nTrain + nVal ? 'val' : 'test'));
  const out: Splits<T> = { train: [], val: [], test: [] };
  for (const it of items) out[part.get(it.patientId)!].push(it);
  return out;
}

/**
 * A patient-level subset holding (at least) `fraction` of the items: patients in the order of
 * Rng(`${seed}/fraction`) are added until the share is reached (at least one patient). The same
 * seed gives nested subsets: the 1% subset is inside the 10% one.
 */
export function patientFraction<T extends { patientId: string }>(items: readonly T[], fraction: number, seed: number | string): T[] {
  if (!(fraction > 0 && fraction <= 1)) throw new G2DError(`fraction must be in (0, 1], got ${fraction}`);
  if (fraction === 1) return items.slice();
  const groups = groupByPatient(items);
  const pids = new Rng(`${seed}/fraction`).shuffle([...groups.keys()].sort());
  const target = Math.ceil(items.length * fraction);
  const keep = new Set<string>();
  let count = 0;
  for (const p of pids) {
    if (count >= target && keep.size > 0) break;
    keep.add(p);
    count += groups.get(p)!.length;
  }
  return items.filter((it) => keep.has(it.patientId));
}

export interface SplitFile {
  format: 'g2d-splits-v1';
  dataset: string;
  seed: number | string;
  ratios: SplitRatios;
  fractions: number[];
  counts: Record<string, { items: number; patients: number }>;
  /** item ids per part; training fractions as "train@0.01" etc. */
  parts: Record<string, string[]>;
}

/** Split + fractions, as written by `writeSplitFile`. */
export function makeSplitFile<T extends { id: string; patientId: string }>(
  dataset: string,
  items: readonly T[],
  seed: number | string,
  ratios: SplitRatios = { train: 0.7, val: 0.15, test: 0.15 },
  fractions: number[] = [0.01, 0.1, 1],
): SplitFile {
  const s = patientSplit(items, seed, ratios);
  const parts: Record<string, T[]> = { train: s.train, val: s.val, test: s.test };
  for (const f of fractions) if (f !== 1) parts[`train@${f}`] = patientFraction(s.train, f, seed);
  const counts: SplitFile['counts'] = {};
  for (const [k, v] of Object.entries(parts)) counts[k] = { items: v.length, patients: new Set(v.map((x) => x.patientId)).size };
  return { format: 'g2d-splits-v1', dataset, seed, ratios, fractions, counts, parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.map((x) => x.id)])) };
}

/** Write `<dir>/splits-<dataset>-seed<seed>.json` (next to a run's results); returns the path. */
export function writeSplitFile(dir: string, sf: SplitFile): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `splits-${sf.dataset}-seed${sf.seed}.json`);
  fs.writeFileSync(file, JSON.stringify(sf, null, 1));
  return file;
}

/** Read a split file and select the items of one part (ids missing from `items` are an error). */
export function readSplitFile(file: string): SplitFile {
  let sf: SplitFile;
  try {
    sf = JSON.parse(fs.readFileSync(file, 'utf8')) as SplitFile;
  } catch (e) {
    throw new G2DError(`cannot read split file: ${(e as Error).message}`, { source: file, cause: e });
  }
  if (sf.format !== 'g2d-splits-v1') throw new G2DError(`not a g2d split file (format "${String(sf.format)}")`, { source: file });
  return sf;
}

export function selectPart<T extends { id: string }>(sf: SplitFile, part: string, items: readonly T[], source = '<splits>'): T[] {
  const ids = sf.parts[part];
  if (!ids) throw new G2DError(`no part "${part}" (parts: ${Object.keys(sf.parts).join(', ')})`, { source });
  const byId = new Map(items.map((i) => [i.id, i]));
  return ids.map((id) => {
    const it = byId.get(id);
    if (!it) throw new G2DError(`split lists item "${id}" which the dataset does not have`, { source });
    return it;
  });
}
