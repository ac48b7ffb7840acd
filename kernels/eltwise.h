/* Internal: element-wise add of two tensors of one shape (residuals and
 * additive skips) and channel concatenation of two NCHW tensors (concat
 * skips; its backward is the split). Device policy: the sum is rounded;
 * concat moves device values and rounds nothing (free on the device). */
#ifndef LPNAS_KERNELS_ELTWISE_H
#define LPNAS_KERNELS_ELTWISE_H

#include "fp16/policy.h"
#include "kernels/shape.h"

void lpnas_add_forward(float *out, const float *a, const float *b, size_t n, const lpnas_policy *policy);
/* da and db may be NULL; adds dout into each */
void lpnas_add_backward(float *da, float *db, const float *dout, size_t n, const lpnas_policy *policy);

lpnas_status lpnas_concat_check(lpnas_shape a, lpnas_shape b, lpnas_shape *out);
void lpnas_concat_forward(float *out, const float *a, const float *b, lpnas_shape sa, lpnas_shape sb);
void lpnas_concat_backward(float *da, float *db, const float *dout, lpnas_shape sa, lpnas_shape sb);

#endif
