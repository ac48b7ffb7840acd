/* imx8mp_nets: the built-in (UNCALIBRATED) i.MX 8M Plus NPU model against
 * the only published per-network figures found for that NPU (docs/latency.md,
 * "The built-in i.MX 8M Plus model"): Tengine Lite v1.4 for NXP's release
 * table. Prices the networks of that table whose layer lists exist in
 * test/data/latency/ and prints model, published and relative error. A check,
 * not a fit: nothing here changes the model's constants.
 *
 *   make tools && build/tools/imx8mp_nets [DIR]     (DIR: default test/data/latency) */
#include <stdio.h>

#include "lpnas.h"

static const struct {
    const char *file, *name;
    double ms; /* Tengine Lite v1.4 for NXP, i.MX 8M Plus NPU (input sizes not stated there) */
} NETS[] = {
    {"mobilenet_v2_224.csv", "MobileNet v2 (224x224 assumed)", 5.1},
    {"squeezenet1_1_227.csv", "SqueezeNet v1.1 (227x227 assumed)", 2.5},
};

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "test/data/latency";
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(argc == 2 && argv[1][1] == 'h' ? stdout : stderr, "usage: imx8mp_nets [DIR]\n");
        return argc == 2 && argv[1][1] == 'h' ? 0 : 2;
    }
    lpnas_latency_model *m;
    if (lpnas_latency_model_imx8mp(NULL, &m)) {
        fprintf(stderr, "imx8mp_nets: %s\n", lpnas_last_error());
        return 1;
    }
    printf("model: %s\n%-36s %9s %9s %7s\n", lpnas_latency_source(m), "network", "model ms", "published", "error");
    int rc = 0;
    for (size_t i = 0; i < sizeof NETS / sizeof NETS[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, NETS[i].file);
        lpnas_layer_list l;
        lpnas_layer_list_init(&l);
        double ms;
        if (lpnas_layer_list_load(&l, path) || lpnas_latency_estimate_wbits(m, &l, NULL, NULL, &ms)) {
            fprintf(stderr, "imx8mp_nets: %s\n", lpnas_last_error());
            rc = 1;
        } else {
            printf("%-36s %9.3f %9.1f %+6.0f%%\n", NETS[i].name, ms, NETS[i].ms, 100 * (ms / NETS[i].ms - 1));
        }
        lpnas_layer_list_free(&l);
    }
    lpnas_latency_model_free(m);
    return rc;
}
