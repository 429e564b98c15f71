#!/usr/bin/env bash
# Reference tooling only (golden generators, benchmark baselines): never in the product path.
# Creates .venv-ref on top of Debian's python3 (which brings python3-torch 1.13.1 and
# torchvision 0.14.1, the reference code's exact versions) and installs the pinned PyPI
# packages from tools/python/requirements-*.txt. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv-ref"
py=/usr/bin/python3
need_apt=()
$py -c 'import torch, torchvision' 2>/dev/null || need_apt+=(python3-torch python3-torchvision libopenblas0-pthread)
$py -c 'import pydicom, sklearn, skimage, numpy, PIL' 2>/dev/null || need_apt+=(python3-pydicom python3-sklearn python3-skimage python3-numpy python3-pil)
$py -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[venv] apt-get install ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "[venv] missing Debian packages: ${need_apt[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
fi
if [ ! -x "$venv/bin/python" ]; then
  $py -m venv --system-site-packages "$venv"
fi
reqs=$(ls "$root"/tools/python/requirements-*.txt 2>/dev/null || true)
stamp="$venv/.reqs.sha"
sum=$(cat $reqs /dev/null | sha256sum | cut -d' ' -f1)
if [ -n "$reqs" ] && [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check $(for r in $reqs; do echo -r "$r"; done)
  echo "$sum" > "$stamp"
fi
"$venv/bin/python" -c 'import torch; print("[venv] torch", torch.__version__, "ready at '"$venv"'")'
