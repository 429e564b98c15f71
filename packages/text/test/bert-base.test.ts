import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { readCheckpoint } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, testBackends } from '@g2d-ts/core/testing';
import { BERT_BASE_CONFIG, BertModel, TextProjection } from '../src';
import { REPO_ROOT, refPython, type Tensor } from './helpers';

// Done-when: a BERT-base-sized BertModel (random, seed 1234; generated at test time by
// tools/text/gen_bert_fixture.py --size base) matches transformers when Python+torch are present.
const ref = refPython();
const backends = testBackends();
// one backend is enough at this size: the native one when it is there, else cpu
const only = [backends.includes('tensorflow') ? 'tensorflow' : 'cpu'] as const;

if ('skip' in ref) {
  process.stderr.write(`[g2d] SKIP: BERT-base parity (${ref.skip})\n`);
  describe.skip(`BERT-base parity with transformers (SKIPPED: ${ref.skip})`, () => it('needs .venv-ref with transformers', () => undefined));
} else {
  describeBackends(
    'BERT-base parity with transformers',
    ({ rtol, atol }) => {
      let dir: string;
      beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-bert-base-'));
        const r = spawnSync(ref.python, [path.join(REPO_ROOT, 'tools/text/gen_bert_fixture.py'), '--size', 'base', '--out', dir], { encoding: 'utf8', timeout: 300_000 });
        if (r.status !== 0) throw new Error(`gen_bert_fixture.py --size base failed: ${r.stderr || r.error}`);
      }, 300_000);
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

      it('loads model.safetensors and matches last_hidden_state, pooler_output and proj_t', async () => {
        const e = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, Tensor> & {
          inputs: { input_ids: number[][]; attention_mask: number[][]; token_type_ids: number[][] };
        };
        const m = await BertModel.fromPretrained(dir);
        expect(m.config).toEqual(BERT_BASE_CONFIG);
        expect(m.numParams()).toBe(108_310_272);
        const o = m.forward({ inputIds: e.inputs.input_ids, attentionMask: e.inputs.attention_mask, tokenTypeIds: e.inputs.token_type_ids });
        const tol = { rtol: Math.max(rtol, 1e-3), atol: Math.max(atol, 1e-4) };
        expectArraysClose(o.lastHiddenState, e.last_hidden_state!.data, tol);
        expectArraysClose(o.pooledOutput!, e.pooler_output!.data, tol);
        const proj = new TextProjection();
        proj.loadStateDict(await readCheckpoint(path.join(dir, 'proj_t.safetensors')), { prefix: 'proj_t.' });
        const p = proj.forward(o.lastHiddenState, { training: true });
        expectArraysClose(p, e.proj_train!.data, tol);
        tf.dispose([o.lastHiddenState, o.pooledOutput!, p]);
        proj.dispose();
        m.dispose();
      }, 300_000);
    },
    { only: [...only] },
  );
}
