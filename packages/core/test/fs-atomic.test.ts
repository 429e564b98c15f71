import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAtomicTempName, writeFileAtomic } from '../src';
import { tempDirs } from '../src/testing';

const tmpDir = tempDirs('g2d-atomic');

describe('writeFileAtomic', () => {
  it('writes text and bytes, replaces an existing file, makes missing folders, leaves no temporary file', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'deep', 'a.json');
    writeFileAtomic(file, '{"a":1}');
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}');
    writeFileAtomic(file, Uint8Array.from([1, 2, 3]));
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3]);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['a.json']);
  });

  it('a failed rename (the target is a folder) throws and removes its temporary file', () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'taken'));
    fs.writeFileSync(path.join(dir, 'taken', 'x'), 'x');
    expect(() => writeFileAtomic(path.join(dir, 'taken'), 'data')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['taken']);
  });

  it('isAtomicTempName recognises its temporary names, optionally for one target name', () => {
    expect(isAtomicTempName('.shard-0.u8.tmp-1234-0a1b2c3d')).toBe(true);
    expect(isAtomicTempName('.shard-0.u8.tmp-1234-0a1b2c3d', 'shard-0.u8')).toBe(true);
    expect(isAtomicTempName('.shard-0.u8.tmp-1234-0a1b2c3d', 'manifest.json')).toBe(false);
    expect(isAtomicTempName('shard-0.u8.tmp')).toBe(false);
    expect(isAtomicTempName('.a.tmp-12-xyz')).toBe(false);
  });
});
