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

uint16_t lpnas_ref_round(lpnas_ref_cmp cmp, const void *ctx, lpnas_round rm, unsigned *flags)
{
    build_table();
    struct signed_ctx c = {cmp, ctx, cmp(ctx, 0.0) < 0};
    uint16_t sign = c.neg ? 0x8000 : 0;
    int away_dir = (rm == LPNAS_RUP && !c.neg) || (rm == LPNAS_RDN && c.neg);
    int toward_zero = rm == LPNAS_RTZ || (rm == LPNAS_RUP && c.neg) || (rm == LPNAS_RDN && !c.neg);

    if (cmp_mag(&c, 65536.0) >= 0) { /* rounds to >= 2^16 in every mode */
        *flags |= LPNAS_FLAG_OVERFLOW | LPNAS_FLAG_INEXACT;
        return (uint16_t)(sign | (toward_zero ? 0x7BFF : 0x7C00));
    }
    /* largest k with table[k] <= |x| */
    int lo = 0, hi = 0x7C00;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (cmp_mag(&c, table[mid]) >= 0)
            lo = mid;
        else
            hi = mid;
    }
    int k = lo;
    if (cmp_mag(&c, table[k]) == 0)
        return (uint16_t)(sign | k);
    int cm = cmp_mag(&c, (table[k] + table[k + 1]) / 2);
    int up = 0;
    switch (rm) {
    case LPNAS_RNE: up = cm > 0 || (cm == 0 && (k & 1)); break;
    case LPNAS_RNA: up = cm >= 0; break;
    default: up = away_dir; break;
    }
    int r = k + up;
    *flags |= LPNAS_FLAG_INEXACT;
    if (r == 0x7C00) {
        *flags |= LPNAS_FLAG_OVERFLOW;
        return (uint16_t)(sign | 0x7C00);
    }
    /* tininess after rounding: would |x| rounded to 11 bits with an
     * unbounded exponent be below 2^-14? */
    double min_normal = ldexp(1.0, -14);
    int tiny;
    if (cmp_mag(&c, min_normal) >= 0)
        tiny = 0;
    else if (cmp_mag(&c, ldexp(1.0, -15)) < 0)
        tiny = 1;
    else if (rm == LPNAS_RNE || rm == LPNAS_RNA)
        tiny = cmp_mag(&c, min_normal - ldexp(1.0, -26)) < 0;
    else if (away_dir)
        tiny = cmp_mag(&c, min_normal - ldexp(1.0, -25)) <= 0;
    else
        tiny = 1;
    if (tiny)
        *flags |= LPNAS_FLAG_UNDERFLOW;
    return (uint16_t)(sign | r);
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
