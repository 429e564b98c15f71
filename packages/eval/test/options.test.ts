import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { G2DError, UsageError } from '@g2d-ts/core';
import { CommonConfigShape, deepMerge, parseCommonFlags, parseFraction, parseSetOption, resolveDatasetArg, resolveEvalConfig } from '../src';

const Schema = z.object({ ...CommonConfigShape, train: z.object({ epochs: z.number().int().min(1), lr: z.number().positive() }).strict() }).strict();

describe('common flags and config resolution', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-eval-opts-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses fractions as numbers or percentages and rejects the rest as usage errors', () => {
    expect(parseFraction('0.01')).toBe(0.01);
    expect(parseFraction('10%')).toBeCloseTo(0.1, 12);
    expect(parseFraction('100%')).toBe(1);
    expect(parseFraction('1')).toBe(1);
    for (const bad of ['0', '1.5', 'abc', '', '-0.1', '200%']) expect(() => parseFraction(bad)).toThrow(UsageError);
    expect(() => parseFraction('2')).toThrow(/--fraction must be a fraction in \(0, 1\]/);
  });

  it('parses --set KEY=VALUE with JSON values, strings otherwise', () => {
    expect(parseSetOption('train.epochs=5')).toEqual(['train.epochs', 5]);
    expect(parseSetOption('data.classes=["A","B"]')).toEqual(['data.classes', ['A', 'B']]);
    expect(parseSetOption('features=embedding')).toEqual(['features', 'embedding']);
    expect(parseSetOption('cache.images=false')).toEqual(['cache.images', false]);
    expect(() => parseSetOption('novalue')).toThrow(/KEY=VALUE/);
    expect(() => parseSetOption('bad key=1')).toThrow(/not a dotted config key/);
  });

  it('resolves dataset roots against the working directory', () => {
    expect(resolveDatasetArg('synthetic', '/x')).toBe('synthetic');
    expect(resolveDatasetArg('nih-cxr14:data/nih', '/work')).toBe('nih-cxr14:/work/data/nih');
    expect(resolveDatasetArg('nih-cxr14:/abs', '/work')).toBe('nih-cxr14:/abs');
  });

  it('precedence: schema defaults < app defaults < --config file < --set < flags', () => {
    const file = path.join(dir, 'cfg.yaml');
    fs.writeFileSync(file, 'seed: 3\nfraction: 0.1\ntrain:\n  epochs: 7\n  lr: 0.01\ndataset: covid-chestxray:data/covid\n');
    const flags = parseCommonFlags({ config: file, set: ['train.epochs=9', 'seed=4'], seed: '5' }, '/cwd');
    const cfg = resolveEvalConfig(Schema, { train: { epochs: 50, lr: 5e-4 }, inferenceBatchSize: 16 }, flags);
    expect(cfg.train).toEqual({ epochs: 9, lr: 0.01 }); // --set over file over defaults
    expect(cfg.seed).toBe(5); // flag over --set over file
    expect(cfg.fraction).toBe(0.1); // file
    expect(cfg.inferenceBatchSize).toBe(16); // app default
    expect(cfg.data.splitSeed).toBe(0); // schema default
    expect(cfg.dataset).toBe(`covid-chestxray:${path.join(dir, 'data/covid')}`); // relative to the config file
  });

  it('a bad config key or value is a G2DError naming the key; a bad flag is a usage error', () => {
    const flags = parseCommonFlags({ set: ['train.epochz=3'] }, '/cwd');
    expect(() => resolveEvalConfig(Schema, { train: { epochs: 1, lr: 1 } }, flags)).toThrow(G2DError);
    expect(() => resolveEvalConfig(Schema, { train: { epochs: 1, lr: 1 } }, flags)).toThrow(/train: Unrecognized key\(s\) in object: 'epochz'/);
    expect(() => resolveEvalConfig(Schema, { train: { epochs: 0, lr: 1 } }, { overrides: [] })).toThrow(/train\.epochs/);
    expect(() => parseCommonFlags({ seed: '-1' }, '/')).toThrow(/--seed must be an integer >= 0/);
    expect(() => parseCommonFlags({ fraction: '3' }, '/')).toThrow(UsageError);
    const missing = path.join(dir, 'nope.yaml');
    expect(() => resolveEvalConfig(Schema, {}, parseCommonFlags({ config: missing }, '/'))).toThrow(/nope\.yaml: cannot read config file/);
  });

  it('deepMerge merges objects and replaces the rest', () => {
    expect(deepMerge({ a: { b: 1, c: 2 }, d: [1] }, { a: { c: 3 }, d: [2] })).toEqual({ a: { b: 1, c: 3 }, d: [2] });
  });
});
