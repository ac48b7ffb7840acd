#include "kernels/loss.h"

#include <math.h>

#include "base/error.h"

lpnas_loss_params lpnas_loss_params_default(void)
{
    lpnas_loss_params p = {10.0f, 1.0f, 1.0f, 1.0f};
    return p;
}

lpnas_status lpnas_loss_check(const lpnas_loss_params *p)
{
    if (!(p->pos_weight > 0) || !isfinite(p->pos_weight))
        return lpnas_fail(LPNAS_ERR_ARG, "loss: pos_weight %g must be finite and > 0", (double)p->pos_weight);
    if (!(p->bce_weight >= 0) || !(p->dice_weight >= 0) || !isfinite(p->bce_weight) || !isfinite(p->dice_weight) ||
        p->bce_weight + p->dice_weight <= 0)
        return lpnas_fail(LPNAS_ERR_ARG, "loss: weights bce %g, dice %g must be finite, >= 0, not both 0",
                          (double)p->bce_weight, (double)p->dice_weight);
    if (!(p->dice_eps > 0) || !isfinite(p->dice_eps))
        return lpnas_fail(LPNAS_ERR_ARG, "loss: dice_eps %g must be finite and > 0", (double)p->dice_eps);
    return LPNAS_OK;
}

/* softplus(-z) = log(1 + exp(-z)) without overflow: max(-z, 0) + log1p(exp(-|z|)) */
static double softplus_neg(double z)
{
    return (z < 0 ? -z : 0) + log1p(exp(-fabs(z)));
}

static double sig(double z)
{
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

/* l = (1-y) z + (1 + (w-1) y) softplus(-z);
 * dl/dz = (1-y) - (1 + (w-1) y)(1 - sig(z)), divided by n for the mean. */
double lpnas_loss_bce(float *dlogits, const float *logits, const uint8_t *mask, size_t n, float pos_weight)
{
    double sum = 0, w = pos_weight;
    for (size_t i = 0; i < n; i++) {
        double z = logits[i], y = mask[i] ? 1 : 0;
        double k = 1 + (w - 1) * y;
        sum += (1 - y) * z + k * softplus_neg(z);
        if (dlogits)
            dlogits[i] = (float)(((1 - y) - k * (1 - sig(z))) / (double)n);
    }
    return n ? sum / (double)n : 0;
}

/* D = 1 - (2I + e) / (S + e), I = sum p y, S = sum p + sum y;
 * dD/dp_i = -(2 y_i (S + e) - (2I + e)) / (S + e)^2; dp/dz = p (1 - p). */
double lpnas_loss_dice(float *dlogits, const float *logits, const uint8_t *mask, size_t n, float eps)
{
    double I = 0, S = 0;
    for (size_t i = 0; i < n; i++) {
        double p = sig(logits[i]), y = mask[i] ? 1 : 0;
        I += p * y;
        S += p + y;
    }
    double num = 2 * I + eps, den = S + eps;
    if (dlogits)
        for (size_t i = 0; i < n; i++) {
            double p = sig(logits[i]), y = mask[i] ? 1 : 0;
            double dp = -(2 * y * den - num) / (den * den);
            dlogits[i] = (float)(dp * p * (1 - p));
        }
    return 1 - num / den;
}

double lpnas_loss_combined(float *dlogits, const float *logits, const uint8_t *mask, size_t n,
                           const lpnas_loss_params *p, float *scratch)
{
    double l = 0;
    if (dlogits)
        for (size_t i = 0; i < n; i++)
            dlogits[i] = 0;
    if (p->bce_weight > 0) {
        l += p->bce_weight * lpnas_loss_bce(dlogits ? scratch : NULL, logits, mask, n, p->pos_weight);
        if (dlogits)
            for (size_t i = 0; i < n; i++)
                dlogits[i] += p->bce_weight * scratch[i];
    }
    if (p->dice_weight > 0) {
        l += p->dice_weight * lpnas_loss_dice(dlogits ? scratch : NULL, logits, mask, n, p->dice_eps);
        if (dlogits)
            for (size_t i = 0; i < n; i++)
                dlogits[i] += p->dice_weight * scratch[i];
    }
    return l;
}
