/* binary16 add, sub, mul, div, sqrt and fma, correctly rounded in all five
 * modes with SoftFloat's flags (x86 specialization; NaN results are the
 * default NaN 0x7E00).
 *
 * How each result is made exact (or safely faithful) before its one rounding:
 *  - add/sub: both operands are multiples of 2^-24 below 2^16, so the sum
 *    is exact as a 41-bit integer in units of 2^-24.
 *  - mul: an 11-bit by 11-bit integer product has 22 bits: exact.
 *  - div, sqrt (of the significands, exponents kept apart): the binary64 result q is within one binary64 ulp (2^-52
 *    relative) of the exact value in any host rounding mode. A quotient of
 *    11-bit numbers that is not itself a 12-bit number (a binary16 value or
 *    a midpoint between two) differs from every such number by at least
 *    about 2^-24 relative (a - m*b is a nonzero multiple of a's grid), and
 *    likewise for square roots (a - m^2). So q lies on the same side of
 *    every binary16 rounding boundary as the exact result and equals one
 *    only when the result is exact: rounding q once gives the correctly
 *    rounded binary16 and the right INEXACT flag, whatever the host mode.
 *  - fma: a*b + c can need 81 bits, so it is summed exactly in a 64-bit
 *    integer (see lpnas_f16_fma).
 * The host's rounding mode is neither read nor changed. */
#include <math.h>

#include "fp16/f16_internal.h"

/* sig * 2^exp as binary16 fields, with exp = max(E, 1) - 25 so subnormals
 * (E == 0) share the scale of E == 1. */
static inline uint32_t sig_of(uint16_t b, int *exp)
{
    uint32_t e = (b >> 10) & 0x1F;
    *exp = (int)(e ? e : 1) - 25;
    return (b & LPNAS_F16_MANT) | (e ? 0x400u : 0);
}

/* int, not bool: combined with | in the fast-path tests (no short circuit) */
static inline int is_zero(uint16_t b)
{
    return (b & 0x7FFFu) == 0;
}

static inline bool is_inf(uint16_t b)
{
    return (b & 0x7FFFu) == LPNAS_F16_INF;
}

/* NaN operand(s): INVALID if any is signaling; result the default NaN. */
static lpnas_f16 nan_result(uint16_t a, uint16_t b, uint16_t c, unsigned *flags)
{
    if (flags && (lpnas_f16_bits_snan(a) || lpnas_f16_bits_snan(b) || lpnas_f16_bits_snan(c)))
        *flags |= LPNAS_FLAG_INVALID;
    return lpnas_f16_make(LPNAS_F16_DEFAULT_NAN);
}

static lpnas_f16 invalid(unsigned *flags)
{
    if (flags)
        *flags |= LPNAS_FLAG_INVALID;
    return lpnas_f16_make(LPNAS_F16_DEFAULT_NAN);
}

/* An exact zero sum of operands with signs sa, sb: IEEE 754 §6.3. */
static inline lpnas_f16 zero_sum(bool sa, bool sb, lpnas_round rm)
{
    bool neg = sa == sb ? sa : rm == LPNAS_RDN;
    return lpnas_f16_make(neg ? LPNAS_F16_SIGN : 0);
}

