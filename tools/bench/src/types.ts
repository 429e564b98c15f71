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

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export function defineBenchmark(b: Benchmark): Benchmark {
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
