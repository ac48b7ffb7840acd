/* fp16-accumulate conv forward on AVX2 + FMA + F16C (no AVX-512 needed),
 * bit-exact with the sequential lpnas_f16_fma chain of conv2d.h, with no
 * branch on the data. (Where the CPU has AVX512-FP16, the chain runs in
 * binary16 arithmetic instead, one instruction per step: the section "the
 * same chain in binary16" below; the input layout and padding are shared.)
 *
 * Each chain step is acc' = RN16(v), v = w*x + acc exactly, with w, x, acc
 * binary16 values. It runs in binary32 lanes, 8 per __m256 (16 per __m512
 * in the AVX-512F variant). w*x is exact in binary32: 11 x 11 significand
 * bits make at most 22 <= 24, and 2^-48 <= |w*x| < 2^32 stays in binary32's
 * normal range; v is 0 or a nonzero multiple of 2^-48 below 65504 (the
 * bound below), so every binary32 rounding of v is a normal number or 0 and
 * DAZ/FTZ never matter.
 *
 * Rounding to odd. RN16(RN32(v)) is wrong when RN32(v) lands exactly on a
 * binary16 midpoint with v != RN32(v) (1025 + (0.5+2^-11)(1-2^-10) = 1025.5
 * - 2^-21 rounds to 1025, but RN32 gives 1025.5, a tie that goes to 1026;
 * test_conv2d checks this case and a subnormal one). Instead each step
 * computes both directed roundings of v in binary32,
 *   lo = RD32(v), hi = RU32(v):  lo == hi == v if v is exact, else
 *   adjacent binary32 values, lo < v < hi,
 * and keeps the one whose last significand bit is 1 (lo if its bits are
 * odd, else hi). Adjacent binary32 values of one sign have consecutive bit
 * patterns, also across a binade (v != 0 when inexact, so lo and hi share
 * v's sign), so of an inexact pair exactly one is odd: that is RO32(v),
 * v rounded to odd. Then
 *   acc' = cvtph_ps(cvtps_ph(RO32(v), RNE)) = RN16(RO32(v)) = RN16(v).
 * Why: every binary16 midpoint is even in binary32 (normal ones have 12
 * significant bits, so 12 trailing zeros in the 24-bit significand;
 * subnormal ones are odd multiples of 2^-25 where the binary32 ulp is at
 * most 2^-38), and midpoints are >= 2^13 binary32 ulps apart. Let m1 < v
 * < m2 be the midpoints around an inexact v (v itself is no midpoint: a
 * midpoint is a binary32 value). No binary32 value lies strictly between lo
 * and hi, so m1 <= lo < hi <= m2, and the odd one of lo, hi is neither m1
 * nor m2: it lies in the open interval (m1, m2) with v, and RN16 maps that
 * whole interval to one binary16 value. An exact v is kept as is, ties
 * included. (This is the classical result that rounding to odd with p + 2
 * bits, then to nearest with p bits, is one correct rounding.)
 * Zeros: an exact zero sum of opposite signs (acc = -w*x, or +0 + -0) is
 * -0 under RD and +0 under RU; both are even, so hi = +0 is kept, RN's +0.
 * -0 + -0 is -0 in every mode. So signed zeros follow RN too.
 *
 * Directed roundings. AVX-512F has them per instruction (embedded rounding,
 * {rd-sae} and {ru-sae}). AVX2 has only MXCSR.RC: the AVX2 kernel runs with
 * RC = round down (set on entry to the block loops, the caller's MXCSR
 * restored after), so lo = fma(w, x, acc) and hi = -fma(-w, x, -acc) =
 * -RD(-v) = RU(v). The second fma is vfnmsub231ps in an asm statement: a
 * compiler assuming round-to-nearest may rewrite fnmsub(w, x, acc) as
 * -fma(w, x, acc), which under RD is a different number. Only the fmas
 * depend on RC: the conversion rounds by its immediate (RNE), cvtph_ps and
 * the rest are exact. Both kernels also run with DAZ and FTZ off: no
 * binary32 operand or result is subnormal (above), and F16C's conversions
 * produce and read binary16 subnormals regardless on the CPUs tested, but
 * the SDM does not promise it for FTZ, and clearing costs nothing.
 *
 * Padding without branches. Taps outside the image are skipped by the
 * chain. Here they read -0 with a weight of sign +: |w| * -0 = -0, and
 * acc + -0 == acc for every acc (also -0: -0 + -0 = -0; +0 + -0 = +0 after
 * the pick above), so the step changes nothing, bit for bit. For that every
 * weight is applied as |w|, to a copy of the input with the sign of w: each
 * group's input is converted once into two padded copies, x and -x, both
 * padded with -0 (|w| * (+-x) == w * x exactly, zero signs included).
 * Strided convs read the copies split by column phase (column j of phase q
 * holds padded input column j * stride + q), so the pixels of a vector
 * always load contiguously; the vectors at a row's end run into the padding
 * and their extra lanes are not stored. One kernel thus serves dense,
 * grouped and depthwise convs, any stride, dilation and border: adjacent
 * output pixels per vector, OCB output channels x PV pixel vectors in
 * flight (12 chains on AVX2 with its 16 registers, 16 on AVX-512F: the fma
 * -> blend -> cvtps_ph -> cvtph_ps chain of a step is ~20 cycles long, and
 * 8 chains left the AVX2 ports idle part of it). Every loop over them is
 * unrolled by pragma: left to itself gcc 12 unrolls 8 chains but not 12 or
 * 16, and then keeps the accumulators in memory (a store per step).
 *
 * Overflow is not modelled (RD/RU would stop at 65504 or go to inf where
 * the chain's RN16 goes to inf only from 65520): before the loop, a bound
 * |bias| + max|x| * sum|w| grown by (1 + 2^-11) per step (the largest
 * relative rounding up) plus 2^-25 per step (subnormal rounding) must stay
 * below 65504 for every output channel, or the call returns false and the
 * caller takes the scalar chain. NaN or inf in the input or weights fail
 * the bound the same way. */
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

