/* An independent binary16 rounding reference for the tests.
 *
 * It shares nothing with fp16/: it never looks at bit fields of the result.
 * The exact result x of an operation is known only through a comparator
 * cmp(y) = sign(x - y), evaluated exactly in binary64 for any y that is a
 * binary16 value, a midpoint between two, or a tininess threshold. The
 * reference binary-searches the sorted table of binary16 magnitudes for the
 * bracket lo <= |x| < hi and decides by comparing with the midpoint. */
#ifndef LPNAS_TEST_F16_REF_H
#define LPNAS_TEST_F16_REF_H

#include <stdint.h>

#include "lpnas/fp16.h"

typedef int (*lpnas_ref_cmp)(const void *ctx, double y); /* sign(x - y) */

/* The binary16 value of bits b as a double (by arithmetic on the fields,
 * not by the library). NaN for NaN bits. */
double lpnas_ref_f16_value(uint16_t b);

/* Rounds the nonzero exact x described by cmp in mode rm; flags OR-ed. */
uint16_t lpnas_ref_round(lpnas_ref_cmp cmp, const void *ctx, lpnas_round rm, unsigned *flags);

/* All five modes at once (indexed by lpnas_round), one bracket search. */
void lpnas_ref_round_all(lpnas_ref_cmp cmp, const void *ctx, uint16_t out[5], unsigned flags[5]);
void lpnas_ref_round_double_all(double x, uint16_t out[5], unsigned flags[5]);

/* Rounds a double (exact: compared directly). x must be finite and nonzero. */
uint16_t lpnas_ref_round_double(double x, lpnas_round rm, unsigned *flags);

/* Random source for tests (splitmix64), so tests do not depend on base/rng. */
uint64_t lpnas_ref_rand(uint64_t *state);

const char *lpnas_ref_mode_name(lpnas_round rm);

#include <string.h>

static inline uint32_t fbits(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static inline float ffrom(uint32_t u)
{
    float x;
    memcpy(&x, &u, 4);
    return x;
}

#endif
