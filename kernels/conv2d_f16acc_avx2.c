/* fp16-accumulate conv forward on AVX2 + FMA + F16C (no AVX-512 needed),
 * bit-exact with the sequential lpnas_f16_fma chain of conv2d.h. (Where
 * the CPU has AVX512-FP16, the chain runs in binary16 arithmetic instead,
 * one instruction per step: the section "the same chain in binary16"
 * below; the input layout and padding are shared.)
 *
 * Each chain step is acc' = RN16(v), v = w*x + acc exactly, with w, x, acc
 * binary16 values, in binary32 lanes, 8 per __m256 (16 per __m512 in the
 * AVX-512F variant). w*x has at most 11 + 11 = 22 significant bits, so one
 * fma holds v exactly before its single rounding; v is 0 or a nonzero
 * multiple of 2^-48 below 65504 (the bound below). Rounding that binary32
 * result to binary16 again is wrong when it lands on a binary16 midpoint
 * that v is not (1025 + (0.5+2^-11)(1-2^-10) = 1025.5 - 2^-21 rounds to
 * 1025, but RN32 gives 1025.5, whose tie goes to 1026; test_conv2d_f16acc
 * has such traps). Two ways avoid that, with the same bits.
 *
 * Rounding to odd (AVX-512F; AVX2's second way). Each step computes both
 * directed roundings, lo = RD32(v), hi = RU32(v): equal to v if v is
 * exact, else adjacent binary32 values, lo < v < hi, with consecutive bit
 * patterns (also across a binade: v != 0 when inexact, so both share its
 * sign). The odd one is RO32(v), v rounded to odd, and RN16(RO32(v)) =
 * RN16(v): every binary16 midpoint is even in binary32 (12 significant
 * bits, or an odd multiple of 2^-25 where the binary32 ulp is <= 2^-38),
 * so the odd one of lo, hi is no midpoint, and it lies between the same
 * two midpoints as v; an exact v is kept, ties included (the classical
 * result: to odd with p + 2 bits, then to nearest with p, is one correct
 * rounding). The conversion pair cvtps_ph(RNE) / cvtph_ps does the RN16.
 * Zeros: an exact zero sum of opposite signs is -0 under RD and +0 under
 * RU, both even, so hi = +0 is kept, RN's +0. These values are binary16
 * values held as they are, so no operand or result is ever a binary32
 * subnormal (a binary16 subnormal is a binary32 normal).
 * AVX-512F has the directed roundings per instruction (embedded rounding).
 * AVX2 has only MXCSR.RC: it runs with RC = down, lo = fma(w, x, acc), hi
 * = -fma(-w, x, -acc) = -RD(-v); that fnmsub is in asm, since a compiler
 * that assumes round-to-nearest may rewrite it as -fma(w, x, acc).
 *
 * Scaled binary16 (AVX2's first way, ~1.35x faster: no conversions, a
 * shorter chain). Every binary16 value h is held as the binary32 number
 * h * 2^-112, whose pattern is sign << 31 | (h & 0x7fff) << 13 (built from
 * bits by scaled16): binary16 subnormals land on binary32 subnormals, so
 * in every binade, subnormals included, the binary16 values are exactly
 * the binary32 patterns with the low 13 bits clear, and RN16 on a pattern
 * is linear. The inputs x stay as they are (the product w' * x carries
 * the scale). With RC = toward zero the fma gives z = RZ32(v'), v's
 * pattern truncated: the low 13 bits L of z and whether v' > z give RN16.
 * It rounds up iff L > 0x1000, or L == 0x1000 and (v' > z or bit 13 odd):
 * r = (z + 0x1000) & ~0x1fff, a carry into the exponent being the next
 * binade, right except where L == 0x1000 with bit 13 even and v' == z (an
 * exact tie, to even: down). Those lanes ((z & 0x3fff) == 0x1000, about 1
 * vector step in 200 on random data) take a branch that asks binary64:
 * v is a binary64 number there, so w'*x + acc' in doubles is v' itself in
 * any rounding mode. (Why v fits 53 bits: z on a midpoint means |w*x| >=
 * 2^-13 |z| if acc is the larger term, else acc's last bit is >= 2^-24
 * with |z| < 2^16; either way v's bits span at most 41 places.) RZ keeps
 * the zero signs of RN: an exact opposite-sign cancellation is +0, -0 + -0
 * is -0. The result is scaled back by 2^112 at the store (exact).
 *
 * Two ways (AVX2). Scaled binary16 runs binary32 subnormal arithmetic
 * wherever partial sums are binary16 subnormals (|v| < 2^-14). AMD Zen
 * does that at full speed; Intel cores take a microcode assist per
 * subnormal result (measured on a Xeon with LPNAS_ISA=avx2: 25x slower
 * when every sum is that small). So each call times both ways on its own
 * data at the start (TSC ticks per step, best block of each, after one
 * untimed block) and takes the faster for the rest; the move converts |w|
 * and the biases by bits and switches MXCSR.RC. Only timing chooses: the
 * bits are the same either way (test_conv2d_f16acc compares all three).
 * Both AVX2 ways and AVX-512F run with DAZ and FTZ off (F16C's conversions
 * and the scaled subnormals must not flush), the caller's MXCSR restored.
 *
 * Padding without branches. Taps outside the image are skipped by the
 * chain. Here they read -0 with a weight of sign +: |w| * -0 = -0, and
 * acc + -0 == acc for every acc (also -0: -0 + -0 = -0; +0 + -0 = +0 in
 * every mode but down, and under RD the odd pick keeps hi = +0), so the
 * step changes nothing, bit for bit. For that every weight is applied as
 * |w|, to a copy of the input with the sign of w: each group's input is
 * converted once into two padded copies, x and -x, both padded with -0
 * (|w| * (+-x) == w * x exactly, zero signs included). Strided convs read
 * the copies split by column phase (column j of phase q holds padded input
 * column j * stride + q), so the pixels of a vector always load
 * contiguously; the vectors at a row's end run into the padding and their
 * extra lanes are not stored. One kernel thus serves dense, grouped and
 * depthwise convs, any stride, dilation and border: adjacent output pixels
 * per vector, OCB output channels x PV pixel vectors in flight (12 chains
 * on AVX2 with its 16 registers, 16 on AVX-512F). Every loop over them is
 * unrolled by pragma: left to itself gcc 12 unrolls 8 chains but not 12 or
 * 16, and then keeps the accumulators in memory (a store per step).
 *
 * Overflow is not modelled (RD/RU/RZ would stop at 65504 or go to inf
 * where the chain's RN16 goes to inf only from 65520): before the loop, a
 * bound |bias| + max|x| * sum|w| grown by (1 + 2^-11) per step (the
 * largest relative rounding up) plus 2^-25 per step (subnormal rounding)
 * must stay below 65504 for every output channel, or the call returns
 * false and the caller takes the scalar chain. NaN or inf in the input or
 * weights fail the bound the same way. */
