/* export_onnx: a model file (best.lpm, train_segmenter --save) as an ONNX
 * model for ONNX Runtime or OpenVINO / Myriad X (docs/deploy.md). The last
 * line: "wrote OUT.onnx (float32|float16, opset N, policy P, arch A)". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpnas.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: export_onnx MODEL.lpm OUT.onnx [--fp16] [--no-normalization] [--opset N] [--help]\n"
            "\n"
            "Writes the network of a model file as ONNX: the engine's graph with batch norm folded into the\n"
            "convs, the weights as the model's device policy holds them, the input normalization as the first\n"
            "nodes (input \"image\": raw sensor values, float32 NCHW; outputs \"logits\" and \"probability\").\n"
            "\n"
            "  --fp16              float16 weights and tensors (input, normalization and outputs stay float32)\n"
            "  --no-normalization  leave the normalization out: \"image\" must be normalized already\n"
            "  --opset N           ONNX opset %d..%d (default %d)\n"
            "\n"
            "Deployment to ONNX Runtime and the Myriad X: docs/deploy.md.\n"
            "Exit status 0 on success, 1 on errors, 2 on bad options.\n",
            LPNAS_ONNX_OPSET_MIN, LPNAS_ONNX_OPSET_MAX, LPNAS_ONNX_OPSET_MIN);
}

int main(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL};
    int nfiles = 0;
    lpnas_onnx_options o;
    lpnas_onnx_options_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--fp16")) {
            o.precision = LPNAS_ONNX_FLOAT16;
        } else if (!strcmp(a, "--no-normalization")) {
            o.normalization = false;
        } else if (!strcmp(a, "--opset") && i + 1 < argc) {
            char *e;
            errno = 0;
            long v = strtol(argv[++i], &e, 10);
            if (errno || *e || e == argv[i] || v < LPNAS_ONNX_OPSET_MIN || v > LPNAS_ONNX_OPSET_MAX) {
                fprintf(stderr, "export_onnx: --opset '%s': expected an integer in [%d, %d]\n", argv[i],
                        LPNAS_ONNX_OPSET_MIN, LPNAS_ONNX_OPSET_MAX);
                return 2;
            }
            o.opset = (int)v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "export_onnx: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        } else if (nfiles < 2) {
            files[nfiles++] = a;
        } else {
            fprintf(stderr, "export_onnx: unexpected argument '%s': give MODEL.lpm and OUT.onnx (see --help)\n", a);
            return 2;
        }
    }
    if (nfiles != 2) {
        fprintf(stderr, "export_onnx: need MODEL.lpm and OUT.onnx (see --help)\n");
        return 2;
    }
    lpnas_net *net;
    char policy[64];
    if (lpnas_model_load(files[0], 1, &net, policy, sizeof policy)) {
        fprintf(stderr, "export_onnx: %s\n", lpnas_last_error());
        return 1;
    }
    if (lpnas_policy_get(policy, &o.policy)) {
        fprintf(stderr, "export_onnx: %s: policy: %s\n", files[0], lpnas_last_error());
        lpnas_net_free(net);
        return 1;
    }
    char prov[4200];
    snprintf(prov, sizeof prov, "exported by export_onnx from %s", files[0]);
    o.provenance = prov;
    int rc = 0;
    if (lpnas_model_export_onnx(net, &o, files[1])) {
        fprintf(stderr, "export_onnx: %s\n", lpnas_last_error());
        rc = 1;
    } else {
        char arch[1024];
        lpnas_arch_format(lpnas_net_arch(net), arch, sizeof arch);
        printf("wrote %s (%s, opset %d, policy %s, arch %s)\n", files[1],
               o.precision == LPNAS_ONNX_FLOAT16 ? "float16" : "float32", o.opset, policy, arch);
    }
    lpnas_net_free(net);
    return rc;
}
