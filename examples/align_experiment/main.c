/* align_experiment: one architecture, four ways (docs/experiment.md):
 * FP32; post-hoc (the FP32 weights deployed in a device policy); aligned
 * (fine-tuned in the policy, through the fold); and the control, which
 * spends the same fine-tuning steps in FP32 and is then deployed -- twice:
 * with batch-statistics BN (the paper's control) and through the fold with
 * frozen statistics like aligned (which isolates the number format). One FP32
 * warm-up per seed serves every policy; each run appends one CSV row per
 * policy to --results and a rerun skips the rows already there (a stopped
 * experiment continues). --summary reads the rows back: mean +- sd per
 * setting, paired differences, and a plot drawn by the library. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpnas.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: align_experiment --results FILE [--data DIR] [--input-norm device|none] [--preset NAME |\n"
            "                        --arch STRING] [--label NAME] [--seeds N] [--first-seed N]\n"
            "                        [--policies LIST] [--warmup-steps N] [--finetune-steps N] [--batch N]\n"
            "                        [--lr X] [--tiles N]\n"
            "       align_experiment --summary FILE [--plot FILE.png]\n"
            "\n"
            "  --results FILE      CSV to append to (created with a header); rows already there are skipped\n"
            "  --data DIR          PNG folder (images/, masks/, manifest.csv: validation on held-out scenes);\n"
            "                      default synthetic tiles\n"
            "  --input-norm MODE   device (default) or none (raw sensor values)\n"
            "  --preset NAME       paper96k (default), unet-peer, tiny, mobile; or --arch STRING\n"
            "  --label NAME        the architecture's name in the CSV (default: the preset, or 'arch')\n"
            "  --seeds N           seeds first-seed .. first-seed+N-1 (default 5, first 1)\n"
            "  --policies LIST     comma-separated device policies (default myriadx,myriadx-fp16acc,ieee-fp16)\n"
            "  --warmup-steps N    FP32 steps (default 300); --finetune-steps N (default 100); --batch N (16)\n"
            "  --lr X              warm-up learning rate (default 3e-3; fine-tuning and control X/3)\n"
            "  --summary FILE      print the tables of a results CSV (markdown; the second at an equal training\n"
            "                      budget: the control's FP32 network as the conventional one); --plot FILE.png\n"
            "                      draws the first\n"
            "\n"
            "CSV columns: data,norm,arch,seed,policy,miou_fp32,miou_posthoc,miou_aligned,miou_control_fp32,\n"
            "miou_control,miou_control_fold,skipped_steps,finetune (ok, or the step at which a non-finite\n"
            "loss stopped it). control: FP32 fine-tuning with batch-statistics BN, deployed in the policy;\n"
            "control_fold: FP32 fine-tuning through the fold (frozen BN, as aligned), deployed.\n"
            "Exit status 0 on success, 1 on errors, 2 on bad options.\n");
}

static int parse_long(const char *s, long lo, long hi, long *v)
{
    char *e;
    errno = 0;
    long x = strtol(s, &e, 10);
    if (errno || *e || e == s || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "align_experiment: %s: %s\n", what, lpnas_last_error());
    return 1;
}

/* true if FILE already holds the row key "data,norm,arch,seed,policy," */
static bool have_row(const char *file, const char *key)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, key, strlen(key)) == 0;
    fclose(f);
    return found;
}

/* Integer policies: activation ranges from the first 64 training tiles
 * (min/max), for the weights the network holds now. No-op otherwise. */
static lpnas_status calibrate(lpnas_net *net, const lpnas_dataset *d, const int *tr, int nt, const lpnas_policy *pol)
{
    if (!lpnas_policy_is_integer(pol))
        return LPNAS_OK;
    int n = nt < 64 ? nt : 64;
    size_t per = (size_t)lpnas_dataset_channels(d) * lpnas_dataset_height(d) * lpnas_dataset_width(d);
    float *x = malloc((size_t)n * per * sizeof *x);
    if (!x)
        return LPNAS_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        memcpy(x + (size_t)i * per, lpnas_dataset_image(d, tr[i]), per * sizeof *x);
    lpnas_status st = lpnas_net_calibrate(net, x, n, pol, NULL);
    free(x);
    return st;
}

static const char *base_name(const char *p)
{
    if (!p)
        return "synthetic";
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    static char buf[256];
    snprintf(buf, sizeof buf, "%.*s", (int)n, p);
    char *s = strrchr(buf, '/');
    return s ? s + 1 : buf;
}

int summarize(const char *file, const char *plot); /* summary.c */

