/* 2-D convolution: FP32 path (im2col + sgemm; depthwise in
 * conv2d_depthwise.c, 3x3 stride 1 and 2 in conv2d_direct3x3.c), the
 * fp32-accumulate device path, reference loops.
 * The fp16-accumulate path is in conv2d_f16acc.c. See conv2d.h. */
#include "kernels/conv2d.h"

#include <string.h>

#include "base/error.h"
#include "kernels/blas.h"
#include "kernels/im2col.h"

lpnas_conv_params lpnas_conv_params_make(int k, int stride, int groups)
{
    lpnas_conv_params p = {k, k, stride, stride, (k - 1) / 2, (k - 1) / 2, 1, 1, groups};
    return p;
}

static int out_dim(int in, int k, int stride, int pad, int dil)
{
    return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

lpnas_status lpnas_conv2d_check(lpnas_shape in, int out_c, const lpnas_conv_params *p, lpnas_shape *out)
{
    lpnas_status st = lpnas_shape_check(in, "conv2d input");
    if (st)
        return st;
    if (out_c < 1 || out_c > (1 << 20))
        return lpnas_fail(LPNAS_ERR_ARG, "conv2d: output channels %d (need 1..2^20)", out_c);
    if (p->kh < 1 || p->kw < 1 || p->kh > 1024 || p->kw > 1024)
        return lpnas_fail(LPNAS_ERR_ARG, "conv2d: kernel %dx%d (need 1..1024)", p->kh, p->kw);
    if (p->stride_h < 1 || p->stride_w < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "conv2d: stride %dx%d (need >= 1)", p->stride_h, p->stride_w);
    if (p->pad_h < 0 || p->pad_w < 0)
        return lpnas_fail(LPNAS_ERR_ARG, "conv2d: padding %dx%d (need >= 0)", p->pad_h, p->pad_w);
    if (p->dil_h < 1 || p->dil_w < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "conv2d: dilation %dx%d (need >= 1)", p->dil_h, p->dil_w);
    if (p->groups < 1 || in.c % p->groups || out_c % p->groups)
        return lpnas_fail(LPNAS_ERR_ARG, "conv2d: groups %d must divide input channels %d and output channels %d",
                          p->groups, in.c, out_c);
    int eh = p->dil_h * (p->kh - 1) + 1, ew = p->dil_w * (p->kw - 1) + 1;
    if (eh > in.h + 2 * p->pad_h || ew > in.w + 2 * p->pad_w)
        return lpnas_fail(LPNAS_ERR_ARG, "conv2d: kernel extent %dx%d larger than the padded input %dx%d", eh, ew,
                          in.h + 2 * p->pad_h, in.w + 2 * p->pad_w);
    lpnas_shape o = {in.n, out_c, out_dim(in.h, p->kh, p->stride_h, p->pad_h, p->dil_h),
                     out_dim(in.w, p->kw, p->stride_w, p->pad_w, p->dil_w)};
    if ((st = lpnas_shape_check(o, "conv2d output")))
        return st;
    if (out)
        *out = o;
    return LPNAS_OK;
}

static bool is_depthwise(lpnas_shape in, int out_c, const lpnas_conv_params *p)
{
    return p->groups == in.c && out_c == in.c;
}

static bool is_plain_1x1(const lpnas_conv_params *p)
{
    return p->kh == 1 && p->kw == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0;
}

size_t lpnas_conv2d_workspace(lpnas_shape in, int out_c, const lpnas_conv_params *p)
{
    lpnas_shape o = {0, 0, 0, 0};
    if (lpnas_conv2d_check(in, out_c, p, &o))
        return 0;
    size_t cg = (size_t)(in.c / p->groups);
    size_t K = cg * (size_t)p->kh * (size_t)p->kw, P = (size_t)o.h * (size_t)o.w;
    size_t gemm = is_depthwise(in, out_c, p) ? 0 : 2 * K * P; /* col + dcol */
    size_t f16acc = lpnas_conv2d_f16acc_avx2_workspace(in, o, p); /* packed weights, biases, inputs */
    size_t direct = lpnas_conv2d_direct3x3_applies(in, out_c, p) ? lpnas_conv2d_direct3x3_workspace(in, out_c, p->stride_h) : 0;
    size_t m = gemm > f16acc ? gemm : f16acc;
    return m > direct ? m : direct;
}

static void bias_act_round(float *out, const float *bias, lpnas_shape o, lpnas_act act, const lpnas_policy *policy)
{
    size_t P = (size_t)o.h * o.w;
    for (int n = 0; n < o.n; n++)
        for (int c = 0; c < o.c; c++) {
            float *dst = out + lpnas_shape_at(o, n, c, 0, 0);
            float b = bias ? bias[c] : 0.0f;
            if (bias)
                for (size_t i = 0; i < P; i++)
                    dst[i] += b;
            lpnas_act_apply_array(act, dst, P);
        }
    lpnas_policy_round(policy, out, lpnas_shape_numel(o));
}

void lpnas_conv2d_forward(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                          int out_c, const lpnas_conv_params *p, lpnas_act act, const lpnas_policy *policy,
                          float *ws)
{
    if (!lpnas_policy_is_fp32(policy) && policy->accumulate == LPNAS_ACCUM_F16) {
        lpnas_conv2d_forward_f16acc(out, in, weight, bias, s, out_c, p, act, policy, ws);
        return;
    }
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_conv2d_check(s, out_c, p, &o);
    if (is_depthwise(s, out_c, p)) {
        lpnas_conv2d_dw_forward_isa(out, in, weight, s, o, p, lpnas_cpu_isa());
    } else if (lpnas_conv2d_direct3x3_applies(s, out_c, p)) {
        lpnas_conv2d_direct3x3_forward_isa(out, in, weight, s, out_c, p->stride_h, ws, lpnas_cpu_isa());
    } else {
        int G = p->groups, cg = s.c / G, og = out_c / G;
        int K = cg * p->kh * p->kw, P = o.h * o.w;
        for (int n = 0; n < s.n; n++)
            for (int g = 0; g < G; g++) {
                const float *src = in + lpnas_shape_at(s, n, g * cg, 0, 0);
                const float *B = src;
                if (!is_plain_1x1(p)) {
                    lpnas_im2col(ws, src, cg, s.h, s.w, o.h, o.w, p);
                    B = ws;
                }
                lpnas_sgemm(false, false, og, P, K, 1.0f, weight + (size_t)g * og * K, K, B, P, 0.0f,
                            out + lpnas_shape_at(o, n, g * og, 0, 0), P);
            }
    }
    bias_act_round(out, bias, o, act, policy);
}

void lpnas_conv2d_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                           const float *weight, lpnas_shape s, int out_c, const lpnas_conv_params *p,
                           const lpnas_policy *policy, float *ws)
{
    lpnas_conv2d_backward_to(din, true, dweight, dbias, dout, in, weight, s, out_c, p, policy, ws);
}