lpnas_f16 lpnas_f16_add(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags)
{
    uint16_t x = a.bits, y = b.bits;
    if (((x & LPNAS_F16_EXP) == LPNAS_F16_EXP) | ((y & LPNAS_F16_EXP) == LPNAS_F16_EXP)) {
        if (lpnas_f16_bits_nan(x) || lpnas_f16_bits_nan(y))
            return nan_result(x, y, 0, flags);
        if (is_inf(x) && is_inf(y) && ((x ^ y) & LPNAS_F16_SIGN))
            return invalid(flags);
        return is_inf(x) ? a : b;
    }
    /* Both are multiples of 2^-24 below 2^16: as integers in units of
     * 2^-24 they fit in 41 bits, and the sum is exact. Signs are applied
     * without branches (x ^ -1) + 1 = -x: random signs would mispredict. */
    int ea, eb;
    int64_t A = sig_of(x, &ea); /* separate statements: ea is set by the call */
    int64_t B = sig_of(y, &eb);
    A <<= ea + 24;
    B <<= eb + 24;
    int64_t na = -(int64_t)(x >> 15), nb = -(int64_t)(y >> 15);
    int64_t S = ((A ^ na) - na) + ((B ^ nb) - nb);
    if (S == 0)
        return zero_sum(x >> 15, y >> 15, rm);
    int64_t ns = S >> 63; /* all ones if negative (arithmetic shift on gcc/clang) */
    return lpnas_f16_round_pack(ns != 0, -24, (uint64_t)((S ^ ns) - ns), rm, flags);
}

lpnas_f16 lpnas_f16_sub(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags)
{
    if (lpnas_f16_bits_nan(b.bits))
        return nan_result(a.bits, b.bits, 0, flags);
    b.bits ^= LPNAS_F16_SIGN;
    return lpnas_f16_add(a, b, rm, flags);
}

static inline int exp_all_ones(uint16_t b)
{
    return (b & LPNAS_F16_EXP) == LPNAS_F16_EXP;
}

lpnas_f16 lpnas_f16_mul(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags)
{
    uint16_t x = a.bits, y = b.bits;
    uint16_t sign = (x ^ y) & LPNAS_F16_SIGN;
    if (exp_all_ones(x) | exp_all_ones(y)) {
        if (lpnas_f16_bits_nan(x) || lpnas_f16_bits_nan(y))
            return nan_result(x, y, 0, flags);
        if (is_zero(x) || is_zero(y))
            return invalid(flags);
        return lpnas_f16_make(sign | LPNAS_F16_INF);
    }
    int ea, eb;
    uint64_t p = (uint64_t)sig_of(x, &ea) * sig_of(y, &eb); /* exact: 22 bits */
    if (p == 0)
        return lpnas_f16_make(sign);
    return lpnas_f16_round_pack(sign != 0, ea + eb, p, rm, flags);
}

lpnas_f16 lpnas_f16_div(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags)
{
    uint16_t x = a.bits, y = b.bits;
    uint16_t sign = (x ^ y) & LPNAS_F16_SIGN;
    if (exp_all_ones(x) | exp_all_ones(y) | is_zero(x) | is_zero(y)) {
        if (lpnas_f16_bits_nan(x) || lpnas_f16_bits_nan(y))
            return nan_result(x, y, 0, flags);
        if (is_inf(x)) {
            if (is_inf(y))
                return invalid(flags);
            return lpnas_f16_make(sign | LPNAS_F16_INF);
        }
        if (is_inf(y))
            return lpnas_f16_make(sign);
        if (is_zero(y)) {
            if (is_zero(x))
                return invalid(flags);
            if (flags)
                *flags |= LPNAS_FLAG_DIVBYZERO;
            return lpnas_f16_make(sign | LPNAS_F16_INF);
        }
        return lpnas_f16_make(sign); /* 0 / finite */
    }
    /* faithful quotient of the significands (see top), exponents apart */
    int ea, eb;
    double q = (double)sig_of(x, &ea) / (double)sig_of(y, &eb);
    uint64_t u = lpnas_f64_bits(q);
    uint64_t sig = ((u & 0xFFFFFFFFFFFFFull) | ((uint64_t)1 << 52)) << 10;
    return lpnas_f16_round_core(sign != 0, (int)((u >> 52) & 0x7FF) - 1023 + ea - eb, sig, rm, flags);
}

