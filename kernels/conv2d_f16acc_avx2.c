/* fp16-accumulate conv forward on AVX2 + FMA + F16C (no AVX-512 needed),
 * bit-exact with the sequential lpnas_f16_fma chain of conv2d.h.
 *
 * Each chain step is acc' = RN16(w*x + acc) with w, x, acc binary16 values.
 * It runs in binary32 lanes, 8 per __m256 (16 per __m512 in the AVX-512F
 * variant), which the CPU rounds to binary16 natively:
 *   s   = fma(w, x, acc)              one rounding, RN32 (MXCSR default)
 *   acc = cvtph_ps(cvtps_ph(s, RNE))  RN16(s), the rounding in the immediate
 * w*x is exact in binary32: 11 x 11 significand bits make at most 22 <= 24,
 * and 2^-48 <= |w*x| < 2^32 stays in binary32's normal range. So s = RN32(v)
 * for the exact v = w*x + acc; s is 0 or >= 2^-48 in magnitude (v is a
 * multiple of 2^-48), never a binary32 subnormal, so DAZ/FTZ could not
 * matter either.
 *
 * Double rounding. RN16(RN32(v)) == RN16(v) unless RN32(v) is exactly a
 * binary16 midpoint: the midpoints are binary32 values, RN32 is monotone, so
 * if v lies strictly between two consecutive midpoints, RN32(v) lies in the
 * closed interval and reaches an end only by being that midpoint; there RN16
 * of v (when v != s) and of s can differ. Example: 1025 + (0.5+2^-11)(1-2^-10)
 * = 1025.5 - 2^-21 rounds to 1025, but RN32 gives 1025.5, a tie that goes to
 * 1026 (test_conv2d checks this case and a subnormal one).
 *
 * Midpoint test on the bits of s, | S | EEEEEEEE | FFFFFFFFFF D DDDDDDDDDDDD |
 * (F: the 10 bits binary16 keeps, D: the 13 it drops):
 *   |s| >= 2^-14 (binary16 normal range): s is a midpoint iff D == 1 0...0,
 *     i.e. (bits << 19) == INT32_MIN; a vector min of those keys over the
 *     steps of a tap is INT32_MIN iff some lane was a midpoint.
 *   0 < |s| < 2^-14 (binary16 subnormal range, quantum 2^-24, the number of
 *     dropped bits varies with the exponent): flagged whenever nonzero.
 *     Key: (bits << 1) + 0x7FFFFFFF, which maps +-0 to INT32_MAX and
 *     magnitudes 1..0x38800000-1 (in the bits without sign) to
 *     [INT32_MIN, 0xF0FFFFFF), below everything else, so again a vector min.
 * After each tap, if any lane of any vector in flight was flagged, that
 * tap's step is redone for all of them in binary64 (step16 below, exact for
 * any binary16 inputs), from the accumulators saved before the step. For
 * ordinary data a lane is a midpoint with probability ~2^-13 per step, so
 * the fix-up runs on ~1% of the taps and costs ~2%.
 *
 * Padding without branches. Taps outside the image are skipped by the
 * chain. Here they read -0 with a weight of sign +: |w| * -0 = -0, and
 * acc + -0 == acc for every acc (also -0: -0 + -0 = -0; +0 + -0 = +0), so
 * the step changes nothing, bit for bit. For that every weight is applied as
 * |w|, to a copy of the input with the sign of w: each group's input is
 * converted once into two padded copies, x and -x, both padded with -0
 * (|w| * (+-x) == w * x exactly, zero signs included). Strided convs read
 * the copies split by column phase (column j of phase q holds padded input
 * column j * stride + q), so the 8 pixels of a vector always load
 * contiguously; the vectors at a row's end run into the padding and their
 * extra lanes are not stored. One kernel thus serves dense, grouped and
 * depthwise convs, any stride, dilation and border: 8 adjacent output
 * pixels per vector, OCB output channels x PV pixel vectors in flight
 * (OCB * PV = 8: the fma -> cvtps_ph -> cvtph_ps chain of a step is ~15
 * cycles long).
 *
 * Overflow is not modelled by the binary64 fix-up (step16 would make 65520
 * 65536, not inf): before the loop, a bound |bias| + max|x| * sum|w| grown
 * by (1 + 2^-11) per step (the largest relative rounding up) plus 2^-25 per
 * step (subnormal rounding) must stay below 65504 for every output channel,
 * or the call returns false and the caller takes the scalar chain. NaN or
 * inf in the input or weights fail the bound the same way. */
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

