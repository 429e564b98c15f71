import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { loadConfig, ConfigError } from '../src/config';

const schema = z.object({
  model: z.object({ backbone: z.enum(['resnet50', 'vit_b16']), embedDim: z.number().int().positive() }),
  train: z.object({ lr: z.number().positive(), epochs: z.number().int().default(1) }),
});

function tmp(text: string): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-cfg-')), 'run.yaml');
  fs.writeFileSync(f, text);
  return f;
}

describe('loadConfig', () => {
  it('parses YAML, applies defaults and dotted overrides', () => {
    const f = tmp('model:\n  backbone: resnet50\n  embedDim: 128\ntrain:\n  lr: 0.00002\n');
    const c = loadConfig(f, schema, { 'train.epochs': 3 });
    expect(c).toEqual({ model: { backbone: 'resnet50', embedDim: 128 }, train: { lr: 2e-5, epochs: 3 } });
  });
  it('names the file and every bad key', () => {
    const f = tmp('model:\n  backbone: resnet5\n  embedDim: -1\ntrain: {}\n');
    let err: unknown;
    try { loadConfig(f, schema); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain(f);
    expect(msg).toContain('model.backbone');
    expect(msg).toContain('model.embedDim');
    expect(msg).toContain('train.lr');
  });
  it('reports unreadable files and bad YAML with the file name', () => {
    expect(() => loadConfig('/nonexistent/x.yaml', schema)).toThrow(/\/nonexistent\/x.yaml: cannot read config file \(ENOENT\)/);
    const f = tmp('model: [unclosed\n');
    expect(() => loadConfig(f, schema)).toThrow(new RegExp(`${f}: not valid YAML`));
  });
});
