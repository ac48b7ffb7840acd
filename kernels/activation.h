/* Internal: element-wise activations, forward and backward (n elements).
 * ReLU (0 at x <= 0, gradient 0 at x == 0), ReLU6 (gradient 0 outside
 * (0, 6)), sigmoid (stable for large |x|). Device policy: outputs and din
 * rounded by the policy; sigmoid of logits for the loss runs in fp32
 * (DESIGN §4.3) -- pass policy NULL there. */
#ifndef LPNAS_KERNELS_ACTIVATION_H
#define LPNAS_KERNELS_ACTIVATION_H

#include "fp16/policy.h"
#include <stdbool.h>

#include "kernels/act.h"

typedef enum { LPNAS_ACTFN_RELU, LPNAS_ACTFN_RELU6, LPNAS_ACTFN_SIGMOID } lpnas_actfn;

void lpnas_activation_forward(float *out, const float *in, size_t n, lpnas_actfn f, const lpnas_policy *policy);
/* in: the forward input; out: the forward output (sigmoid uses it). Adds into din. */
void lpnas_activation_backward(float *din, const float *dout, const float *in, const float *out, size_t n,
                               lpnas_actfn f, const lpnas_policy *policy);
/* The same, adding into din (accumulate) or writing it as a zeroed din would
 * end up (not read: it may hold anything). */
void lpnas_activation_backward_to(float *din, bool accumulate, const float *dout, const float *in, const float *out,
                                  size_t n, lpnas_actfn f, const lpnas_policy *policy);
float lpnas_sigmoid(float x);

#endif
