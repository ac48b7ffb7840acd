#!/usr/bin/env python3
"""A model of the distributed search (docs/distributed.md): how many
candidates per minute N nodes train, in the batch-synchronous mode and in
--async, from per-candidate training times measured on this machine.

  python3 tools/dist_model.py out/np1/results.csv [--nodes 1,2,4,...] [--workers 2]

Each node has `workers` slots. Rank 0 spends `t0` seconds per candidate on
the strategy, the cheap checks, the journal fsync and the messages (one
genome out, one row and two models back), serially. Batch mode: a batch of
B candidates is asked (a share `infeasible` never trains), its trainings are
dealt to the free slots, and the next batch waits for the slowest (the
barrier). Async: a slot that frees up gets the next candidate at once.
Training times are drawn from the measured ones (bootstrap)."""
import csv
import heapq
import random
import sys


def load(path):
    t, n, inf = [], 0, 0
    for r in csv.DictReader(open(path)):
        n += 1
        if r["status"] == "ok":
            t.append(float(r["seconds"]))
        inf += r["status"] == "infeasible"
    return t, inf / max(n, 1)


def batch_mode(times, slots, batch, infeasible, t0, n_train, rng):
    clock, trained = 0.0, 0
    while trained < n_train:
        k = sum(rng.random() >= infeasible for _ in range(batch))
        clock += t0 * batch  # asks, checks, journal: serial on rank 0
        free = [clock] * min(slots, max(k, 1))
        heapq.heapify(free)
        end = clock
        for _ in range(k):
            s = heapq.heappop(free)
            e = s + rng.choice(times) + t0
            end = max(end, e)
            heapq.heappush(free, e)
        clock, trained = end, trained + k
    return 60.0 * trained / clock


def async_mode(times, slots, infeasible, t0, n_train, rng):
    free = [0.0] * slots
    heapq.heapify(free)
    rank0 = 0.0  # rank 0 is one server: asks queue behind each other
    end, trained = 0.0, 0
    while trained < n_train:
        s = heapq.heappop(free)
        while rng.random() < infeasible:  # rejected asks cost rank 0 only
            rank0 = max(rank0, s) + t0
        rank0 = max(rank0, s) + t0
        e = rank0 + rng.choice(times) + t0
        heapq.heappush(free, e)
        end = max(end, e)
        trained += 1
    return 60.0 * trained / end


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    times, infeasible = load(args[0])
    if not times:
        print(f"{args[0]}: no trained candidates (status ok)", file=sys.stderr)
        return 1
    opt = {"--nodes": "1,2,4,8,16,32,64", "--workers": "2", "--t0": "0.015", "--train": "2000", "--seed": "1"}
    for i in range(1, len(args) - 1, 2):
        if args[i] not in opt:
            print(f"unknown option {args[i]}", file=sys.stderr)
            return 2
        opt[args[i]] = args[i + 1]
    nodes = [int(x) for x in opt["--nodes"].split(",")]
    w, t0, n = int(opt["--workers"]), float(opt["--t0"]), int(opt["--train"])
    mean = sum(times) / len(times)
    print(f"# {len(times)} measured trainings, mean {mean:.2f} s; {infeasible:.0%} of asks infeasible; "
          f"{w} workers per node; rank 0 {t0 * 1000:.0f} ms per candidate")
    print("| nodes | slots | batch 4 | batch = slots | batch = 4 x slots | async | ideal |")
    print("|---|---|---|---|---|---|---|")
    for p in nodes:
        rng = random.Random(int(opt["--seed"]))
        s = p * w
        b4 = batch_mode(times, s, 4, infeasible, t0, n, rng)
        bs = batch_mode(times, s, s, infeasible, t0, n, rng)
        b4s = batch_mode(times, s, 4 * s, infeasible, t0, n, rng)
        a = async_mode(times, s, infeasible, t0, n, rng)
        print(f"| {p} | {s} | {b4:.1f} | {bs:.1f} | {b4s:.1f} | {a:.1f} | {60.0 * s / mean:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
