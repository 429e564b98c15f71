/**
 * A minimal DICOM writer for the e2e test's large image: Part 10 file, Explicit VR Little
 * Endian, one frame of MONOCHROME2 16-bit samples.
 */
export function writeDicom16(rows: number, cols: number, pixels: Uint16Array, bitsStored = 12): Uint8Array {
  if (pixels.length !== rows * cols) throw new Error(`writeDicom16: ${pixels.length} pixels for ${rows}x${cols}`);
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const LONG = new Set(['OB', 'OW', 'UN', 'SQ', 'UT']);
  const element = (group: number, el: number, vr: string, value: Uint8Array | string): Uint8Array => {
    let v = typeof value === 'string' ? enc.encode(value) : value;
    if (v.length % 2) v = Uint8Array.from([...v, vr === 'UI' || vr === 'OB' ? 0 : 0x20]);
    const long = LONG.has(vr);
    const h = new Uint8Array(long ? 12 : 8);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, group, true);
    dv.setUint16(2, el, true);
    h[4] = vr.charCodeAt(0);
    h[5] = vr.charCodeAt(1);
    if (long) dv.setUint32(8, v.length, true);
    else dv.setUint16(6, v.length, true);
    const out = new Uint8Array(h.length + v.length);
    out.set(h);
    out.set(v, h.length);
    return out;
  };
  const us = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
  const meta = [
    element(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
    element(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.1.1'),
    element(0x0002, 0x0003, 'UI', '1.2.826.0.1.3680043.8.498.1'),
    element(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
  ];
  const metaLen = meta.reduce((n, p) => n + p.length, 0);
  const preamble = new Uint8Array(132);
  preamble.set(enc.encode('DICM'), 128);
  parts.push(preamble, element(0x0002, 0x0000, 'UL', new Uint8Array(new Uint32Array([metaLen]).buffer)), ...meta);
  parts.push(
    element(0x0008, 0x0060, 'CS', 'DX'),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    element(0x0028, 0x0010, 'US', us(rows)),
    element(0x0028, 0x0011, 'US', us(cols)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(bitsStored)),
    element(0x0028, 0x0102, 'US', us(bitsStored - 1)),
    element(0x0028, 0x0103, 'US', us(0)),
    element(0x7fe0, 0x0010, 'OW', new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)),
  );
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
