#!/usr/bin/env bash
# The paper's Table 5a in miniature on the synthetic default: does pretraining the decoder with
# pseudo segmentation (PS) help segmentation with few labels?
#
# Inputs: two pretrained checkpoints made with identical budgets and seeds (this script does not
# pretrain), each our `final/` folder or a reference *_checkpoint.pth / *_encoder_decoder.pth:
#   VLA_PS  encoder + decoder pretrained with VLA + PS (e.g. `g2d-pretrain demo --out runs/vla-ps`)
#   VLA     VLA only (the same command with `--set modelOverrides.loss.psWeight=0`: the decoder never trains)
#
# For each row (vla-ps, vla, random init trained along (the app's rule for random encoders),
# random init frozen (the pretrained rows' freezing)) x {frozen encoder + new decoder, encoder +
# pretrained decoder transferred} x seeds: g2d-eval-segmentation of the synthetic findings
# (on-the-fly data, seed 1 by default: studies a pretraining on seed 0 never saw; target = the
# union of the lung findings) at 1 % of the training labels, with identical settings; then the
# table (mean ± sample std over the seeds) -> $OUT/table5a.md and table5a.json.
# The random rows: RANDOM_ENCODER, the checkpoints' architecture with random weights: a preset
# name (default g2d-resnet18-tiny; it must be the `name` in VLA_PS/config.json when that exists)
# or a checkpoint with random weights. A random encoder has no pretrained decoder, so its
# "encdec" cell would repeat the "encoder" set-up and is not run. Freezing is explicit: the
# pretrained rows and random-frozen freeze the encoder, random trains it along.
#
# Resumable: a segmentation run with a results.json is not redone (delete $OUT/seg/<run> to redo).
#
#   VLA_PS=runs/vla-ps/final VLA=runs/vla/final bash tools/ablation/table5a.sh
#   VLA_PS=... VLA=... SEEDS="0 1 2" COUNT=1000 EPOCHS=50 OUT=runs/table5a bash tools/ablation/table5a.sh
#   G2D_RUN=tsx ...                                   # run the TypeScript sources (no build)
#   EXTRA="--set data.synthetic.size=64" ...          # more flags for every segmentation run
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
usage() {
  sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[[ "${1:-}" == -h || "${1:-}" == --help ]] && usage
OUT="${OUT:-runs/table5a}"
SEEDS="${SEEDS:-0 1 2}"
FRACTION="${FRACTION:-0.01}"
COUNT="${COUNT:-1000}"
DATA_SEED="${DATA_SEED:-1}"
EPOCHS="${EPOCHS:-50}"
BATCH="${BATCH:-4}"
VAL_EVERY="${VAL_EVERY:-10}"
EXTRA="${EXTRA:-}"
NICE="${NICE:-nice -n 10}"

for v in VLA_PS VLA; do
  p="${!v:-}"
  if [[ -z "$p" ]]; then
    echo "table5a: $v is not set: pass the checkpoint ($v=<final/ folder or .pth>)" >&2
    usage
  fi
  if [[ ! -e "$p" ]]; then
    echo "table5a: $v=$p does not exist" >&2
    exit 1
  fi
  if [[ -d "$p" && ! -f "$p/model.safetensors" ]]; then
    echo "table5a: $v=$p is a folder without model.safetensors (our checkpoints are <run>/final)" >&2
    exit 1
  fi
done
if [[ -z "${RANDOM_ENCODER:-}" ]]; then
  RANDOM_ENCODER=g2d-resnet18-tiny
  if [[ -f "$VLA_PS/config.json" ]]; then
    name="$(node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.stdout.write(String(c.model?.name??c.name??""))' "$VLA_PS/config.json")"
    if [[ -n "$name" && "$name" != "$RANDOM_ENCODER" ]]; then
      echo "table5a: $VLA_PS is a $name model, not $RANDOM_ENCODER: set RANDOM_ENCODER (the preset $name, or a checkpoint of it with random weights)" >&2
      exit 1
    fi
  fi
fi

app() { # app <name> args...
  local name="$1"
  shift
  if [[ "${G2D_RUN:-}" == tsx ]]; then
    $NICE pnpm -s exec tsx --tsconfig tools/build/tsconfig.run.json "apps/$name/src/main.ts" "$@"
  else
    $NICE node "apps/$name/dist/main.js" "$@"
  fi
}
if [[ "${G2D_RUN:-}" != tsx ]]; then
  pnpm -s exec nx run eval-segmentation:build --output-style=static >&2
fi

declare -A ENC=([vla-ps]="$VLA_PS" [vla]="$VLA" [random]="$RANDOM_ENCODER" [random-frozen]="$RANDOM_ENCODER")
extra=()
for e in $EXTRA; do extra+=("$e"); done
common=(--dataset synthetic --set data.synthetic.count="$COUNT" --set data.synthetic.seed="$DATA_SEED" --set data.target=lung-findings
  --fraction "$FRACTION" --set train.epochs="$EPOCHS" --set train.batchSize="$BATCH" --set train.valEvery="$VAL_EVERY" --set output.overlays=4)
t0=$SECONDS
mkdir -p "$OUT"
printf 'VLA_PS=%s\nVLA=%s\nRANDOM_ENCODER=%s\nSEEDS=%s FRACTION=%s COUNT=%s DATA_SEED=%s EPOCHS=%s BATCH=%s VAL_EVERY=%s EXTRA=%s\n' \
  "$VLA_PS" "$VLA" "$RANDOM_ENCODER" "$SEEDS" "$FRACTION" "$COUNT" "$DATA_SEED" "$EPOCHS" "$BATCH" "$VAL_EVERY" "$EXTRA" >"$OUT/inputs.txt"
for enc in vla-ps vla random random-frozen; do
  for proto in encoder encdec; do
    [[ "$enc" == random* && "$proto" == encdec ]] && continue
    for seed in $SEEDS; do
      dir="$OUT/seg/$enc-$proto-s$seed"
      if [[ -f "$dir/results.json" ]]; then
        echo "[table5a] $enc $proto seed $seed: done before ($dir)" >&2
        continue
      fi
      args=("${common[@]}" --encoder "${ENC[$enc]}" --seed "$seed" --out "$dir")
      [[ "$proto" == encdec ]] && args+=(--set seg.transferDecoder=true)
      if [[ "$enc" == random ]]; then args+=(--set seg.freezeEncoder=false); else args+=(--set seg.freezeEncoder=true); fi
      args+=(${extra[@]+"${extra[@]}"})
      echo "[table5a] segmentation $enc $proto seed $seed -> $dir" >&2
      s=$SECONDS
      app eval-segmentation "${args[@]}" >&2
      echo "[table5a] took $((SECONDS - s)) s" >&2
    done
  done
done
node tools/ablation/table5a-aggregate.mjs "$OUT"
echo "[table5a] total $((SECONDS - t0)) s" >&2
