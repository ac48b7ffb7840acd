/* Array conversions f32 <-> binary16: a portable C path and run-time
 * dispatch to the SIMD paths in f16_array_x86.c. Every path gives the bits
 * of the scalar lpnas_f16_from_f32 / lpnas_f16_to_f32 for every input
 * (tests check all 2^16 halves, and all 2^32 floats in `make test-long`). */
#include "fp16/f16_array.h"

#include "base/error.h"

/* One float to binary16 without flags, written for throughput: integer
 * only, one rounding formula for normal and subnormal results.
 *
 *   f32 |S|EEEEEEEE|MMMMMMMMMMMMMMMMMMMMMMM|   value = sig * 2^(E-150),
 *                                               sig = 1.M (E>0) or 0.M
 * The result's last bit weighs 2^(E-137) when normal (shift 13) and 2^-24
 * when subnormal (shift 126-E), so shift = max(13, 126-E), capped at 31
 * where everything left is sticky (sig < 2^24 < half = 2^30).
 * Packing: bits = max(E-113, 0) << 10 + q; for E >= 113 this is the
 * exponent (E-112) with the implicit bit of q absorbed by the "-1" in
 * E-113, and a carry of q to 2^11 bumps the exponent on its own; for
 * E < 113, q is the subnormal significand and q == 2^10 is 2^-14 exactly. */
static inline uint16_t from_f32_portable1(uint32_t u, lpnas_round rm)
{
    uint32_t sbit = (u >> 16) & 0x8000u;
    bool sign = sbit != 0;
    uint32_t E = (u >> 23) & 0xFF;
    uint32_t m = u & 0x7FFFFF;
    if (E == 0xFF)
        return (uint16_t)(sbit | 0x7C00u | (m ? 0x200u | (m >> 13) : 0));
    if (E >= 143) /* |x| >= 2^16: overflow in every mode */
        return lpnas_f16_overflow_bits(sign, rm);
    uint64_t sig = m | (E ? 0x800000u : 0);
    unsigned shift = E >= 113 ? 13 : (126 - E > 31 ? 31 : 126 - E);
    uint64_t q = (sig + lpnas_round_addend(rm, sign, shift, (sig >> shift) & 1)) >> shift;
    uint32_t bits = ((E >= 113 ? E - 113 : 0) << 10) + (uint32_t)q;
    if (bits >= 0x7C00u)
        return lpnas_f16_overflow_bits(sign, rm);
    return (uint16_t)(sbit | bits);
}

void lpnas_f16_from_f32_portable(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm)
{
    for (size_t i = 0; i < n; i++)
        dst[i].bits = from_f32_portable1(lpnas_f32_bits(src[i]), rm);
}

void lpnas_f16_to_f32_portable(float *dst, const lpnas_f16 *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = lpnas_f16_to_f32(src[i]);
}

/* ---- dispatch ------------------------------------------------------ */

bool lpnas_f16_path_available(lpnas_f16_path path)
{
    switch (path) {
    case LPNAS_F16_PATH_AUTO:
    case LPNAS_F16_PATH_PORTABLE:
        return true;
    case LPNAS_F16_PATH_F16C:
        return lpnas_f16_cpu_has_f16c();
    case LPNAS_F16_PATH_AVX512:
        return lpnas_f16_cpu_has_avx512();
    }
    return false;
}

lpnas_f16_path lpnas_f16_best_path(void)
{
    /* Detected once; the answer never changes, so a benign race on first
     * use writes the same value twice. */
    static volatile int best = -1;
    if (best < 0) {
        lpnas_f16_path p = LPNAS_F16_PATH_PORTABLE;
        if (lpnas_f16_cpu_has_avx512())
            p = LPNAS_F16_PATH_AVX512;
        else if (lpnas_f16_cpu_has_f16c())
            p = LPNAS_F16_PATH_F16C;
        best = (int)p;
    }
    return (lpnas_f16_path)best;
}

const char *lpnas_f16_path_name(lpnas_f16_path path)
{
    switch (path) {
    case LPNAS_F16_PATH_AUTO: return "auto";
    case LPNAS_F16_PATH_PORTABLE: return "portable";
    case LPNAS_F16_PATH_F16C: return "f16c";
    case LPNAS_F16_PATH_AVX512: return "avx512";
    }
    return "unknown";
}

static lpnas_status check_path(lpnas_f16_path *path)
{
    if ((unsigned)*path > LPNAS_F16_PATH_AVX512)
        return lpnas_fail(LPNAS_ERR_ARG, "fp16 array path %d: not a path (0..3)", (int)*path);
    if (*path == LPNAS_F16_PATH_AUTO)
        *path = lpnas_f16_best_path();
    if (!lpnas_f16_path_available(*path))
        return lpnas_fail(LPNAS_ERR_UNSUPPORTED, "fp16 array path '%s': this CPU lacks its instructions",
                          lpnas_f16_path_name(*path));
    return LPNAS_OK;
}

lpnas_status lpnas_f16_from_f32_array_path(lpnas_f16_path path, lpnas_f16 *dst, const float *src,
                                           size_t n, lpnas_round rm)
{
    lpnas_status st = check_path(&path);
    if (st)
        return st;
    if ((unsigned)rm > LPNAS_RNA)
        return lpnas_fail(LPNAS_ERR_ARG, "rounding mode %d: not a mode (0..4)", (int)rm);
    switch (path) {
    case LPNAS_F16_PATH_AVX512: lpnas_f16_from_f32_avx512(dst, src, n, rm); break;
    case LPNAS_F16_PATH_F16C: lpnas_f16_from_f32_f16c(dst, src, n, rm); break;
    default: lpnas_f16_from_f32_portable(dst, src, n, rm); break;
    }
    return LPNAS_OK;
}

lpnas_status lpnas_f16_to_f32_array_path(lpnas_f16_path path, float *dst, const lpnas_f16 *src,
                                         size_t n)
{
    lpnas_status st = check_path(&path);
    if (st)
        return st;
    switch (path) {
    case LPNAS_F16_PATH_AVX512: lpnas_f16_to_f32_avx512(dst, src, n); break;
    case LPNAS_F16_PATH_F16C: lpnas_f16_to_f32_f16c(dst, src, n); break;
    default: lpnas_f16_to_f32_portable(dst, src, n); break;
    }
    return LPNAS_OK;
}

void lpnas_f16_from_f32_array(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm)
{
    if ((unsigned)rm > LPNAS_RNA)
        rm = LPNAS_RNE;
    (void)lpnas_f16_from_f32_array_path(lpnas_f16_best_path(), dst, src, n, rm);
}

void lpnas_f16_to_f32_array(float *dst, const lpnas_f16 *src, size_t n)
{
    (void)lpnas_f16_to_f32_array_path(lpnas_f16_best_path(), dst, src, n);
}
