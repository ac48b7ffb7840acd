#!/bin/sh
# The paper's comparison on our data (docs/experiment.md): for each data set and seed, a search
# in posthoc mode (conventional NAS: judged by FP32 mIoU) and one in aligned mode (judged after
# fine-tuning in the device policy), same budget; prints one line per run from its report.
# usage: tools/experiment.sh OUTDIR [POLICY] [EVALUATIONS] [WARMUP] [FINETUNE]
set -eu
out=${1:?usage: tools/experiment.sh OUTDIR [POLICY] [EVALUATIONS] [WARMUP] [FINETUNE]}
policy=${2:-myriadx}
evals=${3:-8}
warm=${4:-80}
fine=${5:-30}
bin=${BUILD:-build}/bin/vessel_search
mkdir -p "$out"
for data in synthetic sen2ships; do
  for seed in 1 2 3; do
    for mode in posthoc aligned; do
      dir="$out/$data-$mode-$seed"
      args="--policy $policy --mode $mode --seed $seed --evaluations $evals --warmup-steps $warm --finetune-steps $fine --out $dir"
      if [ "$data" = sen2ships ]; then
        [ -d ../shared/data/sen2ships ] || continue
        args="$args --data ../shared/data/sen2ships"
      else
        args="$args --tiles 300"
      fi
      $bin $args > "$dir.log" 2>&1 || { echo "$data $mode $seed: failed (see $dir.log)"; continue; }
      fp32=$(sed -n 's/^mIoU FP32 *//p' "$dir.log")
      ph=$(sed -n 's/^mIoU post-hoc *\([0-9.]*\).*/\1/p' "$dir.log")
      al=$(sed -n 's/^mIoU aligned *\([0-9.]*\).*/\1/p' "$dir.log")
      lat=$(sed -n 's/^latency *\([0-9.]*\).*/\1/p' "$dir.log")
      echo "$data $mode seed=$seed latency=$lat fp32=$fp32 posthoc=$ph aligned=$al"
    done
  done
done
