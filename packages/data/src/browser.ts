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

// DICOM
export { transferSyntax, supportedTransferSyntaxes, type PixelCodec, type TransferSyntaxInfo } from './dicom/uids';
export { decodeDicom, readDicomMeta, type DicomMeta, type DicomPixelDataInfo, type DicomPixels, type LutData, type ReadDicomOptions, type StoredArray } from './dicom/read';
export { applyModalityLut, applyVoi, present, presentQuantized, quantize, storedRange, type PresentationOptions, type Presented } from './dicom/lut';
export { initCodecs } from './dicom/codecs';
export { decodeRleFrame } from './dicom/rle';

// images and preprocessing
export {
  decodeDicomGray, decodeImage, decodeJpegGray, decodePngGray, encodeGrayPng, sniffFormat, toFloat32,
  type GrayImage, type ImageFormat, type ImageMeta, type LoadedImage, type LoadImageOptions,
} from './image';
export {
  cropAndScale, letterboxPreprocess, nonZeroBBox, referencePreprocess, resizeBilinear,
  type ImageLike, type LetterboxOptions, type ReferencePreprocessOptions,
} from './preprocess';
export {
  centerCrop, colorJitter, compose, floatImage, grayTo3Channels, imagesToTensor, normalize, randomAffine, randomApply,
  randomHorizontalFlip, referenceEvalTransforms, referenceTrainTransforms, resize, IMAGENET_MEAN, IMAGENET_STD,
  type AffineOptions, type FloatImage, type ReferenceTransformOptions, type Sample, type Transform,
} from './transforms';
export { boxesToMask, decodeSiimRle, encodeSiimRle, type Box, type Mask } from './masks';
