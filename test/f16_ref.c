/* See f16_ref.h. */
#include "f16_ref.h"

#include <math.h>

double lpnas_ref_f16_value(uint16_t b)
{
    int e = (b >> 10) & 0x1F;
    int m = b & 0x3FF;
    double s = (b & 0x8000) ? -1.0 : 1.0;
    if (e == 31)
        return m ? NAN : s * INFINITY;
    if (e == 0)
        return s * ldexp((double)m, -24);
    return s * ldexp((double)(1024 + m), e - 25);
}

/* Magnitude 0x0000..0x7BFF ascending, and 0x7C00 standing for 2^16 (the
 * next value an unbounded exponent range would have). */
static double table[0x7C01];
static int table_ready;

static void build_table(void)
{
    if (table_ready)
        return;
    for (int k = 0; k < 0x7C00; k++)
        table[k] = lpnas_ref_f16_value((uint16_t)k);
    table[0x7C00] = 65536.0;
    table_ready = 1;
}

struct signed_ctx {
    lpnas_ref_cmp cmp;
    const void *ctx;
    int neg;
};

/* sign(|x| - y) for y >= 0 */
static int cmp_mag(const struct signed_ctx *c, double y)
{
    return c->neg ? -c->cmp(c->ctx, -y) : c->cmp(c->ctx, y);
}

/* The bracket of |x| and the comparisons every mode needs, found once. */
struct bracket {
    int neg, huge, exact, k, cm, below_min, tiny_nearest, tiny_away;
};

static void find_bracket(lpnas_ref_cmp cmp, const void *ctx, struct bracket *b)
{
    build_table();
    struct signed_ctx c = {cmp, ctx, cmp(ctx, 0.0) < 0};
    b->neg = c.neg;
    b->huge = cmp_mag(&c, 65536.0) >= 0; /* rounds to >= 2^16 in every mode */
    if (b->huge)
        return;
    /* largest k with table[k] <= |x| */
    int lo = 0, hi = 0x7C00;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (cmp_mag(&c, table[mid]) >= 0)
            lo = mid;
        else
            hi = mid;
    }
    b->k = lo;
    b->exact = cmp_mag(&c, table[lo]) == 0;
    if (b->exact)
        return;
    b->cm = cmp_mag(&c, (table[lo] + table[lo + 1]) / 2);
    /* tininess after rounding: would |x| rounded to 11 bits with an
     * unbounded exponent be below 2^-14? Only [2^-15, 2^-14) is in doubt. */
    double min_normal = ldexp(1.0, -14);
    b->below_min = cmp_mag(&c, min_normal) < 0;
    if (!b->below_min) {
        b->tiny_nearest = b->tiny_away = 0;
    } else if (cmp_mag(&c, ldexp(1.0, -15)) < 0) {
        b->tiny_nearest = b->tiny_away = 1;
    } else {
        b->tiny_nearest = cmp_mag(&c, min_normal - ldexp(1.0, -26)) < 0;
        b->tiny_away = cmp_mag(&c, min_normal - ldexp(1.0, -25)) <= 0;
    }
}

static uint16_t decide(const struct bracket *b, lpnas_round rm, unsigned *flags)
{
    uint16_t sign = b->neg ? 0x8000 : 0;
    int away_dir = (rm == LPNAS_RUP && !b->neg) || (rm == LPNAS_RDN && b->neg);
    int toward_zero = rm == LPNAS_RTZ || (rm == LPNAS_RUP && b->neg) || (rm == LPNAS_RDN && !b->neg);
    if (b->huge) {
        *flags |= LPNAS_FLAG_OVERFLOW | LPNAS_FLAG_INEXACT;
        return (uint16_t)(sign | (toward_zero ? 0x7BFF : 0x7C00));
    }
    if (b->exact)
        return (uint16_t)(sign | b->k);
    int up = 0;
    switch (rm) {
    case LPNAS_RNE: up = b->cm > 0 || (b->cm == 0 && (b->k & 1)); break;
    case LPNAS_RNA: up = b->cm >= 0; break;
    default: up = away_dir; break;
    }
    int r = b->k + up;
    *flags |= LPNAS_FLAG_INEXACT;
    if (r == 0x7C00) {
        *flags |= LPNAS_FLAG_OVERFLOW;
        return (uint16_t)(sign | 0x7C00);
    }
    /* toward zero, everything below 2^-14 stays below it */
    int tiny = (rm == LPNAS_RNE || rm == LPNAS_RNA) ? b->tiny_nearest : away_dir ? b->tiny_away : b->below_min;
    if (tiny)
        *flags |= LPNAS_FLAG_UNDERFLOW;
    return (uint16_t)(sign | r);
}

uint16_t lpnas_ref_round(lpnas_ref_cmp cmp, const void *ctx, lpnas_round rm, unsigned *flags)
{
    struct bracket b;
    find_bracket(cmp, ctx, &b);
    return decide(&b, rm, flags);
}

void lpnas_ref_round_all(lpnas_ref_cmp cmp, const void *ctx, uint16_t out[5], unsigned flags[5])
{
    struct bracket b;
    find_bracket(cmp, ctx, &b);
    for (int m = 0; m < 5; m++) {
        flags[m] = 0;
        out[m] = decide(&b, (lpnas_round)m, &flags[m]);
    }
}

static int cmp_double(const void *ctx, double y)
{
    double x = *(const double *)ctx;
    return (x > y) - (x < y);
}

uint16_t lpnas_ref_round_double(double x, lpnas_round rm, unsigned *flags)
{
    return lpnas_ref_round(cmp_double, &x, rm, flags);
}

void lpnas_ref_round_double_all(double x, uint16_t out[5], unsigned flags[5])
{
    lpnas_ref_round_all(cmp_double, &x, out, flags);
}

uint64_t lpnas_ref_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

const char *lpnas_ref_mode_name(lpnas_round rm)
{
    static const char *names[] = {"RNE", "RTZ", "RDN", "RUP", "RNA"};
    return (unsigned)rm < 5 ? names[rm] : "?";
}
