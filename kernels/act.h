/* Internal: the activations a conv can fuse (as the device fuses
 * conv+ReLU/ReLU6), as an enum and scalar helpers. ReLU and ReLU6 of a
 * binary16 value are binary16 values, so fusing never adds a rounding. */
#ifndef LPNAS_KERNELS_ACT_H
#define LPNAS_KERNELS_ACT_H

#include <stddef.h>

/* Append-only: written in layer lists and model files. */
typedef enum { LPNAS_KACT_NONE = 0, LPNAS_KACT_RELU = 1, LPNAS_KACT_RELU6 = 2 } lpnas_act;

static inline float lpnas_act_apply(lpnas_act a, float x)
{
    if (a == LPNAS_KACT_NONE)
        return x;
    /* NaN propagates (as in PyTorch): x != x keeps it. */
    float y = (x > 0 || x != x) ? x : 0;
    if (a == LPNAS_KACT_RELU6 && y > 6)
        y = 6;
    return y;
}

static inline void lpnas_act_apply_array(lpnas_act a, float *x, size_t n)
{
    if (a == LPNAS_KACT_NONE)
        return;
    for (size_t i = 0; i < n; i++)
        x[i] = lpnas_act_apply(a, x[i]);
}

#endif
