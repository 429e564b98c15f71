/**
 * Training progress: a one-line bar redrawn in place on a TTY (step/total, loss terms,
 * images/s, ETA), plain log lines when the stream is piped (one every `intervalSec`, plus
 * the first and the last step). No dependencies.
 */
export interface ProgressUpdate {
  /** optimizer steps completed */
  step: number;
  epoch: number;
  loss?: number;
  /** shown after the loss, in insertion order (e.g. vla, ps, acc1) */
  terms?: Record<string, number>;
  lr?: number;
  imagesPerSec?: number;
}

export interface ProgressOptions {
  /** total optimizer steps (for the bar, % and ETA); unknown: 0 */
  total: number;
  /** step count already done when the bar starts (a resumed run); ETA counts only what is left */
  start?: number;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** force the TTY or the plain mode (default: the stream's isTTY) */
  tty?: boolean;
  /** plain mode: seconds between lines (default 10) */
  intervalSec?: number;
  /** TTY mode: minimum ms between redraws (default 100) */
  redrawMs?: number;
  label?: string;
  /** clock in ms (tests) */
  now?: () => number;
}

/** "1h02m", "3m07s", "12s"; "?" when unknown. */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** Compact number: 4 significant digits, exponent for very small/large values. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

export class Progress {
  readonly total: number;
  readonly tty: boolean;
  private stream: NonNullable<ProgressOptions['stream']>;
  private intervalMs: number;
  private redrawMs: number;
  private label: string;
  private now: () => number;
  private start: number;
  private startStep: number;
  private lastPrint = -Infinity;
  private printed?: ProgressUpdate;
  private lastDraw = -Infinity;
  private drawn = false;
  private last?: ProgressUpdate;

  constructor(opts: ProgressOptions) {
    this.total = Math.max(0, opts.total | 0);
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? !!this.stream.isTTY;
    this.intervalMs = (opts.intervalSec ?? 10) * 1000;
    this.redrawMs = opts.redrawMs ?? 100;
    this.label = opts.label ?? 'train';
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.startStep = opts.start ?? 0;
  }

  /** Seconds left, from the mean time per step since the bar started. */
  eta(step: number): number {
    const done = step - this.startStep;
    if (!this.total || done <= 0) return NaN;
    return (((this.now() - this.start) / 1000) * (this.total - step)) / done;
  }

  /** The text of one status line (without the bar). */
  describe(u: ProgressUpdate): string {
    const parts: string[] = [];
    const pct = this.total ? ` ${Math.floor((100 * u.step) / this.total)}%` : '';
    parts.push(`step ${u.step}${this.total ? `/${this.total}` : ''}${pct}`, `epoch ${u.epoch}`);
    if (u.loss !== undefined) parts.push(`loss ${formatNumber(u.loss)}`);
    for (const [k, v] of Object.entries(u.terms ?? {})) parts.push(`${k} ${formatNumber(v)}`);
    if (u.lr !== undefined) parts.push(`lr ${formatNumber(u.lr)}`);
    if (u.imagesPerSec !== undefined && Number.isFinite(u.imagesPerSec)) parts.push(`${u.imagesPerSec.toFixed(1)} img/s`);
    if (this.total) parts.push(`ETA ${formatDuration(this.eta(u.step))}`);
    return parts.join(' | ');
  }

  update(u: ProgressUpdate): void {
    this.last = u;
    const t = this.now();
    const final = this.total > 0 && u.step >= this.total;
    if (this.tty) {
      if (!final && t - this.lastDraw < this.redrawMs) return;
      this.lastDraw = t;
      this.draw(u);
    } else {
      const first = this.lastPrint === -Infinity;
      if (!first && !final && t - this.lastPrint < this.intervalMs) return;
      this.lastPrint = t;
      this.printed = u;
      this.stream.write(`[${this.label}] ${this.describe(u)}\n`);
    }
  }

  private draw(u: ProgressUpdate): void {
    const cols = Math.max(40, this.stream.columns ?? 100);
    const text = this.describe(u);
    let line = text;
    if (this.total) {
      const width = Math.max(10, Math.min(30, cols - text.length - 4));
      const fill = Math.min(width, Math.round((width * u.step) / this.total));
      line = `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${text}`;
    }
    if (line.length > cols - 1) line = line.slice(0, cols - 2) + '…';
    this.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  /** Prints a message on its own line (above the bar on a TTY). */
  log(message: string): void {
    if (this.tty && this.drawn) {
      this.stream.write(`\r\x1b[2K${message}\n`);
      if (this.last) this.draw(this.last);
    } else this.stream.write(`${message}\n`);
  }

  /** Final redraw (TTY: ends the bar's line; plain: prints the last step if not yet printed). */
  done(): void {
    if (this.tty) {
      if (this.last) this.draw(this.last);
      if (this.drawn) this.stream.write('\n');
      this.drawn = false;
    } else if (this.last && this.last !== this.printed) {
      this.lastPrint = this.now();
      this.printed = this.last;
      this.stream.write(`[${this.label}] ${this.describe(this.last)}\n`);
    }
  }
}
