/**
 * BERT encoder in TensorFlow.js with Hugging Face `BertModel` semantics (transformers 4.36):
 * embeddings (word + token type + absolute position) -> LayerNorm -> dropout; post-LN encoder
 * layers (self-attention with the extended attention mask `(1 - mask) * finfo(float32).min`,
 * residual + LayerNorm, feed-forward with exact erf GELU, residual + LayerNorm); pooler =
 * tanh(dense(hidden[:, 0])). Weights are tf.Variables named and shaped as in PyTorch (Linear
 * weights [out, in]), so Hugging Face checkpoints load without reshuffling.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, Rng, readCheckpoint, resolvePretrained, toFloat32, type PretrainedOptions, type RawTensor } from '@g2d-ts/core';
import { bertConfig, readBertConfig, type BertConfig } from './config';

/** float32 finfo.min, what transformers 4.36 puts on masked attention logits. */
export const MASK_MIN = -3.4028234663852886e38;

export type IdsInput = tf.Tensor2D | number[][];

export interface BertInputs {
  /** [B, L] token ids. */
  inputIds: IdsInput;
  /** [B, L] 1 for tokens, 0 for padding (default: all ones). */
  attentionMask?: IdsInput;
  /** [B, L] segment ids (default: zeros). */
  tokenTypeIds?: IdsInput;
}

export interface BertOutput {
  /** [B, L, hidden] */
  lastHiddenState: tf.Tensor3D;
  /** [B, hidden] tanh(dense(hidden[:, 0])); absent when the model has no pooler. */
  pooledOutput: tf.Tensor2D | null;
}

export interface BertModelOptions {
  /** Seed of the random initialisation (normal(0, initializer_range), as transformers). */
  seed?: number;
  /** Build the pooler (default true). */
  addPoolingLayer?: boolean;
  /** 'random' (default; transformers' init) or 'zeros' (weights about to be loaded). */
  init?: 'random' | 'zeros';
}

