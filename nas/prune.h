/* Internal: the median pruner of the search (lpnas_search_options.prune).
 * Checkpoints are training steps; the thresholds for a candidate are the
 * medians, per checkpoint, over the candidates before it: the finished (ok)
 * ones and the pruned ones (at their last value from where they stopped) --
 * fixed before its batch is evaluated, so the result does not depend on the
 * number of workers. */
#ifndef LPNAS_NAS_PRUNE_H
#define LPNAS_NAS_PRUNE_H

#include "nas/runner.h"

/* Checkpoint steps: warmup, warmup + interval, ... below steps, then steps
 * itself (the end of the FP32 training); at most LPNAS_PRUNE_POINTS. */
int lpnas_prune_points(int warmup, int interval, int steps, int at[LPNAS_PRUNE_POINTS]);
/* median[k] over cand[0..n): the ok ones with a measured curve[k] and the
 * pruned ones, each at curve[k] or, stopped before k, at its last measured
 * value; NaN where fewer than startup (>= 1) ok ones measured k. */
void lpnas_prune_medians(const lpnas_candidate *cand, size_t n, int startup, double median[LPNAS_PRUNE_POINTS]);

#endif
