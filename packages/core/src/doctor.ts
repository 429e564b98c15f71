import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from './backend';

export interface DoctorReport {
  backend: string;
  backendPackage: string;
  requested: string;
  summary: string;
  tfjsVersion: string;
  availableBackends: { backend: string; package: string; ok: boolean; reason?: string }[];
  gpuDevices: string[];
  node: string;
  platform: string;
  cpus: number;
  memoryGiB: number;
  ok: boolean;
}

function gpuDevices(): string[] {
  try {
    const out = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000 });
    return out.split('\n').map((l) => l.trim()).filter(Boolean);
  } catch {
    return [];
  }
}

/** Environment report: backend in use, what else is available and why not, GPUs, Node. */
export async function doctor(opts: { backend?: string } = {}): Promise<DoctorReport> {
  const info: BackendInfo = await initBackend({ backend: opts.backend, log: false });
  // a 2x2 matmul proves the backend really computes
  const ok = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.eye(2)).sum().arraySync() === 10);
  return {
    backend: info.backend,
    backendPackage: info.package,
    requested: info.requested,
    summary: info.summary,
    tfjsVersion: tf.version.tfjs,
    availableBackends: info.probes,
    gpuDevices: gpuDevices(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    ok,
  };
}
