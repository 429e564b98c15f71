/**
 * The public readers under fuzz, each with its seed inputs: valid files that the mutations
 * start from. Synthetic seeds (made here) are always there; the shared real-data samples
 * (`../shared/data`, or G2D_SHARED_DIR) are added when present. `small` seeds keep the
 * test-suite run quick; the `pnpm fuzz` run uses them all.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { decompressAuto, readTar } from '@g2d-ts/core';
import { sharedPath } from '@g2d-ts/core/testing';
import {
  covidChestXray, decodeImage, decodeJpegGray, decodePngGray, decodeSiimRle, encodeGrayPng, encodeRleFrame, encodeSiimRle,
  nihChestXray14, parseCsv, parseIuXml, readDicomMeta, readIuReportsArchive, rsnaPneumonia, siimAcr,
} from '@g2d-ts/data';
import { concatBytes, writeDicom, type El } from '@g2d-ts/data/testing';
import { BertTokenizer, bertTokenizerJson, parseVocab } from '@g2d-ts/text';

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

export interface Target {
  name: string;
  /** the public function(s) it calls */
  reader: string;
  /** text format (mutations add syntax tokens) */
  text: boolean;
  seeds(small: boolean): Seed[];
  /**
   * Feeds one mutated input to the reader. `label` names the case: in-memory readers get it as
   * their source, file readers find their files in a folder of that name under `scratch`; a
   * G2DError must contain it.
   */
  run(input: Uint8Array, label: string, scratch: string, seedName: string): Promise<unknown> | unknown;
  /** applied after the mutations (e.g. repair checksums so the mutation reaches the decoder) */
  fix?(input: Uint8Array): Uint8Array;
}

/** Recomputes every PNG chunk CRC that can be located, so mutated chunk data reaches the decoder. */
export function fixPngCrcs(png: Uint8Array): Uint8Array {
  const b = Uint8Array.from(png);
  const dv = new DataView(b.buffer);
  let p = 8;
  while (p + 12 <= b.length) {
    const len = dv.getUint32(p);
    if (p + 12 + len > b.length) break;
    dv.setUint32(p + 8 + len, crc32(b.subarray(p + 4, p + 8 + len)) >>> 0);
    p += 12 + len;
  }
  return b;
}

const utf8 = new TextDecoder();
const enc = new TextEncoder();

function shared(rel: string): string | null {
  return sharedPath(`data/${rel}`);
}

function files(dir: string | null, re: RegExp, maxBytes = Infinity): string[] {
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => re.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile() && fs.statSync(f).size <= maxBytes)
    .sort();
}

function seedFiles(list: string[], limit = Infinity): Seed[] {
  return list.slice(0, limit).map((f) => ({ name: path.basename(f), bytes: new Uint8Array(fs.readFileSync(f)) }));
}

/** The first `n` lines of a (possibly gzipped / zipped) text file. */
function headLines(file: string, n: number): Uint8Array {
  const text = utf8.decode(decompressAuto(new Uint8Array(fs.readFileSync(file)), file));
  return enc.encode(text.split('\n').slice(0, n).join('\n') + '\n');
}

// ---------------------------------------------------------------- synthetic seeds

const FUZZ_DICOM = { patientId: 'FUZZ' } as const;
/** (0028,xxxx) window / rescale elements as decimal strings */
const ds28 = (element: number, value: string): El => ({ tag: [0x0028, element], vr: 'DS', value });

function syntheticDicoms(): Seed[] {
  const r = 12;
  const c = 10;
  const px16 = new Uint8Array(new Uint16Array(Array.from({ length: r * c }, (_, i) => (i * 37) % 1024)).buffer);
  const px8 = Uint8Array.from({ length: r * c }, (_, i) => (i * 11) % 256);
  return [
    { name: 'synthetic-10bit-window', bytes: writeDicom({ ...FUZZ_DICOM, rows: r, cols: c, bitsStored: 10, pixels: px16, extra: [ds28(0x1050, '512'), ds28(0x1051, '800'), ds28(0x1052, '-20'), ds28(0x1053, '1.5')] }) },
    { name: 'synthetic-8bit', bytes: writeDicom({ ...FUZZ_DICOM, rows: r, cols: c, bitsAllocated: 8, pixels: px8 }) },
    { name: 'synthetic-rle', bytes: writeDicom({ ...FUZZ_DICOM, rows: r, cols: c, bitsStored: 12, frames: [encodeRleFrame(px16, r, c, 1, 16)], transferSyntax: '1.2.840.10008.1.2.5' }) },
    { name: 'synthetic-jpeg-baseline', bytes: writeDicom({ ...FUZZ_DICOM, rows: 12, cols: 16, bitsAllocated: 8, frames: [TINY_JPEG], transferSyntax: '1.2.840.10008.1.2.4.50' }) },
  ];
}

