/* Rounding and packing of binary16 results, and the scalar conversions.
 *
 * Every correctly rounded result goes through lpnas_f16_round_pack(): the
 * value arrives as an integer significand and a power of two, exact (or with
 * a sticky bit that no rounding boundary can separate from the exact value),
 * and leaves as binary16 bits with SoftFloat's flags. */
#include "fp16/f16_internal.h"

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
    return lpnas_f16_round_f64_inline(x, rm, flags);
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
    if (E >= 113 && E <= 142) {
        /* Fast path, result normal or overflowing by carry: keep 11 of the
         * 24 bits (shift 13); bits = ((E - 113) << 10) + q as in round_core. */
        uint32_t sig = m | 0x800000u;
        uint32_t q = (uint32_t)((sig + lpnas_round_addend(rm, sign, 13, (sig >> 13) & 1)) >> 13);
        uint32_t bits = ((E - 113) << 10) + q;
        if (bits >= LPNAS_F16_INF) {
            if (flags)
                *flags |= LPNAS_FLAG_OVERFLOW | LPNAS_FLAG_INEXACT;
            return lpnas_f16_make(lpnas_f16_overflow_bits(sign, rm));
        }
        if ((m & 0x1FFF) && flags)
            *flags |= LPNAS_FLAG_INEXACT;
        return lpnas_f16_make((uint16_t)(sbit | bits));
    }
    if (E == 0 && m == 0)
        return lpnas_f16_make(sbit);
    if (E == 0)
        return lpnas_f16_round_pack(sign, -149, m, rm, flags);
    return lpnas_f16_round_core(sign, (int)E - 127, (uint64_t)(m | 0x800000u) << 39, rm, flags);
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
