/* make bench: conv2d throughput, one thread, for shapes of ~100k-parameter
 * segmentation nets. Per shape: GFLOP/s (2 x MACs / s) forward and backward
 * of the FP32 path, the device fp32-accumulate path (myriadx) and the
 * fp16-accumulate path (myriadx-fp16acc) on its AVX2 code path and, where
 * the CPU has it, its AVX-512 one, each as a ratio to FP32 in the same run;
 * and single-core OpenBLAS sgemm at the 3x3 conv's GEMM shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "harness.h"
#include "kernels/blas.h"
#include "kernels/conv2d.h"

typedef struct {
    const char *name;
    int c, oc, hw, k, groups;
} shape;

static const shape SHAPES[] = {
    {"3x3 16->16 @128", 16, 16, 128, 3, 1}, {"3x3 32->32 @64", 32, 32, 64, 3, 1},
    {"3x3 8->8 @256", 8, 8, 256, 3, 1},     {"3x3 64->64 @64", 64, 64, 64, 3, 1},
    {"1x1 32->64 @64", 32, 64, 64, 1, 1},   {"1x1 16->32 @128", 16, 32, 128, 1, 1},
    {"dw3x3 32 @128", 32, 32, 128, 3, 32},
};

static double best(double (*f)(void *), void *c, int reps)
{
    double b = 1e30;
    for (int i = 0; i < reps; i++) {
        double t = f(c);
        b = t < b ? t : b;
    }
    return b;
}

struct run {
    lpnas_shape s;
    int oc;
    lpnas_conv_params p;
    float *in, *w, *b, *out, *dout, *din, *dw, *db, *ws;
    const lpnas_policy *pol;
    int backward;
    int isa; /* fp16-accumulate forward: the code path (-1: the dispatch) */
    int M, N, K;
};

static double run_conv(void *v)
{
    struct run *r = v;
    double t0 = lpnas_bench_now();
    if (r->backward)
        lpnas_conv2d_backward(r->din, r->dw, r->db, r->dout, r->in, r->w, r->s, r->oc, &r->p, r->pol, r->ws);
    else if (r->isa >= 0)
        lpnas_conv2d_forward_f16acc_isa(r->out, r->in, r->w, r->b, r->s, r->oc, &r->p, LPNAS_KACT_RELU, r->pol, r->ws,
                                        (lpnas_isa)r->isa);
    else
        lpnas_conv2d_forward(r->out, r->in, r->w, r->b, r->s, r->oc, &r->p, LPNAS_KACT_RELU, r->pol, r->ws);
    double t = lpnas_bench_now() - t0;
    lpnas_bench_sink(r->out, 4);
    return t;
}

static double run_sgemm(void *v)
{
    struct run *r = v;
    double t0 = lpnas_bench_now();
    lpnas_sgemm(false, false, r->M, r->N, r->K, 1.0f, r->w, r->K, r->ws, r->N, 0.0f, r->out, r->N);
    return lpnas_bench_now() - t0;
}

