/**
 * Module: registration, names, modes, freezing, state dicts in PyTorch layout, and
 * all-or-nothing loading with one report type.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, type RawTensor, Rng, fromFloat32, toFloat32 } from '@g2d-ts/core';
import { describeBackends, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import {
  BatchNorm,
  Conv2d,
  Dropout,
  LayerNorm,
  Linear,
  LoadError,
  Module,
  ModuleDict,
  ModuleList,
  withoutRandomInit,
  type LoadReport,
  type ModuleOptions,
} from '../src';

/** A small model exercising every layout: conv2d (HWIO↔OIHW), linear, conv1d, buffers, a counter. */
class Tiny extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  readonly head: Linear;
  readonly proj: Linear;
  readonly blocks: ModuleList<LayerNorm>;
  readonly drop: Dropout;
  readonly scale: tf.Variable;
  constructor(opts: ModuleOptions = {}) {
    super(opts);
    this.conv = this.addChild('conv', new Conv2d(2, 3, 3, { rng: this.rng, padding: 1 }));
    this.bn = this.addChild('bn', new BatchNorm(3, { rng: this.rng }));
    this.head = this.addChild('head', new Linear(3, 4, { rng: this.rng }));
    this.proj = this.addChild('proj', new Linear(4, 2, { rng: this.rng, bias: false, torchLayout: 'conv1d' }));
    this.blocks = this.addChild('blocks', new ModuleList([new LayerNorm(2), new LayerNorm(2)]));
    this.drop = this.addChild('drop', new Dropout(0.5, { rng: this.rng }));
    this.scale = this.addParam('scale', tf.ones([1]));
  }
  /** Exposes the protected per-call mode helper. */
  runAs<T>(training: boolean | undefined, fn: () => T): T {
    return this.withTraining(training, fn);
  }
}

const NAMES = [
  'scale',
  'conv.weight',
  'conv.bias',
  'bn.weight',
  'bn.bias',
  'bn.running_mean',
  'bn.running_var',
  'bn.num_batches_tracked',
  'head.weight',
  'head.bias',
  'proj.weight',
  'blocks.0.weight',
  'blocks.0.bias',
  'blocks.1.weight',
  'blocks.1.bias',
];

function catchLoad(fn: () => unknown): LoadError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LoadError) return e;
    throw e;
  }
  throw new Error('expected a LoadError');
}

