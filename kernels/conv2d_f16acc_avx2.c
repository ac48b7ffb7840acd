/* fp16-accumulate conv forward on AVX2 + FMA + F16C (no AVX-512 needed),
 * bit-exact with the sequential lpnas_f16_fma chain of conv2d.h.
 *
 * Each chain step is acc' = RN16(w*x + acc) with w, x, acc binary16 values.
 * In binary64 lanes:
 *   s = fma(w, x, acc): w*x is exact (11 x 11 bits), so the fma's single
 *     rounding is that of the binary64 sum, which is inexact only when the
 *     exact sum spans more than 53 bits. If the product holds the lowest
 *     bit (22 bits wide), acc must reach 2^31 times above it: the exact sum
 *     lies within 2^-31 of acc (a binary16 value, 2^-12 from the nearest
 *     midpoint), so it and s both round to acc. If acc holds the lowest bit
 *     (>= 2^-24, binary16's quantum), |w*x| >= 2^29: an overflow, which the
 *     bound below excludes. So RN16(s) is the correctly rounded fma.
 *   RN16(s) without leaving binary64: let 2^e = s with its fraction bits
 *     cleared (one AND), raised to 2^-14 when smaller (binary16's subnormal
 *     quantum is the normal one of 2^-14); M = 1.5 * 2^(e+42). s + M lies in
 *     [2^(e+42), 2^(e+43)) whose binary64 ulp is 2^(e-10) -- the binary16 ulp
 *     at s -- so the addition rounds s to binary16 precision, nearest-even
 *     (M is an even multiple of that ulp, so even-ness carries over), and
 *     (s + M) - M is exact. The sign of s is OR-ed back: a negative s that
 *     rounds to zero is -0 in binary16 (and (x + M) - M gives +0).
 *   Overflow is not modelled (65520 would become 65536, not inf): before the
 *     loop, a bound |bias| + max|x| * sum|w| grown by (1 + 2^-11) per step
 *     (the largest relative rounding up) plus 2^-25 per step (subnormal
 *     rounding) must stay below 65504 for every output channel, or the call
 *     returns false and the caller takes the scalar chain. NaN or inf in the
 *     input or weights fail the bound the same way.
 * The binary64 add uses the current rounding mode: the library runs in the
 * default nearest-even mode like all its FP32 kernels (MXCSR is never
 * changed by liblpnas).
 *
 * Dense and grouped convs: 4 output channels per vector (8 in the AVX-512F
 * variant, dense512; the same operations on wider registers), one
 * broadcast x and one packed weight vector per tap, PIX output pixels in
 * flight so the
 * 6-operation dependent chain per step overlaps. Depthwise: 4 adjacent
 * output pixels per vector (stride 1 loads are contiguous), 4 vectors in
 * flight; border pixels take the scalar chain. */
#include "kernels/conv2d.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define PIX 8
#define DW_VEC 8

static inline uint16_t h_of(float v)
{
    return lpnas_f16_from_f32(v, LPNAS_RNE, NULL).bits;
}

static inline double d_of(float v)
{
    return (double)lpnas_f16_to_f32((lpnas_f16){h_of(v)});
}

/* The partial sums of every chain stay below 65504 (see the top comment). */
static bool chains_bounded(double bias_abs, double xmax, double wsum, int K)
{
    double grow = pow(1.0 + 0x1p-11, (double)K);
    double bound = ((bias_abs + xmax * wsum) * grow + (double)K * 0x1p-24) * 1.001;
    return bound < 65504.0; /* false for NaN too */
}

/* Align a workspace pointer up to 32 bytes (the caller reserves 8 spare floats). */
static double *ws_align(float *ws)
{
    uintptr_t u = ((uintptr_t)ws + 31u) & ~(uintptr_t)31u;
    return (double *)(void *)u;
}

/* Input values rounded to binary16 (nearest-even, as lpnas_f16_from_f32),
 * widened to binary64; returns max |x| (NaN if any NaN). */
