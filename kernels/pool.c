#include "kernels/pool.h"

#include <math.h>

#include "base/error.h"

lpnas_status lpnas_pool_check(lpnas_shape in, const lpnas_pool_params *p, lpnas_shape *out)
{
    lpnas_status st = lpnas_shape_check(in, "pool input");
    if (st)
        return st;
    if (p->k < 1 || p->stride < 1 || p->pad < 0)
        return lpnas_fail(LPNAS_ERR_ARG, "pool: kernel %d, stride %d, padding %d (need k, stride >= 1, padding >= 0)",
                          p->k, p->stride, p->pad);
    if (p->pad * 2 > p->k)
        return lpnas_fail(LPNAS_ERR_ARG, "pool: padding %d more than half the kernel %d", p->pad, p->k);
    if (p->k > in.h + 2 * p->pad || p->k > in.w + 2 * p->pad)
        return lpnas_fail(LPNAS_ERR_ARG, "pool: kernel %d larger than the padded input %dx%d", p->k,
                          in.h + 2 * p->pad, in.w + 2 * p->pad);
    lpnas_shape o = {in.n, in.c, (in.h + 2 * p->pad - p->k) / p->stride + 1, (in.w + 2 * p->pad - p->k) / p->stride + 1};
    if (out)
        *out = o;
    return LPNAS_OK;
}

static lpnas_shape out_shape(lpnas_shape s, const lpnas_pool_params *p)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_pool_check(s, p, &o);
    return o;
}

void lpnas_maxpool_forward(float *out, int32_t *argmax, const float *in, lpnas_shape s, const lpnas_pool_params *p,
                           const lpnas_policy *policy)
{
    lpnas_shape o = out_shape(s, p);
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *plane = in + lpnas_shape_at(s, n, c, 0, 0);
            for (int oy = 0; oy < o.h; oy++)
                for (int ox = 0; ox < o.w; ox++) {
                    float best = -INFINITY;
                    int32_t at = -1;
                    for (int ky = 0; ky < p->k; ky++) {
                        int iy = oy * p->stride - p->pad + ky;
                        if (iy < 0 || iy >= s.h)
                            continue;
                        for (int kx = 0; kx < p->k; kx++) {
                            int ix = ox * p->stride - p->pad + kx;
                            if (ix < 0 || ix >= s.w)
                                continue;
                            float v = plane[(size_t)iy * s.w + ix];
                            /* first maximum wins ties; a NaN wins and stays (it propagates) */
                            if (at < 0 || v > best || (v != v && best == best)) {
                                best = v;
                                at = iy * s.w + ix;
                            }
                        }
                    }
                    size_t oi = lpnas_shape_at(o, n, c, oy, ox);
                    out[oi] = best;
                    argmax[oi] = at;
                }
        }
    lpnas_policy_round(policy, out, lpnas_shape_numel(o));
}

void lpnas_maxpool_backward(float *din, const float *dout, const int32_t *argmax, lpnas_shape s,
                            const lpnas_pool_params *p, const lpnas_policy *policy)
{
    lpnas_shape o = out_shape(s, p);
    size_t P = (size_t)o.h * o.w;
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            float *dplane = din + lpnas_shape_at(s, n, c, 0, 0);
            size_t base = lpnas_shape_at(o, n, c, 0, 0);
            for (size_t i = 0; i < P; i++)
                if (argmax[base + i] >= 0)
                    dplane[argmax[base + i]] += dout[base + i];
        }
    lpnas_policy_round(policy, din, lpnas_shape_numel(s));
}

/* taps of output (oy, ox) inside the image: [y0, y1) x [x0, x1) */
static void window(const lpnas_pool_params *p, lpnas_shape s, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
    *y0 = oy * p->stride - p->pad;
    *x0 = ox * p->stride - p->pad;
    *y1 = *y0 + p->k < s.h ? *y0 + p->k : s.h;
    *x1 = *x0 + p->k < s.w ? *x0 + p->k : s.w;
    if (*y0 < 0)
        *y0 = 0;
    if (*x0 < 0)
        *x0 = 0;
}

void lpnas_avgpool_forward(float *out, const float *in, lpnas_shape s, const lpnas_pool_params *p,
                           const lpnas_policy *policy)
{
    lpnas_shape o = out_shape(s, p);
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *plane = in + lpnas_shape_at(s, n, c, 0, 0);
            for (int oy = 0; oy < o.h; oy++)
                for (int ox = 0; ox < o.w; ox++) {
                    int y0, y1, x0, x1;
                    window(p, s, oy, ox, &y0, &y1, &x0, &x1);
                    float acc = 0;
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++)
                            acc += plane[(size_t)y * s.w + x];
                    int cnt = (y1 - y0) * (x1 - x0);
                    out[lpnas_shape_at(o, n, c, oy, ox)] = cnt > 0 ? acc / (float)cnt : 0.0f;
                }
        }
    lpnas_policy_round(policy, out, lpnas_shape_numel(o));
}

void lpnas_avgpool_backward(float *din, const float *dout, lpnas_shape s, const lpnas_pool_params *p,
                            const lpnas_policy *policy)
{
    lpnas_shape o = out_shape(s, p);
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            float *dplane = din + lpnas_shape_at(s, n, c, 0, 0);
            for (int oy = 0; oy < o.h; oy++)
                for (int ox = 0; ox < o.w; ox++) {
                    int y0, y1, x0, x1;
                    window(p, s, oy, ox, &y0, &y1, &x0, &x1);
                    int cnt = (y1 - y0) * (x1 - x0);
                    if (cnt <= 0)
                        continue;
                    float g = dout[lpnas_shape_at(o, n, c, oy, ox)] / (float)cnt;
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++)
                            dplane[(size_t)y * s.w + x] += g;
                }
        }
    lpnas_policy_round(policy, din, lpnas_shape_numel(s));
}

void lpnas_global_avgpool_forward(float *out, const float *in, lpnas_shape s, const lpnas_policy *policy)
{
    size_t P = (size_t)s.h * s.w;
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            double acc = 0;
            for (size_t i = 0; i < P; i++)
                acc += x[i];
            out[(size_t)n * s.c + c] = (float)(acc / (double)P);
        }
    lpnas_policy_round(policy, out, (size_t)s.n * s.c);
}

void lpnas_global_avgpool_backward(float *din, const float *dout, lpnas_shape s, const lpnas_policy *policy)
{
    size_t P = (size_t)s.h * s.w;
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            float g = dout[(size_t)n * s.c + c] / (float)P;
            float *dx = din + lpnas_shape_at(s, n, c, 0, 0);
            for (size_t i = 0; i < P; i++)
                dx[i] += g;
        }
    lpnas_policy_round(policy, din, lpnas_shape_numel(s));
}
