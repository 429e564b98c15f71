/**
 * @g2d-ts/data: radiograph I/O and dataset plumbing. DICOM/PNG/JPEG decoding and grey mapping,
 * the reference G2D preprocessing, seeded dictionary transforms, report cleaning and tables,
 * masks, dataset adapters and their registry, patient-level splits, the worker-thread
 * DataLoader and the sharded uint8 cache.
 */

// the decoding API shared with the browser entry (DICOM, PNG/JPEG, presentation, preprocessing,
// transforms, masks): decoding.ts names it; the Node-only readers and writers follow
export * from './decoding';
export { readDicom } from './dicom/read';
export { encodeRleFrame } from './dicom/rle';
export { loadImage } from './image';

// reports and tables
export { extractSections, parseIuXml, readIuReportsArchive, referenceReportText, type IuReport, type ReportSections } from './reports';
export { parseCsv, readCsv, type CsvRow } from './csv';

// datasets
export type { AdapterOptions, DatasetIndex, ItemRef } from './datasets/types';
export { CHEXPERT_5, CHEXPERT_UNCERTAIN_ONES, MIMIC_CHEXPERT_14, NIH_CLASSES } from './datasets/labels';
export { chexpert, type ChexpertOptions } from './datasets/chexpert';
export { covidChestXray, type CovidOptions } from './datasets/covid-chestxray';
export { covidx, type CovidxOptions } from './datasets/covidx';
export { iuXray, type IuOptions } from './datasets/iu-xray';
export { mimicCxr, type MimicOptions } from './datasets/mimic-cxr';
export { nihChestXray14, type NihOptions } from './datasets/nih-cxr14';
export { objectCxr, type ObjectCxrOptions } from './datasets/object-cxr';
export { rsnaPneumonia, type RsnaOptions } from './datasets/rsna-pneumonia';
export { siimAcr, type SiimOptions } from './datasets/siim-acr';
export { datasets } from './datasets/registry';
export { loadItem, type LoadedItem } from './load-item';
export { prepareItem, type PreparedItem, type PrepareItemOptions } from './prepare-item';

// splits, loading, caches
export {
  makeSplitFile, patientFraction, patientSplit, readSplitFile, selectPart, writeSplitFile,
  type SplitFile, type SplitRatios, type Splits,
} from './splits';
export { DataLoader, type Batch, type LoaderOptions } from './loader';
export { openCache, prepareDataset, type CacheManifest, type PreparedCache, type PrepareOptions, type PrepareResult } from './cache';

// synthetic chest radiographs (generator, writer, `synthetic` adapter, `g2d-data synth`); synth/index.ts lists the names
export * from './synth';
