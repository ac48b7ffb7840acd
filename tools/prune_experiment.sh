#!/bin/sh
# The pruner at equal time (docs/performance.md): for each seed, a search without the pruner
# (--no-prune, E evaluations) and one with it (--prune, more evaluations asked); the pruned
# search's best is taken over its candidates in id order while their summed `seconds` stay
# within the unpruned search's total, i.e. with the same training time. Prints per seed the
# candidates per hour of both and the two bests (the fitness the search ranks by, from
# results.csv; aligned mIoU minus the latency penalty, here the aligned mIoU of ok rows).
# With PAIR=1 the two searches of a seed run at the same time, pinned to cores 0 and 1
# (taskset), so both see the same machine, and the pruned one is stopped (SIGINT: it saves its
# finished candidates) once the unpruned one is done; otherwise one after the other. A rerun skips the
# searches whose results.csv is complete (exit 0 recorded in OUTDIR/NAME.done).
# usage: tools/prune_experiment.sh OUTDIR [EVALUATIONS] [WARMUP] [FINETUNE] [PRUNE_WARMUP] [TILES] [PRUNE_STARTUP]
set -eu
out=${1:?usage: tools/prune_experiment.sh OUTDIR [EVALUATIONS] [WARMUP] [FINETUNE] [PRUNE_WARMUP] [TILES]}
evals=${2:-20}
warm=${3:-120}
fine=${4:-40}
pw=${5:-40}
tiles=${6:-600}
startup=${7:-5}
bin=${BUILD:-build}/bin/vessel_search
mkdir -p "$out"
more=$((evals * 2))
for seed in 1 2 3; do
  common="--seed $seed --warmup-steps $warm --finetune-steps $fine --tiles $tiles --workers 1"
  run() { # NAME CORE OPTIONS...: one search, skipped when done before
    name=$1 core=$2
    shift 2
    [ -f "$out/$name.done" ] && return 0
    pin=""
    [ "${PAIR:-0}" = 1 ] && pin="taskset -c $core"
    $pin $bin $common "$@" --overwrite --out "$out/$name" > "$out/$name.log" 2>&1 && touch "$out/$name.done"
  }
  if [ -f "$out/noprune-$seed.done" ] && [ -f "$out/prune-$seed.done" ]; then
    : # both done before
  elif [ "${PAIR:-0}" = 1 ]; then
    run "noprune-$seed" 0 --no-prune --evaluations "$evals" &
    a=$!
    run "prune-$seed" 1 --prune --prune-warmup "$pw" --prune-startup "$startup" --evaluations "$more" &
    b=$!
    wait $a
    # equal time reached: stop the pruned search (it saves what it finished, exit 3) and keep it
    sleep 20
    pkill -INT -P "$b" 2>/dev/null || true
    wait $b || true
    touch "$out/prune-$seed.done"
  else
    run "noprune-$seed" 0 --no-prune --evaluations "$evals"
    run "prune-$seed" 1 --prune --prune-warmup "$pw" --prune-startup "$startup" --evaluations "$more"
  fi
  /usr/bin/python3 - "$out/noprune-$seed/results.csv" "$out/prune-$seed/results.csv" "$seed" <<'PY'
import csv, sys
def rows(p):
    with open(p) as f:
        return list(csv.DictReader(f))
a, b, seed = rows(sys.argv[1]), rows(sys.argv[2]), sys.argv[3]
def trained(r): return [x for x in r if x["status"] in ("ok", "pruned", "failed")]
ta = sum(float(x["seconds"]) for x in a)
best = lambda rs: max([float(x["miou_aligned"]) for x in rs if x["status"] == "ok" and x["miou_aligned"]] or [float("nan")])
used, within = 0.0, []
for x in b:
    used += float(x["seconds"])
    if used > ta: break
    within.append(x)
na, nb = len(trained(a)), len(trained(within))
pruned = sum(1 for x in within if x["status"] == "pruned")
print("seed %s: no-prune %d candidates in %.0f s (%.0f/h), best aligned mIoU %.4f | prune %d candidates (%d pruned) "
      "in the same time (%.0f/h), best %.4f" % (seed, na, ta, 3600 * na / ta, best(a), nb, pruned,
      3600 * nb / ta, best(within)))
PY
done