lpnas_f16 lpnas_f16_sqrt(lpnas_f16 a, lpnas_round rm, unsigned *flags)
{
    uint16_t x = a.bits;
    if (lpnas_f16_bits_nan(x))
        return nan_result(x, 0, 0, flags);
    if (is_zero(x))
        return a; /* sqrt(-0) = -0 */
    if (x & LPNAS_F16_SIGN)
        return invalid(flags);
    if (is_inf(x))
        return a;
    /* sqrt(sig * 2^e) = sqrt(sig * 2^(e & 1)) * 2^(e >> 1): faithful (see top) */
    int e;
    uint32_t sig = sig_of(x, &e);
    double r = sqrt((double)sig * ((e & 1) ? 2.0 : 1.0));
    uint64_t u = lpnas_f64_bits(r);
    uint64_t s = ((u & 0xFFFFFFFFFFFFFull) | ((uint64_t)1 << 52)) << 10;
    return lpnas_f16_round_core(false, (int)((u >> 52) & 0x7FF) - 1023 + (e - (e & 1)) / 2, s, rm, flags);
}

/* a*b + c rounded once. The product sigA*sigB (< 2^22) at exponent
 * expA+expB (in [-48, 10]) and c's sigC (< 2^11) at expC (in [-24, 5]) are
 * aligned on the smaller exponent: the larger term is shifted left by at
 * most 34 (product) or 53 (c) bits, so both fit in 64 bits exactly
 * (2047 * 2^53 + 2^22 < 2^64) and the sum is exact. */
lpnas_f16 lpnas_f16_fma(lpnas_f16 a, lpnas_f16 b, lpnas_f16 c, lpnas_round rm, unsigned *flags)
{
    uint16_t x = a.bits, y = b.bits, z = c.bits;
    bool sp = ((x ^ y) & LPNAS_F16_SIGN) != 0;
    bool sc = (z & LPNAS_F16_SIGN) != 0;
    if (exp_all_ones(x) | exp_all_ones(y) | exp_all_ones(z) | is_zero(x) | is_zero(y)) {
        /* SoftFloat order: NaN in a or b first; then inf*0 is invalid even when
         * c is a quiet NaN; then NaN in c. */
        if (lpnas_f16_bits_nan(x) || lpnas_f16_bits_nan(y))
            return nan_result(x, y, z, flags);
        if ((is_inf(x) || is_inf(y)) && (is_zero(x) || is_zero(y))) {
            if (flags && lpnas_f16_bits_snan(z))
                *flags |= LPNAS_FLAG_INVALID;
            return invalid(flags);
        }
        if (lpnas_f16_bits_nan(z))
            return nan_result(x, y, z, flags);
        if (is_inf(x) || is_inf(y)) {
            if (is_inf(z) && sp != sc)
                return invalid(flags);
            return lpnas_f16_make((uint16_t)((sp ? LPNAS_F16_SIGN : 0) | LPNAS_F16_INF));
        }
        if (is_inf(z))
            return c;
        if (is_zero(x) || is_zero(y))
            return is_zero(z) ? zero_sum(sp, sc, rm) : c;
        return c; /* not reached: one of the cases above returned */
    }

    int ea, eb, ec;
    uint64_t sigp = (uint64_t)sig_of(x, &ea) * sig_of(y, &eb);
    uint32_t scg = sig_of(z, &ec); /* 0 for a zero c: then the sum is the product */
    int ep = ea + eb;
    /* Align without branches (the larger-exponent term shifts left). */
    int d = ep - ec;
    uint64_t tp = sigp << (d > 0 ? d : 0);
    uint64_t tc = (uint64_t)scg << (d < 0 ? -d : 0);
    int e = d > 0 ? ec : ep;
    bool same = sp == sc;
    bool p_big = tp >= tc;
    uint64_t S = same ? tp + tc : (p_big ? tp - tc : tc - tp);
    bool sign = same ? sp : (p_big ? sp : sc);
    if (S == 0)
        return zero_sum(sp, sc, rm);
    return lpnas_f16_round_pack(sign, e, S, rm, flags);
}