int main(int argc, char **argv)
{
    const char *results = NULL, *data = NULL, *arch_s = NULL, *preset = NULL, *label = NULL, *summary = NULL,
               *plot = NULL;
    char policies[256] = "myriadx,myriadx-fp16acc,ieee-fp16";
    long warm = 300, fine = 100, batch = 16, seeds = 5, first = 1, tiles = 600;
    double lr = 3e-3;
    bool raw = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        long *lv = NULL, lo = 0, hi = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--results") && has) results = argv[++i];
        else if (!strcmp(a, "--data") && has) data = argv[++i];
        else if (!strcmp(a, "--arch") && has) arch_s = argv[++i];
        else if (!strcmp(a, "--preset") && has) preset = argv[++i];
        else if (!strcmp(a, "--label") && has) label = argv[++i];
        else if (!strcmp(a, "--summary") && has) summary = argv[++i];
        else if (!strcmp(a, "--plot") && has) plot = argv[++i];
        else if (!strcmp(a, "--policies") && has) snprintf(policies, sizeof policies, "%s", argv[++i]);
        else if (!strcmp(a, "--input-norm") && has) {
            const char *m = argv[++i];
            if (strcmp(m, "device") && strcmp(m, "none")) {
                fprintf(stderr, "align_experiment: --input-norm '%s': expected device or none\n", m);
                return 2;
            }
            raw = !strcmp(m, "none");
        } else if (!strcmp(a, "--warmup-steps") && has) lv = &warm, lo = 1, hi = 10000000;
        else if (!strcmp(a, "--finetune-steps") && has) lv = &fine, lo = 1, hi = 10000000;
        else if (!strcmp(a, "--batch") && has) lv = &batch, lo = 1, hi = 1024;
        else if (!strcmp(a, "--seeds") && has) lv = &seeds, lo = 1, hi = 1000;
        else if (!strcmp(a, "--first-seed") && has) lv = &first, lo = 0, hi = 1L << 40;
        else if (!strcmp(a, "--tiles") && has) lv = &tiles, lo = 8, hi = 1000000;
        else if (!strcmp(a, "--lr") && has) {
            char *e;
            lr = strtod(argv[++i], &e);
            if (*e || !(lr > 0 && lr < 10)) {
                fprintf(stderr, "align_experiment: --lr '%s': expected a number in (0, 10)\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "align_experiment: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        }
        if (lv && parse_long(argv[++i], lo, hi, lv)) {
            fprintf(stderr, "align_experiment: %s '%s': expected an integer in [%ld, %ld]\n", a, argv[i], lo, hi);
            return 2;
        }
    }
    if (summary)
        return summarize(summary, plot);
    if (!results) {
        fprintf(stderr, "align_experiment: --results FILE is required (see --help)\n");
        return 2;
    }
    if (arch_s && preset) {
        fprintf(stderr, "align_experiment: --arch and --preset exclude each other\n");
        return 2;
    }
    const lpnas_policy *pol[8];
    int npol = 0;
    for (char *save = NULL, *t = strtok_r(policies, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (npol == 8 || lpnas_policy_get(t, &pol[npol]) || lpnas_policy_is_fp32(pol[npol])) {
            fprintf(stderr, "align_experiment: --policies '%s': %s\n", t,
                    npol == 8 ? "at most 8" : lpnas_policy_is_fp32(pol[npol]) ? "fp32 is no device policy"
                                                                           : lpnas_last_error());
            return 2;
        }
        npol++;
    }
    lpnas_arch arch;
    if (arch_s ? lpnas_arch_parse(arch_s, &arch) : lpnas_arch_preset(preset ? preset : "paper96k", &arch)) {
        fprintf(stderr, "align_experiment: %s\n", lpnas_last_error());
        return 2;
    }
    if (!label)
        label = arch_s ? "arch" : preset ? preset : "paper96k";
    lpnas_dataset *d = NULL;
    if (data ? lpnas_dataset_load_png_dir(data, &d) : 0)
        return fail("--data");
    if (!data) {
        lpnas_synth_options so;
        lpnas_synth_options_default(&so);
        so.count = (int)tiles;
        if (lpnas_dataset_synthetic(&so, &d))
            return fail("synthetic data");
    }
    FILE *out = fopen(results, "a");
    if (!out) {
        fprintf(stderr, "align_experiment: --results %s: %s\n", results, strerror(errno));
        lpnas_dataset_free(d);
        return 1;
    }
    if (ftell(out) == 0)
        fprintf(out, "data,norm,arch,seed,policy,miou_fp32,miou_posthoc,miou_aligned,miou_control_fp32,miou_control,"
                     "miou_control_fold,skipped_steps,finetune\n");
    fflush(out);
    const char *dname = base_name(data), *norm = raw ? "none" : "device";
    int rc = 0;
    for (long seed = first; seed < first + seeds && !rc; seed++) {
        char key[8][512];
        int todo = 0;
        for (int p = 0; p < npol; p++) {
            snprintf(key[p], sizeof key[p], "%s,%s,%s,%ld,%s,", dname, norm, label, seed, lpnas_policy_name(pol[p]));
            todo += !have_row(results, key[p]);
        }
        if (!todo)
            continue;
        int *tr = NULL, *va = NULL, nt, nv;
        char how[600];
        lpnas_net *net = NULL;
        float *snap = NULL, *ctl = NULL, *ctf = NULL;
        rc = 1;
        if (lpnas_dataset_split_scenes(d, data, 0.2, (uint64_t)seed, &tr, &nt, &va, &nv, how, sizeof how)) {
            fail("split");
            goto next;
        }
        lpnas_net_options no = {(int)batch, lpnas_dataset_height(d), lpnas_dataset_width(d), (uint64_t)seed};
        if (lpnas_net_create(&arch, &no, &net)) {
            fail("network");
            goto next;
        }
        float mean[16], sd[16];
        lpnas_dataset_channel_stats(d, tr, nt, mean, sd);
        for (int c = 0; raw && c < 16; c++)
            mean[c] = 0, sd[c] = 1;
        lpnas_net_set_normalization(net, mean, sd);
        fprintf(stderr, "%s %s %s seed %ld: %s\n", dname, norm, label, seed, how);
        lpnas_train_options to;
        lpnas_train_options_default(&to);
        to.steps = (int)warm, to.batch = (int)batch, to.seed = (uint64_t)seed, to.lr = lr;
        lpnas_train_result r;
        lpnas_eval_result e32, ec32, e;
        if (lpnas_train(net, d, tr, nt, &to, &r) || lpnas_evaluate(net, d, va, nv, NULL, &e32)) {
            fail("warm-up");
            goto next;
        }
        size_t np = lpnas_net_param_count(net), nb;
        float *buf = lpnas_net_buffers(net, &nb);
        snap = malloc((np + nb + 1) * 4), ctl = malloc((np + nb + 1) * 4), ctf = malloc((np + nb + 1) * 4);
        memcpy(snap, lpnas_net_params(net), np * 4), memcpy(snap + np, buf, nb * 4);
        /* the control: the fine-tuning steps in FP32, from the same warm-up */
        to.steps = (int)fine, to.lr = lr / 3, to.seed = (uint64_t)seed + 1;
        to.scaler.growth_interval = 50;
        if (lpnas_train(net, d, tr, nt, &to, &r) || lpnas_evaluate(net, d, va, nv, NULL, &ec32)) {
            fail("control");
            goto next;
        }
        memcpy(ctl, lpnas_net_params(net), np * 4), memcpy(ctl + np, lpnas_net_buffers(net, &nb), nb * 4);
        memcpy(lpnas_net_params(net), snap, np * 4), memcpy(lpnas_net_buffers(net, &nb), snap + np, nb * 4);
        to.fold_bn = true; /* the same, through the fold */
        if (lpnas_train(net, d, tr, nt, &to, &r)) {
            fail("control through the fold");
            goto next;
        }
        to.fold_bn = false;
        memcpy(ctf, lpnas_net_params(net), np * 4), memcpy(ctf + np, lpnas_net_buffers(net, &nb), nb * 4);
        for (int p = 0; p < npol; p++) {
            if (have_row(results, key[p]))
                continue;
            double ph, al, cp, cf;
            memcpy(lpnas_net_params(net), ctf, np * 4), memcpy(lpnas_net_buffers(net, &nb), ctf + np, nb * 4);
            if (calibrate(net, d, tr, nt, pol[p]) || lpnas_evaluate(net, d, va, nv, pol[p], &e))
                goto evalfail;
            cf = e.miou;
            memcpy(lpnas_net_params(net), ctl, np * 4), memcpy(lpnas_net_buffers(net, &nb), ctl + np, nb * 4);
            if (calibrate(net, d, tr, nt, pol[p]) || lpnas_evaluate(net, d, va, nv, pol[p], &e))
                goto evalfail;
            cp = e.miou;
            memcpy(lpnas_net_params(net), snap, np * 4), memcpy(lpnas_net_buffers(net, &nb), snap + np, nb * 4);
            if (calibrate(net, d, tr, nt, pol[p]) || lpnas_evaluate(net, d, va, nv, pol[p], &e))
                goto evalfail;
            ph = e.miou;
            to.policy = pol[p];
            char status[64] = "ok";
            lpnas_status st = lpnas_train(net, d, tr, nt, &to, &r);
            to.policy = NULL;
            if (st == LPNAS_ERR_NUMERIC) /* a non-finite device loss: the last good step is what deploys */
                snprintf(status, sizeof status, "stopped@%d", r.steps);
            else if (st) {
                fail("fine-tuning");
                goto next;
            }
            if (lpnas_evaluate(net, d, va, nv, pol[p], &e))
                goto evalfail;
            al = e.miou;
            fprintf(out, "%s%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%ld,%s\n", key[p], e32.miou, ph, al, ec32.miou, cp, cf,
                    r.skipped_steps, status);
            fflush(out);
            fprintf(stderr, "  %-16s fp32 %.4f  post-hoc %.4f  aligned %.4f  control %.4f (fp32 %.4f)  control "
                            "through the fold %.4f  %s\n",
                    lpnas_policy_name(pol[p]), e32.miou, ph, al, cp, ec32.miou, cf, status);
        }
        rc = 0;
        goto next;
    evalfail:
        fail("evaluation");
    next:
        free(tr), free(va), free(snap), free(ctl), free(ctf);
        lpnas_net_free(net);
    }
    fclose(out);
    lpnas_dataset_free(d);
    return rc;
}
