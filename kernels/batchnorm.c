/* Batch normalization; see batchnorm.h. Sums in binary64 per channel so the
 * statistics do not depend on the batch size's rounding. */
#include "kernels/batchnorm.h"

#include <math.h>

#include "base/error.h"

lpnas_bn_params lpnas_bn_params_default(void)
{
    lpnas_bn_params p = {1e-5f, 0.1f};
    return p;
}

lpnas_status lpnas_bn_check(lpnas_shape s, const lpnas_bn_params *p)
{
    lpnas_status st = lpnas_shape_check(s, "batch norm input");
    if (st)
        return st;
    if (!(p->eps > 0) || !isfinite(p->eps))
        return lpnas_fail(LPNAS_ERR_ARG, "batch norm: eps %g must be finite and > 0", (double)p->eps);
    if (!(p->momentum >= 0 && p->momentum <= 1))
        return lpnas_fail(LPNAS_ERR_ARG, "batch norm: momentum %g must be in [0, 1]", (double)p->momentum);
    return LPNAS_OK;
}

void lpnas_bn_forward_train(float *out, float *save_mean, float *save_invstd, float *running_mean,
                            float *running_var, const float *in, const float *gamma, const float *beta,
                            lpnas_shape s, const lpnas_bn_params *p, const lpnas_policy *policy)
{
    size_t P = (size_t)s.h * s.w, M = P * (size_t)s.n;
    for (int c = 0; c < s.c; c++) {
        double sum = 0, sq = 0;
        for (int n = 0; n < s.n; n++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            for (size_t i = 0; i < P; i++)
                sum += x[i];
        }
        double mean = sum / (double)M;
        for (int n = 0; n < s.n; n++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            for (size_t i = 0; i < P; i++)
                sq += (x[i] - mean) * (x[i] - mean);
        }
        double var = sq / (double)M;
        double invstd = 1.0 / sqrt(var + p->eps);
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        double unbiased = M > 1 ? sq / (double)(M - 1) : var;
        running_mean[c] = (float)((1 - p->momentum) * running_mean[c] + p->momentum * mean);
        running_var[c] = (float)((1 - p->momentum) * running_var[c] + p->momentum * unbiased);
        float a = (float)(gamma[c] * invstd), b = (float)(beta[c] - gamma[c] * invstd * mean);
        for (int n = 0; n < s.n; n++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            float *y = out + lpnas_shape_at(s, n, c, 0, 0);
            for (size_t i = 0; i < P; i++)
                y[i] = a * x[i] + b;
        }
    }
    lpnas_policy_round(policy, out, lpnas_shape_numel(s));
}

void lpnas_bn_forward_infer(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, lpnas_shape s,
                            const lpnas_bn_params *p, const lpnas_policy *policy)
{
    size_t P = (size_t)s.h * s.w;
    for (int c = 0; c < s.c; c++) {
        double invstd = 1.0 / sqrt((double)running_var[c] + p->eps);
        float a = (float)(gamma[c] * invstd), b = (float)(beta[c] - gamma[c] * invstd * running_mean[c]);
        for (int n = 0; n < s.n; n++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            float *y = out + lpnas_shape_at(s, n, c, 0, 0);
            for (size_t i = 0; i < P; i++)
                y[i] = a * x[i] + b;
        }
    }
    lpnas_policy_round(policy, out, lpnas_shape_numel(s));
}

/* With xhat = (x - mean) * invstd over M values:
 *   dgamma = sum(dy * xhat), dbeta = sum(dy)
 *   dx = gamma * invstd / M * (M * dy - dbeta - xhat * dgamma) */
void lpnas_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                       const float *save_mean, const float *save_invstd, const float *gamma, lpnas_shape s,
                       const lpnas_policy *policy)
{
    size_t P = (size_t)s.h * s.w, M = P * (size_t)s.n;
    for (int c = 0; c < s.c; c++) {
        double mean = save_mean[c], invstd = save_invstd[c];
        double sdy = 0, sdyx = 0;
        for (int n = 0; n < s.n; n++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            const float *dy = dout + lpnas_shape_at(s, n, c, 0, 0);
            for (size_t i = 0; i < P; i++) {
                sdy += dy[i];
                sdyx += dy[i] * (x[i] - mean) * invstd;
            }
        }
        dgamma[c] += (float)sdyx;
        dbeta[c] += (float)sdy;
        if (!din)
            continue;
        double k = gamma[c] * invstd / (double)M;
        for (int n = 0; n < s.n; n++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            const float *dy = dout + lpnas_shape_at(s, n, c, 0, 0);
            float *dx = din + lpnas_shape_at(s, n, c, 0, 0);
            for (size_t i = 0; i < P; i++) {
                double xhat = (x[i] - mean) * invstd;
                dx[i] += (float)(k * ((double)M * dy[i] - sdy - xhat * sdyx));
            }
        }
    }
    if (din)
        lpnas_policy_round(policy, din, lpnas_shape_numel(s));
}

void lpnas_bn_fold(float *weight, size_t per_oc, float *bias_out, const float *bias_in, const float *gamma,
                   const float *beta, const float *running_mean, const float *running_var, int channels, float eps)
{
    for (int c = 0; c < channels; c++) {
        double scale = gamma[c] / sqrt((double)running_var[c] + eps);
        for (size_t i = 0; i < per_oc; i++)
            weight[(size_t)c * per_oc + i] = (float)(weight[(size_t)c * per_oc + i] * scale);
        double b = bias_in ? bias_in[c] : 0.0;
        bias_out[c] = (float)((b - running_mean[c]) * scale + beta[c]);
    }
}
