/* Transposed convolution; see deconv2d.h. */
#include "kernels/deconv2d.h"

#include <string.h>

#include "base/error.h"
#include "kernels/blas.h"
#include "kernels/im2col.h"

lpnas_deconv_params lpnas_deconv_params_make(int k, int stride)
{
    lpnas_deconv_params p;
    p.conv = lpnas_conv_params_make(k, stride, 1);
    int pad = k >= stride ? (k - stride + 1) / 2 : 0;
    p.conv.pad_h = p.conv.pad_w = pad;
    /* OH = (H-1)*s - 2*pad + k + op = H*s  =>  op = s - k + 2*pad */
    int op = stride - k + 2 * pad;
    p.out_pad_h = p.out_pad_w = op > 0 ? op : 0;
    return p;
}

lpnas_status lpnas_deconv2d_check(lpnas_shape in, int out_c, const lpnas_deconv_params *p, lpnas_shape *out)
{
    const lpnas_conv_params *c = &p->conv;
    lpnas_status st = lpnas_shape_check(in, "deconv2d input");
    if (st)
        return st;
    if (out_c < 1 || out_c > (1 << 20))
        return lpnas_fail(LPNAS_ERR_ARG, "deconv2d: output channels %d (need 1..2^20)", out_c);
    if (c->kh < 1 || c->kw < 1 || c->kh > 1024 || c->kw > 1024 || c->stride_h < 1 || c->stride_w < 1 ||
        c->dil_h < 1 || c->dil_w < 1 || c->pad_h < 0 || c->pad_w < 0)
        return lpnas_fail(LPNAS_ERR_ARG, "deconv2d: kernel %dx%d, stride %dx%d, dilation %dx%d, padding %dx%d out of range",
                          c->kh, c->kw, c->stride_h, c->stride_w, c->dil_h, c->dil_w, c->pad_h, c->pad_w);
    if (p->out_pad_h < 0 || p->out_pad_w < 0 || p->out_pad_h >= c->stride_h || p->out_pad_w >= c->stride_w)
        return lpnas_fail(LPNAS_ERR_ARG, "deconv2d: output padding %dx%d must be in [0, stride)", p->out_pad_h,
                          p->out_pad_w);
    if (c->groups < 1 || in.c % c->groups || out_c % c->groups)
        return lpnas_fail(LPNAS_ERR_ARG, "deconv2d: groups %d must divide input channels %d and output channels %d",
                          c->groups, in.c, out_c);
    lpnas_shape o = {in.n, out_c,
                     (in.h - 1) * c->stride_h - 2 * c->pad_h + c->dil_h * (c->kh - 1) + p->out_pad_h + 1,
                     (in.w - 1) * c->stride_w - 2 * c->pad_w + c->dil_w * (c->kw - 1) + p->out_pad_w + 1};
    if (o.h < 1 || o.w < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "deconv2d: output %dx%d is empty (padding %dx%d too large)", o.h, o.w,
                          c->pad_h, c->pad_w);
    if ((st = lpnas_shape_check(o, "deconv2d output")))
        return st;
    if (out)
        *out = o;
    return LPNAS_OK;
}

size_t lpnas_deconv2d_workspace(lpnas_shape in, int out_c, const lpnas_deconv_params *p)
{
    if (lpnas_deconv2d_check(in, out_c, p, NULL))
        return 0;
    size_t K = (size_t)(out_c / p->conv.groups) * p->conv.kh * p->conv.kw;
    return K * (size_t)in.h * in.w; /* one column matrix */
}

static void bias_act(float *out, const float *bias, lpnas_shape o, lpnas_act act)
{
    size_t P = (size_t)o.h * o.w;
    for (int n = 0; n < o.n; n++)
        for (int c = 0; c < o.c; c++) {
            float *dst = out + lpnas_shape_at(o, n, c, 0, 0);
            if (bias)
                for (size_t i = 0; i < P; i++)
                    dst[i] += bias[c];
            lpnas_act_apply_array(act, dst, P);
        }
}

static void f16acc_forward(float *out, const float *in, const float *w, const float *bias, lpnas_shape s,
                           lpnas_shape o, const lpnas_deconv_params *p)
{
    const lpnas_conv_params *c = &p->conv;
    int cg = s.c / c->groups, og = o.c / c->groups;
    for (int n = 0; n < o.n; n++)
        for (int oc = 0; oc < o.c; oc++) {
            int g = oc / og, ol = oc % og;
            lpnas_f16 b = lpnas_f16_from_f32(bias ? bias[oc] : 0.0f, LPNAS_RNE, NULL);
            for (int oy = 0; oy < o.h; oy++)
                for (int ox = 0; ox < o.w; ox++) {
                    lpnas_f16 acc = b;
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < c->kh; ky++) {
                            int ty = oy + c->pad_h - ky * c->dil_h;
                            if (ty < 0 || ty % c->stride_h || ty / c->stride_h >= s.h)
                                continue;
                            for (int kx = 0; kx < c->kw; kx++) {
                                int tx = ox + c->pad_w - kx * c->dil_w;
                                if (tx < 0 || tx % c->stride_w || tx / c->stride_w >= s.w)
                                    continue;
                                int cin = g * cg + ci;
                                float x = in[lpnas_shape_at(s, n, cin, ty / c->stride_h, tx / c->stride_w)];
                                float wv = w[(((size_t)cin * og + ol) * c->kh + ky) * c->kw + kx];
                                acc = lpnas_f16_fma(lpnas_f16_from_f32(wv, LPNAS_RNE, NULL),
                                                    lpnas_f16_from_f32(x, LPNAS_RNE, NULL), acc, LPNAS_RNE, NULL);
                            }
                        }
                    out[lpnas_shape_at(o, n, oc, oy, ox)] = lpnas_f16_to_f32(acc);
                }
        }
}

