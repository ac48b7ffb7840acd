/* fit_myriadx: the calibration of the built-in Myriad X latency model
 * (docs/latency.md), reproducible. Evaluates the model's constants against
 * the calibration set only (the per-layer NCS2 runs of shared/reference/
 * myriadx.md and the two whole networks there), and with --fit searches the
 * constants named on the command line (coordinate search in log space,
 * minimising the largest relative error). The held-out networks are printed
 * for information after the fit, never used by it.
 *
 *   cc -std=c11 -O2 -I. -Iinclude tools/fit_myriadx.c build/liblpnas.a \
 *      $(pkg-config --libs openblas libpng zlib) -lpthread -lm -o build/fit_myriadx
 *   build/fit_myriadx                          # errors of the built-in constants
 *   build/fit_myriadx --fit nce_ms_per_unit nce_tile_units
 *   build/fit_myriadx --set ddr_bytes_per_ms=5.68e6 --fit nce_ms_per_unit
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpnas.h"
#include "nas/latency_internal.h"

static const struct {
    lpnas_layer_op op;
    int w, h, c, oc, k, g;
    double ms;
} LAYERS[] = {
    {LPNAS_OP_CONV, 1, 1, 32, 32, 3, 1, 0.076},      {LPNAS_OP_CONV, 1, 2, 32, 32, 1, 1, 0.076},
    {LPNAS_OP_CONV, 1, 2, 32, 32, 3, 1, 0.082},      {LPNAS_OP_CONV, 32, 32, 86, 84, 3, 1, 0.890},
    {LPNAS_OP_CONV, 32, 32, 86, 85, 1, 1, 0.386},    {LPNAS_OP_CONV, 32, 32, 86, 86, 3, 1, 0.891},
    {LPNAS_OP_CONV, 32, 32, 86, 86, 1, 1, 0.383},    {LPNAS_OP_FC, 1, 1, 3, 3, 1, 1, 0.061},
    {LPNAS_OP_FC, 1, 1, 8, 3, 1, 1, 0.052},          {LPNAS_OP_FC, 1, 1, 3072, 128, 1, 1, 0.098},
    {LPNAS_OP_FC, 1, 1, 3072, 512, 1, 1, 0.345},     {LPNAS_OP_CONV, 8, 8, 3, 3, 1, 3, 0.016},
    {LPNAS_OP_CONV, 8, 8, 3, 3, 3, 3, 0.024},        {LPNAS_OP_CONV, 8, 8, 3, 3, 5, 3, 0.022},
    {LPNAS_OP_CONV, 8, 8, 3, 3, 7, 3, 0.028},        {LPNAS_OP_CONV, 32, 16, 512, 512, 1, 512, 0.273},
    {LPNAS_OP_CONV, 32, 16, 512, 512, 3, 512, 0.925}, {LPNAS_OP_CONV, 32, 16, 512, 512, 5, 512, 1.793},
    {LPNAS_OP_CONV, 32, 16, 512, 512, 7, 512, 2.402}, {LPNAS_OP_CONV, 32, 24, 512, 512, 1, 512, 0.392},
};
#define NLAYERS (sizeof LAYERS / sizeof LAYERS[0])

static const struct {
    const char *file;
    double ms;
    int held_out;
} NETS[] = {
    {"examples/latency/resnet18_224.csv", 19.7, 0},
    {"examples/latency/deeplabv3_mnv2_256.csv", 48.1, 0},
    {"test/data/latency/ssd_mobilenet_v2_300.csv", 80.4, 1},
    {"test/data/latency/ssd_mobilenet_v1_075_300.csv", 52.8, 1},
    {"test/data/latency/squeezenet1_1_227.csv", 11.3, 1},
    {"test/data/latency/resnet50_224.csv", 56.5, 1},
    {"test/data/latency/mobileone_s0_224.csv", 11.1, 1},
    {"test/data/latency/deeplabv3_mnv2_513.csv", 253.1, 1},
};
#define NNETS (sizeof NETS / sizeof NETS[0])

static const char *const NAMES[] = {
    "nce_ms_per_unit", "conv_floor_ms", "ddr_bytes_per_ms", "weight_bytes_per_ms", "cmx_bytes", "dw_fixed_ms",
    "dw_fixed_per_k_ms", "dw_ms_per_unit", "dw_k_offset", "shave_fixed_ms", "shave_bytes_per_ms", "shave_macs_per_ms",
    "fc_floor_ms", "fc_fixed_ms", "fc_bytes_per_ms", "fused_pool_factor", "nce_tile_units"};
static const size_t OFFS[] = {
    offsetof(lpnas_myriadx_constants, nce_ms_per_unit), offsetof(lpnas_myriadx_constants, conv_floor_ms),
    offsetof(lpnas_myriadx_constants, ddr_bytes_per_ms), offsetof(lpnas_myriadx_constants, weight_bytes_per_ms),
    offsetof(lpnas_myriadx_constants, cmx_bytes), offsetof(lpnas_myriadx_constants, dw_fixed_ms),
    offsetof(lpnas_myriadx_constants, dw_fixed_per_k_ms), offsetof(lpnas_myriadx_constants, dw_ms_per_unit),
    offsetof(lpnas_myriadx_constants, dw_k_offset), offsetof(lpnas_myriadx_constants, shave_fixed_ms),
    offsetof(lpnas_myriadx_constants, shave_bytes_per_ms), offsetof(lpnas_myriadx_constants, shave_macs_per_ms),
    offsetof(lpnas_myriadx_constants, fc_floor_ms), offsetof(lpnas_myriadx_constants, fc_fixed_ms),
    offsetof(lpnas_myriadx_constants, fc_bytes_per_ms), offsetof(lpnas_myriadx_constants, fused_pool_factor),
    offsetof(lpnas_myriadx_constants, nce_tile_units)};
#define NCONST (sizeof NAMES / sizeof NAMES[0])

static double *field(lpnas_myriadx_constants *k, int i)
{
    return (double *)(void *)((char *)k + OFFS[i]);
}

static int find(const char *name)
{
    for (size_t i = 0; i < NCONST; i++)
        if (!strcmp(NAMES[i], name))
            return (int)i;
    fprintf(stderr, "fit_myriadx: unknown constant '%s'\n", name);
    exit(2);
}

static lpnas_layer_list nets[NNETS];

static double list_ms(lpnas_latency_model *m, const lpnas_layer_list *l)
{
    double t;
    if (lpnas_latency_estimate(m, l, NULL, &t)) {
        fprintf(stderr, "fit_myriadx: %s\n", lpnas_last_error());
        exit(1);
    }
    return t;
}

/* The fit's objective: the largest |relative error| over the calibration
 * set, plus TIE_WEIGHT times the mean |relative error|. The minimax term
 * decides; the mean only breaks ties (when the worst item is one no fitted
 * constant moves, e.g. a depthwise layer while dense constants are fitted,
 * many settings share the same worst error, and without a tie-break the
 * search would stop at whichever its start reached). Calibration items
 * only. Prints every item if verbose; *worst_out gets the plain worst. */
