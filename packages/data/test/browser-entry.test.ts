/**
 * @g2d-ts/data/browser: the stand-ins its browser build uses for Node built-ins (tested here
 * under Node; the e2e test of apps/explorer decodes every codec sample in headless chromium),
 * and the built file's imports (no Node built-in may reach a browser bundle).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dicomParser from 'dicom-parser';
import { G2DError } from '@g2d-ts/core';
import { sharedPath } from '@g2d-ts/core/testing';
import { configureBrowserCodecs, createRequire } from '../src/browser/node-module';
import * as posix from '../src/browser/node-path';
import { Buffer as BufferStandIn } from '../src/browser/node-buffer';
import dicomParserStandIn from '../src/browser/dicom-parser';

describe('browser stand-ins', () => {
  it('node:path — the POSIX helpers the decoders use on file names', () => {
    expect(posix.extname('scan.DCM')).toBe('.DCM');
    expect(posix.extname('dir.d/noext')).toBe('');
    expect(posix.extname('.hidden')).toBe('');
    expect(posix.basename('/a/b/c.png')).toBe('c.png');
    expect(posix.basename('/a/b/c.png', '.png')).toBe('c');
    expect(posix.dirname('/a/b/c.png')).toBe('/a/b');
    expect(posix.dirname('c.png')).toBe('.');
    expect(posix.join('a', '', 'b//c')).toBe('a/b/c');
  });

  it('node:path — the rest of POSIX path the explorer build resolves to the same file', () => {
    expect(posix.join('data', 'tokenizers', '..', 'vocab.txt')).toBe('data/vocab.txt');
    expect(posix.normalize('/a/./b/../../..')).toBe('/');
    expect(posix.normalize('../x/./y')).toBe('../x/y');
    expect(posix.resolve('/root', 'a', '../b')).toBe('/root/b');
    expect(posix.resolve('/x', '/y', 'z')).toBe('/y/z');
    expect(posix.relative('/a/b/c', '/a/d')).toBe('../../d');
    expect(posix.parse('/a/b/c.tar.gz')).toEqual({ root: '/', dir: '/a/b', base: 'c.tar.gz', ext: '.gz', name: 'c.tar' });
    expect(posix.format({ dir: '/a', name: 'x', ext: '.png' })).toBe('/a/x.png');
    expect(posix.isAbsolute('/a')).toBe(true);
    expect(posix.default.posix.join('a', 'b')).toBe('a/b');
  });

  it('node:module — a require over the bundled codecs; anything else is a G2DError naming it', () => {
    const req = createRequire('x');
    expect(typeof (req('jpeg-lossless-decoder-js') as { Decoder?: unknown }).Decoder).toBe('function');
    expect(typeof req('@cornerstonejs/codec-charls/decodewasmjs')).toBe('function');
    expect(() => req('fs')).toThrow(G2DError);
    expect(() => req('fs')).toThrow(/"fs" is not available in the browser build of @g2d-ts\/data/);
    expect(() => configureBrowserCodecs({ locateWasm: 'x' as never })).toThrow(/"locateWasm" must be a function/);
    configureBrowserCodecs({});
  });

  it('Buffer — the three calls the DICOM reader makes, as plain Uint8Arrays', () => {
    const ab = new Uint8Array([1, 2, 3, 4]).buffer;
    expect(BufferStandIn.isBuffer(new Uint8Array(1))).toBe(false);
    expect(Array.from(BufferStandIn.from(ab, 1, 2))).toEqual([2, 3]);
    expect(BufferStandIn.alloc(3)).toEqual(new Uint8Array(3));
  });

  const dfl = sharedPath('data/dicom_samples/codecs/pydicom_image_dfl.dcm');
  (dfl ? it : it.skip)('dicom-parser — inflates a deflated data set without zlib, as Node\'s zlib path does', () => {
    const bytes = new Uint8Array(fs.readFileSync(dfl!));
    const viaZlib = dicomParser.parseDicom(Buffer.from(bytes) as never);
    const viaStandIn = dicomParserStandIn.parseDicom(Uint8Array.from(bytes));
    const px = (ds: dicomParser.DataSet) => {
      const el = ds.elements.x7fe00010!;
      return Array.from(ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length));
    };
    expect(px(viaStandIn)).toEqual(px(viaZlib));
    expect(viaStandIn.uint16('x00280010')).toBe(512);
  });
});

describe('dist/browser.mjs (the ./browser export)', () => {
  const built = path.join(__dirname, '..', 'dist', 'browser.mjs');
  const present = fs.existsSync(built);
  if (!present) process.stderr.write('[g2d] SKIP: dist/browser.mjs not built (pnpm nx run data:build); its import check is skipped\n');
  (present ? it : it.skip)('imports no Node built-in', () => {
    const src = fs.readFileSync(built, 'utf8');
    const specifiers = [...src.matchAll(/(?:^|\n)\s*import\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]!);
    expect(specifiers.length).toBeGreaterThan(3);
    const builtins = specifiers.filter((s) => s.startsWith('node:') || /^(fs|path|os|module|url|util|zlib|crypto|stream|worker_threads|child_process|buffer)(\/|$)/.test(s));
    expect(builtins).toEqual([]);
    expect(src).not.toMatch(/\bprocess\.env\b/);
  });
});
