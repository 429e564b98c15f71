/**
 * Learning-rate schedulers stepped once per optimizer iteration, with exportable state.
 * Convention (torch's): `lr` is the rate the next optimizer step uses; call `step()` after
 * each optimizer step. The LR is computed in double precision with torch's expressions, so
 * the sequences equal torch's (tested against a golden to 1e-12).
 */
import { G2DError } from '@g2d-ts/core';

export interface SchedulerState {
  kind: string;
  /** optimizer steps taken so far (torch's last_epoch for a per-iteration schedule) */
  t: number;
  [k: string]: unknown;
}

export interface LrScheduler {
  readonly kind: string;
  /** the learning rate for the next optimizer step */
  readonly lr: number;
  /** advance by one optimizer iteration */
  step(): void;
  state(): SchedulerState;
  loadState(state: SchedulerState, source?: string): void;
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new G2DError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}
function nonNegative(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new G2DError(`${what} must be a finite number >= 0, got ${String(v)}`);
  return v;
}
function checkKind(state: SchedulerState, kind: string, source?: string): void {
  if (!state || state.kind !== kind) {
    throw new G2DError(`scheduler state is for "${String(state?.kind)}", this scheduler is "${kind}"`, { source });
  }
  if (!Number.isInteger(state.t) || state.t < 0) throw new G2DError(`scheduler state: t must be an integer >= 0, got ${String(state.t)}`, { source });
}

export interface CosineWarmRestartsOptions {
  baseLr: number;
  /** iterations in the first cycle (the reference: 200) */
  T0: number;
  /** cycle length multiplier after each restart (integer >= 1; default 1) */
  TMult?: number;
  /** floor of the cosine (the reference: 1e-8; default 0) */
  etaMin?: number;
}

/**
 * torch.optim.lr_scheduler.CosineAnnealingWarmRestarts stepped without an argument every
 * iteration: lr = etaMin + (baseLr − etaMin)(1 + cos(π·Tcur/Ti))/2, Tcur += 1 per step, and
 * when Tcur reaches Ti it wraps (Tcur −= Ti) and Ti ×= TMult.
 */
export class CosineAnnealingWarmRestarts implements LrScheduler {
  readonly kind = 'cosine-warm-restarts';
  readonly baseLr: number;
  readonly T0: number;
  readonly TMult: number;
  readonly etaMin: number;
  private t = 0;
  private Tcur = 0;
  private Ti: number;

  constructor(opts: CosineWarmRestartsOptions) {
    this.baseLr = nonNegative(opts.baseLr, 'CosineAnnealingWarmRestarts baseLr');
    this.T0 = positiveInt(opts.T0, 'CosineAnnealingWarmRestarts T0');
    this.TMult = positiveInt(opts.TMult ?? 1, 'CosineAnnealingWarmRestarts TMult');
    this.etaMin = nonNegative(opts.etaMin ?? 0, 'CosineAnnealingWarmRestarts etaMin');
    this.Ti = this.T0;
  }

  get lr(): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * this.Tcur) / this.Ti))) / 2;
  }

  step(): void {
    this.t += 1;
    this.Tcur += 1;
    if (this.Tcur >= this.Ti) {
      this.Tcur -= this.Ti;
      this.Ti *= this.TMult;
    }
  }

  state(): SchedulerState {
    return { kind: this.kind, t: this.t, Tcur: this.Tcur, Ti: this.Ti, baseLr: this.baseLr, T0: this.T0, TMult: this.TMult, etaMin: this.etaMin };
  }

  loadState(state: SchedulerState, source?: string): void {
    checkKind(state, this.kind, source);
    const Tcur = state.Tcur;
    const Ti = state.Ti;
    if (typeof Ti !== 'number' || !Number.isInteger(Ti) || Ti <= 0) throw new G2DError(`scheduler state: Ti must be a positive integer, got ${String(Ti)}`, { source });
    if (typeof Tcur !== 'number' || !Number.isInteger(Tcur) || Tcur < 0 || Tcur >= Ti) {
      throw new G2DError(`scheduler state: Tcur must be an integer in [0, Ti), got ${String(Tcur)}`, { source });
    }
    this.t = state.t;
    this.Tcur = Tcur;
    this.Ti = Ti;
  }
}

export interface WarmupCosineOptions {
  baseLr: number;
  /** linear warm-up length in iterations: lr = baseLr · t / warmupSteps for t < warmupSteps */
  warmupSteps: number;
  /** total iterations; after it the LR stays at etaMin */
  totalSteps: number;
  /** floor of the cosine (default 0 = transformers' schedule) */
  etaMin?: number;
  /** cosine cycles over the decay (default 0.5: one half-cosine from baseLr to etaMin) */
  cycles?: number;
}

