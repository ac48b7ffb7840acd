/* blockwise: the block-wise mixed-precision shortcuts (include/lpnas/blockwise.h).
 * Trains one architecture in FP32 (the teacher), then
 *   --mode precision (default): measures once per encoder stage and weight
 *     format the mIoU with only that stage's weights in the format, chooses
 *     the assignment under a size budget from the table, and measures that
 *     choice for real to show how far the additivity assumption holds;
 *   --mode distill: the feature-distillation table over candidate blocks and
 *     formats per stage, the search over it under the latency and size
 *     budgets, and the choice trained and measured (distill.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distill.h"
#include "lpnas.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: blockwise [options]\n"
               "\n"
               "  --arch STRING|PRESET  the network (default paper96k)\n"
               "  --data DIR            PNG folder (images/, masks/; scene-wise split with manifest.csv);\n"
               "                        default: synthetic tiles\n"
               "  --tiles N             synthetic tiles without --data (default 200)\n"
               "  --device NAME         imx8mp (default) or myriadx: the weight formats of the table\n"
               "  --policy NAME         (default: the device's, int8 for imx8mp)\n"
               "  --steps N             FP32 training steps (default 300)\n"
               "  --max-weight-bytes N  size budget for the choice (default: none)\n"
               "  --seed N              (default 1)\n"
               "  --mode NAME           precision (default): the table over formats per stage;\n"
               "                        distill: the feature-distillation table over candidate blocks\n"
               "                        (plain, separable, inverted e4 at 0.5, 1, 1.5 x each stage's width)\n"
               "                        and formats, searched under the budgets\n"
               "  --kd-steps N          distill: training steps per candidate block (default 60)\n"
               "  --max-ms X            distill: latency budget in ms on the device's model (default: none)\n"
               "  --no-measure          distill: do not train and measure the choice and the teacher\n"
               "  --help                this text\n"
               "\n"
               "Prints the table (mIoU with one stage in each format, or distillation losses), the\n"
               "choice with its predicted and measured quality and its size. Exit: 0 done, 1 error,\n"
               "2 bad options.\n");
}

static int num(const char *s, double lo, double hi, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return !*s || *end || !(*v >= lo && *v <= hi);
}

void blockwise_train_progress(void *user, const lpnas_train_progress *p)
{
    fprintf(stderr, "blockwise: %s step %d/%d  loss %.4f  %.0f images/s\n", (const char *)user, p->step, p->steps,
            p->loss, p->images_per_s);
}

int blockwise_progress_every(int steps)
{
    return steps >= 10 ? steps / 5 : 1;
}

int main(int argc, char **argv)
{
    const char *arch_s = "paper96k", *data = NULL, *device = "imx8mp", *policy = NULL;
    double tiles = 200, steps = 300, budget = 0, seed = 1, kd_steps = 60, max_ms = 0, v;
    bool distill = false, measure = true;
    setvbuf(stdout, NULL, _IOLBF, 0); /* the table's lines reach a log as they are printed */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--arch") && has) arch_s = argv[++i];
        else if (!strcmp(a, "--data") && has) data = argv[++i];
        else if (!strcmp(a, "--device") && has) device = argv[++i];
        else if (!strcmp(a, "--policy") && has) policy = argv[++i];
        else if (!strcmp(a, "--no-measure")) measure = false;
        else if (!strcmp(a, "--mode") && has) {
            const char *m = argv[++i];
            if (strcmp(m, "precision") && strcmp(m, "distill")) {
                fprintf(stderr, "blockwise: --mode '%s': need precision or distill\n", m);
                return 2;
            }
            distill = !strcmp(m, "distill");
        } else if ((!strcmp(a, "--tiles") || !strcmp(a, "--steps") || !strcmp(a, "--max-weight-bytes") ||
                    !strcmp(a, "--seed") || !strcmp(a, "--kd-steps") || !strcmp(a, "--max-ms")) && has) {
            if (num(argv[++i], 0, 1e12, &v)) {
                fprintf(stderr, "blockwise: %s '%s': expected a number >= 0\n", a, argv[i]);
                return 2;
            }
            *(!strcmp(a, "--tiles") ? &tiles : !strcmp(a, "--steps") ? &steps : !strcmp(a, "--seed") ? &seed
              : !strcmp(a, "--kd-steps") ? &kd_steps : !strcmp(a, "--max-ms") ? &max_ms : &budget) = v;
        } else {
            fprintf(stderr, "blockwise: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        }
    }
    lpnas_arch arch;
    if (lpnas_arch_preset(arch_s, &arch) && lpnas_arch_parse(arch_s, &arch)) {
        fprintf(stderr, "blockwise: --arch '%s': %s\n", arch_s, lpnas_last_error());
        return 2;
    }
    lpnas_device dev;
    const lpnas_policy *pol;
    if (lpnas_device_parse(device, &dev)) {
        fprintf(stderr, "blockwise: --device: %s\n", lpnas_last_error());
        return 2;
    }
    if (lpnas_policy_get(policy ? policy : lpnas_device_default_policy(dev), &pol) ||
        !lpnas_device_accepts_policy(dev, pol)) {
        fprintf(stderr, "blockwise: --policy '%s': unknown or not a number format of %s\n",
                policy ? policy : "?", device);
        return 2;
    }
    lpnas_wfmt fmt[LPNAS_WFMT_COUNT];
    int nfmt = lpnas_device_wfmts(dev, fmt);
    lpnas_dataset *d = NULL;
    int *tr = NULL, *va = NULL, nt = 0, nv = 0, rc = 1;
    lpnas_net *net = NULL, *chosen = NULL;
    char how[512] = "";
    if (data) {
        if (lpnas_dataset_load_png_dir(data, &d)) {
            fprintf(stderr, "blockwise: --data: %s\n", lpnas_last_error());
            return 1;
        }
    } else {
        lpnas_synth_options so;
        lpnas_synth_options_default(&so);
        so.count = (int)tiles, so.seed = (uint64_t)seed;
        if (lpnas_dataset_synthetic(&so, &d)) {
            fprintf(stderr, "blockwise: %s\n", lpnas_last_error());
            return 1;
        }
    }
    arch.in_channels = lpnas_dataset_channels(d);
    lpnas_net_options no = {16, lpnas_dataset_height(d), lpnas_dataset_width(d), (uint64_t)seed};
    lpnas_train_options to;
    lpnas_train_options_default(&to);
    to.steps = (int)steps, to.batch = 16, to.seed = (uint64_t)seed;
    to.progress = blockwise_train_progress, to.user = (void *)"FP32 warm-up of the network";
    to.progress_every = blockwise_progress_every(to.steps);
    lpnas_train_result trr;
    lpnas_blockwise_table t;
    float mean[16], std[16];
    if (lpnas_dataset_split_scenes(d, data, 0.2, (uint64_t)seed, &tr, &nt, &va, &nv, how, sizeof how) ||
        lpnas_net_create(&arch, &no, &net) || lpnas_dataset_channel_stats(d, tr, nt, mean, std) ||
        lpnas_net_set_normalization(net, mean, std) || lpnas_train(net, d, tr, nt, &to, &trr) ||
        (!distill && lpnas_blockwise_measure(net, d, va, nv, pol, fmt, nfmt, &t))) {
        fprintf(stderr, "blockwise: %s\n", lpnas_last_error());
        goto done;
    }
    char s[512];
    lpnas_arch_format(&arch, s, sizeof s);
    lpnas_int_format f8;
    int bits = lpnas_policy_is_integer(pol) && !lpnas_policy_int_format(pol, &f8) ? f8.weight_bits
               : lpnas_policy_is_fp32(pol)                                      ? 32
                                                                                : 16;
    if (distill) {
        lpnas_latency_model *lm = NULL;
        if (lpnas_device_latency_model(dev, &lm)) {
            fprintf(stderr, "blockwise: %s\n", lpnas_last_error());
            goto done;
        }
        printf("network   %s (the teacher)\nsplit     %s\npolicy    %s (device %s)\n", s, how, lpnas_policy_name(pol),
               device);
        distill_args g = {net, &arch, d, tr, va, nt, nv, mean, std, pol, fmt, nfmt, bits, lm, max_ms,
                          (long long)budget, (int)kd_steps, (int)steps, (uint64_t)seed, measure};
        rc = blockwise_distill(&g);
        lpnas_latency_model_free(lm);
        goto done;
    }
    printf("network   %s\nsplit     %s\npolicy    %s (device %s)\nbase      mIoU %.4f (no stage rounded)\n", s, how,
           lpnas_policy_name(pol), device, t.base);
    printf("stage");
    for (int j = 0; j < nfmt; j++)
        printf("  %8s", lpnas_wfmt_name(fmt[j]));
    printf("\n");
    for (int i = 0; i < t.stages; i++) {
        printf("%5d", i + 1);
        for (int j = 0; j < nfmt; j++)
            printf("  %8.4f", t.miou[i][j]);
        printf("\n");
    }
    int ch[LPNAS_ARCH_MAX_STAGES];
    double pred;
    long long bytes;
    if (lpnas_blockwise_choose(&t, &arch, bits, (long long)budget, ch, &pred, &bytes)) {
        fprintf(stderr, "%s (--max-weight-bytes)\n", lpnas_last_error()); /* already says "blockwise:" */
        goto done;
    }
    lpnas_arch c = arch;
    for (int i = 0; i < c.stages; i++)
        c.stage[i].wfmt = fmt[ch[i]];
    /* measure the choice for real: all chosen stages rounded at once */
    lpnas_eval_result e;
    if (lpnas_net_create(&c, &no, &chosen)) {
        fprintf(stderr, "blockwise: %s\n", lpnas_last_error());
        goto done;
    }
    size_t nb, nb2;
    float *b1 = lpnas_net_buffers(net, &nb), *b2 = lpnas_net_buffers(chosen, &nb2);
    memcpy(lpnas_net_params(chosen), lpnas_net_params(net), lpnas_net_param_count(net) * sizeof(float));
    memcpy(b2, b1, (nb < nb2 ? nb : nb2) * sizeof(float));
    lpnas_net_params_changed(chosen);
    if (lpnas_net_set_normalization(chosen, mean, std) || lpnas_net_round_stage_weights(chosen, NULL) ||
        lpnas_evaluate(chosen, d, va, nv, pol, &e)) {
        fprintf(stderr, "blockwise: %s\n", lpnas_last_error());
        goto done;
    }
    lpnas_arch_format(&c, s, sizeof s);
    printf("choice    %s\nsize      %lld bytes (budget %s)\npredicted mIoU %.4f\nmeasured  mIoU %.4f\n", s, bytes,
           budget > 0 ? "set" : "none", pred, e.miou);
    rc = 0;
done:
    lpnas_net_free(net);
    lpnas_net_free(chosen);
    free(tr), free(va);
    lpnas_dataset_free(d);
    return rc;
}
