/** Progress display (TTY bar vs plain lines) and the metrics.jsonl writer. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetricsLog, Progress, formatDuration, formatNumber, readMetrics } from '../src';

function fakeStream(tty: boolean, columns = 120) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY: tty, columns, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean } };
}

describe('Progress', () => {
  it('TTY: one line redrawn in place with bar, step/total, loss terms, images/s and ETA', () => {
    let now = 0;
    const { chunks, stream } = fakeStream(true);
    const p = new Progress({ total: 10, stream, now: () => now, redrawMs: 0 });
    now = 2000;
    p.update({ step: 2, epoch: 0, loss: 3.14159, terms: { vla: 2.5, ps: 0.64159, acc1: 12.5 }, imagesPerSec: 16.04 });
    const line = chunks.at(-1)!;
    expect(line.startsWith('\r\x1b[2K[')).toBe(true);
    expect(line).not.toContain('\n');
    expect(line).toContain('step 2/10 20%');
    expect(line).toContain('loss 3.142 | vla 2.5 | ps 0.6416 | acc1 12.5');
    expect(line).toContain('16.0 img/s');
    expect(line).toContain('ETA 8s'); // 1 s per step, 8 steps left
    p.log('[train] checkpoint saved');
    expect(chunks.slice(-2)).toEqual(['\r\x1b[2K[train] checkpoint saved\n', expect.stringContaining('step 2/10')]);
    p.done();
    expect(chunks.at(-1)).toBe('\n');
  });

  it('TTY: throttles redraws, but always draws the last step', () => {
    let now = 0;
    const { chunks, stream } = fakeStream(true);
    const p = new Progress({ total: 3, stream, now: () => now, redrawMs: 100 });
    p.update({ step: 1, epoch: 0 });
    now = 10;
    p.update({ step: 2, epoch: 0 });
    now = 20;
    p.update({ step: 3, epoch: 0 });
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toContain('step 3/3 100%');
  });

  it('piped: plain lines, the first step, one per interval and the last; no control characters', () => {
    let now = 0;
    const { chunks, stream } = fakeStream(false);
    const p = new Progress({ total: 100, stream, now: () => now, intervalSec: 10, label: 'pretrain' });
    for (let s = 1; s <= 100; s++) {
      now = s * 500; // 0.5 s per step
      p.update({ step: s, epoch: Math.floor(s / 50), loss: 1 / s, lr: 2e-5 });
    }
    p.done();
    expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r') && !c.includes('\x1b'))).toBe(true);
    expect(chunks[0]).toMatch(/^\[pretrain\] step 1\/100 1% \| epoch 0 \| loss 1 \| lr 2\.00e-5 \| ETA /);
    expect(chunks.length).toBe(1 + 100 / 20); // first, every 20 steps (10 s), the last among them
    expect(chunks.at(-1)).toContain('step 100/100 100%');
  });

  it('formats durations and numbers', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(187)).toBe('3m07s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(NaN)).toBe('?');
    expect(formatNumber(0.000012345)).toBe('1.23e-5');
    expect(formatNumber(123.456)).toBe('123.5');
    expect(formatNumber(0)).toBe('0');
  });
});

describe('MetricsLog', () => {
  it('one line per record, written through at once; resume drops steps >= k and a torn last line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-train-metrics-'));
    const file = path.join(dir, 'sub', 'metrics.jsonl');
    const log = await MetricsLog.open(file, { keepBeforeStep: 0 });
    for (let s = 0; s < 5; s++) {
      log.write({ step: s, loss: 1 / (s + 1), nan: NaN });
      expect(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(s + 1); // visible before close
    }
    log.close();
    expect(readMetrics(file)[0]).toEqual({ step: 0, loss: 1, nan: null });
    fs.appendFileSync(file, '{"step": 5, "lo'); // a write cut by SIGKILL
    const again = await MetricsLog.open(file, { keepBeforeStep: 3 });
    again.write({ step: 3, loss: 0.5 });
    again.close();
    expect(readMetrics(file).map((r) => r.step)).toEqual([0, 1, 2, 3]);
    // appending without a resume point never glues onto a torn line
    fs.appendFileSync(file, '{"step": 9');
    const plain = await MetricsLog.open(file);
    plain.write({ step: 4 });
    plain.close();
    expect(readMetrics(file).map((r) => r.step)).toEqual([0, 1, 2, 3, 4]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
