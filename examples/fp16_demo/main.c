/* fp16_demo: what the device's numbers do to a network's values.
 *
 * Shows, through the public API only: (1) how a few values are stored by
 * IEEE binary16 and by the Myriad X plugin's host conversion, (2) the error
 * of one long dot product accumulated in fp32 and in fp16 (the two
 * accumulator assumptions of the myriadx policies), (3) dynamic loss
 * scaling keeping small gradients alive. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpnas.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fp16_demo [--length N] [--seed S] [--help]\n"
            "\n"
            "Prints how binary16 policies store a few values, the error of a dot product of\n"
            "length N (default 4608 = 3x3x512, a conv output) accumulated in fp32 and in fp16,\n"
            "and a loss-scaling run. Exits 0 on success, 2 on bad options.\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(splitmix(s) >> 11) * 0x1p-53; }

static void storage_table(void)
{
    const lpnas_policy *ieee, *mx;
    lpnas_policy_get("ieee-fp16", &ieee);
    lpnas_policy_get("myriadx", &mx);
    const float values[] = {0.1f, 1.0f + 0x1p-11f, 1.0f + 0x5p-11f, 3.0e-5f, 5.0e-8f, 65519.0f, 70000.0f, -NAN};
    printf("1. How values reach the device (bits, and the value they hold)\n");
    printf("%14s  %-22s  %-22s\n", "fp32 value", "ieee-fp16 (RNE)", "myriadx host conversion");
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        lpnas_f16 a, b;
        lpnas_policy_to_device(ieee, &a, &values[i], 1);
        lpnas_policy_to_device(mx, &b, &values[i], 1);
        printf("%14.9g  0x%04x %-15.9g  0x%04x %-15.9g\n", (double)values[i], a.bits, (double)lpnas_f16_to_f32(a),
               b.bits, (double)lpnas_f16_to_f32(b));
    }
    printf("   (ties go away from zero on myriadx; below 2^-15 it flushes to 0, [2^-15, 2^-14) becomes 2^-14,\n"
           "    and it saturates at 65504 where IEEE overflows to inf)\n\n");
}

static void dot_product(long n, uint64_t seed)
{
    const lpnas_policy *mx;
    lpnas_policy_get("myriadx", &mx);
    float *w = malloc((size_t)n * sizeof *w), *x = malloc((size_t)n * sizeof *x);
    lpnas_f16 *wh = malloc((size_t)n * sizeof *wh), *xh = malloc((size_t)n * sizeof *xh);
    if (!w || !x || !wh || !xh) {
        fprintf(stderr, "fp16_demo: out of memory for length %ld\n", n);
        exit(1);
    }
    uint64_t s = seed;
    for (long i = 0; i < n; i++) {
        w[i] = (float)((uniform(&s) - 0.5) * 0.1);     /* weights ~ kaiming scale */
        x[i] = (float)(uniform(&s) * 2.0);             /* post-ReLU activations */
    }
    lpnas_policy_to_device(mx, wh, w, (size_t)n);
    lpnas_policy_to_device(mx, xh, x, (size_t)n);
    double exact = 0;
    float acc32 = 0;
    lpnas_f16 acc16 = {0};
    for (long i = 0; i < n; i++) {
        double a = lpnas_f16_to_f32(wh[i]), b = lpnas_f16_to_f32(xh[i]);
        exact += a * b;
        acc32 += (float)(a * b); /* product of two halves is exact in fp32 */
        acc16 = lpnas_f16_fma(wh[i], xh[i], acc16, LPNAS_RNE, NULL);
    }
    float out32 = acc32;
    lpnas_policy_round(mx, &out32, 1); /* the output is stored as binary16 */
    float out16 = lpnas_f16_to_f32(acc16);
    printf("2. One dot product of length %ld on device values (sum of w*x)\n", n);
    printf("   exact (binary64)            %.9g\n", exact);
    printf("   fp32 accumulate, fp16 out   %.9g   (error %.3g, %.2f ulp of the fp16 output)\n", (double)out32,
           fabs(out32 - exact), fabs(out32 - exact) / (ldexp(1, ilogb(exact) - 10)));
    printf("   fp16 accumulate (fma chain) %.9g   (error %.3g, %.2f ulp) <- myriadx-fp16acc\n\n", (double)out16,
           fabs(out16 - exact), fabs(out16 - exact) / (ldexp(1, ilogb(exact) - 10)));
    free(w);
    free(x);
    free(wh);
    free(xh);
}

static void loss_scaling(void)
{
    lpnas_scaler sc;
    lpnas_scaler_options o;
    lpnas_scaler_options_default(&o);
    o.growth_interval = 4; /* short, to show growth */
    lpnas_scaler_init(&sc, &o);
    const lpnas_policy *ieee;
    lpnas_policy_get("ieee-fp16", &ieee);
    printf("3. Loss scaling: a gradient of 2e-8 is below half of binary16's smallest subnormal (6e-8)\n"
           "   and becomes 0; multiplied by the loss scale it is a normal number. A step whose scaled\n"
           "   gradients overflow is skipped and the scale halves; it doubles after clean steps (interval 4 here).\n");
    printf("   %4s %10s %12s %12s %12s %s\n", "step", "scale", "grad fp16", "grad*scale", "in fp16", "step");
    for (int step = 0; step < 10; step++) {
        float g = step == 3 ? 1.0f : 2e-8f; /* one step with a huge gradient */
        float scaled = g * sc.scale;
        float dev = scaled, plain = g;
        lpnas_policy_round(ieee, &dev, 1);
        lpnas_policy_round(ieee, &plain, 1);
        float used = sc.scale;
        bool applied = lpnas_scaler_update(&sc, lpnas_any_nonfinite(&dev, 1));
        printf("   %4d %10g %12g %12g %12g %s\n", step, (double)used, (double)plain, (double)scaled, (double)dev,
               applied ? "applied" : "skipped (inf)");
    }
    printf("   applied %llu, skipped %llu, final scale %g\n\n", (unsigned long long)sc.applied,
           (unsigned long long)sc.skipped, (double)sc.scale);
}

int main(int argc, char **argv)
{
    long n = 4608, seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--length") && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 100000000L, &n)) {
                fprintf(stderr, "fp16_demo: --length '%s': expected an integer in [1, 100000000]\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            if (parse_long(argv[++i], 0, 1L << 62, &seed)) {
                fprintf(stderr, "fp16_demo: --seed '%s': expected a non-negative integer\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "fp16_demo: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    printf("liblpnas %s fp16 demo (array conversions use the %s path on this CPU)\n\n", lpnas_version(),
           lpnas_f16_path_name(lpnas_f16_best_path()));
    storage_table();
    dot_product(n, (uint64_t)seed);
    loss_scaling();
    return 0;
}
