/* FP32 depthwise conv (one input channel per output channel), forward and
 * backward, tap-major: for each tap (ky, kx) the output columns whose input
 * column is inside the image form one range [lo, hi), and the inner loops
 * run over it (contiguous when the stride is 1).
 *
 *   forward   out[oy][ox]  += k[tap] * in[iy][ix]        (an axpy per row)
 *   backward  din[iy][ix]  += k[tap] * dout[oy][ox]      (an axpy per row)
 *             dk[tap]      += sum dout[oy][ox] * in[iy][ix]
 *
 * The weight-gradient sum runs in 8 fixed partial sums (lane l takes the
 * columns lo + l, lo + l + 8, ...), added in a fixed order at the end of
 * each tap: the compiler can keep the partial sums in one vector register
 * without reassociating anything, and every code path gives the same bits.
 *
 * One body, compiled three times: the baseline (portable), with AVX2 and
 * with AVX-512 target attributes (per function, so the library still runs on
 * any x86-64); chosen by lpnas_cpu_isa(). -ffp-contract=off applies to all
 * three, so none fuses a multiply-add: the paths are bit-identical, and the
 * tests check it. */
#include "kernels/conv2d.h"

#include <string.h>

/* Valid output columns for input column ix = ox * stride + off, 0 <= ix < W. */
static inline __attribute__((always_inline)) void col_range(int off, int stride, int W, int OW, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = W - 1 - off < 0 ? 0 : (W - 1 - off) / stride + 1;
    *lo = l < OW ? l : OW;
    *hi = h < OW ? h : OW;
    if (*hi < *lo)
        *hi = *lo;
}

static inline __attribute__((always_inline)) void fwd_body(float *out, const float *in, const float *w, lpnas_shape s,
                                                          lpnas_shape o, const lpnas_conv_params *p)
{
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *plane = in + lpnas_shape_at(s, n, c, 0, 0);
            const float *k = w + (size_t)c * p->kh * p->kw;
            float *dst = out + lpnas_shape_at(o, n, c, 0, 0);
            memset(dst, 0, (size_t)o.h * o.w * sizeof *dst);
            for (int ky = 0; ky < p->kh; ky++)
                for (int kx = 0; kx < p->kw; kx++) {
                    float kv = k[ky * p->kw + kx];
                    int off = kx * p->dil_w - p->pad_w, lo, hi; /* ix = ox * stride + off */
                    col_range(off, p->stride_w, s.w, o.w, &lo, &hi);
                    for (int oy = 0; oy < o.h; oy++) {
                        int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                        if (iy < 0 || iy >= s.h)
                            continue;
                        const float *src = plane + (size_t)iy * s.w;
                        float *d = dst + (size_t)oy * o.w;
                        if (p->stride_w == 1)
                            for (int ox = lo; ox < hi; ox++)
                                d[ox] += kv * src[ox + off];
                        else
                            for (int ox = lo; ox < hi; ox++)
                                d[ox] += kv * src[ox * p->stride_w + off];
                    }
                }
        }
}