void lpnas_conv2d_backward_to(float *din, bool accumulate, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, lpnas_shape s, int out_c,
                              const lpnas_conv_params *p, const lpnas_policy *policy, float *ws)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_conv2d_check(s, out_c, p, &o);
    size_t P = (size_t)o.h * o.w;
    if (dbias)
        lpnas_bias_grad_add(dbias, dout, o);
    bool depthwise = is_depthwise(s, out_c, p);
    bool direct = !depthwise && lpnas_conv2d_direct3x3_applies(s, out_c, p);
    if (din && !accumulate && !direct) /* the other paths add into din */
        memset(din, 0, lpnas_shape_numel(s) * sizeof *din);
    if (depthwise) {
        lpnas_conv2d_dw_backward_isa(din, dweight, dout, in, weight, s, o, p, lpnas_cpu_isa());
    } else if (direct) {
        lpnas_conv2d_direct3x3_backward_isa(din, accumulate, dweight, dout, in, weight, s, out_c, p->stride_h, ws,
                                            lpnas_cpu_isa());
    } else {
        int G = p->groups, cg = s.c / G, og = out_c / G;
        int K = cg * p->kh * p->kw;
        bool plain = is_plain_1x1(p);
        float *col = ws, *dcol = ws + (size_t)K * P;
        for (int n = 0; n < s.n; n++)
            for (int g = 0; g < G; g++) {
                const float *src = in + lpnas_shape_at(s, n, g * cg, 0, 0);
                const float *gout = dout + lpnas_shape_at(o, n, g * og, 0, 0);
                const float *B = src;
                if (!plain) {
                    lpnas_im2col(col, src, cg, s.h, s.w, o.h, o.w, p);
                    B = col;
                }
                /* dW[og x K] += dout[og x P] * col^T[P x K] */
                lpnas_sgemm(false, true, og, K, (int)P, 1.0f, gout, (int)P, B, (int)P, 1.0f,
                            dweight + (size_t)g * og * K, K);
                if (!din)
                    continue;
                float *dsrc = din + lpnas_shape_at(s, n, g * cg, 0, 0);
                if (plain) { /* din[K x P] += W^T[K x og] * dout[og x P] */
                    lpnas_sgemm(true, false, K, (int)P, og, 1.0f, weight + (size_t)g * og * K, K, gout, (int)P, 1.0f,
                                dsrc, (int)P);
                } else {
                    lpnas_sgemm(true, false, K, (int)P, og, 1.0f, weight + (size_t)g * og * K, K, gout, (int)P, 0.0f,
                                dcol, (int)P);
                    lpnas_col2im_add(dsrc, dcol, cg, s.h, s.w, o.h, o.w, p);
                }
            }
    }
    if (din)
        lpnas_policy_round(policy, din, lpnas_shape_numel(s));
}

