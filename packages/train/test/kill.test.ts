/**
 * Crash safety with real processes (tsx children running fixtures/toy-run.ts):
 *  - a training run SIGKILLed at random steps and rerun with the same command ends with a
 *    final model.safetensors byte-identical to an uninterrupted run's (different out folders);
 *  - a process SIGKILLed while saving large checkpoints never leaves one that
 *    latestCheckpoint would pick half-written.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeBackends } from '@g2d-ts/core/testing';
import { latestCheckpoint, loadTrainingState, readMetrics } from '../src';

const REPO = path.resolve(__dirname, '../../..');
const TSCONFIG = path.join(REPO, 'tools', 'build', 'tsconfig.run.json');
const SCRIPT = path.join(__dirname, 'fixtures', 'toy-run.ts');

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const started: ChildProcess[] = [];
afterAll(() => {
  // never leave a child running if a test failed half-way
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function start(args: string[]): Child {
  // node itself with tsx's loader (not the tsx CLI, which would run the script in a grandchild
  // process that a SIGKILL to the CLI leaves running)
  const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    cwd: REPO,
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG, TF_CPP_MIN_LOG_LEVEL: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr: err })),
  );
  return { proc, stdout: () => out, exit };
}

async function runToEnd(args: string[]): Promise<string> {
  const c = start(args);
  const r = await c.exit;
  if (r.code !== 0) throw new Error(`child ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr}`);
  return c.stdout();
}

function lineCount(file: string): number {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the training and SIGKILLs it once metrics.jsonl has `atLines` lines (a random point after that step). */
async function killAt(args: string[], metrics: string, atLines: number): Promise<void> {
  const c = start(args);
  let exited = false;
  void c.exit.then(() => (exited = true));
  while (!exited && lineCount(metrics) < atLines) await sleep(3);
  c.proc.kill('SIGKILL');
  const r = await c.exit;
  if (r.signal !== 'SIGKILL') throw new Error(`the run ended (${r.code}) before it could be killed at line ${atLines}: ${r.stderr}`);
}

const EPOCHS = 10; // 7 batches per epoch, 2 per step: 40 steps

describeBackends(
  'SIGKILL and rerun',
  ({ backend }) => {
    it('killed twice at random steps and rerun: final weights byte-identical to an uninterrupted run in another folder', async () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-train-kill-'));
      const a = path.join(root, 'uninterrupted');
      const b = path.join(root, 'killed');
      const common = ['--backend', backend, '--epochs', String(EPOCHS), '--delay', '20'];
      await runToEnd(['train', a, ...common]);
      const rowsA = readMetrics(path.join(a, 'metrics.jsonl'));
      expect(rowsA).toHaveLength(40);

      const k1 = 3 + Math.floor(Math.random() * 15);
      const k2 = k1 + 3 + Math.floor(Math.random() * 15);
      process.stderr.write(`[train kill test ${backend}] SIGKILL after step ${k1 - 1}, then after step ${k2 - 1}\n`);
      const metricsB = path.join(b, 'metrics.jsonl');
      await killAt(['train', b, ...common], metricsB, k1);
      expect(fs.existsSync(path.join(b, 'final', 'model.safetensors'))).toBe(false);
      await killAt(['train', b, ...common], metricsB, k2);
      expect(fs.existsSync(path.join(b, 'final', 'model.safetensors'))).toBe(false);
      const out = await runToEnd(['train', b, ...common]);
      expect(out).toMatch(/resumed from .*step-\d{9} \(step \d+, epoch \d+\)/);

      const fa = fs.readFileSync(path.join(a, 'final', 'model.safetensors'));
      const fb = fs.readFileSync(path.join(b, 'final', 'model.safetensors'));
      expect(fb.equals(fa)).toBe(true);
      // the log has every step once, with the same values (timing fields aside)
      const strip = (rows: Record<string, unknown>[]) => rows.map(({ imagesPerSec: _i, rssMiB: _r, ...rest }) => rest);
      expect(strip(readMetrics(metricsB))).toEqual(strip(rowsA));
      fs.rmSync(root, { recursive: true, force: true });
    }, 300_000);
  },
  { only: ['cpu', 'tensorflow'] },
);

describe('SIGKILL during checkpoint saves', () => {
  it('latestCheckpoint never returns a half-written checkpoint (4 kills at random points of a save)', async () => {
    let midSave = 0;
    for (let i = 0; i < 4; i++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-train-killsave-'));
      const c = start(['save-loop', dir, '--mib', '12']);
      const target = 2 + Math.floor(Math.random() * 3);
      let exited = false;
      void c.exit.then(() => (exited = true));
      while (!exited && !c.stdout().includes(`saving ${target}\n`)) await sleep(2);
      await sleep(Math.floor(Math.random() * 25));
      c.proc.kill('SIGKILL');
      const r = await c.exit;
      expect(r.signal).toBe('SIGKILL');
      const lines = c.stdout().trim().split('\n');
      const last = lines[lines.length - 1]!;
      const saving = Number(/^saving (\d+)$/.exec(last)?.[1] ?? NaN);
      const savedLast = Math.max(0, ...lines.filter((l) => l.startsWith('saved ')).map((l) => Number(l.slice(6))));
      if (Number.isFinite(saving)) midSave++;
      const p = await latestCheckpoint(dir);
      expect(p).not.toBeNull();
      const st = await loadTrainingState(p!); // verifies sizes and sha256 of every file
      // the newest complete save, or the one in flight if its rename had already happened
      expect([savedLast, saving]).toContain(st.step);
      expect(st.extra).toEqual({ step: st.step });
      const a = st.variables.get('a')!.data as Float32Array;
      expect(a[0]).toBe(st.step);
      expect(a[a.length - 1]).toBe(st.step);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    process.stderr.write(`[train kill-during-save test] ${midSave}/4 kills landed inside a save\n`);
    expect(midSave).toBeGreaterThan(0);
  }, 300_000);
});
