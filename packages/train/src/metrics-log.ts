/**
 * `metrics.jsonl`: one JSON object per line, each written with one unbuffered write(2) (so a
 * killed process loses at most the line being written). Resuming at step k first drops the
 * lines of steps >= k (and any torn last line), so a resumed run's file equals an
 * uninterrupted run's, apart from timing fields.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { writeFileAtomic } from './fsutil';

export type MetricsRecord = Record<string, number | string | boolean | null>;

export class MetricsLog {
  readonly file: string;
  private fd: number | null;

  private constructor(file: string, fd: number) {
    this.file = file;
    this.fd = fd;
  }

  /**
   * Opens `file` for appending. With `keepBeforeStep`, lines whose `step` is >= it, and lines
   * that do not parse (a torn write), are removed first (atomically).
   */
  static async open(file: string, opts: { keepBeforeStep?: number } = {}): Promise<MetricsLog> {
    await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true });
    if (opts.keepBeforeStep !== undefined && fs.existsSync(file)) {
      const text = await fs.promises.readFile(file, 'utf8');
      const kept: string[] = [];
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          continue; // a line cut by a crash
        }
        const step = (rec as { step?: unknown })?.step;
        if (typeof step === 'number' && step < opts.keepBeforeStep) kept.push(line);
      }
      await writeFileAtomic(file, kept.length ? kept.join('\n') + '\n' : '');
    } else if (opts.keepBeforeStep === undefined && fs.existsSync(file)) {
      // a fresh run never appends to an old file's torn last line
      const st = fs.statSync(file);
      if (st.size > 0) {
        const fd = fs.openSync(file, 'r');
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, st.size - 1);
        fs.closeSync(fd);
        if (b[0] !== 0x0a) fs.appendFileSync(file, '\n');
      }
    }
    let fd: number;
    try {
      fd = fs.openSync(file, 'a');
    } catch (e) {
      throw new G2DError(`cannot open metrics log: ${(e as Error).message}`, { source: file });
    }
    return new MetricsLog(file, fd);
  }

  /** Appends one record as a line (written through to the OS before returning). */
  write(record: MetricsRecord): void {
    if (this.fd === null) throw new G2DError('metrics log is closed', { source: this.file });
    const clean: MetricsRecord = {};
    for (const [k, v] of Object.entries(record)) clean[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
    fs.writeSync(this.fd, JSON.stringify(clean) + '\n');
  }

  close(): void {
    if (this.fd !== null) {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** Reads a metrics.jsonl file (torn lines skipped). */
export function readMetrics(file: string): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // torn line
    }
  }
  return out;
}
