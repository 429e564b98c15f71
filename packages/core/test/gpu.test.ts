/**
 * GPU visibility: why a CUDA build of TensorFlow would see no device here, and that the GPU
 * backend package is then not loaded (the CPU build keeps serving), with the reason.
 */
import * as fs from 'node:fs';
import { cudaVisibility, probeBackends } from '../src/backend';
import { doctor } from '../src/doctor';

const hasNodes = fs.existsSync('/dev') && fs.readdirSync('/dev').some((n) => /^nvidia\d+$/.test(n));

describe('cudaVisibility', () => {
  it('CUDA_VISIBLE_DEVICES="" or "-1" hides every GPU, and says so', () => {
    for (const v of ['', '-1']) {
      const r = cudaVisibility({ ...process.env, CUDA_VISIBLE_DEVICES: v });
      expect(r.visible).toBe(false);
      expect(r.reason).toBe(`CUDA_VISIBLE_DEVICES="${v}" hides every GPU`);
    }
  });

  (hasNodes ? it.skip : it)('without NVIDIA device nodes no device is visible (this machine)', async () => {
    const r = cudaVisibility({ ...process.env, CUDA_VISIBLE_DEVICES: '0' });
    expect(r).toEqual({ visible: false, reason: expect.stringContaining('no NVIDIA GPU device nodes (/dev/nvidia0'), deviceNodes: [] });
    const gpu = (await probeBackends())[0]!;
    expect(gpu.package).toBe('@tensorflow/tfjs-node-gpu');
    expect(gpu.ok).toBe(false);
    expect(gpu.reason).toContain('not loaded: no CUDA device visible (no NVIDIA GPU device nodes');
    const report = await doctor({ backend: 'cpu' });
    expect(report.gpu.cudaVisible).toBe(false);
    expect(report.gpu.tensorflowUsesGpu).toBeNull();
    expect(report.gpu.summary).toMatch(/^no CUDA device visible: no NVIDIA GPU device nodes/);
  });
});
