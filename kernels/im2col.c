/* im2col and its adjoint, shared by conv2d and deconv2d. */
#include "kernels/im2col.h"

#include <string.h>

/* col[(ci*KH + ky)*KW + kx][oy*OW + ox] = in[ci][iy][ix] (0 in the padding) */
void lpnas_im2col(float *col, const float *in, int C, int H, int W, int OH, int OW, const lpnas_conv_params *p)
{
    size_t P = (size_t)OH * OW;
    for (int ci = 0; ci < C; ci++)
        for (int ky = 0; ky < p->kh; ky++)
            for (int kx = 0; kx < p->kw; kx++) {
                float *row = col + ((size_t)(ci * p->kh + ky) * p->kw + kx) * P;
                const float *plane = in + (size_t)ci * H * W;
                for (int oy = 0; oy < OH; oy++) {
                    int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                    float *r = row + (size_t)oy * OW;
                    if (iy < 0 || iy >= H) {
                        memset(r, 0, (size_t)OW * sizeof *r);
                        continue;
                    }
                    const float *src = plane + (size_t)iy * W;
                    int ix0 = -p->pad_w + kx * p->dil_w;
                    if (p->stride_w == 1 && ix0 >= 0 && ix0 + OW <= W) {
                        memcpy(r, src + ix0, (size_t)OW * sizeof *r);
                        continue;
                    }
                    for (int ox = 0; ox < OW; ox++) {
                        int ix = ox * p->stride_w + ix0;
                        r[ox] = (ix >= 0 && ix < W) ? src[ix] : 0.0f;
                    }
                }
            }
}

/* The adjoint of im2col: din[ci][iy][ix] += col[...][...] */
void lpnas_col2im_add(float *din, const float *col, int C, int H, int W, int OH, int OW,
                       const lpnas_conv_params *p)
{
    size_t P = (size_t)OH * OW;
    for (int ci = 0; ci < C; ci++)
        for (int ky = 0; ky < p->kh; ky++)
            for (int kx = 0; kx < p->kw; kx++) {
                const float *row = col + ((size_t)(ci * p->kh + ky) * p->kw + kx) * P;
                float *plane = din + (size_t)ci * H * W;
                for (int oy = 0; oy < OH; oy++) {
                    int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                    if (iy < 0 || iy >= H)
                        continue;
                    float *dst = plane + (size_t)iy * W;
                    const float *r = row + (size_t)oy * OW;
                    for (int ox = 0; ox < OW; ox++) {
                        int ix = ox * p->stride_w - p->pad_w + kx * p->dil_w;
                        if (ix >= 0 && ix < W)
                            dst[ix] += r[ox];
                    }
                }
            }
}

