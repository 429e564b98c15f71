#!/usr/bin/env bash
# One-shot, idempotent set-up for a fresh machine (also what CI runs):
#   1. pnpm (pinned) and the workspace's npm packages from the lockfile
#   2. the native TensorFlow backend, built from registry artifacts (no internet needed
#      beyond the npm registry and PyPI); skip with G2D_SKIP_NATIVE=1
#   3. the Python reference tooling (.venv-ref: Debian torch 1.13.1 + pinned PyPI packages)
#      used by golden generators and benchmark baselines; skip with G2D_SKIP_PYTHON=1
#   4. goldens that are too large to commit, generated from the reference libraries
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NX_DAEMON=${NX_DAEMON:-false}
log() { echo "[setup] $*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then echo "[setup] Node.js >= 20.19 is required (found $(node -v))" >&2; exit 1; fi

want_pnpm=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  log "installing pnpm $want_pnpm"
  npm install -g --no-fund --no-audit "pnpm@$want_pnpm" >/dev/null
fi

log "pnpm install --frozen-lockfile"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -v "The registry publishes no pnpm" | tail -3

if [ "${G2D_SKIP_NATIVE:-0}" != 1 ] && [ -f tools/native-backend/build.mjs ]; then
  log "native TensorFlow backend (pnpm native-backend)"
  node tools/native-backend/build.mjs
fi

if [ "${G2D_SKIP_PYTHON:-0}" != 1 ]; then
  if bash tools/python/venv.sh; then
    for gen in tools/*/generate-goldens.sh; do
      [ -f "$gen" ] || continue
      log "goldens: $gen"
      bash "$gen"
    done
  else
    log "WARNING: Python reference tooling unavailable; parity tests that need it will SKIP (visibly)"
  fi
fi
log "done"