#define TIE_WEIGHT 0.01
static double evaluate(lpnas_latency_model *m, int verbose, double *worst_out)
{
    lpnas_myriadx_prepare(&m->k);
    /* bounds from the chip: a stream owns 9 of the 20 CMX slices [C], the
     * whole CMX is 2.5 MB [V]; rates and units stay positive */
    if (m->k.cmx_bytes < 9 * 131072.0 || m->k.cmx_bytes > 20 * 131072.0 || m->k.nce_tile_units < 0)
        return 1e9;
    double worst = 0, sum = 0, overhead = m->overhead_ms;
    int items = 0;
    lpnas_layer_list one;
    lpnas_layer_list_init(&one);
    m->overhead_ms = 0;
    for (size_t i = 0; i < NLAYERS; i++) {
        lpnas_layer y = {LAYERS[i].op, LAYERS[i].h, LAYERS[i].w, LAYERS[i].c, LAYERS[i].oc, LAYERS[i].k, 1,
                         LAYERS[i].g, LPNAS_ACT_NONE, 1};
        one.count = 0;
        lpnas_layer_list_push(&one, &y);
        double t = list_ms(m, &one), e = (t - LAYERS[i].ms) / LAYERS[i].ms;
        worst = fmax(worst, fabs(e));
        sum += fabs(e), items++;
        if (verbose) {
            char d[64];
            snprintf(d, sizeof d, "%s %dx%dx%d>%d k%d g%d", LAYERS[i].op == LPNAS_OP_FC ? "fc" : "conv", LAYERS[i].w,
                     LAYERS[i].h, LAYERS[i].c, LAYERS[i].oc, LAYERS[i].k, LAYERS[i].g);
            printf("layer    %-44s measured %7.3f estimated %7.3f %+6.1f%%\n", d, LAYERS[i].ms, t, 100 * e);
        }
    }
    lpnas_layer_list_free(&one);
    m->overhead_ms = overhead;
    for (size_t i = 0; i < NNETS; i++) {
        double t = list_ms(m, &nets[i]), e = (t - NETS[i].ms) / NETS[i].ms;
        if (!NETS[i].held_out)
            worst = fmax(worst, fabs(e)), sum += fabs(e), items++;
        if (verbose)
            printf("%-9s %-44s measured %7.2f estimated %7.2f %+6.1f%%\n", NETS[i].held_out ? "held-out" : "network",
                   NETS[i].file, NETS[i].ms, t, 100 * e);
    }
    if (worst_out)
        *worst_out = worst;
    return worst + TIE_WEIGHT * sum / items;
}

