/* Internal: upsampling by an integer factor s (decoder), forward and backward.
 *   nearest:  out[y][x] = in[y / s][x / s]
 *   bilinear: align_corners = false, exactly PyTorch's
 *             F.interpolate(scale_factor=s, mode="bilinear"): the source
 *             coordinate is (dst + 0.5) / s - 0.5, clamped below at 0; the
 *             upper neighbour index is clamped at size - 1.
 * Device policy: outputs (and din) rounded; the interpolation runs in fp32
 * (SHAVE stage on the device). */
#ifndef LPNAS_KERNELS_UPSAMPLE_H
#define LPNAS_KERNELS_UPSAMPLE_H

#include "fp16/policy.h"
#include "kernels/shape.h"

typedef enum { LPNAS_UPSAMPLE_NEAREST, LPNAS_UPSAMPLE_BILINEAR } lpnas_upsample_mode;

lpnas_status lpnas_upsample_check(lpnas_shape in, int factor, lpnas_shape *out);
void lpnas_upsample_forward(float *out, const float *in, lpnas_shape s, int factor, lpnas_upsample_mode mode,
                            const lpnas_policy *policy);
void lpnas_upsample_backward(float *din, const float *dout, lpnas_shape s, int factor, lpnas_upsample_mode mode,
                             const lpnas_policy *policy);

#endif
