/**
 * Dropped or picked files, sorted into what they are: a checkpoint (model.safetensors,
 * config.json), a vocabulary (vocab.txt) and images (anything else). Dropped folders are read
 * recursively (a `final/` folder holds the checkpoint), at most `MAX_FILES` files.
 */
export const MAX_FILES = 200;

export interface Sorted {
  weights?: File;
  config?: File;
  vocab?: File;
  images: File[];
  ignored: string[];
}

export function sortFiles(files: File[]): Sorted {
  const out: Sorted = { images: [], ignored: [] };
  for (const f of files) {
    const n = f.name.toLowerCase();
    if (n.endsWith('.safetensors') || /\.(pth|pt|ckpt)$/.test(n)) out.weights ??= f;
    else if (n === 'config.json') out.config ??= f;
    else if (n === 'vocab.txt') out.vocab ??= f;
    else if (/\.(json|txt|md|jsonl|yaml|yml|html|csv|log)$/.test(n) || n.startsWith('.')) out.ignored.push(f.name);
    else out.images.push(f);
  }
  return out;
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (out.length >= MAX_FILES) return;
  if (entry.isFile) {
    out.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
  } else if (entry.isDirectory) {
    for (const e of await readEntries(entry as FileSystemDirectoryEntry)) await walk(e, out);
  }
}

/** The files of a drop, folders included. */
export async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const entries = [...dt.items]
    .filter((i) => i.kind === 'file')
    .map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null));
  if (entries.length && entries.every((e) => e !== null)) {
    const out: File[] = [];
    for (const e of entries) await walk(e!, out);
    return out;
  }
  return [...dt.files];
}
