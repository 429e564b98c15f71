/** Inputs `pnpm fuzz` found that made a reader throw something other than a G2DError. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { BertTokenizer, bertTokenizerJson } from '../src';

describe('reader regressions found by fuzzing', () => {
  it('tokenizer.json whose post_processor lost its "single" template: a G2DError naming the file, not a TypeError', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-tokjson-'));
    try {
      const json = bertTokenizerJson(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the'], { lowercase: true }) as unknown as { post_processor: Record<string, unknown> };
      json.post_processor.sijgle = json.post_processor.single;
      delete json.post_processor.single;
      const file = path.join(dir, 'tokenizer.json');
      fs.writeFileSync(file, JSON.stringify(json));
      let err: unknown;
      try {
        BertTokenizer.fromFile(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(G2DError);
      expect((err as Error).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: post_processor is malformed`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
