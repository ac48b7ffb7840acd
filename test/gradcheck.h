/* Finite-difference gradient checks for kernel and network tests.
 *
 * The scalar probed is L(x) = sum_i out_i(x) * r_i for a fixed random r, so
 * the analytic gradient is backward(dout = r). The caller supplies a
 * forward that computes L in double from float inputs; central differences
 * (L(x+h) - L(x-h)) / 2h are compared with the analytic values. */
#ifndef LPNAS_TEST_GRADCHECK_H
#define LPNAS_TEST_GRADCHECK_H

#include <stddef.h>

/* Returns L for the current contents of the buffers the closure refers to. */
typedef double (*lpnas_loss_fn)(void *ctx);

typedef struct {
    double h;       /* step, default 1e-2 for float kernels */
    double rtol;    /* default 2e-2 */
    double atol;    /* default 1e-3 */
    size_t max_checked; /* check at most this many coordinates (spread evenly); 0 = all */
} lpnas_gradcheck_options;

lpnas_gradcheck_options lpnas_gradcheck_defaults(void);

/* Perturbs x[i] (which the loss reads through ctx), compares the central
 * difference with analytic[i]. On mismatch prints `what`, the index, both
 * values, and returns the number of mismatches (0 = pass). */
size_t lpnas_gradcheck(const char *what, lpnas_loss_fn loss, void *ctx, float *x, const float *analytic,
                       size_t n, const lpnas_gradcheck_options *opt);

#endif
