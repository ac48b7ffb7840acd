/* Internal: max pooling, average pooling (k x k, stride, padding) and global
 * average pooling, forward and backward.
 *   max: padding never wins (-inf); backward routes the gradient to the
 *        first maximum in scan order (ky, kx), recorded in `argmax` [out numel].
 *   avg: count_include_pad = false: the divisor is the number of taps inside
 *        the image (PyTorch's AvgPool2d(count_include_pad=False)).
 * Device policy: outputs (and din) rounded by the policy. Averages are summed
 * in fp32 under every policy: the device runs pooling on its SHAVE vector
 * cores, not on the NCE, so the fp16-accumulate assumption does not apply. */
#ifndef LPNAS_KERNELS_POOL_H
#define LPNAS_KERNELS_POOL_H

#include <stdint.h>

#include "fp16/policy.h"
#include "kernels/shape.h"

typedef struct {
    int k, stride, pad;
} lpnas_pool_params;

lpnas_status lpnas_pool_check(lpnas_shape in, const lpnas_pool_params *p, lpnas_shape *out);

void lpnas_maxpool_forward(float *out, int32_t *argmax, const float *in, lpnas_shape s, const lpnas_pool_params *p,
                           const lpnas_policy *policy);
void lpnas_maxpool_backward(float *din, const float *dout, const int32_t *argmax, lpnas_shape s,
                            const lpnas_pool_params *p, const lpnas_policy *policy);
void lpnas_avgpool_forward(float *out, const float *in, lpnas_shape s, const lpnas_pool_params *p,
                           const lpnas_policy *policy);
void lpnas_avgpool_backward(float *din, const float *dout, lpnas_shape s, const lpnas_pool_params *p,
                            const lpnas_policy *policy);
/* out [N][C] */
void lpnas_global_avgpool_forward(float *out, const float *in, lpnas_shape s, const lpnas_policy *policy);
void lpnas_global_avgpool_backward(float *din, const float *dout, lpnas_shape s, const lpnas_policy *policy);

#endif
