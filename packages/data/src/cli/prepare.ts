/** `g2d-data prepare`: a dataset (or a list of images) preprocessed into a resumable uint8 cache. */
import { G2DError, UsageError, choiceOption, intOption, stringOption, type CliCommand, type CliValues } from '@g2d-ts/core';
import { prepareDataset } from '../cache';
import { datasets } from '../datasets/registry';

/** The folder layout each dataset adapter reads under --root (shown by `prepare --help`). */
export const DATASET_LAYOUTS: Record<string, string> = {
  'nih-cxr14': `Data_Entry_2017_v2020.csv | Data_Entry_2017.csv | data_entry.csv  (Image Index, Finding Labels, Patient ID; an optional "image" column is a path under the root)
BBox_List_2017.csv | bbox.csv                                          (optional boxes)
images/<Image Index>.png   or   images_001/images/ ... images_012/images/ (as released)`,
  'covid-chestxray': `metadata.csv            (patientid, finding, view, filename or image, clinical_notes; optional mask_v7labs / mask_lungvae)
images/<filename>
lung_bboxes.csv         (optional: image or filename, x, y, w, h, label)`,
  'siim-acr': `train-rle.csv | siim-pneumothorax-train-rle.csv(.gz) | *rle*.csv   (ImageId, EncodedPixels)
**/<ImageId>.dcm   searched recursively, e.g. dicom-images-train/<study>/<series>/<ImageId>.dcm`,
  'rsna-pneumonia': `stage_2_train_labels.csv | kaggle_stage_2_train_labels.csv (.zip/.gz accepted)   (patientId, x, y, width, height, Target)
stage_2_train_images/<patientId>.dcm`,
  chexpert: `train.csv (or valid.csv)   (Path, Frontal/Lateral, the label columns)
<Path>, e.g. CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg, found under the root's
  parent, the root, or the root without Path's first folder`,
  'mimic-cxr': `mimic-cxr-2.0.0-metadata.csv(.gz)   (dicom_id, subject_id, study_id, ViewPosition)
mimic-cxr-2.0.0-split.csv(.gz), mimic-cxr-2.0.0-chexpert.csv(.gz)   (optional)
files/p10/p10000032/s50414267/<dicom_id>.jpg
files/p10/p10000032/s50414267.txt   (report; only PA/AP images whose report has findings or impression)`,
  covidx: `<split>.txt (or <split>*.txt, --split train|test|val, default train)   lines "patient_id filename label [source]"
<split>/<filename>`,
  'object-cxr': `<split>.csv (--split train|dev, default train)   (image_name, annotation)
<split>/<image_name>`,
  'iu-xray': `NLMCXR_reports.tgz or reports.csv   (reports only: it lists no image files, so prepare has nothing
  to do; list the OpenI PNGs with --list instead)`,
};

function layoutHelp(): string {
  return datasets
    .list()
    .map((n) => {
      const tree = DATASET_LAYOUTS[n];
      // a dataset registered elsewhere: its registry entry's own one-line description
      if (tree === undefined) return `  ${n}:\n    ${String(datasets.meta(n)?.layout ?? "(see the adapter's documentation)")}`;
      return `  ${n}:\n${tree.split('\n').map((l) => (l.startsWith(' ') ? `        ${l.trim()}` : `    <root>/${l}`)).join('\n')}`;
    })
    .join('\n');
}

/** `--max-skipped`: a count ("10") or a percentage of the inputs ("5%"). */
export function skipLimit(values: CliValues, inputs: number): { limit: number; text: string } {
  const v = stringOption(values, 'max-skipped') ?? '5%';
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(v);
  if (!m || (m[2] !== '%' && !Number.isInteger(Number(m[1]))) || (m[2] === '%' && Number(m[1]) > 100)) {
    throw new UsageError(`option --max-skipped must be a count (e.g. 10) or a percentage 0..100% (e.g. 5%), got "${v}"`);
  }
  const limit = m[2] === '%' ? Math.floor((Number(m[1]) / 100) * inputs) : Number(m[1]);
  return { limit, text: v.trim() };
}