/* Rows reach (oh-1)*sh + (kh-1)*dh; columns run to the next multiple of 16
 * output pixels (the widest vector) plus the taps' reach in phase columns. */
static plan plan_make(lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p)
{
    plan pl;
    pl.G = p->groups, pl.cg = s.c / pl.G, pl.og = o.c / pl.G;
    pl.K = pl.cg * p->kh * p->kw;
    pl.sw = p->stride_w;
    pl.hp = (o.h - 1) * p->stride_h + (p->kh - 1) * p->dil_h + 1;
    pl.wr = ((o.w + 15) & ~15) + (p->kw - 1) * p->dil_w / p->stride_w;
    pl.plane = (size_t)pl.hp * pl.wr;
    pl.half = (size_t)pl.cg * pl.sw * pl.plane;
    pl.nwk = (size_t)pl.G * pl.og * pl.K;
    return pl;
}

size_t lpnas_conv2d_f16acc_avx2_workspace(lpnas_shape in, lpnas_shape o, const lpnas_conv_params *p)
{
    plan pl = plan_make(in, o, p);
    /* floats: both input copies, |w|, bias16; the tap offsets (ptrdiff_t,
     * counted as 2 floats each); 64-byte alignment slack for each part */
    return 2 * pl.half + pl.nwk + (size_t)pl.G * pl.og + 2 * pl.nwk + 4 * 16;
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx2,fma,f16c")))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define RNE16 (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define KEY_SUB_ADD 0x7FFFFFFF /* subnormal-range key: (bits << 1) + this */

static inline uint16_t h_of(float v)
{
    return lpnas_f16_from_f32(v, LPNAS_RNE, NULL).bits;
}

static inline float f16v(float v)
{
    return lpnas_f16_to_f32((lpnas_f16){h_of(v)});
}

/* (0x38800000 << 1) + 0x7FFFFFFF, wrapped: keys below it come from 0 < |s| < 2^-14. */
static inline int key_sub_below(void)
{
    return (int)(int32_t)(uint32_t)((0x38800000u << 1) + 0x7FFFFFFFu);
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

/* ---- exact binary64 step: the fix-up ----------------------------------
 * s = fma(w, x, acc) in binary64: w*x is exact (22 bits), so the fma's
 * single rounding is that of the sum, inexact only when the exact sum spans
 * more than 53 bits. If the product holds the lowest bit, acc must reach
 * 2^31 times above it: the sum lies within 2^-31 of acc (a binary16 value,
 * 2^-12 from the nearest midpoint), so it and s both round to acc. If acc
 * holds the lowest bit (>= 2^-24), |w*x| >= 2^29: an overflow, which the
 * bound excludes. So RN16(s) is the correctly rounded fma.
 * RN16(s) without leaving binary64: let 2^e = s with its fraction bits
 * cleared, raised to 2^-14 when smaller (binary16's subnormal quantum is the
 * normal one of 2^-14); M = 1.5 * 2^(e+42). s + M lies in [2^(e+42),
 * 2^(e+43)) whose ulp is 2^(e-10) -- the binary16 ulp at s -- so the
 * addition rounds s to binary16 precision, nearest-even (M is an even
 * multiple of that ulp), and (s + M) - M is exact. The sign of s is OR-ed
 * back: a negative s that rounds to zero is -0 in binary16. */
AVX2_TARGET static inline __m256d step16(__m256d w, __m256d x, __m256d acc)
{
    const __m256i expmask = _mm256_set1_epi64x(0x7FF0000000000000LL);
    const __m256i min_e = _mm256_set1_epi64x(0x3F10000000000000LL); /* 2^-14 */
    /* + 42 in the exponent field and the top fraction bit: 2^e -> 1.5 * 2^(e+42) */
    const __m256i magic = _mm256_set1_epi64x((42LL << 52) | (1LL << 51));
    const __m256d signmask = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)0x8000000000000000ULL));
    __m256d s = _mm256_fmadd_pd(w, x, acc);
    /* a signed 32-bit max on the high halves (the low halves are zero) */
    __m256i e = _mm256_max_epi32(_mm256_and_si256(_mm256_castpd_si256(s), expmask), min_e);
    __m256d m = _mm256_castsi256_pd(_mm256_add_epi64(e, magic));
    __m256d r = _mm256_sub_pd(_mm256_add_pd(s, m), m);
    return _mm256_or_pd(r, _mm256_and_pd(s, signmask));
}

