/* Rounding and packing of binary16 results, and the scalar conversions.
 *
 * Every correctly rounded result goes through lpnas_f16_round_pack(): the
 * value arrives as an integer significand and a power of two, exact (or with
 * a sticky bit that no rounding boundary can separate from the exact value),
 * and leaves as binary16 bits with SoftFloat's flags. */
#include "fp16/f16_internal.h"

/* Significands are normalized so their leading one is bit 62: then
 * sig + addend (addend < 2^63) never overflows 64 bits. */
#define LEAD 62

lpnas_f16 lpnas_f16_round_pack(bool sign, int exp, uint64_t sig, lpnas_round rm, unsigned *flags)
{
    unsigned lz = (unsigned)__builtin_clzll(sig);
    /* value = sig * 2^exp; after the shift the leading one sits at bit 62,
     * and e is the unbiased binary exponent of that leading one. */
    if (lz >= 1)
        sig <<= lz - 1;
    else
        sig = (sig >> 1) | (sig & 1); /* bit 63 set: shift right, keep the lost bit sticky */
    int e = exp + 63 - (int)lz;
    uint16_t sbit = sign ? LPNAS_F16_SIGN : 0;
    unsigned fl = 0;

    if (e > 15) { /* >= 2^16: overflows in every mode */
        if (flags)
            *flags |= LPNAS_FLAG_OVERFLOW | LPNAS_FLAG_INEXACT;
        return lpnas_f16_make(lpnas_f16_overflow_bits(sign, rm));
    }

    /* Keep 11 bits for a normal result; fewer below 2^-14 (subnormal). The
     * result's last kept bit has weight 2^(e-10), but never below 2^-24. */
    int shift = LEAD - 10 + (e < -14 ? -14 - e : 0);
    uint64_t q;
    bool inexact;
    if (shift >= 64) {
        /* value < 2^-25 = half the smallest subnormal: 0 or 2^-24 */
        q = (rm == LPNAS_RUP && !sign) || (rm == LPNAS_RDN && sign);
        inexact = true;
    } else {
        uint64_t lsb = (sig >> shift) & 1;
        q = (sig + lpnas_round_addend(rm, sign, (unsigned)shift, lsb)) >> shift;
        inexact = (sig & (((uint64_t)1 << shift) - 1)) != 0;
    }

    /* Normal: bits = (biased exponent - 1) << 10 + q, q in [2^10, 2^11]; a
     * carry out of the significand (q == 2^11) bumps the exponent by itself.
     * Subnormal: bits = q, and q == 2^10 is exactly the smallest normal. */
    uint32_t bits = e >= -14 ? ((uint32_t)(e + 14) << 10) + (uint32_t)q : (uint32_t)q;
    if (bits >= LPNAS_F16_INF) {
        if (flags)
            *flags |= LPNAS_FLAG_OVERFLOW | LPNAS_FLAG_INEXACT;
        return lpnas_f16_make(lpnas_f16_overflow_bits(sign, rm));
    }
    if (inexact) {
        fl |= LPNAS_FLAG_INEXACT;
        /* Tininess after rounding: the result rounded to 11 bits with an
         * unbounded exponent is below 2^-14. Only e == -15 can round up to
         * 2^-14 and escape. */
        bool tiny = e < -14;
        if (e == -15) {
            unsigned sh = LEAD - 10;
            uint64_t qn = (sig + lpnas_round_addend(rm, sign, sh, (sig >> sh) & 1)) >> sh;
            tiny = qn < ((uint64_t)1 << 11);
        }
        if (tiny)
            fl |= LPNAS_FLAG_UNDERFLOW;
    }
    if (flags)
        *flags |= fl;
    return lpnas_f16_make((uint16_t)(sbit | bits));
}

lpnas_f16 lpnas_f16_round_f64(double x, lpnas_round rm, unsigned *flags)
{
    uint64_t u = lpnas_f64_bits(x);
    bool sign = (u >> 63) != 0;
    uint64_t E = (u >> 52) & 0x7FF;
    uint64_t m = u & 0xFFFFFFFFFFFFFull;
    if (E == 0x7FF)
        return lpnas_f16_make(m ? LPNAS_F16_DEFAULT_NAN
                                : (uint16_t)((sign ? LPNAS_F16_SIGN : 0) | LPNAS_F16_INF));
    if (E == 0 && m == 0)
        return lpnas_f16_make(sign ? LPNAS_F16_SIGN : 0);
    if (E == 0) /* binary64 subnormal: far below binary16's range */
        return lpnas_f16_round_pack(sign, -1074, m, rm, flags);
    return lpnas_f16_round_pack(sign, (int)E - 1075, m | ((uint64_t)1 << 52), rm, flags);
}

/* NaN conversions keep the sign and the top payload bits and set the quiet
 * bit, as SoftFloat's x86 specialization and the F16C instructions do. */
lpnas_f16 lpnas_f16_from_f32(float x, lpnas_round rm, unsigned *flags)
{
    uint32_t u = lpnas_f32_bits(x);
    bool sign = (u >> 31) != 0;
    uint32_t E = (u >> 23) & 0xFF;
    uint32_t m = u & 0x7FFFFF;
    uint16_t sbit = sign ? LPNAS_F16_SIGN : 0;
    if (E == 0xFF) {
        if (!m)
            return lpnas_f16_make(sbit | LPNAS_F16_INF);
        if (!(m & 0x400000) && flags)
            *flags |= LPNAS_FLAG_INVALID; /* signaling NaN */
        return lpnas_f16_make((uint16_t)(sbit | 0x7E00u | (m >> 13)));
    }
    if (E == 0 && m == 0)
        return lpnas_f16_make(sbit);
    if (E == 0)
        return lpnas_f16_round_pack(sign, -149, m, rm, flags);
    return lpnas_f16_round_pack(sign, (int)E - 150, m | 0x800000u, rm, flags);
}

lpnas_f16 lpnas_f16_from_f64(double x, lpnas_round rm, unsigned *flags)
{
    uint64_t u = lpnas_f64_bits(x);
    if (((u >> 52) & 0x7FF) == 0x7FF && (u & 0xFFFFFFFFFFFFFull)) {
        uint16_t sbit = (u >> 63) ? LPNAS_F16_SIGN : 0;
        if (!(u & 0x8000000000000ull) && flags)
            *flags |= LPNAS_FLAG_INVALID;
        return lpnas_f16_make((uint16_t)(sbit | 0x7E00u | ((u >> 42) & 0x3FFu)));
    }
    return lpnas_f16_round_f64(x, rm, flags);
}

/* Exact: every binary16 value is a binary32 value. Subnormals are
 * normalized; a signaling NaN is quieted (as F16C's VCVTPH2PS does). */
float lpnas_f16_to_f32(lpnas_f16 h)
{
    uint32_t sign = (uint32_t)(h.bits & LPNAS_F16_SIGN) << 16;
    uint32_t e = (h.bits >> 10) & 0x1F;
    uint32_t m = h.bits & LPNAS_F16_MANT;
    uint32_t u;
    if (e == 0x1F) {
        u = sign | 0x7F800000u | (m << 13) | (m ? 0x400000u : 0);
    } else if (e != 0) {
        u = sign | ((e + 112) << 23) | (m << 13);
    } else if (m == 0) {
        u = sign;
    } else {
        /* m * 2^-24 with the leading one of m at bit p: 2^(p-24) * 1.xxx */
        unsigned p = 31 - (unsigned)__builtin_clz(m);
        u = sign | ((p + 103) << 23) | ((m << (23 - p)) & 0x7FFFFF);
    }
    return lpnas_f32_from_bits(u);
}