void lpnas_deconv2d_forward(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                            int out_c, const lpnas_deconv_params *p, lpnas_act act, const lpnas_policy *policy,
                            float *ws)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_deconv2d_check(s, out_c, p, &o);
    if (!lpnas_policy_is_fp32(policy) && policy->accumulate == LPNAS_ACCUM_F16) {
        f16acc_forward(out, in, weight, bias, s, o, p);
    } else {
        const lpnas_conv_params *c = &p->conv;
        int G = c->groups, cg = s.c / G, og = out_c / G;
        int K = og * c->kh * c->kw, P = s.h * s.w;
        memset(out, 0, lpnas_shape_numel(o) * sizeof *out);
        for (int n = 0; n < s.n; n++)
            for (int g = 0; g < G; g++) {
                /* col[K x P] = W_g^T [K x cg] * in_g [cg x P]; W_g stored [cg][K] */
                lpnas_sgemm(true, false, K, P, cg, 1.0f, weight + (size_t)g * cg * K, K,
                            in + lpnas_shape_at(s, n, g * cg, 0, 0), P, 0.0f, ws, P);
                lpnas_col2im_add(out + lpnas_shape_at(o, n, g * og, 0, 0), ws, og, o.h, o.w, s.h, s.w, c);
            }
        bias_act(out, bias, o, LPNAS_KACT_NONE);
    }
    size_t P = (size_t)o.h * o.w;
    for (int n = 0; n < o.n; n++)
        for (int c2 = 0; c2 < o.c; c2++)
            lpnas_act_apply_array(act, out + lpnas_shape_at(o, n, c2, 0, 0), P);
    lpnas_policy_round(policy, out, lpnas_shape_numel(o));
}

void lpnas_deconv2d_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                             const float *weight, lpnas_shape s, int out_c, const lpnas_deconv_params *p,
                             const lpnas_policy *policy, float *ws)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_deconv2d_check(s, out_c, p, &o);
    const lpnas_conv_params *c = &p->conv;
    int G = c->groups, cg = s.c / G, og = out_c / G;
    int K = og * c->kh * c->kw, P = s.h * s.w;
    if (dbias)
        lpnas_bias_grad_add(dbias, dout, o);
    for (int n = 0; n < s.n; n++)
        for (int g = 0; g < G; g++) {
            /* col[K x P] = im2col of dout viewed as a conv input of og channels */
            lpnas_im2col(ws, dout + lpnas_shape_at(o, n, g * og, 0, 0), og, o.h, o.w, s.h, s.w, c);
            /* dW_g[cg x K] += in_g[cg x P] * col^T[P x K] */
            lpnas_sgemm(false, true, cg, K, P, 1.0f, in + lpnas_shape_at(s, n, g * cg, 0, 0), P, ws, P, 1.0f,
                        dweight + (size_t)g * cg * K, K);
            /* din_g[cg x P] += W_g[cg x K] * col[K x P] */
            if (din)
                lpnas_sgemm(false, false, cg, P, K, 1.0f, weight + (size_t)g * cg * K, K, ws, P, 1.0f,
                            din + lpnas_shape_at(s, n, g * cg, 0, 0), P);
        }
    if (din)
        lpnas_policy_round(policy, din, lpnas_shape_numel(s));
}

void lpnas_deconv2d_forward_ref(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                                int out_c, const lpnas_deconv_params *p)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_deconv2d_check(s, out_c, p, &o);
    const lpnas_conv_params *c = &p->conv;
    int cg = s.c / c->groups, og = out_c / c->groups;
    for (int n = 0; n < o.n; n++)
        for (int oc = 0; oc < out_c; oc++)
            for (size_t i = 0; i < (size_t)o.h * o.w; i++)
                out[lpnas_shape_at(o, n, oc, 0, 0) + i] = bias ? bias[oc] : 0.0f;
    for (int n = 0; n < s.n; n++)
        for (int ci = 0; ci < s.c; ci++) {
            int g = ci / cg;
            for (int iy = 0; iy < s.h; iy++)
                for (int ix = 0; ix < s.w; ix++) {
                    float x = in[lpnas_shape_at(s, n, ci, iy, ix)];
                    for (int ol = 0; ol < og; ol++)
                        for (int ky = 0; ky < c->kh; ky++)
                            for (int kx = 0; kx < c->kw; kx++) {
                                int oy = iy * c->stride_h - c->pad_h + ky * c->dil_h;
                                int ox = ix * c->stride_w - c->pad_w + kx * c->dil_w;
                                if (oy < 0 || oy >= o.h || ox < 0 || ox >= o.w)
                                    continue;
                                out[lpnas_shape_at(o, n, g * og + ol, oy, ox)] +=
                                    x * weight[(((size_t)ci * og + ol) * c->kh + ky) * c->kw + kx];
                            }
                }
        }
}
