/* Block-wise shortcut for mixed precision (issue 18, after QA-BWNAS): the
 * accuracy cost of each (block position, weight format) is measured once on
 * one trained network, then precision assignments are searched over the
 * table in milliseconds, assuming the costs add up across blocks.
 *
 * As built, the blocks' architecture is fixed (the trained network's); the
 * table covers the precision choice per encoder stage only. */
#ifndef LPNAS_BLOCKWISE_H
#define LPNAS_BLOCKWISE_H

#include "lpnas/arch.h"
#include "lpnas/data.h"
#include "lpnas/net.h"
#include "lpnas/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int stages, nfmt;
    lpnas_wfmt fmt[LPNAS_WFMT_COUNT];
    double base;                                       /* mIoU with no stage rounded (the policy only) */
    double miou[LPNAS_ARCH_MAX_STAGES][LPNAS_WFMT_COUNT]; /* only stage i in fmt[j] */
} lpnas_blockwise_table;

/* Measures the table on `net` (trained; its arch's own stage formats are
 * ignored): for every stage i and format j, a copy of the network with only
 * stage i's conv weights in fmt[j], evaluated on tiles idx[0..n) in the
 * policy. stages x nfmt + 1 evaluations, no training. */
lpnas_status lpnas_blockwise_measure(lpnas_net *net, const lpnas_dataset *d, const int *idx, int n,
                                     const lpnas_policy *policy, const lpnas_wfmt *fmt, int nfmt,
                                     lpnas_blockwise_table *out);

/* The assignment (choice[i] = index into fmt) that maximizes the predicted
 * mIoU base + sum_i (miou[i][choice[i]] - base) among those whose model size
 * (lpnas_arch_weight_bytes at default_bits) is at most max_bytes (<= 0: no
 * budget); exhaustive over nfmt^stages. *pred and *bytes describe it.
 * LPNAS_ERR_INFEASIBLE if no assignment fits. */
lpnas_status lpnas_blockwise_choose(const lpnas_blockwise_table *t, const lpnas_arch *a, int default_bits,
                                    long long max_bytes, int *choice, double *pred, long long *bytes);

#ifdef __cplusplus
}
#endif
#endif
