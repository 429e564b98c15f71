/**
 * @g2d-ts/data/testing: helpers for tests, fixtures and fuzz seeds that need radiograph files
 * made on the spot (not part of the library API).
 */
export { concatBytes, encapsulate, encodeElement, u16le, writeDicom, type El, type ImageSpec } from './dicom-writer';