/* RN16(w*x + acc) for 8 binary32 lanes holding binary16 values, exactly
 * (the conversions to and from binary64 are exact for binary16 values). */
AVX2_TARGET static ALWAYS_INLINE __m256 step_exact8(__m256 w, __m256 x, __m256 acc)
{
    __m256d lo = step16(_mm256_cvtps_pd(_mm256_castps256_ps128(w)), _mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                        _mm256_cvtps_pd(_mm256_castps256_ps128(acc)));
    __m256d hi = step16(_mm256_cvtps_pd(_mm256_extractf128_ps(w, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
                        _mm256_cvtps_pd(_mm256_extractf128_ps(acc, 1)));
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

/* ---- input conversion -------------------------------------------------- */

/* One padded row of a (channel, phase) plane: columns j hold input column
 * j * sw + q - pad_w (rounded to binary16) where that is in the row, else
 * -0; nx the same with the sign flipped (its padding -0 too). Tracks max |x|
 * in *mx and NaNs in *nan. */
AVX2_TARGET static void convert_row(float *x, float *nx, const float *src, int w, int wr, int sw, int q, int pw,
                                    float *mx, bool *nan)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    /* real columns: j * sw + q - pw in [0, w) */
    int j0 = pw - q > 0 ? (pw - q + sw - 1) / sw : 0;
    int num = w - 1 + pw - q, j1 = num < 0 ? -1 : num / sw; /* inclusive */
    if (j1 > wr - 1)
        j1 = wr - 1;
    int j = 0;
    for (; j < j0 && j < wr; j++)
        x[j] = nx[j] = -0.0f;
    __m256 m = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
    if (sw == 1)
        for (; j + 8 <= j1 + 1; j += 8) {
            __m256 v = _mm256_loadu_ps(src + j + q - pw);
            __m256 h = _mm256_cvtph_ps(_mm256_cvtps_ph(v, RNE16));
            __m256 a = _mm256_andnot_ps(sign, h);
            bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
            m = _mm256_max_ps(m, a);
            _mm256_storeu_ps(x + j, h);
            _mm256_storeu_ps(nx + j, _mm256_xor_ps(h, sign));
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
        x[j] = h, nx[j] = -h;
    }
    for (; j < wr; j++)
        x[j] = nx[j] = -0.0f;
}

/* The padded x and -x copies of one group's channels ([2][cg][sw][hp][wr]);
 * returns max |x|, NaN if any NaN. */
AVX2_TARGET static double convert_group(float *xb, const float *src, lpnas_shape s, const lpnas_conv_params *p,
                                        const plan *pl)
{
    float mx = 0;
    bool nan = false;
    for (int ci = 0; ci < pl->cg; ci++)
        for (int q = 0; q < pl->sw; q++)
            for (int r = 0; r < pl->hp; r++) {
                float *x = xb + ((size_t)ci * pl->sw + q) * pl->plane + (size_t)r * pl->wr, *nx = x + pl->half;
                int iy = r - p->pad_h;
                if (iy < 0 || iy >= s.h) {
                    for (int j = 0; j < pl->wr; j++)
                        x[j] = nx[j] = -0.0f;
                    continue;
                }
                convert_row(x, nx, src + ((size_t)ci * s.h + iy) * s.w, s.w, pl->wr, pl->sw, q, p->pad_w, &mx, &nan);
            }
    return nan ? NAN : (double)mx;
}

/* ---- the AVX2 kernel ----------------------------------------------------- */

/* The lanes of s that the keys flag (top comment), as a mask. */
AVX2_TARGET static ALWAYS_INLINE __m256i flagged8(__m256 s)
{
    __m256i si = _mm256_castps_si256(s);
    __m256i mid = _mm256_cmpeq_epi32(_mm256_slli_epi32(si, 19), _mm256_set1_epi32(INT32_MIN));
    __m256i sub = _mm256_cmpgt_epi32(_mm256_set1_epi32(key_sub_below()),
                                     _mm256_add_epi32(_mm256_add_epi32(si, si), _mm256_set1_epi32(KEY_SUB_ADD)));
    return _mm256_or_si256(mid, sub);
}

/* The binary64 redo of one vector's step on the lanes in need: reached for
 * ~5e-5 of the lane steps, so out of line (its arguments in registers). */
AVX2_TARGET static __attribute__((noinline)) __m256 redo8(__m256 acc, __m256 w, __m256 x, __m256 prev, __m256 need)
{
    return _mm256_blendv_ps(acc, step_exact8(w, x, prev), need);
}

/* One vector of a tap whose keys flagged some lane: acc holds the fast
 * result, prev the accumulator before the step, xp the inputs. The step is
 * recomputed (the same fma, the same bits of s) with p = w*x (exact).
 * Most flagged lanes are exact sums (cancellation leaves few bits, often
 * ending in the midpoint pattern): then s == v and RN16(s) is right. The
 * two RN32 differences s - prev == p and s - p == prev prove s exact: if
 * s = v - e with e != 0, e is a nonzero multiple of the lowest set bit of
 * p or of prev, so |e| >= min(ulp(p), ulp(prev)); but RN32(p - e) == p
 * needs |e| <= ulp(p) / 2 and RN32(prev - e) == prev needs |e| <=
 * ulp(prev) / 2. Conversely an exact s passes both (s - prev is p, s - p
 * is prev, both representable). Lanes flagged and not proven exact take
 * the binary64 step. Inline and branch-free up to that last, rare branch:
 * the flagged taps are ~9% of all on random data, so their cost is ~a
 * mispredict and these ~15 operations per vector. */
AVX2_TARGET static ALWAYS_INLINE __m256 check8(__m256 acc, __m256 prev, __m256 w, const float *xp)
{
    __m256 x = _mm256_loadu_ps(xp);
    __m256 s = _mm256_fmadd_ps(w, x, prev), p = _mm256_mul_ps(w, x);
    __m256 exact = _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(s, prev), p, _CMP_EQ_OQ),
                                 _mm256_cmp_ps(_mm256_sub_ps(s, p), prev, _CMP_EQ_OQ));
    __m256 need = _mm256_andnot_ps(exact, _mm256_castsi256_ps(flagged8(s)));
    if (__builtin_expect(!_mm256_testz_ps(need, need), 0))
        return redo8(acc, w, x, prev, need);
    return acc;
}

