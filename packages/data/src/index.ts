// Radiograph I/O (DICOM, PNG, JPEG), reference preprocessing, dictionary transforms, report cleaning and dataset adapters.
export * from './dicom/uids';
export * from './dicom/read';
export * from './dicom/lut';
export { initCodecs } from './dicom/codecs';
export { decodeRleFrame, encodeRleFrame } from './dicom/rle';
export * from './image';
export * from './preprocess';
export * from './csv';
export * from './masks';
export * from './reports';
export * from './transforms';
export * from './adapters';
export * from './splits';
export * from './itemprep';
export * from './loader';
export * from './cache';
