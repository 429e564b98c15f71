/** Where @g2d-ts/data/browser's WebAssembly DICOM codecs find their .wasm files in this bundle. */
import { configureBrowserCodecs } from '@g2d-ts/data/browser';
import jpeg8 from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm?url';
import charls from '@cornerstonejs/codec-charls/decodewasm?url';
import openjpeg from '@cornerstonejs/codec-openjpeg/decodewasm?url';

const URLS: Record<string, string> = {
  'libjpegturbowasm_decode.wasm': jpeg8,
  'charlswasm_decode.wasm': charls,
  'openjpegwasm_decode.wasm': openjpeg,
};

export function setUpCodecs(): void {
  configureBrowserCodecs({ locateWasm: (file) => URLS[file] ?? file });
}