#include "kernels/conv2d.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The layout of the workspace (sizes only; also without AVX2). */
typedef struct {
    int G, cg, og, K, sw;
    int hp, wr;       /* padded rows; columns per (phase) row */
    size_t plane;     /* hp * wr: floats per (sign, channel, phase) plane */
    size_t half;      /* cg * sw * plane: from the x copy to the -x copy */
    size_t nwk;       /* G * og * K weights */
} plan;

/* Rows reach (oh-1)*sh + (kh-1)*dh; columns run to the next multiple of
 * `lanes` output pixels (the widest vector: 16 binary32 lanes, 32 binary16
 * ones) plus the taps' reach in phase columns. */
static plan plan_make(lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p, int lanes)
{
    plan pl;
    pl.G = p->groups, pl.cg = s.c / pl.G, pl.og = o.c / pl.G;
    pl.K = pl.cg * p->kh * p->kw;
    pl.sw = p->stride_w;
    pl.hp = (o.h - 1) * p->stride_h + (p->kh - 1) * p->dil_h + 1;
    pl.wr = ((o.w + lanes - 1) & ~(lanes - 1)) + (p->kw - 1) * p->dil_w / p->stride_w;
    pl.plane = (size_t)pl.hp * pl.wr;
    pl.half = (size_t)pl.cg * pl.sw * pl.plane;
    pl.nwk = (size_t)pl.G * pl.og * pl.K;
    return pl;
}

