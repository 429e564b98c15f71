/**
 * BERT encoder on @g2d-ts/nn with Hugging Face `BertModel` semantics (transformers 4.36):
 * embeddings (word + token type + absolute position) -> LayerNorm -> dropout; post-LN encoder
 * layers (self-attention with the extended attention mask `(1 - mask) * finfo(float32).min`,
 * residual + LayerNorm, feed-forward with exact erf GELU, residual + LayerNorm); pooler =
 * tanh(dense(hidden[:, 0])). Every sub-module carries the Hugging Face name
 * (`embeddings.word_embeddings`, `encoder.layer.3.attention.self.query`, `pooler.dense`…), so
 * `stateDict()` / `loadStateDict()` speak transformers' names and PyTorch layouts.
 * Dropout is real in training mode (seeded masks) and the identity in eval mode.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, Rng, readCheckpoint, resolvePretrained, type PretrainedOptions, type RawTensor } from '@g2d-ts/core';
import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  activation,
  isRecording,
  noGrad,
  type LoadReport,
  type LoadStateDictOptions,
  type ModuleOptions,
  withoutRandomInit,
} from '@g2d-ts/nn';
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

export interface BertForwardOptions {
  /** Overrides the module's train/eval mode for this call (dropout on in training). */
  training?: boolean;
  /** Range-check the ids on the host first (default true; reads them back: skip in hot loops on GPUs). */
  validate?: boolean;
}

export interface BertModelOptions {
  /** Seed of the random initialisation (normal(0, initializer_range), as transformers) and of the dropout masks. */
  seed?: number;
  /** Build the pooler (default true). */
  addPoolingLayer?: boolean;
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

/** Shared construction context: config, init generator, dropout generator. */
interface Ctx {
  c: BertConfig;
  init: ModuleOptions;
  drop: ModuleOptions;
}

const dense = (ctx: Ctx, i: number, o: number) => new Linear(i, o, { ...ctx.init, init: 'normal', std: ctx.c.initializerRange });

class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(ctx: Ctx) {
    super(ctx.init);
    const { c } = ctx;
    const std = c.initializerRange;
    this.word_embeddings = this.addChild('word_embeddings', new Embedding(c.vocabSize, c.hiddenSize, { ...ctx.init, std, paddingIdx: c.padTokenId }));
    this.position_embeddings = this.addChild('position_embeddings', new Embedding(c.maxPositionEmbeddings, c.hiddenSize, { ...ctx.init, std }));
    this.token_type_embeddings = this.addChild('token_type_embeddings', new Embedding(c.typeVocabSize, c.hiddenSize, { ...ctx.init, std }));
    this.LayerNorm = this.addChild('LayerNorm', new LayerNorm(c.hiddenSize, c.layerNormEps));
    this.dropout = this.addChild('dropout', new Dropout(c.hiddenDropoutProb, ctx.drop));
  }
  forward(ids: tf.Tensor2D, tokenTypes: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const L = ids.shape[1];
      // inputs_embeds + token_type_embeddings, then + position_embeddings (transformers' order)
      const h = tf.add(tf.add(this.word_embeddings.forward(ids), this.token_type_embeddings.forward(tokenTypes)), this.position_embeddings.forward(tf.range(0, L, 1, 'int32')));
      return this.dropout.forward(this.LayerNorm.forward(h)) as tf.Tensor3D;
    });
  }
}

class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dropout: Dropout;
  private readonly heads: number;
  constructor(ctx: Ctx) {
    super(ctx.init);
    const H = ctx.c.hiddenSize;
    this.heads = ctx.c.numAttentionHeads;
    this.query = this.addChild('query', dense(ctx, H, H));
    this.key = this.addChild('key', dense(ctx, H, H));
    this.value = this.addChild('value', dense(ctx, H, H));
    this.dropout = this.addChild('dropout', new Dropout(ctx.c.attentionProbsDropoutProb, ctx.drop));
  }
  /** h [B, L, H], ext [B, 1, 1, L] additive mask → context [B, L, H]. */
  forward(h: tf.Tensor3D, ext: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, L, H] = h.shape;
      const nh = this.heads;
      const dh = H / nh;
      const split = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, L, nh, dh]), [0, 2, 1, 3]);
      const q = split(this.query.forward(h));
      const k = split(this.key.forward(h));
      const v = split(this.value.forward(h));
      const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), ext);
      const probs = this.dropout.forward(tf.softmax(scores, -1));
      return tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [B, L, H]) as tf.Tensor3D;
    });
  }
}

