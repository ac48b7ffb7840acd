/* latency: estimate a network's inference latency from its layer list, with
 * the built-in Myriad X model or a LUT, or build a LUT for this CPU.
 * The last line of a run is always total_ms=<value>. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpnas.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: latency [--device myriadx|imx8mp | --lut FILE] [--overhead-ms X] LAYERS.csv\n"
            "       latency --profile-host LAYERS.csv -o HOST.lut [--reps N] [--warmup N] [--policy P]\n"
            "       latency --import-openvino-counters REPORT.csv --layers LIST.csv --out device.lut\n"
            "               [--device-name TEXT] [--toolchain TEXT] [--analytic-fallback] [--overhead-ms X]\n"
            "\n"
            "Estimates the inference latency of the network described by LAYERS.csv (an lpnas layer\n"
            "list: '# lpnas layer list v1', then op,in_h,in_w,in_c,out_c,kernel,stride,groups,act[,dilation]\n"
            "rows; see docs/formats.md) and prints a per-layer table (op, shape, ms, share of the total)\n"
            "and the share of each op kind (conv, pointwise, depthwise, dilated, add, ..., overhead).\n"
            "The last line is total_ms=<value>: the sum of the layers plus the per-inference overhead.\n"
            "\n"
            "  --device myriadx   the built-in Myriad X (NCS2) model (default); its constants and their\n"
            "                     calibration against published figures are in docs/latency.md\n"
            "  --device imx8mp    the built-in i.MX 8M Plus NPU model (int8; UNCALIBRATED, data-sheet peaks\n"
            "                     and assumed utilization: pass a measured --lut to override)\n"
            "  --lut FILE         a latency table measured on some device (format: docs/formats.md)\n"
            "  --overhead-ms X    per-inference overhead (USB transfer, host calls) instead of the\n"
            "                     model's own (myriadx: 2 ms)\n"
            "  --profile-host     time this library's kernels for every distinct layer of LAYERS.csv on\n"
            "                     this CPU (one thread), write the table to -o HOST.lut, and report how well\n"
            "                     the per-layer sum predicts the whole list run back to back (additivity)\n"
            "  -o FILE            where --profile-host writes its LUT\n"
            "  --reps N           timed runs per layer (median recorded; default 7)\n"
            "  --warmup N         untimed runs first (default 2)\n"
            "  --policy P         numeric path to time: fp32 (default), ieee-fp16, myriadx, myriadx-fp16acc\n"
            "  --import-openvino-counters REPORT.csv\n"
            "                     turn OpenVINO benchmark_app's per-layer report (run with -report_type\n"
            "                     detailed_counters, -d MYRIAD; the file benchmark_detailed_counters_report.csv)\n"
            "                     into a LUT for the layers of --layers LIST.csv, written to --out FILE; rows are\n"
            "                     matched to the report's executed layers in order by type, and every row or\n"
            "                     report entry that could not be matched is named. Report entries no row takes\n"
            "                     become the per-inference overhead unless --overhead-ms is given\n"
            "  --device-name T, --toolchain T   provenance written into the LUT\n"
            "  --analytic-fallback  the imported LUT estimates layers it lacks with the built-in model\n"
            "  --help             this text\n"
            "\n"
            "Exit status: 0 on success, 1 on a bad file or an unsupported layer, 2 on bad options.\n");
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static void progress(void *user, size_t done, size_t total)
{
    (void)user;
    if (isatty(2))
        fprintf(stderr, "\rprofiling layer %zu/%zu", done, total);
    if (done == total && isatty(2))
        fputc('\n', stderr);
}

static int print_table(const lpnas_latency_model *m, const lpnas_layer_list *l)
{
    double *ms = malloc(l->count * sizeof *ms), total;
    if (!ms) {
        fprintf(stderr, "latency: out of memory\n");
        return 1;
    }
    if (lpnas_latency_estimate(m, l, ms, &total)) {
        fprintf(stderr, "latency: %s\n", lpnas_last_error());
        free(ms);
        return 1;
    }
    printf("model: %s\n", lpnas_latency_device(m));
    printf("source: %s\n", lpnas_latency_source(m));
    printf("%4s  %-18s %-26s %10s %7s\n", "#", "op", "shape (HxWxC>OC k s g d act)", "ms", "share");
    for (size_t i = 0; i < l->count; i++) {
        const lpnas_layer *y = &l->layers[i];
        char shape[96];
        snprintf(shape, sizeof shape, "%dx%dx%d>%d k%d s%d g%d d%d %s", y->in_h, y->in_w, y->in_c, y->out_c,
                 y->kernel, y->stride, y->groups, y->dilation, lpnas_layer_act_name(y->act));
        printf("%4zu  %-18s %-26s %10.4f %6.1f%%\n", i + 1, lpnas_layer_op_name(y->op), shape, ms[i],
               total > 0 ? 100 * ms[i] / total : 0);
    }
    double oh = lpnas_latency_overhead(m);
    printf("%4s  %-18s %-26s %10.4f %6.1f%%\n", "", "overhead", "per inference", oh, total > 0 ? 100 * oh / total : 0);
    double kinds[LPNAS_LATKIND_COUNT_] = {0};
    for (size_t i = 0; i < l->count; i++)
        kinds[lpnas_latency_kind_of(&l->layers[i])] += ms[i];
    kinds[LPNAS_LATKIND_OVERHEAD] = oh;
    printf("by kind:");
    for (int k = 0; k < LPNAS_LATKIND_COUNT_; k++)
        if (kinds[k] > 0)
            printf(" %s %.1f%%", lpnas_latency_kind_name((lpnas_latency_kind)k), total > 0 ? 100 * kinds[k] / total : 0);
    printf("\n");
    printf("total_ms=%.4f\n", total);
    free(ms);
    return 0;
}

/* --import-openvino-counters: report + layer list -> LUT, then the table
 * of the list under the new LUT (so the user sees what was imported). */
