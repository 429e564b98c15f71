/**
 * The horizontal half of the bilateral sums: `hor[y * w + x]` = the ones' weight of row y in
 * the window around x, added left to right, for every pixel some candidate reads (rows
 * y-r..y+r of each candidate column). From the lookup table on the window's bit pattern, or
 * summed bit by bit for windows wider than the table.
 */
import type { BilateralKernel } from './kernel';

export class RowSums {
  readonly hor: Float64Array;
  /** pixels whose sums are needed: the candidates dilated vertically by r */
  private readonly need: Int32Array;
  private readonly pre: Int32Array;
  private readonly suf: Int32Array;

  constructor(readonly h: number, readonly w: number, readonly S: number, private readonly k: BilateralKernel) {
    this.hor = new Float64Array(h * w);
    this.need = new Int32Array(h * S);
    this.pre = new Int32Array(h + 2 * k.radius);
    this.suf = new Int32Array(h + 2 * k.radius);
  }

  compute(bits: Int32Array, off: number, cand: Int32Array, activeCols: Int32Array): void {
    const { h, w, S, hor, need } = this;
    const { lut, g } = this.k;
    const r = this.k.radius;
    const W32 = S - 2;
    const L = g.length;
    const lmask = (1 << L) - 1;
    for (let i = 1; i <= W32; i++) {
      if (activeCols[i]) this.dilateColumn(cand, need, i, r);
    }
    for (let yy = 0; yy < h; yy++) {
      const no = yy * S;
      const ro = off + no;
      const hb = yy * w;
      for (let i = 1; i <= W32; i++) {
        if (!activeCols[i]) continue;
        let v = need[no + i]!;
        while (v !== 0) {
          const x = ((i - 1) << 5) + 31 - Math.clz32(v & -v);
          v &= v - 1;
          if (lut) {
            const pos = x - r + 32;
            const wi = ro + (pos >> 5);
            const sh = pos & 31;
            hor[hb + x] = lut[((bits[wi]! >>> sh) | ((bits[wi + 1]! << 1) << (31 - sh))) & lmask]!;
          } else {
            let hv = 0;
            for (let k = 0; k < L; k++) {
              const xx = x - r + k;
              if (xx >= 0 && xx < w && (bits[ro + 1 + (xx >> 5)]! >>> (xx & 31)) & 1) hv += g[k]!;
            }
            hor[hb + x] = hv;
          }
        }
      }
    }
  }

  /**
   * Word column i of `out` = OR of the rows y-R..y+R of `src` (rows outside the image count
   * as 0), for every row y: van Herk / Gil-Werman, prefix and suffix ORs over blocks of
   * 2R+1 rows, about three operations per word.
   */
  private dilateColumn(src: Int32Array, out: Int32Array, i: number, R: number): void {
    const { h, S, pre, suf } = this;
    const K = 2 * R + 1;
    const V = h + 2 * R; // virtual rows v = y + R
    for (let v = 0; v < V; v++) {
      const y = v - R;
      const x = y >= 0 && y < h ? src[y * S + i]! : 0;
      pre[v] = v % K === 0 ? x : pre[v - 1]! | x;
    }
    for (let v = V - 1; v >= 0; v--) {
      const y = v - R;
      const x = y >= 0 && y < h ? src[y * S + i]! : 0;
      suf[v] = v % K === K - 1 || v === V - 1 ? x : suf[v + 1]! | x;
    }
    // the window of row y in virtual rows is [y, y + 2R]
    for (let y = 0; y < h; y++) out[y * S + i] = suf[y]! | pre[y + 2 * R]!;
  }
}