/* check8 on every vector of a flagged tap; wk, xk: the weights and offsets
 * of this tap of the first channel (channels K apart). Out of line, so the
 * hot loop keeps its accumulators in registers. */
AVX2_TARGET static __attribute__((noinline)) void tap_check8(__m256 *acc, const __m256 *prev, const float *wk,
                                                                  const ptrdiff_t *xk, const float *xpix, int K,
                                                                  int ocb, int pv)
{
    for (int o = 0; o < ocb; o++) {
        __m256 w = _mm256_broadcast_ss(wk + (size_t)o * K);
        const float *xp = xpix + xk[(size_t)o * K];
        for (int v = 0; v < pv; v++)
            acc[o * pv + v] = check8(acc[o * pv + v], prev[o * pv + v], w, xp + 8 * v);
    }
}

/* ocb output channels x pv vectors of 8 pixels from one output row, the
 * whole chain. xpix: the x copy at this output row and first pixel; wabs,
 * xoff: [ocb][K] |w| and tap offsets (into xpix) of these channels; b16:
 * their biases; out: the first pixel of the first channel, channels ostride
 * apart; nvalid: pixels to store from the first. ocb and pv are constants
 * at each call (acc[] in registers). The keys of a tap's steps are folded by
 * a vector min: km is INT32_MIN, or ks below key_sub_below(), iff a lane
 * was flagged. */
