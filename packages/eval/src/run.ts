/**
 * Small pieces every evaluation run needs: the default output folder, the cache folders from
 * the config, a phase timer for `results.json`'s `runtime`, and a logger to stderr (stdout is
 * kept for the final summary).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { defaultCacheDir } from './cache';
import { parseDatasetSpec } from './data';
import { fractionId } from './grid';
import type { CommonConfig } from './options';

/** `--out`, else `<cwd>/runs/<app>/<adapter>[-<protocol>]-<pct>-s<seed>`; created. Refuses a path that is a file. */
export function outputDir(app: string, cfg: CommonConfig, cwd: string, protocol?: string): string {
  const dir = cfg.out ?? path.join(cwd, 'runs', app, [parseDatasetSpec(cfg.dataset).adapter, protocol, fractionId(cfg.fraction), `s${cfg.seed}`].filter(Boolean).join('-'));
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new G2DError('--out names a file, not a folder', { source: dir });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Feature and image cache folders (undefined when switched off in the config). */
export function cacheDirs(cfg: CommonConfig, cwd: string): { features?: string; images?: string; root: string } {
  const root = defaultCacheDir(cfg.cache.dir, cwd);
  return { root, features: cfg.cache.features ? root : undefined, images: cfg.cache.images ? root : undefined };
}

/** Wall-clock seconds per named phase. */
export class PhaseTimer {
  private readonly t0 = performance.now();
  private readonly cpu0 = process.cpuUsage();
  readonly phases: Record<string, number> = {};

  async time<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.phases[name] = (this.phases[name] ?? 0) + (performance.now() - t) / 1000;
    }
  }

  get seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** CPU seconds of this process (all threads, user + system) since the timer started: on a shared machine, the honest measure of the work. */
  get cpuSeconds(): number {
    const u = process.cpuUsage(this.cpu0);
    return (u.user + u.system) / 1e6;
  }
}

/** One line to stderr. */
export function stderrLog(line: string): void {
  process.stderr.write(line.endsWith('\n') ? line : line + '\n');
}
