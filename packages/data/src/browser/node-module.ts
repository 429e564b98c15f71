/**
 * The browser build's stand-in for `node:module` (see tsup.browser.config.ts): `dicom/codecs.ts`
 * loads its codecs through `createRequire(...)(id)`; in a browser there is no `require`, so this
 * table serves the same ids from the bundle — the pure-JS JPEG lossless decoder directly, and
 * each Emscripten codec as a factory that imports its glue on first use (a separate chunk in the
 * consumer's bundle) and finds its `.wasm` through `configureBrowserCodecs({ locateWasm })`.
 * Any other id is a G2DError naming it, so a new Node-only dependency fails loudly.
 */
import { G2DError } from '@g2d-ts/core';
import * as losslessLib from 'jpeg-lossless-decoder-js';

export interface BrowserCodecOptions {
  /**
   * URL of an Emscripten codec's WebAssembly file, given its file name
   * (`libjpegturbowasm_decode.wasm`, `charlswasm_decode.wasm`, `openjpegwasm_decode.wasm`,
   * from `@cornerstonejs/codec-libjpeg-turbo-8bit`, `-charls`, `-openjpeg`: their `./decodewasm`
   * exports). Without it the codecs look next to the page, where a bundle rarely puts them.
   */
  locateWasm?: (file: string) => string;
}

let locateWasm: BrowserCodecOptions['locateWasm'];

/** Where the browser build's WebAssembly codecs (JPEG baseline, JPEG-LS, JPEG 2000) load their `.wasm` from. */
export function configureBrowserCodecs(opts: BrowserCodecOptions): void {
  if (opts.locateWasm !== undefined && typeof opts.locateWasm !== 'function') {
    throw new G2DError('configureBrowserCodecs: "locateWasm" must be a function (file name -> URL)');
  }
  locateWasm = opts.locateWasm;
}

type Factory = (opts?: Record<string, unknown>) => Promise<unknown>;
type GlueModule = { default?: Factory } & Partial<Record<string, unknown>>;

// literal specifiers, so that bundlers see (and split out) each codec's glue
const GLUE: Record<string, () => Promise<GlueModule>> = {
  '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs': () => import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'),
  '@cornerstonejs/codec-charls/decodewasmjs': () => import('@cornerstonejs/codec-charls/decodewasmjs'),
  '@cornerstonejs/codec-openjpeg/decodewasmjs': () => import('@cornerstonejs/codec-openjpeg/decodewasmjs'),
};

function emscriptenFactory(id: string, load: () => Promise<GlueModule>): Factory {
  return async (opts = {}) => {
    const mod = await load();
    const factory = (typeof mod.default === 'function' ? mod.default : mod) as unknown as Factory;
    if (typeof factory !== 'function') throw new G2DError(`${id}: the codec module has no factory function`);
    const where = locateWasm;
    try {
      return await factory({ ...opts, ...(where ? { locateFile: (file: string) => where(file) } : {}) });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new G2DError(
        `${id}: the WebAssembly codec could not start (${why})${where ? '' : '; tell @g2d-ts/data/browser where its .wasm files are with configureBrowserCodecs({ locateWasm })'}`,
        { cause: e },
      );
    }
  };
}

/** `createRequire` for the browser build: a require over the table above. */
export function createRequire(_from: string | URL): (id: string) => unknown {
  return (id: string) => {
    if (id === 'jpeg-lossless-decoder-js') return losslessLib;
    const load = GLUE[id];
    if (load) return emscriptenFactory(id, load);
    throw new G2DError(`"${id}" is not available in the browser build of @g2d-ts/data`);
  };
}
