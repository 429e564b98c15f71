/**
 * The decoding half of the public API, shared by both entries: `index.ts` (Node) and
 * `browser.ts` (browser bundles) re-export exactly these names; each entry adds only what is
 * its own (the Node entry: paths, tables, datasets and writers; the browser entry: codec setup).
 */

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
