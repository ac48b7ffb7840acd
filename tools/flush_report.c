/* flush_report: where the Myriad X conversion hurts a network trained on raw
 * sensor values (docs/experiment.md, "why mobile recovers little").
 *
 * Trains one network exactly as align_experiment's warm-up does (same
 * split, seed, steps), then for every conv/deconv prints its folded weights'
 * range and how many the myriadx host conversion flushes (|w| < 2^-15 -> 0,
 * [2^-15, 2^-14) -> 2^-14), and the validation mIoU when that one layer
 * alone keeps its FP32 folded weights (everything else deployed in the
 * policy): the layer's share of the post-hoc gap. Then the same after the
 * aligned fine-tuning. A diagnostic, not part of the library:
 *
 *   cc -std=c11 -O2 -I. -Iinclude tools/flush_report.c build/liblpnas.a \
 *      -L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas -lpng16 -lz -lpthread -lm -o build/flush_report
 *   build/flush_report DATA NORM(none|device) PRESET SEED [POLICY [WARMUP [FINETUNE [FT_LR]]]]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/net_internal.h"
#include "lpnas/core.h"
#include "lpnas/data.h"
#include "lpnas/policy.h"
#include "lpnas/train.h"

static const lpnas_policy *POL, *FP;

static int cmp(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

static double eval(lpnas_net *net, const lpnas_dataset *d, const int *va, int nv, const lpnas_policy *p)
{
    lpnas_eval_result e;
    if (lpnas_evaluate(net, d, va, nv, p, &e)) {
        fprintf(stderr, "evaluate: %s\n", lpnas_last_error());
        exit(1);
    }
    return e.miou;
}

/* the policy's fold, with the folded weights of node `keep` (or of every
 * node when keep < 0) replaced by their FP32 fold */
static void mixed_fold(lpnas_net *net, const float *f32, int keep)
{
    net->fold_dirty = true;
    lpnas_net_fold(net, POL);
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        if ((nd->kind != LPNAS_NODE_CONV && nd->kind != LPNAS_NODE_DECONV) || (keep >= 0 && i != keep))
            continue;
        size_t nw = (size_t)nd->params - (nd->bias ? (size_t)nd->c : 0);
        memcpy(net->folded + net->s[i].fw, f32 + net->s[i].fw, nw * 4);
        memcpy(net->folded + net->s[i].fb, f32 + net->s[i].fb, (size_t)nd->c * 4);
    }
}

static void report(lpnas_net *net, const lpnas_dataset *d, const int *va, int nv, const char *when)
{
    float *f32 = malloc(net->nfolded * 4);
    net->fold_dirty = true;
    lpnas_net_fold(net, FP);
    memcpy(f32, net->folded, net->nfolded * 4);
    double full = eval(net, d, va, nv, FP), ph = eval(net, d, va, nv, POL);
    mixed_fold(net, f32, -1);
    double wonly = eval(net, d, va, nv, POL);
    printf("%s: FP32 %.4f  %s %.4f  %s with all FP32 folded weights (activations in the policy) %.4f\n", when,
           full, lpnas_policy_name(POL), ph, lpnas_policy_name(POL), wonly);
    printf("%4s %-7s %4s %5s %3s %7s %10s %10s %8s %8s %8s  %s\n", "node", "kind", "k", "in", "g", "weights",
           "max|w|", "med|w|", "->0", "->2^-14", "bias->0", "mIoU, this layer FP32");
    float ts = ldexpf(1, -15), tn = ldexpf(1, -14);
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        if (nd->kind != LPNAS_NODE_CONV && nd->kind != LPNAS_NODE_DECONV)
            continue;
        size_t nw = (size_t)nd->params - (nd->bias ? (size_t)nd->c : 0);
        const float *w = f32 + net->s[i].fw, *b = f32 + net->s[i].fb;
        float mx = 0, *a = malloc(nw * 4);
        long z = 0, m = 0, bz = 0;
        for (size_t k = 0; k < nw; k++) {
            a[k] = fabsf(w[k]);
            mx = a[k] > mx ? a[k] : mx;
            z += a[k] < ts, m += a[k] >= ts && a[k] < tn;
        }
        for (int c = 0; c < nd->c; c++)
            bz += fabsf(b[c]) < ts && b[c] != 0;
        qsort(a, nw, 4, cmp);
        mixed_fold(net, f32, i);
        double mi = eval(net, d, va, nv, POL);
        printf("%4d %-7s %4d %5d %3d %7zu %10.3g %10.3g %8ld %8ld %8ld  %.4f (%+.4f)\n", i,
               nd->kind == LPNAS_NODE_CONV ? (nd->groups > 1 ? "dwconv" : "conv") : "deconv", nd->kernel, nd->in_c,
               nd->groups, nw, (double)mx, (double)a[nw / 2], z, m, bz, mi, mi - ph);
        free(a);
    }
    net->fold_dirty = true;
    free(f32);
}

