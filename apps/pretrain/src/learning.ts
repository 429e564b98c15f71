/**
 * Did the run learn? The figures the demo's done-when names, from `metrics.jsonl`:
 * - VLA: the mean over the first tenth of the steps against the mean over the last tenth;
 * - PS: the same over the steps where the pseudo-segmentation loss is active (after the
 *   VLA-only warm-up), first tenth of those against their last tenth;
 * - memory: RSS and live tensors at the first step after warm-up (the first tenth, and the
 *   first step with the PS loss) against the last.
 * Pure arithmetic on the logged rows: `g2d-pretrain` prints it at the end, the report shows it.
 */
export interface WindowChange {
  /** steps in each window */
  steps: number;
  first: number;
  last: number;
  /** (last - first) / |first|: negative = the loss fell */
  relChange: number;
}

export interface LearningSummary {
  steps: number;
  vla?: WindowChange;
  ps?: WindowChange;
  rssMiB?: { first: number; last: number };
  numTensors?: { first: number; last: number; constantAfterWarmup: boolean };
}

type Row = Record<string, unknown>;

const num = (r: Row, k: string): number | undefined => (typeof r[k] === 'number' && Number.isFinite(r[k]) ? (r[k] as number) : undefined);

function windows(values: number[]): WindowChange | undefined {
  if (values.length < 2) return undefined;
  const n = Math.max(1, Math.floor(values.length / 10));
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const first = mean(values.slice(0, n));
  const last = mean(values.slice(values.length - n));
  return { steps: n, first, last, relChange: first === 0 ? 0 : (last - first) / Math.abs(first) };
}

/** The learning figures of a run's metric rows (one row per optimizer step, as `fit` logs them). */
export function learningSummary(rows: Row[]): LearningSummary {
  // a resumed run may log a step twice (the killed run's last lines): keep the newest of each
  const byStep = new Map<number, Row>();
  for (const r of rows) {
    const s = num(r, 'step');
    if (s !== undefined) byStep.set(s, r);
  }
  const ordered = [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  const out: LearningSummary = { steps: ordered.length };
  const vla = ordered.map((r) => num(r, 'vla')).filter((v): v is number => v !== undefined);
  out.vla = windows(vla);
  const ps = ordered.filter((r) => num(r, 'psActive') === 1).map((r) => num(r, 'ps')).filter((v): v is number => v !== undefined);
  out.ps = windows(ps);
  // warm-up for memory: the first tenth of the steps, and the first step with the PS loss (its
  // decoder gradients, and the optimizer moments they get, appear only then)
  const firstPs = ordered.findIndex((r) => num(r, 'psActive') === 1);
  const warm = ordered.slice(Math.min(ordered.length - 1, Math.max(2, Math.floor(ordered.length / 10), firstPs + 1)));
  const rss = warm.map((r) => num(r, 'rssMiB')).filter((v): v is number => v !== undefined);
  if (rss.length) out.rssMiB = { first: rss[0]!, last: rss[rss.length - 1]! };
  const nt = warm.map((r) => num(r, 'numTensors')).filter((v): v is number => v !== undefined);
  if (nt.length) out.numTensors = { first: nt[0]!, last: nt[nt.length - 1]!, constantAfterWarmup: nt.every((v) => v === nt[0]) };
  return out;
}

/** One line per figure, for the end of a run. */
export function describeLearning(l: LearningSummary): string[] {
  const lines: string[] = [];
  const pc = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}%`;
  if (l.vla) lines.push(`VLA loss: first tenth ${l.vla.first.toFixed(3)} -> last tenth ${l.vla.last.toFixed(3)} (${pc(l.vla.relChange)}, ${l.vla.steps} steps each)`);
  if (l.ps) lines.push(`PS loss after the warm-up: first tenth ${l.ps.first.toFixed(3)} -> last tenth ${l.ps.last.toFixed(3)} (${pc(l.ps.relChange)}, ${l.ps.steps} steps each)`);
  else lines.push('PS loss: never active (the run ended within the VLA-only warm-up)');
  if (l.rssMiB) lines.push(`RSS after warm-up: ${l.rssMiB.first.toFixed(0)} MiB -> ${l.rssMiB.last.toFixed(0)} MiB at the end`);
  if (l.numTensors) lines.push(`live tensors per step after warm-up: ${l.numTensors.first} -> ${l.numTensors.last}${l.numTensors.constantAfterWarmup ? ' (constant)' : ' (NOT constant)'}`);
  return lines;
}
