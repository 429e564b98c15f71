/**
 * Weight import: prefix detection, every offending key reported at once, all-or-nothing
 * loading, dtype conversion, strict=false reports.
 */
import { type RawTensor, fromFloat32, readCheckpoint, toFloat32 } from '@g2d-ts/core';
import { loadWeights } from '@g2d-ts/nn';
import { ResNet, type ResNetConfig } from '../src';
import { fixture } from './helpers';

const CFG: ResNetConfig = { block: 'bottleneck', layers: [2, 1, 1, 1], widths: [4, 8, 8, 16], stemWidth: 8 };

async function sd(): Promise<Map<string, RawTensor>> {
  return readCheckpoint(fixture('tiny_bottleneck.pth'));
}

describe('loadWeights', () => {
  it('reports every missing, unexpected and mis-shaped key in one error and changes nothing', async () => {
    const net = new ResNet('tiny', CFG);
    const before = net.stateDict();
    const bad = await sd();
    bad.delete('layer2.0.bn3.running_var');
    bad.delete('layer4.0.conv1.weight');
    bad.set('layer9.0.conv1.weight', bad.get('conv1.weight')!);
    const c = bad.get('layer3.0.conv2.weight')!;
    bad.set('layer3.0.conv2.weight', { ...c, shape: [c.shape[0]!, c.shape[1]!, 1, 9] });
    bad.set('bn1.weight', fromFloat32([1, 2, 3], [3]));
    let msg = '';
    try {
      await loadWeights(net, bad);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('cannot load weights into ResNet');
    expect(msg).toMatch(/shape mismatch \(2\):/);
    expect(msg).toContain('layer3.0.conv2.weight: expected [8, 8, 3, 3], checkpoint has [8, 8, 1, 9]');
    expect(msg).toContain('bn1.weight: expected [8], checkpoint has [3]');
    expect(msg).toMatch(/missing in the checkpoint \(2\):\s+layer2.0.bn3.running_var\s+layer4.0.conv1.weight/);
    expect(msg).toMatch(/unexpected in the checkpoint \(1\):\s+layer9.0.conv1.weight/);
    // nothing was assigned
    const after = net.stateDict();
    for (const [k, t] of before) expect({ k, d: after.get(k)!.data }).toEqual({ k, d: t.data });
    net.dispose();
  });

  it('strict=false loads what matches and reports the rest; shape errors stay fatal', async () => {
    const net = new ResNet('tiny', CFG);
    const part = await sd();
    part.delete('fc.weight');
    part.delete('layer4.0.conv3.weight');
    part.set('extra.weight', fromFloat32([1], [1]));
    const rep = await loadWeights(net, part, { strict: false });
    expect(rep.missing).toEqual(['layer4.0.conv3.weight']);
    expect(rep.unexpected).toEqual(['extra.weight']);
    part.set('conv1.weight', fromFloat32([1], [1]));
    await expect(loadWeights(net, part, { strict: false })).rejects.toThrow(/conv1.weight: expected \[8, 3, 7, 7\]/);
    net.dispose();
  });

  it('finds the weights under a prefix (DDP, smp encoder, G2D checkpoint) or a forced one', async () => {
    const base = await sd();
    for (const p of ['encoder.', 'img_model.encoder.', 'backbone.body.']) {
      const net = new ResNet('tiny', CFG);
      const m = new Map([...base].map(([k, v]) => [p + k, v]));
      m.set('decoder.blocks.0.conv1.0.weight', fromFloat32([1], [1]));
      const rep = await loadWeights(net, m);
      expect(rep.prefix).toBe(p);
      expect(rep.ignored).toEqual(['decoder.blocks.0.conv1.0.weight']); // outside the prefix
      net.dispose();
    }
    const net = new ResNet('tiny', CFG);
    await expect(loadWeights(net, base, { prefix: 'encoder.' })).rejects.toThrow(/missing in the checkpoint/);
    await expect(loadWeights(net, new Map([['foo', fromFloat32([1], [1])]]))).rejects.toThrow(/none of ResNet's parameters .* were found/);
    net.dispose();
  });

  it('converts float16/bfloat16/float64 checkpoints to float32 and ignores the classifier head', async () => {
    const base = await sd();
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const half = new Map([...base].map(([k, v]) => [k, v.dtype === 'float32' ? fromFloat32(toFloat32(v), v.shape, dtype) : v]));
      half.set('fc.weight', fromFloat32(new Float32Array(10 * 64), [10, 64], dtype)); // a torchvision classifier
      half.set('fc.bias', fromFloat32(new Float32Array(10), [10], dtype));
      const net = new ResNet('tiny', CFG);
      const rep = await loadWeights(net, half);
      expect(rep.ignored).toEqual(['fc.weight', 'fc.bias']);
      const got = toFloat32(net.stateDict().get('layer1.0.conv2.weight')!);
      const want = toFloat32(half.get('layer1.0.conv2.weight')!);
      expect(Array.from(got)).toEqual(Array.from(want));
      net.dispose();
    }
  });
});