AVX2_TARGET static ALWAYS_INLINE void block8(float *out, size_t ostride, int nvalid, const float *xpix,
                                             const float *wabs, const ptrdiff_t *xoff, const float *b16, int K,
                                             const int ocb, const int pv)
{
    __m256 acc[8];
    for (int o = 0; o < ocb; o++)
        for (int v = 0; v < pv; v++)
            acc[o * pv + v] = _mm256_broadcast_ss(b16 + o);
    for (int k = 0; k < K; k++) {
        __m256 save[8];
        __m256i km = _mm256_set1_epi32(INT32_MAX), ks = km;
        for (int o = 0; o < ocb; o++) {
            __m256 w = _mm256_broadcast_ss(wabs + (size_t)o * K + k);
            const float *xp = xpix + xoff[(size_t)o * K + k];
            for (int v = 0; v < pv; v++) {
                int i = o * pv + v;
                save[i] = acc[i];
                __m256 s = _mm256_fmadd_ps(w, _mm256_loadu_ps(xp + 8 * v), acc[i]);
                __m256i si = _mm256_castps_si256(s);
                km = _mm256_min_epi32(km, _mm256_slli_epi32(si, 19));
                ks = _mm256_min_epi32(ks, _mm256_add_epi32(_mm256_add_epi32(si, si), _mm256_set1_epi32(KEY_SUB_ADD)));
                acc[i] = _mm256_cvtph_ps(_mm256_cvtps_ph(s, RNE16));
            }
        }
        __m256i bad = _mm256_or_si256(_mm256_cmpeq_epi32(km, _mm256_set1_epi32(INT32_MIN)),
                                      _mm256_cmpgt_epi32(_mm256_set1_epi32(key_sub_below()), ks));
        if (__builtin_expect(!_mm256_testz_si256(bad, bad), 0)) {
            __m256 t[8]; /* only this copy leaves the registers */
            for (int i = 0; i < ocb * pv; i++)
                t[i] = acc[i];
            tap_check8(t, save, wabs + k, xoff + k, xpix, K, ocb, pv);
            for (int i = 0; i < ocb * pv; i++)
                acc[i] = t[i];
        }
    }
    for (int v = 0; v < pv; v++) {
        int n = nvalid - 8 * v;
        __m256i lm = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int o = 0; o < ocb; o++) {
            float *d = out + (size_t)o * ostride + 8 * v;
            if (n >= 8)
                _mm256_storeu_ps(d, acc[o * pv + v]);
            else if (n > 0)
                _mm256_maskstore_ps(d, lm, acc[o * pv + v]);
        }
    }
}

/* One group of image n: channel blocks of 4 (2, 1 at the end) x 2 (4, 8)
 * vectors, so 8 chains are in flight; rows; pixel blocks. */
