/** `g2d-data inspect`: a radiograph's metadata as JSON, and whether its pixel data is complete. */
import * as fs from 'node:fs';
import { G2DError, type CliCommand } from '@g2d-ts/core';
import { loadImage, sniffFormat } from '../image';
import { readDicomMeta } from '../dicom/read';

function jsonSafe(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return `<${(v as Uint16Array).length} values>`;
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

export const inspectCommand: CliCommand = {
  summary: 'print a radiograph\'s metadata as JSON (DICOM header fields, transfer syntax, frames; PNG/JPEG size and depth)',
  positionals: [{ name: 'file' }],
  options: {
    'allow-truncated': { type: 'boolean', description: 'exit 0 even when the DICOM pixel data is incomplete' },
  },
  details:
    'DICOM: the header is read without decoding the pixels; "pixelDataComplete" says whether every byte\n' +
    'the header promises is in the file (native: rows x columns x samples x bits x frames; encapsulated:\n' +
    'every fragment and the closing delimiter), "pixelDataProblem" says what is missing. A file with\n' +
    'incomplete pixel data prints its JSON and exits 1, unless --allow-truncated.\n' +
    'PNG/JPEG: the image is decoded, so a truncated or corrupt file is an error (exit 1).',
  async run({ values, positionals }, ctx) {
    const file = ctx.resolvePath(positionals.file!);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new G2DError(code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot read file (${(e as Error).message})`, { source: file });
    }
    if (bytes.length === 0) throw new G2DError('file is empty', { source: file });
    const lower = file.toLowerCase();
    const fmt = sniffFormat(bytes) ?? (lower.endsWith('.png') || /\.jpe?g$/.test(lower) ? undefined : 'dicom');
    if (fmt === 'dicom') {
      const meta = readDicomMeta(bytes, file);
      ctx.out(JSON.stringify(jsonSafe({ format: 'dicom', bytes: bytes.length, ...meta }), null, 2) + '\n');
      if (!meta.pixelDataComplete && !values['allow-truncated']) {
        ctx.err(`${ctx.bin}: ${file}: ${meta.pixelDataProblem ?? 'incomplete pixel data'} (--allow-truncated to accept)\n`);
        return 1;
      }
      return 0;
    }
    const { meta, image } = await loadImage(file);
    ctx.out(JSON.stringify(jsonSafe({ ...meta, bytes: bytes.length, maxValue: image.maxValue, pixelDataComplete: true }), null, 2) + '\n');
    return 0;
  },
};