size_t lpnas_conv2d_f16acc_avx2_workspace(lpnas_shape in, lpnas_shape o, const lpnas_conv_params *p)
{
    /* floats: both input copies (binary32 copies for 16-pixel rows; binary16
     * ones, half the size, for the 32-pixel rows of the AVX512-FP16 path),
     * |w|, bias16; the tap offsets (ptrdiff_t, counted as 2 floats each);
     * 64-byte alignment slack for each part */
    plan p32 = plan_make(in, o, p, 16), p16 = plan_make(in, o, p, 32);
    size_t copies = 2 * p32.half > p16.half ? 2 * p32.half : p16.half;
    return copies + p32.nwk + (size_t)p32.G * p32.og + 2 * p32.nwk + 4 * 16;
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#include <x86intrin.h> /* __rdtsc */
#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx2,fma,f16c")))
#define ALWAYS_INLINE inline __attribute__((always_inline))
/* Unroll a loop over chains completely (its count is a constant at every
 * call), so that the accumulators stay in registers (top comment). */
#if defined(__clang__)
#define UNROLL_ALL _Pragma("clang loop unroll(full)")
#else
#define UNROLL_ALL _Pragma("GCC unroll 16")
#endif
#define RNE16 (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define RD32 (_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define RU32 (_MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)

static inline uint16_t h_of(float v)
{
    return lpnas_f16_from_f32(v, LPNAS_RNE, NULL).bits;
}

static inline float f16v(float v)
{
    return lpnas_f16_to_f32((lpnas_f16){h_of(v)});
}

/* The binary16 value of pattern h times 2^-112 (the AVX2 kernel's scaled
 * binary16; top comment), built from bits so that no FTZ can flush it:
 * the magnitude shifted up 13 bits is that binary32 pattern, subnormal
 * binary16 values landing on subnormal binary32 ones. */
static float scaled16(uint16_t h)
{
    uint32_t b = (uint32_t)(h & 0x8000u) << 16 | (uint32_t)(h & 0x7fffu) << 13;
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* The inverse: the binary16 value a scaled16 result holds, by bits (no
 * rounding, whatever MXCSR says). */
static float unscaled16(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return lpnas_f16_to_f32((lpnas_f16){(uint16_t)((b >> 16 & 0x8000u) | (b >> 13 & 0x7fffu))});
}

/* The partial sums of every chain stay below 65504 (see the top comment). */

static bool chains_bounded(double bias_abs, double xmax, double wsum, int K)
{
    double grow = pow(1.0 + 0x1p-11, (double)K);
    double bound = ((bias_abs + xmax * wsum) * grow + (double)K * 0x1p-24) * 1.001;
    return bound < 65504.0; /* false for NaN too */
}

static void *align64(void *ptr)
{
    uintptr_t u = ((uintptr_t)ptr + 63u) & ~(uintptr_t)63u;
    return (void *)u;
}

/* ---- input conversion -------------------------------------------------- */

/* One padded row of a (channel, phase) plane: columns j hold input column
 * j * sw + q - pad_w (rounded to binary16) where that is in the row, else
 * -0; nx the same with the sign flipped (its padding -0 too). The values
 * are binary32 (half false) or binary16 bit patterns (half true: the rows
 * are uint16_t). Tracks max |x| in *mx and NaNs in *nan. */
AVX2_TARGET static void convert_row(void *xv, void *nxv, const float *src, int w, int wr, int sw, int q, int pw,
                                    bool half, float *mx, bool *nan)
{
    float *x = xv, *nx = nxv;
    uint16_t *xh = xv, *nxh = nxv;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    /* real columns: j * sw + q - pw in [0, w) */
    int j0 = pw - q > 0 ? (pw - q + sw - 1) / sw : 0;
    int num = w - 1 + pw - q, j1 = num < 0 ? -1 : num / sw; /* inclusive */
    if (j1 > wr - 1)
        j1 = wr - 1;
#define PUT(j, hv)                                                                                                    \
    do {                                                                                                              \
        if (half) {                                                                                                   \
            uint16_t bits_ = h_of(hv);                                                                                \
            xh[j] = bits_, nxh[j] = (uint16_t)(bits_ ^ 0x8000u);                                                      \
        } else {                                                                                                      \
            x[j] = (hv), nx[j] = -(hv);                                                                               \
        }                                                                                                             \
    } while (0)
#define PAD(j)                                                                                                        \
    do {                                                                                                              \
        if (half)                                                                                                     \
            xh[j] = nxh[j] = 0x8000u;                                                                                 \
        else                                                                                                          \
            x[j] = nx[j] = -0.0f;                                                                                     \
    } while (0)
    int j = 0;
    for (; j < j0 && j < wr; j++)
        PAD(j);
    __m256 m = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
    if (sw == 1)
        for (; j + 8 <= j1 + 1; j += 8) {
            __m128i h16 = _mm256_cvtps_ph(_mm256_loadu_ps(src + j + q - pw), RNE16);
            __m256 h = _mm256_cvtph_ps(h16);
            __m256 a = _mm256_andnot_ps(sign, h);
            bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
            m = _mm256_max_ps(m, a);
            if (half) {
                _mm_storeu_si128((__m128i_u *)(xh + j), h16);
                _mm_storeu_si128((__m128i_u *)(nxh + j), _mm_xor_si128(h16, _mm_set1_epi16((short)0x8000)));
            } else {
                _mm256_storeu_ps(x + j, h);
                _mm256_storeu_ps(nx + j, _mm256_xor_ps(h, sign));
            }
        }
    float lanes[8];
    _mm256_storeu_ps(lanes, m);
    *nan = *nan || _mm256_movemask_ps(bad) != 0;
    for (int l = 0; l < 8; l++)
        *mx = lanes[l] > *mx ? lanes[l] : *mx;
    for (; j <= j1; j++) {
        float h = f16v(src[j * sw + q - pw]), a = fabsf(h);
        *nan = *nan || a != a;
        *mx = a > *mx ? a : *mx;
        PUT(j, h);
    }
    for (; j < wr; j++)
        PAD(j);
#undef PUT
#undef PAD
}

/* The padded x and -x copies of one group's channels ([2][cg][sw][hp][wr],
 * elements of 4 bytes, or 2 if half); returns max |x|, NaN if any NaN. */
AVX2_TARGET static double convert_group(void *xb, const float *src, lpnas_shape s, const lpnas_conv_params *p,
                                        const plan *pl, bool half)
{
    size_t es = half ? 2 : 4;
    float mx = 0;
    bool nan = false;
    for (int ci = 0; ci < pl->cg; ci++)
        for (int q = 0; q < pl->sw; q++)
            for (int r = 0; r < pl->hp; r++) {
                char *x = (char *)xb + (((size_t)ci * pl->sw + q) * pl->plane + (size_t)r * pl->wr) * es;
                char *nx = x + pl->half * es;
                int iy = r - p->pad_h;
                /* rows outside the image: every column padding (src unused) */
                convert_row(x, nx, src + ((size_t)ci * s.h + (iy < 0 || iy >= s.h ? 0 : iy)) * s.w,
                            iy < 0 || iy >= s.h ? 0 : s.w, pl->wr, pl->sw, q, iy < 0 || iy >= s.h ? 0 : p->pad_w,
                            half, &mx, &nan);
            }
    return nan ? NAN : (double)mx;
}

/* ---- the AVX2 kernel ----------------------------------------------------- */

/* The exact ties of step8 (about 1 vector step in 200 on random data;
 * top comment, "Scaled binary16"): lanes `tie` hold a z = RZ32(v) on a midpoint whose
 * even neighbour is the lower one, which r rounded up, right unless v == z
 * exactly; then the lane takes z with its low 13 bits cleared. Whether
 * v == z, binary64 tells: v is a binary64 number (top comment), so
 * w*x + acc in doubles is v itself, in any rounding mode. */
AVX2_TARGET static ALWAYS_INLINE __m256i exact_ties8(__m256i r, __m256i z, __m256 w, __m256 x, __m256 acc,
                                                     __m256i tie)
{
    __m256d wd = _mm256_cvtps_pd(_mm256_castps256_ps128(w));
    __m256 zf = _mm256_castsi256_ps(z);
    __m256d lo = _mm256_cmp_pd(_mm256_fmadd_pd(wd, _mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                                               _mm256_cvtps_pd(_mm256_castps256_ps128(acc))),
                               _mm256_cvtps_pd(_mm256_castps256_ps128(zf)), _CMP_EQ_OQ);
    __m256d hi = _mm256_cmp_pd(_mm256_fmadd_pd(wd, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
                                               _mm256_cvtps_pd(_mm256_extractf128_ps(acc, 1))),
                               _mm256_cvtps_pd(_mm256_extractf128_ps(zf, 1)), _CMP_EQ_OQ);
    /* the two 4-lane masks of 64 bits packed to 8 of 32 (lane order kept) */
    __m256i eq = _mm256_permute4x64_epi64(_mm256_castps_si256(_mm256_shuffle_ps(_mm256_castpd_ps(lo),
                                                                               _mm256_castpd_ps(hi), 0x88)), 0xd8);
    __m256i fix = _mm256_and_si256(eq, tie);
    return _mm256_blendv_epi8(r, _mm256_andnot_si256(_mm256_set1_epi32(0x1fff), z), fix);
}

/* acc' = RN16(w * x + acc) in 8 lanes of scaled binary16 (the top comment),
 * MXCSR.RC = toward zero: z = RZ32(v); r = (z + 0x1000) with the low 13
 * bits cleared; wrong only for an exact tie with an even lower neighbour,
 * which exact_ties8 mends (a branch taken rarely: its test is a movemask,
 * cheaper in the loop than ptest). */
AVX2_TARGET static ALWAYS_INLINE __m256 step8(__m256 w, const float *xp, __m256 acc)
{
    __m256 x = _mm256_loadu_ps(xp);
    __m256i z = _mm256_castps_si256(_mm256_fmadd_ps(w, x, acc));
    __m256i up = _mm256_add_epi32(z, _mm256_set1_epi32(0x1000));
    __m256i r = _mm256_and_si256(up, _mm256_set1_epi32(~0x1fff));
    __m256i tie = _mm256_cmpeq_epi32(_mm256_and_si256(z, _mm256_set1_epi32(0x3fff)), _mm256_set1_epi32(0x1000));
    if (__builtin_expect(_mm256_movemask_ps(_mm256_castsi256_ps(tie)) != 0, 0))
        r = exact_ties8(r, z, w, x, acc, tie);
    return _mm256_castsi256_ps(r);
}

/* acc' = RN16(w * x + acc) in 8 lanes of binary16 values held as they are,
 * MXCSR.RC = round down: lo = RD(v); t = RD(-(w*x) - acc) = -RU(v), so hi
 * = t with its sign flipped; the odd one of lo and hi is RO32(v) (blendv
 * picks by the sign bit, so lo's last bit is shifted there), and the
 * conversion pair rounds it to nearest (top comment). */
AVX2_TARGET static ALWAYS_INLINE __m256 step8_odd(__m256 w, const float *xp, __m256 acc)
{
    __m256 t = acc;
    __m256 lo = _mm256_fmadd_ps(w, _mm256_loadu_ps(xp), acc);
    __asm__("vfnmsub231ps %2, %1, %0" : "+x"(t) : "x"(w), "m"(*(const __m256_u *)xp));
    __m256 hi = _mm256_xor_ps(t, _mm256_set1_ps(-0.0f));
    __m256 lo_odd = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(lo), 31));
    __m256 ro = _mm256_blendv_ps(hi, lo, lo_odd);
    return _mm256_cvtph_ps(_mm256_cvtps_ph(ro, RNE16));
}

