/* SIMD array conversions with F16C (8 lanes, ymm) and AVX-512F (16 lanes),
 * compiled with per-function target attributes and chosen at run time, so
 * the library still runs on CPUs without them.
 *
 * VCVTPS2PH rounds in the mode given by its immediate (0 nearest-even,
 * 1 down, 2 up, 3 toward zero), independent of MXCSR. It has no
 * ties-away mode: for LPNAS_RNA we convert toward zero (t), form the
 * next value away from zero (t + 1 in the bits, exact up to +inf), and
 * take it where x lies exactly on the midpoint of t and t+1 (computed
 * exactly in binary32: two adjacent binary16 values sum without rounding);
 * elsewhere ties-away equals nearest-even. NaNs: like the scalar path
 * (sign and top payload kept, quiet bit set). Tails use the portable path. */
#include "fp16/f16_array.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define LPNAS_HAVE_X86 1

/* CPUID and XGETBV by hand: __builtin_cpu_supports lacks "f16c" on some
 * compilers. The OS must save the wider registers (XCR0) for the
 * instructions to be usable. Read once per call site; cheap. */
static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned cpu_features(void)
{
    static volatile int cached = -1; /* benign race: every thread computes the same */
    if (cached >= 0)
        return (unsigned)cached;
    unsigned a, b, c, d, feat = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE) && (c & bit_AVX) && (c & bit_F16C)) {
        uint64_t x = xcr0();
        bool ymm = (x & 0x6) == 0x6, zmm = (x & 0xE6) == 0xE6;
        if (ymm && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
            if (b & bit_AVX2)
                feat |= 1;
            if ((b & bit_AVX2) && (b & bit_AVX512F) && zmm)
                feat |= 2;
        }
    }
    cached = (int)feat;
    return feat;
}

bool lpnas_f16_cpu_has_f16c(void)
{
    return (cpu_features() & 1) != 0;
}

bool lpnas_f16_cpu_has_avx512(void)
{
    return (cpu_features() & 2) != 0;
}

#define F16C_TARGET __attribute__((target("avx2,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx2,f16c")))

F16C_TARGET static __m128i rna8(__m256 x)
{
    __m128i rne = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i tz = _mm256_cvtps_ph(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m128i away = _mm_add_epi16(tz, _mm_set1_epi16(1));
    __m256 mid = _mm256_mul_ps(_mm256_add_ps(_mm256_cvtph_ps(tz), _mm256_cvtph_ps(away)),
                               _mm256_set1_ps(0.5f));
    __m256 tie = _mm256_cmp_ps(x, mid, _CMP_EQ_OQ);
    __m256i tie32 = _mm256_castps_si256(tie);
    __m128i tie16 = _mm_packs_epi32(_mm256_castsi256_si128(tie32), _mm256_extracti128_si256(tie32, 1));
    return _mm_blendv_epi8(rne, away, tie16);
}

#define F16C_LOOP(IMM)                                                                   \
    for (; i + 8 <= n; i += 8) {                                                         \
        __m256 x = _mm256_loadu_ps(src + i);                                             \
        _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm256_cvtps_ph(x, (IMM)));       \
    }

F16C_TARGET static size_t from_f32_f16c_body(lpnas_f16 *dst, const float *src, size_t n,
                                             lpnas_round rm)
{
    size_t i = 0;
    switch (rm) {
    case LPNAS_RNE: F16C_LOOP(_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) break;
    case LPNAS_RDN: F16C_LOOP(_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC) break;
    case LPNAS_RUP: F16C_LOOP(_MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC) break;
    case LPNAS_RTZ: F16C_LOOP(_MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC) break;
    case LPNAS_RNA:
        for (; i + 8 <= n; i += 8)
            _mm_storeu_si128((__m128i *)(void *)(dst + i), rna8(_mm256_loadu_ps(src + i)));
        break;
    }
    return i;
}

void lpnas_f16_from_f32_f16c(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm)
{
    size_t i = lpnas_f16_cpu_has_f16c() ? from_f32_f16c_body(dst, src, n, rm) : 0;
    lpnas_f16_from_f32_portable(dst + i, src + i, n - i, rm);
}

F16C_TARGET static size_t to_f32_f16c_body(float *dst, const lpnas_f16 *src, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    return i;
}

void lpnas_f16_to_f32_f16c(float *dst, const lpnas_f16 *src, size_t n)
{
    size_t i = lpnas_f16_cpu_has_f16c() ? to_f32_f16c_body(dst, src, n) : 0;
    lpnas_f16_to_f32_portable(dst + i, src + i, n - i);
}

#define AVX512_LOOP(IMM)                                                                 \
    for (; i + 16 <= n; i += 16) {                                                       \
        __m512 x = _mm512_loadu_ps(src + i);                                             \
        _mm256_storeu_si256((__m256i *)(void *)(dst + i), _mm512_cvtps_ph(x, (IMM)));    \
    }

AVX512_TARGET static size_t from_f32_avx512_body(lpnas_f16 *dst, const float *src, size_t n,
                                                 lpnas_round rm)
{
    size_t i = 0;
    switch (rm) {
    case LPNAS_RNE: AVX512_LOOP(_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) break;
    case LPNAS_RDN: AVX512_LOOP(_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC) break;
    case LPNAS_RUP: AVX512_LOOP(_MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC) break;
    case LPNAS_RTZ: AVX512_LOOP(_MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC) break;
    case LPNAS_RNA: /* the 8-lane fix-up: ties-away is rare enough */
        return from_f32_f16c_body(dst, src, n, rm);
    }
    return i;
}

void lpnas_f16_from_f32_avx512(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm)
{
    size_t i = lpnas_f16_cpu_has_avx512() ? from_f32_avx512_body(dst, src, n, rm) : 0;
    lpnas_f16_from_f32_portable(dst + i, src + i, n - i, rm);
}

AVX512_TARGET static size_t to_f32_avx512_body(float *dst, const lpnas_f16 *src, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)(src + i));
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(h));
    }
    return i;
}

void lpnas_f16_to_f32_avx512(float *dst, const lpnas_f16 *src, size_t n)
{
    size_t i = lpnas_f16_cpu_has_avx512() ? to_f32_avx512_body(dst, src, n) : 0;
    lpnas_f16_to_f32_portable(dst + i, src + i, n - i);
}

#else /* not x86 with GNU C: the SIMD paths are the portable one */

bool lpnas_f16_cpu_has_f16c(void) { return false; }
bool lpnas_f16_cpu_has_avx512(void) { return false; }
void lpnas_f16_from_f32_f16c(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm)
{
    lpnas_f16_from_f32_portable(dst, src, n, rm);
}
void lpnas_f16_to_f32_f16c(float *dst, const lpnas_f16 *src, size_t n)
{
    lpnas_f16_to_f32_portable(dst, src, n);
}
void lpnas_f16_from_f32_avx512(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm)
{
    lpnas_f16_from_f32_portable(dst, src, n, rm);
}
void lpnas_f16_to_f32_avx512(float *dst, const lpnas_f16 *src, size_t n)
{
    lpnas_f16_to_f32_portable(dst, src, n);
}
#endif