/* ---- reference loops ------------------------------------------------- */

void lpnas_conv2d_forward_ref(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                              int out_c, const lpnas_conv_params *p, lpnas_act act, const lpnas_policy *policy)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_conv2d_check(s, out_c, p, &o);
    bool f16acc = !lpnas_policy_is_fp32(policy) && policy->accumulate == LPNAS_ACCUM_F16;
    int cg = s.c / p->groups, og = out_c / p->groups;
    for (int n = 0; n < s.n; n++)
        for (int oc = 0; oc < out_c; oc++) {
            int g = oc / og;
            for (int oy = 0; oy < o.h; oy++)
                for (int ox = 0; ox < o.w; ox++) {
                    float acc = 0;
                    lpnas_f16 h = lpnas_f16_from_f32(bias ? bias[oc] : 0.0f, LPNAS_RNE, NULL);
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < p->kh; ky++)
                            for (int kx = 0; kx < p->kw; kx++) {
                                int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                                int ix = ox * p->stride_w - p->pad_w + kx * p->dil_w;
                                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w)
                                    continue;
                                float x = in[lpnas_shape_at(s, n, g * cg + ci, iy, ix)];
                                float w = weight[(((size_t)oc * cg + ci) * p->kh + ky) * p->kw + kx];
                                if (f16acc)
                                    h = lpnas_f16_fma(lpnas_f16_from_f32(w, LPNAS_RNE, NULL),
                                                      lpnas_f16_from_f32(x, LPNAS_RNE, NULL), h, LPNAS_RNE, NULL);
                                else
                                    acc += w * x;
                            }
                    float v = f16acc ? lpnas_f16_to_f32(h) : acc + (bias ? bias[oc] : 0.0f);
                    out[lpnas_shape_at(o, n, oc, oy, ox)] = lpnas_act_apply(act, v);
                }
        }
    lpnas_policy_round(policy, out, lpnas_shape_numel(o));
}

void lpnas_conv2d_backward_ref(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                               const float *weight, lpnas_shape s, int out_c, const lpnas_conv_params *p)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_conv2d_check(s, out_c, p, &o);
    int cg = s.c / p->groups, og = out_c / p->groups;
    for (int n = 0; n < s.n; n++)
        for (int oc = 0; oc < out_c; oc++) {
            int g = oc / og;
            for (int oy = 0; oy < o.h; oy++)
                for (int ox = 0; ox < o.w; ox++) {
                    float go = dout[lpnas_shape_at(o, n, oc, oy, ox)];
                    if (dbias)
                        dbias[oc] += go;
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < p->kh; ky++)
                            for (int kx = 0; kx < p->kw; kx++) {
                                int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                                int ix = ox * p->stride_w - p->pad_w + kx * p->dil_w;
                                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w)
                                    continue;
                                size_t xi = lpnas_shape_at(s, n, g * cg + ci, iy, ix);
                                size_t wi = (((size_t)oc * cg + ci) * p->kh + ky) * p->kw + kx;
                                dweight[wi] += go * in[xi];
                                if (din)
                                    din[xi] += go * weight[wi];
                            }
                }
        }
}
