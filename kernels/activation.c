#include "kernels/activation.h"

#include <math.h>

float lpnas_sigmoid(float x)
{
    /* exp of a non-positive argument only: no overflow for any x */
    if (x >= 0) {
        float e = expf(-x);
        return 1.0f / (1.0f + e);
    }
    float e = expf(x);
    return e / (1.0f + e);
}

void lpnas_activation_forward(float *out, const float *in, size_t n, lpnas_actfn f, const lpnas_policy *policy)
{
    switch (f) {
    case LPNAS_ACTFN_RELU:
        for (size_t i = 0; i < n; i++)
            out[i] = lpnas_act_apply(LPNAS_KACT_RELU, in[i]);
        break;
    case LPNAS_ACTFN_RELU6:
        for (size_t i = 0; i < n; i++)
            out[i] = lpnas_act_apply(LPNAS_KACT_RELU6, in[i]);
        break;
    case LPNAS_ACTFN_SIGMOID:
        for (size_t i = 0; i < n; i++)
            out[i] = lpnas_sigmoid(in[i]);
        break;
    }
    lpnas_policy_round(policy, out, n);
}

void lpnas_activation_backward(float *din, const float *dout, const float *in, const float *out, size_t n,
                               lpnas_actfn f, const lpnas_policy *policy)
{
    /* dout[i] is loaded whether or not it passes, so the selects compile to
     * vector compares and masks: a branch per element on the sign of the
     * input mispredicts about half the time (the loops ran scalar). Where
     * the gradient does not pass, +0 is added, as always. */
    switch (f) {
    case LPNAS_ACTFN_RELU:
        for (size_t i = 0; i < n; i++) {
            float g = dout[i];
            din[i] += in[i] > 0 ? g : 0.0f;
        }
        break;
    case LPNAS_ACTFN_RELU6:
        for (size_t i = 0; i < n; i++) {
            float x = in[i], g = dout[i];
            din[i] += (x > 0 && x < 6) ? g : 0.0f;
        }
        break;
    case LPNAS_ACTFN_SIGMOID:
        for (size_t i = 0; i < n; i++)
            din[i] += dout[i] * out[i] * (1.0f - out[i]);
        break;
    }
    lpnas_policy_round(policy, din, n);
}
