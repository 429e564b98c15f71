/**
 * Bit-exact re-creations of the few PyTorch / numpy numerics the reference pseudo-label
 * pipeline depends on. Each one states which library routine it mirrors; the cross-check
 * fixture (test/fixtures/crosscheck.json, made by tools/pseudo-mask/crosscheck_reference.py with the
 * real libraries) pins them down, ties and float32 rounding included.
 */

const fround = Math.fround;

/**
 * Source index of every destination pixel for PyTorch's `F.interpolate(mode='nearest')`
 * (what torchvision's `Resize(..., NEAREST)` calls on tensors): `scale = (float)in / out`,
 * `src = min(floor(dst * scale), in - 1)` with the product in float32.
 */
export function nearestIndices(inSize: number, outSize: number): Int32Array {
  const idx = new Int32Array(outSize);
  if (inSize === outSize) {
    for (let i = 0; i < outSize; i++) idx[i] = i;
    return idx;
  }
  const scale = fround(inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    const s = Math.floor(fround(d * scale));
    idx[d] = s < inSize - 1 ? s : inSize - 1;
  }
  return idx;
}

/** How many destination pixels each source index feeds (0 for skipped ones when downsampling). */
export function indexCounts(idx: Int32Array, inSize: number): Float64Array {
  const c = new Float64Array(inSize);
  for (let i = 0; i < idx.length; i++) c[idx[i]!]!++;
  return c;
}

/**
 * numpy's float32 pairwise summation (`FLOAT_pairwise_sum`: blocks of up to 128 summed with
 * 8 interleaved accumulators, larger ranges split in halves rounded down to a multiple of 8),
 * every addition rounded to float32.
 */
export function pairwiseSumF32(a: Float32Array, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = fround(res + a[start + i]!);
    return res;
  }
  if (n <= 128) {
    let r0 = a[start]!, r1 = a[start + 1]!, r2 = a[start + 2]!, r3 = a[start + 3]!;
    let r4 = a[start + 4]!, r5 = a[start + 5]!, r6 = a[start + 6]!, r7 = a[start + 7]!;
    const end8 = n - (n % 8);
    let i = 8;
    for (; i < end8; i += 8) {
      const p = start + i;
      r0 = fround(r0 + a[p]!);
      r1 = fround(r1 + a[p + 1]!);
      r2 = fround(r2 + a[p + 2]!);
      r3 = fround(r3 + a[p + 3]!);
      r4 = fround(r4 + a[p + 4]!);
      r5 = fround(r5 + a[p + 5]!);
      r6 = fround(r6 + a[p + 6]!);
      r7 = fround(r7 + a[p + 7]!);
    }
    let res = fround(fround(fround(r0 + r1) + fround(r2 + r3)) + fround(fround(r4 + r5) + fround(r6 + r7)));
    for (; i < n; i++) res = fround(res + a[start + i]!);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return fround(pairwiseSumF32(a, start, n2) + pairwiseSumF32(a, start + n2, n - n2));
}

/** numpy's buffered reduction hands the add loop at most this many elements at a time. */
const NUMPY_BUFSIZE = 8192;

/**
 * `np.mean(x)` of a float32 slice as numpy 1.24 computes it for a multi-axis reduction:
 * float32 pairwise sums over consecutive 8192-element buffers, accumulated in float32 from
 * 0, then divided by the count in float32.
 */
export function numpyMeanF32(a: Float32Array, start: number, n: number): number {
  let acc = 0;
  for (let off = 0; off < n; off += NUMPY_BUFSIZE) {
    acc = fround(acc + pairwiseSumF32(a, start + off, Math.min(NUMPY_BUFSIZE, n - off)));
  }
  return fround(acc / n);
}

/**
 * `numpyMeanF32` of the nearest-upsampled map without materialising it: value at flat index
 * i is `m[mOff + rowIdx[i / outW] * w + colIdx[i % outW]]`. The pairwise tree is walked over
 * virtual indices; each leaf (<= 128 elements) that lies inside one output row only depends
 * on (source row, column offset, length), so identical rows reuse its sum. Same result as
 * `numpyMeanF32` on the expanded array, bit for bit.
 */
