/* Batch normalization; see batchnorm.h. Sums in binary64 per channel so the
 * statistics do not depend on the batch size's rounding. Each sum runs in 8
 * lane partial sums (lane l takes the elements i = l (mod 8) of every
 * plane, planes in order; the last P mod 8 of each plane go to lane 0),
 * added in a fixed tree: the compiler keeps the lanes in vector registers
 * without reassociating anything (one sequential binary64 chain per channel
 * was latency-bound: 4 cycles an element), and the result is the same on
 * every machine.
 *
 * The training forward and the backward are one body each, compiled three
 * times: baseline (2 binary64 lanes per SSE2 register), AVX2 (4) and
 * AVX-512F (8), chosen by lpnas_cpu_isa(); every operation is the same
 * IEEE binary64 or binary32 one on each (-ffp-contract=off: no fused
 * multiply-add), so they give the same bits. */
#include "kernels/batchnorm.h"

#include <stdbool.h>

#include <math.h>

#include "base/cpu.h"
#include "base/error.h"

#define AI static inline __attribute__((always_inline))

#define LANES 8

AI double tree8(const double *a)
{
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/* acc[l] += x[i] over the lanes. */
AI void sum_add(double *acc, const float *x, size_t P)
{
    size_t i = 0;
    for (; i + LANES <= P; i += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] += x[i + l];
    for (; i < P; i++)
        acc[0] += x[i];
}

/* acc[l] += (x[i] - m)^2 over the lanes. */
AI void sq_add(double *acc, const float *x, size_t P, double m)
{
    size_t i = 0;
    for (; i + LANES <= P; i += LANES)
        for (int l = 0; l < LANES; l++) {
            double d = x[i + l] - m;
            acc[l] += d * d;
        }
    for (; i < P; i++) {
        double d = x[i] - m;
        acc[0] += d * d;
    }
}

/* a[l] += dy[i], b[l] += dy[i] * (x[i] - m) * k over the lanes. */
AI void dsum_add(double *a, double *b, const float *dy, const float *x, size_t P, double m, double k)
{
    size_t i = 0;
    for (; i + LANES <= P; i += LANES)
        for (int l = 0; l < LANES; l++) {
            a[l] += dy[i + l];
            b[l] += dy[i + l] * (x[i + l] - m) * k;
        }
    for (; i < P; i++) {
        a[0] += dy[i];
        b[0] += dy[i] * (x[i] - m) * k;
    }
}

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

AI void fwd_train_body(float *out, float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                      const float *in, const float *gamma, const float *beta, lpnas_shape s, const lpnas_bn_params *p)
{
    size_t P = (size_t)s.h * s.w, M = P * (size_t)s.n;
    for (int c = 0; c < s.c; c++) {
        double acc[LANES] = {0}, acc2[LANES] = {0};
        for (int n = 0; n < s.n; n++)
            sum_add(acc, in + lpnas_shape_at(s, n, c, 0, 0), P);
        double mean = tree8(acc) / (double)M;
        for (int n = 0; n < s.n; n++)
            sq_add(acc2, in + lpnas_shape_at(s, n, c, 0, 0), P, mean);
        double sq = tree8(acc2);
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
}

#define FWD_TRAIN_ARGS                                                                                                \
    float *out, float *save_mean, float *save_invstd, float *running_mean, float *running_var, const float *in,     \
        const float *gamma, const float *beta, lpnas_shape s, const lpnas_bn_params *p
#define FWD_TRAIN_CALL out, save_mean, save_invstd, running_mean, running_var, in, gamma, beta, s, p

static void fwd_train_portable(FWD_TRAIN_ARGS)
{
    fwd_train_body(FWD_TRAIN_CALL);
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define HAVE_X86_PATHS 1
__attribute__((target("avx2,fma"))) static void fwd_train_avx2(FWD_TRAIN_ARGS)
{
    fwd_train_body(FWD_TRAIN_CALL);
}

__attribute__((target("avx512f,avx2,fma"))) static void fwd_train_avx512(FWD_TRAIN_ARGS)
{
    fwd_train_body(FWD_TRAIN_CALL);
}
#endif

void lpnas_bn_forward_train_isa(float *out, float *save_mean, float *save_invstd, float *running_mean,
                                float *running_var, const float *in, const float *gamma, const float *beta,
                                lpnas_shape s, const lpnas_bn_params *p, const lpnas_policy *policy, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa >= LPNAS_ISA_AVX512)
        fwd_train_avx512(FWD_TRAIN_CALL);
    else if (isa == LPNAS_ISA_AVX2)
        fwd_train_avx2(FWD_TRAIN_CALL);
    else
#endif
        fwd_train_portable(FWD_TRAIN_CALL);
    (void)isa;
    lpnas_policy_round(policy, out, lpnas_shape_numel(s));
}

void lpnas_bn_forward_train(float *out, float *save_mean, float *save_invstd, float *running_mean,
                            float *running_var, const float *in, const float *gamma, const float *beta,
                            lpnas_shape s, const lpnas_bn_params *p, const lpnas_policy *policy)
{
    lpnas_bn_forward_train_isa(FWD_TRAIN_CALL, policy, lpnas_cpu_isa());
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
/* dx = base + k * (M * dy - sdy - xhat * sdyx) for one plane; base = dx
 * (accumulate) or +0 (store: what a zeroed din gives, -0 included). */
AI void dx_plane(float *dx, bool accumulate, const float *x, const float *dy, size_t P, double mean, double invstd,
                 double k, double M, double sdy, double sdyx)
{
    for (size_t i = 0; i < P; i++) {
        double xhat = (x[i] - mean) * invstd;
        dx[i] = (accumulate ? dx[i] : 0.0f) + (float)(k * (M * dy[i] - sdy - xhat * sdyx));
    }
}

AI void bwd_body(float *din, bool accumulate, float *dgamma, float *dbeta, const float *dout, const float *in,
                const float *save_mean, const float *save_invstd, const float *gamma, lpnas_shape s)
{
    size_t P = (size_t)s.h * s.w, M = P * (size_t)s.n;
    for (int c = 0; c < s.c; c++) {
        double mean = save_mean[c], invstd = save_invstd[c];
        double a[LANES] = {0}, b[LANES] = {0};
        for (int n = 0; n < s.n; n++)
            dsum_add(a, b, dout + lpnas_shape_at(s, n, c, 0, 0), in + lpnas_shape_at(s, n, c, 0, 0), P, mean, invstd);
        double sdy = tree8(a), sdyx = tree8(b);
        dgamma[c] += (float)sdyx;
        dbeta[c] += (float)sdy;
        if (!din)
            continue;
        double k = gamma[c] * invstd / (double)M;
        for (int n = 0; n < s.n; n++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            const float *dy = dout + lpnas_shape_at(s, n, c, 0, 0);
            float *dx = din + lpnas_shape_at(s, n, c, 0, 0);
            if (accumulate)
                dx_plane(dx, true, x, dy, P, mean, invstd, k, (double)M, sdy, sdyx);
            else
                dx_plane(dx, false, x, dy, P, mean, invstd, k, (double)M, sdy, sdyx);
        }
    }
}

#define BWD_ARGS                                                                                                      \
    float *din, bool accumulate, float *dgamma, float *dbeta, const float *dout, const float *in,                    \
        const float *save_mean, const float *save_invstd, const float *gamma, lpnas_shape s
#define BWD_CALL din, accumulate, dgamma, dbeta, dout, in, save_mean, save_invstd, gamma, s

static void bwd_portable(BWD_ARGS)
{
    bwd_body(BWD_CALL);
}

#ifdef HAVE_X86_PATHS
__attribute__((target("avx2,fma"))) static void bwd_avx2(BWD_ARGS)
{
    bwd_body(BWD_CALL);
}

__attribute__((target("avx512f,avx2,fma"))) static void bwd_avx512(BWD_ARGS)
{
    bwd_body(BWD_CALL);
}
#endif

void lpnas_bn_backward_to_isa(float *din, bool accumulate, float *dgamma, float *dbeta, const float *dout,
                              const float *in, const float *save_mean, const float *save_invstd, const float *gamma,
                              lpnas_shape s, const lpnas_policy *policy, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa >= LPNAS_ISA_AVX512)
        bwd_avx512(BWD_CALL);
    else if (isa == LPNAS_ISA_AVX2)
        bwd_avx2(BWD_CALL);
    else
#endif
        bwd_portable(BWD_CALL);
    (void)isa;
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

void lpnas_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                       const float *save_mean, const float *save_invstd, const float *gamma, lpnas_shape s,
                       const lpnas_policy *policy)
{
    lpnas_bn_backward_to_isa(din, true, dgamma, dbeta, dout, in, save_mean, save_invstd, gamma, s, policy,
                             lpnas_cpu_isa());
}
