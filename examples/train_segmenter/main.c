/* train_segmenter: train one segmentation network in FP32, evaluate it in
 * FP32 and post-hoc in a device policy, fine-tune it in that policy with
 * loss scaling, evaluate again (aligned). The last line holds the numbers:
 * miou_fp32=... miou_posthoc=... miou_aligned=... vessel_iou_aligned=... params=... skipped_steps=... */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib.h"
#include "lpnas.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: train_segmenter [--arch STRING | --preset NAME] [--data DIR] [--val DIR] [--policy NAME]\n"
            "                       [--warmup-steps N] [--finetune-steps N] [--batch N] [--lr X] [--seed N]\n"
            "                       [--tiles N] [--input-norm device|none] [--raw-inputs] [--control]\n"
            "                       [--calib minmax|percentile|mse] [--calib-tiles N]\n"
            "                       [--save FILE] [--onnx FILE] [--overlay FILE] [--help]\n"
            "\n"
            "Trains a vessel segmenter in FP32 (warm-up), evaluates it in FP32 and post-hoc in the device\n"
            "policy, fine-tunes it in the policy with dynamic loss scaling, and evaluates it again (aligned).\n"
            "\n"
            "  --arch STRING       architecture string (docs/arch.md)\n"
            "  --preset NAME       paper96k (default), unet-peer, tiny, mobile\n"
            "  --data DIR          PNG folder with images/ and masks/ (e.g. ../shared/data/sen2ships);\n"
            "                      default: synthetic vessel tiles\n"
            "  --val DIR           evaluate on this PNG folder instead of a 20 %% split of the data (the\n"
            "                      split is scene-wise when DIR/manifest.csv names a source_image or port)\n"
            "  --tiles N           synthetic tiles to generate (default 600)\n"
            "  --policy NAME       fp32, ieee-fp16, myriadx (default), myriadx-fp16acc, int8, int8-pow2,\n"
            "                      w4a8, int8-ort, or file:PATH (an integer policy file, docs/numerics.md)\n"
            "  --calib METHOD      integer policies: activation ranges by minmax (default), percentile\n"
            "                      (99.99 %%) or mse, on the first --calib-tiles training tiles (default 64);\n"
            "                      post-hoc = FP32 weights calibrated and quantized once; aligned =\n"
            "                      quantization-aware fine-tuning through the BN fold\n"
            "  --warmup-steps N    FP32 training steps (default 300)\n"
            "  --finetune-steps N  steps in the policy (default 100)\n"
            "  --batch N           images per step (default 16)\n"
            "  --lr X              Adam learning rate of the warm-up (default 3e-3; fine-tuning uses X/3)\n"
            "  --seed N            everything derives from it (default 1)\n"
            "  --input-norm MODE   device (default): sensor values converted by the policy's host\n"
            "                      conversion, then normalized as a device stage in its arithmetic;\n"
            "                      none: the network sees raw sensor values\n"
            "  --raw-inputs        the same as --input-norm none\n"
            "  --control           also the control: from the same warm-up, the fine-tuning steps in FP32,\n"
            "                      evaluated in FP32 and in the policy (adds miou_control_fp32= and\n"
            "                      miou_control= to the last line)\n"
            "  --save FILE         write the fine-tuned model (docs/formats.md)\n"
            "  --onnx FILE         write it as ONNX too (float32, weights as the policy holds them; docs/deploy.md)\n"
            "  --overlay FILE      write a PNG: image, truth, post-hoc and aligned predictions of a tile\n"
            "\n"
            "Last line: miou_fp32=... miou_posthoc=... miou_aligned=... vessel_iou_aligned=... params=...\n"
            "skipped_steps=... [miou_control_fp32=... miou_control=...]  Exit status 0 on success, 1 on\n"
            "errors, 2 on bad options.\n");
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

static int tty;
static const char *phase = "";

