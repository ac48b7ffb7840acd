/* make bench: training throughput (images/s: forward + backward + Adam
 * update, batch 16, one thread) in FP32 and under myriadx, for the paper96k
 * preset and the exact network of shared/peers/peer_torch.py (unet-peer).
 * The PyTorch side (peer_torch.py, Debian's python3-torch, one thread) was
 * measured on this kind of machine at 35.7 images/s (64x64) and 7.0 (128x128):
 * those figures are quoted, as torch is not installed here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernels/blas.h"
#include "lpnas.h"

static double images_per_s(const char *preset, int size, const char *policy, int steps)
{
    lpnas_arch a;
    lpnas_arch_preset(preset, &a);
    lpnas_net_options no = {16, size, size, 1};
    lpnas_net *net;
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 64, so.size = size;
    lpnas_dataset *d;
    if (lpnas_net_create(&a, &no, &net) || lpnas_dataset_synthetic(&so, &d)) {
        fprintf(stderr, "bench_train: %s\n", lpnas_last_error());
        exit(1);
    }
    int idx[64];
    for (int i = 0; i < 64; i++)
        idx[i] = i;
    lpnas_train_options o;
    lpnas_train_options_default(&o);
    lpnas_policy_get(policy, &o.policy);
    lpnas_train_result r;
    o.steps = 2; /* warm-up */
    lpnas_train(net, d, idx, 64, &o, &r);
    o.steps = steps;
    double t0 = lpnas_bench_now();
    if (lpnas_train(net, d, idx, 64, &o, &r)) {
        fprintf(stderr, "bench_train: %s\n", lpnas_last_error());
        exit(1);
    }
    double ips = steps * 16.0 / (lpnas_bench_now() - t0);
    lpnas_net_free(net);
    lpnas_dataset_free(d);
    return ips;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: bench_train\n  training images/s, batch 16, one thread, FP32 and myriadx.\n");
        return 0;
    }
    lpnas_blas_single_thread();
    printf("bench_train: training throughput, batch 16, Adam, one thread\n");
    lpnas_bench_print_machine();
    printf("%-10s %6s %12s %14s %10s %14s %12s\n", "network", "tile", "fp32 img/s", "myriadx img/s", "ratio",
           "PyTorch img/s", "fp32/torch");
    const char *nets[] = {"unet-peer", "paper96k"};
    const int sizes[] = {64, 128};
    const double torch[] = {35.7, 7.0};
    for (int n = 0; n < 2; n++)
        for (int s = 0; s < 2; s++) {
            int steps = sizes[s] == 64 ? 12 : 4;
            double f = images_per_s(nets[n], sizes[s], "fp32", steps);
            double m = images_per_s(nets[n], sizes[s], "myriadx", steps);
            if (n == 0)
                printf("%-10s %3dx%-3d %11.1f %14.1f %9.2fx %14.1f %11.2fx\n", nets[n], sizes[s], sizes[s], f, m,
                       m / f, torch[s], f / torch[s]);
            else
                printf("%-10s %3dx%-3d %11.1f %14.1f %9.2fx %14s %12s\n", nets[n], sizes[s], sizes[s], f, m,
                       m / f, "-", "-");
        }
    printf("(PyTorch: peer_torch.py --threads 1, quoted from issue 4 for this kind of machine)\n");
    return 0;
}
