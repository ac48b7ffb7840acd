/* make bench: binary16 conversion and arithmetic throughput, one thread.
 *
 * Inputs are large arrays of non-repeating random values (a small array
 * replayed in a loop lets the branch predictor learn the data and inflates
 * results 2-5x). Each figure is the best of several runs. Baselines measured
 * in the same run: memcpy of the same float array for conversions. The
 * scalar ops have no peer in this run (Berkeley SoftFloat 3 is not
 * installed here): their rates are printed without a ratio -- a figure
 * taken from elsewhere is never divided by one measured here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "harness.h"
#include "lpnas/fp16.h"

#define REPS 5

static double best_of(double (*run)(void *), void *ctx)
{
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t = run(ctx);
        if (t < best)
            best = t;
    }
    return best;
}

struct conv {
    float *f;
    lpnas_f16 *h;
    float *f2;
    size_t n;
    lpnas_f16_path path;
    lpnas_round rm;
    int dir; /* 0 f32->f16, 1 f16->f32, 2 memcpy */
};

static double run_conv(void *p)
{
    struct conv *c = p;
    double t0 = lpnas_bench_now();
    if (c->dir == 0)
        lpnas_f16_from_f32_array_path(c->path, c->h, c->f, c->n, c->rm);
    else if (c->dir == 1)
        lpnas_f16_to_f32_array_path(c->path, c->f2, c->h, c->n);
    else
        memcpy(c->f2, c->f, c->n * sizeof(float));
    double t = lpnas_bench_now() - t0;
    lpnas_bench_sink(c->h, 2);
    lpnas_bench_sink(c->f2, 4);
    return t;
}

static void conversions(size_t n, const char *label)
{
    struct conv c = {malloc(n * sizeof(float)), malloc(n * sizeof(lpnas_f16)), malloc(n * sizeof(float)), n,
                     LPNAS_F16_PATH_PORTABLE, LPNAS_RNE, 2};
    lpnas_rng rng;
    lpnas_rng_seed(&rng, 42);
    for (size_t i = 0; i < n; i++) /* activations-like: normal, a few decades */
        c.f[i] = (float)(lpnas_rng_normal(&rng) * exp(4.0 * lpnas_rng_uniform_f64(&rng) - 2.0));
    lpnas_f16_from_f32_array(c.h, c.f, n, LPNAS_RNE);
    run_conv(&c); /* touch the pages */
    double t_memcpy = best_of(run_conv, &c);
    printf("\n%s: %zu elements (%.1f MiB of f32); memcpy of the f32 array: %.2f Gelem/s, %.1f GB/s\n", label, n,
           (double)n * 4 / 1048576.0, n / t_memcpy / 1e9, n * 8 / t_memcpy / 1e9);
    printf("%-10s %-8s %-6s %12s %14s\n", "direction", "path", "mode", "Gelem/s", "vs memcpy");
    const lpnas_f16_path paths[] = {LPNAS_F16_PATH_PORTABLE, LPNAS_F16_PATH_F16C, LPNAS_F16_PATH_AVX512};
    const lpnas_round modes[] = {LPNAS_RNE, LPNAS_RDN, LPNAS_RNA};
    const char *mode_names[] = {"RNE", "RDN", "RNA"};
    for (size_t p = 0; p < 3; p++) {
        if (!lpnas_f16_path_available(paths[p]))
            continue;
        c.path = paths[p];
        for (size_t m = 0; m < 3; m++) {
            c.dir = 0;
            c.rm = modes[m];
            double t = best_of(run_conv, &c);
            printf("%-10s %-8s %-6s %12.2f %13.2fx\n", "f32->f16", lpnas_f16_path_name(paths[p]), mode_names[m],
                   n / t / 1e9, t_memcpy / t);
        }
        c.dir = 1;
        double t = best_of(run_conv, &c);
        printf("%-10s %-8s %-6s %12.2f %13.2fx\n", "f16->f32", lpnas_f16_path_name(paths[p]), "-", n / t / 1e9,
               t_memcpy / t);
    }
    free(c.f);
    free(c.h);
    free(c.f2);
}

/* ---- scalar ops ------------------------------------------------------ */
enum { N_OPS = 1 << 22 };

struct scalar {
    lpnas_f16 *a, *b, *c, *r;
    float *x;
    int op;
    lpnas_round rm;
};

