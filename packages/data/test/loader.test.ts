/** DataLoader batch counts: dropLast drops the last, smaller batch; by default it is kept. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataLoader, encodeGrayPng, type ItemRef } from '../src';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-loader-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function items(n: number): ItemRef[] {
  return Array.from({ length: n }, (_, i) => {
    const file = path.join(tmp, `${i}.png`);
    const data = Uint8Array.from({ length: 64 }, (_, k) => (k * 3 + i * 17 + 1) & 0xff);
    fs.writeFileSync(file, encodeGrayPng({ width: 8, height: 8, data, maxValue: 255 }));
    return { id: String(i), patientId: String(i), image: file };
  });
}

describe('DataLoader dropLast', () => {
  const ten = items(10);
  const sizes = async (dl: DataLoader) => {
    const out: number[] = [];
    for await (const b of dl.epoch(0)) out.push(b.samples.length);
    await dl.close();
    return out;
  };
  it('keeps the last, smaller batch by default (10 items, batch 4: 4 + 4 + 2)', async () => {
    const dl = new DataLoader(ten, { batchSize: 4, size: 8, workers: 0 });
    expect(dl.length).toBe(3);
    expect(await sizes(dl)).toEqual([4, 4, 2]);
  });
  it('drops it with dropLast: true (4 + 4), and drops nothing when the batches are full', async () => {
    const dl = new DataLoader(ten, { batchSize: 4, size: 8, workers: 0, dropLast: true });
    expect(dl.length).toBe(2);
    expect(await sizes(dl)).toEqual([4, 4]);
    expect(await sizes(new DataLoader(ten, { batchSize: 5, size: 8, workers: 0, dropLast: true }))).toEqual([5, 5]);
  });
});
