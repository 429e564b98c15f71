import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, expectArraysClose } from '@g2d-ts/core/testing';
import { CHEXPERT_5, NIH_CLASSES, SYNTH_FINDINGS } from '@g2d-ts/data';
import { defaultPrompts, heads, loadPrompts, promptsFor, ZeroShotClassifier, type TextEncoder } from '../src';

/** A text encoder with known embeddings: each prompt maps to a fixed unit vector. */
function fakeEncoder(table: Record<string, number[]>): TextEncoder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    encodeText(texts: string[]) {
      calls.push(texts);
      return tf.tensor2d(texts.map((t) => {
        const v = table[t];
        if (!v) throw new Error(`no embedding for "${t}"`);
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      }));
    },
  };
}

describe('zero-shot prompt files', () => {
  it('the shipped prompts cover the synthetic findings, NIH 14, CheXpert 5, RSNA and SIIM', () => {
    const p = defaultPrompts();
    expect(Object.keys(p.sets['synthetic']!).sort()).toEqual([...SYNTH_FINDINGS].sort());
    expect(Object.keys(p.sets['nih-cxr14']!).sort()).toEqual([...NIH_CLASSES].sort());
    expect(Object.keys(p.sets['chexpert']!).sort()).toEqual([...CHEXPERT_5].sort());
    expect(Object.keys(p.sets['rsna-pneumonia']!)).toEqual(['Pneumonia']);
    expect(Object.keys(p.sets['siim-acr']!)).toEqual(['Pneumothorax']);
    for (const set of Object.values(p.sets)) for (const pair of Object.values(set)) expect(pair.positive.length && pair.negative.length).toBeTruthy();
  });

  it('promptsFor picks classes in order; missing sets or classes are errors listing what exists', () => {
    const s = promptsFor('chexpert', ['Edema', 'Atelectasis']);
    expect(Object.keys(s)).toEqual(['Edema', 'Atelectasis']);
    expect(() => promptsFor('mimic', ['A'])).toThrow(/no prompt set "mimic" \(sets: .*synthetic/);
    expect(() => promptsFor('siim-acr', ['Pneumothorax', 'Nodule'])).toThrow(/has no prompts for Nodule \(it has: Pneumothorax\)/);
  });

  it('a user file (YAML) replaces the defaults; bad files name the key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-prompts-'));
    try {
      const f = path.join(dir, 'p.yaml');
      fs.writeFileSync(f, 'format: g2d-zero-shot-prompts-v1\nsets:\n  mine:\n    X:\n      positive: [x present]\n      negative: [no x]\n');
      expect(promptsFor('mine', ['X'], loadPrompts(f)).X!.negative).toEqual(['no x']);
      fs.writeFileSync(f, 'format: g2d-zero-shot-prompts-v1\nsets:\n  mine:\n    X:\n      positive: []\n      negative: [no x]\n');
      expect(() => loadPrompts(f)).toThrow(/p\.yaml: invalid config:\n {2}- sets\.mine\.X\.positive: Array must contain at least 1 element/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeBackends('ZeroShotClassifier', ({ rtol, atol }) => {
  const table: Record<string, number[]> = {
    'a yes': [1, 0, 0],
    'a yes 2': [1, 0.2, 0],
    'a no': [0, 1, 0],
    'b yes': [0, 0, 1],
    'b no': [1, 1, 0],
  };
  const prompts = { A: { positive: ['a yes', 'a yes 2'], negative: ['a no'] }, B: { positive: ['b yes'], negative: ['b no'] } };

  it('p = sigmoid((cos(img, mean pos) - cos(img, mean neg)) / T), prompts embedded once per side', () => {
    const enc = fakeEncoder(table);
    const z = ZeroShotClassifier.fromPrompts(enc, prompts, ['A', 'B'], { temperature: 0.5 });
    expect(enc.calls).toEqual([['a yes', 'a yes 2'], ['a no'], ['b yes'], ['b no']]);
    const img = [
      [2, 0, 0],
      [0, 0.5, 0.5],
    ];
    const norm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
    const posA = norm([1 + 1 / Math.hypot(1, 0.2), 0.2 / Math.hypot(1, 0.2), 0]);
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const want = img.map((v) => {
      const x = norm(v);
      const a = (dot(x, posA) - dot(x, [0, 1, 0])) / 0.5;
      const b = (dot(x, [0, 0, 1]) - dot(x, norm([1, 1, 0]))) / 0.5;
      return [a, b].map((s) => 1 / (1 + Math.exp(-s)));
    });
    const x = tf.tensor2d(img);
    const p = z.forward(x);
    expectArraysClose(p, want, { rtol, atol });
    expect(z.classes).toEqual(['A', 'B']);
    expect([...z.stateDict().keys()]).toEqual(['positive', 'negative']);
    expect(() => z.forward(tf.zeros([1, 4]) as tf.Tensor2D)).toThrow(/image embeddings must be \[B, 3\], got \[1, 4\]/);
    [x, p, z].forEach((t) => t.dispose());
  });

  it('is in the heads registry (by dataset prompt set or explicit prompts); bad prompts are errors', () => {
    const z = heads.create('zero-shot', { textEncoder: fakeEncoder(table), prompts, temperature: 1 }) as ZeroShotClassifier;
    expect(z.temperature).toBe(1);
    z.dispose();
    expect(() => ZeroShotClassifier.fromPrompts(fakeEncoder(table), { A: { positive: [], negative: ['a no'] } })).toThrow(/class "A" needs at least one positive and one negative prompt/);
    expect(() => heads.create('zero-shot', { prompts })).toThrow(/needs \{ textEncoder/);
    expect(() => heads.create('zero-shot', { textEncoder: fakeEncoder(table), dataset: 'siim-acr', classes: ['Nodule'] })).toThrow(/no prompts for Nodule/);
  });
});