static int import_counters(const char *report, const char *list_path, const char *out, const char *devname,
                           const char *toolchain, int fallback, double overhead)
{
    lpnas_layer_list l;
    if (lpnas_layer_list_load(&l, list_path)) {
        fprintf(stderr, "latency: %s\n", lpnas_last_error());
        return 1;
    }
    lpnas_openvino_import_options o;
    lpnas_openvino_import_options_default(&o);
    o.device = devname, o.toolchain = toolchain, o.analytic_fallback = fallback != 0;
    if (overhead >= 0)
        o.overhead_ms = overhead;
    lpnas_latency_model *m = NULL;
    char *log = NULL;
    int rc = 1;
    if (lpnas_lut_import_openvino(report, &l, &o, &m, &log) || lpnas_lut_save(m, out)) {
        fprintf(stderr, "latency: %s\n", lpnas_last_error());
    } else {
        fputs(log ? log : "", stdout);
        printf("wrote %s (%zu entries)\n", out, lpnas_latency_entry_count(m));
        rc = print_table(m, &l);
        if (rc)
            fprintf(stderr, "latency: rows without an entry need --analytic-fallback to be estimated\n");
    }
    lpnas_latency_model_free(m);
    free(log);
    lpnas_layer_list_free(&l);
    return rc;
}