/**
 * Linear warm-up then cosine decay, transformers' `get_cosine_schedule_with_warmup`
 * (LambdaLR) with an optional floor: for t < W, lr = baseLr·t/max(1, W); after,
 * lr = etaMin + (baseLr − etaMin)·max(0, (1 + cos(π·cycles·2·progress))/2) with
 * progress = (t − W)/max(1, T − W), clamped to 1 (transformers lets it run past 1).
 */
export class WarmupCosine implements LrScheduler {
  readonly kind = 'warmup-cosine';
  readonly baseLr: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly etaMin: number;
  readonly cycles: number;
  private t = 0;

  constructor(opts: WarmupCosineOptions) {
    this.baseLr = nonNegative(opts.baseLr, 'WarmupCosine baseLr');
    const w = opts.warmupSteps;
    if (!Number.isInteger(w) || w < 0) throw new G2DError(`WarmupCosine warmupSteps must be an integer >= 0, got ${w}`);
    this.warmupSteps = w;
    this.totalSteps = positiveInt(opts.totalSteps, 'WarmupCosine totalSteps');
    if (this.totalSteps < w) throw new G2DError(`WarmupCosine totalSteps (${this.totalSteps}) must be >= warmupSteps (${w})`);
    this.etaMin = nonNegative(opts.etaMin ?? 0, 'WarmupCosine etaMin');
    this.cycles = nonNegative(opts.cycles ?? 0.5, 'WarmupCosine cycles');
  }

  get lr(): number {
    const { t, warmupSteps: W, totalSteps: T } = this;
    if (t < W) return this.baseLr * (t / Math.max(1, W));
    const progress = Math.min(1, (t - W) / Math.max(1, T - W));
    const f = Math.max(0, 0.5 * (1 + Math.cos(Math.PI * this.cycles * 2 * progress)));
    return this.etaMin + (this.baseLr - this.etaMin) * f;
  }

  step(): void {
    this.t += 1;
  }

  state(): SchedulerState {
    return { kind: this.kind, t: this.t, baseLr: this.baseLr, warmupSteps: this.warmupSteps, totalSteps: this.totalSteps, etaMin: this.etaMin, cycles: this.cycles };
  }

  loadState(state: SchedulerState, source?: string): void {
    checkKind(state, this.kind, source);
    this.t = state.t;
  }
}

export interface ConstantOptions {
  baseLr: number;
  /** optional linear warm-up (transformers' get_constant_schedule_with_warmup); default 0 */
  warmupSteps?: number;
}

/** Constant LR, optionally after a linear warm-up lr = baseLr · t / warmupSteps. */
export class ConstantLR implements LrScheduler {
  readonly kind = 'constant';
  readonly baseLr: number;
  readonly warmupSteps: number;
  private t = 0;

  constructor(opts: ConstantOptions) {
    this.baseLr = nonNegative(opts.baseLr, 'ConstantLR baseLr');
    const w = opts.warmupSteps ?? 0;
    if (!Number.isInteger(w) || w < 0) throw new G2DError(`ConstantLR warmupSteps must be an integer >= 0, got ${w}`);
    this.warmupSteps = w;
  }

  get lr(): number {
    return this.t < this.warmupSteps ? this.baseLr * (this.t / Math.max(1, this.warmupSteps)) : this.baseLr;
  }

  step(): void {
    this.t += 1;
  }

  state(): SchedulerState {
    return { kind: this.kind, t: this.t, baseLr: this.baseLr, warmupSteps: this.warmupSteps };
  }

  loadState(state: SchedulerState, source?: string): void {
    checkKind(state, this.kind, source);
    this.t = state.t;
  }
}

export type SchedulerConfig =
  | ({ kind: 'cosine-warm-restarts' } & Omit<CosineWarmRestartsOptions, 'baseLr'>)
  | ({ kind: 'warmup-cosine' } & Omit<WarmupCosineOptions, 'baseLr'>)
  | ({ kind: 'constant' } & Omit<ConstantOptions, 'baseLr'>);

/** Builds a scheduler from a config object (e.g. a YAML `scheduler:` section). */
export function createScheduler(baseLr: number, config: SchedulerConfig, source = 'scheduler'): LrScheduler {
  const kind = (config as { kind?: unknown })?.kind;
  switch (kind) {
    case 'cosine-warm-restarts':
      return new CosineAnnealingWarmRestarts({ ...config, baseLr } as CosineWarmRestartsOptions);
    case 'warmup-cosine':
      return new WarmupCosine({ ...config, baseLr } as WarmupCosineOptions);
    case 'constant':
      return new ConstantLR({ ...config, baseLr } as ConstantOptions);
    default:
      throw new G2DError(`unknown scheduler kind "${String(kind)}" (one of cosine-warm-restarts, warmup-cosine, constant)`, { source });
  }
}
