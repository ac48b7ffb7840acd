#include "kernels/activation.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

/* g where c holds, else +0, by a bit mask: as a select (c ? g : 0.0f), gcc
 * turned +0 + (c ? g : 0) into c ? +0 + g : +0 and then, not allowed to
 * add speculatively (-ftrapping-math), kept a branch per element. */
static inline __attribute__((always_inline)) float pass_if(bool c, float g)
{
    uint32_t b;
    memcpy(&b, &g, 4);
    b &= -(uint32_t)c;
    memcpy(&g, &b, 4);
    return g;
}

/* din[i] = base + the gradient that passes; base = din[i] (accumulate) or +0
 * (store: the value a zeroed din gives, -0 included: +0 + -0 = +0). A
 * constant at each call, so each mode is its own loop. */
static inline __attribute__((always_inline)) void act_backward(float *din, bool accumulate, const float *dout,
                                                              const float *in, const float *out, size_t n,
                                                              lpnas_actfn f)
{
    /* dout[i] is loaded whether or not it passes, so the selects compile to
     * vector compares and masks: a branch per element on the sign of the
     * input mispredicts about half the time (the loops ran scalar). Where
     * the gradient does not pass, +0 is added, as always (pass_if). */
    switch (f) {
    case LPNAS_ACTFN_RELU:
        for (size_t i = 0; i < n; i++)
            din[i] = (accumulate ? din[i] : 0.0f) + pass_if(in[i] > 0, dout[i]);
        break;
    case LPNAS_ACTFN_RELU6:
        for (size_t i = 0; i < n; i++) {
            float x = in[i];
            din[i] = (accumulate ? din[i] : 0.0f) + pass_if((x > 0) & (x < 6), dout[i]);
        }
        break;
    case LPNAS_ACTFN_SIGMOID:
        for (size_t i = 0; i < n; i++)
            din[i] = (accumulate ? din[i] : 0.0f) + dout[i] * out[i] * (1.0f - out[i]);
        break;
    }
}

void lpnas_activation_backward_to(float *din, bool accumulate, const float *dout, const float *in, const float *out,
                                  size_t n, lpnas_actfn f, const lpnas_policy *policy)
{
    if (accumulate)
        act_backward(din, true, dout, in, out, n, f);
    else
        act_backward(din, false, dout, in, out, n, f);
    lpnas_policy_round(policy, din, n);
}

void lpnas_activation_backward(float *din, const float *dout, const float *in, const float *out, size_t n,
                               lpnas_actfn f, const lpnas_policy *policy)
{
    lpnas_activation_backward_to(din, true, dout, in, out, n, f, policy);
}