AVX2_TARGET static double convert_input(double *dst, const float *src, size_t n)
{
    __m256 mx = _mm256_setzero_ps(), nan_seen = _mm256_setzero_ps();
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(src + i);
        __m256 h = _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256 a = _mm256_and_ps(h, absmask);
        nan_seen = _mm256_or_ps(nan_seen, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
        mx = _mm256_max_ps(mx, a);
        _mm256_storeu_pd(dst + i, _mm256_cvtps_pd(_mm256_castps256_ps128(h)));
        _mm256_storeu_pd(dst + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(h, 1)));
    }
    float lanes[8], nans[8];
    _mm256_storeu_ps(lanes, mx);
    _mm256_storeu_ps(nans, nan_seen);
    double m = 0;
    for (int l = 0; l < 8; l++) {
        if (nans[l] != 0.0f || lanes[l] != lanes[l])
            return NAN;
        if (lanes[l] > m)
            m = lanes[l];
    }
    for (; i < n; i++) {
        dst[i] = d_of(src[i]);
        double a = fabs(dst[i]);
        if (a != a)
            return NAN;
        if (a > m)
            m = a;
    }
    return m;
}

typedef struct {
    __m256i expmask, min_e, magic;
    __m256d signmask;
} r16_consts;

AVX2_TARGET static inline r16_consts r16_make(void)
{
    r16_consts c;
    c.expmask = _mm256_set1_epi64x(0x7FF0000000000000LL);
    c.min_e = _mm256_set1_epi64x(0x3F10000000000000LL); /* 2^-14 */
    /* + 42 in the exponent field and the top fraction bit: 2^e -> 1.5 * 2^(e+42) */
    c.magic = _mm256_set1_epi64x((42LL << 52) | (1LL << 51));
    c.signmask = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)0x8000000000000000ULL));
    return c;
}

/* One chain step: RN16(w*x + acc), see the top comment. M is built in the
 * integer domain (1-cycle operations keep the dependent chain short): the
 * exponent field of s, raised to that of 2^-14 (a signed 32-bit max on the
 * high halves; the low halves are zero), plus 42 and the top fraction bit. */
AVX2_TARGET static inline __m256d step16(__m256d w, __m256d x, __m256d acc, const r16_consts *c)
{
    __m256d s = _mm256_fmadd_pd(w, x, acc);
    __m256i e = _mm256_max_epi32(_mm256_and_si256(_mm256_castpd_si256(s), c->expmask), c->min_e);
    __m256d m = _mm256_castsi256_pd(_mm256_add_epi64(e, c->magic));
    __m256d r = _mm256_sub_pd(_mm256_add_pd(s, m), m);
    return _mm256_or_pd(r, _mm256_and_pd(s, c->signmask));
}

/* npix output pixels from (oy, ox0) for 4 output channels from oc0. npix
 * and inside are constants at each call, so acc[] lives in registers;
 * inside: every tap column of every pixel is in the image (no checks). */
AVX2_TARGET static inline __attribute__((always_inline)) void
dense_px(float *out, const double *xin, const double *wg, __m256d b, lpnas_shape s, lpnas_shape o,
         const lpnas_conv_params *p, int n, int oc, int lanes, int ogp, int oy, int ox0, const int npix,
         const bool inside, const r16_consts *c)
{
    int cg = s.c / p->groups;
    size_t plane = (size_t)s.h * s.w;
    __m256d acc[PIX];
    for (int j = 0; j < npix; j++)
        acc[j] = b;
    int k = 0;
    for (int ci = 0; ci < cg; ci++) {
        const double *pl = xin + (size_t)ci * plane;
        for (int ky = 0; ky < p->kh; ky++) {
            int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
            if (iy < 0 || iy >= s.h) {
                k += p->kw;
                continue;
            }
            const double *row = pl + (size_t)iy * s.w;
            for (int kx = 0; kx < p->kw; kx++, k++) {
                __m256d w = _mm256_load_pd(wg + (size_t)k * ogp);
                int ix0 = ox0 * p->stride_w - p->pad_w + kx * p->dil_w;
                for (int j = 0; j < npix; j++) {
                    int ix = ix0 + j * p->stride_w;
                    if (inside || (ix >= 0 && ix < s.w))
                        acc[j] = step16(w, _mm256_broadcast_sd(row + ix), acc[j], c);
                }
            }
        }
    }
    for (int j = 0; j < npix; j++) {
        double tmp[4];
        _mm256_storeu_pd(tmp, acc[j]);
        for (int l = 0; l < lanes; l++) /* exact: binary16 values */
            out[lpnas_shape_at(o, n, oc + l, oy, ox0 + j)] = (float)tmp[l];
    }
}