export const prepareCommand: CliCommand = {
  summary: 'apply the reference preprocessing to a dataset and write a resumable uint8 cache',
  usage: '(--list FILE | --dataset NAME --root DIR) --out DIR [options]',
  options: {
    list: { type: 'string', value: 'FILE', description: 'a .txt (one image path per line) or .csv list of images' },
    dataset: { type: 'string', value: 'NAME', description: `a dataset adapter: ${datasets.list().join(', ')}` },
    root: { type: 'string', value: 'DIR', description: 'the dataset folder (--dataset), or the folder relative list\nentries resolve against (--list; default: the list\'s folder)' },
    split: { type: 'string', value: 'NAME', description: 'the split a dataset adapter reads (covidx, object-cxr, mimic-cxr)' },
    out: { type: 'string', value: 'DIR', description: 'the cache folder (created; a cache there is resumed)' },
    size: { type: 'string', value: 'N', description: 'output side in pixels (default 256)' },
    variant: { type: 'string', value: 'code|clean', description: 'reference preprocessing variant (default code)' },
    'shard-size': { type: 'string', value: 'N', description: 'images per shard file (default 4096)' },
    column: { type: 'string', value: 'NAME', description: 'CSV list column holding the paths (default image/path/file/...)' },
    'on-error': { type: 'string', value: 'skip|fail', description: 'unreadable image: skip it (default) or stop' },
    'max-skipped': { type: 'string', value: 'N|P%', description: 'exit 1 when more inputs than this are unreadable (default 5%)' },
    overwrite: { type: 'boolean', description: 'replace a cache in --out made from other inputs or options' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  details: () =>
    `Writes <out>/shard-00000.u8 ... (raw N*N bytes per image, memory-mappable) and <out>/manifest.json.
Relative paths resolve against the current directory. Re-running with the same inputs and options
resumes after the last complete shard and retries the items that were skipped; a different list or
different options are refused (use another --out, or --overwrite). Prints
  prepared N image(s) (M already done), skipped K; manifest <out>/manifest.json
and exits 1 when the input list is empty, when the cache holds no image, or when more than
--max-skipped inputs could not be read (the first reasons are printed).

Folder layout each --dataset expects under --root:
${layoutHelp()}`,
  async run({ values }, ctx) {
    const list = stringOption(values, 'list');
    const dataset = stringOption(values, 'dataset');
    const out = stringOption(values, 'out');
    const root = stringOption(values, 'root');
    if (list && dataset) throw new UsageError('give either --list or --dataset, not both');
    if (!list && !dataset) throw new UsageError('give --list FILE or --dataset NAME --root DIR');
    if (!out) throw new UsageError('--out DIR is required');
    if (dataset && !root) throw new UsageError('--dataset needs --root DIR (the dataset folder)');
    if (dataset && !datasets.has(dataset)) throw new UsageError(`unknown dataset "${dataset}"; datasets: ${datasets.list().join(', ')}`);
    if (list && values.split !== undefined) throw new UsageError('--split applies to --dataset only');
    if (dataset && values.column !== undefined) throw new UsageError('--column applies to --list only');
    const size = intOption(values, 'size', 256, { min: 1, max: 65535 });
    const shardSize = intOption(values, 'shard-size', 4096, { min: 1 });
    const variant = choiceOption(values, 'variant', ['code', 'clean'] as const, 'code');
    const onError = choiceOption(values, 'on-error', ['skip', 'fail'] as const, 'skip');
    skipLimit(values, 0); // validate before any work

    let files: string[] | undefined;
    if (dataset) {
      // the root is resolved here, once: the adapter returns absolute image paths
      const opts: Record<string, unknown> = { root: ctx.resolvePath(root!), onError, log: (m: string) => ctx.err(`${m}\n`) };
      const split = stringOption(values, 'split');
      if (split) opts.split = split;
      const idx = datasets.create(dataset, opts as never);
      files = idx.items.filter((i) => i.image).map((i) => ctx.resolvePath(i.image!));
      if (idx.items.length > 0 && files.length === 0) throw new G2DError(`dataset ${dataset} lists ${idx.items.length} item(s) but no image files`, { source: ctx.resolvePath(root!) });
    }
    const r = await prepareDataset({
      list: list ? ctx.resolvePath(list) : undefined,
      files,
      root: list && root ? ctx.resolvePath(root) : undefined,
      cwd: ctx.cwd,
      outDir: ctx.resolvePath(out),
      column: stringOption(values, 'column'),
      size,
      shardSize,
      variant,
      onError,
      overwrite: !!values.overwrite,
      progress: !values.quiet,
      log: (s) => ctx.err(s),
    });
    const inputs = r.manifest.inputs;
    ctx.out(`prepared ${r.written} image(s) (${r.resumedFrom} already done), skipped ${r.skipped.length}; manifest ${r.manifestPath}\n`);
    const { limit, text } = skipLimit(values, inputs);
    const first = r.skipped.slice(0, 10).map((s) => `  ${s.source}: ${s.reason}\n`).join('') + (r.skipped.length > 10 ? `  ... and ${r.skipped.length - 10} more (listed in the manifest)\n` : '');
    if (inputs === 0) {
      ctx.err(`${ctx.bin}: prepare: the input list is empty: nothing to prepare\n`);
      return 1;
    }
    if (r.manifest.items.length === 0) {
      ctx.err(`${ctx.bin}: prepare: none of the ${inputs} input(s) could be read; the cache holds no image. First reasons:\n${first}`);
      return 1;
    }
    if (r.skipped.length > limit) {
      ctx.err(`${ctx.bin}: prepare: ${r.skipped.length} of ${inputs} input(s) could not be read, more than --max-skipped ${text} (${limit}). First reasons:\n${first}` +
        `(the cache keeps the ${r.manifest.items.length} prepared image(s); a re-run retries the skipped ones)\n`);
      return 1;
    }
    if (r.skipped.length) ctx.err(`skipped ${r.skipped.length} input(s):\n${first}`);
    return 0;
  },
};
