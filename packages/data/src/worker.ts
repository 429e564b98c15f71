/** Worker thread of the DataLoader: decodes + preprocesses items off the training thread. */
import { parentPort } from 'node:worker_threads';
import { prepareItem } from './prepare-item';

parentPort?.on('message', (msg: { id: number; ref: Parameters<typeof prepareItem>[0]; opts: Parameters<typeof prepareItem>[1] }) => {
  prepareItem(msg.ref, msg.opts).then(
    (r) => {
      const transfer = [r.image.buffer as ArrayBuffer, ...(r.mask ? [r.mask.buffer as ArrayBuffer] : [])];
      parentPort!.postMessage({ id: msg.id, ok: true, item: r }, transfer);
    },
    (e: unknown) => parentPort!.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e), g2d: (e as Error)?.name === 'G2DError' }),
  );
});