describeBackends('Module', () => {
  it('names members as PyTorch does; parameters, buffers and counters are told apart', () => {
    const m = new Tiny();
    expect(m.namedEntries().map(([n]) => n)).toEqual(NAMES);
    expect([...m.namedVariables().keys()]).toEqual(NAMES.filter((n) => n !== 'bn.num_batches_tracked'));
    expect(m.namedParameters().map(([n]) => n)).toEqual(NAMES.filter((n) => !/running|num_batches/.test(n)));
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'conv', 'bn', 'head', 'proj', 'blocks', 'blocks.0', 'blocks.1', 'drop']);
    // 1 + conv 2*3*9+3 + bn 3+3 + head 3*4+4 + proj 4*2 + 2 LayerNorms 2*2
    expect(m.numParams()).toBe(1 + 57 + 6 + 16 + 8 + 8);
    expect(m.trainableVariables()).toHaveLength(m.namedParameters().length);
    expect(m.blocks.length).toBe(2);
    expect(m.blocks.at(1)).toBe([...m.blocks][1]);
    expect(() => m.blocks.at(2)).toThrow(/ModuleList: index 2 out of range \[0, 2\)/);
    m.dispose();
  });

  it('rejects duplicate and dotted member names', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.addChild('a', new LayerNorm(2));
        this.addChild(name, new LayerNorm(2));
      }
    }
    expect(() => new Bad('a')).toThrow(new G2DError('Bad: duplicate member "a"'));
    expect(() => new Bad('b.c')).toThrow(/Bad: invalid member name "b\.c"/);
    const d = new ModuleDict();
    d.set('x', new LayerNorm(2));
    expect(() => d.get('y')).toThrow(/ModuleDict: no module "y" \(have x\)/);
    d.dispose();
  });

  it('train()/eval() set the whole tree; withTraining runs one call in a mode and restores every module', () => {
    const m = new Tiny();
    expect(m.namedModules().every(([, c]) => c.training)).toBe(true);
    m.eval();
    expect(m.namedModules().some(([, c]) => c.training)).toBe(false);
    m.bn.train(); // a part in its own mode
    const seen = m.runAs(true, () => m.namedModules().map(([, c]) => c.training));
    expect(seen.every(Boolean)).toBe(true);
    expect(m.training).toBe(false);
    expect(m.bn.training).toBe(true);
    expect(m.conv.training).toBe(false);
    // undefined keeps the current modes; an exception still restores them
    expect(m.runAs(undefined, () => m.bn.training && !m.conv.training)).toBe(true);
    expect(() =>
      m.runAs(true, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(m.conv.training).toBe(false);
    m.dispose();
  });

  it('freezes and unfreezes by name or prefix; a prefix that matches nothing is an error', () => {
    const m = new Tiny();
    m.freeze(['conv', 'blocks.1']);
    expect(m.frozen()).toEqual(['conv.weight', 'conv.bias', 'blocks.1.weight', 'blocks.1.bias']);
    expect(m.numParams({ trainable: true })).toBe(m.numParams() - 57 - 4);
    expect(m.trainableVariables()).not.toContain(m.conv.weight);
    m.unfreeze(['conv.bias']);
    expect(m.frozen()).toEqual(['conv.weight', 'blocks.1.weight', 'blocks.1.bias']);
    // "blocks.1" is a prefix of names, "block" is not (prefixes end at a dot)
    expect(() => m.freeze(['block', 'head'])).toThrow(new G2DError('Tiny.freeze: no parameters match "block"'));
    m.freeze();
    expect(m.trainableVariables()).toEqual([]);
    // buffers are never trainable and never listed as frozen
    expect(m.frozen()).not.toContain('bn.running_mean');
    m.unfreeze();
    expect(m.frozen()).toEqual([]);
    m.dispose();
  });

  it('state dicts use PyTorch layouts and round-trip exactly', () => {
    const m = new Tiny({});
    tf.tidy(() => m.bn.forward(tf.randomNormal([4, 3, 3, 3], 0, 1, 'float32', 1) as tf.Tensor4D));
    const sd = m.stateDict();
    expect(sd.get('conv.weight')!.shape).toEqual([3, 2, 3, 3]); // OIHW
    expect(sd.get('head.weight')!.shape).toEqual([4, 3]); // [out, in]
    expect(sd.get('proj.weight')!.shape).toEqual([2, 4, 1]); // Conv1d [out, in, 1]
    expect(sd.get('bn.num_batches_tracked')).toEqual({ dtype: 'int64', shape: [], data: new BigInt64Array([1n]) });
    // OIHW[o, i, h, w] == HWIO[h, w, i, o]
    const hwio = m.conv.weight.arraySync() as number[][][][];
    const oihw = toFloat32(sd.get('conv.weight')!);
    expect(oihw[((2 * 2 + 1) * 3 + 0) * 3 + 2]).toBe(hwio[0]![2]![1]![2]);
    const lin = m.head.weight.arraySync() as number[][];
    expect(toFloat32(sd.get('head.weight')!)[1 * 3 + 2]).toBe(lin[2]![1]);

    const other = new Tiny({ rng: new Rng(9) });
    expect(toFloat32(other.stateDict().get('head.weight')!)).not.toEqual(toFloat32(sd.get('head.weight')!));
    const rep = other.loadStateDict(sd, { source: 'tiny.safetensors' });
    expect(rep.loaded).toEqual(NAMES);
    expect(rep).toMatchObject({ missing: [], unexpected: [], ignored: [], mismatched: [], source: 'tiny.safetensors', prefix: '' });
    expect(other.bn.numBatchesTracked).toBe(1);
    const back = other.stateDict();
    for (const [k, t] of sd) expect({ k, v: Array.from(toFloat32(back.get(k)!)) }).toEqual({ k, v: Array.from(toFloat32(t)) });
    m.dispose();
    other.dispose();
  });

  it('withoutRandomInit builds zeros (for weights about to be loaded)', () => {
    const z = withoutRandomInit(() => new Linear(3, 4));
    expect(Array.from(z.weight.dataSync()).every((v) => v === 0)).toBe(true);
    const r = new Linear(3, 4);
    expect(Array.from(r.weight.dataSync()).some((v) => v !== 0)).toBe(true);
    [z, r].forEach((x) => x.dispose());
  });

  it('reports every missing, unexpected and mis-shaped key in one LoadError and changes nothing', () => {
    const src = new Tiny().stateDict();
    const m = new Tiny({});
    const before = m.stateDict();
    const bad = new Map(src);
    bad.delete('head.bias');
    bad.set('extra.weight', fromFloat32([1], [1]));
    bad.set('conv.weight', fromFloat32(new Float32Array(3 * 2 * 3 * 3), [3, 2, 9, 1]));
    bad.set('scale', { dtype: 'bool', shape: [1], data: new Uint8Array([1]) });
    const err = catchLoad(() => m.loadStateDict(bad, { source: 'bad.pth' }));
    expect(err).toBeInstanceOf(G2DError);
    expect(err.message).toMatch(/^bad\.pth: cannot load weights into Tiny: shape mismatch \(2\):/);
    expect(err.message).toContain('conv.weight: expected [3, 2, 3, 3], checkpoint has [3, 2, 9, 1]');
    expect(err.message).toContain('scale: dtype bool cannot be loaded into a float32 parameter');
    expect(err.message).toMatch(/missing in the checkpoint \(1\):\s+head\.bias/);
    expect(err.message).toMatch(/unexpected in the checkpoint \(1\):\s+extra\.weight/);
    expect(err.report).toMatchObject({ missing: ['head.bias'], unexpected: ['extra.weight'], mismatched: ['scale', 'conv.weight'] });
    const after = m.stateDict();
    for (const [k, t] of before) expect({ k, d: after.get(k)!.data }).toEqual({ k, d: t.data });

    // non-strict: missing/unexpected are reported, shape errors stay fatal
    const part = new Map(src);
    part.delete('head.bias');
    part.set('extra.weight', fromFloat32([1], [1]));
    const rep = m.loadStateDict(part, { strict: false });
    expect(rep.missing).toEqual(['head.bias']);
    expect(rep.unexpected).toEqual(['extra.weight']);
    part.set('head.weight', fromFloat32([1], [1]));
    expect(catchLoad(() => m.loadStateDict(part, { strict: false })).report.mismatched).toEqual(['head.weight']);
    // allowMissing / ignore hooks
    const r2 = m.loadStateDict(new Map([...src].filter(([k]) => k !== 'head.bias')).set('fc.weight', fromFloat32([1], [1])), {
      allowMissing: (n) => n === 'head.bias',
      ignore: (k) => k.startsWith('fc.'),
    });
    expect(r2).toMatchObject({ missing: ['head.bias'], ignored: ['fc.weight'], unexpected: [] });
    // checkpoints from before PyTorch 0.4.1 have no num_batches_tracked: not even reported
    const old = new Map(src);
    old.delete('bn.num_batches_tracked');
    expect(m.loadStateDict(old).missing).toEqual([]);
    m.dispose();
  });

  it('reads under a given prefix, or finds it; keys outside the prefix are ignored', () => {
    const src = new Tiny().stateDict();
    const m = new Tiny();
    const wrapped = new Map<string, RawTensor>();
    for (const [k, v] of src) wrapped.set(`model.backbone.${k}`, v);
    wrapped.set('model.classifier.weight', fromFloat32([1, 2], [2]));
    wrapped.set('optimizer.step', fromFloat32([3], [1]));
    let rep: LoadReport = m.loadStateDict(wrapped, { findPrefix: true, source: 'ckpt.pth' });
    expect(rep.prefix).toBe('model.backbone.');
    expect(rep.loaded).toHaveLength(NAMES.length);
    expect(rep.ignored.sort()).toEqual(['model.classifier.weight', 'optimizer.step']);
    rep = m.loadStateDict(wrapped, { prefix: 'model.backbone.' });
    expect(rep.loaded).toHaveLength(NAMES.length);
    const err = catchLoad(() => m.loadStateDict(wrapped, { prefix: 'model.', source: 'ckpt.pth' }));
    expect(err.message).toMatch(/^ckpt\.pth \[prefix "model\."\]: cannot load weights into Tiny/);
    expect(() => m.loadStateDict(new Map([['foo', fromFloat32([1], [1])]]), { findPrefix: true })).toThrow(/none of Tiny's parameters \(e\.g\. scale, conv\.weight, .*\) were found under any key prefix/);
    m.dispose();
  });

  it('applies translateKey / isIgnorableKey hooks to their own subtree', () => {
    class Renamer extends LayerNorm {
      override translateKey(k: string): string {
        return k.replace(/^gamma$/, 'weight').replace(/^beta$/, 'bias');
      }
      override isIgnorableKey(k: string): boolean {
        return k === 'position_ids';
      }
    }
    class Outer extends Module {
      constructor() {
        super();
        this.addChild('ln', new Renamer(2));
        this.addChild('other', new LayerNorm(2));
      }
    }
    const m = new Outer();
    const sd = new Map<string, RawTensor>([
      ['ln.gamma', fromFloat32([2, 3], [2])],
      ['ln.beta', fromFloat32([4, 5], [2])],
      ['ln.position_ids', fromFloat32([0, 1], [2])],
      ['other.weight', fromFloat32([1, 1], [2])],
      ['other.bias', fromFloat32([0, 0], [2])],
    ]);
    const rep = m.loadStateDict(sd);
    expect(rep.ignored).toEqual(['ln.position_ids']);
    expect(rep.loaded.sort()).toEqual(['ln.bias', 'ln.weight', 'other.bias', 'other.weight']);
    expect(Array.from(m.namedVariables().get('ln.weight')!.dataSync())).toEqual([2, 3]);
    // "other" has no hooks: its gamma would be unexpected
    const err = catchLoad(() => m.loadStateDict(new Map([...sd, ['other.gamma', fromFloat32([1, 1], [2])]])));
    expect(err.report.unexpected).toEqual(['other.gamma']);
    m.dispose();
  });

  it('leaks no tensors: build, forward, state dict round trip, dispose', async () => {
    await expectNoLeakedTensors(() => {
      const m = new Tiny();
      const x = tf.ones([2, 4, 4, 2]) as tf.Tensor4D;
      const y = tf.tidy(() => m.head.forward(m.bn.forward(m.conv.forward(x))));
      m.loadStateDict(m.stateDict());
      tf.dispose([x, y]);
      m.dispose();
    });
  });

  it('trains end to end: gradients reach exactly the trainable parameters', () => {
    const m = new Tiny();
    m.freeze(['head']);
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.mean(tf.square(m.proj.forward(m.head.forward(m.bn.forward(m.conv.forward(x)))))) as tf.Scalar),
      m.trainableVariables(),
    );
    const byVar = new Map([...m.namedVariables()].map(([n, v]) => [v.name, n]));
    expect(Object.keys(grads).map((k) => byVar.get(k)).sort()).toEqual(['bn.bias', 'bn.weight', 'conv.bias', 'conv.weight', 'proj.weight']);
    for (const g of Object.values(grads)) expect(Number.isFinite(tf.sum(tf.abs(g)).dataSync()[0]!)).toBe(true);
    tf.dispose([x, value, ...Object.values(grads)]);
    m.dispose();
  });
});