/** 16x12 grey baseline JPEG (quality 90) and a progressive RGB one, made with Pillow. */
const TINY_JPEG = Uint8Array.from(Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/wAALCAAMABABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APmT4EfD/wD49/3fp2r9FvgR8P8A/j3/AHfp2r5n+BGi2v8Ao/7v0r6W/aD8Zaj8If2QfiD4n8NyfZNahsoLK3uld0kt/tNzFatLGyMrLKizs6MD8rqpwQMH/9k=',
  'base64',
));
const TINY_JPEG_PROGRESSIVE = Uint8Array.from(Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wgARCAAMABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAABQb/xAAUAQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIQAxAAAAEK0CcP/8QAGRAAAwEBAQAAAAAAAAAAAAAAAAMEAQIF/9oACAEBAAEFApVEqiXnCtmo8z//xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oACAEDAQE/AX//xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oACAECAQE/AX//xAAaEAACAgMAAAAAAAAAAAAAAAACEQMhABBx/9oACAEBAAY/AtzSBRJPtZ//xAAaEAACAwEBAAAAAAAAAAAAAAABIQARMVFh/9oACAEBAAE/IcFMFEFCY0gHFhYeuf/aAAwDAQACAAMAAAAQM//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQMBAT8Qf//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQIBAT8Qf//EABgQAQADAQAAAAAAAAAAAAAAAAEAEBFB/9oACAEBAAE/ELZlY5h5R2iCIBo8Qn//2Q==',
  'base64',
));

function syntheticPngs(): Seed[] {
  const w = 13;
  const h = 9;
  const d8 = Uint8Array.from({ length: w * h }, (_, i) => (i * 29) % 256);
  const d16 = Uint16Array.from({ length: w * h }, (_, i) => (i * 997) % 65536);
  return [
    { name: 'synthetic-8bit.png', bytes: encodeGrayPng({ width: w, height: h, data: d8, maxValue: 255 }) },
    { name: 'synthetic-16bit.png', bytes: encodeGrayPng({ width: w, height: h, data: d16, maxValue: 65535 }) },
  ];
}

const CSV_SEED = `Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position
00000001_000.png,Cardiomegaly,0,1,58,M,PA
00000001_001.png,"Cardiomegaly|Emphysema",1,1,58,M,PA
00000002_000.png,No Finding,0,2,81,M,PA
`;
const BBOX_SEED = `Image Index,Finding Label,Bbox [x,y,w,h],,,
00000001_000.png,Cardiomegaly,225.08,547.02,86.78,79.19
`;
const COVID_SEED = `patientid,offset,sex,age,finding,survival,view,modality,date,location,filename,doi,url,license,clinical_notes
2,0,M,65,Pneumonia/Viral/COVID-19,Y,PA,X-ray,2020,Wuhan,a.jpg,,,,"diffuse infiltrates, ""ground glass"""
3,,F,52,No Finding,,AP,X-ray,2020,,b.jpg,,,,
`;
const RSNA_SEED = `patientId,x,y,width,height,Target
0004cfab-14fd-4e49-80ba-63a80b6bddd6,,,,,0
00436515-870c-4b36-a041-de91049b9ab4,264.0,152.0,213.0,379.0,1
00436515-870c-4b36-a041-de91049b9ab4,562.0,152.0,256.0,453.0,1
`;

function syntheticRle(): Seed[] {
  const w = 64;
  const h = 48;
  const data = new Uint8Array(w * h);
  for (let y = 10; y < 30; y++) for (let x = 5 + (y % 7); x < 40; x++) data[x * h + y] = 1;
  return [
    { name: 'synthetic-rle', bytes: enc.encode(encodeSiimRle({ width: w, height: h, data })) },
    { name: 'empty-rle', bytes: enc.encode('-1') },
  ];
}