/* ocb output channels x pv vectors of 8 pixels from one output row, the
 * whole chain. xpix: the x copy at this output row and first pixel; wabs,
 * xoff: [ocb][K] |w| and tap offsets (into xpix) of these channels; b16:
 * their biases; out: the first pixel of the first channel, channels ostride
 * apart; nvalid: pixels to store from the first. ocb and pv are constants
 * at each call, the loops over them unrolled, so acc[] stays in registers
 * (12 accumulators + w and the temporaries of one step: gcc 12 keeps some
 * in memory, and 8 chains, all in registers, measured no faster). odd:
 * the way (top comment); scaled results are scaled back at the store. */
AVX2_TARGET static ALWAYS_INLINE void block8(float *out, size_t ostride, int nvalid, const float *xpix,
                                             const float *wabs, const ptrdiff_t *xoff, const float *b16, int K,
                                             const int ocb, const int pv, const bool odd)
{
    __m256 acc[12];
    UNROLL_ALL for (int o = 0; o < ocb; o++)
        UNROLL_ALL for (int v = 0; v < pv; v++)
            acc[o * pv + v] = _mm256_broadcast_ss(b16 + o);
    for (int k = 0; k < K; k++)
        UNROLL_ALL for (int o = 0; o < ocb; o++) {
            __m256 w = _mm256_broadcast_ss(wabs + (size_t)o * K + k);
            const float *xp = xpix + xoff[(size_t)o * K + k];
            UNROLL_ALL for (int v = 0; v < pv; v++)
                acc[o * pv + v] = odd ? step8_odd(w, xp + 8 * v, acc[o * pv + v]) : step8(w, xp + 8 * v, acc[o * pv + v]);
        }
    UNROLL_ALL for (int v = 0; v < pv; v++) {
        int n = nvalid - 8 * v;
        __m256i lm = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        UNROLL_ALL for (int o = 0; o < ocb; o++) {
            float *d = out + (size_t)o * ostride + 8 * v;
            __m256 y = odd ? acc[o * pv + v] : _mm256_mul_ps(acc[o * pv + v], _mm256_set1_ps(0x1p112f)); /* exact */
            if (n >= 8)
                _mm256_storeu_ps(d, y);
            else if (n > 0)
                _mm256_maskstore_ps(d, lm, y);
        }
    }
}