AVX2_TARGET static void group8(float *out, const float *xb, const float *wabs, const ptrdiff_t *xoff,
                               const float *b16, lpnas_shape o, const lpnas_conv_params *p, const plan *pl, int n,
                               int g)
{
    int og = pl->og, K = pl->K;
    size_t ostride = (size_t)o.h * o.w;
    for (int oc0 = 0; oc0 < og;) {
        int ocb = og - oc0 >= 4 ? 4 : og - oc0 >= 2 ? 2 : 1;
        const float *wa = wabs + (size_t)oc0 * K, *bb = b16 + oc0;
        const ptrdiff_t *xo = xoff + (size_t)oc0 * K;
        for (int oy = 0; oy < o.h; oy++) {
            float *orow = out + lpnas_shape_at(o, n, g * og + oc0, oy, 0);
            const float *xrow = xb + (size_t)oy * p->stride_h * pl->wr;
            for (int ox0 = 0; ox0 < o.w;) {
                int vecs = (o.w - ox0 + 7) / 8, pv = 8 / ocb;
                while (pv > vecs)
                    pv /= 2;
                float *d = orow + ox0;
                const float *xp = xrow + ox0;
                int nv = o.w - ox0;
                switch (ocb * 16 + pv) {
                case 4 * 16 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 4, 2); break;
                case 4 * 16 + 1: block8(d, ostride, nv, xp, wa, xo, bb, K, 4, 1); break;
                case 2 * 16 + 4: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 4); break;
                case 2 * 16 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 2); break;
                case 2 * 16 + 1: block8(d, ostride, nv, xp, wa, xo, bb, K, 2, 1); break;
                case 1 * 16 + 8: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 8); break;
                case 1 * 16 + 4: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 4); break;
                case 1 * 16 + 2: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 2); break;
                default: block8(d, ostride, nv, xp, wa, xo, bb, K, 1, 1); break;
                }
                ox0 += 8 * pv;
            }
        }
        oc0 += ocb;
    }
}

/* ---- the same kernel in 16 AVX-512F lanes --------------------------------- */

/* step_exact8 on 16 lanes: two 8-lane halves through binary64. */
AVX512_TARGET static ALWAYS_INLINE __m512 step_exact16(__m512 w, __m512 x, __m512 acc)
{
    __m256 lo = step_exact8(_mm512_castps512_ps256(w), _mm512_castps512_ps256(x), _mm512_castps512_ps256(acc));
    __m256 hi = step_exact8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(w), 1)),
                            _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)),
                            _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}

/* redo8 on 16 lanes. */
AVX512_TARGET static __attribute__((noinline)) __m512 redo16(__m512 acc, __m512 w, __m512 x, __m512 prev,
                                                            __mmask16 need)
{
    return _mm512_mask_blend_ps(need, acc, step_exact16(w, x, prev));
}

/* check8 on 16 lanes, the flags and the exactness proof as mask registers. */
AVX512_TARGET static ALWAYS_INLINE __m512 check16(__m512 acc, __m512 prev, __m512 w, const float *xp)
{
    __m512 x = _mm512_loadu_ps(xp);
    __m512 s = _mm512_fmadd_ps(w, x, prev), p = _mm512_mul_ps(w, x);
    __m512i si = _mm512_castps_si512(s);
    __mmask16 flag =
        _mm512_cmpeq_epi32_mask(_mm512_slli_epi32(si, 19), _mm512_set1_epi32(INT32_MIN)) |
        _mm512_cmplt_epi32_mask(_mm512_add_epi32(_mm512_add_epi32(si, si), _mm512_set1_epi32(KEY_SUB_ADD)),
                                _mm512_set1_epi32(key_sub_below()));
    __mmask16 exact = _mm512_cmp_ps_mask(_mm512_sub_ps(s, prev), p, _CMP_EQ_OQ) &
                      _mm512_cmp_ps_mask(_mm512_sub_ps(s, p), prev, _CMP_EQ_OQ);
    __mmask16 need = flag & (__mmask16)~exact;
    if (__builtin_expect(need != 0, 0))
        return redo16(acc, w, x, prev, need);
    return acc;
}

