/* Internal helpers of the binary16 core: field access and the one function
 * through which every correctly rounded binary16 result is rounded.
 *
 *   binary16  | S | EEEEE | MMMMMMMMMM |  bias 15
 *   binary32  | S | EEEEEEEE | MMMMMMMMMMMMMMMMMMMMMMM |  bias 127
 *   binary64  | S | E x 11   | M x 52 |  bias 1023
 */
#ifndef LPNAS_FP16_INTERNAL_H
#define LPNAS_FP16_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "lpnas/fp16.h"

#if defined(__GNUC__)
#define LPNAS_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define LPNAS_ALWAYS_INLINE inline
#endif

#define LPNAS_F16_SIGN 0x8000u
#define LPNAS_F16_EXP 0x7C00u
#define LPNAS_F16_MANT 0x03FFu
#define LPNAS_F16_INF 0x7C00u
#define LPNAS_F16_MAX 0x7BFFu        /* 65504 */
#define LPNAS_F16_DEFAULT_NAN 0x7E00u

static inline lpnas_f16 lpnas_f16_make(uint16_t bits)
{
    lpnas_f16 h = {bits};
    return h;
}

static inline uint32_t lpnas_f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float lpnas_f32_from_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline uint64_t lpnas_f64_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double lpnas_f64_from_bits(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline bool lpnas_f16_bits_nan(uint16_t b)
{
    return (b & 0x7FFFu) > LPNAS_F16_INF;
}

/* Signaling NaN: exponent all ones, quiet bit (bit 9) clear, mantissa != 0. */
static inline bool lpnas_f16_bits_snan(uint16_t b)
{
    return (b & 0x7E00u) == 0x7C00u && (b & 0x01FFu) != 0;
}

/* Every arithmetic result is rounded by lpnas_f16_round_core() below
 * (directly, through lpnas_f16_round_pack() or lpnas_f16_round_f64()),
 * raising INEXACT, OVERFLOW and UNDERFLOW (tininess after rounding) as
 * SoftFloat does. */
/* Rounds a double whose rounding to binary16 equals that of the exact
 * result (exact values, or faithful ones that no binary16 rounding boundary
 * separates from the exact result). Zeros keep their sign; inf stays inf;
 * NaN gives the default NaN (callers handle NaN operands first). */
lpnas_f16 lpnas_f16_round_f64(double x, lpnas_round rm, unsigned *flags);

/* What the addend must be so that (sig + addend) >> shift is sig rounded in
 * mode rm at bit `shift` (1..63). lsb is bit `shift` of sig (for ties to even). */
static LPNAS_ALWAYS_INLINE uint64_t lpnas_round_addend(lpnas_round rm, bool sign, unsigned shift, uint64_t lsb)
{
    uint64_t half = (uint64_t)1 << (shift - 1);
    uint64_t all = half + (half - 1);
    uint64_t neg = -(uint64_t)sign; /* all ones for negative: no branch on a data-dependent sign */
    switch (rm) {
    case LPNAS_RNE: return half - 1 + lsb;
    case LPNAS_RNA: return half;
    case LPNAS_RTZ: return 0;
    case LPNAS_RUP: return all & ~neg;
    case LPNAS_RDN: return all & neg;
    }
    return half - 1 + lsb;
}

/* The result of an overflow in mode rm: inf, or the largest finite value
 * when the mode rounds toward zero for this sign. */
static inline uint16_t lpnas_f16_overflow_bits(bool sign, lpnas_round rm)
{
    bool to_max = rm == LPNAS_RTZ || (rm == LPNAS_RUP && sign) || (rm == LPNAS_RDN && !sign);
    return (uint16_t)((sign ? LPNAS_F16_SIGN : 0) | (to_max ? LPNAS_F16_MAX : LPNAS_F16_INF));
}

/* The rounding core. sig has its leading one at bit 62 (so sig + addend
 * never overflows) and weighs 2^(e-62): the value is 1.xxx * 2^e.
 *
 * A normal result keeps 11 bits (the last weighs 2^(e-10)), a subnormal
 * one fewer, its last bit weighing 2^-24: shift = 52 + max(0, -14 - e).
 * Packing: bits = ((e + 14) << 10) + q for e >= -14, with q in
 * [2^10, 2^11]: the implicit bit of q adds the 1 of the biased exponent
 * (e + 15), and a carry to q == 2^11 bumps the exponent by itself. For
 * e < -14 bits = q, and q == 2^10 is exactly the smallest normal. */
/* Inlined into every operation: a call here costs as much as the rounding. */
static LPNAS_ALWAYS_INLINE lpnas_f16 lpnas_f16_round_core(bool sign, int e, uint64_t sig, lpnas_round rm, unsigned *flags)
{
    uint16_t sbit = sign ? LPNAS_F16_SIGN : 0;
    /* No early exit for huge e: bits below is then >= 0x7C00 and the
     * overflow test catches it (e <= 1023 keeps it within 32 bits). The
     * other cases are selected, not branched on: random data makes every
     * outcome (normal, subnormal, far below) equally unpredictable. */
    int shift = 52 + (e < -14 ? -14 - e : 0);
    bool far = shift > 63; /* value < 2^-25, half the smallest subnormal: 0 or 2^-24 */
    unsigned sh = far ? 63 : (unsigned)shift;
    uint64_t qn = (sig + lpnas_round_addend(rm, sign, sh, (sig >> sh) & 1)) >> sh;
    uint64_t q_far = (rm == LPNAS_RUP && !sign) || (rm == LPNAS_RDN && sign);
    uint64_t q = far ? q_far : qn;
    bool inexact = far | ((sig & (((uint64_t)1 << sh) - 1)) != 0);
    uint32_t bits = e >= -14 ? ((uint32_t)(e + 14) << 10) + (uint32_t)q : (uint32_t)q;
    if (bits >= LPNAS_F16_INF) {
        if (flags)
            *flags |= LPNAS_FLAG_OVERFLOW | LPNAS_FLAG_INEXACT;
        return lpnas_f16_make(lpnas_f16_overflow_bits(sign, rm));
    }
    if (flags) {
        /* Tininess after rounding: the result rounded to 11 bits with an
         * unbounded exponent is below 2^-14. Only e == -15 can round up to
         * 2^-14 and escape. Branch-free on the common path: whether a
         * result is inexact is data, not a pattern a predictor can learn. */
        bool tiny = e < -14;
        if (e == -15) {
            uint64_t q11 = (sig + lpnas_round_addend(rm, sign, 52, (sig >> 52) & 1)) >> 52;
            tiny = q11 < ((uint64_t)1 << 11);
        }
        *flags |= (unsigned)inexact * (LPNAS_FLAG_INEXACT | (tiny ? LPNAS_FLAG_UNDERFLOW : 0u));
    }
    return lpnas_f16_make((uint16_t)(sbit | bits));
}

/* Rounds the nonzero value (-1)^sign * sig * 2^exp: normalizes so the
 * leading one sits at bit 62 (e is then its unbiased binary exponent) and
 * hands over to the core. */
static LPNAS_ALWAYS_INLINE lpnas_f16 lpnas_f16_round_pack(bool sign, int exp, uint64_t sig, lpnas_round rm, unsigned *flags)
{
    unsigned lz = (unsigned)__builtin_clzll(sig);
    if (lz >= 1)
        sig <<= lz - 1;
    else
        sig = (sig >> 1) | (sig & 1); /* bit 63 set: shift right, keep the lost bit sticky */
    return lpnas_f16_round_core(sign, exp + 63 - (int)lz, sig, rm, flags);
}

/* A finite nonzero double's significand (leading one at bit 62) and
 * exponent; binary64 subnormals never reach here from our operations, but
 * are handled (they round like any value below 2^-25). */
static inline lpnas_f16 lpnas_f16_round_f64_inline(double x, lpnas_round rm, unsigned *flags)
{
    uint64_t u = lpnas_f64_bits(x);
    bool sign = (u >> 63) != 0;
    int E = (int)((u >> 52) & 0x7FF);
    if (E == 0)
        return lpnas_f16_round_pack(sign, -1074, u & 0xFFFFFFFFFFFFFull, rm, flags);
    uint64_t sig = ((u & 0xFFFFFFFFFFFFFull) | ((uint64_t)1 << 52)) << 10;
    return lpnas_f16_round_core(sign, E - 1023, sig, rm, flags);
}

#endif