static inline __attribute__((always_inline)) void bwd_body(float *din, float *dw, const float *dout, const float *in,
                                                          const float *w, lpnas_shape s, lpnas_shape o,
                                                          const lpnas_conv_params *p)
{
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *plane = in + lpnas_shape_at(s, n, c, 0, 0);
            float *dplane = din ? din + lpnas_shape_at(s, n, c, 0, 0) : NULL;
            const float *k = w + (size_t)c * p->kh * p->kw;
            float *dk = dw + (size_t)c * p->kh * p->kw;
            const float *g = dout + lpnas_shape_at(o, n, c, 0, 0);
            for (int ky = 0; ky < p->kh; ky++)
                for (int kx = 0; kx < p->kw; kx++) {
                    float kv = k[ky * p->kw + kx];
                    int off = kx * p->dil_w - p->pad_w, lo, hi;
                    col_range(off, p->stride_w, s.w, o.w, &lo, &hi);
                    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                    float tail = 0;
                    for (int oy = 0; oy < o.h; oy++) {
                        int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                        if (iy < 0 || iy >= s.h)
                            continue;
                        const float *src = plane + (size_t)iy * s.w;
                        const float *gr = g + (size_t)oy * o.w;
                        int ox = lo;
                        if (p->stride_w == 1) {
                            for (; ox + 8 <= hi; ox += 8)
                                for (int l = 0; l < 8; l++)
                                    part[l] += gr[ox + l] * src[ox + l + off];
                            for (; ox < hi; ox++)
                                tail += gr[ox] * src[ox + off];
                            if (dplane) {
                                float *dr = dplane + (size_t)iy * s.w;
                                for (ox = lo; ox < hi; ox++)
                                    dr[ox + off] += gr[ox] * kv;
                            }
                        } else {
                            int st = p->stride_w;
                            for (; ox + 8 <= hi; ox += 8)
                                for (int l = 0; l < 8; l++)
                                    part[l] += gr[ox + l] * src[(ox + l) * st + off];
                            for (; ox < hi; ox++)
                                tail += gr[ox] * src[ox * st + off];
                            if (dplane) {
                                float *dr = dplane + (size_t)iy * s.w;
                                for (ox = lo; ox < hi; ox++)
                                    dr[ox * st + off] += gr[ox] * kv;
                            }
                        }
                    }
                    float sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
                    dk[ky * p->kw + kx] += sum + tail;
                }
        }
}

static void fwd_portable(float *out, const float *in, const float *w, lpnas_shape s, lpnas_shape o,
                         const lpnas_conv_params *p)
{
    fwd_body(out, in, w, s, o, p);
}

static void bwd_portable(float *din, float *dw, const float *dout, const float *in, const float *w, lpnas_shape s,
                         lpnas_shape o, const lpnas_conv_params *p)
{
    bwd_body(din, dw, dout, in, w, s, o, p);
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define HAVE_X86_PATHS 1
__attribute__((target("avx2,fma"))) static void fwd_avx2(float *out, const float *in, const float *w, lpnas_shape s,
                                                         lpnas_shape o, const lpnas_conv_params *p)
{
    fwd_body(out, in, w, s, o, p);
}

__attribute__((target("avx2,fma"))) static void bwd_avx2(float *din, float *dw, const float *dout, const float *in,
                                                         const float *w, lpnas_shape s, lpnas_shape o,
                                                         const lpnas_conv_params *p)
{
    bwd_body(din, dw, dout, in, w, s, o, p);
}

__attribute__((target("avx512f,avx2,fma"))) static void fwd_avx512(float *out, const float *in, const float *w,
                                                                   lpnas_shape s, lpnas_shape o,
                                                                   const lpnas_conv_params *p)
{
    fwd_body(out, in, w, s, o, p);
}

__attribute__((target("avx512f,avx2,fma"))) static void bwd_avx512(float *din, float *dw, const float *dout,
                                                                   const float *in, const float *w, lpnas_shape s,
                                                                   lpnas_shape o, const lpnas_conv_params *p)
{
    bwd_body(din, dw, dout, in, w, s, o, p);
}
#endif

void lpnas_conv2d_dw_forward_isa(float *out, const float *in, const float *w, lpnas_shape s, lpnas_shape o,
                                 const lpnas_conv_params *p, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa == LPNAS_ISA_AVX512) {
        fwd_avx512(out, in, w, s, o, p);
        return;
    }
    if (isa == LPNAS_ISA_AVX2) {
        fwd_avx2(out, in, w, s, o, p);
        return;
    }
#endif
    fwd_portable(out, in, w, s, o, p);
}

void lpnas_conv2d_dw_backward_isa(float *din, float *dw, const float *dout, const float *in, const float *w,
                                  lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa == LPNAS_ISA_AVX512) {
        bwd_avx512(din, dw, dout, in, w, s, o, p);
        return;
    }
    if (isa == LPNAS_ISA_AVX2) {
        bwd_avx2(din, dw, dout, in, w, s, o, p);
        return;
    }
#endif
    bwd_portable(din, dw, dout, in, w, s, o, p);
}
