#!/usr/bin/env node
// Prints one line identifying the content of the given files/folders (relative to the
// workspace root), for nx `runtime` inputs: sha256 over every file's relative path, size and
// mtime (folders recursively, sorted). A missing path prints "missing:<path>", so adding the
// data later changes the hash.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const h = crypto.createHash('sha256');
function walk(p, rel) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    h.update(`missing:${rel}\n`);
    return;
  }
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(p).sort()) walk(path.join(p, name), `${rel}/${name}`);
  } else {
    h.update(`${rel}|${st.size}|${Math.round(st.mtimeMs)}\n`);
  }
}
for (const arg of process.argv.slice(2)) walk(path.resolve(arg), arg);
process.stdout.write(h.digest('hex') + '\n');
