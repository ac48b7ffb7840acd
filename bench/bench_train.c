/* make bench: training throughput (images/s of whole steps: forward,
 * backward, Adam update; batch 16, one thread), every ratio measured in this
 * run:
 *   1. FP32 against PyTorch on the same network (unet-peer is the network of
 *      ../shared/peers/peer_torch.py, mobile the one of
 *      bench/peer_torch_mobile.py), run with /usr/bin/python3 and
 *      Debian's python3-torch, one thread; the two sides alternate (which
 *      one goes first alternates too), >= 5 pairs; per pair one ratio;
 *      printed as median (min-max);
 *   2. fine-tuning in myriadx against our FP32, alternating pairs;
 *   3. two training threads (the search's two workers) against one.
 * Without python3-torch the first table says "PyTorch not installed". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "kernels/blas.h"
#include "lpnas.h"

#define PYTHON "/usr/bin/python3"

typedef struct {
    lpnas_net *net;
    lpnas_dataset *d;
    int idx[64];
} setup;

static void make_setup(setup *su, const char *preset, int size)
{
    lpnas_arch a;
    lpnas_arch_preset(preset, &a);
    lpnas_net_options no = {16, size, size, 1};
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 64, so.size = size;
    if (lpnas_net_create(&a, &no, &su->net) || lpnas_dataset_synthetic(&so, &su->d)) {
        fprintf(stderr, "bench_train: %s\n", lpnas_last_error());
        exit(1);
    }
    for (int i = 0; i < 64; i++)
        su->idx[i] = i;
}

static void free_setup(setup *su)
{
    lpnas_net_free(su->net);
    lpnas_dataset_free(su->d);
}

/* Like the peer: a few warm-up steps, then the timed ones. With a barrier
 * (two_workers), every thread warms up first and the timing starts when all
 * have: the warm-up steps and first-touch of the buffers stay out of the
 * timed window on both sides of the ratio. */
static double images_per_s_sync(setup *su, const char *policy, int steps, pthread_barrier_t *ready)
{
    lpnas_train_options o;
    lpnas_train_options_default(&o);
    lpnas_policy_get(policy, &o.policy);
    lpnas_train_result r;
    o.steps = 2;
    lpnas_train(su->net, su->d, su->idx, 64, &o, &r);
    o.steps = steps;
    if (ready)
        pthread_barrier_wait(ready);
    double t0 = lpnas_bench_now();
    if (lpnas_train(su->net, su->d, su->idx, 64, &o, &r)) {
        fprintf(stderr, "bench_train: %s\n", lpnas_last_error());
        exit(1);
    }
    return steps * 16.0 / (lpnas_bench_now() - t0);
}

static double images_per_s(setup *su, const char *policy, int steps)
{
    return images_per_s_sync(su, policy, steps, NULL);
}

static double ours(const char *preset, int size, const char *policy, int steps)
{
    setup su;
    make_setup(&su, preset, size);
    double v = images_per_s(&su, policy, steps);
    free_setup(&su);
    return v;
}

static bool torch_available(const char *peer, char *why, size_t cap)
{
    if (access(PYTHON, X_OK) != 0) {
        snprintf(why, cap, "PyTorch not installed (no %s)", PYTHON);
        return false;
    }
    if (access(peer, R_OK) != 0) {
        snprintf(why, cap, "PyTorch peer script %s not found (run make bench from the repository root, or --peer)",
                 peer);
        return false;
    }
    if (system(PYTHON " -c 'import torch' >/dev/null 2>&1") != 0) {
        snprintf(why, cap, "PyTorch not installed (%s cannot import torch; apt-get install python3-torch)", PYTHON);
        return false;
    }
    return true;
}

/* images_per_s of one peer run, or -1. */
static double torch_run(const char *peer, int size, int steps, char *version, size_t vcap)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "%s '%s' --size %d --batch 16 --steps %d --threads 1 2>&1", PYTHON, peer, size, steps);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[1024];
    double v = -1;
    while (fgets(line, sizeof line, p)) {
        const char *k = strstr(line, "images_per_s=");
        if (k)
            v = atof(k + 13);
    }
    pclose(p);
    if (version && !version[0]) {
        FILE *q = popen(PYTHON " -c 'import torch; print(torch.__version__)' 2>/dev/null", "r");
        if (q) {
            if (fgets(version, (int)vcap, q))
                version[strcspn(version, "\n")] = '\0';
            pclose(q);
        }
    }
    return v;
}