/* tap_check8 on 16-lane vectors. */
AVX512_TARGET static __attribute__((noinline)) void tap_check16(__m512 *acc, const __m512 *prev, const float *wk,
                                                                const ptrdiff_t *xk, const float *xpix, int K,
                                                                int ocb, int pv)
{
    for (int o = 0; o < ocb; o++) {
        __m512 w = _mm512_set1_ps(wk[(size_t)o * K]);
        const float *xp = xpix + xk[(size_t)o * K];
        for (int v = 0; v < pv; v++)
            acc[o * pv + v] = check16(acc[o * pv + v], prev[o * pv + v], w, xp + 16 * v);
    }
}

/* block8 with 16-pixel vectors and ocb * pv = 16 chains in flight (32
 * registers: the 16 accumulators and the operands stay in them; the saved
 * accumulators go to memory, read only on a flagged tap). */
AVX512_TARGET static ALWAYS_INLINE void block16(float *out, size_t ostride, int nvalid, const float *xpix,
                                                const float *wabs, const ptrdiff_t *xoff, const float *b16, int K,
                                                const int ocb, const int pv)
{
    __m512 acc[16];
    for (int o = 0; o < ocb; o++)
        for (int v = 0; v < pv; v++)
            acc[o * pv + v] = _mm512_set1_ps(b16[o]);
    const __m512i kadd = _mm512_set1_epi32(KEY_SUB_ADD);
    for (int k = 0; k < K; k++) {
        __m512 save[16];
        __m512i km = _mm512_set1_epi32(INT32_MAX), ks = km;
        for (int o = 0; o < ocb; o++) {
            __m512 w = _mm512_set1_ps(wabs[(size_t)o * K + k]);
            const float *xp = xpix + xoff[(size_t)o * K + k];
            for (int v = 0; v < pv; v++) {
                int i = o * pv + v;
                save[i] = acc[i];
                __m512 s = _mm512_fmadd_ps(w, _mm512_loadu_ps(xp + 16 * v), acc[i]);
                __m512i si = _mm512_castps_si512(s);
                km = _mm512_min_epi32(km, _mm512_slli_epi32(si, 19));
                ks = _mm512_min_epi32(ks, _mm512_add_epi32(_mm512_add_epi32(si, si), kadd));
                acc[i] = _mm512_cvtph_ps(_mm512_cvtps_ph(s, RNE16));
            }
        }
        __mmask16 bad = _mm512_cmpeq_epi32_mask(km, _mm512_set1_epi32(INT32_MIN)) |
                        _mm512_cmplt_epi32_mask(ks, _mm512_set1_epi32(key_sub_below()));
        if (__builtin_expect(bad != 0, 0)) {
            __m512 t[16]; /* only this copy leaves the registers */
            for (int i = 0; i < ocb * pv; i++)
                t[i] = acc[i];
            tap_check16(t, save, wabs + k, xoff + k, xpix, K, ocb, pv);
            for (int i = 0; i < ocb * pv; i++)
                acc[i] = t[i];
        }
    }
    for (int v = 0; v < pv; v++) {
        int n = nvalid - 16 * v;
        __mmask16 lm = n >= 16 ? (__mmask16)0xFFFF : n > 0 ? (__mmask16)((1u << n) - 1u) : 0;
        for (int o = 0; o < ocb; o++)
            _mm512_mask_storeu_ps(out + (size_t)o * ostride + 16 * v, lm, acc[o * pv + v]);
    }
}

