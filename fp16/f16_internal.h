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

/* A finite binary16 as sig * 2^exp with sig < 2^11 (0 for zeros). */
static inline void lpnas_f16_unpack(uint16_t b, uint32_t *sig, int *exp)
{
    uint32_t e = (b >> 10) & 0x1Fu;
    uint32_t m = b & LPNAS_F16_MANT;
    if (e == 0) {
        *sig = m;
        *exp = -24;
    } else {
        *sig = m | 0x400u;
        *exp = (int)e - 25;
    }
}

/* Rounds the nonzero value (-1)^sign * sig * 2^exp to binary16 in mode rm,
 * raising INEXACT, OVERFLOW and UNDERFLOW (tininess after rounding) as
 * SoftFloat does. This is the single place where arithmetic results get
 * rounded. */
lpnas_f16 lpnas_f16_round_pack(bool sign, int exp, uint64_t sig, lpnas_round rm, unsigned *flags);

/* Rounds a double whose rounding to binary16 equals that of the exact
 * result (exact values, or faithful ones that no binary16 rounding boundary
 * separates from the exact result). Zeros keep their sign; inf stays inf;
 * NaN gives the default NaN (callers handle NaN operands first). */
lpnas_f16 lpnas_f16_round_f64(double x, lpnas_round rm, unsigned *flags);

/* What the addend must be so that (sig + addend) >> shift is sig rounded in
 * mode rm at bit `shift` (1..63). lsb is bit `shift` of sig (for ties to even). */
static inline uint64_t lpnas_round_addend(lpnas_round rm, bool sign, unsigned shift, uint64_t lsb)
{
    uint64_t half = (uint64_t)1 << (shift - 1);
    switch (rm) {
    case LPNAS_RNE: return half - 1 + lsb;
    case LPNAS_RNA: return half;
    case LPNAS_RTZ: return 0;
    case LPNAS_RUP: return sign ? 0 : half + (half - 1);
    case LPNAS_RDN: return sign ? half + (half - 1) : 0;
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

#endif
