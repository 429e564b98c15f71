/**
 * Synthetic chest radiographs: a seeded procedural generator of frontal radiographs with
 * findings (exact masks and boxes) and radiology-style reports, a dataset writer, the
 * `synthetic` dataset adapter and the `g2d-data synth` command.
 */
export {
  generateSynthetic, resolveSynthOptions, syntheticLayout, synthId, synthPatientId, synthSplit, STUDIES_PER_PATIENT,
  type ResolvedSynthOptions, type SynthOptions, type SynthSample, type SynthSplit,
} from './generate';
export {
  LUNG_FINDINGS, SYNTH_FINDINGS,
  type DeviceKind, type FindingDetail, type FindingSide, type FindingZone, type SynthFinding, type SynthFindingName,
} from './findings';
export { NORMAL_IMPRESSIONS, SYNTH_TERMS } from './report';
export { FOV_MM } from './anatomy';
export { SYNTH_VERSION, writeSyntheticDataset, type WriteSyntheticOptions, type WriteSyntheticResult } from './write';
export { isSyntheticItem, loadSyntheticItem, parseDatasetSpec, syntheticDataset, type SyntheticAdapterOptions, type SyntheticItemSource } from './adapter';
export { synthCommand } from './cli';
