/**
 * @g2d-ts/data/browser: the decoding half of @g2d-ts/data for browser bundles — DICOM (every
 * transfer syntax the Node build reads, WebAssembly codecs included), PNG, JPEG, the grey
 * presentation, the reference preprocessing, transforms and masks — from bytes, never from
 * paths. Built by `tsup.browser.config.ts` with `node:module` / `node:path` / `Buffer` replaced
 * by the small stand-ins in `src/browser/` and every other Node built-in refused, so nothing
 * Node-only reaches a browser bundle. Call `configureBrowserCodecs({ locateWasm })` once to say
 * where the bundler put the codecs' `.wasm` files.
 *
 * Under Node (and jest) this entry is the same code with the real Node modules.
 */
export { configureBrowserCodecs, type BrowserCodecOptions } from './browser/node-module';

// the decoding API (DICOM, PNG/JPEG, presentation, preprocessing, transforms, masks): decoding.ts names it
export * from './decoding';
