/* im2col and its adjoint, shared by conv2d and deconv2d. For each tap
 * (ci, ky, kx) and output row, the output columns whose input column lies
 * inside the image form one range [lo, hi): copied (or added) in one tight
 * loop, contiguous when the stride is 1; the columns outside are padding. */
#include "kernels/im2col.h"

#include <string.h>

/* Valid output columns for input column ix = ox * stride + off, 0 <= ix < W. */
static void col_range(int off, int stride, int W, int OW, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = W - 1 - off < 0 ? 0 : (W - 1 - off) / stride + 1;
    *lo = l < OW ? l : OW;
    *hi = h < OW ? h : OW;
    if (*hi < *lo)
        *hi = *lo;
}

void lpnas_im2col(float *col, const float *in, int C, int H, int W, int OH, int OW, const lpnas_conv_params *p)
{
    size_t P = (size_t)OH * OW;
    for (int ci = 0; ci < C; ci++)
        for (int ky = 0; ky < p->kh; ky++)
            for (int kx = 0; kx < p->kw; kx++) {
                float *row = col + ((size_t)(ci * p->kh + ky) * p->kw + kx) * P;
                const float *plane = in + (size_t)ci * H * W;
                int off = kx * p->dil_w - p->pad_w, lo, hi;
                col_range(off, p->stride_w, W, OW, &lo, &hi);
                for (int oy = 0; oy < OH; oy++) {
                    int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                    float *r = row + (size_t)oy * OW;
                    if (iy < 0 || iy >= H) {
                        memset(r, 0, (size_t)OW * sizeof *r);
                        continue;
                    }
                    const float *src = plane + (size_t)iy * W;
                    for (int ox = 0; ox < lo; ox++)
                        r[ox] = 0.0f;
                    if (p->stride_w == 1)
                        memcpy(r + lo, src + lo + off, (size_t)(hi - lo) * sizeof *r);
                    else
                        for (int ox = lo; ox < hi; ox++)
                            r[ox] = src[ox * p->stride_w + off];
                    for (int ox = hi; ox < OW; ox++)
                        r[ox] = 0.0f;
                }
            }
}

void lpnas_col2im_add(float *din, const float *col, int C, int H, int W, int OH, int OW, const lpnas_conv_params *p)
{
    size_t P = (size_t)OH * OW;
    for (int ci = 0; ci < C; ci++)
        for (int ky = 0; ky < p->kh; ky++)
            for (int kx = 0; kx < p->kw; kx++) {
                const float *row = col + ((size_t)(ci * p->kh + ky) * p->kw + kx) * P;
                float *plane = din + (size_t)ci * H * W;
                int off = kx * p->dil_w - p->pad_w, lo, hi;
                col_range(off, p->stride_w, W, OW, &lo, &hi);
                for (int oy = 0; oy < OH; oy++) {
                    int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                    if (iy < 0 || iy >= H)
                        continue;
                    float *dst = plane + (size_t)iy * W;
                    const float *r = row + (size_t)oy * OW;
                    if (p->stride_w == 1)
                        for (int ox = lo; ox < hi; ox++)
                            dst[ox + off] += r[ox];
                    else
                        for (int ox = lo; ox < hi; ox++)
                            dst[ox * p->stride_w + off] += r[ox];
                }
            }
}
