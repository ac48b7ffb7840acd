#!/bin/sh
# The experiment of docs/experiment.md, redone on real tiles, validated on held-out ports.
#
#   tools/experiment.sh a OUTDIR   (a) one architecture, four ways: FP32, post-hoc, aligned, and the
#                                  FP32 controls, for each architecture x data x input norm x policy
#   tools/experiment.sh b OUTDIR   (b) searches, posthoc vs aligned, on one setting (SETTING below)
#   tools/experiment.sh summary OUTDIR   the table (markdown) and OUTDIR/experiment_a.png
#
# Scale by environment (the defaults are the protocol; docs/experiment.md says what was run):
#   ARCHS="paper96k mobile tiny" SEEDS=5 WARMUP=300 FINETUNE=100
#   DATASETS="sen2ships16 sen2ships" NORMS="none device" POLICIES=myriadx,myriadx-fp16acc,ieee-fp16
#   (b): B_DATA=sen2ships16 B_NORM=none B_POLICY=myriadx B_EVALS=40 B_POP=12 B_SEEDS="1 2 3"
#        B_WARMUP=120 B_FINETUNE=40 B_NARROW="" (e.g. "--max-stages 3 --max-width 16") B_WORKERS=1
#        B_TEST_PORTS="algiers busan casablanca": these ports are held out as --test (never used for a
#        choice; symbolic links under OUTDIR/b-data, no copies); the search splits the other ports
#        scene-wise into training and validation
#   tools/experiment.sh mp OUTDIR  issue 18's experiment on an integer device: uniform int8, uniform
#        4-bit weights (w4a8) and searched mixed precision, each posthoc vs aligned, MP_SEEDS="1 2 3",
#        NSGA-II; the same held-out test ports as (b), on MP_DATA=sen2ships; scale by MP_EVALS=40
#        MP_POP=12 MP_WARMUP=60 MP_FINETUNE=20 MP_SPACE="--max-stages 3 --max-width 16 --budget-ms 1.0"
#        (one 40-candidate search at these settings took 12-15 minutes on one loaded core)
#   tools/experiment.sh bw OUTDIR  issue 18's block-wise shortcut on the same split and budget: per seed
#        (BW_SEEDS="1 2 3") blockwise --mode distill on BW_ARCH (the teacher) with --max-ms BW_MS=1.0,
#        then its choice and the teacher trained as the mp searches train a candidate (MP_WARMUP
#        FP32 steps, MP_FINETUNE in int8) and judged on the held-out test ports (bw-SEED.txt,
#        bw.txt: one line per seed and network)
# Results are appended to OUTDIR/a.csv; a rerun skips what is done (stop and continue at will).
set -eu
what=${1:?usage: tools/experiment.sh a|b|mp|bw|summary OUTDIR}
out=${2:?usage: tools/experiment.sh a|b|mp|bw|summary OUTDIR}
bin=${BUILD:-build}/bin
shared=${SHARED:-../shared/data}
mkdir -p "$out"
# heldout_split DATA OUTDIR: bd=OUTDIR/b-data/{trainval,test}, symbolic links into DATA
heldout_split() {
  src="$shared/$1"
  case $src in /*) ;; *) src="$PWD/$src" ;; esac
  bd="$2/b-data"
  mkdir -p "$bd/trainval/images" "$bd/trainval/masks" "$bd/test/images" "$bd/test/masks"
  ln -sf "$src/manifest.csv" "$bd/trainval/manifest.csv"
  ln -sf "$src/manifest.csv" "$bd/test/manifest.csv"
  # the test ports' tiles to test/, the others to trainval/. The scene is the manifest's 'port'
  # column (sen2ships16) or 'source_image' (sen2ships, whose quoted source_path holds commas:
  # quoted fields are blanked before splitting)
  awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "port" || ($i == "source_image" && !c)) c = i
                 if (!c) { print "experiment.sh: manifest has no port/source_image column" > "/dev/stderr"; exit 1 }
                 next }
       { gsub(/"[^"]*"/, "\"\""); split($0, f, ","); print f[1] "," f[c] }' FS=, "$src/manifest.csv" |
  while IFS=, read -r idx port; do
    part=trainval
    for p in ${B_TEST_PORTS:-algiers busan casablanca}; do [ "$port" = "$p" ] && part=test; done
    ln -sf "$src/images/$idx.png" "$bd/$part/images/$idx.png"
    ln -sf "$src/masks/$idx.png" "$bd/$part/masks/$idx.png"
  done
}
case $what in
a)
  for data in ${DATASETS:-sen2ships16 sen2ships}; do
    [ -d "$shared/$data" ] || { echo "no $shared/$data: skipped"; continue; }
    for norm in ${NORMS:-none device}; do
      for arch in ${ARCHS:-paper96k mobile tiny}; do
        nice -n 10 "$bin/align_experiment" --results "$out/a.csv" --data "$shared/$data" --input-norm "$norm" \
          --preset "$arch" --seeds "${SEEDS:-5}" --warmup-steps "${WARMUP:-300}" \
          --finetune-steps "${FINETUNE:-100}" --policies "${POLICIES:-myriadx,myriadx-fp16acc,ieee-fp16}" \
          2>> "$out/a.log"
      done
    done
  done
  "$bin/align_experiment" --summary "$out/a.csv" --plot "$out/experiment_a.png"
  ;;
b)
  heldout_split "${B_DATA:-sen2ships16}" "$out" # sets bd
  for seed in ${B_SEEDS:-1 2 3}; do
    for mode in posthoc aligned; do
      dir="$out/b-$mode-$seed"
      # shellcheck disable=SC2086 # B_NARROW is a list of options
      nice -n 10 "$bin/vessel_search" --data "$bd/trainval" --test "$bd/test" --input-norm "${B_NORM:-none}" \
        --policy "${B_POLICY:-myriadx}" --mode "$mode" --seed "$seed" --evaluations "${B_EVALS:-40}" \
        --population "${B_POP:-12}" --warmup-steps "${B_WARMUP:-120}" --finetune-steps "${B_FINETUNE:-40}" \
        --workers "${B_WORKERS:-1}" ${B_NARROW:-} \
        --out "$dir" > "$dir.log" 2>&1 || { echo "$mode $seed: failed (see $dir.log)"; continue; }
      echo "$mode seed=$seed $(grep -E '^(mIoU|test)' "$dir.log" | tr -s ' ' | tr '\n' ';')"
    done
  done
  ;;
mp)
  heldout_split "${MP_DATA:-sen2ships}" "$out" # sets bd
  for seed in ${MP_SEEDS:-1 2 3}; do
    for cfg in int8 w4a8 mixed; do
      for mode in posthoc aligned; do
        dir="$out/mp-$cfg-$mode-$seed"
        pol=$cfg extra=
        [ "$cfg" = mixed ] && pol=int8 extra=--mixed-precision
        [ -f "$dir/report.md" ] && continue # done: a rerun continues with the rest
        again=--overwrite
        [ -f "$dir/search.state" ] && again=--resume # interrupted: keep its finished candidates
        # shellcheck disable=SC2086 # MP_SPACE is a list of options
        nice -n 10 "$bin/vessel_search" --device imx8mp --policy "$pol" $extra --strategy nsga2 \
          --data "$bd/trainval" --test "$bd/test" --mode "$mode" --seed "$seed" --evaluations "${MP_EVALS:-40}" \
          --population "${MP_POP:-12}" --warmup-steps "${MP_WARMUP:-60}" --finetune-steps "${MP_FINETUNE:-20}" \
          --workers "${MP_WORKERS:-1}" ${MP_SPACE:---max-stages 3 --max-width 16 --budget-ms 1.0} \
          --out "$dir" $again > "$dir.log" 2>&1 || { echo "$cfg $mode $seed: failed (see $dir.log)"; continue; }
        echo "$cfg $mode seed=$seed $(grep -E '^(mIoU|test)' "$dir.log" | tr -s ' ' | tr '\n' ';')"
      done
    done
  done
  ;;
bw)
  heldout_split "${MP_DATA:-sen2ships}" "$out" # sets bd
  teacher=${BW_ARCH:-in3-c16x2k3-c16x2k3-c16x2k3/down=conv,up=nearest,skip=concat,dec=1,act=relu}
  for seed in ${BW_SEEDS:-1 2 3}; do
    log="$out/bw-$seed.txt"
    [ -f "$log" ] && grep -q '^choice' "$log" ||
      nice -n 10 "$bin/blockwise" --mode distill --device imx8mp --policy int8 --data "$bd/trainval" \
        --arch "$teacher" --steps "${BW_STEPS:-80}" --kd-steps "${BW_KD_STEPS:-30}" --max-ms "${BW_MS:-1.0}" \
        --seed "$seed" > "$log" || { echo "bw $seed: failed (see $log)"; continue; }
    choice=$(awk '$1 == "choice" { print $2 }' "$log")
    for net in "choice $choice" "teacher $teacher"; do
      set -- $net
      # done: a rerun continues with the rest, as the other parts do
      [ -f "$out/bw.txt" ] && grep -q "^seed=$seed $1 " "$out/bw.txt" && continue
      r=$(nice -n 10 "$bin/train_segmenter" --arch "$2" --data "$bd/trainval" --val "$bd/test" --policy int8 \
        --warmup-steps "${MP_WARMUP:-60}" --finetune-steps "${MP_FINETUNE:-20}" --seed "$seed" 2>/dev/null | tail -n 1)
      echo "seed=$seed $1 $2 $r" | tee -a "$out/bw.txt"
    done
  done
  ;;
summary)
  "$bin/align_experiment" --summary "$out/a.csv" --plot "$out/experiment_a.png"
  ;;
*)
  echo "tools/experiment.sh: '$what': expected a, b, mp, bw or summary" >&2
  exit 2
  ;;
esac
