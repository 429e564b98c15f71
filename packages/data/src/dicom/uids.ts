/** Transfer syntaxes this package knows, with how their pixel data is decoded. */
export type PixelCodec =
  | 'native'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'rle'
  | 'unsupported';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  codec: PixelCodec;
  littleEndian: boolean;
  explicitVR: boolean;
  deflated?: boolean;
  /** lossy codecs: parity with pydicom is checked with a tolerance, not exactly */
  lossy?: boolean;
}

const TS: TransferSyntaxInfo[] = [
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', codec: 'native', littleEndian: true, explicitVR: false },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', codec: 'native', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.1.99', name: 'Deflated Explicit VR Little Endian', codec: 'native', littleEndian: true, explicitVR: true, deflated: true },
  { uid: '1.2.840.10008.1.2.2', name: 'Explicit VR Big Endian', codec: 'native', littleEndian: false, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', codec: 'jpeg-baseline', littleEndian: true, explicitVR: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 and 4)', codec: 'jpeg-extended', littleEndian: true, explicitVR: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless, Non-Hierarchical (Process 14)', codec: 'jpeg-lossless', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.70', name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', codec: 'jpeg-lossless', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless Image Compression', codec: 'jpeg-ls', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Lossy (Near-Lossless) Image Compression', codec: 'jpeg-ls', littleEndian: true, explicitVR: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 Image Compression (Lossless Only)', codec: 'jpeg2000', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000 Image Compression', codec: 'jpeg2000', littleEndian: true, explicitVR: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.92', name: 'JPEG 2000 Part 2 Multi-component (Lossless Only)', codec: 'jpeg2000', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.93', name: 'JPEG 2000 Part 2 Multi-component', codec: 'jpeg2000', littleEndian: true, explicitVR: true, lossy: true },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', codec: 'rle', littleEndian: true, explicitVR: true },
  // known, but not decodable here: named so the error says what the file is
  { uid: '1.2.840.10008.1.2.4.52', name: 'JPEG Extended (Process 3 and 5, retired)', codec: 'unsupported', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.100', name: 'MPEG2 Main Profile', codec: 'unsupported', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.102', name: 'MPEG-4 AVC/H.264', codec: 'unsupported', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.201', name: 'High-Throughput JPEG 2000 (Lossless Only)', codec: 'unsupported', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.202', name: 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', codec: 'unsupported', littleEndian: true, explicitVR: true },
  { uid: '1.2.840.10008.1.2.4.203', name: 'High-Throughput JPEG 2000', codec: 'unsupported', littleEndian: true, explicitVR: true },
];

const BY_UID = new Map(TS.map((t) => [t.uid, t]));

/** Info for a transfer syntax UID, or undefined when it is not one this package knows. */
export function transferSyntax(uid: string): TransferSyntaxInfo | undefined {
  return BY_UID.get(uid.replace(/\0/g, '').trim());
}

/** Every transfer syntax whose pixel data this package decodes. */
export function supportedTransferSyntaxes(): TransferSyntaxInfo[] {
  return TS.filter((t) => t.codec !== 'unsupported');
}
