/* Internal: 2-D convolution, NCHW, any kernel, stride, padding, dilation and
 * groups (depthwise = groups == in channels), optional bias; forward with a
 * fused activation, backward for input, weights and bias.
 *
 *   in     [N][C][H][W]
 *   weight [OC][C/groups][KH][KW]
 *   bias   [OC] or NULL
 *   out    [N][OC][OH][OW],  OH = (H + 2*pad_h - dil_h*(KH-1) - 1) / stride_h + 1
 *
 * Numeric paths (kernels/shape.h conventions):
 *   FP32 (policy NULL or fp32): im2col + sgemm, 1x1 stride-1 convs as a bare
 *     GEMM, depthwise as direct loops.
 *   device policy, fp32 accumulation: the FP32 path on device values, each
 *     output (after bias and activation) rounded by lpnas_policy_round.
 *   device policy, fp16 accumulation (myriadx-fp16acc): for each output,
 *     acc = bias rounded to binary16 (or +0); then for ci in the group's
 *     channels, ky, kx in that order -- taps that fall in the padding are
 *     skipped -- acc = fma(w, x, acc) rounded to binary16 (nearest-even);
 *     then the activation. Bit-exact with a loop of lpnas_f16_fma
 *     (lpnas_conv2d_forward_ref with the same policy).
 *   Backward in a policy: din is rounded by the policy after this op's
 *     contribution is added; dweight and dbias stay fp32 (master weights).
 */
#ifndef LPNAS_KERNELS_CONV2D_H
#define LPNAS_KERNELS_CONV2D_H

#include <stdbool.h>

#include "base/cpu.h"
#include "fp16/policy.h"
#include "kernels/act.h"
#include "kernels/shape.h"

typedef struct {
    int kh, kw;
    int stride_h, stride_w;
    int pad_h, pad_w;
    int dil_h, dil_w;
    int groups;
} lpnas_conv_params;

/* A square k x k conv with stride s, "same"-style padding (dil*(k-1)/2), dilation 1, groups g. */
lpnas_conv_params lpnas_conv_params_make(int k, int stride, int groups);

/* Validates shapes and parameters (zero or negative sizes, stride 0, negative
 * padding, kernel larger than the padded input, groups not dividing the
 * channels) with a message naming the value; computes the output shape. */
lpnas_status lpnas_conv2d_check(lpnas_shape in, int out_c, const lpnas_conv_params *p, lpnas_shape *out);

/* Floats of workspace forward and backward need (0 if none). */
size_t lpnas_conv2d_workspace(lpnas_shape in, int out_c, const lpnas_conv_params *p);

void lpnas_conv2d_forward(float *out, const float *in, const float *weight, const float *bias, lpnas_shape in_shape,
                          int out_c, const lpnas_conv_params *p, lpnas_act act, const lpnas_policy *policy,
                          float *workspace);

/* dout is the gradient w.r.t. the conv output before any activation.
 * din and dbias may be NULL. Adds into din, dweight, dbias. */
void lpnas_conv2d_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                           const float *weight, lpnas_shape in_shape, int out_c, const lpnas_conv_params *p,
                           const lpnas_policy *policy, float *workspace);
/* The same, din added into (accumulate) or written as if added into zeros
 * (the same bits; the direct 3x3 stride-1 path then skips zeroing it: its
 * sums start from +0 and are never -0, so +0 + sum == sum). */
void lpnas_conv2d_backward_to(float *din, bool accumulate, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, lpnas_shape in_shape, int out_c,
                              const lpnas_conv_params *p, const lpnas_policy *policy, float *workspace);

/* Plain loops, the reference of the tests (fp32 accumulation in the order
 * ci, ky, kx; under an fp16-accumulate policy the lpnas_f16_fma chain). */
void lpnas_conv2d_forward_ref(float *out, const float *in, const float *weight, const float *bias,
                              lpnas_shape in_shape, int out_c, const lpnas_conv_params *p, lpnas_act act,
                              const lpnas_policy *policy);
void lpnas_conv2d_backward_ref(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                               const float *weight, lpnas_shape in_shape, int out_c, const lpnas_conv_params *p);

