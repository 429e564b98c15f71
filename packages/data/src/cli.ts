#!/usr/bin/env node
/** g2d-data: convert / inspect radiographs and prepare dataset caches. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { encodeGrayPng, loadImage, sniffFormat } from './image';
import { readDicomMeta } from './dicom/read';
import { prepareDataset } from './cache';
import { datasets } from './adapters';

export const HELP = `g2d-data: radiograph I/O for G2D

Usage:
  g2d-data convert <in> <out.png> [--no-voi] [--voi-index K] [--no-invert] [--frame N] [--full-range]
  g2d-data inspect <file>
  g2d-data prepare (--list <files.txt|items.csv> | --dataset <name> --root <dir>) --out <dir> [--root DIR]
                   [--size 256] [--variant code|clean] [--shard-size 4096] [--on-error skip|fail] [--column image]
                   datasets: mimic-cxr chexpert rsna-pneumonia siim-acr covidx nih-cxr14 object-cxr iu-xray covid-chestxray
  g2d-data --help

convert: decodes DICOM (any supported transfer syntax), PNG (8/16-bit) or JPEG and writes a
  grey PNG. For DICOM the values written are, per pixel:
    1. s = stored value (BitsStored bits, masked / sign-extended per PixelRepresentation)
    2. m = Modality LUT: the Modality LUT Sequence if present, else s*RescaleSlope+RescaleIntercept
           when both are present, else s
    3. g = VOI (unless --no-voi): the VOI LUT Sequence if present, else the window
           (WindowCenter/WindowWidth, VOILUTFunction LINEAR | LINEAR_EXACT | SIGMOID), computed as
           pydicom's apply_voi_lut(prefer_lut=True); else g = m
    4. u = clip((g - lo) / (hi - lo), 0, 1) over the NOMINAL range [lo, hi] of g (not the image's
           own min/max): the window output range (pydicom's y_min..y_max), or 0..2^bits-1 of the
           LUT used, or the rescaled/stored range implied by BitsStored and PixelRepresentation
    5. MONOCHROME1: u = 1 - u (so bone is bright; --no-invert keeps it)
    6. PNG value = floor(u * (2^BitsStored - 1) + 0.5): a 16-bit grey PNG holding the stored-value
           range 0..2^BitsStored-1 (8-bit PNG when BitsStored <= 8); --full-range scales to 0..65535.
  RGB / YBR_FULL colour images become grey via ITU-R 601 luma (Pillow's 'L'); PALETTE COLOR is refused.
  PNG/JPEG inputs are written as their grey values (colour -> luma).
inspect: prints the metadata as JSON (DICOM header fields, transfer syntax, frames; PNG/JPEG size/depth).
prepare: applies the reference preprocessing (crop to non-zero bbox, min-max, N×N bilinear, uint8)
  to every listed image and writes uint8 shards (<out>/shard-00000.u8, raw N*N bytes per image,
  memory-mappable) plus <out>/manifest.json; re-running resumes after the last complete shard.
`;

function parseArgs(argv: string[]): { pos: string[]; flags: Record<string, string | boolean> } {
  const pos: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (v !== undefined) flags[k] = v;
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--') && !['no-voi', 'no-invert', 'full-range', 'help', 'quiet'].includes(k)) flags[k] = argv[++i]!;
      else flags[k] = true;
    } else if (a === '-h') flags.help = true;
    else pos.push(a);
  }
  return { pos, flags };
}

function intFlag(flags: Record<string, string | boolean>, k: string, def?: number): number | undefined {
  const v = flags[k];
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new G2DError(`--${k} must be a non-negative integer, got "${v}"`);
  return n;
}

function jsonSafe(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return `<${(v as Uint16Array).length} values>`;
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { pos, flags } = parseArgs(argv);
  const cmd = pos[0];
  if (!cmd || flags.help || cmd === 'help') {
    out(HELP);
    return cmd || flags.help ? 0 : 1;
  }
  if (cmd === 'convert') {
    const [, input, output] = pos;
    if (!input || !output) throw new G2DError('usage: g2d-data convert <in> <out.png>');
    const { image, meta } = await loadImage(input, {
      voi: !flags['no-voi'],
      voiIndex: intFlag(flags, 'voi-index', 0),
      invertMonochrome1: !flags['no-invert'],
      frame: intFlag(flags, 'frame', 0),
    });
    let img = image;
    if (flags['full-range'] && image.maxValue !== 65535) {
      const d = new Uint16Array(image.data.length);
      for (let i = 0; i < d.length; i++) d[i] = Math.floor((image.data[i]! / image.maxValue) * 65535 + 0.5);
      img = { ...image, data: d, maxValue: 65535 };
    }
    fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
    fs.writeFileSync(output, encodeGrayPng(img));
    out(`${output}: ${img.width}x${img.height} ${img.maxValue <= 255 ? 8 : 16}-bit grey, values 0..${img.maxValue}${meta.steps ? ` (${meta.steps.join('; ')})` : ''}\n`);
    return 0;
  }
  if (cmd === 'inspect') {
    const file = pos[1];
    if (!file) throw new G2DError('usage: g2d-data inspect <file>');
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new G2DError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read file (${(e as Error).message})`, { source: file });
    }
    const fmt = sniffFormat(bytes) ?? (file.toLowerCase().endsWith('.png') || file.toLowerCase().match(/\.jpe?g$/) ? undefined : 'dicom');
    if (fmt === 'dicom') {
      out(JSON.stringify(jsonSafe({ format: 'dicom', bytes: bytes.length, ...readDicomMeta(bytes, file) }), null, 2) + '\n');
    } else {
      const { meta, image } = await loadImage(file);
      out(JSON.stringify(jsonSafe({ ...meta, bytes: bytes.length, maxValue: image.maxValue }), null, 2) + '\n');
    }
    return 0;
  }
  if (cmd === 'prepare') {
    const list = flags.list;
    const outDir = flags.out;
    const dataset = flags.dataset;
    if ((typeof list !== 'string' && typeof dataset !== 'string') || typeof outDir !== 'string') {
      throw new G2DError('usage: g2d-data prepare (--list <files.txt|items.csv> | --dataset <name> --root <dir>) --out <dir>');
    }
    let files: string[] | undefined;
    if (typeof dataset === 'string') {
      if (typeof flags.root !== 'string') throw new G2DError('--dataset needs --root <dataset folder>');
      const idx = datasets.create(dataset, { root: flags.root, onError: 'skip' });
      files = idx.items.filter((i) => i.image).map((i) => i.image!);
    }
    const variant = (flags.variant as string | undefined) ?? 'code';
    if (variant !== 'code' && variant !== 'clean') throw new G2DError(`--variant must be code or clean, got "${variant}"`);
    const onError = (flags['on-error'] as string | undefined) ?? 'skip';
    if (onError !== 'skip' && onError !== 'fail') throw new G2DError(`--on-error must be skip or fail, got "${onError}"`);
    const r = await prepareDataset({
      list: typeof list === 'string' ? list : undefined,
      files,
      outDir,
      root: typeof flags.root === 'string' ? flags.root : undefined,
      column: typeof flags.column === 'string' ? flags.column : undefined,
      size: intFlag(flags, 'size', 256),
      shardSize: intFlag(flags, 'shard-size', 4096),
      variant,
      onError,
      progress: !flags.quiet,
    });
    out(`prepared ${r.written} image(s) (${r.resumedFrom} already done), skipped ${r.skipped.length}; manifest ${r.manifestPath}\n`);
    for (const s of r.skipped.slice(0, 20)) out(`  skipped ${s.source}: ${s.reason}\n`);
    if (r.skipped.length > 20) out(`  ... and ${r.skipped.length - 20} more (see the manifest)\n`);
    return 0;
  }
  throw new G2DError(`unknown command "${cmd}" (convert, inspect, prepare; --help for usage)`);
}

// run when executed directly (not when imported by tests)
const isMain = typeof require !== 'undefined' && typeof module !== 'undefined' ? require.main === module : process.argv[1]?.endsWith('cli.mjs') || process.argv[1]?.endsWith('cli.ts');
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`g2d-data: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
