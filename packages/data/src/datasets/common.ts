/** Helpers shared by the dataset adapters (internal: not exported from the package). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import type { AdapterOptions, DatasetIndex } from './types';

/** Bad rows: throw (onError 'fail', the default) or log, count and list them (onError 'skip'). */
export class Problems {
  skipped: { source: string; reason: string }[] = [];
  private readonly log: (msg: string) => void;
  constructor(private readonly opts: AdapterOptions) {
    this.log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  }
  /** throw (fail) or record (skip) */
  bad(source: string, reason: string): void {
    if ((this.opts.onError ?? 'fail') === 'fail') throw new G2DError(reason, { source });
    this.skipped.push({ source, reason });
    this.log(`[g2d-data] skip ${source}: ${reason}`);
  }
  /** one summary line when anything was skipped */
  finish(name: string): void {
    if (this.skipped.length) this.log(`[g2d-data] ${name}: skipped ${this.skipped.length} item(s)`);
  }
}

/**
 * Runs an adapter body with its Problems (the bad-row policy) and the dataset root; logs the
 * skip summary under `display` and completes the index with `root` and `skipped`.
 */
export function buildIndex(
  opts: AdapterOptions,
  display: string,
  body: (p: Problems, root: string) => Omit<DatasetIndex, 'root' | 'skipped'>,
): DatasetIndex {
  const p = new Problems(opts);
  const index = body(p, opts.root);
  p.finish(display);
  return { ...index, root: opts.root, skipped: p.skipped };
}

/** The file, or a G2DError naming it and what it should have been. */
export function need(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new G2DError(`${what} not found`, { source: file });
  return file;
}

/** First existing candidate (plain, .gz, .zip variants), else the first name. */
export function findFile(root: string, names: string[]): string {
  for (const n of names) for (const suf of ['', '.gz', '.zip']) if (fs.existsSync(path.join(root, n + suf))) return path.join(root, n + suf);
  return path.join(root, names[0]!);
}

/** A finite number, else `p.bad(where, ...)` and undefined. */
export function num(v: string | undefined, where: string, what: string, p: Problems): number | undefined {
  const t = (v ?? '').trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) {
    p.bad(where, `${what} is not a number: "${v ?? ''}"`);
    return undefined;
  }
  return n;
}

/** Every file under `dir` (recursively) whose name ends with `ext` (case-insensitive). */
export function walk(dir: string, ext: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, ext, out);
    else if (e.name.toLowerCase().endsWith(ext)) out.push(p);
  }
  return out;
}