static double run_scalar(void *p)
{
    struct scalar *s = p;
    unsigned fl = 0;
    double t0 = lpnas_bench_now();
    switch (s->op) {
    case 0: for (size_t i = 0; i < N_OPS; i++) s->r[i] = lpnas_f16_add(s->a[i], s->b[i], s->rm, &fl); break;
    case 1: for (size_t i = 0; i < N_OPS; i++) s->r[i] = lpnas_f16_mul(s->a[i], s->b[i], s->rm, &fl); break;
    case 2: for (size_t i = 0; i < N_OPS; i++) s->r[i] = lpnas_f16_div(s->a[i], s->b[i], s->rm, &fl); break;
    case 3: for (size_t i = 0; i < N_OPS; i++) s->r[i] = lpnas_f16_sqrt(s->c[i], s->rm, &fl); break;
    case 4: for (size_t i = 0; i < N_OPS; i++) s->r[i] = lpnas_f16_fma(s->a[i], s->b[i], s->c[i], s->rm, &fl); break;
    default: for (size_t i = 0; i < N_OPS; i++) s->r[i] = lpnas_f16_from_f32(s->x[i], s->rm, &fl); break;
    }
    double t = lpnas_bench_now() - t0;
    lpnas_bench_sink(s->r, N_OPS * sizeof(lpnas_f16));
    lpnas_bench_sink(&fl, sizeof fl);
    return t;
}

static void scalar_ops(int typical)
{
    struct scalar s = {malloc(N_OPS * 2), malloc(N_OPS * 2), malloc(N_OPS * 2), malloc(N_OPS * 2),
                       malloc(N_OPS * sizeof(float)), 0, LPNAS_RNE};
    lpnas_rng rng;
    lpnas_rng_seed(&rng, 7);
    for (size_t i = 0; i < N_OPS; i++) {
        /* finite, mostly normal operands of both signs (uniform over the bits
         * minus inf/NaN); sqrt gets the magnitudes */
        uint16_t a = (uint16_t)lpnas_rng_u32(&rng) & 0xFBFF, b = (uint16_t)lpnas_rng_u32(&rng) & 0xFBFF;
        uint16_t c = (uint16_t)lpnas_rng_u32(&rng) & 0xFBFF;
        if (typical) { /* |x| in [2^-6, 2^6): exponent field 9..20, random sign and mantissa */
            a = (uint16_t)((a & 0x83FF) | ((9 + lpnas_rng_below(&rng, 12)) << 10));
            b = (uint16_t)((b & 0x83FF) | ((9 + lpnas_rng_below(&rng, 12)) << 10));
            c = (uint16_t)((c & 0x83FF) | ((9 + lpnas_rng_below(&rng, 12)) << 10));
        }
        s.a[i].bits = a;
        s.b[i].bits = b | 0x0400; /* no zero divisors */
        s.c[i].bits = c & 0x7FFF; /* sqrt takes these: nonnegative */
        s.x[i] = (float)(lpnas_rng_normal(&rng) * exp(6.0 * lpnas_rng_uniform_f64(&rng) - 3.0));
    }
    const char *names[] = {"add", "mul", "div", "sqrt", "fma", "f32->f16"};
    printf("\nscalar binary16 ops, %s (%d non-repeating operand sets; no peer measured in this run: "
           "SoftFloat 3 is not installed)\n",
           typical ? "typical operands |x| in [2^-6, 2^6), f32 inputs +-e^[-3,3]"
                   : "uniform random bits (finite; about 40% of products over- or underflow)",
           N_OPS);
    printf("%-9s %12s %12s\n", "op", "RNE Mops/s", "RDN Mops/s");
    for (int op = 0; op < 6; op++) {
        s.op = op;
        double mops[2];
        for (int m = 0; m < 2; m++) {
            s.rm = m ? LPNAS_RDN : LPNAS_RNE;
            mops[m] = N_OPS / best_of(run_scalar, &s) / 1e6;
        }
        printf("%-9s %12.0f %12.0f\n", names[op], mops[0], mops[1]);
    }
    free(s.a);
    free(s.b);
    free(s.c);
    free(s.r);
    free(s.x);
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: bench_fp16\n  binary16 conversion (per SIMD path, vs memcpy) and scalar op throughput, one thread.\n");
        return 0;
    }
    printf("bench_fp16: binary16 conversions and arithmetic, one thread, best of %d runs\n", REPS);
    lpnas_bench_print_machine();
    printf("best array path on this CPU: %s\n", lpnas_f16_path_name(lpnas_f16_best_path()));
    conversions(32 * 1024, "L2-resident");
    conversions(16 * 1024 * 1024, "large (64 MiB)");
    scalar_ops(0);
    scalar_ops(1);
    return 0;
}
