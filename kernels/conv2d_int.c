/* Integer conv (dense, grouped, depthwise): int32 accumulation of
 * (x - zp_in) * w exactly (|x - zp| <= 255, |w| <= 127: each product fits
 * 16 bits; a window of up to 2^15 products cannot leave int32), then the
 * policy's requantization per output channel. Loop order: one weight at a
 * time over a whole output plane, so the inner loop is a vectorizable
 * int32 multiply-add along a row. */
#include "kernels/int_ops.h"

void lpnas_conv2d_int_forward(int8_t *out, const int8_t *in, int32_t zp_in, const int8_t *w, const int32_t *bias,
                              const lpnas_rq *rq, lpnas_qrange r, lpnas_shape s, int out_c,
                              const lpnas_conv_params *p, int32_t *plane)
{
    int oh = (s.h + 2 * p->pad_h - p->dil_h * (p->kh - 1) - 1) / p->stride_h + 1;
    int ow = (s.w + 2 * p->pad_w - p->dil_w * (p->kw - 1) - 1) / p->stride_w + 1;
    int cpg = s.c / p->groups, opg = out_c / p->groups;
    size_t hw = (size_t)s.h * s.w, ohw = (size_t)oh * ow;
    for (int n = 0; n < s.n; n++)
        for (int oc = 0; oc < out_c; oc++) {
            int g = oc / opg;
            for (size_t k = 0; k < ohw; k++)
                plane[k] = bias ? bias[oc] : 0;
            for (int ci = 0; ci < cpg; ci++) {
                const int8_t *x = in + ((size_t)n * s.c + (size_t)g * cpg + ci) * hw;
                for (int ky = 0; ky < p->kh; ky++)
                    for (int kx = 0; kx < p->kw; kx++) {
                        int32_t wv = w[(((size_t)oc * cpg + ci) * p->kh + ky) * p->kw + kx];
                        if (wv == 0)
                            continue;
                        /* output columns whose tap lands inside the row */
                        int off = kx * p->dil_w - p->pad_w, x0 = 0, x1 = ow;
                        while (x0 < ow && x0 * p->stride_w + off < 0)
                            x0++;
                        while (x1 > x0 && (x1 - 1) * p->stride_w + off >= s.w)
                            x1--;
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                            if (iy < 0 || iy >= s.h)
                                continue;
                            const int8_t *row = x + (size_t)iy * s.w + off;
                            int32_t *acc = plane + (size_t)oy * ow;
                            if (p->stride_w == 1)
                                for (int ox = x0; ox < x1; ox++)
                                    acc[ox] += wv * ((int32_t)row[ox] - zp_in);
                            else
                                for (int ox = x0; ox < x1; ox++)
                                    acc[ox] += wv * ((int32_t)row[ox * p->stride_w] - zp_in);
                        }
                    }
            }
            int8_t *y = out + ((size_t)n * out_c + oc) * ohw;
            for (size_t k = 0; k < ohw; k++)
                y[k] = (int8_t)lpnas_rq_apply(&rq[oc], plane[k], r.zp, r.lo, r.hi);
        }
}
