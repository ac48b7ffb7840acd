/* binary16 add, sub, mul, div, sqrt and fma, correctly rounded in all five
 * modes with SoftFloat's flags (x86 specialization; NaN results are the
 * default NaN 0x7E00).
 *
 * Why binary64 is enough for add/sub/mul/div/sqrt:
 *  - add/sub: both operands are multiples of 2^-24 below 2^16, so the sum
 *    needs at most 41 significant bits: exact in binary64.
 *  - mul: an 11-bit by 11-bit product has 22 bits: exact.
 *  - div, sqrt: the binary64 result q is within one binary64 ulp (2^-52
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

static inline double to_f64(uint16_t b)
{
    return (double)lpnas_f16_to_f32(lpnas_f16_make(b));
}

static inline bool is_zero(uint16_t b)
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
    if (lpnas_f16_bits_nan(x) || lpnas_f16_bits_nan(y))
        return nan_result(x, y, 0, flags);
    if (is_inf(x) || is_inf(y)) {
        if (is_inf(x) && is_inf(y) && ((x ^ y) & LPNAS_F16_SIGN))
            return invalid(flags);
        return is_inf(x) ? a : b;
    }
    double s = to_f64(x) + to_f64(y); /* exact */
    if (s == 0)
        return zero_sum(x >> 15, y >> 15, rm);
    return lpnas_f16_round_f64(s, rm, flags);
}

lpnas_f16 lpnas_f16_sub(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags)
{
    if (lpnas_f16_bits_nan(b.bits))
        return nan_result(a.bits, b.bits, 0, flags);
    b.bits ^= LPNAS_F16_SIGN;
    return lpnas_f16_add(a, b, rm, flags);
}

lpnas_f16 lpnas_f16_mul(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags)
{
    uint16_t x = a.bits, y = b.bits;
    uint16_t sign = (x ^ y) & LPNAS_F16_SIGN;
    if (lpnas_f16_bits_nan(x) || lpnas_f16_bits_nan(y))
        return nan_result(x, y, 0, flags);
    if (is_inf(x) || is_inf(y)) {
        if (is_zero(x) || is_zero(y))
            return invalid(flags);
        return lpnas_f16_make(sign | LPNAS_F16_INF);
    }
    if (is_zero(x) || is_zero(y))
        return lpnas_f16_make(sign);
    return lpnas_f16_round_f64(to_f64(x) * to_f64(y), rm, flags); /* exact product */
}

lpnas_f16 lpnas_f16_div(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags)
{
    uint16_t x = a.bits, y = b.bits;
    uint16_t sign = (x ^ y) & LPNAS_F16_SIGN;
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
    if (is_zero(x))
        return lpnas_f16_make(sign);
    return lpnas_f16_round_f64(to_f64(x) / to_f64(y), rm, flags); /* faithful: see top */
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
    return lpnas_f16_round_f64(sqrt(to_f64(x)), rm, flags); /* faithful: see top */
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

    uint32_t sa, sb, scg;
    int ea, eb, ec;
    lpnas_f16_unpack(x, &sa, &ea);
    lpnas_f16_unpack(y, &sb, &eb);
    uint64_t sigp = (uint64_t)sa * sb;
    int ep = ea + eb;
    if (is_zero(z))
        return lpnas_f16_round_pack(sp, ep, sigp, rm, flags);
    lpnas_f16_unpack(z, &scg, &ec);

    uint64_t tp, tc;
    int e;
    if (ep >= ec) {
        tp = sigp << (ep - ec);
        tc = scg;
        e = ec;
    } else {
        tp = sigp;
        tc = (uint64_t)scg << (ec - ep);
        e = ep;
    }
    if (sp == sc)
        return lpnas_f16_round_pack(sp, e, tp + tc, rm, flags);
    if (tp == tc)
        return zero_sum(sp, sc, rm);
    if (tp > tc)
        return lpnas_f16_round_pack(sp, e, tp - tc, rm, flags);
    return lpnas_f16_round_pack(sc, e, tc - tp, rm, flags);
}
