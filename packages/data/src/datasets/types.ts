/**
 * Dataset adapter types. Each adapter reads a dataset's own published layout and returns an index
 * of item references (paths + labels + text + boxes/mask source), cheap to build and to split;
 * `loadItem` decodes one item. Bad rows are errors naming the file and line, or, with
 * `onError: 'skip'`, are logged, counted and reported in `skipped`.
 */
import type { Box } from '../masks';

export interface ItemRef {
  /** unique id within the dataset (image id) */
  id: string;
  /** patient id: splits never put one patient in two parts */
  patientId: string;
  /** absolute image path (may be absent for report-only datasets) */
  image?: string;
  text?: string;
  labels?: number[];
  boxes?: Box[];
  /** where the mask comes from: a mask image, SIIM RLE strings, or the boxes */
  mask?: { kind: 'image'; path: string } | { kind: 'rle'; rle: string[]; width: number; height: number } | { kind: 'boxes' };
  meta?: Record<string, unknown>;
}

export interface DatasetIndex {
  name: string;
  root: string;
  /** label names, in the order of ItemRef.labels */
  classes?: string[];
  items: ItemRef[];
  skipped: { source: string; reason: string }[];
}

export interface AdapterOptions {
  root: string;
  /** 'fail' (default): the first bad row throws; 'skip': bad rows are logged, counted and listed in `skipped` */
  onError?: 'fail' | 'skip';
  log?: (msg: string) => void;
}
