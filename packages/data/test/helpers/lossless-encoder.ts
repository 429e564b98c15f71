/** Tiny JPEG lossless (SOF3) encoder for tests: one fixed Huffman table, any predictor, restarts. */
export function encodeJpegLossless(data: ArrayLike<number>, width: number, height: number, precision: number, components: number, predictor: number, restartInterval = 0): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const seg = (m: number, body: number[]) => out.push(0xff, m, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body);
  const comps: number[] = [];
  for (let c = 0; c < components; c++) comps.push(c + 1, 0x11, 0);
  seg(0xc3, [precision, height >> 8, height & 0xff, width >> 8, width & 0xff, components, ...comps]);
  // 17 symbols (categories 0..16), all 5-bit codes: code k = k
  const counts = new Array(16).fill(0);
  counts[4] = 17;
  seg(0xc4, [0x00, ...counts, ...Array.from({ length: 17 }, (_, k) => k)]);
  if (restartInterval) seg(0xdd, [restartInterval >> 8, restartInterval & 0xff]);
  const sos: number[] = [components];
  for (let c = 0; c < components; c++) sos.push(c + 1, 0x00);
  seg(0xda, [...sos, predictor, 0, 0]);
  let acc = 0;
  let nbits = 0;
  const bytes: number[] = [];
  const put = (v: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) {
      acc = (acc << 1) | ((v >> i) & 1);
      nbits++;
      if (nbits === 8) {
        bytes.push(acc);
        if (acc === 0xff) bytes.push(0);
        acc = 0;
        nbits = 0;
      }
    }
  };
  const flush = () => {
    if (nbits) put(0xff >> nbits, 8 - nbits);
  };
  const at = (x: number, y: number, c: number) => data[(y * width + x) * components + c]!;
  let mcu = 0;
  let rst = 0;
  let firstLine = true;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (restartInterval && mcu > 0 && mcu % restartInterval === 0) {
        flush();
        bytes.push(0xff, 0xd0 + (rst++ % 8));
        firstLine = true;
      }
      for (let c = 0; c < components; c++) {
        let pred: number;
        if (firstLine) pred = x === 0 ? 1 << (precision - 1) : at(x - 1, y, c);
        else if (x === 0) pred = at(x, y - 1, c);
        else {
          const ra = at(x - 1, y, c);
          const rb = at(x, y - 1, c);
          const rc = at(x - 1, y - 1, c);
          pred = [0, ra, rb, rc, ra + rb - rc, ra + ((rb - rc) >> 1), rb + ((ra - rc) >> 1), (ra + rb) >> 1][predictor]!;
        }
        let diff = (at(x, y, c) - pred) & 0xffff;
        if (diff >= 32768) diff -= 65536;
        let s = 0;
        if (diff === -32768) s = 16;
        else for (let a = Math.abs(diff); a > 0; a >>= 1) s++;
        put(s, 5);
        if (s > 0 && s < 16) put(diff < 0 ? diff + (1 << s) - 1 : diff, s);
      }
      mcu++;
    }
    firstLine = false;
  }
  flush();
  for (const b of bytes) out.push(b);
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}
