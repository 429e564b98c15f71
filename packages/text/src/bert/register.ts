/**
 * Text models in the @g2d-ts/nn model registry (importing @g2d-ts/text registers them):
 * `saveModel(bert, dir)` / `autoFromPretrained(dir)` for BertModel and TextProjection, and a
 * reader for Hugging Face BERT config.json files (`model_type: 'bert'`), so
 * `autoFromPretrained` also opens a transformers BERT directory (unsharded weights;
 * `BertModel.fromPretrained` reads sharded ones too).
 */
import { registerConfigReader, registerModelClass } from '@g2d-ts/nn';
import { TextProjection, type TextProjectionOptions } from '../projection';
import { parseBertConfig, type BertConfig } from './config';
import { BertModel } from './model';

registerModelClass('BertModel', {
  cls: BertModel,
  toConfig: (m) => ({ ...m.config, addPoolingLayer: m.hasPooler }),
  fromConfig: (c) => {
    const { addPoolingLayer, ...config } = c as Partial<BertConfig> & { addPoolingLayer?: boolean };
    return new BertModel(config, { addPoolingLayer });
  },
});

registerModelClass('TextProjection', {
  cls: TextProjection,
  fromConfig: (c) => new TextProjection(c as TextProjectionOptions),
});

registerConfigReader('transformers-bert', (cfg, source) => {
  if (cfg.model_type !== 'bert') return null;
  return new BertModel(parseBertConfig(cfg, source));
});
