import * as tf from '@tensorflow/tfjs';
import { initBackend, probeBackends } from '../src/backend';

describe('initBackend', () => {
  afterAll(async () => { await tf.setBackend('cpu'); });
  it('cpu always works and the summary names the choice', async () => {
    const lines: string[] = [];
    const info = await initBackend({ backend: 'cpu', log: (l) => lines.push(l) });
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[g2d\] backend: cpu/);
  });
  it('auto picks the first usable candidate in preference order and explains the rest', async () => {
    const probes = await probeBackends();
    expect(probes.map((p) => p.package)).toEqual([
      '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs',
    ]);
    for (const p of probes) if (!p.ok) expect(p.reason).toBeTruthy();
    const info = await initBackend({ backend: 'auto', log: false });
    expect(info.backend).toBe(probes.find((p) => p.ok)!.backend);
  });
  it('rejects unknown names and explains a missing native backend', async () => {
    await expect(initBackend({ backend: 'cuda', log: false })).rejects.toThrow(/not one of auto\|tensorflow\|wasm\|cpu/);
    const probes = await probeBackends();
    if (!probes.some((p) => p.backend === 'tensorflow' && p.ok)) {
      await expect(initBackend({ backend: 'tensorflow', log: false })).rejects.toThrow(/pnpm native-backend/);
    }
  });
});