const IU_XML = `<?xml version="1.0" encoding="utf-8"?>
<eCitation>
<IUXRId id="1"/>
<MedlineCitation Owner="Indiana University" Status="supplied">
<Article PubModel="Electronic"><Abstract>
<AbstractText Label="COMPARISON">None.</AbstractText>
<AbstractText Label="INDICATION">Positive TB test</AbstractText>
<AbstractText Label="FINDINGS">The cardiac silhouette and mediastinum size are within normal limits. There is no pulmonary edema.</AbstractText>
<AbstractText Label="IMPRESSION">Normal chest x-XXXX.</AbstractText>
</Abstract></Article></MedlineCitation>
<MeSH><major>normal</major></MeSH>
<parentImage id="CXR1_1_IM-0001-3001"><figureId>F1</figureId></parentImage>
<parentImage id="CXR1_1_IM-0001-4001"><figureId>F2</figureId></parentImage>
</eCitation>
`;

const TOY_VOCAB = ['[PAD]', '[unused0]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'lung', '##s', 'are', 'clear', '.', 'no', 'acute', 'process', ','];

/** A small tar (ustar) of the given files, gzipped. */
function tgz(entries: [string, Uint8Array][]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, body] of entries) {
    const h = new Uint8Array(512);
    h.set(enc.encode(name).subarray(0, 100), 0);
    h.set(enc.encode('0000644\0'), 100);
    h.set(enc.encode('0000000\0'), 108);
    h.set(enc.encode('0000000\0'), 116);
    h.set(enc.encode(body.length.toString(8).padStart(11, '0') + '\0'), 124);
    h.set(enc.encode('00000000000\0'), 136);
    h[156] = 0x30;
    h.set(enc.encode('ustar\0' + '00'), 257);
    h.fill(0x20, 148, 156);
    const sum = h.reduce((a, b) => a + b, 0);
    h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
    blocks.push(h, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return new Uint8Array(gzipSync(concatBytes(blocks)));
}

/** The first `n` report XMLs of the shared IU archive. */
function iuXmls(n: number): Seed[] {
  const tgzFile = shared('iu_xray_reports_text_only/NLMCXR_reports.tgz');
  if (!tgzFile) return [];
  const out: Seed[] = [];
  for (const [name, body] of readTar(new Uint8Array(fs.readFileSync(tgzFile)), tgzFile)) {
    if (!name.endsWith('.xml')) continue;
    out.push({ name: path.basename(name), bytes: Uint8Array.from(body) });
    if (out.length >= n) break;
  }
  return out;
}

function scratchDir(scratch: string, label: string): string {
  const d = path.join(scratch, label);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Seed name prefix saying which file of a multi-file table target the mutation hits. */
function which(seed: string): string {
  return seed.split(':')[0]!;
}

// ---------------------------------------------------------------- targets

/**
 * A dataset adapter fed one mutated table (`file` in a scratch folder): once with onError 'fail'
 * (may throw only a G2DError), then with 'skip' (must succeed). Seeds: a synthetic table and,
 * in the full run, the head of the shared real one.
 */
function tableTarget(t: {
  name: string;
  reader: string;
  file: string;
  adapter: (o: { root: string; onError: 'fail' | 'skip'; log: () => void }) => unknown;
  synthetic: { name: string; text: string };
  real: { name: string; rel: string; lines: number };
}): Target {
  return {
    name: t.name,
    reader: t.reader,
    text: true,
    seeds: (small) => {
      const s: Seed[] = [{ name: t.synthetic.name, bytes: enc.encode(t.synthetic.text) }];
      const real = shared(t.real.rel);
      if (real && !small) s.push({ name: t.real.name, bytes: headLines(real, t.real.lines) });
      return s;
    },
    run(b, label, scratch) {
      const d = scratchDir(scratch, label);
      fs.writeFileSync(path.join(d, t.file), b);
      t.adapter({ root: d, onError: 'fail', log: () => undefined });
      return t.adapter({ root: d, onError: 'skip', log: () => undefined });
    },
  };
}

export const TARGETS: Target[] = [
  {
    name: 'dicom',
    reader: 'decodeImage (DICOM: parse, decode every transfer syntax, Modality LUT / VOI / quantise)',
    text: false,
    seeds: (small) => [
      ...syntheticDicoms(),
      ...seedFiles([...files(shared('dicom_samples/codecs'), /\.dcm$/, small ? 16_000 : 600_000), ...files(shared('dicom_samples/chest'), /\.dcm$/, small ? 0 : 600_000)]),
    ],
    run: (b, label) => decodeImage(b, label, { format: 'dicom' }),
  },
  {
    name: 'dicom-meta',
    reader: 'readDicomMeta (header, pixelDataComplete)',
    text: false,
    seeds: (small) => [...syntheticDicoms(), ...seedFiles(files(shared('dicom_samples/codecs'), /\.dcm$/, small ? 16_000 : 600_000))],
    run: (b, label) => readDicomMeta(b, label),
  },
  {
    name: 'png',
    reader: 'decodePngGray',
    text: false,
    seeds: (small) => [...syntheticPngs(), ...seedFiles(files(shared('covid_chestxray_ieee8023/masks/v7labs'), /\.png$/i, 4_000), small ? 2 : 12), ...(small ? [] : seedFiles(files(shared('nih_cxr14_txv_samples'), /\.png$/i)))],
    run: (b, label) => decodePngGray(b, label),
  },
  {
    name: 'png-crc',
    reader: 'decodePngGray (chunk CRCs repaired after mutation: reaches IHDR/PLTE/IDAT/zlib handling)',
    text: false,
    seeds: (small) => [...syntheticPngs(), ...seedFiles(files(shared('covid_chestxray_ieee8023/masks/v7labs'), /\.png$/i, 4_000), small ? 2 : 12)],
    run: (b, label) => decodePngGray(b, label),
    fix: fixPngCrcs,
  },
  {
    name: 'jpeg',
    reader: 'decodeJpegGray',
    text: false,
    seeds: (small) => [
      { name: 'synthetic-baseline.jpg', bytes: TINY_JPEG },
      { name: 'synthetic-progressive.jpg', bytes: TINY_JPEG_PROGRESSIVE },
      ...seedFiles(files(shared('covid_chestxray_ieee8023/images'), /\.jpe?g$/i, small ? 9_000 : 40_000), small ? 1 : 8),
    ],
    run: (b, label) => decodeJpegGray(b, label),
  },
  {
    name: 'csv',
    reader: 'parseCsv',
    text: true,
    seeds: (small) => {
      const s: Seed[] = [{ name: 'synthetic.csv', bytes: enc.encode(CSV_SEED) }, { name: 'synthetic-covid.csv', bytes: enc.encode(COVID_SEED) }];
      const tables = files(shared('label_tables'), /\.csv(\.gz)?$/);
      for (const f of small ? tables.slice(0, 2) : tables) s.push({ name: path.basename(f), bytes: headLines(f, 40) });
      const meta = shared('covid_chestxray_ieee8023/metadata.csv');
      if (meta && !small) s.push({ name: 'covid-metadata.csv', bytes: headLines(meta, 40) });
      return s;
    },
    run: (b, label) => parseCsv(utf8.decode(b), label),
  },
  {
    name: 'nih-table',
    reader: 'nihChestXray14 (Data_Entry + BBox_List tables)',
    text: true,
    seeds: (small) => {
      const s: Seed[] = [{ name: 'entry:synthetic', bytes: enc.encode(CSV_SEED) }, { name: 'bbox:synthetic', bytes: enc.encode(BBOX_SEED) }];
      const lt = shared('label_tables');
      if (lt && !small) {
        s.push({ name: 'entry:Data_Entry_2017_v2020', bytes: headLines(path.join(lt, 'Data_Entry_2017_v2020.csv.gz'), 30) });
        s.push({ name: 'bbox:BBox_List_2017', bytes: headLines(path.join(lt, 'BBox_List_2017.csv.gz'), 30) });
      }
      return s;
    },
    run(b, label, scratch, seedName) {
      const d = scratchDir(scratch, label);
      const isBox = which(seedName) === 'bbox';
      fs.writeFileSync(path.join(d, 'data_entry.csv'), isBox ? CSV_SEED : b);
      fs.writeFileSync(path.join(d, 'bbox.csv'), isBox ? b : BBOX_SEED);
      nihChestXray14({ root: d, onError: 'fail', log: () => undefined });
      return nihChestXray14({ root: d, onError: 'skip', log: () => undefined });
    },
  },
  tableTarget({
    name: 'covid-table', reader: 'covidChestXray (metadata.csv)', file: 'metadata.csv', adapter: covidChestXray,
    synthetic: { name: 'synthetic-metadata.csv', text: COVID_SEED },
    real: { name: 'metadata.csv', rel: 'covid_chestxray_ieee8023/metadata.csv', lines: 30 },
  }),
  tableTarget({
    name: 'rsna-table', reader: 'rsnaPneumonia (stage_2_train_labels.csv)', file: 'stage_2_train_labels.csv',
    adapter: (o) => rsnaPneumonia({ ...o, keepMissingImages: true }),
    synthetic: { name: 'synthetic-labels.csv', text: RSNA_SEED },
    real: { name: 'kaggle_stage_2_train_labels.csv', rel: 'label_tables/kaggle_stage_2_train_labels.csv.zip', lines: 30 },
  }),
  tableTarget({
    name: 'siim-table', reader: 'siimAcr (train-rle.csv)', file: 'train-rle.csv', adapter: siimAcr,
    synthetic: { name: 'synthetic-rle.csv', text: `ImageId, EncodedPixels\n1.2.3,-1\n1.2.4,10 5 20 3\n` },
    real: { name: 'siim-pneumothorax-train-rle.csv', rel: 'label_tables/siim-pneumothorax-train-rle.csv.gz', lines: 12 },
  }),
  {
    name: 'siim-rle',
    reader: 'decodeSiimRle',
    text: true,
    seeds: (small) => {
      const s = syntheticRle();
      const f = shared('label_tables/siim-pneumothorax-train-rle.csv.gz');
      if (f) {
        const rows = parseCsv(utf8.decode(headLines(f, 200)), f);
        const col = Object.keys(rows[0] ?? {}).find((k) => k.trim() === 'EncodedPixels');
        const pos = rows.map((r) => (col ? r[col]!.trim() : '')).filter((v) => v && v !== '-1');
        for (const [i, v] of pos.slice(0, small ? 2 : 12).entries()) s.push({ name: `siim-row-${i}`, bytes: enc.encode(v) });
      }
      return s;
    },
    run(b, label, _scratch, seedName) {
      const text = utf8.decode(b);
      const [w, h] = seedName.startsWith('siim-row') ? [1024, 1024] : [64, 48];
      return decodeSiimRle(text.split('\n'), w, h, label);
    },
  },
  {
    name: 'iu-xml',
    reader: 'parseIuXml',
    text: true,
    seeds: (small) => [{ name: 'synthetic.xml', bytes: enc.encode(IU_XML) }, ...iuXmls(small ? 2 : 20)],
    run: (b, label) => parseIuXml(utf8.decode(b), label),
  },
  {
    name: 'iu-archive',
    reader: 'readIuReportsArchive (NLMCXR_reports.tgz)',
    text: false,
    seeds: (small) => {
      const xmls = [{ name: 'synthetic.xml', bytes: enc.encode(IU_XML) }, ...iuXmls(small ? 2 : 6)];
      const entries = xmls.map((x): [string, Uint8Array] => [`ecgen-radiology/${x.name}`, x.bytes]);
      // the gzipped archive, and its tar (mutations of which reach the tar headers and the XML)
      return [{ name: 'synthetic.tgz', bytes: tgz(entries) }, { name: 'synthetic.tar', bytes: new Uint8Array(gunzipSync(tgz(entries))) }];
    },
    run(b, label, scratch) {
      const d = scratchDir(scratch, label);
      const f = path.join(d, 'NLMCXR_reports.tgz');
      fs.writeFileSync(f, b);
      return readIuReportsArchive(f);
    },
  },
  {
    name: 'vocab',
    reader: 'parseVocab + BertTokenizer.fromVocab + encode',
    text: true,
    seeds: (small) => {
      const s: Seed[] = [{ name: 'toy-vocab.txt', bytes: enc.encode(TOY_VOCAB.join('\n') + '\n') }];
      const v = shared('tokenizers/bert-base-cased/vocab.txt');
      if (v) s.push({ name: 'bert-base-cased-vocab.txt', bytes: small ? headLines(v, 2000) : new Uint8Array(fs.readFileSync(v)) });
      return s;
    },
    run(b, label) {
      const tok = BertTokenizer.fromVocab(parseVocab(utf8.decode(b), label), { source: label });
      return tok.encode('No acute cardiopulmonary process; the lungs are clear.');
    },
  },
  {
    name: 'tokenizer-json',
    reader: 'BertTokenizer.fromFile (tokenizer.json) + encode',
    text: true,
    seeds: () => [
      { name: 'toy-tokenizer.json', bytes: enc.encode(JSON.stringify(bertTokenizerJson(TOY_VOCAB, { lowercase: true }))) },
      { name: 'toy-tokenizer-pretty.json', bytes: enc.encode(JSON.stringify(bertTokenizerJson(TOY_VOCAB), null, 1)) },
    ],
    run(b, label, scratch) {
      const d = scratchDir(scratch, label);
      const f = path.join(d, 'tokenizer.json');
      fs.writeFileSync(f, b);
      return BertTokenizer.fromFile(f).encode('the lungs are clear.');
    },
  },
];

export function targetByName(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target "${name}" (targets: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
