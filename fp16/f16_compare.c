/* binary16 comparisons and classification (SoftFloat semantics: eq and the
 * _quiet forms raise INVALID only for signaling NaNs; lt, le and
 * eq_signaling for any NaN). */
#include "fp16/f16_internal.h"

static bool any_nan(uint16_t a, uint16_t b)
{
    return lpnas_f16_bits_nan(a) || lpnas_f16_bits_nan(b);
}

static void raise_if(bool cond, unsigned *flags)
{
    if (cond && flags)
        *flags |= LPNAS_FLAG_INVALID;
}

/* Sign-magnitude bits to a key that orders like the values (with -0 == +0). */
static inline int32_t order_key(uint16_t b)
{
    int32_t mag = b & 0x7FFF;
    return (b & LPNAS_F16_SIGN) ? -mag : mag;
}

static bool eq_bits(uint16_t a, uint16_t b)
{
    return order_key(a) == order_key(b);
}

lpnas_f16_class lpnas_f16_classify(lpnas_f16 a)
{
    bool neg = (a.bits & LPNAS_F16_SIGN) != 0;
    uint16_t e = a.bits & LPNAS_F16_EXP, m = a.bits & LPNAS_F16_MANT;
    if (e == LPNAS_F16_EXP) {
        if (m == 0)
            return neg ? LPNAS_F16_NEG_INF : LPNAS_F16_POS_INF;
        return (m & 0x200) ? LPNAS_F16_QUIET_NAN : LPNAS_F16_SIGNALING_NAN;
    }
    if (e == 0)
        return m == 0 ? (neg ? LPNAS_F16_NEG_ZERO : LPNAS_F16_POS_ZERO)
                      : (neg ? LPNAS_F16_NEG_SUBNORMAL : LPNAS_F16_POS_SUBNORMAL);
    return neg ? LPNAS_F16_NEG_NORMAL : LPNAS_F16_POS_NORMAL;
}

bool lpnas_f16_is_nan(lpnas_f16 a) { return lpnas_f16_bits_nan(a.bits); }
bool lpnas_f16_is_inf(lpnas_f16 a) { return (a.bits & 0x7FFF) == LPNAS_F16_INF; }
bool lpnas_f16_is_finite(lpnas_f16 a) { return (a.bits & LPNAS_F16_EXP) != LPNAS_F16_EXP; }

bool lpnas_f16_eq(lpnas_f16 a, lpnas_f16 b, unsigned *flags)
{
    if (any_nan(a.bits, b.bits)) {
        raise_if(lpnas_f16_bits_snan(a.bits) || lpnas_f16_bits_snan(b.bits), flags);
        return false;
    }
    return eq_bits(a.bits, b.bits);
}

bool lpnas_f16_eq_signaling(lpnas_f16 a, lpnas_f16 b, unsigned *flags)
{
    if (any_nan(a.bits, b.bits)) {
        raise_if(true, flags);
        return false;
    }
    return eq_bits(a.bits, b.bits);
}

static bool lt_core(uint16_t a, uint16_t b) { return order_key(a) < order_key(b); }
static bool le_core(uint16_t a, uint16_t b) { return order_key(a) <= order_key(b); }

bool lpnas_f16_lt(lpnas_f16 a, lpnas_f16 b, unsigned *flags)
{
    if (any_nan(a.bits, b.bits)) {
        raise_if(true, flags);
        return false;
    }
    return lt_core(a.bits, b.bits);
}

bool lpnas_f16_le(lpnas_f16 a, lpnas_f16 b, unsigned *flags)
{
    if (any_nan(a.bits, b.bits)) {
        raise_if(true, flags);
        return false;
    }
    return le_core(a.bits, b.bits);
}

bool lpnas_f16_lt_quiet(lpnas_f16 a, lpnas_f16 b, unsigned *flags)
{
    if (any_nan(a.bits, b.bits)) {
        raise_if(lpnas_f16_bits_snan(a.bits) || lpnas_f16_bits_snan(b.bits), flags);
        return false;
    }
    return lt_core(a.bits, b.bits);
}

bool lpnas_f16_le_quiet(lpnas_f16 a, lpnas_f16 b, unsigned *flags)
{
    if (any_nan(a.bits, b.bits)) {
        raise_if(lpnas_f16_bits_snan(a.bits) || lpnas_f16_bits_snan(b.bits), flags);
        return false;
    }
    return le_core(a.bits, b.bits);
}
