// The Emscripten glue of the cornerstone codecs ships without type declarations.
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs';
declare module '@cornerstonejs/codec-charls/decodewasmjs';
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs';
// jpeg-lossless-decoder-js names a .d.ts in its package.json but does not ship it.
declare module 'jpeg-lossless-decoder-js';
