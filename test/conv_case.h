/* The conv test cases and their data, shared by test_conv2d.c and
 * test_conv2d_f16acc.c: a case's shape and parameters, and a deterministic
 * generator of values in [-1, 1). */
#ifndef LPNAS_TEST_CONV_CASE_H
#define LPNAS_TEST_CONV_CASE_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

/* A case's parameters, input and (checked) output shape, and element
 * counts of input, output and weights. */
static inline void conv_case_dims(const conv_case *k, lpnas_conv_params *p, lpnas_shape *s, lpnas_shape *o,
                                  size_t *ni, size_t *no, size_t *nw)
{
    *p = params_of(k);
    *s = (lpnas_shape){k->n, k->c, k->h, k->w};
    ck_assert_int_eq(lpnas_conv2d_check(*s, k->oc, p, o), LPNAS_OK);
    *ni = lpnas_shape_numel(*s), *no = lpnas_shape_numel(*o);
    *nw = (size_t)k->oc * (k->c / k->groups) * k->kh * k->kw;
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

/* n new values from the generator (malloc'd; the caller frees them). */
static inline float *filled(size_t n)
{
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    fill(x, n);
    return x;
}

#endif
