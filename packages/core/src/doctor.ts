import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { cudaVisibility, initBackend, type BackendInfo } from './backend';

export interface DoctorReport {
  backend: string;
  backendPackage: string;
  requested: string;
  summary: string;
  tfjsVersion: string;
  availableBackends: { backend: string; package: string; ok: boolean; reason?: string }[];
  gpuDevices: string[];
  /** GPU status: the devices, whether TensorFlow uses one, or why none is visible */
  gpu: GpuReport;
  node: string;
  platform: string;
  cpus: number;
  memoryGiB: number;
  ok: boolean;
}

export interface GpuReport {
  /** `nvidia-smi -L` lines (empty without nvidia-smi or a GPU) */
  devices: string[];
  /** NVIDIA device nodes found */
  deviceNodes: string[];
  /** whether a CUDA build of TensorFlow can see a device here (device nodes, driver, CUDA_VISIBLE_DEVICES) */
  cudaVisible: boolean;
  /** true/false when the active backend is a native TensorFlow; null otherwise */
  tensorflowUsesGpu: boolean | null;
  /** the @tensorflow/tfjs-node-gpu probe's state */
  gpuBuild: string;
  /** one line: what GPU is used, or why none is */
  summary: string;
}

function gpuReport(info: BackendInfo): GpuReport {
  const devices = gpuDevices();
  const cuda = cudaVisibility();
  const be = tf.getBackend() === 'tensorflow' ? (tf.backend() as unknown as { isUsingGpuDevice?: boolean }) : null;
  const usesGpu = be ? !!be.isUsingGpuDevice : null;
  const probe = info.probes.find((p) => p.package === '@tensorflow/tfjs-node-gpu');
  const gpuBuild = probe ? (probe.ok ? `loaded from ${probe.path}` : (probe.reason ?? 'not loaded')) : 'not probed';
  let summary: string;
  if (usesGpu) summary = `TensorFlow runs on the GPU (${info.package})${devices.length ? `: ${devices.join('; ')}` : ''}`;
  else if (!cuda.visible) summary = `no CUDA device visible: ${cuda.reason}`;
  else if (info.package !== '@tensorflow/tfjs-node-gpu') {
    summary = `a CUDA device is visible (${devices.join('; ') || cuda.deviceNodes.join(', ')}) but the backend is ${info.package}: build the GPU backend with \`pnpm native-backend --gpu\` (${gpuBuild})`;
  } else summary = 'a CUDA device is visible but TensorFlow does not use it: run with TF_CPP_MIN_LOG_LEVEL=0 for its reason (driver too old for CUDA 11.8? needs >= 450.80.02)';
  return { devices, deviceNodes: cuda.deviceNodes, cudaVisible: cuda.visible, tensorflowUsesGpu: usesGpu, gpuBuild, summary };
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
    gpu: gpuReport(info),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    ok,
  };
}