/* Dense/grouped: packed [g][k][ogp] binary16 weights as doubles, ogp = og
 * rounded up to 4 (zero lanes are computed and dropped); bias16 [g][ogp]. */
AVX2_TARGET static void dense(float *out, const double *xin, const double *packed, const double *bias16,
                              lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p, int n, int g)
{
    int G = p->groups, cg = s.c / G, og = o.c / G;
    int K = cg * p->kh * p->kw, ogp = (og + 3) & ~3;
    const double *wg = packed + (size_t)g * K * ogp;
    r16_consts c = r16_make();
    /* output columns whose every tap column is inside the image */
    int xa = (p->pad_w + p->stride_w - 1) / p->stride_w;
    int last = s.w - 1 + p->pad_w - (p->kw - 1) * p->dil_w;
    int xb = last < 0 ? 0 : last / p->stride_w + 1;
    if (xb > o.w)
        xb = o.w;
    for (int oc0 = 0; oc0 < og; oc0 += 4) {
        int lanes = og - oc0 < 4 ? og - oc0 : 4, oc = g * og + oc0;
        __m256d b = _mm256_loadu_pd(bias16 + (size_t)g * ogp + oc0);
        for (int oy = 0; oy < o.h; oy++) {
            int ox0 = 0;
            for (; ox0 + PIX <= o.w; ox0 += PIX) {
                if (ox0 >= xa && ox0 + PIX <= xb)
                    dense_px(out, xin, wg + oc0, b, s, o, p, n, oc, lanes, ogp, oy, ox0, PIX, true, &c);
                else
                    dense_px(out, xin, wg + oc0, b, s, o, p, n, oc, lanes, ogp, oy, ox0, PIX, false, &c);
            }
            for (; ox0 < o.w; ox0++)
                dense_px(out, xin, wg + oc0, b, s, o, p, n, oc, lanes, ogp, oy, ox0, 1, false, &c);
        }
    }
}

/* ---- the same dense kernel with 8 binary64 lanes (AVX-512F) ---------- */

#define AVX512_TARGET __attribute__((target("avx512f,avx2,fma,f16c")))

/* step16 on 8 lanes: the same operations (AVX-512F has no double-precision
 * AND/OR without DQ; the integer forms are the same bits). */
AVX512_TARGET static inline __m512d step16_512(__m512d w, __m512d x, __m512d acc)
{
    const __m512i expmask = _mm512_set1_epi64(0x7FF0000000000000LL), min_e = _mm512_set1_epi64(0x3F10000000000000LL);
    const __m512i magic = _mm512_set1_epi64((42LL << 52) | (1LL << 51));
    const __m512i signmask = _mm512_set1_epi64((long long)0x8000000000000000ULL);
    __m512d s = _mm512_fmadd_pd(w, x, acc);
    __m512i si = _mm512_castpd_si512(s);
    __m512i e = _mm512_max_epi32(_mm512_and_si512(si, expmask), min_e);
    __m512d m = _mm512_castsi512_pd(_mm512_add_epi64(e, magic));
    __m512d r = _mm512_sub_pd(_mm512_add_pd(s, m), m);
    return _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(r), _mm512_and_si512(si, signmask)));
}