/* block8 for one (ocb, pv) of the traversal below, each a constant there:
 * scaled binary16 (blocks8) or rounding to odd (blocks8_odd). Out of line
 * and the only code that runs while MXCSR.RC is toward zero or down, so no
 * floating-point operation of a caller can be moved into that span. */
#define SWITCH_12_CHAINS(ODD)                                                                                         \
    switch (ocb * 32 + pv) {                                                                                          \
    case 4 * 32 + 3: block8(d, ostride, nv, xp, wa, xo, bb, K, 4, 3, ODD); break;                                     \
    case 4 * 32 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 4, 2, ODD); break;                                     \
    case 4 * 32 + 1: block8(d, ostride, nv, xp, wa, xo, bb, K, 4, 1, ODD); break;                                     \
    case 2 * 32 + 6: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 6, ODD); break;                                     \
    case 2 * 32 + 4: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 4, ODD); break;                                     \
    case 2 * 32 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 2, ODD); break;                                     \
    case 2 * 32 + 1: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 1, ODD); break;                                     \
    case 1 * 32 + 12: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 12, ODD); break;                                   \
    case 1 * 32 + 8: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 8, ODD); break;                                     \
    case 1 * 32 + 4: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 4, ODD); break;                                     \
    case 1 * 32 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 2, ODD); break;                                     \
    default: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 1, ODD); break;                                             \
    }

AVX2_TARGET static __attribute__((noinline)) void blocks8(float *d, size_t ostride, int nv, const void *xv,
                                                          const void *wv, const ptrdiff_t *xo, const void *bv, int K,
                                                          int ocb, int pv)
{
    const float *xp = xv, *wa = wv, *bb = bv;
    SWITCH_12_CHAINS(false)
}

AVX2_TARGET static __attribute__((noinline)) void blocks8_odd(float *d, size_t ostride, int nv, const void *xv,
                                                              const void *wv, const ptrdiff_t *xo, const void *bv,
                                                              int K, int ocb, int pv)
{
    const float *xp = xv, *wa = wv, *bb = bv;
    SWITCH_12_CHAINS(true)
}

/* ---- the same kernel in 16 AVX-512F lanes --------------------------------- */

/* step8 on 16 lanes, the directed roundings embedded in the fmas (no MXCSR);
 * lo's last bit tested into a mask. */
AVX512_TARGET static ALWAYS_INLINE __m512 step16(__m512 w, const float *xp, __m512 acc)
{
    __m512 x = _mm512_loadu_ps(xp);
    __m512 lo = _mm512_fmadd_round_ps(w, x, acc, RD32), hi = _mm512_fmadd_round_ps(w, x, acc, RU32);
    __mmask16 lo_odd = _mm512_test_epi32_mask(_mm512_castps_si512(lo), _mm512_set1_epi32(1));
    __m512 ro = _mm512_mask_blend_ps(lo_odd, hi, lo);
    return _mm512_cvtph_ps(_mm512_cvtps_ph(ro, RNE16));
}

/* block8 with 16-pixel vectors and ocb * pv = 16 chains in flight (32
 * registers). */
AVX512_TARGET static ALWAYS_INLINE void block16(float *out, size_t ostride, int nvalid, const float *xpix,
                                                const float *wabs, const ptrdiff_t *xoff, const float *b16, int K,
                                                const int ocb, const int pv)
{
    __m512 acc[16];
    UNROLL_ALL for (int o = 0; o < ocb; o++)
        UNROLL_ALL for (int v = 0; v < pv; v++)
            acc[o * pv + v] = _mm512_set1_ps(b16[o]);
    for (int k = 0; k < K; k++)
        UNROLL_ALL for (int o = 0; o < ocb; o++) {
            __m512 w = _mm512_set1_ps(wabs[(size_t)o * K + k]);
            const float *xp = xpix + xoff[(size_t)o * K + k];
            UNROLL_ALL for (int v = 0; v < pv; v++)
                acc[o * pv + v] = step16(w, xp + 16 * v, acc[o * pv + v]);
        }
    UNROLL_ALL for (int v = 0; v < pv; v++) {
        int n = nvalid - 16 * v;
        __mmask16 lm = n >= 16 ? (__mmask16)0xFFFF : n > 0 ? (__mmask16)((1u << n) - 1u) : 0;
        UNROLL_ALL for (int o = 0; o < ocb; o++)
            _mm512_mask_storeu_ps(out + (size_t)o * ostride + 16 * v, lm, acc[o * pv + v]);
    }
}

/* The (ocb, pv) shapes of 16 chains (AVX-512: blocks16, blocks32), each a
 * constant in its call so that the block's loops unroll. */
