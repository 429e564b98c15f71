#!/usr/bin/env bash
# The paper's Table 5a in miniature on the synthetic default: does pretraining the decoder with
# pseudo segmentation (PS) help segmentation with few labels?
#
#   1. two pretraining runs of `g2d-pretrain demo` with identical budgets and seeds:
#        vla-ps  VLA + PS (the demo recipe)
#        vla     VLA only (--set modelOverrides.loss.psWeight=0: the decoder never trains)
#   2. segmentation of the synthetic findings (on-the-fly data, seed 1: studies the pretraining
#      never saw; target = the union of the lung findings) at 1 % of the training labels, for
#      each encoder x {frozen encoder + new decoder, encoder + pretrained decoder transferred}
#      x seeds: vla-ps, vla, random init (trained along, the app's rule for random encoders) and
#      random init frozen (the same freezing as the pretrained rows);
#   3. the table (mean ± sample std over the seeds) -> $OUT/table5a.md and table5a.json.
#
# Every step is resumable: rerunning skips finished runs (pretraining resumes from its
# checkpoints; a segmentation run with a results.json is not redone).
#
#   bash tools/ablation/table5a.sh                 # everything (hours on 2 shared CPU cores)
#   SEEDS="0 1 2" COUNT=1000 OUT=runs/table5a bash tools/ablation/table5a.sh
#   PRETRAIN_SETS="train.epochs=3" bash tools/ablation/table5a.sh      # a smaller budget for both pretrainings
#   G2D_RUN=tsx bash tools/ablation/table5a.sh     # run the TypeScript sources (no build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-runs/table5a}"
SEEDS="${SEEDS:-0 1 2}"
FRACTION="${FRACTION:-0.01}"
COUNT="${COUNT:-1000}"
EPOCHS="${EPOCHS:-50}"
BATCH="${BATCH:-4}"
PRETRAIN_SETS="${PRETRAIN_SETS:-}"
NICE="${NICE:-nice -n 10}"

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
  pnpm -s exec nx run-many -t build -p pretrain eval-segmentation --output-style=static >&2
fi

sets=()
for s in $PRETRAIN_SETS; do sets+=(--set "$s"); done
declare -A ENC
t0=$SECONDS
for run in vla-ps vla; do
  dir="$OUT/pretrain-$run"
  extra=()
  [[ "$run" == vla ]] && extra=(--set modelOverrides.loss.psWeight=0)
  if [[ -f "$dir/final/model.safetensors" ]]; then
    echo "[table5a] pretraining $run: done before ($dir/final)" >&2
  else
    echo "[table5a] pretraining $run -> $dir" >&2
    s=$SECONDS
    app pretrain demo --out "$dir" ${sets[@]+"${sets[@]}"} ${extra[@]+"${extra[@]}"} >&2
    echo "[table5a] pretraining $run took $((SECONDS - s)) s" >&2
  fi
  ENC[$run]="$dir/final"
done
ENC[random]=g2d-resnet18-tiny
ENC[random-frozen]=g2d-resnet18-tiny

common=(--dataset synthetic --set data.synthetic.count="$COUNT" --set data.synthetic.seed=1 --set data.target=lung-findings
  --fraction "$FRACTION" --set train.epochs="$EPOCHS" --set train.batchSize="$BATCH" --set train.valEvery=10 --set output.overlays=4)
for enc in vla-ps vla random random-frozen; do
  for proto in encoder encdec; do
    for seed in $SEEDS; do
      dir="$OUT/seg/$enc-$proto-s$seed"
      if [[ -f "$dir/results.json" ]]; then continue; fi
      args=("${common[@]}" --encoder "${ENC[$enc]}" --seed "$seed" --out "$dir")
      [[ "$proto" == encdec ]] && args+=(--set seg.transferDecoder=true)
      [[ "$enc" == random-frozen ]] && args+=(--set seg.freezeEncoder=true)
      echo "[table5a] segmentation $enc $proto seed $seed -> $dir" >&2
      s=$SECONDS
      app eval-segmentation "${args[@]}" >&2
      echo "[table5a] took $((SECONDS - s)) s" >&2
    done
  done
done
node tools/ablation/table5a-aggregate.mjs "$OUT"
echo "[table5a] total $((SECONDS - t0)) s" >&2