int main(int argc, char **argv)
{
    static const char usage[] = "usage: flush_report DATA none|device PRESET SEED [POLICY [WARMUP [FINETUNE [FT_LR]]]]\n"
                                "  defaults: myriadx 300 100 1e-3; split, seeds and recipe as align_experiment's\n";
    if (argc > 1 && !strcmp(argv[1], "--help"))
        return fputs(usage, stdout), 0;
    if (argc < 5 || (strcmp(argv[2], "none") && strcmp(argv[2], "device")))
        return fputs(usage, stderr), 2;
    const char *data = argv[1], *preset = argv[3];
    int raw = !strcmp(argv[2], "none"), warm = argc > 6 ? atoi(argv[6]) : 300, fine = argc > 7 ? atoi(argv[7]) : 100;
    long seed = atol(argv[4]);
    if (lpnas_policy_get(argc > 5 ? argv[5] : "myriadx", &POL) || lpnas_policy_get("fp32", &FP))
        return fprintf(stderr, "%s\n", lpnas_last_error()), 2;
    lpnas_arch arch;
    lpnas_dataset *d;
    if (lpnas_arch_preset(preset, &arch) || lpnas_dataset_load_png_dir(data, &d))
        return fprintf(stderr, "%s\n", lpnas_last_error()), 1;
    int *tr, *va, nt, nv;
    char how[600];
    lpnas_net *net;
    if (lpnas_dataset_split_scenes(d, data, 0.2, (uint64_t)seed, &tr, &nt, &va, &nv, how, sizeof how))
        return fprintf(stderr, "%s\n", lpnas_last_error()), 1;
    lpnas_net_options no = {16, lpnas_dataset_height(d), lpnas_dataset_width(d), (uint64_t)seed};
    if (lpnas_net_create(&arch, &no, &net))
        return fprintf(stderr, "%s\n", lpnas_last_error()), 1;
    float mean[16], sd[16];
    lpnas_dataset_channel_stats(d, tr, nt, mean, sd);
    for (int c = 0; raw && c < 16; c++)
        mean[c] = 0, sd[c] = 1;
    lpnas_net_set_normalization(net, mean, sd);
    printf("%s %s %s seed %ld: %s\n", data, argv[2], preset, seed, how);
    lpnas_train_options to;
    lpnas_train_options_default(&to);
    to.steps = warm, to.batch = 16, to.seed = (uint64_t)seed, to.lr = 3e-3;
    lpnas_train_result r;
    if (lpnas_train(net, d, tr, nt, &to, &r))
        return fprintf(stderr, "%s\n", lpnas_last_error()), 1;
    report(net, d, va, nv, "after the FP32 warm-up");
    double flr = argc > 8 ? atof(argv[8]) : 1e-3;
    float *before = malloc(net->nparams * 4);
    memcpy(before, net->params, net->nparams * 4);
    to.steps = fine, to.lr = flr, to.seed = (uint64_t)seed + 1, to.scaler.growth_interval = 50, to.policy = POL;
    lpnas_status st = lpnas_train(net, d, tr, nt, &to, &r);
    printf("aligned fine-tuning: %d steps, %ld skipped, final loss scale %g%s\n", r.steps, r.skipped_steps,
           r.final_scale, st ? " (stopped: non-finite loss)" : "");
    /* how far the first conv's master weights and its BN scale moved */
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        if (nd->kind != LPNAS_NODE_CONV)
            continue;
        size_t nw = (size_t)nd->params - (nd->bias ? (size_t)nd->c : 0);
        float *a = malloc(nw * 4), *dw = malloc(nw * 4);
        for (size_t k = 0; k < nw; k++)
            a[k] = fabsf(before[net->s[i].w + k]), dw[k] = fabsf(net->params[net->s[i].w + k] - before[net->s[i].w + k]);
        qsort(a, nw, 4, cmp), qsort(dw, nw, 4, cmp);
        const lpnas_net_slots *t = &net->s[i + 1];
        double g0 = 0, g1 = 0, sg = 0;
        for (int c = 0; c < nd->c; c++)
            g0 += fabs(before[t->w + c]), g1 += fabs(net->params[t->w + c]),
                sg += sqrt(net->buffers[t->buf + nd->c + c] + 1e-5);
        printf("first conv (node %d, lr %g): median |W| %.3g, median |dW| %.3g (%.1f %%); mean |gamma| %.4f -> %.4f; "
               "mean BN sigma %.4g\n",
               i, flr, (double)a[nw / 2], (double)dw[nw / 2], 100.0 * dw[nw / 2] / a[nw / 2], g0 / nd->c, g1 / nd->c,
               sg / nd->c);
        free(a), free(dw);
        break;
    }
    free(before);
    report(net, d, va, nv, "after the aligned fine-tuning");
    lpnas_net_free(net);
    lpnas_dataset_free(d);
    free(tr), free(va);
    return 0;
}
