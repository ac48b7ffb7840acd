/* Block-wise shortcuts for mixed precision (issue 18, after QA-BWNAS and
 * DNA's block-wise knowledge distillation).
 *
 * 1. The precision table (lpnas_blockwise_measure/choose): the accuracy cost
 *    of each (block position, weight format) on one trained network, measured
 *    as mIoU in the policy; the blocks' architecture is the trained one's.
 * 2. The distillation table (lpnas_blockwise_kd_*): per block position,
 *    candidate block (type, width, blocks, kernel, expansion) and weight
 *    format, a feature-distillation loss against the FP32 teacher, computed
 *    once; then a search over the table under latency and size budgets.
 * Both assume the costs add up across blocks. */
#ifndef LPNAS_BLOCKWISE_H
#define LPNAS_BLOCKWISE_H

#include "lpnas/arch.h"
#include "lpnas/data.h"
#include "lpnas/latency.h"
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


/* ---- the distillation table ---------------------------------------------- */

#define LPNAS_BLOCKWISE_MAX_CANDS 16

/* Candidate blocks per encoder position (the teacher's stage count); a
 * candidate's wfmt is ignored (the formats are the table's other axis). */
typedef struct {
    int ncand[LPNAS_ARCH_MAX_STAGES];
    lpnas_stage cand[LPNAS_ARCH_MAX_STAGES][LPNAS_BLOCKWISE_MAX_CANDS];
} lpnas_blockwise_cands;

typedef struct {
    int steps;     /* training steps per candidate block (default 60) */
    int batch;     /* tiles per step (default 8) */
    double lr;     /* Adam (default 0.003) */
    uint64_t seed; /* batches and initialization (default 1) */
    /* called after each candidate block is trained and measured, with the
     * blocks done and the total (NULL: none; the default) */
    void (*progress)(void *user, int done, int total);
    void *progress_user;
} lpnas_blockwise_kd_options;

void lpnas_blockwise_kd_options_default(lpnas_blockwise_kd_options *o);

typedef struct {
    int stages, nfmt;
    lpnas_wfmt fmt[LPNAS_WFMT_COUNT];
    lpnas_blockwise_cands cands;
    /* validation MSE of the candidate's output features (through its learned
     * 1x1 adapter to the teacher's width) against the teacher's stage output,
     * divided by the teacher features' mean square: 0 = the teacher's
     * features, 1 = as far as all zeros. [position][candidate][format] */
    double loss[LPNAS_ARCH_MAX_STAGES][LPNAS_BLOCKWISE_MAX_CANDS][LPNAS_WFMT_COUNT];
    long long trained; /* candidate blocks trained (one per position and candidate) */
} lpnas_blockwise_kd_table;

/* Builds the table against `teacher` (FP32-trained; BN statistics set).
 * For position i and candidate b: a student made of the teacher's stages
 * before i (its weights, frozen, BN in evaluation mode) and b, with a 1x1
 * adapter from b's width to the teacher's stage-i width, is trained for
 * o->steps steps on tiles train[0..ntrain) to minimize the MSE against the
 * teacher's stage-i output (FP32; only b and the adapter learn). Then, for
 * each format, b's conv weights are put on the format's grid
 * (lpnas_net_round_stage_weights) and the loss is measured on val[0..nval).
 * Deterministic: same inputs, same table bits. */
lpnas_status lpnas_blockwise_kd_build(lpnas_net *teacher, const lpnas_dataset *d, const int *train, int ntrain,
                                      const int *val, int nval, const lpnas_wfmt *fmt, int nfmt,
                                      const lpnas_blockwise_cands *cands, const lpnas_blockwise_kd_options *o,
                                      lpnas_blockwise_kd_table *out);

typedef struct {
    const lpnas_latency_model *latency; /* NULL: no latency budget */
    double max_ms;                      /* <= 0: none */
    long long max_weight_bytes;         /* <= 0: none */
    int default_bits;                   /* the policy's weight bits (decoder, head) */
    int h, w;                           /* tile size for the latency model */
} lpnas_blockwise_budget;

typedef struct {
    lpnas_arch arch;     /* the teacher's options with the chosen block and format per position */
    int cand[LPNAS_ARCH_MAX_STAGES], fmt[LPNAS_ARCH_MAX_STAGES]; /* indices into the table */
    double loss;         /* sum over positions of the table's loss */
    double latency_ms;   /* NaN without a latency model */
    long long weight_bytes;
    long long visited;   /* complete assignments whose budgets were checked */
} lpnas_blockwise_choice;

/* The assignment (one candidate and format per position) with the least
 * summed loss whose whole network meets the budgets (latency and size are
 * computed for the assembled network, not added up: the decoder depends on
 * the widths). Branch and bound over the product, choices in loss order;
 * ties go to the earlier candidate and format. LPNAS_ERR_INFEASIBLE if
 * nothing fits. */
lpnas_status lpnas_blockwise_kd_search(const lpnas_blockwise_kd_table *t, const lpnas_arch *teacher_arch,
                                       const lpnas_blockwise_budget *b, lpnas_blockwise_choice *out);

#ifdef __cplusplus
}
#endif
#endif
