/* Internal: transposed 2-D convolution (the decoder's learned stride-2
 * upsampling), the adjoint of conv2d with the same parameters.
 *
 *   in     [N][C][H][W]
 *   weight [C][OC/groups][KH][KW]        (PyTorch ConvTranspose2d layout)
 *   out    [N][OC][OH][OW],  OH = (H-1)*stride_h - 2*pad_h + dil_h*(KH-1) + out_pad_h + 1
 *   out[n][oc][iy*sh - ph + ky*dh][ix*sw - pw + kx*dw] += in[n][ci][iy][ix] * w[ci][oc_g][ky][kx]
 *
 * Paths: FP32 = GEMM (W^T x in) + col2im; fp32-accumulate policy = FP32 +
 * rounding of each output; fp16-accumulate policy: for each output, acc =
 * bias (binary16), then for ci, ky, kx in that order, over the taps whose
 * input position is integral and inside the image, acc = fma(w, x, acc)
 * in binary16 -- a gather loop (it is also the reference). Backward: din =
 * conv2d forward of dout, dweight and dbias in fp32; din rounded by the
 * policy as in conv2d. */
#ifndef LPNAS_KERNELS_DECONV2D_H
#define LPNAS_KERNELS_DECONV2D_H

#include "kernels/conv2d.h"

typedef struct {
    lpnas_conv_params conv; /* kernel, stride, padding, dilation, groups */
    int out_pad_h, out_pad_w;
} lpnas_deconv_params;

/* k x k, stride s, padding (k - s) / 2, output padding so that OH = H * s when k >= s. */
lpnas_deconv_params lpnas_deconv_params_make(int k, int stride);

lpnas_status lpnas_deconv2d_check(lpnas_shape in, int out_c, const lpnas_deconv_params *p, lpnas_shape *out);
size_t lpnas_deconv2d_workspace(lpnas_shape in, int out_c, const lpnas_deconv_params *p);

void lpnas_deconv2d_forward(float *out, const float *in, const float *weight, const float *bias, lpnas_shape in_shape,
                            int out_c, const lpnas_deconv_params *p, lpnas_act act, const lpnas_policy *policy,
                            float *workspace);
void lpnas_deconv2d_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                             const float *weight, lpnas_shape in_shape, int out_c, const lpnas_deconv_params *p,
                             const lpnas_policy *policy, float *workspace);
/* Plain scatter loops in fp32 (tests). */
void lpnas_deconv2d_forward_ref(float *out, const float *in, const float *weight, const float *bias,
                                lpnas_shape in_shape, int out_c, const lpnas_deconv_params *p);

#endif