/** dense -> dropout -> LayerNorm(x + residual): BertSelfOutput and BertOutput. */
class BertResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(ctx: Ctx, inDim: number) {
    super(ctx.init);
    this.dense = this.addChild('dense', dense(ctx, inDim, ctx.c.hiddenSize));
    this.LayerNorm = this.addChild('LayerNorm', new LayerNorm(ctx.c.hiddenSize, ctx.c.layerNormEps));
    this.dropout = this.addChild('dropout', new Dropout(ctx.c.hiddenDropoutProb, ctx.drop));
  }
  forward(x: tf.Tensor3D, residual: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.LayerNorm.forward(tf.add(this.dropout.forward(this.dense.forward(x)), residual) as tf.Tensor3D));
  }
}

class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;
  constructor(ctx: Ctx) {
    super(ctx.init);
    this.self = this.addChild('self', new BertSelfAttention(ctx));
    this.output = this.addChild('output', new BertResidualOutput(ctx, ctx.c.hiddenSize));
  }
  forward(h: tf.Tensor3D, ext: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => this.output.forward(this.self.forward(h, ext), h));
  }
}

class BertIntermediate extends Module {
  readonly dense: Linear;
  constructor(private readonly ctx: Ctx) {
    super(ctx.init);
    this.dense = this.addChild('dense', dense(ctx, ctx.c.hiddenSize, ctx.c.intermediateSize));
  }
  forward(h: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => activation(this.ctx.c.hiddenAct, this.dense.forward(h)));
  }
}

/** One encoder layer (`encoder.layer.{i}`). */
export class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;
  constructor(ctx: Ctx) {
    super(ctx.init);
    this.attention = this.addChild('attention', new BertAttention(ctx));
    this.intermediate = this.addChild('intermediate', new BertIntermediate(ctx));
    this.output = this.addChild('output', new BertResidualOutput(ctx, ctx.c.intermediateSize));
  }
  forward(h: tf.Tensor3D, ext: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      const a = this.attention.forward(h, ext);
      return this.output.forward(this.intermediate.forward(a), a);
    });
  }
}

class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;
  constructor(ctx: Ctx) {
    super(ctx.init);
    this.layer = this.addChild('layer', new ModuleList<BertLayer>([], ctx.init));
    for (let i = 0; i < ctx.c.numHiddenLayers; i++) this.layer.push(new BertLayer(ctx));
  }
}

class BertPooler extends Module {
  readonly dense: Linear;
  constructor(ctx: Ctx) {
    super(ctx.init);
    this.dense = this.addChild('dense', dense(ctx, ctx.c.hiddenSize, ctx.c.hiddenSize));
  }
  forward(last: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, , H] = last.shape;
      return tf.tanh(this.dense.forward(tf.reshape(tf.slice(last, [0, 0, 0], [B, 1, H]), [B, H]))) as tf.Tensor2D;
    });
  }
}

const BUFFERS = new Set(['embeddings.position_ids', 'embeddings.token_type_ids']);
const BERT_ROOTS = ['embeddings.', 'encoder.', 'pooler.'];

export class BertModel extends Module {
  readonly config: BertConfig;
  readonly hasPooler: boolean;
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler?: BertPooler;
  private readonly seedValue: number;

  constructor(config: Partial<BertConfig> = {}, opts: BertModelOptions = {}) {
    const seed = opts.seed ?? 0;
    const init = { rng: new Rng(seed) };
    super(init);
    this.config = bertConfig(config);
    this.hasPooler = opts.addPoolingLayer ?? true;
    this.seedValue = seed;
    const ctx: Ctx = { c: this.config, init, drop: { rng: new Rng(`${seed}/dropout`) } };
    this.embeddings = this.addChild('embeddings', new BertEmbeddings(ctx));
    this.encoder = this.addChild('encoder', new BertEncoder(ctx));
    if (this.hasPooler) this.pooler = this.addChild('pooler', new BertPooler(ctx));
  }