/** Parameter names and shapes of a BertModel with this config (PyTorch layout). */
export function bertParameterShapes(c: BertConfig, addPoolingLayer = true): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const m = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [c.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `encoder.layer.${i}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      m.set(`${p}${n}.weight`, [H, H]);
      m.set(`${p}${n}.bias`, [H]);
    }
    m.set(`${p}attention.output.LayerNorm.weight`, [H]);
    m.set(`${p}attention.output.LayerNorm.bias`, [H]);
    m.set(`${p}intermediate.dense.weight`, [I, H]);
    m.set(`${p}intermediate.dense.bias`, [I]);
    m.set(`${p}output.dense.weight`, [H, I]);
    m.set(`${p}output.dense.bias`, [H]);
    m.set(`${p}output.LayerNorm.weight`, [H]);
    m.set(`${p}output.LayerNorm.bias`, [H]);
  }
  if (addPoolingLayer) {
    m.set('pooler.dense.weight', [H, H]);
    m.set('pooler.dense.bias', [H]);
  }
  return m;
}

/** x [..., in] @ W[out, in]^T + b */
function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1]!;
  const x2 = x.reshape([-1, inDim]);
  const y = tf.add(tf.matMul(x2, w, false, true), b);
  return y.reshape([...shape.slice(0, -1), w.shape[0]!]);
}

/**
 * Embedding lookup table[ids]. Its gradient normally needs the UnsortedSegmentSum kernel,
 * which the wasm backend lacks; there the table gradient is a scatter-add (ScatterNd).
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend())) return tf.gather(table, ids);
  const [V, H] = table.shape;
  const flat = ids.reshape([-1]);
  const f = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flat]);
    return {
      value: tf.gather(t as tf.Tensor2D, flat),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.scatterND(saved[0]!.reshape([-1, 1]), dy as tf.Tensor2D, [V, H]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f(table) as tf.Tensor).reshape([...ids.shape, H]);
}

function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), w), b);
}

export function activation(name: BertConfig['hiddenAct'], x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    case 'relu':
      return tf.relu(x);
    case 'silu':
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'tanh':
      return tf.tanh(x);
  }
}

function toIntTensor(x: IdsInput, what: string): tf.Tensor2D {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new G2DError(`${what} must be rank 2 [batch, length], got shape [${x.shape.join(', ')}]`);
    return (x.dtype === 'int32' ? x : tf.cast(x, 'int32')) as tf.Tensor2D;
  }
  if (!Array.isArray(x) || x.length === 0 || !Array.isArray(x[0])) throw new G2DError(`${what} must be a non-empty [batch][length] array`);
  const L = x[0]!.length;
  x.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== L) throw new G2DError(`${what} row ${i} has length ${Array.isArray(row) ? row.length : 'none'}, expected ${L}`);
  });
  return tf.tensor2d(x.flat(), [x.length, L], 'int32');
}

function checkRange(t: tf.Tensor, hi: number, what: string, key: string): void {
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!(v >= 0 && v < hi)) {
      const L = t.shape[1]!;
      throw new G2DError(`${what} has ${v} at [${Math.floor(i / L)}, ${i % L}], outside [0, ${hi - 1}] (${key} = ${hi})`);
    }
  }
}

export class BertModel {
  readonly config: BertConfig;
  /** Parameters by Hugging Face name (PyTorch layout). */
  readonly params = new Map<string, tf.Variable>();
  readonly hasPooler: boolean;
  private frozen = 0;

  constructor(config: Partial<BertConfig> = {}, opts: BertModelOptions = {}) {
    this.config = bertConfig(config);
    this.hasPooler = opts.addPoolingLayer ?? true;
    this.seed = opts.seed ?? 0;
    const random = (opts.init ?? 'random') === 'random';
    for (const [name, shape] of bertParameterShapes(this.config, this.hasPooler)) {
      const init = random ? this.initialValue(name, shape) : tf.zeros(shape);
      this.params.set(name, tf.variable(init, true));
      init.dispose();
    }
  }

  private readonly seed: number;

  /** transformers' init: normal(0, initializer_range), zero biases (and padding row), LayerNorm 1/0. */
  private initialValue(name: string, shape: number[]): tf.Tensor {
    return tf.tidy(() => {
      if (name.endsWith('LayerNorm.weight')) return tf.ones(shape);
      if (name.endsWith('.bias')) return tf.zeros(shape);
      let w = tf.randomNormal(shape, 0, this.config.initializerRange, 'float32', new Rng(this.seed).fork(name).tfSeed());
      if (name === 'embeddings.word_embeddings.weight') {
        // the padding_idx row starts at zero, as nn.Embedding(padding_idx=pad_token_id)
        const keep = tf.oneHot(tf.tensor1d([this.config.padTokenId], 'int32'), shape[0]!).sum(0).reshape([-1, 1]);
        w = tf.mul(w, tf.sub(1, keep));
      }
      return w;
    });
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new G2DError(`BertModel has no parameter "${name}"`);
    return v;
  }

  /**
   * Load a Hugging Face BERT: a directory with config.json + model.safetensors or
   * pytorch_model.bin (sharded `*.index.json` too), or a hub id ("emilyalsentzer/Bio_ClinicalBERT")
   * found in the Hugging Face cache or, when online, downloaded into it.
   */
  static async fromPretrained(pathOrHubId: string, opts: FromPretrainedOptions = {}): Promise<BertModel> {
    const r = await resolvePretrained(pathOrHubId, [{ anyOf: ['config.json'] }, { anyOf: WEIGHT_FILES }], opts);
    const config = readBertConfig(r.files.get('config.json')!, opts.config);
    const weightsFile = r.files.get(WEIGHT_FILES[0]!)!;
    const tensors = await readWeights(pathOrHubId, weightsFile, opts);
    const model = new BertModel(config, { addPoolingLayer: opts.addPoolingLayer, seed: opts.seed, init: 'zeros' });
    try {
      model.lastLoad = model.loadStateDict(tensors, { source: weightsFile, prefix: opts.prefix });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /** What the last loadStateDict/fromPretrained loaded, ignored and left initialised. */
  lastLoad: LoadReport | null = null;

  /** Number of parameters. */
  get numParameters(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /**
   * Freeze the first `n` encoder layers (their variables become non-trainable); the
   * embeddings, the later layers and the pooler stay trainable. The G2D recipe freezes 9 of 12.
   */
  freezeLayers(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.config.numHiddenLayers) {
      throw new G2DError(`freezeLayers(${n}): must be an integer in [0, ${this.config.numHiddenLayers}] (num_hidden_layers)`);
    }
    this.frozen = n;
    for (const [name, v] of this.params) {
      const m = /^encoder\.layer\.(\d+)\./.exec(name);
      v.trainable = !(m && Number(m[1]) < n);
    }
  }

  get frozenLayers(): number {
    return this.frozen;
  }

  /** The variables an optimizer should update (respects freezeLayers). */
  trainableVariables(): tf.Variable[] {
    return [...this.params.values()].filter((v) => v.trainable);
  }

  /** Variables by name ({name: variable}), e.g. for tf optimizers' varList or saving. */
  namedVariables(): Record<string, tf.Variable> {
    return Object.fromEntries(this.params);
  }

  /**
   * Forward pass. Inputs are int ids [B, L] (tensors or nested arrays); `training` turns on
   * dropout (`seed` makes it repeatable). Ids are range-checked on the host first unless
   * `validate: false`. Returns new tensors (the caller disposes them).
   */
  apply(inputs: BertInputs, opts: { training?: boolean; seed?: number; validate?: boolean } = {}): BertOutput {
    const c = this.config;
    const training = opts.training ?? false;
    const [last, pooled] = tf.tidy(() => {
      const ids = toIntTensor(inputs.inputIds, 'inputIds');
      const [B, L] = ids.shape;
      if (L > c.maxPositionEmbeddings) {
        throw new G2DError(`sequence length ${L} exceeds max_position_embeddings ${c.maxPositionEmbeddings}; truncate the text (tokenizer maxLength)`);
      }
      const validate = opts.validate ?? true; // reads ids back to the host: skip in hot loops on GPUs
      if (validate) checkRange(ids, c.vocabSize, 'inputIds', 'vocab_size');
      const mask = inputs.attentionMask !== undefined ? toIntTensor(inputs.attentionMask, 'attentionMask') : tf.ones([B, L], 'int32');
      const tt = inputs.tokenTypeIds !== undefined ? toIntTensor(inputs.tokenTypeIds, 'tokenTypeIds') : tf.zeros([B, L], 'int32');
      for (const [t, name] of [
        [mask, 'attentionMask'],
        [tt, 'tokenTypeIds'],
      ] as const) {
        if (t.shape[0] !== B || t.shape[1] !== L) throw new G2DError(`${name} has shape [${t.shape.join(', ')}], inputIds [${B}, ${L}]`);
      }
      if (validate) checkRange(tt, c.typeVocabSize, 'tokenTypeIds', 'type_vocab_size');
      const dropout = (x: tf.Tensor, rate: number, salt: number): tf.Tensor =>
        training && rate > 0 ? tf.dropout(x, rate, undefined, opts.seed !== undefined ? opts.seed * 1000 + salt : undefined) : x;

      // embeddings: inputs_embeds + token_type_embeddings, then + position_embeddings
      const wordEmb = embeddingLookup(this.p('embeddings.word_embeddings.weight') as tf.Tensor2D, ids);
      const typeEmb = embeddingLookup(this.p('embeddings.token_type_embeddings.weight') as tf.Tensor2D, tt);
      const posEmb = embeddingLookup(this.p('embeddings.position_embeddings.weight') as tf.Tensor2D, tf.range(0, L, 1, 'int32'));
      let h = tf.add(tf.add(wordEmb, typeEmb), posEmb);
      h = layerNorm(h, this.p('embeddings.LayerNorm.weight'), this.p('embeddings.LayerNorm.bias'), c.layerNormEps);
      h = dropout(h, c.hiddenDropoutProb, 0);

      // extended attention mask [B, 1, 1, L]
      const ext = tf.mul(tf.sub(1, tf.cast(mask, 'float32')), MASK_MIN).reshape([B, 1, 1, L]);
      const nh = c.numAttentionHeads;
      const dh = c.hiddenSize / nh;
      const scale = Math.sqrt(dh);
      const heads = (x: tf.Tensor): tf.Tensor => x.reshape([B, L, nh, dh]).transpose([0, 2, 1, 3]);

      for (let i = 0; i < c.numHiddenLayers; i++) {
        const p = (n: string) => this.p(`encoder.layer.${i}.${n}`);
        const q = heads(linear(h, p('attention.self.query.weight'), p('attention.self.query.bias')));
        const k = heads(linear(h, p('attention.self.key.weight'), p('attention.self.key.bias')));
        const v = heads(linear(h, p('attention.self.value.weight'), p('attention.self.value.bias')));
        const scores = tf.add(tf.div(tf.matMul(q, k, false, true), scale), ext);
        const probs = dropout(tf.softmax(scores, -1), c.attentionProbsDropoutProb, 10 + 3 * i);
        const ctx = tf.matMul(probs, v).transpose([0, 2, 1, 3]).reshape([B, L, c.hiddenSize]);
        let a = linear(ctx, p('attention.output.dense.weight'), p('attention.output.dense.bias'));
        a = dropout(a, c.hiddenDropoutProb, 11 + 3 * i);
        a = layerNorm(tf.add(a, h), p('attention.output.LayerNorm.weight'), p('attention.output.LayerNorm.bias'), c.layerNormEps);
        const inter = activation(c.hiddenAct, linear(a, p('intermediate.dense.weight'), p('intermediate.dense.bias')));
        let o = linear(inter, p('output.dense.weight'), p('output.dense.bias'));
        o = dropout(o, c.hiddenDropoutProb, 12 + 3 * i);
        h = layerNorm(tf.add(o, a), p('output.LayerNorm.weight'), p('output.LayerNorm.bias'), c.layerNormEps);
      }
      const last = h as tf.Tensor3D;
      let pooled: tf.Tensor2D | null = null;
      if (this.hasPooler) {
        const first = last.slice([0, 0, 0], [B, 1, c.hiddenSize]).reshape([B, c.hiddenSize]);
        pooled = tf.tanh(linear(first, this.p('pooler.dense.weight'), this.p('pooler.dense.bias'))) as tf.Tensor2D;
      }
      return pooled ? [last, pooled] : [last];
    }) as [tf.Tensor3D, tf.Tensor2D?];
    return { lastHiddenState: last, pooledOutput: pooled ?? null };
  }

  /**
   * Copy a Hugging Face state dict (BertModel, or BertFor*: a `bert.` prefix is found and the
   * heads are ignored) into this model. Every key that does not fit the config is reported in
   * one G2DError: missing, unexpected and wrong-shaped parameters, each listed by name.
   */
  loadStateDict(tensors: Map<string, RawTensor>, opts: { source?: string; prefix?: string } = {}): LoadReport {
    const source = opts.source ?? 'state dict';
    const expected = bertParameterShapes(this.config, this.hasPooler);
    const { mapped, ignored } = mapHfKeys(tensors, opts.prefix, source);
    const missing: string[] = [];
    const mismatched: string[] = [];
    const unexpected: string[] = [];
    const initialized: string[] = [];
    for (const [name, shape] of expected) {
      const t = mapped.get(name);
      if (!t) {
        // transformers initialises a missing pooler and warns; do the same (reported)
        if (name.startsWith('pooler.')) initialized.push(name);
        else missing.push(name);
      } else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        mismatched.push(`${t.key} [${t.shape.join(', ')}] (expected [${shape.join(', ')}])`);
      } else if (!['float32', 'float16', 'bfloat16', 'float64'].includes(t.tensor.dtype)) {
        mismatched.push(`${t.key} has dtype ${t.tensor.dtype} (expected a float type)`);
      }
    }
    for (const [name, t] of mapped) if (!expected.has(name)) unexpected.push(t.key);
    if (missing.length || mismatched.length || unexpected.length) {
      const c = this.config;
      const parts = [
        missing.length ? `missing ${missing.length} key(s): ${missing.join(', ')}` : '',
        unexpected.length ? `unexpected ${unexpected.length} key(s): ${unexpected.join(', ')}` : '',
        mismatched.length ? `${mismatched.length} key(s) with the wrong shape: ${mismatched.join('; ')}` : '',
      ].filter(Boolean);
      throw new G2DError(
        `checkpoint does not fit the BERT config (vocab_size ${c.vocabSize}, hidden_size ${c.hiddenSize}, num_hidden_layers ${c.numHiddenLayers}, ` +
          `intermediate_size ${c.intermediateSize}, max_position_embeddings ${c.maxPositionEmbeddings}, type_vocab_size ${c.typeVocabSize}): ${parts.join('; ')}`,
        { source },
      );
    }
    for (const name of initialized) {
      const init = this.initialValue(name, expected.get(name)!);
      this.params.get(name)!.assign(init);
      init.dispose();
    }
    const loaded: string[] = [];
    for (const [name, t] of mapped) {
      const v = this.params.get(name)!;
      const data = toFloat32(t.tensor);
      tf.tidy(() => v.assign(tf.tensor(data, t.shape, 'float32')));
      loaded.push(name);
    }
    this.lastLoad = { loaded, ignored, initialized };
    return this.lastLoad;
  }

  /** Parameters as a Hugging Face BertModel state dict (float32). */
  stateDict(): Map<string, RawTensor> {
    const out = new Map<string, RawTensor>();
    for (const [name, v] of this.params) out.set(name, { dtype: 'float32', shape: [...v.shape], data: v.dataSync() as Float32Array });
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

export interface LoadReport {
  /** Parameters set from the checkpoint. */
  loaded: string[];
  /** Checkpoint keys that are not part of a BertModel (pre-training heads, buffers, other modules). */
  ignored: string[];
  /** Parameters missing from the checkpoint that keep their random init (only the pooler, as transformers does). */
  initialized: string[];
}

const BERT_ROOTS = ['embeddings.', 'encoder.', 'pooler.'];
const BUFFERS = new Set(['embeddings.position_ids', 'embeddings.token_type_ids']);

/**
 * Map checkpoint keys to BertModel names: find the prefix in front of
 * `embeddings.word_embeddings.weight` (e.g. `bert.`, `lm_model.`), rename legacy LayerNorm
 * `gamma`/`beta`, drop buffers; keys outside the BERT module are returned as ignored.
 */
export function mapHfKeys(
  tensors: Map<string, RawTensor>,
  prefix: string | undefined,
  source: string,
): { mapped: Map<string, { key: string; shape: number[]; tensor: RawTensor }>; ignored: string[] } {
  const anchor = 'embeddings.word_embeddings.weight';
  let pre = prefix;
  if (pre === undefined) {
    const cands = [...tensors.keys()].filter((k) => k === anchor || k.endsWith('.' + anchor)).map((k) => k.slice(0, k.length - anchor.length));
    if (cands.length > 1) {
      throw new G2DError(`several BERT models in this checkpoint (prefixes ${cands.map((c) => JSON.stringify(c)).join(', ')}); pass the prefix to use`, { source });
    }
    if (cands.length === 0) {
      const legacy = [...tensors.keys()].find((k) => k.endsWith('embeddings.word_embeddings.weight'));
      pre = legacy ? legacy.slice(0, legacy.length - anchor.length) : '';
    } else pre = cands[0]!;
  }
  const mapped = new Map<string, { key: string; shape: number[]; tensor: RawTensor }>();
  const ignored: string[] = [];
  for (const [key, tensor] of tensors) {
    if (!key.startsWith(pre)) {
      ignored.push(key);
      continue;
    }
    let name = key.slice(pre.length);
    if (!BERT_ROOTS.some((r) => name.startsWith(r)) || BUFFERS.has(name)) {
      ignored.push(key);
      continue;
    }
    name = name.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
    mapped.set(name, { key, shape: tensor.shape, tensor });
  }
  return { mapped, ignored };
}

export interface FromPretrainedOptions extends PretrainedOptions {
  /** Override config.json values. */
  config?: Partial<BertConfig>;
  addPoolingLayer?: boolean;
  /** Key prefix of the BERT module in the checkpoint (found automatically when unique). */
  prefix?: string;
  /** Seed for parameters the checkpoint lacks (the pooler of some checkpoints). */
  seed?: number;
}

/** Weight files in the order transformers prefers them. */
export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin', 'model.safetensors.index.json', 'pytorch_model.bin.index.json'];

async function readWeights(pathOrHubId: string, file: string, opts: PretrainedOptions): Promise<Map<string, RawTensor>> {
  if (!file.endsWith('.index.json')) return readCheckpoint(file);
  let index: { weight_map?: Record<string, string> };
  try {
    index = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new G2DError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { source: file, cause: e });
  }
  if (!index.weight_map || typeof index.weight_map !== 'object') throw new G2DError('missing key "weight_map"', { source: file });
  const shards = [...new Set(Object.values(index.weight_map))];
  const local = fs.existsSync(pathOrHubId);
  const r = local
    ? { files: new Map(shards.map((s) => [s, path.join(path.dirname(file), s)])) }
    : await resolvePretrained(pathOrHubId, shards.map((s) => ({ anyOf: [s] })), opts);
  const out = new Map<string, RawTensor>();
  for (const s of shards) {
    const f = r.files.get(s)!;
    if (!fs.existsSync(f)) throw new G2DError(`shard ${s} named in weight_map is missing`, { source: file });
    for (const [k, v] of await readCheckpoint(f)) out.set(k, v);
  }
  return out;
}