AVX512_TARGET static inline __attribute__((always_inline)) void
dense_px512(float *out, const double *xin, const double *wg, __m512d b, __mmask8 lm, lpnas_shape s, lpnas_shape o,
            const lpnas_conv_params *p, int n, int oc, int lanes, int ogp, int oy, int ox0, const int npix,
            const bool inside)
{
    int cg = s.c / p->groups;
    size_t plane = (size_t)s.h * s.w;
    __m512d acc[PIX];
    for (int j = 0; j < npix; j++)
        acc[j] = b;
    int k = 0;
    for (int ci = 0; ci < cg; ci++) {
        const double *pl = xin + (size_t)ci * plane;
        for (int ky = 0; ky < p->kh; ky++) {
            int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
            if (iy < 0 || iy >= s.h) {
                k += p->kw;
                continue;
            }
            const double *row = pl + (size_t)iy * s.w;
            for (int kx = 0; kx < p->kw; kx++, k++) {
                __m512d w = _mm512_maskz_loadu_pd(lm, wg + (size_t)k * ogp);
                int ix0 = ox0 * p->stride_w - p->pad_w + kx * p->dil_w;
                for (int j = 0; j < npix; j++) {
                    int ix = ix0 + j * p->stride_w;
                    if (inside || (ix >= 0 && ix < s.w))
                        acc[j] = step16_512(w, _mm512_set1_pd(row[ix]), acc[j]);
                }
            }
        }
    }
    for (int j = 0; j < npix; j++) {
        double tmp[8];
        _mm512_storeu_pd(tmp, acc[j]);
        for (int l = 0; l < lanes; l++) /* exact: binary16 values */
            out[lpnas_shape_at(o, n, oc + l, oy, ox0 + j)] = (float)tmp[l];
    }
}

/* 8 output channels per vector; the [g][k][ogp] packing (ogp a multiple of
 * 4) is read with a lane mask where fewer than 8 remain. */
AVX512_TARGET static void dense512(float *out, const double *xin, const double *packed, const double *bias16,
                                   lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p, int n, int g)
{
    int G = p->groups, cg = s.c / G, og = o.c / G;
    int K = cg * p->kh * p->kw, ogp = (og + 3) & ~3;
    const double *wg = packed + (size_t)g * K * ogp;
    int xa = (p->pad_w + p->stride_w - 1) / p->stride_w;
    int last = s.w - 1 + p->pad_w - (p->kw - 1) * p->dil_w;
    int xb = last < 0 ? 0 : last / p->stride_w + 1;
    if (xb > o.w)
        xb = o.w;
    for (int oc0 = 0; oc0 < og; oc0 += 8) {
        int lanes = og - oc0 < 8 ? og - oc0 : 8, oc = g * og + oc0;
        int avail = ogp - oc0 < 8 ? ogp - oc0 : 8; /* packed lanes that exist (zero beyond og) */
        __mmask8 lm = (__mmask8)((1u << avail) - 1u);
        __m512d b = _mm512_maskz_loadu_pd(lm, bias16 + (size_t)g * ogp + oc0);
        for (int oy = 0; oy < o.h; oy++) {
            int ox0 = 0;
            for (; ox0 + PIX <= o.w; ox0 += PIX) {
                if (ox0 >= xa && ox0 + PIX <= xb)
                    dense_px512(out, xin, wg + oc0, b, lm, s, o, p, n, oc, lanes, ogp, oy, ox0, PIX, true);
                else
                    dense_px512(out, xin, wg + oc0, b, lm, s, o, p, n, oc, lanes, ogp, oy, ox0, PIX, false);
            }
            for (; ox0 < o.w; ox0++)
                dense_px512(out, xin, wg + oc0, b, lm, s, o, p, n, oc, lanes, ogp, oy, ox0, 1, false);
        }
    }
}

AVX2_TARGET static inline __m256d dw_load(const double *row, int ix, int stride)
{
    if (stride == 1)
        return _mm256_loadu_pd(row + ix);
    return _mm256_set_pd(row[ix + 3 * stride], row[ix + 2 * stride], row[ix + stride], row[ix]);
}

/* nv vectors (4 nv output pixels from ox) whose every tap is inside the
 * image; nv is a constant at each call, so acc[] lives in registers. */