/* Internal to the conv files: the fp16-accumulate forward. */
void lpnas_conv2d_forward_f16acc(float *out, const float *in, const float *weight, const float *bias,
                                 lpnas_shape in_shape, int out_c, const lpnas_conv_params *p, lpnas_act act,
                                 const lpnas_policy *policy, float *workspace);
/* The same on a chosen code path (clamped to what the CPU has): tests run
 * every path through it. */
void lpnas_conv2d_forward_f16acc_isa(float *out, const float *in, const float *weight, const float *bias,
                                     lpnas_shape in_shape, int out_c, const lpnas_conv_params *p, lpnas_act act,
                                     const lpnas_policy *policy, float *workspace, lpnas_isa isa);
/* conv2d_f16acc_avx2.c: false (nothing usable written) when a partial sum
 * could overflow binary16 or the CPU/compiler lacks AVX2; then the caller
 * takes the scalar chain. wide: 16 AVX-512F lanes instead of 8 AVX2 ones
 * (only when the CPU has AVX-512F). */
/* conv2d_depthwise.c: the FP32 depthwise loops (out is overwritten; din
 * may be NULL; din and dw are added into) on a chosen path, clamped to the
 * CPU; every path gives the same bits. */
void lpnas_conv2d_dw_forward_isa(float *out, const float *in, const float *w, lpnas_shape in_shape,
                                 lpnas_shape out_shape, const lpnas_conv_params *p, lpnas_isa isa);
void lpnas_conv2d_dw_backward_isa(float *din, float *dw, const float *dout, const float *in, const float *w,
                                  lpnas_shape in_shape, lpnas_shape out_shape, const lpnas_conv_params *p,
                                  lpnas_isa isa);
/* conv2d_direct3x3.c: the FP32 direct 3x3 pad-1 conv, stride 1 or 2, one
 * group: whether it applies, its workspace (floats), forward (out
 * overwritten) and backward (din may be NULL; din and dw are added into) on
 * a chosen path, clamped to the CPU; every path gives the same bits. */
bool lpnas_conv2d_direct3x3_applies(lpnas_shape in, int out_c, const lpnas_conv_params *p);
size_t lpnas_conv2d_direct3x3_workspace(lpnas_shape in, int out_c, int stride);
void lpnas_conv2d_direct3x3_forward_isa(float *out, const float *in, const float *w, lpnas_shape in_shape,
                                        int out_c, int stride, float *workspace, lpnas_isa isa);
void lpnas_conv2d_direct3x3_backward_isa(float *din, bool din_add, float *dw, const float *dout, const float *in,
                                         const float *w,
                                         lpnas_shape in_shape, int out_c, int stride, float *workspace,
                                         lpnas_isa isa);
size_t lpnas_conv2d_f16acc_avx2_workspace(lpnas_shape in, lpnas_shape out, const lpnas_conv_params *p);
bool lpnas_conv2d_f16acc_avx2(float *out, const float *in, const float *weight, const float *bias,
                              lpnas_shape in_shape, lpnas_shape out_shape, const lpnas_conv_params *p,
                              float *workspace, lpnas_isa path);
/* The AVX2 kernel has two ways to the same bits: scaled binary16, fast
 * where the CPU does binary32 subnormal arithmetic at full speed, and
 * rounding to odd, which never makes a subnormal. WATCH (what
 * lpnas_conv2d_f16acc_avx2 does) times a few thousand steps of each at the
 * start of the call and takes the faster for the rest; SCALED and ODD take
 * one all along. *ran (if not NULL): bit 1 << way for each way that ran.
 * Other paths ignore both. */
typedef enum { LPNAS_F16ACC_SCALED = 0, LPNAS_F16ACC_ODD = 1, LPNAS_F16ACC_WATCH = 2 } lpnas_f16acc_way;
bool lpnas_conv2d_f16acc_avx2_way(float *out, const float *in, const float *weight, const float *bias,
                                  lpnas_shape in_shape, lpnas_shape out_shape, const lpnas_conv_params *p,
                                  float *workspace, lpnas_isa path, lpnas_f16acc_way way, unsigned *ran);

#endif