int main(int argc, char **argv)
{
    lpnas_latency_model *m;
    if (lpnas_latency_model_myriadx(NULL, &m))
        return 1;
    for (size_t i = 0; i < NNETS; i++)
        if (lpnas_layer_list_load(&nets[i], NETS[i].file)) {
            fprintf(stderr, "fit_myriadx: %s\n", lpnas_last_error());
            return 1;
        }
    int fit[NCONST], nfit = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--help")) {
            printf("usage: fit_myriadx [--set NAME=VALUE]... [--fit NAME...]\n");
            return 0;
        } else if (!strcmp(argv[a], "--set") && a + 1 < argc) {
            char name[64];
            double v;
            if (sscanf(argv[++a], "%63[^=]=%lf", name, &v) != 2) {
                fprintf(stderr, "fit_myriadx: --set NAME=VALUE\n");
                return 2;
            }
            *field(&m->k, find(name)) = v;
        } else if (!strcmp(argv[a], "--fit")) {
            while (a + 1 < argc && argv[a + 1][0] != '-')
                fit[nfit++] = find(argv[++a]);
        } else {
            fprintf(stderr, "fit_myriadx: unknown option '%s'\n", argv[a]);
            return 2;
        }
    }
    double best = evaluate(m, 0, NULL);
    for (double step = 0.5; step > 1e-4; step *= 0.5) {
        int improved = 1;
        while (improved) {
            improved = 0;
            for (int f = 0; f < nfit; f++)
                for (int dir = -1; dir <= 1; dir += 2) {
                    double *p = field(&m->k, fit[f]), old = *p;
                    *p = old == 0 ? step * dir * dir : old * exp(step * dir);
                    if (old == 0 && dir < 0)
                        *p = 0;
                    double e = evaluate(m, 0, NULL);
                    if (e < best - 1e-12) {
                        best = e, improved = 1;
                    } else {
                        *p = old;
                    }
                }
        }
    }
    /* then joint random steps (minimax surfaces have ridges a coordinate
     * search stops on); deterministic: a fixed LCG */
    uint64_t rng = 12345;
    for (int it = 0; it < 200000 && nfit > 1; it++) {
        double sigma = 0.3 * (1.0 - it / 200000.0) + 0.002, old[NCONST];
        for (int f = 0; f < nfit; f++) {
            double *p = field(&m->k, fit[f]);
            old[f] = *p;
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            double u = ((double)(rng >> 11) / 9007199254740992.0) * 2 - 1;
            *p *= exp(sigma * u);
        }
        double e = evaluate(m, 0, NULL);
        if (e < best)
            best = e;
        else
            for (int f = 0; f < nfit; f++)
                *field(&m->k, fit[f]) = old[f];
    }
    double worst;
    evaluate(m, 1, &worst);
    printf("worst calibration error %.1f%% (objective %.5f)\n", 100 * worst, best);
    for (size_t i = 0; i < NCONST; i++)
        printf("%s=%.5g\n", NAMES[i], *field(&m->k, (int)i));
    lpnas_latency_model_free(m);
    for (size_t i = 0; i < NNETS; i++)
        lpnas_layer_list_free(&nets[i]);
    return 0;
}