static void print_stat(const char *label, double *v, int n)
{
    double m, lo, hi;
    char t[64];
    lpnas_bench_median(v, n, &m, &lo, &hi);
    snprintf(t, sizeof t, "%.2f (%.2f-%.2f)", m, lo, hi);
    (void)label;
    printf(" %26s", t);
}

/* One row of table 1: our preset against its PyTorch twin, alternating. */
static void vs_torch_row(const char *preset, const char *peer, int size, int pairs, int quick, char *version,
                         size_t vcap)
{
    char why[4400];
    if (!torch_available(peer, why, sizeof why)) {
        printf("%-10s %dx%d: %s: no ratio printed\n", preset, size, size, why);
        return;
    }
    int our_steps = quick ? 4 : size == 64 ? 16 : 6, t_steps = quick ? 4 : size == 64 ? 20 : 6;
    double a[32], b[32], r[32];
    for (int k = 0; k < pairs; k++) {
        /* alternate which side runs first: drift in the machine's load hits both */
        if (k % 2 == 0) {
            a[k] = ours(preset, size, "fp32", our_steps);
            b[k] = torch_run(peer, size, t_steps, version, vcap);
        } else {
            b[k] = torch_run(peer, size, t_steps, version, vcap);
            a[k] = ours(preset, size, "fp32", our_steps);
        }
        if (b[k] <= 0) {
            printf("%-10s %dx%d: the PyTorch peer %s printed no images_per_s: no ratio\n", preset, size, size, peer);
            return;
        }
        r[k] = a[k] / b[k];
    }
    char t[16];
    snprintf(t, sizeof t, "%dx%d", size, size);
    printf("%-10s %-8s", preset, t);
    print_stat("", a, pairs);
    print_stat("       ", b, pairs);
    print_stat("       ", r, pairs);
    printf("x\n");
}

/* unet-peer is ../shared/peers/peer_torch.py's network; mobile (depthwise
 * separable and inverted-residual blocks, the other half of the search
 * space) is built layer for layer in bench/peer_torch_mobile.py. */
static void vs_torch(const char *peer, const char *mobile_peer, int pairs, int quick)
{
    printf("\n1. FP32 training vs PyTorch, batch 16, Adam, one thread; %d alternating pairs\n", pairs);
    char version[64] = "";
    printf("%-10s %-8s %26s %26s %26s\n", "network", "tile", "liblpnas img/s", "PyTorch img/s",
           "ratio liblpnas/PyTorch");
    vs_torch_row("unet-peer", peer, 64, pairs, quick, version, sizeof version);
    vs_torch_row("unet-peer", peer, 128, pairs, quick, version, sizeof version);
    vs_torch_row("mobile", mobile_peer, 64, pairs, quick, version, sizeof version);
    printf("(median (min-max) over the pairs; ratio per pair; PyTorch %s via %s %s and %s, --threads 1)\n",
           version[0] ? version : "-", PYTHON, peer, mobile_peer);
}

static void vs_fp32(int pairs, int quick)
{
    printf("\n2. fine-tuning in myriadx vs our FP32, batch 16, one thread; %d alternating pairs\n", pairs);
    printf("%-10s %-8s %26s %26s %26s\n", "network", "tile", "fp32 img/s", "myriadx img/s", "ratio myriadx/fp32");
    const char *nets[] = {"unet-peer", "paper96k"};
    for (int n = 0; n < 2; n++)
        for (int si = 0; si < 2; si++) {
            int size = si ? 128 : 64;
            if (n == 1 && size == 128)
                continue;
            int steps = quick ? 3 : size == 64 ? 12 : 4;
            setup su;
            make_setup(&su, nets[n], size);
            double a[32], b[32], r[32];
            for (int k = 0; k < pairs; k++) {
                if (k % 2 == 0)
                    a[k] = images_per_s(&su, "fp32", steps), b[k] = images_per_s(&su, "myriadx", steps);
                else
                    b[k] = images_per_s(&su, "myriadx", steps), a[k] = images_per_s(&su, "fp32", steps);
                r[k] = b[k] / a[k];
            }
            free_setup(&su);
            char t[16];
            snprintf(t, sizeof t, "%dx%d", size, size);
            printf("%-10s %-8s", nets[n], t);
            print_stat("", a, pairs);
            print_stat("       ", b, pairs);
            print_stat("       ", r, pairs);
            printf("x\n");
        }
}

typedef struct {
    setup su;
    int steps;
    double ips;
    pthread_barrier_t *ready;
} job;

static void *train_job(void *v)
{
    job *j = v;
    j->ips = images_per_s_sync(&j->su, "fp32", j->steps, j->ready);
    return NULL;
}

