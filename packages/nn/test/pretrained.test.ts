/**
 * The model registry: saveModel / autoFromPretrained / fromPretrainedAs / loadWeights with a
 * test-only model class, foreign-config and checkpoint readers, clear errors, atomic writes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng, readSafetensors, writeSafetensors } from '@g2d-ts/core';
import {
  Linear,
  Module,
  autoFromPretrained,
  fromPretrainedAs,
  loadWeights,
  modelClassName,
  registerCheckpointReader,
  registerConfigReader,
  registerModelClass,
  registeredModelClasses,
  saveModel,
  type LoadReport,
} from '../src';

interface MlpConfig {
  dims: number[];
  seed?: number;
}

class Mlp extends Module {
  readonly layers: Linear[] = [];
  constructor(readonly config: MlpConfig) {
    super({ rng: new Rng(config.seed ?? 0) });
    for (let i = 0; i + 1 < config.dims.length; i++) this.layers.push(this.addChild(`fc${i}`, new Linear(config.dims[i]!, config.dims[i + 1]!, { rng: this.rng })));
  }
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.layers.reduce((h, l) => tf.relu(l.forward(h)), x));
  }
}
class Other extends Mlp {}
class Unregistered extends Module {}

registerModelClass('TestMlp', { cls: Mlp, fromConfig: (c) => new Mlp(c as unknown as MlpConfig) });
registerModelClass('TestOther', { cls: Other, fromConfig: (c) => new Other(c as unknown as MlpConfig) });
// a foreign format: {"kind": "mlp", "sizes": [...]}
registerConfigReader('test-mlp', (cfg) => (cfg.kind === 'mlp' ? new Mlp({ dims: cfg.sizes as number[] }) : null));
// bare checkpoints: an "fc0.weight" key means an Mlp whose widths come from the shapes
registerCheckpointReader('test-mlp', (sd) => {
  if (!sd.has('fc0.weight')) return null;
  const dims: number[] = [];
  for (let i = 0; sd.has(`fc${i}.weight`); i++) {
    const [o, inp] = sd.get(`fc${i}.weight`)!.shape as [number, number];
    if (i === 0) dims.push(inp);
    dims.push(o);
  }
  return new Mlp({ dims });
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-nn-pretrained-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
afterAll(() => x.dispose());

function same(a: tf.Tensor, b: tf.Tensor) {
  expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  tf.dispose([a, b]);
}

describe('model registry', () => {
  it('saves config.json + model.safetensors atomically and rebuilds the class named in it', async () => {
    const m = new Mlp({ dims: [4, 5, 2], seed: 3 });
    const dir = path.join(tmp, 'mlp');
    await saveModel(m, dir, { note: 'x' });
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']); // no temp files left
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg).toEqual({ library_name: 'g2d-ts', g2d_format: 1, g2d_class: 'TestMlp', config: { dims: [4, 5, 2], seed: 3 } });
    const { metadata, tensors } = await readSafetensors(path.join(dir, 'model.safetensors'));
    expect(metadata).toMatchObject({ format: 'pt', g2d_class: 'TestMlp', note: 'x' });
    expect(tensors.get('fc0.weight')!.shape).toEqual([5, 4]); // PyTorch [out, in]
    let report: LoadReport | undefined;
    const back = await autoFromPretrained(dir, { onReport: (r) => (report = r) });
    expect(back).toBeInstanceOf(Mlp);
    expect(back.training).toBe(false);
    expect(report!.loaded).toHaveLength(4);
    same(m.forward(x), (back as Mlp).forward(x));
    // the typed variant checks the class
    const typed = await fromPretrainedAs(Mlp, dir);
    typed.dispose();
    await expect(fromPretrainedAs(Other, dir)).rejects.toThrow(`${dir}: holds a Mlp, not a Other; use autoFromPretrained or Mlp.fromPretrained`);
    expect(modelClassName(new Other({ dims: [1, 1] }))).toBe('TestOther'); // exact class, not the parent's name
    [m, back].forEach((q) => q.dispose());
  });

  it('reads foreign configs and bare checkpoints through the registered readers', async () => {
    const m = new Mlp({ dims: [4, 3, 3], seed: 5 });
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    await writeSafetensors(path.join(foreign, 'model.safetensors'), m.stateDict());
    fs.writeFileSync(path.join(foreign, 'config.json'), JSON.stringify({ kind: 'mlp', sizes: [4, 3, 3] }));
    same(m.forward(x), ((await autoFromPretrained(foreign)) as Mlp).forward(x));
    // a bare checkpoint file: the registered reader infers the architecture from its keys
    const bare = path.join(tmp, 'bare.safetensors');
    await writeSafetensors(bare, m.stateDict());
    const b = (await autoFromPretrained(bare)) as Mlp;
    expect(b.config.dims).toEqual([4, 3, 3]);
    same(m.forward(x), b.forward(x));
    // loadWeights into an existing model finds a prefix
    const prefixed = new Map([...m.stateDict()].map(([k, v]) => [`module.net.${k}`, v]));
    const fresh = new Mlp({ dims: [4, 3, 3], seed: 9 });
    const rep = await loadWeights(fresh, prefixed);
    expect(rep.prefix).toBe('module.net.');
    same(m.forward(x), fresh.forward(x));
    await expect(loadWeights(fresh, prefixed, { prefix: 'module.' })).rejects.toThrow(/missing in the checkpoint \(4\)/);
    [m, b, fresh].forEach((q) => q.dispose());
  });

  it('names what it cannot save or build', async () => {
    await expect(saveModel(new Unregistered(), path.join(tmp, 'u'))).rejects.toThrow(/saveModel: Unregistered is not a registered model class \(registered: .*TestMlp/);
    expect(registeredModelClasses()).toEqual(expect.arrayContaining(['TestMlp', 'TestOther']));
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(bad);
    const small = new Mlp({ dims: [2, 2] });
    await writeSafetensors(path.join(bad, 'model.safetensors'), small.stateDict());
    small.dispose();
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ library_name: 'g2d-ts', g2d_format: 1, g2d_class: 'G2DModel', config: {} }));
    await expect(autoFromPretrained(bad)).rejects.toThrow(/config\.json: g2d_class "G2DModel" is not registered \(registered: .*\); import the package that defines it/);
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ architecture: 'convnext' }));
    await expect(autoFromPretrained(bad)).rejects.toThrow(/config\.json: config\.json describes no known model \(expected the g2d-ts format or one of: test-mlp\)/);
    fs.writeFileSync(path.join(bad, 'config.json'), '{ nope');
    await expect(autoFromPretrained(bad)).rejects.toThrow(/bad\/config\.json: invalid JSON/);
    const odd = path.join(tmp, 'odd.safetensors');
    await writeSafetensors(odd, new Map([['w', { dtype: 'float32', shape: [1], data: new Float32Array(1) }]]));
    await expect(autoFromPretrained(odd)).rejects.toThrow(/odd\.safetensors: cannot infer the architecture from the checkpoint keys \(w\)/);
    // a config that does not match the weights: the load error, and the model is disposed
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ library_name: 'g2d-ts', g2d_format: 1, g2d_class: 'TestMlp', config: { dims: [2, 3] } }));
    const n = tf.memory().numTensors;
    await expect(autoFromPretrained(bad)).rejects.toThrow(/cannot load weights into Mlp: shape mismatch \(2\)/);
    expect(tf.memory().numTensors).toBe(n);
  });
});