AVX2_TARGET static inline __attribute__((always_inline)) void dw_block(float *d, const double *pl, const double *k16,
                                                                      __m256d b, lpnas_shape s,
                                                                      const lpnas_conv_params *p, int oy, int ox,
                                                                      const int nv, const r16_consts *c)
{
    __m256d acc[DW_VEC];
    int sw = p->stride_w;
    for (int v = 0; v < nv; v++)
        acc[v] = b;
    for (int ky = 0; ky < p->kh; ky++) {
        int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
        if (iy < 0 || iy >= s.h)
            continue;
        const double *row = pl + (size_t)iy * s.w;
        for (int kx = 0; kx < p->kw; kx++) {
            __m256d w = _mm256_broadcast_sd(k16 + ky * p->kw + kx);
            int ix = ox * sw - p->pad_w + kx * p->dil_w;
            for (int v = 0; v < nv; v++)
                acc[v] = step16(w, dw_load(row, ix + 4 * v * sw, sw), acc[v], c);
        }
    }
    for (int v = 0; v < nv; v++)
        _mm_storeu_ps(d + ox + 4 * v, _mm256_cvtpd_ps(acc[v])); /* exact: binary16 values */
}

/* 4 pixels at a border or the row's end: a lane whose tap lies in the
 * padding (or past the row) keeps its acc -- the tap is skipped, as in the
 * chain -- by a blend. */
AVX2_TARGET static void dw_edge(float *d, const double *pl, const double *k16, __m256d b, lpnas_shape s,
                                lpnas_shape o, const lpnas_conv_params *p, int oy, int ox, const r16_consts *c)
{
    /* per tap column: which lanes are inside, and a column to read for
     * each lane (clamped into the row: the blend discards it) */
    int ixs[32][4]; /* kw <= 32: checked by the caller */
    __m256d mask[32];
    for (int kx = 0; kx < p->kw; kx++) {
        long long m[4];
        for (int l = 0; l < 4; l++) {
            int ix = (ox + l) * p->stride_w - p->pad_w + kx * p->dil_w;
            bool ok = ox + l < o.w && ix >= 0 && ix < s.w;
            m[l] = ok ? -1 : 0;
            ixs[kx][l] = ok ? ix : 0;
        }
        mask[kx] = _mm256_castsi256_pd(_mm256_set_epi64x(m[3], m[2], m[1], m[0]));
    }
    __m256d acc = b;
    for (int ky = 0; ky < p->kh; ky++) {
        int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
        if (iy < 0 || iy >= s.h)
            continue;
        const double *row = pl + (size_t)iy * s.w;
        for (int kx = 0; kx < p->kw; kx++) {
            const int *ix = ixs[kx];
            __m256d x = _mm256_set_pd(row[ix[3]], row[ix[2]], row[ix[1]], row[ix[0]]);
            __m256d nw = step16(_mm256_broadcast_sd(k16 + ky * p->kw + kx), x, acc, c);
            acc = _mm256_blendv_pd(acc, nw, mask[kx]);
        }
    }
    double t[4];
    _mm256_storeu_pd(t, acc);
    for (int l = 0; l < 4 && ox + l < o.w; l++)
        d[ox + l] = (float)t[l];
}

/* Depthwise channel ch of image n: pixel lanes. */
AVX2_TARGET static void depthwise(float *out, const double *pl, const double *k16, double b16, lpnas_shape s,
                                  lpnas_shape o, const lpnas_conv_params *p, int n, int ch)
{
    r16_consts c = r16_make();
    float *dst = out + lpnas_shape_at(o, n, ch, 0, 0);
    int sw = p->stride_w;
    /* output columns whose every tap column is inside the image */
    int xa = (p->pad_w + sw - 1) / sw;
    int last = s.w - 1 + p->pad_w - (p->kw - 1) * p->dil_w;
    int xb = last < 0 ? 0 : last / sw + 1;
    if (xb > o.w)
        xb = o.w;
    __m256d b = _mm256_set1_pd(b16);
    for (int oy = 0; oy < o.h; oy++) {
        float *d = dst + (size_t)oy * o.w;
        for (int ox = 0; ox < o.w;) {
            int nv = ox >= xa ? (xb - ox) / 4 : 0;
            if (nv >= 8) {
                dw_block(d, pl, k16, b, s, p, oy, ox, 8, &c);
                ox += 32;
            } else if (nv >= 4) {
                dw_block(d, pl, k16, b, s, p, oy, ox, 4, &c);
                ox += 16;
            } else if (nv >= 1) {
                dw_block(d, pl, k16, b, s, p, oy, ox, 1, &c);
                ox += 4;
            } else {
                dw_edge(d, pl, k16, b, s, o, p, oy, ox, &c);
                ox += 4;
            }
        }
    }
}