static void progress(void *user, const lpnas_train_progress *p)
{
    (void)user;
    fprintf(stderr, "%s%s step %d/%d  loss %.4f  scale %g  skipped %ld  %.0f images/s%s", tty ? "\r" : "", phase,
            p->step, p->steps, p->loss, p->scale, p->skipped, p->images_per_s, tty ? "   " : "\n");
    if (tty && p->step == p->steps)
        fputc('\n', stderr);
}

static int fail(const char *what)
{
    fprintf(stderr, "train_segmenter: %s: %s\n", what, lpnas_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *arch_s = NULL, *preset = NULL, *data = NULL, *valdir = NULL, *policy = "myriadx", *save = NULL,
               *overlay = NULL, *onnx = NULL;
    long warm = 300, fine = 100, batch = 16, seed = 1, tiles = 600, calib_tiles = 64;
    lpnas_calib_options calib;
    lpnas_calib_options_default(&calib);
    bool raw = false, control = false;
    double lr = 3e-3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        long *lv = NULL, lo = 0, hi = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--arch") && has) arch_s = argv[++i];
        else if (!strcmp(a, "--preset") && has) preset = argv[++i];
        else if (!strcmp(a, "--data") && has) data = argv[++i];
        else if (!strcmp(a, "--val") && has) valdir = argv[++i];
        else if (!strcmp(a, "--policy") && has) policy = argv[++i];
        else if (!strcmp(a, "--calib") && has) {
            if (lpnas_calib_method_parse(argv[++i], &calib.method)) {
                fprintf(stderr, "train_segmenter: --calib: %s\n", lpnas_last_error());
                return 2;
            }
        } else if (!strcmp(a, "--calib-tiles") && has) lv = &calib_tiles, lo = 1, hi = 100000;
        else if (!strcmp(a, "--save") && has) save = argv[++i];
        else if (!strcmp(a, "--onnx") && has) onnx = argv[++i];
        else if (!strcmp(a, "--overlay") && has) overlay = argv[++i];
        else if (!strcmp(a, "--raw-inputs")) raw = true;
        else if (!strcmp(a, "--control")) control = true;
        else if (!strcmp(a, "--input-norm") && has) {
            const char *m = argv[++i];
            if (strcmp(m, "device") && strcmp(m, "none")) {
                fprintf(stderr, "train_segmenter: --input-norm '%s': expected device or none\n", m);
                return 2;
            }
            raw = !strcmp(m, "none");
        }
        else if (!strcmp(a, "--warmup-steps") && has) lv = &warm, lo = 0, hi = 10000000;
        else if (!strcmp(a, "--finetune-steps") && has) lv = &fine, lo = 0, hi = 10000000;
        else if (!strcmp(a, "--batch") && has) lv = &batch, lo = 1, hi = 1024;
        else if (!strcmp(a, "--seed") && has) lv = &seed, lo = 0, hi = 1L << 62;
        else if (!strcmp(a, "--tiles") && has) lv = &tiles, lo = 2, hi = 1000000;
        else if (!strcmp(a, "--lr") && has) {
            char *e;
            lr = strtod(argv[++i], &e);
            if (*e || !(lr > 0 && lr < 10)) {
                fprintf(stderr, "train_segmenter: --lr '%s': expected a number in (0, 10)\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "train_segmenter: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        }
        if (lv && parse_long(argv[++i], lo, hi, lv)) {
            fprintf(stderr, "train_segmenter: %s '%s': expected an integer in [%ld, %ld]\n", a, argv[i], lo, hi);
            return 2;
        }
    }
    if (arch_s && preset) {
        fprintf(stderr, "train_segmenter: --arch and --preset exclude each other\n");
        return 2;
    }
    const lpnas_policy *pol;
    if (lpnas_policy_get(policy, &pol)) {
        fprintf(stderr, "train_segmenter: --policy: %s\n", lpnas_last_error());
        return 2;
    }
    lpnas_arch arch;
    if (arch_s ? lpnas_arch_parse(arch_s, &arch) : lpnas_arch_preset(preset ? preset : "paper96k", &arch)) {
        fprintf(stderr, "train_segmenter: %s\n", lpnas_last_error());
        return 2;
    }
    tty = isatty(2);
    lpnas_dataset *d = NULL, *dv = NULL;
    if (data) {
        if (lpnas_dataset_load_png_dir(data, &d))
            return fail("--data");
    } else {
        lpnas_synth_options so;
        lpnas_synth_options_default(&so);
        so.count = (int)tiles;
        so.seed = (uint64_t)seed;
        so.mode = arch.in_channels == 1 ? LPNAS_SYNTH_SAR : LPNAS_SYNTH_OPTICAL;
        if (lpnas_dataset_synthetic(&so, &d))
            return fail("synthetic data");
    }
    int *tr = NULL, *va = NULL, nt, nv, rc = 1;
    char how[600] = "";
    lpnas_net *net = NULL;
    if (valdir) {
        if (lpnas_dataset_load_png_dir(valdir, &dv)) {
            rc = fail("--val");
            goto out;
        }
        nt = lpnas_dataset_count(d), nv = lpnas_dataset_count(dv);
        tr = malloc((size_t)nt * sizeof *tr), va = malloc((size_t)nv * sizeof *va);
        for (int i = 0; i < nt; i++)
            tr[i] = i;
        for (int i = 0; i < nv; i++)
            va[i] = i;
    } else if (lpnas_dataset_split_scenes(d, data, 0.2, (uint64_t)seed, &tr, &nt, &va, &nv, how, sizeof how)) {
        rc = fail("split");
        goto out;
    }
    const lpnas_dataset *vd = dv ? dv : d;
    if (arch.in_channels != lpnas_dataset_channels(d)) {
        fprintf(stderr, "train_segmenter: the data has %d channels, the architecture takes %d\n",
                lpnas_dataset_channels(d), arch.in_channels);
        goto out;
    }
    lpnas_net_options no = {(int)batch, lpnas_dataset_height(d), lpnas_dataset_width(d), (uint64_t)seed};
    if (lpnas_net_create(&arch, &no, &net)) {
        rc = fail("network");
        goto out;
    }
    float mean[16], sd[16], lo, hi, vlo, vhi;
    lpnas_dataset_channel_stats(d, tr, nt, mean, sd);
    for (int c = 0; raw && c < 16; c++)
        mean[c] = 0, sd[c] = 1;
    lpnas_net_set_normalization(net, mean, sd);
    lpnas_dataset_value_range(d, tr, nt, &lo, &hi);
    lpnas_dataset_value_range(vd, va, nv, &vlo, &vhi);
    char s[512];
    lpnas_arch_format(&arch, s, sizeof s);
    fprintf(stderr, "arch %s: %zu parameters; %d training and %d validation tiles of %dx%d; policy %s\n", s,
            lpnas_net_param_count(net), nt, nv, lpnas_dataset_width(d), lpnas_dataset_height(d), policy);
    fprintf(stderr, "data: values %g..%g (training), %g..%g (validation); input normalization %s; %s\n",
            (double)lo, (double)hi, (double)vlo, (double)vhi, raw ? "none (raw sensor values)" : "device",
            valdir ? "validation from --val" : how);
    lpnas_train_options to;
    lpnas_train_options_default(&to);
    to.steps = (int)warm, to.batch = (int)batch, to.seed = (uint64_t)seed, to.lr = lr;
    to.progress = progress, to.progress_every = tty ? 5 : 50;
    lpnas_train_result r1, r2 = {0};
    phase = "warm-up (fp32)";
    if (lpnas_train(net, d, tr, nt, &to, &r1)) {
        rc = fail("warm-up");
        goto out;
    }
    lpnas_eval_result e32, eph, eal;
    if (ts_calibrate(net, d, tr, nt, pol, &calib, (int)calib_tiles)) {
        rc = fail("calibration");
        goto out;
    }
    if (lpnas_evaluate(net, vd, va, nv, NULL, &e32) || lpnas_evaluate(net, vd, va, nv, pol, &eph)) {
        rc = fail("evaluation");
        goto out;
    }
    uint8_t *pred_ph = malloc((size_t)lpnas_dataset_height(vd) * lpnas_dataset_width(vd));
    /* the control starts from the same warm-up weights and statistics */
    size_t np = lpnas_net_param_count(net), nb;
    float *buf = lpnas_net_buffers(net, &nb), *snap = malloc((np + nb + 1) * 4);
    memcpy(snap, lpnas_net_params(net), np * 4);
    memcpy(snap + np, buf, nb * 4);
    if (overlay)
        lpnas_predict(net, lpnas_dataset_image(vd, va[0]), pol, pred_ph);
    to.policy = pol, to.steps = (int)fine, to.lr = lr / 3, to.seed = (uint64_t)seed + 1;
    to.scaler.growth_interval = 50; /* short fine-tunes: grow the scale within the run */
    phase = "fine-tune";
    lpnas_status fst = lpnas_train(net, d, tr, nt, &to, &r2);
    if (fst == LPNAS_ERR_NUMERIC) /* e.g. inputs beyond binary16's range: the device would see inf too */
        fprintf(stderr, "train_segmenter: fine-tuning stopped: %s; evaluating the last good step\n",
                lpnas_last_error());
    else if (fst) {
        free(pred_ph), free(snap);
        rc = fail("fine-tuning");
        goto out;
    }
    if (lpnas_evaluate(net, vd, va, nv, pol, &eal)) {
        free(pred_ph), free(snap);
        rc = fail("evaluation");
        goto out;
    }
    if (overlay) {
        int h = lpnas_dataset_height(vd), w = lpnas_dataset_width(vd);
        uint8_t *pred_al = malloc((size_t)h * w);
        lpnas_predict(net, lpnas_dataset_image(vd, va[0]), pol, pred_al);
        const uint8_t *masks[3] = {lpnas_dataset_mask(vd, va[0]), pred_ph, pred_al};
        float maxv = vhi > 255 ? vhi : 255; /* 16-bit tiles: scale by their own range */
        if (lpnas_write_overlay_png(overlay, lpnas_dataset_image(vd, va[0]), lpnas_dataset_channels(vd), h, w, maxv,
                                    masks, 3, 4))
            fprintf(stderr, "train_segmenter: --overlay: %s\n", lpnas_last_error());
        free(pred_al);
    }
    free(pred_ph);
    if (save && lpnas_model_save(net, policy, save)) {
        free(snap);
        rc = fail("--save");
        goto out;
    }
    if (onnx) {
        lpnas_onnx_options eo;
        lpnas_onnx_options_default(&eo);
        eo.policy = pol;
        eo.provenance = "train_segmenter";
        if (lpnas_model_export_onnx(net, &eo, onnx)) {
            free(snap);
            rc = fail("--onnx");
            goto out;
        }
    }
    lpnas_eval_result ec32, ecph;
    if (control) { /* the same steps, learning rate and seed, in FP32 */
        memcpy(lpnas_net_params(net), snap, np * 4);
        memcpy(lpnas_net_buffers(net, &nb), snap + np, nb * 4);
        to.policy = NULL;
        phase = "control (fp32)";
        lpnas_train_result r3;
        if (lpnas_train(net, d, tr, nt, &to, &r3) || lpnas_evaluate(net, vd, va, nv, NULL, &ec32) ||
            ts_calibrate(net, d, tr, nt, pol, &calib, (int)calib_tiles) ||
            lpnas_evaluate(net, vd, va, nv, pol, &ecph)) {
            free(snap);
            rc = fail("control");
            goto out;
        }
    }
    free(snap);
    printf("miou_fp32=%.4f miou_posthoc=%.4f miou_aligned=%.4f vessel_iou_aligned=%.4f params=%zu skipped_steps=%ld",
           e32.miou, eph.miou, eal.miou, eal.vessel_iou, lpnas_net_param_count(net), r2.skipped_steps);
    if (control)
        printf(" miou_control_fp32=%.4f miou_control=%.4f", ec32.miou, ecph.miou);
    printf("\n");
    rc = 0;
out:
    free(tr), free(va);
    lpnas_net_free(net);
    lpnas_dataset_free(d);
    lpnas_dataset_free(dv);
    return rc;
}