  /**
   * Load a Hugging Face BERT: a directory with config.json + model.safetensors or
   * pytorch_model.bin (sharded `*.index.json` too), or a hub id ("emilyalsentzer/Bio_ClinicalBERT")
   * found in the Hugging Face cache or, when online, downloaded into it. The model comes back
   * in eval mode (as transformers' from_pretrained); `train()` turns dropout on.
   */
  static async fromPretrained(pathOrHubId: string, opts: BertFromPretrainedOptions = {}): Promise<BertModel> {
    const r = await resolvePretrained(pathOrHubId, [{ anyOf: ['config.json'] }, { anyOf: WEIGHT_FILES }], opts);
    const config = readBertConfig(r.files.get('config.json')!, opts.config);
    const weightsFile = r.files.get(WEIGHT_FILES[0]!)!;
    const tensors = await readWeights(pathOrHubId, weightsFile, opts);
    const model = withoutRandomInit(() => new BertModel(config, { addPoolingLayer: opts.addPoolingLayer, seed: opts.seed }));
    try {
      const report = model.loadStateDict(tensors, { source: weightsFile, prefix: opts.prefix, strict: opts.strict });
      opts.onReport?.(report);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model.eval();
  }

  /**
   * Forward pass. Inputs are int ids [B, L] (tensors or nested arrays). `training` overrides
   * the module's mode for this call (dropout on in training mode). Ids are range-checked on the
   * host first unless `validate: false`. Returns new tensors (the caller disposes them).
   */
  forward(inputs: BertInputs, opts: BertForwardOptions = {}): BertOutput {
    const c = this.config;
    return this.withTraining(opts.training, () => {
      const [last, pooled] = tf.tidy(() => {
        const ids = toIntTensor(inputs.inputIds, 'inputIds');
        const [B, L] = ids.shape;
        if (L > c.maxPositionEmbeddings) {
          throw new G2DError(`sequence length ${L} exceeds max_position_embeddings ${c.maxPositionEmbeddings}; truncate the text (tokenizer maxLength)`);
        }
        const validate = opts.validate ?? true;
        if (validate) checkRange(ids, c.vocabSize, 'inputIds', 'vocab_size');
        const mask = inputs.attentionMask !== undefined ? toIntTensor(inputs.attentionMask, 'attentionMask') : tf.ones([B, L], 'int32');
        const tt = inputs.tokenTypeIds !== undefined ? toIntTensor(inputs.tokenTypeIds, 'tokenTypeIds') : (tf.zeros([B, L], 'int32') as tf.Tensor2D);
        for (const [t, name] of [
          [mask, 'attentionMask'],
          [tt, 'tokenTypeIds'],
        ] as const) {
          if (t.shape[0] !== B || t.shape[1] !== L) throw new G2DError(`${name} has shape [${t.shape.join(', ')}], inputIds [${B}, ${L}]`);
        }
        if (validate) checkRange(tt, c.typeVocabSize, 'tokenTypeIds', 'type_vocab_size');
        // extended attention mask [B, 1, 1, L]
        const ext = tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), MASK_MIN), [B, 1, 1, L]);
        // frozen embeddings and frozen leading layers see only token ids: nothing to record
        // for a gradient there (the G2D recipe keeps the embeddings trainable, so it does not apply)
        const layers = [...this.encoder.layer];
        let frozenLead = 0;
        if (isRecording() && !this.embeddings.trainableVariables().length) {
          while (frozenLead < layers.length && !layers[frozenLead]!.trainableVariables().length) frozenLead++;
        }
        let h = frozenLead ? noGrad(() => this.embeddings.forward(ids, tt)) : this.embeddings.forward(ids, tt);
        // memory modes: 'lean' recomputes every layer in the backward pass, 'balanced' every second one
        const mode = this.memoryMode;
        layers.forEach((layer, i) => {
          if (i < frozenLead) {
            h = noGrad(() => layer.forward(h, ext));
            return;
          }
          const recompute = mode === 'lean' || (mode === 'balanced' && i % 2 === 1);
          h = this.runBlock(recompute, layer, (t, e) => layer.forward(t as tf.Tensor3D, e!), [h], [ext]);
        });
        return this.pooler ? [h, this.pooler.forward(h)] : [h];
      }) as [tf.Tensor3D, tf.Tensor2D?];
      return { lastHiddenState: last, pooledOutput: pooled ?? null };
    });
  }

  /**
   * Freezes encoder layers 0..n-1 and unfreezes layers n.. (the embeddings and the pooler are
   * left as they are): the G2D recipe freezes 9 of 12 and keeps the embeddings trainable.
   */
  freezeEncoderLayers(n: number): this {
    const L = this.config.numHiddenLayers;
    if (!Number.isInteger(n) || n < 0 || n > L) throw new G2DError(`freezeEncoderLayers(${n}): must be an integer in [0, ${L}] (num_hidden_layers)`);
    const names = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `encoder.layer.${from + i}`);
    if (n > 0) this.freeze(names(0, n));
    if (n < L) this.unfreeze(names(n, L));
    return this;
  }

  /** How many leading encoder layers are entirely frozen. */
  get frozenEncoderLayers(): number {
    let n = 0;
    for (const l of this.encoder.layer) {
      if (l.trainableVariables().length) break;
      n++;
    }
    return n;
  }

  /** Legacy LayerNorm names (`gamma`/`beta`) of old BERT checkpoints. */
  override translateKey(key: string): string {
    return key.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  }

  /** Buffers (`position_ids`, `token_type_ids`), pre-training heads, and the pooler of a model built without one. */
  override isIgnorableKey(key: string): boolean {
    if (BUFFERS.has(key) || !BERT_ROOTS.some((r) => key.startsWith(r))) return true;
    return !this.hasPooler && key.startsWith('pooler.');
  }

  protected override describeForLoad(): string {
    const c = this.config;
    return (
      `BertModel (vocab_size ${c.vocabSize}, hidden_size ${c.hiddenSize}, num_hidden_layers ${c.numHiddenLayers}, ` +
      `intermediate_size ${c.intermediateSize}, max_position_embeddings ${c.maxPositionEmbeddings}, type_vocab_size ${c.typeVocabSize})`
    );
  }

  /**
   * Loads a Hugging Face state dict (BertModel, BertFor… or a G2D checkpoint: the prefix —
   * `bert.`, `lm_model.`… — is found unless given; heads and buffers are ignored). A missing
   * pooler is initialised from the seed and reported under `missing`, as transformers does.
   */
  override loadStateDict(sd: Map<string, RawTensor>, opts: LoadStateDictOptions = {}): LoadReport {
    const allow = opts.allowMissing;
    const report = super.loadStateDict(sd, {
      findPrefix: true,
      ...opts,
      allowMissing: (n) => n.startsWith('pooler.') || (allow?.(n) ?? false),
    });
    if (this.pooler && report.missing.some((n) => n.startsWith('pooler.'))) {
      const w = this.pooler.dense.weight;
      const b = this.pooler.dense.bias!;
      tf.tidy(() => {
        w.assign(tf.randomNormal(w.shape, 0, this.config.initializerRange, 'float32', new Rng(this.seedValue).fork('pooler').tfSeed()));
        b.assign(tf.zerosLike(b));
      });
    }
    return report;
  }
}

export interface BertFromPretrainedOptions extends PretrainedOptions {
  /** Override config.json values. */
  config?: Partial<BertConfig>;
  addPoolingLayer?: boolean;
  /** Key prefix of the BERT module in the checkpoint (default: found from the names and shapes). */
  prefix?: string;
  /** Seed for parameters the checkpoint lacks (the pooler of some checkpoints) and for dropout masks. */
  seed?: number;
  /** Missing/unexpected keys are errors (default true; a missing pooler is always allowed and initialised). */
  strict?: boolean;
  /** Called with the load report. */
  onReport?: (r: LoadReport) => void;
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
