/* Device fine-tuning throughput (images/s of whole steps: forward, backward,
 * loss scaling, Adam), batch 16, one thread: `bench_finetune [--preset P]
 * [--policy P] [--size N] [--steps N]`. Public API only, so the same file
 * builds against an older library and the two can be run interleaved (the
 * before/after figure of docs/performance.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernels/blas.h"
#include "lpnas.h"

static int fail(void)
{
    fprintf(stderr, "bench_finetune: %s\n", lpnas_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *preset = "paper96k", *policy = "myriadx";
    int size = 64, steps = 12;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bench_finetune [--preset NAME] [--policy NAME] [--size N] [--steps N]\n"
                   "  device fine-tuning images/s (batch 16, Adam, loss scaling, one thread);\n"
                   "  defaults: paper96k, myriadx, 64, 12 steps after 2 warm-up steps.\n");
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_finetune: %s needs a value (see --help)\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--preset"))
            preset = argv[++i];
        else if (!strcmp(argv[i], "--policy"))
            policy = argv[++i];
        else if (!strcmp(argv[i], "--size"))
            size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps"))
            steps = atoi(argv[++i]);
        else {
            fprintf(stderr, "bench_finetune: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (size < 16 || size > 1024 || steps < 1 || steps > 100000) {
        fprintf(stderr, "bench_finetune: --size %d (16..1024) or --steps %d (1..100000) out of range\n", size, steps);
        return 2;
    }
    lpnas_blas_single_thread();
    lpnas_arch a;
    lpnas_net_options no = {16, size, size, 1};
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 64, so.size = size;
    lpnas_net *net;
    lpnas_dataset *d;
    lpnas_train_options o;
    lpnas_train_options_default(&o);
    if (lpnas_arch_preset(preset, &a) || lpnas_policy_get(policy, &o.policy) || lpnas_net_create(&a, &no, &net) ||
        lpnas_dataset_synthetic(&so, &d))
        return fail();
    int idx[64];
    for (int i = 0; i < 64; i++)
        idx[i] = i;
    lpnas_train_result r;
    const lpnas_policy *dev = o.policy;
    o.policy = NULL, o.steps = 20; /* FP32 warm-up: running statistics worth folding */
    if (lpnas_train(net, d, idx, 64, &o, &r))
        return fail();
    o.policy = dev, o.steps = 2;
    if (lpnas_train(net, d, idx, 64, &o, &r))
        return fail();
    o.steps = steps;
    double t0 = lpnas_bench_now();
    if (lpnas_train(net, d, idx, 64, &o, &r))
        return fail();
    double ips = steps * 16.0 / (lpnas_bench_now() - t0);
    printf("%s %s %dx%d: %.2f images/s fine-tuning (%d steps, %ld skipped)\n", preset, policy, size, size, ips, steps,
           r.skipped_steps);
    lpnas_net_free(net);
    lpnas_dataset_free(d);
    return 0;
}
