/* Conv forward with every partial sum rounded to binary16 (the
 * myriadx-fp16acc policy), bit-exact with a sequential loop of
 * lpnas_f16_fma in the order of conv2d.h: bias, then ci, ky, kx.
 *
 * Fast path (AVX-512F): 8 output channels at once, one double lane each.
 * Per tap: p = w*x is exact in binary64 (11 x 11 bits); s = p + acc in
 * binary64 nearest-even. Rounding s to binary16 gives the correctly rounded
 * fma: s is inexact only when one term is below 2^-29 of the other (53-bit
 * span); if |p| is the small one, the exact sum lies within that sliver of
 * acc (a binary16 value, never a midpoint) and both round to acc; if |acc|
 * is the small one, |p| >= 2^17 and both overflow. s is then rounded to
 * binary16 by way of round-to-odd binary32 (convert toward zero, set the
 * last bit if inexact: 24 >= 11 + 2 bits, so the second rounding is exact)
 * and VCVTPS2PH in nearest-even. All roundings are explicit in the
 * instructions, so MXCSR plays no part. AVX2 CPUs (and depthwise convs
 * and fewer than 4 channels per group on AVX-512 ones) take the binary64
 * path of conv2d_f16acc_avx2.c; other CPUs, and chains that could
 * overflow, the scalar lpnas_f16_fma loop. The path follows lpnas_cpu_isa()
 * (LPNAS_ISA caps it); every path gives the same bits. */
#include "kernels/conv2d.h"

#include <string.h>

#include "fp16/f16_array.h"

static inline uint16_t h_of(float v)
{
    return lpnas_f16_from_f32(v, LPNAS_RNE, NULL).bits;
}

