/* Layer lists (DESIGN §6): the contract between architectures and latency
 * models. One layer per row of a CSV:
 *
 *   # lpnas layer list v1
 *   op,in_h,in_w,in_c,out_c,kernel,stride,groups,act[,dilation]
 *   conv,224,224,3,64,7,2,1,relu
 *
 * `stride` is the scale factor for upsampling and deconv; spatial padding is
 * "same"; the optional 10th column `dilation` (default 1) was appended for
 * dilated convs. For concat, in_c is the sum of the inputs' channels; for
 * fc, in_c and out_c are the feature counts (in_h = in_w = 1); for
 * detection_output, see its op below. Full format:
 * docs/formats.md. */
#ifndef LPNAS_LAYERS_H
#define LPNAS_LAYERS_H

#include "lpnas/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Append-only: the names are the CSV spelling (lpnas_layer_op_name). */
typedef enum {
    LPNAS_OP_CONV,
    LPNAS_OP_DECONV,
    LPNAS_OP_MAXPOOL,
    LPNAS_OP_AVGPOOL,
    LPNAS_OP_GLOBAL_AVGPOOL,
    LPNAS_OP_FC,
    LPNAS_OP_ADD,
    LPNAS_OP_CONCAT,
    LPNAS_OP_UPSAMPLE_NEAREST,
    LPNAS_OP_UPSAMPLE_BILINEAR,
    LPNAS_OP_BN,
    LPNAS_OP_RELU,
    /* SSD post-processing (box decoding, per-class selection, NMS), which a
     * device runs outside its conv engine: in_h = priors, in_w = 1, in_c =
     * classes (background included), out_c = detections kept (keep_top_k);
     * kernel, stride and groups 1. Latency models only: no host kernel. */
    LPNAS_OP_DETECTION_OUTPUT,
    LPNAS_OP_COUNT_
} lpnas_layer_op;

typedef enum { LPNAS_ACT_NONE, LPNAS_ACT_RELU, LPNAS_ACT_RELU6, LPNAS_ACT_COUNT_ } lpnas_layer_act;

typedef struct {
    lpnas_layer_op op;
    int in_h, in_w, in_c, out_c;
    int kernel, stride, groups;
    lpnas_layer_act act;
    int dilation; /* 1 unless dilated */
} lpnas_layer;

typedef struct {
    lpnas_layer *layers;
    size_t count, capacity;
} lpnas_layer_list;

const char *lpnas_layer_op_name(lpnas_layer_op op);     /* "conv" */
/* Checks one layer's fields (positive sizes, groups dividing the channels,
 * kernel and stride in range); the message names the field and value. */
lpnas_status lpnas_layer_check(const lpnas_layer *layer);
const char *lpnas_layer_act_name(lpnas_layer_act act);  /* "relu6" */

void lpnas_layer_list_init(lpnas_layer_list *l);
void lpnas_layer_list_free(lpnas_layer_list *l);
lpnas_status lpnas_layer_list_push(lpnas_layer_list *l, const lpnas_layer *layer);
/* Output spatial size of a layer under "same" padding (ceil(in/stride)),
 * or in*stride for upsampling and deconv; 1x1 for global pooling and fc. */
void lpnas_layer_out_hw(const lpnas_layer *layer, int *out_h, int *out_w);

/* Text I/O. Parse errors: LPNAS_ERR_FORMAT naming the source, line and column. */
lpnas_status lpnas_layer_list_parse(lpnas_layer_list *l, const char *text, const char *source_name);
lpnas_status lpnas_layer_list_load(lpnas_layer_list *l, const char *path);
lpnas_status lpnas_layer_list_save(const lpnas_layer_list *l, const char *path);
/* Writes the CSV text into a new malloc'ed string (caller frees). */
lpnas_status lpnas_layer_list_format(const lpnas_layer_list *l, char **out);

#ifdef __cplusplus
}
#endif
#endif
