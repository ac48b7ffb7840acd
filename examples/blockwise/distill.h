/* blockwise --mode distill (distill.c). */
#ifndef BLOCKWISE_DISTILL_H
#define BLOCKWISE_DISTILL_H

#include "lpnas.h"

typedef struct {
    lpnas_net *teacher;              /* FP32-trained */
    const lpnas_arch *arch;          /* its architecture */
    const lpnas_dataset *d;
    const int *tr, *va;
    int nt, nv;
    const float *mean, *std;         /* input normalization of the training tiles */
    const lpnas_policy *pol;
    const lpnas_wfmt *fmt;
    int nfmt, bits;                  /* the device's formats; the policy's weight bits */
    const lpnas_latency_model *latency;
    double max_ms;                   /* <= 0: none */
    long long max_weight_bytes;      /* <= 0: none */
    int kd_steps, steps;             /* per candidate block; FP32 steps for the measured networks */
    uint64_t seed;
    bool measure;                    /* train the choice and the teacher from scratch and measure them */
} distill_args;

int blockwise_distill(const distill_args *g);

/* Progress of a training run on stderr; user: its label (const char *).
 * every: steps between lines for a run of `steps` (about five lines). */
void blockwise_train_progress(void *user, const lpnas_train_progress *p);
int blockwise_progress_every(int steps);

#endif
