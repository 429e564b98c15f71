/**
 * The browser build's stand-in for `dicom-parser` (see tsup.browser.config.ts): the same
 * library with an `inflater` for the Deflated Explicit VR Little Endian transfer syntax. Under
 * Node dicom-parser inflates with zlib; in a browser it looks for a global `pako` — this passes
 * fflate's raw inflate instead, so no global is needed.
 */
import * as real from 'dicom-parser';
import { inflateSync } from 'fflate';

type DicomParser = typeof real;
const dp = ((real as unknown as { default?: DicomParser }).default ?? real) as DicomParser;

/** Header bytes up to `position`, then the raw-deflated rest inflated. */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateSync(bytes.subarray(position));
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

export function parseDicom(byteArray: Uint8Array, options: real.ParseDicomOptions = {}): real.DataSet {
  return dp.parseDicom(byteArray as never, { inflater: inflater as never, ...options });
}

const wrapped = { ...dp, parseDicom } as DicomParser;
export default wrapped;