int main(int argc, char **argv)
{
    int reps = 3;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: bench_conv\n  conv2d GFLOP/s per numeric path, one thread, best of %d runs.\n", reps);
        return 0;
    }
    lpnas_blas_single_thread();
    printf("bench_conv: conv2d forward/backward GFLOP/s, batch 1, one thread, best of %d\n", reps);
    lpnas_bench_print_machine();
    const char *pols[5] = {"fp32", "myriadx", "myriadx-fp16acc", "myriadx-fp16acc", "myriadx-fp16acc"};
    lpnas_isa det = lpnas_cpu_isa_detected();
    bool has16 = det >= LPNAS_ISA_AVX512FP16, has512 = det >= LPNAS_ISA_AVX512, has2 = det >= LPNAS_ISA_AVX2;
    printf("%-18s %-4s %9s %9s %7s %12s %7s %12s %7s %12s %7s %11s\n", "shape", "pass", "fp32", "fp32acc", "ratio",
           "fp16acc/avx2", "ratio", "fp16acc/512", "ratio", "fp16acc/fp16", "ratio", "sgemm");
    lpnas_rng rng;
    lpnas_rng_seed(&rng, 1);
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const shape *sh = &SHAPES[i];
        struct run r;
        memset(&r, 0, sizeof r);
        r.s = (lpnas_shape){1, sh->c, sh->hw, sh->hw};
        r.oc = sh->oc;
        r.p = lpnas_conv_params_make(sh->k, 1, sh->groups);
        lpnas_shape o;
        lpnas_conv2d_check(r.s, r.oc, &r.p, &o);
        size_t ni = lpnas_shape_numel(r.s), no = lpnas_shape_numel(o);
        size_t nw = (size_t)r.oc * (sh->c / sh->groups) * sh->k * sh->k;
        r.in = malloc(ni * 4), r.w = malloc(nw * 4), r.b = malloc((size_t)r.oc * 4), r.out = malloc(no * 4);
        r.dout = malloc(no * 4), r.din = calloc(ni, 4), r.dw = calloc(nw, 4), r.db = calloc((size_t)r.oc, 4);
        r.ws = malloc(lpnas_conv2d_workspace(r.s, r.oc, &r.p) * 4 + 64);
        for (size_t k = 0; k < ni; k++)
            r.in[k] = lpnas_rng_uniform(&rng);
        for (size_t k = 0; k < nw; k++)
            r.w[k] = lpnas_rng_uniform(&rng) - 0.5f;
        for (size_t k = 0; k < no; k++)
            r.dout[k] = lpnas_rng_uniform(&rng) - 0.5f;
        for (int k = 0; k < r.oc; k++)
            r.b[k] = 0.1f;
        lpnas_policy_round_host(lpnas_policy_at(2), r.in, ni);
        lpnas_policy_round_host(lpnas_policy_at(2), r.w, nw);
        double flops = 2.0 * (double)no * (double)(sh->c / sh->groups) * sh->k * sh->k;
        for (int pass = 0; pass < 2; pass++) {
            r.backward = pass;
            double g[5] = {0, 0, 0, 0, 0};
            for (int k = 0; k < 5; k++) {
                if (pass == 1 && k >= 2) { /* backward has no fp16-accumulate variant */
                    g[k] = g[1];
                    continue;
                }
                if ((k == 2 && !has2) || (k == 3 && !has512) || (k == 4 && !has16))
                    continue;
                r.isa = k == 2 ? LPNAS_ISA_AVX2 : k == 3 ? LPNAS_ISA_AVX512 : k == 4 ? LPNAS_ISA_AVX512FP16 : -1;
                lpnas_policy_get(pols[k], &r.pol);
                run_conv(&r);
                /* backward does 2x the forward's work (din and dweight) */
                g[k] = flops * (pass ? 2 : 1) / best(run_conv, &r, reps) / 1e9;
            }
            char sg[32] = "-";
            if (pass == 0 && sh->groups == 1) {
                r.M = r.oc, r.N = o.h * o.w, r.K = sh->c * sh->k * sh->k;
                double ts = best(run_sgemm, &r, reps);
                snprintf(sg, sizeof sg, "%.1f (%.0f%%)", flops / ts / 1e9, 100 * g[0] / (flops / ts / 1e9));
            }
            char c2[3][32];
            for (int k = 0; k < 3; k++) {
                if (g[2 + k] > 0)
                    snprintf(c2[k], sizeof c2[k], "%12.3f %6.2fx", g[2 + k], g[2 + k] / g[0]);
                else
                    snprintf(c2[k], sizeof c2[k], "%12s %7s", "-", "-");
            }
            printf("%-18s %-4s %9.2f %9.2f %6.2fx %s %s %s %11s\n", sh->name, pass ? "bwd" : "fwd", g[0], g[1],
                   g[1] / g[0], c2[0], c2[1], c2[2], pass ? "" : sg);
        }
        free(r.in), free(r.w), free(r.b), free(r.out), free(r.dout), free(r.din), free(r.dw), free(r.db), free(r.ws);
    }
    printf("(sgemm: single-core OpenBLAS at the conv's GEMM shape M=OC, N=OH*OW, K=C*k*k; %% = FP32 conv / sgemm;\n"
           " fp16acc/avx2, fp16acc/512, fp16acc/fp16: the fp16-accumulate forward forced to that code path (one\n"
           " kernel for dense, grouped and depthwise convs: 8 or 16 binary32 lanes, or 32 binary16 lanes with\n"
           " AVX512-FP16); the backward fp16acc columns repeat\n"
           " fp32acc: gradients are fp32 under every policy; '-': the CPU lacks the path)\n");
    return 0;
}
