/* The conv test cases and their data, shared by test_conv2d.c and
 * test_conv2d_f16acc.c: a case's shape and parameters, and a deterministic
 * generator of values in [-1, 1). */
#ifndef LPNAS_TEST_CONV_CASE_H
#define LPNAS_TEST_CONV_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/conv2d.h"

typedef struct {
    int n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    int bias;
} conv_case;

static inline lpnas_conv_params params_of(const conv_case *k)
{
    lpnas_conv_params p = {k->kh, k->kw, k->sh, k->sw, k->ph, k->pw, k->dh, k->dw, k->groups};
    return p;
}

static uint64_t rng_state = 1;
static inline float frand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng_state >> 11) * 0x1p-53 * 2.0 - 1.0);
}

static inline void fill(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = frand();
}

#endif
