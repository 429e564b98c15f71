/** A registered benchmark: measures our code and the reference (PyTorch/numpy/pydicom) in the same run. */
export interface BenchContext {
  /** the tfjs backend active for this run (chosen by initBackend: G2D_BACKEND or auto) */
  backend: string;
  /** quick mode (--quick): fewer iterations, for smoke checks; figures are still real measurements */
  quick: boolean;
  /** path to the reference Python interpreter (the .venv-ref interpreter, else /usr/bin/python3) */
  python: string;
  /** repository root */
  root: string;
  log(msg: string): void;
  /**
   * Run a reference Python script (path relative to the repo root) with args; the script must
   * print ONE JSON object on its last stdout line, which is returned parsed.
   */
  runPython(script: string, args?: string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<Record<string, unknown>>;
}

export interface BenchResult {
  /** our figures, e.g. { msPerStep: 123, peakRssMiB: 900 } */
  ours: Record<string, number | string | boolean | null>;
  /** the reference's figures measured in the same run */
  reference: Record<string, number | string | boolean | null>;
  /** our time per unit of work divided by the reference's (lower is better) */
  ratio: number;
  /** what one unit of work is, e.g. "ms per training step (batch 8, 256x256)" */
  unit: string;
  notes?: string;
}

/** Figures one measurement reports (numbers, labels). */
export type Figures = Record<string, number | string | boolean | null>;

/**
 * A benchmark measured as a whole: `run` measures ours and the reference. The runner calls it
 * in a child process of its own once per round and reports the median ratio over the rounds.
 */
export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Memory modes a model can train in (@g2d-ts/nn `setMemoryMode`). */
export type BenchMode = 'fast' | 'balanced' | 'lean';

/** One configuration of a mode benchmark (e.g. a model preset at a batch size). */
export interface BenchVariant {
  id: string;
  /** what it measures, e.g. "g2d-resnet50, batch 8, 256x256" */
  label: string;
  /** rounds for this variant (default: the run's --rounds); 1 for memory-only variants */
  rounds?: number;
  /** measure the reference for this variant too (default true) */
  reference?: boolean;
}

/**
 * A training benchmark with memory modes. The runner measures each (variant, mode) in a child
 * process of its own (peak RSS only grows within a process), and the reference in its own
 * Python process, alternating ours and the reference over several rounds:
 *   round 1: reference, fast, balanced, lean; round 2: lean, balanced, fast, reference; …
 * `ratio` is the median over rounds of fast.medianMs / reference.medianMs (the same round).
 * The first variant is the headline one (top-level `ours`, `reference`, `ratio`).
 */
export interface ModeBenchmark {
  name: string;
  description: string;
  unit: string;
  modes: readonly BenchMode[];
  variants?: readonly BenchVariant[];
  /** our step in this process, in `mode`: must report medianMs and peakRssMiB */
  ours(ctx: BenchContext, opts: { mode: BenchMode; variant: string }): Promise<Figures>;
  /** the reference's step (a Python process): must report medianMs and peakRssMiB */
  reference(ctx: BenchContext, opts: { variant: string }): Promise<Figures>;
  /** extra figures computed from every variant's aggregated results (e.g. a largest batch) */
  summarize?(results: ModeResults): Figures & { notes?: string };
  notes?: string;
}

/** Aggregated figures per variant: ours per mode, and the reference. */
export type ModeResults = Record<string, { modes: Partial<Record<BenchMode, Figures>>; reference: Figures | null }>;

export type AnyBenchmark = Benchmark | ModeBenchmark;

export function isModeBenchmark(b: AnyBenchmark): b is ModeBenchmark {
  return typeof (b as ModeBenchmark).ours === 'function';
}

export function defineBenchmark<B extends AnyBenchmark>(b: B): B {
  return b;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Time `fn` `iters` times after `warmup` runs; returns per-iteration milliseconds. */
export async function timeIt(fn: () => unknown | Promise<unknown>, iters: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Peak resident set size of this process in MiB (VmHWM), the same figure the Python baselines read. */
export function peakRssMiB(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Threads the reference may use: as many as this machine's cores (G2D_BENCH_THREADS overrides). */
export function benchThreads(): number {
  return Number(process.env.G2D_BENCH_THREADS) || require('node:os').cpus().length;
}
