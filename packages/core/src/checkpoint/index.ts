/**
 * Checkpoint I/O without Python: PyTorch `torch.save` files (.pth/.pt/.bin; zip or legacy
 * format) through a restricted unpickler that can never run code, and safetensors files
 * (read and write). Tensors come back as `RawTensor` in PyTorch's row-major layout.
 */
import { promises as fsp } from 'node:fs';
import { G2DError } from '../errors';
import type { RawTensor } from './dtypes';
import { readSafetensors } from './safetensors';
import { readTorchCheckpoint, stripModulePrefix } from './torch';
import { isZipMagic } from '../archive';

export type { CheckpointDType, RawTensor } from './dtypes';
export { toFloat32, fromFloat32, numel, DTYPE_SIZE, validateRawTensor, halfToFloat, floatToHalf } from './dtypes';
export { readSafetensors, writeSafetensors } from './safetensors';
export { parseSafetensors } from './safetensors-bytes';
export { writeTorchCheckpoint } from './torch-write';
export { readTorchCheckpoint, loadTorchObject, findStateDict, stripModulePrefix, PyObject } from './torch';
export { unpickle, PY_STATE, type PyCallable, type PyDict, type UnpickleOptions } from './pickle';

export type CheckpointFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

/** Detects the format from the file's first bytes (not its extension). */
export async function detectCheckpointFormat(file: string): Promise<CheckpointFormat> {
  let fh: Awaited<ReturnType<typeof fsp.open>>;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    throw new G2DError(`cannot open checkpoint: ${(e as Error).message}`, { source: file });
  }
  try {
    const { size } = await fh.stat();
    const head = new Uint8Array(Math.min(16, size));
    await fh.read(head, 0, head.length, 0);
    if (isZipMagic(head)) return 'torch-zip';
    if (head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return 'torch-legacy';
    if (head.length >= 9) {
      const n = new DataView(head.buffer).getBigUint64(0, true);
      if (n > 0n && n <= BigInt(size - 8) && head[8] === 0x7b /* '{' */) return 'safetensors';
    }
    const hint =
      head[0] === 0x89 && head[1] === 0x48 && head[2] === 0x44 && head[3] === 0x46
        ? ' (this is an HDF5/Keras file)'
        : head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b
          ? ' (this is gzip-compressed; decompress it first)'
          : '';
    throw new G2DError(
      `unrecognised checkpoint format${hint}: expected .safetensors or a PyTorch torch.save file (.pth/.pt/.bin)`,
      { source: file },
    );
  } finally {
    await fh.close();
  }
}

/**
 * Reads any supported checkpoint (format detected by content) into a flat state dict:
 * `state_dict` / `model_state_dict` / `model`… wrappers are unwrapped and a `module.`
 * prefix (DataParallel) is stripped.
 */
export async function readCheckpoint(file: string): Promise<Map<string, RawTensor>> {
  const fmt = await detectCheckpointFormat(file);
  if (fmt === 'safetensors') return stripModulePrefix((await readSafetensors(file)).tensors);
  return readTorchCheckpoint(file);
}
