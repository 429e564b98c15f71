/**
 * saveModel / autoFromPretrained (@g2d-ts/nn) with the vision models registered: our
 * safetensors + config.json format, the Hugging Face cache layout (offline), smp and timm hub
 * configs, clear errors.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '@g2d-ts/core';
import { expectArraysClose, mockHubFetch, withoutDebugLog } from '@g2d-ts/core/testing';
import { autoFromPretrained, saveModel } from '@g2d-ts/nn';
import * as vision from '../src';
import { G2DVisionModel, ResNet, Unet, type VisionModel } from '../src';

const TINY = { block: 'bottleneck', layers: [1, 1, 1, 1], widths: [2, 2, 4, 4], stemWidth: 4 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-pretrained-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sameOutputs(a: tf.Tensor | tf.Tensor[], b: tf.Tensor | tf.Tensor[]) {
  const A = Array.isArray(a) ? a : [a];
  const B = Array.isArray(b) ? b : [b];
  A.forEach((t, i) => expectArraysClose(B[i]!, t, { rtol: 0, atol: 0 }));
  tf.dispose([...A, ...B]);
}

const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
afterAll(() => x.dispose());

describe('saveModel / autoFromPretrained', () => {
  it('round-trips a Unet and a G2DVisionModel (weights in PyTorch layout, JSON config)', async () => {
    const unet = new Unet({ encoder: 'tiny', encoderConfig: TINY, decoderChannels: [8, 4, 4, 4, 4], classes: 2, seed: 3 });
    const g2d = new G2DVisionModel({ backbone: 'tiny', encoderConfig: TINY, imageSize: 64, projHidden: 8, projOut: 8, decoderChannels: [8, 4, 4, 4, 4], seed: 4 });
    for (const [m, name] of [[unet, 'unet'], [g2d, 'g2d']] as [VisionModel, string][]) {
      m.eval();
      const dir = path.join(tmp, name);
      await saveModel(m, dir, { note: 'test' });
      const { metadata, tensors } = await readSafetensors(path.join(dir, 'model.safetensors'));
      expect(metadata).toMatchObject({ format: 'pt', note: 'test' });
      if (name === 'unet') expect(tensors.get('encoder.conv1.weight')!.shape).toEqual([4, 3, 7, 7]); // OIHW
      const back = await autoFromPretrained(dir);
      expect(back.constructor).toBe(m.constructor);
      back.eval();
      if (m instanceof Unet) sameOutputs(m.forward(x), (back as Unet).forward(x));
      else {
        const o1 = (m as G2DVisionModel).forward(x);
        const o2 = (back as G2DVisionModel).forward(x);
        sameOutputs([o1.pooled, o1.attnMap, o1.logits!], [o2.pooled, o2.attnMap, o2.logits!]);
        tf.dispose([...o1.pyramid, o1.projImgEmb, ...o2.pyramid, o2.projImgEmb]);
      }
      back.dispose();
    }
    unet.dispose();
    g2d.dispose();
  });

  it('resolves hub ids through the Hugging Face cache layout, offline', async () => {
    const cache = path.join(tmp, 'hf');
    const commit = 'a'.repeat(40);
    const repo = path.join(cache, 'models--g2d-org--tiny-resnet');
    const net = new ResNet('tiny', TINY as never, { seed: 5 });
    net.eval();
    await saveModel(net, path.join(repo, 'snapshots', commit));
    fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'refs', 'main'), commit);
    for (const revision of [undefined, commit]) {
      const m = (await autoFromPretrained('g2d-org/tiny-resnet', { cacheDir: cache, offline: true, revision })) as ResNet;
      m.eval();
      sameOutputs(net.forward(x), m.forward(x));
      m.dispose();
    }
    // HF_HUB_CACHE is honoured too
    process.env.HF_HUB_CACHE = cache;
    try {
      const m = await autoFromPretrained('g2d-org/tiny-resnet', { offline: true });
      m.dispose();
    } finally {
      delete process.env.HF_HUB_CACHE;
    }
    await expect(autoFromPretrained('g2d-org/not-there', { cacheDir: cache, offline: true })).rejects.toThrow(
      /g2d-org\/not-there: model not available offline: nothing cached at .*models--g2d-org--not-there for revision "main"/,
    );
    await expect(autoFromPretrained(path.join(tmp, 'no/such/dir'))).rejects.toThrow(/no such file or directory, and not a Hugging Face model id/);
    net.dispose();
  });

  it('uses the core resolver: a lone checkpoint in a directory or snapshot (architecture from its keys), clear missing-weights errors', async () => {
    const net = new ResNet('tiny', TINY as never, { seed: 6 });
    net.eval();
    const bare = path.join(tmp, 'bare');
    fs.mkdirSync(bare);
    await writeSafetensors(path.join(bare, 'resnet_epoch3.safetensors'), net.stateDict());
    const m = (await autoFromPretrained(bare)) as ResNet;
    m.eval();
    sameOutputs(net.forward(x), m.forward(x));
    m.dispose();
    // the same file as a cached snapshot with no config.json
    const cache = path.join(tmp, 'hf-bare');
    const repo = path.join(cache, 'models--g2d-org--bare');
    fs.mkdirSync(path.join(repo, 'snapshots', 'b'.repeat(40)), { recursive: true });
    fs.mkdirSync(path.join(repo, 'refs'));
    fs.writeFileSync(path.join(repo, 'refs', 'v1'), 'b'.repeat(40));
    fs.copyFileSync(path.join(bare, 'resnet_epoch3.safetensors'), path.join(repo, 'snapshots', 'b'.repeat(40), 'resnet_epoch3.safetensors'));
    const c = await autoFromPretrained('g2d-org/bare', { cacheDir: cache, revision: 'v1', offline: true });
    c.dispose();
    // hub resolution is @g2d-ts/core's alone: vision has no shims of its own
    for (const name of ['resolvePretrained', 'findCachedSnapshot', 'hfCacheDir', 'fromPretrained', 'saveModel', 'Module', 'loadWeights']) expect(name in vision).toBe(false);
    // two candidate checkpoints are ambiguous; none at all is named
    await writeSafetensors(path.join(bare, 'resnet_epoch4.safetensors'), net.stateDict());
    await expect(autoFromPretrained(bare)).rejects.toThrow(`${bare}: not a complete model directory: missing one of model.safetensors / pytorch_model.bin / model.pth / model.pt`);
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'config.json'), '{}');
    await expect(autoFromPretrained(empty)).rejects.toThrow(/empty: not a complete model directory: missing one of model\.safetensors/);
    net.dispose();
  });

  it('reads smp hub (config.json with _model_class) and timm hub (architecture) directories', async () => {
    const unet = new Unet({ encoder: 'resnet18', decoderChannels: [32, 16, 8, 8, 4], seed: 6 });
    unet.eval();
    const dir = path.join(tmp, 'smp');
    fs.mkdirSync(dir);
    await writeSafetensors(path.join(dir, 'model.safetensors'), unet.stateDict());
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ _model_class: 'Unet', encoder_name: 'resnet18', encoder_depth: 5, encoder_weights: null, decoder_channels: [32, 16, 8, 8, 4], decoder_use_batchnorm: true, decoder_attention_type: null, in_channels: 3, classes: 1, activation: null }),
    );
    const back = (await autoFromPretrained(dir)) as Unet;
    back.eval();
    const xs = tf.slice(x, [0, 0, 0, 0], [1, 32, 32, 3]) as tf.Tensor4D;
    sameOutputs(unet.forward(xs), back.forward(xs));

    const timm = path.join(tmp, 'timm');
    fs.mkdirSync(timm);
    const enc = unet.encoder.stateDict();
    enc.set('fc.weight', { dtype: 'float32', shape: [5, 512], data: new Float32Array(5 * 512) });
    enc.set('fc.bias', { dtype: 'float32', shape: [5], data: new Float32Array(5) });
    await writeSafetensors(path.join(timm, 'model.safetensors'), enc);
    fs.writeFileSync(path.join(timm, 'config.json'), JSON.stringify({ architecture: 'resnet18', num_classes: 5 }));
    const r = (await autoFromPretrained(timm)) as ResNet;
    r.eval();
    sameOutputs(unet.encoder.forward(xs), r.forward(xs));
    fs.writeFileSync(path.join(timm, 'config.json'), '{ nope');
    await expect(autoFromPretrained(timm)).rejects.toThrow(/timm\/config\.json: invalid JSON/);
    fs.writeFileSync(path.join(timm, 'config.json'), JSON.stringify({ architecture: 'convnext_tiny' }));
    await expect(autoFromPretrained(timm)).rejects.toThrow(/timm architecture "convnext_tiny" is not supported; supported: resnet18/);
    xs.dispose();
    [unet, back, r].forEach((m) => m.dispose());
  });
});

describe('autoFromPretrained downloads through @huggingface/hub (mock hub)', () => {
  it('downloads config + weights into the HF cache layout, then works offline from the cache', async () => {
    const src = path.join(tmp, 'hubsrc');
    const net = new ResNet('tiny', TINY as never, { seed: 8 });
    net.eval();
    await saveModel(net, src);
    const files: Record<string, Buffer> = {
      'config.json': fs.readFileSync(path.join(src, 'config.json')),
      'model.safetensors': fs.readFileSync(path.join(src, 'model.safetensors')),
    };
    const commit = 'c'.repeat(40);
    const hub = mockHubFetch('g2d-org/hubnet', files, commit);
    const cache = path.join(tmp, 'hf-download');
    const m = (await withoutDebugLog(() => autoFromPretrained('g2d-org/hubnet', { cacheDir: cache, offline: false, hubUrl: 'https://hub.test', fetch: hub.fetch }))) as VisionModel;
    expect(hub.requests.some((r) => r.method === 'POST' && r.url.startsWith('https://hub.test/api/models/g2d-org/hubnet/paths-info/main'))).toBe(true);
    expect(fs.readFileSync(path.join(cache, 'models--g2d-org--hubnet', 'refs', 'main'), 'utf8')).toBe(commit);
    expect(fs.existsSync(path.join(cache, 'models--g2d-org--hubnet', 'snapshots', commit, 'model.safetensors'))).toBe(true);
    m.eval();
    sameOutputs(net.forward(x), (m as ResNet).forward(x));
    // second time: offline, straight from the cache (no requests)
    const n = hub.requests.length;
    const again = await autoFromPretrained('g2d-org/hubnet', { cacheDir: cache, offline: true });
    expect(hub.requests.length).toBe(n);
    [net, m, again].forEach((q) => q.dispose());
    // a network failure names the repo and suggests offline mode
    const failing = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(autoFromPretrained('g2d-org/other', { cacheDir: cache, offline: false, fetch: failing })).rejects.toThrow(
      /g2d-org\/other: could not download config\.json from the Hugging Face Hub \(fetch failed\); it is not in the cache at .*models--g2d-org--other either\. .*HF_HUB_OFFLINE=1/,
    );
  });
});