#define SWITCH_16_CHAINS(BLOCK, X, W, B)                                                                              \
    switch (ocb * 32 + pv) {                                                                                          \
    case 4 * 32 + 4: BLOCK(d, ostride, nv, X, W, xo, B, K, 4, 4); break;                                              \
    case 4 * 32 + 2: BLOCK(d, ostride, nv, X, W, xo, B, K, 4, 2); break;                                              \
    case 4 * 32 + 1: BLOCK(d, ostride, nv, X, W, xo, B, K, 4, 1); break;                                              \
    case 2 * 32 + 8: BLOCK(d, ostride, nv, X, W, xo, B, K, 2, 8); break;                                              \
    case 2 * 32 + 4: BLOCK(d, ostride, nv, X, W, xo, B, K, 2, 4); break;                                              \
    case 2 * 32 + 2: BLOCK(d, ostride, nv, X, W, xo, B, K, 2, 2); break;                                              \
    case 2 * 32 + 1: BLOCK(d, ostride, nv, X, W, xo, B, K, 2, 1); break;                                              \
    case 1 * 32 + 16: BLOCK(d, ostride, nv, X, W, xo, B, K, 1, 16); break;                                            \
    case 1 * 32 + 8: BLOCK(d, ostride, nv, X, W, xo, B, K, 1, 8); break;                                              \
    case 1 * 32 + 4: BLOCK(d, ostride, nv, X, W, xo, B, K, 1, 4); break;                                              \
    case 1 * 32 + 2: BLOCK(d, ostride, nv, X, W, xo, B, K, 1, 2); break;                                              \
    default: BLOCK(d, ostride, nv, X, W, xo, B, K, 1, 1); break;                                                      \
    }

AVX512_TARGET static __attribute__((noinline)) void blocks16(float *d, size_t ostride, int nv, const void *xv,
                                                             const void *wv, const ptrdiff_t *xo, const void *bv,
                                                             int K, int ocb, int pv)
{
    const float *xp = xv, *wa = wv, *bb = bv;
    SWITCH_16_CHAINS(block16, xp, wa, bb)
}

/* ---- the same chain in binary16 arithmetic (AVX512-FP16) -------------------
 * vfmadd231ph computes RN16(w * x + acc) itself: one fused multiply-add
 * rounded once to binary16 in the MXCSR rounding mode (nearest here),
 * subnormals included (the kernel clears DAZ and FTZ, so no flushing
 * whatever the CPU does with them for FP16; the caller-mode test sets
 * both): exactly a step of the chain, in 32 lanes, with no
 * binary32 detour. The input copies, |w| and the bias are binary16 bit
 * patterns; the padding trick and the tap order are those of the binary32
 * kernels, so the chains are the same, step by step. The instruction is
 * written in asm (gcc 12 has the intrinsics, clang 14 not without
 * -mavx512fp16 for the whole file); the register types stay __m512i. */
