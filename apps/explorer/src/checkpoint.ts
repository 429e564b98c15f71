/**
 * A G2D checkpoint from bytes (browser files or a fetch): our saved folder as pretraining writes
 * it (`model.safetensors` + `config.json` {format, version, model}), or a bare
 * `model.safetensors` of ours with a preset named instead of the config. The model is built
 * from the config without random initialisation and loaded all-or-nothing
 * (`Module.loadStateDict`, strict: every missing, unexpected or mis-shaped key is one error).
 * No file system: the same code runs under jest (Node) and in the page.
 */
import { G2DError, parseSafetensors, type RawTensor } from '@g2d-ts/core';
import { G2DModel, G2D_FORMAT, buildConfig, resolveConfig, type G2DConfig } from '@g2d-ts/model';
import { withoutRandomInit } from '@g2d-ts/nn';
import { BertTokenizer, parseVocab } from '@g2d-ts/text';

export interface NamedText {
  name: string;
  text: string;
}

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export interface CheckpointInput {
  /** config.json of our saved format (absent: `preset` names the architecture) */
  config?: NamedText;
  weights: NamedBytes;
  /** preset for a bare model.safetensors without config.json (default g2d-resnet18-tiny) */
  preset?: string;
}

export interface LoadedCheckpoint {
  model: G2DModel;
  config: G2DConfig;
  /** where the config came from ('config.json' or 'preset <name>') */
  configSource: string;
  tensors: number;
  parameters: number;
}

/** The model config inside our config.json (`{format: 'g2d-ts/G2DModel', version, model}`). */
export function parseCheckpointConfig(file: NamedText): G2DConfig {
  let json: unknown;
  try {
    json = JSON.parse(file.text);
  } catch (e) {
    throw new G2DError(`not valid JSON: ${(e as Error).message}`, { source: file.name });
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new G2DError('must hold a JSON object', { source: file.name });
  const j = json as { format?: unknown; model?: unknown };
  if (j.format !== G2D_FORMAT) {
    throw new G2DError(`key "format" is ${JSON.stringify(j.format)}, expected "${G2D_FORMAT}" (a saved G2D model's config.json, as pretraining writes it)`, { source: file.name });
  }
  if (!j.model || typeof j.model !== 'object') throw new G2DError('key "model" (the model config) is missing', { source: file.name });
  return resolveConfig(j.model, `${file.name}: model`);
}

/** Builds the model and loads the weights; on any error nothing is left allocated. */
export function loadCheckpoint(input: CheckpointInput): LoadedCheckpoint {
  if (!input.weights) throw new G2DError('no model.safetensors given (a checkpoint is model.safetensors + config.json)');
  const { weights } = input;
  if (/\.(pth|pt|bin|ckpt)$/i.test(weights.name)) {
    throw new G2DError(
      'PyTorch checkpoints are read by the Node tools only: convert it once with createModelWithWeights + saveG2DModel (@g2d-ts/model), then open the folder it writes',
      { source: weights.name },
    );
  }
  const { tensors, metadata } = parseSafetensors(weights.bytes, weights.name);
  if (metadata.format !== G2D_FORMAT) {
    throw new G2DError(
      `not a saved G2D model (safetensors metadata "format" is ${JSON.stringify(metadata.format ?? null)}, expected "${G2D_FORMAT}"); open the final/ folder that pretraining writes`,
      { source: weights.name },
    );
  }
  const config = input.config ? parseCheckpointConfig(input.config) : buildConfig(input.preset ?? 'g2d-resnet18-tiny');
  const configSource = input.config ? input.config.name : `preset ${input.preset ?? 'g2d-resnet18-tiny'}`;
  const model = withoutRandomInit(() => new G2DModel(config));
  try {
    model.loadStateDict(tensors as Map<string, RawTensor>, { strict: true, source: weights.name, ignore: (k) => G2DModel.isUnusedReferenceKey(k) });
  } catch (e) {
    model.dispose();
    if (e instanceof G2DError && !input.config) {
      const why = e.message.startsWith(`${weights.name}: `) ? e.message.slice(weights.name.length + 2) : e.message;
      throw new G2DError(`no config.json was given, so the ${configSource} architecture was assumed (add the checkpoint's config.json): ${why}`, { source: weights.name, cause: e });
    }
    throw e;
  }
  model.eval();
  return { model, config, configSource, tensors: tensors.size, parameters: model.numParams() };
}

/** The WordPiece tokenizer of a vocab.txt's text, checked against the model's vocabulary size. */
export function tokenizerFromVocab(vocab: NamedText, config: G2DConfig): BertTokenizer {
  const tok = BertTokenizer.fromVocab(parseVocab(vocab.text, vocab.name), { lowercase: config.text.lowercase, source: vocab.name });
  if (tok.vocabSize !== undefined && tok.vocabSize > config.text.vocabSize) {
    throw new G2DError(`the vocabulary has ${tok.vocabSize} tokens but the model's text.vocabSize is ${config.text.vocabSize} (a different tokenizer?)`, { source: vocab.name });
  }
  return tok;
}
