/* Internal: the column matrix of a convolution and its adjoint.
 * col[(ci*KH + ky)*KW + kx][oy*OW + ox] = in[ci][oy*sh - ph + ky*dh][ox*sw - pw + kx*dw], 0 in the padding.
 * in is one image of C channels, H x W; (OH, OW) the conv output size. */
#ifndef LPNAS_KERNELS_IM2COL_H
#define LPNAS_KERNELS_IM2COL_H

#include "kernels/conv2d.h"

void lpnas_im2col(float *col, const float *in, int C, int H, int W, int OH, int OW, const lpnas_conv_params *p);
/* in[ci][iy][ix] += col[...] for every tap that lands inside the image */
void lpnas_col2im_add(float *in, const float *col, int C, int H, int W, int OH, int OW, const lpnas_conv_params *p);

#endif