int main(int argc, char **argv)
{
    const char *device = NULL, *lut = NULL, *outpath = NULL, *layers = NULL, *policy = "fp32";
    const char *counters = NULL, *import_list = NULL, *import_out = NULL, *devname = NULL, *toolchain = NULL;
    int fallback = 0;
    double overhead = -1, reps = 7, warmup = 2;
    int profile = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--device") && has) {
            device = argv[++i];
        } else if (!strcmp(a, "--lut") && has) {
            lut = argv[++i];
        } else if (!strcmp(a, "--overhead-ms") && has) {
            if (parse_double(argv[++i], 0, 1e6, &overhead)) {
                fprintf(stderr, "latency: --overhead-ms '%s': expected a number in [0, 1e6]\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--profile-host")) {
            profile = 1;
        } else if (!strcmp(a, "-o") && has) {
            outpath = argv[++i];
        } else if (!strcmp(a, "--reps") && has) {
            if (parse_double(argv[++i], 1, 100000, &reps) || reps != floor(reps)) {
                fprintf(stderr, "latency: --reps '%s': expected an integer in [1, 100000]\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--warmup") && has) {
            if (parse_double(argv[++i], 0, 1000, &warmup) || warmup != floor(warmup)) {
                fprintf(stderr, "latency: --warmup '%s': expected an integer in [0, 1000]\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--policy") && has) {
            policy = argv[++i];
        } else if (!strcmp(a, "--import-openvino-counters") && has) {
            counters = argv[++i];
        } else if (!strcmp(a, "--layers") && has) {
            import_list = argv[++i];
        } else if (!strcmp(a, "--out") && has) {
            import_out = argv[++i];
        } else if (!strcmp(a, "--device-name") && has) {
            devname = argv[++i];
        } else if (!strcmp(a, "--toolchain") && has) {
            toolchain = argv[++i];
        } else if (!strcmp(a, "--analytic-fallback")) {
            fallback = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "latency: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        } else if (!layers) {
            layers = a;
        } else {
            fprintf(stderr, "latency: more than one layer list ('%s' and '%s')\n", layers, a);
            return 2;
        }
    }
    if (counters || import_list || import_out) {
        if (!counters || !import_list || !import_out) {
            fprintf(stderr, "latency: --import-openvino-counters REPORT.csv needs --layers LIST.csv and --out FILE\n");
            return 2;
        }
        if (layers || lut || device || profile || outpath) {
            fprintf(stderr, "latency: --import-openvino-counters takes no other layer list, LUT, device or profile\n");
            return 2;
        }
        return import_counters(counters, import_list, import_out, devname, toolchain, fallback, overhead);
    }
    if (devname || toolchain || fallback) {
        fprintf(stderr, "latency: --device-name, --toolchain and --analytic-fallback go with --import-openvino-counters\n");
        return 2;
    }
    if (!layers) {
        fprintf(stderr, "latency: no layer list given (see --help)\n");
        return 2;
    }
    if (device && lut) {
        fprintf(stderr, "latency: --device and --lut exclude each other\n");
        return 2;
    }
    lpnas_device dev = LPNAS_DEVICE_MYRIADX;
    if (device && lpnas_device_parse(device, &dev)) {
        fprintf(stderr, "latency: --device: %s\n", lpnas_last_error());
        return 2;
    }
    if (profile && !outpath) {
        fprintf(stderr, "latency: --profile-host needs -o FILE for the LUT it writes\n");
        return 2;
    }
    if (!profile && outpath) {
        fprintf(stderr, "latency: -o is only used with --profile-host\n");
        return 2;
    }
    const lpnas_policy *pol;
    if (lpnas_policy_get(policy, &pol)) {
        fprintf(stderr, "latency: --policy: %s\n", lpnas_last_error());
        return 2;
    }
    lpnas_layer_list l;
    if (lpnas_layer_list_load(&l, layers)) {
        fprintf(stderr, "latency: %s\n", lpnas_last_error());
        return 1;
    }
    lpnas_latency_model *m = NULL;
    lpnas_status st;
    if (profile) {
        lpnas_profile_options po;
        lpnas_profile_options_default(&po);
        po.repetitions = (int)reps;
        po.warmup = (int)warmup;
        po.policy = policy;
        po.progress = progress;
        st = lpnas_latency_profile_host(&l, &po, &m);
        if (!st)
            st = lpnas_lut_save(m, outpath);
        if (!st) {
            double measured, sum;
            st = lpnas_latency_additivity(m, &l, &po, &measured, &sum);
            if (!st)
                printf("additivity: sum of per-layer medians %.4f ms, whole list back to back %.4f ms, error %.1f%%\n",
                       sum, measured, 100 * fabs(sum - measured) / measured);
            printf("wrote %s (%zu entries)\n", outpath, lpnas_latency_entry_count(m));
        }
    } else if (lut) {
        st = lpnas_lut_load(lut, &m);
    } else {
        st = lpnas_device_latency_model(dev, &m);
    }
    int rc = 1;
    if (st) {
        fprintf(stderr, "latency: %s\n", lpnas_last_error());
    } else {
        if (overhead >= 0)
            lpnas_latency_set_overhead(m, overhead);
        rc = print_table(m, &l);
    }
    lpnas_latency_model_free(m);
    lpnas_layer_list_free(&l);
    return rc;
}