size_t lpnas_conv2d_f16acc_avx2_workspace(lpnas_shape in, lpnas_shape o, const lpnas_conv_params *p)
{
    int G = p->groups, cg = in.c / G, og = o.c / G;
    size_t K = (size_t)cg * p->kh * p->kw, ogp = (size_t)((og + 3) & ~3);
    /* doubles: packed weights and biases, one group's input planes; floats: x2, +8 to align */
    return 2 * ((K + 1) * (size_t)G * ogp + (size_t)cg * in.h * in.w) + 8;
}

bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              lpnas_shape o, const lpnas_conv_params *p, float *ws, bool wide)
{
    int G = p->groups, cg = s.c / G, og = o.c / G;
    int K = cg * p->kh * p->kw, ogp = (og + 3) & ~3;
    size_t plane = (size_t)s.h * s.w;
    double *packed = ws_align(ws), *bias16 = packed + (size_t)G * K * ogp, *xin = bias16 + (size_t)G * ogp;
    bool dw = G == s.c && o.c == s.c;
    memset(packed, 0, ((size_t)G * K * ogp + (size_t)G * ogp) * sizeof *packed);
    /* one bound for all channels (the largest sum |w| and |b|): conservative */
    double wsum_max = 0, bias_max = 0;
    for (int oc = 0; oc < o.c; oc++) {
        int g = oc / og, ol = oc % og;
        double sum = 0;
        for (int k = 0; k < K; k++) {
            double v = d_of(weight[(size_t)oc * K + k]);
            packed[((size_t)g * K + k) * ogp + ol] = v;
            sum += fabs(v);
        }
        double bv = d_of(bias ? bias[oc] : 0.0f);
        bias16[(size_t)g * ogp + ol] = bv;
        if (!(sum <= wsum_max))
            wsum_max = sum; /* NaN sticks */
        if (!(fabs(bv) <= bias_max))
            bias_max = fabs(bv);
    }
    for (int n = 0; n < s.n; n++)
        for (int g = 0; g < G; g++) {
            double xmax = convert_input(xin, in + lpnas_shape_at(s, n, g * cg, 0, 0), (size_t)cg * plane);
            if (!chains_bounded(bias_max, xmax, wsum_max, K))
                return false;
            if (dw) {
                /* depthwise weights of channel g: packed[g][k][0] with stride ogp */
                double k16[1024];
                if (K > 1024 || p->kw > 32) /* kernels above 32x32: the scalar chain */
                    return false;
                for (int k = 0; k < K; k++)
                    k16[k] = packed[((size_t)g * K + k) * ogp];
                depthwise(out, xin, k16, bias16[(size_t)g * ogp], s, o, p, n, g);
            } else {
                if (wide)
                    dense512(out, xin, packed, bias16, s, o, p, n, g);
                else
                    dense(out, xin, packed, bias16, s, o, p, n, g);
            }
        }
    return true;
}
#else
size_t lpnas_conv2d_f16acc_avx2_workspace(lpnas_shape in, lpnas_shape o, const lpnas_conv_params *p)
{
    (void)in, (void)o, (void)p;
    return 0;
}

bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              lpnas_shape o, const lpnas_conv_params *p, float *ws, bool wide)
{
    (void)out, (void)in, (void)weight, (void)bias, (void)s, (void)o, (void)p, (void)ws, (void)wide;
    return false;
}
#endif
