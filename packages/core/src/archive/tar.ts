/** Reading (gzipped) tar archives held in memory: ustar names, GNU long names, regular files only. */
import { G2DError } from '../errors';
import { gunzipIfGzip } from './compressed';

/** Regular files of a tar or .tar.gz archive: name -> bytes (views into the archive). */
export function readTar(bytes: Uint8Array, source = '<tar>'): Map<string, Uint8Array> {
  const data = gunzipIfGzip(bytes, source);
  const dec = new TextDecoder();
  const out = new Map<string, Uint8Array>();
  let p = 0;
  let longName: string | undefined;
  while (p + 512 <= data.length) {
    const h = data.subarray(p, p + 512);
    if (h.every((b) => b === 0)) break;
    const cstr = (a: number, b: number) => dec.decode(h.subarray(a, b)).replace(/\0[\s\S]*$/, '');
    let name = cstr(0, 100);
    const prefix = cstr(345, 500);
    if (prefix) name = `${prefix}/${name}`;
    const size = parseInt(cstr(124, 136).trim() || '0', 8);
    if (!Number.isFinite(size)) throw new G2DError(`corrupt tar header at byte ${p}`, { source });
    const type = String.fromCharCode(h[156]!);
    const body = data.subarray(p + 512, p + 512 + size);
    if (body.length < size) throw new G2DError(`tar entry "${longName ?? name}" is truncated`, { source });
    if (type === 'L') longName = dec.decode(body).replace(/\0+$/, '');
    else {
      if (type === '0' || type === '\0') out.set(longName ?? name, body);
      longName = undefined;
    }
    p += 512 + Math.ceil(size / 512) * 512;
  }
  if (p < data.length && p + 512 > data.length) throw new G2DError(`tar archive ends inside a header at byte ${p} (truncated?)`, { source });
  return out;
}
