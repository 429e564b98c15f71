/** Runs the cases the main thread sends, one at a time, and answers with each result. */
import { parentPort, workerData } from 'node:worker_threads';
import { runCaseInProcess } from './runner';
import { targetByName } from './targets';
import type { FuzzCase } from './mutate';

const { target: name, small, scratch, boundMs } = workerData as { target: string; small: boolean; scratch: string; boundMs: number };
const target = targetByName(name);
const seeds = target.seeds(small);
parentPort!.on('message', (m: { index: number; case: FuzzCase }) => {
  void runCaseInProcess(target, seeds, m.case, m.index, scratch, boundMs).then((r) => parentPort!.postMessage(r));
});
parentPort!.postMessage({ ready: true });
