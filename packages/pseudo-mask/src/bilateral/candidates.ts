/**
 * The pixels the bilateral filter must evaluate: those whose clamped (2s+1)^2 box (s = the
 * kernel's safe radius) may hold both values. Found with word operations on the bit rows:
 * edges = row XOR (row shifted by one) | row XOR next row, OR-ed over 2s+1 rows, dilated
 * horizontally by s.
 */
import { wordMask } from '../bits';

export class CandidateFinder {
  /** candidate bits, h rows of S words (valid after `find`) */
  readonly cand: Int32Array;
  /** per word column: the OR of its candidate words (non-zero = has candidates) */
  readonly activeCols: Int32Array;
  /** edge bits, h rows */
  private readonly edges: Int32Array;
  /** rowEdges[y + 1] = number of rows 0..y with any edge */
  private readonly rowEdges: Int32Array;
  /** the data words that may hold candidates, and how many */
  private readonly words: Int32Array;
  private nWords = 0;
  private readonly bufA: Int32Array;
  private readonly bufB: Int32Array;
  /** bits x with a right neighbour x + 1 inside the row, and bits inside the row */
  private readonly pairMask: Int32Array;
  private readonly validMask: Int32Array;

  constructor(readonly h: number, readonly w: number, readonly S: number, readonly s: number) {
    this.edges = new Int32Array(h * S);
    this.cand = new Int32Array(h * S);
    this.words = new Int32Array(S);
    this.rowEdges = new Int32Array(h + 1);
    this.bufA = new Int32Array(S);
    this.bufB = new Int32Array(S);
    this.pairMask = new Int32Array(S);
    this.validMask = new Int32Array(S);
    this.activeCols = new Int32Array(S);
    for (let i = 1; i < S - 1; i++) {
      this.pairMask[i] = wordMask(w - 1, i - 1);
      this.validMask[i] = wordMask(w, i - 1);
    }
  }

  /**
   * Candidate bits into `cand` (inside the body when given) and `activeCols`. Returns false
   * when there is none.
   */
  find(bits: Int32Array, off: number, body: Int32Array | null, bodyOff: number): boolean {
    if (!this.markEdges(bits, off)) return false;
    this.listWords();
    return this.dilateEdges(body, bodyOff);
  }

  /** edge pairs: bit x of row y set when pixel (y, x) differs from (y, x+1) or (y+1, x) */
  private markEdges(bits: Int32Array, off: number): boolean {
    const { h, S, edges, rowEdges, pairMask, activeCols } = this;
    const W32 = S - 2;
    rowEdges[0] = 0;
    let total = 0;
    activeCols.fill(0);
    for (let y = 0; y < h; y++) {
      const base = off + y * S;
      const eb = y * S;
      let nz = 0;
      for (let i = 1; i <= W32; i++) {
        const cur = bits[base + i]!;
        let e = (cur ^ ((cur >>> 1) | (bits[base + i + 1]! << 31))) & pairMask[i]!;
        if (y < h - 1) e |= cur ^ bits[base + S + i]!;
        edges[eb + i] = e;
        activeCols[i] |= e;
        nz |= e;
      }
      if (nz !== 0) total++;
      rowEdges[y + 1] = total;
    }
    return total !== 0;
  }

  /** the words that can hold candidates: those with edges and their neighbours (s < 32) */
  private listWords(): void {
    const { S, s, activeCols, words } = this;
    const W32 = S - 2;
    let nw = 0;
    for (let i = 1; i <= W32; i++) {
      if (s >= 32 || activeCols[i - 1] || activeCols[i] || activeCols[i + 1]) words[nw++] = i;
    }
    this.nWords = nw;
  }

  /** per row: OR of the edge rows y-s..y+s, dilated horizontally by s, masked by the body */
  private dilateEdges(body: Int32Array | null, bodyOff: number): boolean {
    const { h, S, s, edges, cand, rowEdges, validMask, activeCols, words } = this;
    const nw = this.nWords;
    activeCols.fill(0);
    const a = this.bufA;
    const b = this.bufB;
    a.fill(0); // words off the list stay 0 (they hold no edges)
    b.fill(0);
    let any = 0;
    for (let y = 0; y < h; y++) {
      const co = y * S;
      const y0 = y - s < 0 ? 0 : y - s;
      const y1 = y + s > h - 1 ? h - 1 : y + s;
      if (rowEdges[y1 + 1] === rowEdges[y0]) {
        for (let j = 0; j < nw; j++) cand[co + words[j]!] = 0;
        continue;
      }
      for (let j = 0; j < nw; j++) {
        const i = words[j]!;
        let v = 0;
        for (let q = y0 * S + i; q <= y1 * S + i; q += S) v |= edges[q]!;
        a[i] = v;
      }
      // dilate horizontally by s, at most 31 bits a step
      let src = a;
      let dst = b;
      for (let left = s; left > 0; ) {
        const d = left > 31 ? 31 : left;
        left -= d;
        for (let j = 0; j < nw; j++) {
          const i = words[j]!;
          const c = src[i]!;
          const lo = src[i - 1]!;
          const hi = src[i + 1]!;
          let v = c;
          for (let k = 1; k <= d; k++) v |= (c << k) | (lo >>> (32 - k)) | (c >>> k) | (hi << (32 - k));
          dst[i] = v & validMask[i]!;
        }
        const t = src;
        src = dst;
        dst = t;
      }
      const bo = bodyOff + co;
      for (let j = 0; j < nw; j++) {
        const i = words[j]!;
        const v = body ? src[i]! & body[bo + i]! : src[i]!;
        cand[co + i] = v;
        activeCols[i] |= v;
        any |= v;
      }
    }
    return any !== 0;
  }
}