AVX512_TARGET static ALWAYS_INLINE __m512i step32(__m512i w, const uint16_t *xp, __m512i acc)
{
    __asm__("vfmadd231ph %2, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const __m512i_u *)xp));
    return acc;
}

/* block16 with 32-pixel binary16 vectors: ocb * pv = 16 chains; at the end
 * each vector's two halves widen to binary32 (exact) for the store. */
AVX512_TARGET static ALWAYS_INLINE void block32(float *out, size_t ostride, int nvalid, const uint16_t *xpix,
                                                const uint16_t *wabs, const ptrdiff_t *xoff, const uint16_t *b16,
                                                int K, const int ocb, const int pv)
{
    __m512i acc[16];
    UNROLL_ALL for (int o = 0; o < ocb; o++)
        UNROLL_ALL for (int v = 0; v < pv; v++)
            acc[o * pv + v] = _mm512_set1_epi32((int)(b16[o] * 0x10001u));
    for (int k = 0; k < K; k++)
        UNROLL_ALL for (int o = 0; o < ocb; o++) {
            __m512i w = _mm512_set1_epi32((int)(wabs[(size_t)o * K + k] * 0x10001u));
            const uint16_t *xp = xpix + xoff[(size_t)o * K + k];
            UNROLL_ALL for (int v = 0; v < pv; v++)
                acc[o * pv + v] = step32(w, xp + 32 * v, acc[o * pv + v]);
        }
    UNROLL_ALL for (int v = 0; v < pv; v++)
        UNROLL_ALL for (int half = 0; half < 2; half++) {
            int n = nvalid - 32 * v - 16 * half;
            __mmask16 lm = n >= 16 ? (__mmask16)0xFFFF : n > 0 ? (__mmask16)((1u << n) - 1u) : 0;
            UNROLL_ALL for (int o = 0; o < ocb; o++) {
                __m256i h = half ? _mm512_extracti64x4_epi64(acc[o * pv + v], 1) : _mm512_castsi512_si256(acc[o * pv + v]);
                _mm512_mask_storeu_ps(out + (size_t)o * ostride + 32 * v + 16 * half, lm, _mm512_cvtph_ps(h));
            }
        }
}

AVX512_TARGET static __attribute__((noinline)) void blocks32(float *d, size_t ostride, int nv, const void *xp,
                                                             const void *wa, const ptrdiff_t *xo, const void *bb,
                                                             int K, int ocb, int pv)
{
    const uint16_t *x = xp, *w = wa, *b = bb;
    SWITCH_16_CHAINS(block32, x, w, b)
}

/* The blocks of one path; xp, wa and bb point to binary32 values (blocks8,
 * blocks16) or binary16 bit patterns (blocks32). */
typedef void blocks_fn(float *d, size_t ostride, int nv, const void *xp, const void *wa, const ptrdiff_t *xo,
                       const void *bb, int K, int ocb, int pv);

/* The next smaller pixel-vector count of a block: 12 -> 8 -> 4 -> 2 -> 1,
 * 6 -> 4, 3 -> 2, 16 -> 8 (the cases blocks8 and blocks16 have). */
static int smaller_pv(int pv)
{
    return pv % 3 == 0 ? pv / 3 * 2 : pv / 2;
}

/* The AVX2 kernel's two ways to the same bits (top comment, "Two ways"),
 * and its trial of both: blocks and vector steps each way has run in the
 * trial and its fewest TSC ticks per step in one block; the way in use. */
typedef struct {
    unsigned blocks[2];
    unsigned long long steps[2];
    double best[2];
    lpnas_f16acc_way way; /* SCALED or ODD */
    bool warm, decided; /* the first block has run; the trial is over */
    unsigned ran; /* 1 << way for each way that ran a block */
    float *wabs, *bias16; /* all groups' |w| and biases, nw and nb of them */
    size_t nw, nb;
} way_watch;

/* What each way runs in the trial, after one block untimed (caches cold):
 * 2 blocks and 4096 steps at least, judged by its best block, so that
 * neither an interrupt nor a cache miss decides. */
enum { TRIAL_BLOCKS = 2, TRIAL_STEPS = 4096 };

/* Moves to `way` for what follows: |w| and the biases (all groups) between
 * scaled binary16 and the values themselves, by bits (so the directed MXCSR
 * mode cannot round them), and MXCSR.RC between toward zero and down. */
static void watch_take(way_watch *sw, lpnas_f16acc_way way)
{
    if (way == sw->way)
        return;
    for (size_t i = 0; i < sw->nw + sw->nb; i++) {
        float *f = i < sw->nw ? &sw->wabs[i] : &sw->bias16[i - sw->nw];
        *f = way == LPNAS_F16ACC_ODD ? unscaled16(*f) : scaled16(h_of(*f));
    }
    _mm_setcsr((_mm_getcsr() & ~0x6000u) | (way == LPNAS_F16ACC_ODD ? 0x2000u : 0x6000u));
    sw->way = way;
}

/* One block of the AVX2 kernel the way in use; during the trial, timed:
 * scaled, then to odd, then the faster per step for the rest of the call. */
static void watch_run(way_watch *sw, float *d, size_t ostride, int nv, const void *xp, const void *wa,
                      const ptrdiff_t *xo, const void *bb, int K, int ocb, int pv)
{
    blocks_fn *fn = sw->way == LPNAS_F16ACC_ODD ? blocks8_odd : blocks8;
    sw->ran |= 1u << sw->way;
    if (sw->decided || !sw->warm) {
        fn(d, ostride, nv, xp, wa, xo, bb, K, ocb, pv);
        sw->warm = true;
        return;
    }
    int w = sw->way;
    unsigned long long t0 = __rdtsc();
    fn(d, ostride, nv, xp, wa, xo, bb, K, ocb, pv);
    double per_step = (double)(__rdtsc() - t0) / ((double)K * ocb * pv);
    sw->best[w] = sw->blocks[w] == 0 || per_step < sw->best[w] ? per_step : sw->best[w];
    sw->blocks[w]++;
    if ((sw->steps[w] += (unsigned long long)K * ocb * pv) < TRIAL_STEPS || sw->blocks[w] < TRIAL_BLOCKS)
        return;
    if (w == LPNAS_F16ACC_SCALED) {
        watch_take(sw, LPNAS_F16ACC_ODD);
        return;
    }
    sw->decided = true;
    if (sw->best[LPNAS_F16ACC_SCALED] <= sw->best[LPNAS_F16ACC_ODD])
        watch_take(sw, LPNAS_F16ACC_SCALED);
}

/* One group of image n, for any width (lanes: pixels per vector; es: bytes
 * per element of the copies, |w| and bias, 4 or 2): channel blocks of 4
 * (2, 1 at the end) x chains/ocb pixel vectors, so `chains` chains are in
 * flight (12 with AVX2, 16 with AVX-512); rows; pixel blocks, fewer vectors
 * at a row's end. Integer work only: the blocks do the arithmetic. sw: the
 * AVX2 kernel's ways (blocks unused), NULL for the others. */
static void group_run(blocks_fn *blocks, int lanes, int chains, size_t es, float *out, const void *xb,
                      const void *wabs, const ptrdiff_t *xoff, const void *b16, lpnas_shape o,
                      const lpnas_conv_params *p, const plan *pl, int n, int g, way_watch *sw)
{
    int og = pl->og, K = pl->K;
    size_t ostride = (size_t)o.h * o.w;
    for (int oc0 = 0; oc0 < og;) {
        int ocb = og - oc0 >= 4 ? 4 : og - oc0 >= 2 ? 2 : 1;
        const char *wa = (const char *)wabs + (size_t)oc0 * K * es, *bb = (const char *)b16 + (size_t)oc0 * es;
        const ptrdiff_t *xo = xoff + (size_t)oc0 * K;
        for (int oy = 0; oy < o.h; oy++) {
            float *orow = out + lpnas_shape_at(o, n, g * og + oc0, oy, 0);
            const char *xrow = (const char *)xb + (size_t)oy * p->stride_h * pl->wr * es;
            for (int ox0 = 0; ox0 < o.w;) {
                int vecs = (o.w - ox0 + lanes - 1) / lanes, pv = chains / ocb;
                while (pv > vecs)
                    pv = smaller_pv(pv);
                if (sw)
                    watch_run(sw, orow + ox0, ostride, o.w - ox0, xrow + (size_t)ox0 * es, wa, xo, bb, K, ocb, pv);
                else
                    blocks(orow + ox0, ostride, o.w - ox0, xrow + (size_t)ox0 * es, wa, xo, bb, K, ocb, pv);
                ox0 += lanes * pv;
            }
        }
        oc0 += ocb;
    }
}

/* ---- entry ------------------------------------------------------------------ */

bool lpnas_conv2d_f16acc_avx2_way(float *out, const float *in, const float *weight, const float *bias,
                                  lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p, float *ws, lpnas_isa path,
                                  lpnas_f16acc_way way, unsigned *ran)
{
    bool wide = path >= LPNAS_ISA_AVX512, half = path >= LPNAS_ISA_AVX512FP16;
    /* |w| and biases as the values themselves (AVX-512F, and AVX2 to odd
     * from the start) or as scaled binary16 (the AVX2 way that starts) */
    bool values = wide || way == LPNAS_F16ACC_ODD;
    plan pl = plan_make(s, o, p, half ? 32 : 16);
    int G = pl.G, cg = pl.cg, og = pl.og, K = pl.K;
    size_t es = half ? 2 : 4;
    ptrdiff_t *xoff = align64(ws);
    float *wabs = align64(xoff + pl.nwk), *bias16 = align64(wabs + pl.nwk);
    uint16_t *wabs_h = (uint16_t *)wabs, *bias_h = (uint16_t *)bias16;
    float *xb = align64(bias16 + (size_t)G * og);
    /* weights as |w| and the offset of their tap in the copy of w's sign
     * (tap k = (ci * kh + ky) * kw + kx reads row ky * dh and phase column
     * kx * dw of channel ci, relative to the output pixel); one bound for
     * all channels (the largest sum |w| and |b|): conservative */
    double wsum_max = 0, bias_max = 0;
    for (int oc = 0; oc < o.c; oc++) {
        double sum = 0;
        for (int k = 0; k < K; k++) {
            int ci = k / (p->kh * p->kw), ky = k / p->kw % p->kh, kx = k % p->kw;
            int reach = kx * p->dil_w, q = reach % pl.sw;
            float v = f16v(weight[(size_t)oc * K + k]);
            size_t off = ((size_t)ci * pl.sw + q) * pl.plane + (size_t)ky * p->dil_h * pl.wr + (size_t)(reach / pl.sw);
            if (half)
                wabs_h[(size_t)oc * K + k] = h_of(fabsf(v));
            else if (values)
                wabs[(size_t)oc * K + k] = fabsf(v);
            else
                wabs[(size_t)oc * K + k] = scaled16(h_of(fabsf(v)));
            xoff[(size_t)oc * K + k] = (ptrdiff_t)(off + (signbit(v) ? pl.half : 0));
            sum += fabs((double)v);
        }
        double bv = f16v(bias ? bias[oc] : 0.0f);
        if (half)
            bias_h[oc] = h_of((float)bv);
        else if (values)
            bias16[oc] = (float)bv;
        else
            bias16[oc] = scaled16(h_of((float)bv));
        if (!(sum <= wsum_max))
            wsum_max = sum; /* NaN sticks */
        if (!(fabs(bv) <= bias_max))
            bias_max = fabs(bv);
    }
    way_watch watch = {{0, 0}, {0, 0}, {0, 0}, values ? LPNAS_F16ACC_ODD : LPNAS_F16ACC_SCALED, false,
                       way != LPNAS_F16ACC_WATCH, 0u,
                       wabs, bias16, pl.nwk, (size_t)G * og};
    bool ok = true;
    for (int n = 0; n < s.n && ok; n++)
        for (int g = 0; g < G && ok; g++) {
            double xmax = convert_group(xb, in + lpnas_shape_at(s, n, g * cg, 0, 0), s, p, &pl, half);
            if (!chains_bounded(bias_max, xmax, wsum_max, K)) {
                ok = false;
                break;
            }
            const char *wa = (const char *)wabs + (size_t)g * og * K * es, *bb = (const char *)bias16 + (size_t)g * og * es;
            const ptrdiff_t *xo = xoff + (size_t)g * og * K;
            /* MXCSR for the block loops, whatever the caller's: RC (bits
             * 13-14) toward zero (11) for AVX2's scaled binary16, down (01)
             * once it has moved to rounding to odd, nearest (00) for
             * AVX-512F (unused: embedded rounding) and AVX512-FP16 (the
             * fmas round by it); DAZ (bit 6) and FTZ (bit 15) off, so that
             * no subnormal is flushed. Restored after, exception flags
             * included. */
            unsigned csr = _mm_getcsr();
            _mm_setcsr((csr & ~(0x6000u | 0x8040u)) | (wide ? 0u : watch.way == LPNAS_F16ACC_ODD ? 0x2000u : 0x6000u));
            if (half)
                group_run(blocks32, 32, 16, 2, out, xb, wa, xo, bb, o, p, &pl, n, g, NULL);
            else if (wide)
                group_run(blocks16, 16, 16, 4, out, xb, wa, xo, bb, o, p, &pl, n, g, NULL);
            else
                group_run(NULL, 8, 12, 4, out, xb, wa, xo, bb, o, p, &pl, n, g, &watch);
            _mm_setcsr(csr);
        }
    if (ran)
        *ran = watch.ran;
    return ok;
}

bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              lpnas_shape o, const lpnas_conv_params *p, float *ws, lpnas_isa path)
{
    return lpnas_conv2d_f16acc_avx2_way(out, in, weight, bias, s, o, p, ws, path, LPNAS_F16ACC_WATCH, NULL);
}
#else
bool lpnas_conv2d_f16acc_avx2_way(float *out, const float *in, const float *weight, const float *bias,
                                  lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p, float *ws, lpnas_isa path,
                                  lpnas_f16acc_way way, unsigned *ran)
{
    (void)out, (void)in, (void)weight, (void)bias, (void)s, (void)o, (void)p, (void)ws, (void)path, (void)way;
    if (ran)
        *ran = 0;
    return false;
}

bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              lpnas_shape o, const lpnas_conv_params *p, float *ws, lpnas_isa path)
{
    return lpnas_conv2d_f16acc_avx2_way(out, in, weight, bias, s, o, p, ws, path, LPNAS_F16ACC_WATCH, NULL);
}
#endif
