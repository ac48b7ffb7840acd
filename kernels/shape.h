/* Internal: the small shape struct every kernel takes. Tensors are raw
 * float buffers in NCHW order (batch, channel, row, column), contiguous.
 *
 * Kernel conventions (llm.c style, shared by every file in kernels/):
 *   - forward(out, in..., weights..., params, policy): outputs first.
 *   - backward(din, dweight..., dout, in..., params, policy): gradients are
 *     ADDED into din/dweight (callers zero them), so branches compose.
 *   - policy NULL or "fp32": the FP32 path. Otherwise the device path of
 *     that policy (DESIGN §4.3): outputs rounded by lpnas_policy_round after
 *     the fused activation; dot products accumulated per policy->accumulate;
 *     activation gradients rounded at the op boundary; weight gradients fp32.
 *   - Shapes are validated by a *_check() function returning lpnas_status
 *     with a message naming the bad value; the compute functions assume
 *     checked shapes and never allocate unless documented (workspace sizes
 *     are queryable so networks plan memory once).
 */
#ifndef LPNAS_KERNELS_SHAPE_H
#define LPNAS_KERNELS_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "lpnas/core.h"

typedef struct {
    int n, c, h, w;
} lpnas_shape;

static inline size_t lpnas_shape_numel(lpnas_shape s)
{
    return (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

/* Index of (n, c, y, x) in an NCHW buffer of shape s. */
static inline size_t lpnas_shape_at(lpnas_shape s, int n, int c, int y, int x)
{
    return (((size_t)n * (size_t)s.c + (size_t)c) * (size_t)s.h + (size_t)y) * (size_t)s.w + (size_t)x;
}

/* LPNAS_OK if every dimension is in [1, 2^24] and the element count fits
 * comfortably in memory (< 2^40); otherwise LPNAS_ERR_ARG naming `what`. */
lpnas_status lpnas_shape_check(lpnas_shape s, const char *what);

/* dbias[c] += sum over images and pixels of dout[n][c] (binary64 sums):
 * the bias gradient of conv2d and deconv2d. */
void lpnas_bias_grad_add(float *dbias, const float *dout, lpnas_shape out);

#endif