export function numpyMeanF32Upsampled(
  m: Float32Array,
  mOff: number,
  w: number,
  rowIdx: Int32Array,
  colIdx: Int32Array,
): number {
  const outW = colIdx.length;
  const n = rowIdx.length * outW;
  const memo = new Map<number, number>();
  const scratch = new Float32Array(128);
  const leaf = (start: number, len: number): number => {
    const r = Math.floor(start / outW);
    const c = start - r * outW;
    const oneRow = c + len <= outW;
    const key = oneRow ? (rowIdx[r]! * outW + c) * 129 + len : -1;
    if (oneRow) {
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
    }
    for (let k = 0; k < len; k++) {
      const i = start + k;
      const rr = Math.floor(i / outW);
      scratch[k] = m[mOff + rowIdx[rr]! * w + colIdx[i - rr * outW]!]!;
    }
    const v = pairwiseSumF32(scratch, 0, len);
    if (oneRow) memo.set(key, v);
    return v;
  };
  const tree = (start: number, len: number): number => {
    if (len <= 128) return leaf(start, len);
    let n2 = Math.floor(len / 2);
    n2 -= n2 % 8;
    return fround(tree(start, n2) + tree(start + n2, len - n2));
  };
  let acc = 0;
  for (let off = 0; off < n; off += NUMPY_BUFSIZE) acc = fround(acc + tree(off, Math.min(NUMPY_BUFSIZE, n - off)));
  return fround(acc / n);
}

/**
 * A multiset given as distinct-ish `values` with non-negative `weights` (how many times each
 * occurs). `orderStat(k)` is the k-th smallest element (0-based) of the expanded multiset.
 * Used so that thresholds of a nearest-upsampled map are computed from the small source map
 * with multiplicities instead of sorting the full-size image: same multiset, same answer.
 */
export class WeightedMultiset {
  private readonly order: Int32Array;
  readonly total: number;
  constructor(private readonly values: Float32Array | Float64Array, private readonly weights: Float64Array) {
    const n = values.length;
    const order = new Int32Array(n);
    let k = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (weights[i]! > 0) {
        order[k++] = i;
        total += weights[i]!;
      }
    }
    this.order = order.subarray(0, k).sort((x, y) => values[x]! - values[y]!);
    this.total = total;
  }

  /** The k-th smallest element (0-based; k < total). */
  orderStat(k: number): number {
    let cum = 0;
    const { order, values, weights } = this;
    for (let j = 0; j < order.length; j++) {
      const i = order[j]!;
      cum += weights[i]!;
      if (k < cum) return values[i]!;
    }
    return values[order[order.length - 1]!]!;
  }
}

/**
 * `np.quantile(x, q)` (method 'linear', numpy 1.24) of a float32 multiset with `n` elements,
 * as the reference calls it with `axis=(1, 2), keepdims=True`: the virtual index
 * `(n - 1) * q` in float64, the neighbours' difference in float32, the interpolation in
 * float64 (`_lerp`, which takes `b - diff * (1 - t)` when `t >= 0.5`). Returns a float64.
 */
export function numpyQuantileLinear(orderStat: (k: number) => number, n: number, q: number): number {
  const virtual = (n - 1) * q;
  let prev: number;
  let next: number;
  let gamma: number;
  if (virtual >= n - 1) {
    // numpy points both neighbours at the last element
    prev = next = n - 1;
    gamma = virtual - -1;
  } else if (virtual < 0) {
    prev = next = 0;
    gamma = virtual;
  } else {
    prev = Math.floor(virtual);
    next = prev + 1;
    gamma = virtual - prev;
  }
  const a = orderStat(prev);
  const b = next === prev ? a : orderStat(next);
  const diff = fround(b - a);
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/**
 * `np.median(x)` of a float32 multiset: the middle element, or for an even count the float32
 * mean of the two middle elements (`fround(fround(a + b) / 2)`, as `np.mean` of two float32s).
 */
export function numpyMedianF32(orderStat: (k: number) => number, n: number): number {
  if (n % 2 === 1) return orderStat((n - 1) / 2);
  const a = orderStat(n / 2 - 1);
  const b = orderStat(n / 2);
  return fround(fround(a + b) / 2);
}