/* acc' = RN16(w * x + acc) in 8 lanes (the top comment), MXCSR.RC = round
 * down: lo = RD(v); t = RD(-(w*x) - acc) = -RU(v), so hi = t with its sign
 * flipped; the odd one of lo and hi is RO32(v) (blendv picks by the sign
 * bit, so lo's last bit is shifted there). */
AVX2_TARGET static ALWAYS_INLINE __m256 step8(__m256 w, const float *xp, __m256 acc)
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
 * (12 accumulators + w, lo and the blend mask of one step: 15 of 16). */
AVX2_TARGET static ALWAYS_INLINE void block8(float *out, size_t ostride, int nvalid, const float *xpix,
                                             const float *wabs, const ptrdiff_t *xoff, const float *b16, int K,
                                             const int ocb, const int pv)
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
                acc[o * pv + v] = step8(w, xp + 8 * v, acc[o * pv + v]);
        }
    UNROLL_ALL for (int v = 0; v < pv; v++) {
        int n = nvalid - 8 * v;
        __m256i lm = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        UNROLL_ALL for (int o = 0; o < ocb; o++) {
            float *d = out + (size_t)o * ostride + 8 * v;
            if (n >= 8)
                _mm256_storeu_ps(d, acc[o * pv + v]);
            else if (n > 0)
                _mm256_maskstore_ps(d, lm, acc[o * pv + v]);
        }
    }
}

/* block8 for one (ocb, pv) of the traversal below, each a constant there.
 * Out of line and the only code that runs while MXCSR.RC = round down, so
 * no floating-point operation of a caller can be moved into that span. */
AVX2_TARGET static __attribute__((noinline)) void blocks8(float *d, size_t ostride, int nv, const void *xv,
                                                          const void *wv, const ptrdiff_t *xo, const void *bv, int K,
                                                          int ocb, int pv)
{
    const float *xp = xv, *wa = wv, *bb = bv;
    switch (ocb * 32 + pv) {
    case 4 * 32 + 3: block8(d, ostride, nv, xp, wa, xo, bb, K, 4, 3); break;
    case 4 * 32 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 4, 2); break;
    case 4 * 32 + 1: block8(d, ostride, nv, xp, wa, xo, bb, K, 4, 1); break;
    case 2 * 32 + 6: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 6); break;
    case 2 * 32 + 4: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 4); break;
    case 2 * 32 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 2); break;
    case 2 * 32 + 1: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 1); break;
    case 1 * 32 + 12: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 12); break;
    case 1 * 32 + 8: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 8); break;
    case 1 * 32 + 4: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 4); break;
    case 1 * 32 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 2); break;
    default: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 1); break;
    }
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