AVX512_TARGET static void group16(float *out, const float *xb, const float *wabs, const ptrdiff_t *xoff,
                                  const float *b16, lpnas_shape o, const lpnas_conv_params *p, const plan *pl, int n,
                                  int g)
{
    int og = pl->og, K = pl->K;
    size_t ostride = (size_t)o.h * o.w;
    for (int oc0 = 0; oc0 < og;) {
        int ocb = og - oc0 >= 4 ? 4 : og - oc0 >= 2 ? 2 : 1;
        const float *wa = wabs + (size_t)oc0 * K, *bb = b16 + oc0;
        const ptrdiff_t *xo = xoff + (size_t)oc0 * K;
        for (int oy = 0; oy < o.h; oy++) {
            float *orow = out + lpnas_shape_at(o, n, g * og + oc0, oy, 0);
            const float *xrow = xb + (size_t)oy * p->stride_h * pl->wr;
            for (int ox0 = 0; ox0 < o.w;) {
                int vecs = (o.w - ox0 + 15) / 16, pv = 16 / ocb;
                while (pv > vecs)
                    pv /= 2;
                float *d = orow + ox0;
                const float *xp = xrow + ox0;
                int nv = o.w - ox0;
                switch (ocb * 32 + pv) {
                case 4 * 32 + 4: block16(d, ostride, nv, xp, wa, xo, bb, K, 4, 4); break;
                case 4 * 32 + 2: block16(d, ostride, nv, xp, wa, xo, bb, K, 4, 2); break;
                case 4 * 32 + 1: block16(d, ostride, nv, xp, wa, xo, bb, K, 4, 1); break;
                case 2 * 32 + 8: block16(d, ostride, nv, xp, wa, xo, bb, K, 2, 8); break;
                case 2 * 32 + 4: block16(d, ostride, nv, xp, wa, xo, bb, K, 2, 4); break;
                case 2 * 32 + 2: block16(d, ostride, nv, xp, wa, xo, bb, K, 2, 2); break;
                case 2 * 32 + 1: block16(d, ostride, nv, xp, wa, xo, bb, K, 2, 1); break;
                case 1 * 32 + 16: block16(d, ostride, nv, xp, wa, xo, bb, K, 1, 16); break;
                case 1 * 32 + 8: block16(d, ostride, nv, xp, wa, xo, bb, K, 1, 8); break;
                case 1 * 32 + 4: block16(d, ostride, nv, xp, wa, xo, bb, K, 1, 4); break;
                case 1 * 32 + 2: block16(d, ostride, nv, xp, wa, xo, bb, K, 1, 2); break;
                default: block16(d, ostride, nv, xp, wa, xo, bb, K, 1, 1); break;
                }
                ox0 += 16 * pv;
            }
        }
        oc0 += ocb;
    }
}

/* ---- entry ------------------------------------------------------------------ */

bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              lpnas_shape o, const lpnas_conv_params *p, float *ws, bool wide)
{
    plan pl = plan_make(s, o, p);
    int G = pl.G, cg = pl.cg, og = pl.og, K = pl.K;
    ptrdiff_t *xoff = align64(ws);
    float *wabs = align64(xoff + pl.nwk), *bias16 = align64(wabs + pl.nwk);
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
            wabs[(size_t)oc * K + k] = fabsf(v);
            xoff[(size_t)oc * K + k] = (ptrdiff_t)(off + (signbit(v) ? pl.half : 0));
            sum += fabs((double)v);
        }
        double bv = f16v(bias ? bias[oc] : 0.0f);
        bias16[oc] = (float)bv;
        if (!(sum <= wsum_max))
            wsum_max = sum; /* NaN sticks */
        if (!(fabs(bv) <= bias_max))
            bias_max = fabs(bv);
    }
    for (int n = 0; n < s.n; n++)
        for (int g = 0; g < G; g++) {
            double xmax = convert_group(xb, in + lpnas_shape_at(s, n, g * cg, 0, 0), s, p, &pl);
            if (!chains_bounded(bias_max, xmax, wsum_max, K))
                return false;
            const float *wa = wabs + (size_t)g * og * K, *bb = bias16 + (size_t)g * og;
            const ptrdiff_t *xo = xoff + (size_t)g * og * K;
            if (wide)
                group16(out, xb, wa, xo, bb, o, p, &pl, n, g);
            else
                group8(out, xb, wa, xo, bb, o, p, &pl, n, g);
        }
    return true;
}
#else
bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              lpnas_shape o, const lpnas_conv_params *p, float *ws, bool wide)
{
    (void)out, (void)in, (void)weight, (void)bias, (void)s, (void)o, (void)p, (void)ws, (void)wide;
    return false;
}
#endif
