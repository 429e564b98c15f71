/** Run configs: ours (every shipped file), the reference's own config.yaml keys, --set overrides, errors naming keys. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPretrainConfig, parseSets } from '../src/config';
import { runModelConfig } from '../src/run';

const CONFIGS = path.join(__dirname, '..', 'configs');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-pretrain-cfg-'));

// the reference repository's PRETRAIN/config.yaml, keys and values as published
const REFERENCE_YAML = `network:
  decoder: 'yes'
  img_model: resnet50
  img_size: 256
  att_pool_head: 4
  unet_out_channel: 1
  text_model: emilyalsentzer/Bio_ClinicalBERT
  free_layers: 9 # set 12 to freeze all layer in bert
  feature_dim: 768
  projection_head:
    mlp_hidden_size: 128
    projection_size: 128
img_path: 'your.npy'
text_path: 'your.csv'
trainer:
  crop_img_size: 256
  decoder: 'yes'
  merge_threshold: 'quantil'
  quantil: 0.85
  num_pseudo_map: 1
  batch_size: 64
  max_epochs: 51
  lr: 2.0e-5
  num_workers: 8
  test_interval: 2
optimizer:
  params:
    lr: 2.0e-5
    weight_decay: 1.0e-8
wandb_name: 'your_name'
`;

describe('pretraining configs', () => {
  it('every shipped config validates and resolves its model', () => {
    for (const f of fs.readdirSync(CONFIGS).filter((x) => x.endsWith('.yaml'))) {
      const { config } = loadPretrainConfig(path.join(CONFIGS, f));
      const mc = runModelConfig(config);
      expect(mc.imageSize % 32).toBe(0);
    }
    const demo = loadPretrainConfig(path.join(CONFIGS, 'demo.yaml')).config;
    expect(demo.model).toBe('g2d-resnet18-tiny');
    expect(runModelConfig(demo).loss.vlaOnlySteps).toBeLessThan(200);
    const ref = loadPretrainConfig(path.join(CONFIGS, 'reference.yaml')).config;
    expect(ref.train).toMatchObject({ batchSize: 64, lr: 2e-5, weightDecay: 1e-8, epochs: 52, scheduler: { kind: 'cosine-warm-restarts', T0: 200, etaMin: 1e-8 } });
    expect(runModelConfig(ref)).toMatchObject({ backbone: 'resnet50', imageSize: 256, recipe: 'reference-code', loss: { vlaOnlySteps: 200, symmetric: true, variant: 'code' }, pseudoMask: { mode: 'code', quantile: 0.85 } });
    expect(runModelConfig(loadPretrainConfig(path.join(CONFIGS, 'paper.yaml')).config)).toMatchObject({ recipe: 'paper', loss: { symmetric: false, variant: 'paper' }, pseudoMask: { mode: 'paper' } });
  });

  it("loads the reference's own config.yaml keys", () => {
    const f = path.join(tmp(), 'config.yaml');
    fs.writeFileSync(f, REFERENCE_YAML);
    const { config } = loadPretrainConfig(f);
    expect(config.train).toMatchObject({ batchSize: 64, epochs: 52, lr: 2e-5, weightDecay: 1e-8 });
    expect(config.data.dataset).toBe('synthetic'); // img_path 'your.npy' is the placeholder
    const mc = runModelConfig(config);
    expect(mc).toMatchObject({ backbone: 'resnet50', imageSize: 256, attentionHeads: 4, projection: { hidden: 128, out: 128 }, text: { freezeLayers: 9 }, pseudoMask: { threshold: 'quantile', quantile: 0.85, numMaps: 1 } });
    // a real img_path/text_path pair becomes the reference's .npy + .csv dataset
    fs.writeFileSync(f, REFERENCE_YAML.replace("'your.npy'", 'mimic.npy').replace("'your.csv'", 'mimic.csv'));
    expect(loadPretrainConfig(f).config.data.dataset).toBe(`mimic-npy:${path.join(path.dirname(f), 'mimic.npy')},${path.join(path.dirname(f), 'mimic.csv')}`);
  });

  it('--set overrides parse YAML values; bad keys are errors naming them', () => {
    expect(parseSets(['train.lr=1e-3', 'data.augment=none', 'train.betas=[0.9, 0.98]'])).toEqual({ 'train.lr': 1e-3, 'data.augment': 'none', 'train.betas': [0.9, 0.98] });
    const demo = path.join(CONFIGS, 'demo.yaml');
    expect(loadPretrainConfig(demo, ['train.epochs=2']).config.train.epochs).toBe(2);
    expect(() => loadPretrainConfig(demo, ['train.epoch=2'])).toThrow(/epoch/);
    expect(() => loadPretrainConfig(demo, ['train.lr=-1'])).toThrow(/train\.lr/);
    expect(() => parseSets(['noequals'])).toThrow(/key=value/);
    // per-prefix learning-rate multipliers (none by default; the optimizer checks the prefixes against the model)
    expect(loadPretrainConfig(demo).config.train.lrScale).toEqual({});
    expect(loadPretrainConfig(demo, ['train.lrScale.attnpool=10']).config.train.lrScale).toEqual({ attnpool: 10 });
    expect(() => loadPretrainConfig(demo, ['train.lrScale.attnpool=-1'])).toThrow(/lrScale/);
    const f = path.join(tmp(), 'bad.yaml');
    fs.writeFileSync(f, 'network: {decoder: "no"}\ntrainer: {}\n');
    expect(() => loadPretrainConfig(f)).toThrow(/decoder/);
  });
});