/* One group of image n, for any width (lanes: pixels per vector; es: bytes
 * per element of the copies, |w| and bias, 4 or 2): channel blocks of 4
 * (2, 1 at the end) x chains/ocb pixel vectors, so `chains` chains are in
 * flight (12 with AVX2, 16 with AVX-512); rows; pixel blocks, fewer vectors
 * at a row's end. Integer work only: the blocks do the arithmetic. */
static void group_run(blocks_fn *blocks, int lanes, int chains, size_t es, float *out, const void *xb,
                      const void *wabs, const ptrdiff_t *xoff, const void *b16, lpnas_shape o,
                      const lpnas_conv_params *p, const plan *pl, int n, int g)
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
                blocks(orow + ox0, ostride, o.w - ox0, xrow + (size_t)ox0 * es, wa, xo, bb, K, ocb, pv);
                ox0 += lanes * pv;
            }
        }
        oc0 += ocb;
    }
}

/* ---- entry ------------------------------------------------------------------ */

bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              lpnas_shape o, const lpnas_conv_params *p, float *ws, lpnas_isa path)
{
    bool wide = path >= LPNAS_ISA_AVX512, half = path >= LPNAS_ISA_AVX512FP16;
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
            else
                wabs[(size_t)oc * K + k] = fabsf(v);
            xoff[(size_t)oc * K + k] = (ptrdiff_t)(off + (signbit(v) ? pl.half : 0));
            sum += fabs((double)v);
        }
        double bv = f16v(bias ? bias[oc] : 0.0f);
        if (half)
            bias_h[oc] = h_of((float)bv);
        else
            bias16[oc] = (float)bv;
        if (!(sum <= wsum_max))
            wsum_max = sum; /* NaN sticks */
        if (!(fabs(bv) <= bias_max))
            bias_max = fabs(bv);
    }
    for (int n = 0; n < s.n; n++)
        for (int g = 0; g < G; g++) {
            double xmax = convert_group(xb, in + lpnas_shape_at(s, n, g * cg, 0, 0), s, p, &pl, half);
            if (!chains_bounded(bias_max, xmax, wsum_max, K))
                return false;
            const char *wa = (const char *)wabs + (size_t)g * og * K * es, *bb = (const char *)bias16 + (size_t)g * og * es;
            const ptrdiff_t *xo = xoff + (size_t)g * og * K;
            /* MXCSR for the block loops, whatever the caller's: RC (bits
             * 13-14) round down (01) for AVX2, nearest (00) for AVX-512F
             * (unused: embedded rounding) and AVX512-FP16 (the fmas round
             * by it); DAZ (bit 6) and FTZ (bit 15) off, so that no
             * conversion could flush a binary16 subnormal. Restored after,
             * exception flags included. */
            unsigned csr = _mm_getcsr();
            _mm_setcsr((csr & ~(0x6000u | 0x8040u)) | (wide ? 0u : 0x2000u));
            if (half)
                group_run(blocks32, 32, 16, 2, out, xb, wa, xo, bb, o, p, &pl, n, g);
            else if (wide)
                group_run(blocks16, 16, 16, 4, out, xb, wa, xo, bb, o, p, &pl, n, g);
            else
                group_run(blocks8, 8, 12, 4, out, xb, wa, xo, bb, o, p, &pl, n, g);
            _mm_setcsr(csr);
        }
    return true;
}
#else
bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              lpnas_shape o, const lpnas_conv_params *p, float *ws, lpnas_isa path)
{
    (void)out, (void)in, (void)weight, (void)bias, (void)s, (void)o, (void)p, (void)ws, (void)path;
    return false;
}
#endif
