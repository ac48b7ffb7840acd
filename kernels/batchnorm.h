/* Internal: batch normalization over N, H, W per channel.
 *   training:  y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta with the
 *              batch's mean and biased variance; running statistics updated
 *              as running = (1 - momentum) * running + momentum * batch,
 *              with the unbiased variance (PyTorch's convention);
 *              saves mean and 1/sqrt(var_B + eps) for backward.
 *   inference: the running statistics instead.
 *   folding:   for deployment, BN after a conv becomes the conv's weights and
 *              bias: w' = w * s, b' = (b - mean) * s + beta, s = gamma/sqrt(var+eps).
 * Device policy: outputs rounded by lpnas_policy_round; din rounded too. */
#ifndef LPNAS_KERNELS_BATCHNORM_H
#define LPNAS_KERNELS_BATCHNORM_H

#include "base/cpu.h"
#include "fp16/policy.h"
#include "kernels/shape.h"

typedef struct {
    float eps;      /* 1e-5 */
    float momentum; /* 0.1 */
} lpnas_bn_params;

lpnas_bn_params lpnas_bn_params_default(void);
lpnas_status lpnas_bn_check(lpnas_shape s, const lpnas_bn_params *p);

/* save_mean, save_invstd: [C], written (training only). running_*: [C], updated. */
void lpnas_bn_forward_train(float *out, float *save_mean, float *save_invstd, float *running_mean,
                            float *running_var, const float *in, const float *gamma, const float *beta,
                            lpnas_shape s, const lpnas_bn_params *p, const lpnas_policy *policy);
void lpnas_bn_forward_infer(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, lpnas_shape s,
                            const lpnas_bn_params *p, const lpnas_policy *policy);
/* Training-mode backward (through the batch statistics). Adds into din (may be NULL), dgamma, dbeta. */
void lpnas_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                       const float *save_mean, const float *save_invstd, const float *gamma, lpnas_shape s,
                       const lpnas_policy *policy);
/* The same two on a chosen code path (clamped to the CPU): every path gives
 * the same bits; the tests run each. */
void lpnas_bn_forward_train_isa(float *out, float *save_mean, float *save_invstd, float *running_mean,
                                float *running_var, const float *in, const float *gamma, const float *beta,
                                lpnas_shape s, const lpnas_bn_params *p, const lpnas_policy *policy, lpnas_isa isa);
/* The backward adding into din (accumulate, as lpnas_bn_backward) or writing
 * din as a zeroed one would end up (not read: it may hold anything). */
void lpnas_bn_backward_to_isa(float *din, bool accumulate, float *dgamma, float *dbeta, const float *dout,
                              const float *in, const float *save_mean, const float *save_invstd, const float *gamma,
                              lpnas_shape s, const lpnas_policy *policy, lpnas_isa isa);
/* Folds BN (inference statistics) into the preceding conv's weight [OC][per_oc] and
 * bias [OC] (bias may be NULL on input: then it is taken as 0; bias_out receives the result). */
void lpnas_bn_fold(float *weight, size_t per_oc, float *bias_out, const float *bias_in, const float *gamma,
                   const float *beta, const float *running_mean, const float *running_var, int channels, float eps);

#endif
