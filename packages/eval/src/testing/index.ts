/**
 * Test helpers for evaluation code (`@g2d-ts/eval/testing`): a micro G2D model (64² input, a
 * few-channel ResNet, a 1-layer 16-wide BERT on a tiny word-level vocabulary) saved as our
 * checkpoint folder, so tests exercise the real checkpoint path in seconds and never depend on
 * runs/pretrain-demo or the shared data.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runCli, type CliSpec } from '@g2d-ts/core';
import { captureCli, testBackends, type CapturedRun } from '@g2d-ts/core/testing';
import { createModel, saveG2DModel, type G2DModel } from '@g2d-ts/model';

const WORDS = (
  'no there is a an the of in at with and or to for be seen are normal clear lung lungs heart size enlarged cardiomegaly ' +
  'pleural effusion effusions pneumothorax opacity opacities consolidation pneumonia airspace focal nodule nodules mass edema ' +
  'pulmonary atelectasis tube tubes line lines catheter pacemaker leads support devices device small large moderate left right ' +
  'lower upper lobe base bases apex apical silhouette cardiac contours within limits evidence acute process cardiopulmonary . , -'
).split(' ');

/** Writes a word-level vocab.txt (BERT special tokens first) into `dir`; returns its path and size. */
export function writeMicroVocab(dir: string): { file: string; size: number } {
  fs.mkdirSync(dir, { recursive: true });
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS];
  const file = path.join(dir, 'vocab.txt');
  fs.writeFileSync(file, tokens.join('\n') + '\n');
  return { file, size: tokens.length };
}

/** The micro model's config (merged over g2d-resnet18-tiny). */
export function microConfig(vocabFile: string, vocabSize: number): Record<string, unknown> {
  return {
    base: 'g2d-resnet18-tiny',
    name: 'g2d-micro-test',
    imageSize: 64,
    encoderConfig: { block: 'basic', layers: [1, 1, 1, 1], widths: [8, 8, 16, 16], stemWidth: 8 },
    decoderChannels: [16, 8, 8, 8, 8],
    projection: { hidden: 16, out: 16 },
    attentionHeads: 4,
    text: { vocab: vocabFile, vocabSize, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 64, freezeLayers: 0, maxLength: 48 },
  };
}

/** A micro model with random weights (seeded). */
export function createMicroModel(dir: string, seed = 0): G2DModel {
  const v = writeMicroVocab(dir);
  return createModel(microConfig(v.file, v.size) as never, { seed });
}

/** Saves a micro model to `<dir>/final` (model.safetensors + config.json) and returns that folder. */
export async function saveMicroModel(dir: string, seed = 0): Promise<string> {
  const model = createMicroModel(dir, seed);
  const out = path.join(dir, 'final');
  try {
    await saveG2DModel(model, out);
  } finally {
    model.dispose();
  }
  return out;
}

/** An evaluation bin run in-process from a test (`run(argv, cwd)`), its stdout and stderr captured. */
export function cliRunner(spec: CliSpec): (argv: string[], cwd: string) => Promise<CapturedRun> {
  return (argv, cwd) => captureCli((io) => runCli(spec, argv, { ...io, cwd }));
}

/** What `microModelFixture` gives the tests (set before they run). */
export interface MicroModelFixture {
  /** the temporary folder */
  dir: string;
  /** the saved micro model's `final/` folder (`--encoder`) */
  encoder: string;
}

/**
 * An app test's temporary folder with a saved micro model: call it inside the test file's
 * `describe`; before the tests it makes `<tmp>/<prefix>XXXXXX` and saves the model under
 * `model/` (with `native`: after switching to the tensorflow backend when it loads, else cpu);
 * after the tests the folder is removed.
 */
export function microModelFixture(prefix: string, opts: { native?: boolean; seed?: number } = {}): MicroModelFixture {
  const fx: MicroModelFixture = { dir: '', encoder: '' };
  beforeAll(async () => {
    if (opts.native) await tf.setBackend(testBackends().includes('tensorflow') ? 'tensorflow' : 'cpu');
    fx.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fx.encoder = await saveMicroModel(path.join(fx.dir, 'model'), opts.seed);
  });
  afterAll(() => {
    if (fx.dir) fs.rmSync(fx.dir, { recursive: true, force: true });
  });
  return fx;
}
