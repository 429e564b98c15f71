/**
 * Runs fuzz cases against a target and classifies each: `ok` (the reader returned), `g2d` (it
 * threw a G2DError naming the input: the expected failure), or a failure: `unnamed` (a
 * G2DError that does not name the input), `other` (any other exception), `slow` (over the
 * per-case time bound), `hang` / `memory` (worker mode: killed at the bound, or out of memory).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { G2DError } from '@g2d-ts/core';
import { applyOps, describeOps, sampleCases, type FuzzCase } from './mutate';
import { targetByName, type Seed, type Target } from './targets';

export type Outcome = 'ok' | 'g2d' | 'unnamed' | 'other' | 'slow' | 'hang' | 'memory';
export const FAILURES: readonly Outcome[] = ['unnamed', 'other', 'slow', 'hang', 'memory'];

export interface CaseResult {
  target: string;
  index: number;
  seed: string;
  ops: string;
  outcome: Outcome;
  ms: number;
  message?: string;
}

export interface TargetSummary {
  target: string;
  reader: string;
  seeds: number;
  cases: number;
  counts: Record<Outcome, number>;
  maxMs: number;
  failures: CaseResult[];
}

export function caseLabel(target: string, index: number): string {
  return `fuzz-${target}-case${index}`;
}

/** One case in this thread. `boundMs`: slower counts as a failure (a hang only shows as slow here). */
export async function runCaseInProcess(target: Target, seeds: Seed[], c: FuzzCase, index: number, scratch: string, boundMs: number): Promise<CaseResult> {
  const seed = seeds[c.seed % seeds.length]!;
  const mutated = applyOps(seed.bytes, c.ops);
  const input = target.fix ? target.fix(mutated) : mutated;
  const label = caseLabel(target.name, index);
  const base = { target: target.name, index, seed: seed.name, ops: describeOps(c.ops) };
  const t0 = performance.now();
  let outcome: Outcome = 'ok';
  let message: string | undefined;
  try {
    await target.run(input, label, scratch, seed.name);
  } catch (e) {
    if (e instanceof G2DError) {
      outcome = e.message.includes(label) ? 'g2d' : 'unnamed';
      message = e.message;
    } else {
      outcome = 'other';
      message = e instanceof Error ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}` : `non-Error thrown: ${String(e)}`;
    }
  } finally {
    fs.rmSync(path.join(scratch, label), { recursive: true, force: true });
  }
  const ms = performance.now() - t0;
  if (ms > boundMs && outcome !== 'other' && outcome !== 'unnamed') {
    outcome = 'slow';
    message = `took ${ms.toFixed(0)} ms (bound ${boundMs} ms)`;
  }
  return { ...base, outcome, ms, message };
}

function summary(target: Target, seeds: number, results: CaseResult[]): TargetSummary {
  const counts = { ok: 0, g2d: 0, unnamed: 0, other: 0, slow: 0, hang: 0, memory: 0 } as Record<Outcome, number>;
  for (const r of results) counts[r.outcome]++;
  return {
    target: target.name,
    reader: target.reader,
    seeds,
    cases: results.length,
    counts,
    maxMs: Math.max(0, ...results.filter((r) => r.outcome !== 'hang').map((r) => r.ms)),
    failures: results.filter((r) => FAILURES.includes(r.outcome)),
  };
}

export interface RunOptions {
  cases: number;
  seed: number;
  small: boolean;
  /** per-case time bound */
  boundMs: number;
  /** only these case indices (reproduce a failure) */
  only?: number[];
  progress?: (done: number, total: number) => void;
}

/** All cases of one target in this thread (the test suite's mode). */
export async function fuzzInProcess(target: Target, o: RunOptions): Promise<TargetSummary> {
  const seeds = target.seeds(o.small);
  const cases = sampleCases(seeds.length, target.text, o.cases, o.seed);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-fuzz-'));
  const results: CaseResult[] = [];
  try {
    for (const [i, c] of cases.entries()) {
      if (o.only && !o.only.includes(i)) continue;
      results.push(await runCaseInProcess(target, seeds, c, i, scratch, o.boundMs));
      o.progress?.(results.length, cases.length);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return summary(target, seeds.length, results);
}

/**
 * All cases of one target in a worker thread, one at a time: a case still running at the time
 * bound is a hang (the worker is terminated and a new one takes the next case); a worker that
 * runs out of its heap limit is a memory failure.
 */
export async function fuzzInWorker(targetName: string, o: RunOptions & { heapMb: number }): Promise<TargetSummary> {
  const target = targetByName(targetName);
  const seeds = target.seeds(o.small);
  const cases = sampleCases(seeds.length, target.text, o.cases, o.seed);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-fuzz-'));
  const results: CaseResult[] = [];
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  const start = () => {
    worker = new Worker(path.join(__dirname, 'worker-boot.cjs'), {
      workerData: { target: targetName, small: o.small, scratch, boundMs: o.boundMs },
      resourceLimits: { maxOldGenerationSizeMb: o.heapMb },
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    ready = new Promise((resolve, reject) => {
      worker!.once('message', (m: { ready?: boolean }) => (m.ready ? resolve() : reject(new Error('worker did not start'))));
      worker!.once('error', reject);
    });
  };
  try {
    start();
    await ready;
    for (const [i, c] of cases.entries()) {
      if (o.only && !o.only.includes(i)) continue;
      const seed = seeds[c.seed % seeds.length]!;
      const base = { target: targetName, index: i, seed: seed.name, ops: describeOps(c.ops) };
      const t0 = performance.now();
      const w = worker!;
      const r = await new Promise<CaseResult>((resolve) => {
        const timer = setTimeout(() => {
          cleanup();
          resolve({ ...base, outcome: 'hang', ms: performance.now() - t0, message: `no result after ${o.boundMs} ms: terminated` });
        }, o.boundMs * 2 + 1000);
        const onMsg = (m: CaseResult) => {
          cleanup();
          resolve(m);
        };
        const onErr = (e: Error & { code?: string }) => {
          cleanup();
          resolve({ ...base, outcome: e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'other', ms: performance.now() - t0, message: `worker died: ${e.code ?? ''} ${e.message}` });
        };
        const onExit = (code: number) => {
          cleanup();
          resolve({ ...base, outcome: 'other', ms: performance.now() - t0, message: `worker exited (${code})` });
        };
        function cleanup() {
          clearTimeout(timer);
          w.off('message', onMsg);
          w.off('error', onErr);
          w.off('exit', onExit);
        }
        w.on('message', onMsg);
        w.on('error', onErr);
        w.on('exit', onExit);
        w.postMessage({ index: i, case: c });
      });
      results.push(r);
      o.progress?.(results.length, cases.length);
      if (r.outcome === 'hang' || r.message?.startsWith('worker')) {
        await w.terminate();
        start();
        await ready;
      }
    }
  } finally {
    await worker?.terminate();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return summary(target, seeds.length, results);
}
