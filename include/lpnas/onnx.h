/* ONNX export (docs/deploy.md): the network the engine runs -- the same
 * node graph, BN folded into the convs exactly as lpnas_net_infer folds it,
 * the input normalization as the first nodes -- as a standard ONNX model
 * (opset 13 or later) that ONNX Runtime or OpenVINO (Myriad X) reads.
 *
 *   input   "image"        float32 [N][C][H][W], raw sensor values
 *   outputs "logits"       float32 [N][1][H][W]
 *           "probability"  float32 [N][1][H][W], sigmoid of the logits
 *
 * The file is written to a temporary name and renamed: an error never
 * leaves a partial file. */
#ifndef LPNAS_ONNX_H
#define LPNAS_ONNX_H

#include "lpnas/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LPNAS_ONNX_FLOAT32 = 0, LPNAS_ONNX_FLOAT16 = 1 } lpnas_onnx_precision;

#define LPNAS_ONNX_OPSET_MIN 13
#define LPNAS_ONNX_OPSET_MAX 21

typedef struct {
    /* FLOAT32 (default): float32 weights and tensors. FLOAT16: every weight
     * and every tensor between the normalization and the output is float16
     * (the input, its normalization and the outputs stay float32, where the
     * engine computes them: DESIGN §4.3). */
    lpnas_onnx_precision precision;
    int opset;                 /* LPNAS_ONNX_OPSET_MIN..MAX; default 13 */
    bool normalization;        /* include the input normalization (default true); false: "image" is normalized */
    /* The device policy the weights were fine-tuned for (the model file's).
     * The folded weights get its host conversion, as lpnas_net_infer gives
     * them, so a fine-tuned model exports the device's values (binary16 grid
     * values, also in a float32 file). NULL or fp32: unchanged in float32;
     * with FLOAT16, ieee-fp16's (round to nearest even). */
    const lpnas_policy *policy;
    const char *provenance;    /* free text for metadata_props (source file, search); may be NULL */
} lpnas_onnx_options;

void lpnas_onnx_options_default(lpnas_onnx_options *o);

/* Writes `net` as an ONNX model to `path`. Errors: LPNAS_ERR_ARG (options),
 * LPNAS_ERR_UNSUPPORTED naming the node that has no ONNX mapping,
 * LPNAS_ERR_IO naming the path. Uses the net's folded-weight buffers (not
 * thread-safe with an inference on the same net). */
lpnas_status lpnas_model_export_onnx(lpnas_net *net, const lpnas_onnx_options *o, const char *path);

#ifdef __cplusplus
}
#endif
#endif