/* Two threads each training its own net, as two search workers do. Timed
 * like one thread: from when both have warmed up (the barrier, which this
 * thread joins too) until both are done, the same timed steps each. */
static double two_workers(int steps)
{
    job j[2];
    pthread_t th[2];
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, 3);
    for (int i = 0; i < 2; i++) {
        make_setup(&j[i].su, "paper96k", 64);
        j[i].steps = steps;
        j[i].ready = &ready;
    }
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, train_job, &j[i]);
    pthread_barrier_wait(&ready);
    double t0 = lpnas_bench_now();
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double ips = 2 * steps * 16.0 / (lpnas_bench_now() - t0);
    pthread_barrier_destroy(&ready);
    for (int i = 0; i < 2; i++)
        free_setup(&j[i].su);
    return ips;
}

static void workers(int pairs, int quick)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("\n3. two training threads (two search workers) vs one, paper96k 64x64, FP32; %d alternating pairs\n",
           pairs);
    if (cores < 2) {
        printf("one core online: not measured\n");
        return;
    }
    int steps = quick ? 3 : 12;
    double a[32], b[32], r[32];
    for (int k = 0; k < pairs; k++) {
        if (k % 2 == 0)
            a[k] = ours("paper96k", 64, "fp32", steps), b[k] = two_workers(steps);
        else
            b[k] = two_workers(steps), a[k] = ours("paper96k", 64, "fp32", steps);
        r[k] = b[k] / a[k];
    }
    printf("%-8s %26s %26s %26s\n", "", "1 thread img/s", "2 threads img/s", "ratio 2/1");
    printf("%-8s", "");
    print_stat("", a, pairs);
    print_stat("       ", b, pairs);
    print_stat("       ", r, pairs);
    printf("x\n(meaningful only on an otherwise idle machine with >= 2 cores)\n");
}

/* An integer option in lo..hi into *v, or a message naming it. */
static bool int_option(const char *name, const char *arg, int lo, int hi, int *v)
{
    char *e;
    long x = strtol(arg, &e, 10);
    if (!*arg || *e || x < lo || x > hi) {
        fprintf(stderr, "bench_train: %s '%s': expected %d..%d\n", name, arg, lo, hi);
        return false;
    }
    *v = (int)x;
    return true;
}

int main(int argc, char **argv)
{
    int pairs = 5, quick = 0, table = 0;
    const char *peer = getenv("LPNAS_PEER_TORCH") ? getenv("LPNAS_PEER_TORCH") : "../shared/peers/peer_torch.py";
    const char *mobile_peer = "bench/peer_torch_mobile.py";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bench_train [--pairs N] [--peer FILE] [--mobile-peer FILE] [--table N] [--quick]\n"
                   "  training images/s, batch 16, one thread: FP32 vs PyTorch (%s FILE, default\n"
                   "  ../shared/peers/peer_torch.py or $LPNAS_PEER_TORCH, for unet-peer; for mobile\n"
                   "  bench/peer_torch_mobile.py), myriadx vs FP32, 2 threads vs 1.\n"
                   "  --pairs N  alternating pairs per figure (default 5, 1..32)\n"
                   "  --table N  only table N (1 PyTorch, 2 myriadx, 3 two threads; default all)\n"
                   "  --quick    few steps per run (a smoke test, not a measurement)\n",
                   PYTHON);
            return 0;
        } else if (!strcmp(argv[i], "--pairs") && i + 1 < argc) {
            if (!int_option("--pairs", argv[++i], 1, 32, &pairs))
                return 2;
        } else if (!strcmp(argv[i], "--table") && i + 1 < argc) {
            if (!int_option("--table", argv[++i], 1, 3, &table))
                return 2;
        } else if (!strcmp(argv[i], "--peer") && i + 1 < argc) {
            peer = argv[++i];
        } else if (!strcmp(argv[i], "--mobile-peer") && i + 1 < argc) {
            mobile_peer = argv[++i];
        } else if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else {
            fprintf(stderr, "bench_train: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines as they come: the runs are long */
    lpnas_blas_single_thread();
    printf("bench_train: training throughput, batch 16, Adam, one thread per training\n");
    lpnas_bench_print_machine();
    if (!table || table == 1)
        vs_torch(peer, mobile_peer, pairs, quick);
    if (!table || table == 2)
        vs_fp32(pairs, quick);
    if (!table || table == 3)
        workers(table == 3 ? pairs : pairs < 3 ? pairs : 3, quick);
    return 0;
}