static void scalar_path(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                        lpnas_shape o, const lpnas_conv_params *p)
{
    int cg = s.c / p->groups, og = o.c / p->groups;
    for (int n = 0; n < s.n; n++)
        for (int oc = 0; oc < o.c; oc++) {
            int g = oc / og;
            const float *wk = weight + (size_t)oc * cg * p->kh * p->kw;
            lpnas_f16 b = {h_of(bias ? bias[oc] : 0.0f)};
            for (int oy = 0; oy < o.h; oy++)
                for (int ox = 0; ox < o.w; ox++) {
                    lpnas_f16 acc = b;
                    for (int ci = 0; ci < cg; ci++) {
                        const float *plane = in + lpnas_shape_at(s, n, g * cg + ci, 0, 0);
                        for (int ky = 0; ky < p->kh; ky++) {
                            int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                            if (iy < 0 || iy >= s.h)
                                continue;
                            for (int kx = 0; kx < p->kw; kx++) {
                                int ix = ox * p->stride_w - p->pad_w + kx * p->dil_w;
                                if (ix < 0 || ix >= s.w)
                                    continue;
                                lpnas_f16 w = {h_of(wk[(ci * p->kh + ky) * p->kw + kx])};
                                lpnas_f16 x = {h_of(plane[(size_t)iy * s.w + ix])};
                                acc = lpnas_f16_fma(w, x, acc, LPNAS_RNE, NULL);
                            }
                        }
                    }
                    out[lpnas_shape_at(o, n, oc, oy, ox)] = lpnas_f16_to_f32(acc);
                }
        }
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_PATH 1
#define PIX 6

__attribute__((target("avx512f,avx2,f16c"))) static inline __m512d round16(__m512d s)
{
    __m256 f = _mm512_cvt_roundpd_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512d back = _mm512_cvtps_pd(f);
    __mmask8 inexact = _mm512_cmp_pd_mask(back, s, _CMP_NEQ_UQ);
    /* set the last bit where inexact (a 512-bit masked OR: AVX-512F only, no VL) */
    __m512i fz = _mm512_castsi256_si512(_mm256_castps_si256(f));
    fz = _mm512_mask_or_epi32(fz, (__mmask16)inexact, fz, _mm512_set1_epi32(1));
    __m256 fo = _mm256_castsi256_ps(_mm512_castsi512_si256(fz));
    __m128i h = _mm256_cvtps_ph(fo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_cvtps_pd(_mm256_cvtph_ps(h));
}

/* packed: per group, [K][ogp] weights as binary16 values (floats), ogp =
 * og rounded up to 8 with zero padding; bias16: [G][ogp]; xbuf: one
 * group's input planes rounded to binary16 (as the chain's x). */
__attribute__((target("avx512f,avx2,f16c"))) static void avx512_path(float *out, const float *in,
                                                                     const float *packed, const float *bias16,
                                                                     float *xbuf, lpnas_shape s, lpnas_shape o,
                                                                     const lpnas_conv_params *p)
{
    int G = p->groups, cg = s.c / G, og = o.c / G;
    int K = cg * p->kh * p->kw, ogp = (og + 7) & ~7;
    size_t gsize = (size_t)cg * s.h * s.w;
    for (int n = 0; n < s.n; n++)
        for (int g = 0; g < G; g++) {
            const float *wg = packed + (size_t)g * K * ogp;
            const float *src = in + lpnas_shape_at(s, n, g * cg, 0, 0);
            for (size_t i = 0; i < gsize; i++)
                xbuf[i] = lpnas_f16_to_f32((lpnas_f16){h_of(src[i])});
            for (int oc0 = 0; oc0 < og; oc0 += 8) {
                int lanes = og - oc0 < 8 ? og - oc0 : 8;
                __m512d b = _mm512_cvtps_pd(_mm256_loadu_ps(bias16 + (size_t)g * ogp + oc0));
                for (int oy = 0; oy < o.h; oy++)
                    /* PIX output pixels at once: independent rounding chains
                     * overlap in the pipeline (one chain is latency-bound) */
                    for (int ox0 = 0; ox0 < o.w; ox0 += PIX) {
                        int npix = o.w - ox0 < PIX ? o.w - ox0 : PIX;
                        __m512d acc[PIX];
                        for (int j = 0; j < PIX; j++)
                            acc[j] = b;
                        int k = 0;
                        for (int ci = 0; ci < cg; ci++) {
                            const float *plane = xbuf + (size_t)ci * s.h * s.w;
                            for (int ky = 0; ky < p->kh; ky++) {
                                int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                                if (iy < 0 || iy >= s.h) {
                                    k += p->kw;
                                    continue;
                                }
                                const float *row = plane + (size_t)iy * s.w;
                                for (int kx = 0; kx < p->kw; kx++, k++) {
                                    __m512d w = _mm512_cvtps_pd(_mm256_loadu_ps(wg + (size_t)k * ogp + oc0));
                                    for (int j = 0; j < PIX; j++) {
                                        int ix = (ox0 + j) * p->stride_w - p->pad_w + kx * p->dil_w;
                                        if (j >= npix || ix < 0 || ix >= s.w)
                                            continue;
                                        __m512d x = _mm512_set1_pd((double)row[ix]);
                                        __m512d sum = _mm512_add_round_pd(_mm512_mul_pd(w, x), acc[j],
                                                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                                        acc[j] = round16(sum);
                                    }
                                }
                            }
                        }
                        for (int j = 0; j < npix; j++) {
                            float tmp[8];
                            _mm256_storeu_ps(tmp, _mm512_cvtpd_ps(acc[j])); /* exact: binary16 values */
                            for (int l = 0; l < lanes; l++)
                                out[lpnas_shape_at(o, n, g * og + oc0 + l, oy, ox0 + j)] = tmp[l];
                        }
                    }
            }
        }
}
#endif

void lpnas_conv2d_forward_f16acc_isa(float *out, const float *in, const float *weight, const float *bias,
                                     lpnas_shape s, int out_c, const lpnas_conv_params *p, lpnas_act act,
                                     const lpnas_policy *policy, float *ws, lpnas_isa isa)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_conv2d_check(s, out_c, p, &o);
    int G = p->groups, cg = s.c / G, og = out_c / G;
    int K = cg * p->kh * p->kw;
    bool done = false;
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_AVX512_PATH
    if (og >= 4 && isa >= LPNAS_ISA_AVX512) {
        /* pack: weights to binary16 values, [g][k][ogp] zero-padded; biases after */
        int ogp = (og + 7) & ~7;
        float *packed = ws, *bias16 = ws + (size_t)G * K * ogp;
        memset(ws, 0, ((size_t)G * K * ogp + (size_t)G * ogp) * sizeof *ws);
        for (int oc = 0; oc < out_c; oc++) {
            int g = oc / og, ol = oc % og;
            for (int k = 0; k < K; k++)
                packed[((size_t)g * K + k) * ogp + ol] = lpnas_f16_to_f32((lpnas_f16){h_of(weight[(size_t)oc * K + k])});
            bias16[(size_t)g * ogp + ol] = lpnas_f16_to_f32((lpnas_f16){h_of(bias ? bias[oc] : 0.0f)});
        }
        avx512_path(out, in, packed, bias16, bias16 + (size_t)G * ogp, s, o, p);
        done = true;
    }
#endif
    if (!done && isa >= LPNAS_ISA_AVX2)
        done = lpnas_conv2d_f16acc_avx2(out, in, weight, bias, s, o, p, ws);
    if (!done)
        scalar_path(out, in, weight, bias, s, o, p);
    size_t P = (size_t)o.h * o.w;
    for (int n = 0; n < o.n; n++)
        for (int c = 0; c < o.c; c++)
            lpnas_act_apply_array(act, out + lpnas_shape_at(o, n, c, 0, 0), P);
    lpnas_policy_round(policy, out, lpnas_shape_numel(o)); /* flush rule; values are already binary16 */
}

void lpnas_conv2d_forward_f16acc(float *out, const float *in, const float *weight, const float *bias,
                                 lpnas_shape s, int out_c, const lpnas_conv_params *p, lpnas_act act,
                                 const lpnas_policy *policy, float *ws)
{
    lpnas_conv2d_forward_f16acc_isa(out, in, weight, bias, s, out_c, p, act, policy, ws, lpnas_cpu_isa());
}
