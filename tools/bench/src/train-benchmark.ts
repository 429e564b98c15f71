/**
 * The shape every single-model training benchmark shares (bert-base-train, resnet50-train):
 * each memory mode, our step built by `setup` in that mode and timed with measureSteps in this
 * process, then disposed; the reference is the script named like the benchmark
 * (tools/bench/reference/<name with _ for ->.py) with the same sizes, warm-up, steps and
 * threads. Kept out of benchmarks/: the runner loads every file there as a benchmark.
 */
import { measureSteps } from './measure';
import { benchThreads, defineBenchmark, type BenchMode, type Figures, type ModeBenchmark } from './types';

export interface TrainBenchmarkSpec<S extends Record<string, number>> {
  name: string;
  /** warm-up and timed steps (the reference runs as many) */
  steps(quick: boolean): { warmup: number; iters: number };
  description: string;
  unit: string;
  /** the sizes both sides use (batch, …), passed to the reference as `--<key> <value>` */
  sizes: S;
  /** our model and its training step in `mode`; `dispose` frees what setup made */
  setup(mode: BenchMode, sizes: S): { step: (i: number) => void; dispose(): void };
  /** extra text for the log line of our figures */
  logExtra?(f: Figures): string;
}

export function trainBenchmark<S extends Record<string, number>>(spec: TrainBenchmarkSpec<S>): ModeBenchmark {
  return defineBenchmark({
    name: spec.name,
    description: spec.description,
    unit: spec.unit,
    modes: ['fast', 'balanced', 'lean'],
    async ours(ctx, { mode }) {
      const { step, dispose } = spec.setup(mode, spec.sizes);
      const f = measureSteps(step, spec.steps(ctx.quick));
      dispose();
      ctx.log(`ours [${mode}]: ${f.medianMs.toFixed(0)} ms/step on ${ctx.backend}, peak RSS ${f.peakRssMiB} MiB${spec.logExtra?.(f) ?? ''}`);
      return { ...f, mode };
    },
    async reference(ctx) {
      const { warmup, iters } = spec.steps(ctx.quick);
      const sizes = Object.entries(spec.sizes).flatMap(([k, v]) => [`--${k}`, String(v)]);
      return ctx.runPython(`tools/bench/reference/${spec.name.replace(/-/g, '_')}.py`, [
        ...sizes, '--iters', String(iters), '--warmup', String(warmup), '--threads', String(benchThreads()),
      ]) as Promise<Figures>;
    },
  });
}
