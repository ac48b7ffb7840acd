/* The median pruner's bookkeeping (nas/prune.h). As Optuna's MedianPruner:
 * the median is the 50th percentile with linear interpolation (the mean of
 * the two middle values for an even count), over completed trials only --
 * pruned candidates never lower the bar for later ones. */
#include "nas/prune.h"

#include <math.h>
#include <stdlib.h>

int lpnas_prune_points(int warmup, int interval, int steps, int at[LPNAS_PRUNE_POINTS])
{
    int n = 0;
    if (interval < 1)
        interval = 1;
    for (int s = warmup < 1 ? 1 : warmup; s < steps && n < LPNAS_PRUNE_POINTS - 1; s += interval)
        at[n++] = s;
    at[n++] = steps;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void lpnas_prune_medians(const lpnas_candidate *cand, size_t n, int startup, double median[LPNAS_PRUNE_POINTS])
{
    double *v = malloc((n + 1) * sizeof *v);
    for (int k = 0; k < LPNAS_PRUNE_POINTS; k++) {
        median[k] = NAN;
        if (!v)
            continue; /* out of memory: no pruning, never a wrong one */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (cand[i].status == LPNAS_CAND_OK && !isnan(cand[i].curve[k]))
                v[m++] = cand[i].curve[k];
        if (m == 0 || m < (size_t)(startup < 1 ? 1 : startup))
            continue;
        qsort(v, m, sizeof *v, cmp_double);
        median[k] = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
    }
    free(v);
}
