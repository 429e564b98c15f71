import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, expectArraysClose, testBackends } from '@g2d-ts/core/testing';
import { exportReferenceCheckpoints } from '@g2d-ts/model';
import { extractFeatures, featureDim, findDemoCheckpoint, findWorkspaceRoot, loadDataset, loadImages, resolveEncoder, toInputTensor, transformFor, transformKey, weightsHash } from '../src';
import { createMicroModel, saveMicroModel } from '../src/testing';

// one backend (the fastest available): building the tiny preset on the JS cpu backend takes half a minute
const FAST = [testBackends().includes('tensorflow') ? ('tensorflow' as const) : ('cpu' as const)];

describeBackends('encoder errors', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-eval-enc-err-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  it('errors name the spec: neither a preset nor a path, or a checkpoint of another architecture', async () => {
    await expect(resolveEncoder('g2d-resnet19', { cwd: dir })).rejects.toThrow(/--encoder: "g2d-resnet19" is neither a model preset \(g2d-resnet18-tiny, g2d-resnet50\) nor an existing checkpoint path/);
    const m = createMicroModel(dir, 5);
    const files = await exportReferenceCheckpoints(m, path.join(dir, 'ref'), { name: 'micro', safetensors: false });
    m.dispose();
    const enc = files.find((f) => f.endsWith('micro_encoder.pth'))!;
    await expect(resolveEncoder(enc, { preset: 'g2d-resnet18-tiny' })).rejects.toThrow(/--encoder: cannot load .*micro_encoder\.pth/); // the micro encoder does not fit the tiny preset: a clear error
  });
}, { only: FAST });

describeBackends(
  'encoder resolution and cached features',
  ({ rtol, atol }) => {
    let dir: string;
    let saved: string;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-eval-enc-'));
      saved = await saveMicroModel(dir, 3);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('a saved folder loads with its own config; the hash is of the weights', async () => {
      const { model, info } = await resolveEncoder(saved, { cwd: '/', defaultCheckpoint: null });
      try {
        expect(info.kind).toBe('checkpoint');
        expect(info.architecture).toBe('g2d-micro-test');
        expect(info.loadedParts).toEqual(['img_model', 'proj_v', 'attnpool', 'lm_model', 'proj_t']);
        expect(info.label).toBe('G2D (final)');
        const ref = createMicroModel(dir, 3);
        expect(info.weightsHash).toBe(weightsHash(ref));
        expect(weightsHash(createMicroModel(dir, 4))).not.toBe(info.weightsHash);
        ref.dispose();
      } finally {
        model.dispose();
      }
    });

    it('no --encoder: the default checkpoint when given, else random tiny weights, said in the note', async () => {
      const a = await resolveEncoder(undefined, { defaultCheckpoint: saved });
      expect(a.info.kind).toBe('default-checkpoint');
      expect(a.info.note).toMatch(/no --encoder given, so the pretrain:demo checkpoint/);
      expect(a.info.label).toBe('G2D (pretrain-demo)');
      a.model.dispose();
      // no workspace above a temp folder: only this module's own workspace can supply the
      // checkpoint (the documented fallback), and only when its runs/pretrain-demo/final exists
      expect(findWorkspaceRoot(dir)).toBeNull();
      const own = path.join(findWorkspaceRoot(__dirname)!, 'runs', 'pretrain-demo', 'final');
      expect(findDemoCheckpoint(dir)).toBe(fs.existsSync(path.join(own, 'model.safetensors')) ? own : null);
    });

    it('features: computed once, then read from the cache; the same values as a direct forward pass', async () => {
      const { model, info } = await resolveEncoder(saved, { defaultCheckpoint: null });
      try {
        const data = loadDataset('synthetic', { synthetic: { count: 6, seed: 0, size: 64 } });
        const items = data.index.items.slice(0, 5);
        const t = transformFor(model.config);
        expect(transformKey(t)).toBe('reference-code-64px-mean0.485,0.456,0.406-std0.229,0.224,0.225');
        const cacheDir = path.join(dir, `cache-${tf.getBackend()}`);
        const opts = { model, encoder: info, items, dataset: data.identity, transform: t, kind: 'avgpool' as const, batchSize: 2, cacheDir, imageCacheDir: cacheDir, progress: false };
        const a = await extractFeatures(opts);
        expect([a.cached, a.computed, a.dim]).toEqual([0, 5, featureDim(model, 'avgpool')]);
        const b = await extractFeatures(opts);
        expect([b.cached, b.computed]).toEqual([5, 0]);
        expect(b.features.map((r) => Array.from(r))).toEqual(a.features.map((r) => Array.from(r)));
        // direct: the images through the image cache, one forward pass
        const imgs = await loadImages(items, t, { cacheDir, dataset: data.identity });
        const x = toInputTensor(imgs, t);
        model.img_model.encoder.eval();
        const pyr = model.img_model.encoder.forward(x);
        const direct = tf.mean(pyr[pyr.length - 1]!, [1, 2]);
        expectArraysClose(direct, a.features.flatMap((r) => Array.from(r)), { rtol, atol });
        [x, direct, ...pyr.slice(1)].forEach((q) => q.dispose());
        const e = await extractFeatures({ ...opts, kind: 'embedding' });
        expect([e.computed, e.dim]).toEqual([5, 16]);
        const norms = e.features.map((r) => Math.hypot(...Array.from(r)));
        norms.forEach((n) => expect(n).toBeCloseTo(1, 4));
      } finally {
        model.dispose();
      }
    });
  },
  { only: ['tensorflow', 'cpu'] },
);
