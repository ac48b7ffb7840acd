/* Array conversions f32 <-> binary16: a portable C path and run-time
 * dispatch to the SIMD paths in f16_array_x86.c. Every path gives the bits
 * of the scalar lpnas_f16_from_f32 / lpnas_f16_to_f32 for every input
 * (tests check all 2^16 halves, and all 2^32 floats in `make test-long`). */
#include "fp16/f16_array.h"

#include "base/error.h"

/* The portable loops are written to be vectorized (selects, no branches);
 * GCC's -O2 cost model ("very cheap") leaves them scalar, so ask for its
 * -O3 vectorizer here. Clang vectorizes them at -O2. No fast-math flags
 * are involved: IEEE semantics are unchanged. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

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
static LPNAS_ALWAYS_INLINE uint16_t from_f32_portable1(uint32_t u, lpnas_round rm)
{
    uint32_t sbit = (u >> 16) & 0x8000u;
    bool sign = sbit != 0;
    uint32_t a = u & 0x7FFFFFFFu;
    uint32_t E = a >> 23;
    uint32_t sig = (a & 0x7FFFFFu) | (E ? 0x800000u : 0);
    int sh = 126 - (int)E;
    uint32_t shift = (uint32_t)(sh < 13 ? 13 : sh > 31 ? 31 : sh);
    /* sig < 2^24 and the addend < 2^31: 32 bits suffice (keeps SIMD lanes narrow) */
    uint32_t half = 1u << (shift - 1), lsb = (sig >> shift) & 1, all = half + (half - 1);
    uint32_t neg = 0u - (uint32_t)sign;
    uint32_t add = rm == LPNAS_RNE ? half - 1 + lsb
                 : rm == LPNAS_RNA ? half
                 : rm == LPNAS_RUP ? all & ~neg
                 : rm == LPNAS_RDN ? all & neg : 0;
    uint32_t q = (sig + add) >> shift;
    uint32_t bits = ((E > 113 ? E - 113 : 0) << 10) + q;
    /* E == 255 lands here too and is sorted out after: selects, no branches */
    uint32_t ovf = lpnas_f16_overflow_bits(sign, rm);
    uint32_t special = sbit | 0x7C00u | (a > 0x7F800000u ? 0x200u | ((a & 0x7FFFFFu) >> 13) : 0);
    uint32_t r = bits >= 0x7C00u ? ovf : (sbit | bits);
    return (uint16_t)(E == 0xFF ? special : r);
}

/* The normal-range form of from_f32_portable1, with only constant shifts
 * (SSE2 has no per-lane variable shift): exact for 113 <= E <= 254, where
 * shift is 13; anything else (subnormal or zero results, inf, NaN) is
 * reported through the return of the block loop and redone by the full
 * function. Overflow (E >= 143, or a carry past 65504) is handled here. */
static LPNAS_ALWAYS_INLINE uint16_t from_f32_normal1(uint32_t u, lpnas_round rm)
{
    uint32_t sbit = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7FFFFFFFu;
    uint32_t E = a >> 23;
    uint32_t sig = (a & 0x7FFFFFu) | 0x800000u;
    uint32_t neg = 0u - (sbit >> 15);
    uint32_t add = rm == LPNAS_RNE ? 0xFFFu + ((sig >> 13) & 1)
                 : rm == LPNAS_RNA ? 0x1000u
                 : rm == LPNAS_RUP ? 0x1FFFu & ~neg
                 : rm == LPNAS_RDN ? 0x1FFFu & neg : 0;
    uint32_t q = (sig + add) >> 13;
    uint32_t Ec = E > 143 ? 143 : E; /* keeps bits small; 143 always overflows */
    uint32_t bits = ((Ec - 113) << 10) + q;
    uint32_t ovf_max = rm == LPNAS_RTZ ? 0xFFFFFFFFu : rm == LPNAS_RUP ? neg : rm == LPNAS_RDN ? ~neg : 0;
    uint32_t ovf = 0x7C00u - (ovf_max & 1u); /* 0x7BFF toward zero, else inf */
    return (uint16_t)(sbit | (bits >= 0x7C00u ? ovf : bits));
}

/* One block loop per mode, so the mode is a constant inside and the loop
 * vectorizes. The floats' bits are copied into a uint32_t block first
 * (memcpy: no aliasing questions). */
#define BLOCK 256
#define PORTABLE_LOOP(RM)                                                  \
    {                                                                      \
        uint32_t odd = 0;                                                  \
        for (size_t j = 0; j < m; j++) {                                   \
            out[j] = from_f32_normal1(in[j], RM);                          \
            uint32_t E = (in[j] >> 23) & 0xFF;                             \
            odd |= (uint32_t)(E < 113) | (uint32_t)(E == 255);             \
        }                                                                  \
        if (odd)                                                           \
            for (size_t j = 0; j < m; j++) {                               \
                uint32_t E = (in[j] >> 23) & 0xFF;                         \
                if (E < 113 || E == 255)                                   \
                    out[j] = from_f32_portable1(in[j], RM);                \
            }                                                              \
    }

void lpnas_f16_from_f32_portable(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm)
{
    uint32_t in[BLOCK];
    uint16_t out[BLOCK];
    for (size_t i = 0; i < n; i += BLOCK) {
        size_t m = n - i < BLOCK ? n - i : BLOCK;
        memcpy(in, src + i, m * sizeof *in);
        switch (rm) {
        case LPNAS_RNE: PORTABLE_LOOP(LPNAS_RNE) break;
        case LPNAS_RTZ: PORTABLE_LOOP(LPNAS_RTZ) break;
        case LPNAS_RDN: PORTABLE_LOOP(LPNAS_RDN) break;
        case LPNAS_RUP: PORTABLE_LOOP(LPNAS_RUP) break;
        case LPNAS_RNA: PORTABLE_LOOP(LPNAS_RNA) break;
        }
        memcpy(dst + i, out, m * sizeof *out);
    }
}

/* binary16 -> binary32 without branches: the magnitude is sig * 2^(e-25)
 * with sig = 1.m or 0.m (e = 0 scales like e = 1). (float)sig is exact
 * (11 bits) and the power of two 2^(max(e,1)-25) is built from its bits, so
 * the product is exact in any rounding mode and never subnormal (>= 2^-24),
 * so FTZ/DAZ cannot touch it. Exponent 31 (inf/NaN) is selected after. */
static LPNAS_ALWAYS_INLINE uint32_t to_f32_portable1(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    uint32_t nz = (uint32_t)(e != 0);
    uint32_t sig = m | (nz << 10);
    float scale = lpnas_f32_from_bits((e + (nz ^ 1u) + 102) << 23);
    uint32_t finite = lpnas_f32_bits((float)(int32_t)sig * scale);
    uint32_t special = 0x7F800000u | (m << 13) | ((uint32_t)(m != 0) << 22);
    uint32_t is_special = 0u - (uint32_t)(e == 31);
    return sign | (special & is_special) | (finite & ~is_special);
}

void lpnas_f16_to_f32_portable(float *dst, const lpnas_f16 *src, size_t n)
{
    uint16_t in[BLOCK];
    uint32_t out[BLOCK];
    for (size_t i = 0; i < n; i += BLOCK) {
        size_t m = n - i < BLOCK ? n - i : BLOCK;
        memcpy(in, src + i, m * sizeof *in);
        for (size_t j = 0; j < m; j++)
            out[j] = to_f32_portable1(in[j]);
        memcpy(dst + i, out, m * sizeof *out);
    }
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
