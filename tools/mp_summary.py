#!/usr/bin/python3
"""The table of issue 18's experiment (tools/experiment.sh mp OUTDIR): python3 tools/mp_summary.py OUTDIR

For every run OUTDIR/mp-CFG-MODE-SEED (CFG int8, w4a8, mixed; MODE posthoc, aligned) it reads
pareto.csv (the final front, with the held-out test columns) and prints, per CFG x MODE, mean and
sd over seeds of:
  best     the front member the search ranks first (validation mIoU in the mode's measure: post-hoc
           in posthoc mode, aligned in aligned mode), judged on the held-out test ports: its test
           mIoU in FP32 and in the policy, its latency (model) and size (weight bytes)
  front    members, the best test mIoU in the policy over the front, the smallest size on it
Then the post-hoc loss of the posthoc searches (test FP32 - test post-hoc of their best) and what
aligned search changes (aligned best's test mIoU in the policy - posthoc best's), paired by seed.
No third-party module: the standard library only."""
import csv
import glob
import math
import os
import re
import sys


def esc(arch):
    return arch.replace("|", "\\|")  # a markdown table cell


def mean_sd(xs):
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return "–"
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return f"{m:.4f} ± {sd:.4f}"


def mean_sd_int(xs):
    if not xs:
        return "–"
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return f"{m:,.0f} ± {sd:,.0f}"


def f(row, key):
    try:
        return float(row[key])
    except (KeyError, ValueError):
        return math.nan


def run_summary(path, mode):
    with open(os.path.join(path, "pareto.csv"), newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("status") == "ok"]
    if not rows:
        raise SystemExit(f"mp_summary: {path}/pareto.csv: no finished front member")
    rank = "miou_aligned" if mode == "aligned" else "miou_posthoc"
    test = "test_miou_aligned" if mode == "aligned" else "test_miou_posthoc"
    best = max(rows, key=lambda r: f(r, rank))
    return {
        "arch": best["arch"],
        "test_fp32": f(best, "test_miou_fp32"),
        "test_policy": f(best, test),
        "test_posthoc": f(best, "test_miou_posthoc"),
        "val": f(best, rank),
        "ms": f(best, "latency_ms"),
        "bytes": int(best["weight_bytes"]),
        "front": len(rows),
        "front_best": max(f(r, test) for r in rows),
        "front_min_bytes": min(int(r["weight_bytes"]) for r in rows),
        "front_min_ms": min(f(r, "latency_ms") for r in rows),
    }


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    out = sys.argv[1]
    runs = {}
    for d in sorted(glob.glob(os.path.join(out, "mp-*-*-*"))):
        m = re.fullmatch(r"mp-(\w+)-(posthoc|aligned)-(\d+)", os.path.basename(d))
        if not m or not os.path.isfile(os.path.join(d, "report.md")):
            continue  # a log file, or a run not finished
        runs[(m[1], m[2], int(m[3]))] = run_summary(d, m[2])
    if not runs:
        raise SystemExit(f"mp_summary: no finished run under {out}")
    cfgs = [c for c in ("int8", "w4a8", "mixed") if any(k[0] == c for k in runs)]
    print("| precision | mode | seeds | best: test FP32 | best: test in policy | best: ms | best: bytes |"
          " front size | front: best test in policy | front: smallest bytes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in cfgs:
        for mode in ("posthoc", "aligned"):
            rs = [v for k, v in sorted(runs.items()) if k[0] == c and k[1] == mode]
            if not rs:
                continue
            print(f"| {c} | {mode} | {len(rs)} | {mean_sd([r['test_fp32'] for r in rs])} |"
                  f" {mean_sd([r['test_policy'] for r in rs])} | {mean_sd([r['ms'] for r in rs])} |"
                  f" {mean_sd_int([r['bytes'] for r in rs])} | {mean_sd([r['front'] for r in rs])} |"
                  f" {mean_sd([r['front_best'] for r in rs])} | {mean_sd_int([r['front_min_bytes'] for r in rs])} |")
    print()
    print("| precision | seed | posthoc best: FP32 − post-hoc (test) | aligned best − posthoc best (test, in policy) |"
          " posthoc best | aligned best |")
    print("|---|---|---|---|---|---|")
    for c in cfgs:
        for s in sorted({k[2] for k in runs if k[0] == c}):
            p, a = runs.get((c, "posthoc", s)), runs.get((c, "aligned", s))
            loss = f"{p['test_fp32'] - p['test_posthoc']:+.4f}" if p else "–"
            gain = f"{a['test_policy'] - p['test_policy']:+.4f}" if p and a else "–"
            print(f"| {c} | {s} | {loss} | {gain} | `{esc(p['arch']) if p else '–'}` | `{esc(a['arch']) if a else '–'}` |")


if __name__ == "__main__":
    main()
