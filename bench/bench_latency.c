/* make bench: latency estimates per second (the search's inner loop: target
 * >= 10^6 architectures/s on one core for 20-60 layer lists), and the host
 * profiler's additivity error on the two reference networks. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rng.h"
#include "harness.h"
#include "lpnas/latency.h"

/* Seconds of CPU time this thread has run: on a shared machine the wall
 * clock also counts the time other processes hold the core, which says
 * nothing about the estimate. Both are printed. */
static double thread_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A random encoder-decoder-like list of n layers (convs, dw convs, pools, adds, upsampling). */
static void random_list(lpnas_layer_list *l, int n, lpnas_rng *r)
{
    lpnas_layer_list_init(l);
    int hw = 64, c = 3;
    for (int i = 0; i < n; i++) {
        int kind = (int)lpnas_rng_below(r, 5);
        int oc = 8 * (1 + (int)lpnas_rng_below(r, 8));
        lpnas_layer y = {LPNAS_OP_CONV, hw, hw, c, oc, 3, 1, 1, LPNAS_ACT_RELU, 1};
        if (kind == 1 && c > 1)
            y.out_c = c, y.groups = c;
        else if (kind == 2 && hw > 8)
            y.op = LPNAS_OP_MAXPOOL, y.out_c = c, y.kernel = 2, y.stride = 2, y.act = LPNAS_ACT_NONE;
        else if (kind == 3)
            y.op = LPNAS_OP_ADD, y.out_c = c, y.kernel = 1;
        else if (kind == 4 && hw < 64)
            y.op = LPNAS_OP_UPSAMPLE_NEAREST, y.out_c = c, y.kernel = 1, y.stride = 2, y.act = LPNAS_ACT_NONE;
        lpnas_layer_list_push(l, &y);
        int oh, ow;
        lpnas_layer_out_hw(&y, &oh, &ow);
        hw = oh, c = y.out_c;
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: bench_latency [--estimates-only]\n  Myriad X estimates per second (target: >= 10^6 "
               "architectures/s at 60 layers, one thread), and host additivity error.\n");
        return 0;
    }
    bool estimates_only = argc > 1 && !strcmp(argv[1], "--estimates-only");
    if (argc > 1 && !estimates_only) {
        fprintf(stderr, "bench_latency: unknown option '%s' (see --help)\n", argv[1]);
        return 2;
    }
    printf("bench_latency: latency estimates per second (one thread) and host additivity\n");
    lpnas_bench_print_machine();
    lpnas_latency_model *m;
    if (lpnas_latency_model_myriadx(NULL, &m))
        return 1;
    lpnas_rng r;
    lpnas_rng_seed(&r, 3);
    enum { LISTS = 256 };
    printf("%-22s %10s %16s %14s %18s\n", "layer lists", "layers", "architectures/s", "ns per layer",
           "wall-clock arch/s");
    const int sizes[] = {20, 40, 60};
    double rate60 = 0;
    for (int s = 0; s < 3; s++) {
        lpnas_layer_list *ls = malloc(LISTS * sizeof *ls);
        for (int i = 0; i < LISTS; i++)
            random_list(&ls[i], sizes[s], &r);
        double sink = 0, t0 = lpnas_bench_now(), c0 = thread_cpu_now();
        long n = 0;
        while (thread_cpu_now() - c0 < 0.5)
            for (int i = 0; i < LISTS; i++, n++) {
                double t;
                lpnas_latency_estimate(m, &ls[i], NULL, &t);
                sink += t;
            }
        double dt = thread_cpu_now() - c0, wall = lpnas_bench_now() - t0;
        printf("%-22s %10d %16.3g %14.1f %18.3g\n", "random encoder-decoder", sizes[s], n / dt, dt / n / sizes[s] * 1e9,
               n / wall);
        if (sizes[s] == 60)
            rate60 = n / dt;
        lpnas_bench_sink(&sink, sizeof sink);
        for (int i = 0; i < LISTS; i++)
            lpnas_layer_list_free(&ls[i]);
        free(ls);
    }
    lpnas_latency_model_free(m);
    printf("60-layer estimates: %.3g architectures/s per core of CPU time (target >= 1e6: %s)\n", rate60,
           rate60 >= 1e6 ? "met" : "NOT met");
    if (estimates_only)
        return 0;

    printf("\nhost additivity (fp32 kernels, median of 5 runs): per-layer sum vs whole list back to back\n");
    printf("%-28s %12s %12s %8s\n", "network", "sum ms", "whole ms", "error");
    const char *files[] = {"examples/latency/resnet18_224.csv", "examples/latency/deeplabv3_mnv2_256.csv"};
    double mape = 0;
    for (int i = 0; i < 2; i++) {
        lpnas_layer_list l;
        lpnas_latency_model *h;
        lpnas_profile_options o;
        lpnas_profile_options_default(&o);
        o.repetitions = 5;
        double whole, sum;
        if (lpnas_layer_list_load(&l, files[i]) || lpnas_latency_profile_host(&l, &o, &h) ||
            lpnas_latency_additivity(h, &l, &o, &whole, &sum)) {
            fprintf(stderr, "bench_latency: %s\n", lpnas_last_error());
            return 1;
        }
        double err = fabs(sum - whole) / whole;
        mape += err / 2;
        printf("%-28s %12.2f %12.2f %7.1f%%\n", strrchr(files[i], '/') + 1, sum, whole, 100 * err);
        lpnas_latency_model_free(h);
        lpnas_layer_list_free(&l);
    }
    printf("mean absolute error: %.1f%%\n", 100 * mape);
    return 0;
}
