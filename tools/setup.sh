#!/usr/bin/env bash
# One-shot, idempotent set-up for a fresh machine.
#
#   bash tools/setup.sh                 profile "full" (the default; what `pnpm test` and CI use):
#   bash tools/setup.sh --profile full    1. pnpm (pinned) and the workspace's npm packages from the lockfile
#                                         2. the native TensorFlow backend, built from registry artifacts
#                                            (no internet beyond the npm registry and PyPI)
#                                         3. the Python reference tooling (.venv-ref: Debian torch 1.13.1 +
#                                            pinned PyPI packages) used by golden generators and benchmark
#                                            baselines, and the goldens too large to commit
#                                         4. Debian's chromium, for the browser (wasm/webgl) tests
#   bash tools/setup.sh --profile run   steps 1 and 2 only: what the main job needs
#
# Environment switches (either profile):
#   G2D_SKIP_NATIVE=1    skip step 2 (the JS backends still work; training is then very slow)
#   G2D_SKIP_PYTHON=1    skip step 3 (parity tests that need the reference tooling SKIP visibly)
#   G2D_SKIP_BROWSER=1   skip step 4 (browser tests SKIP visibly)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NX_DAEMON=${NX_DAEMON:-false}
log() { echo "[setup] $*"; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

profile=full
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) [ $# -ge 2 ] || { echo "[setup] --profile needs a value (full or run)" >&2; exit 2; }; profile=$2; shift 2 ;;
    --profile=*) profile=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "[setup] unknown argument \"$1\" (usage: bash tools/setup.sh [--profile full|run])" >&2; exit 2 ;;
  esac
done
case "$profile" in
  full|run) ;;
  *) echo "[setup] unknown profile \"$profile\" (full: everything, for tests and CI; run: workspace + native backend)" >&2; exit 2 ;;
esac
log "profile: $profile"

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

if [ "$profile" = full ] && [ "${G2D_SKIP_PYTHON:-0}" != 1 ]; then
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

if [ "$profile" = full ] && [ "${G2D_SKIP_BROWSER:-0}" != 1 ]; then
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    log "chromium: present ($(command -v chromium || command -v chromium-browser))"
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "chromium: apt-get install chromium (browser tests)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
      log "WARNING: could not install chromium; browser tests will SKIP (visibly)"
    fi
  else
    log "WARNING: chromium is not installed and apt-get is not usable here (needs root); browser tests will SKIP (visibly)"
  fi
fi
log "done ($profile)"
