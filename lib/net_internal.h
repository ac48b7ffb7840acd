/* Internal: the network's plan and the pieces lib/net.c and lib/net_fold.c
 * share (the unfolded engine and the folded, deployed one). */
#ifndef LPNAS_LIB_NET_INTERNAL_H
#define LPNAS_LIB_NET_INTERNAL_H

#include "kernels/conv2d.h"
#include "lib/graph.h"
#include "lpnas/net.h"

typedef struct {
    size_t act;         /* output tensor offset (room for the largest batch) */
    size_t w, b;        /* parameters: conv/deconv weight and bias; BN gamma and beta */
    size_t buf;         /* BN running mean (variance at buf + c) */
    size_t save;        /* BN saved mean (inverse std at save + c) */
    size_t idx;         /* max pool argmax */
    size_t fw, fb;      /* folded inference weight and bias (conv/deconv) */
} lpnas_net_slots;

struct lpnas_net {
    lpnas_arch arch;
    lpnas_graph g;
    lpnas_net_slots s[LPNAS_GRAPH_MAX_NODES];
    int batch, h, w;
    size_t nparams, nbuffers, nacts, nws, nsave, nidx, nfolded;
    float *params, *grads, *buffers, *acts, *dacts, *ws, *save, *folded;
    float *dfolded;      /* gradients w.r.t. the folded weights (training through the fold) */
    int32_t *idx;
    int fwd_n;           /* batch of the last training forward (0: none to differentiate) */
    bool fwd_folded;     /* it ran through the fold */
    /* The fold cache: net->folded holds the fold of the current parameters
     * and BN statistics for fold_policy unless fold_dirty. */
    bool fold_dirty;
    const lpnas_policy *fold_policy;
    int alias[LPNAS_GRAPH_MAX_NODES]; /* folded forward: node whose tensor holds node i's value */
    float mean[16], std[16];
    struct lpnas_net_quant *quant; /* integer policies (lib/net_quant.c); NULL until calibrated */
};

static inline size_t lpnas_net_numel(const lpnas_node *n, int batch)
{
    return (size_t)batch * n->c * n->h * n->w;
}

static inline lpnas_shape lpnas_net_shape(const lpnas_node *n, int batch)
{
    lpnas_shape s = {batch, n->c, n->h, n->w};
    return s;
}

static inline lpnas_conv_params lpnas_net_conv_params(const lpnas_node *n)
{
    return lpnas_conv_params_make(n->kernel, n->stride, n->groups);
}

lpnas_status lpnas_net_check_n(const lpnas_net *net, int n, const void *p, const char *what);
void lpnas_net_load_input(lpnas_net *net, const float *images, int n, const lpnas_policy *policy);
/* One node of the unfolded graph, reading its first input from x. */
void lpnas_net_forward_node(lpnas_net *net, int i, int n, bool training, const float *P, const float *x,
                            const lpnas_policy *policy);
/* Its backward (parameters P of the forward; x: its first input). */
/* store_dx: its first input's gradient is written, not added into (it holds
 * anything; BN and activation nodes only). */
void lpnas_net_backward_node(lpnas_net *net, int i, int n, const float *P, const float *x, const lpnas_policy *policy,
                             bool store_dx);
/* The activation gradients of a backward pass (net.c): _begin puts dlogits
 * into the last node's and fills last_use[LPNAS_GRAPH_MAX_NODES]; call
 * _open(i) right before node i's backward: it zeroes the gradients that
 * node i is the first to add into, except (may_store) a BN's or activation's
 * input gradient, and returns true then: pass it as store_dx. */
void lpnas_net_dgrad_begin(lpnas_net *net, int n, const float *dlogits, int *last_use);
bool lpnas_net_dgrad_open(lpnas_net *net, int i, int n, const int *last_use, bool may_store);

/* For exporters (lib/onnx_export.c): the node graph the engine runs and
 * the folded weights its deployed inference uses, so an exported model is
 * the engine's network, never a second description of it. */
const lpnas_graph *lpnas_net_graph(const lpnas_net *net);
/* For tests that need a graph the builder never makes (unsupported nodes). */
lpnas_graph *lpnas_net_graph_mut(lpnas_net *net);
/* True if node i is a BN that deployed inference folds into the conv or
 * deconv right before it (lpnas_net_infer never runs such a node). */
bool lpnas_net_bn_is_folded(const lpnas_net *net, int i);
/* After lpnas_net_fold: node i's folded weight (conv [OC][C/g][k][k],
 * deconv [C][OC][k][k]) and bias [OC], valid until the next fold. */
void lpnas_net_folded(const lpnas_net *net, int i, const float **w, const float **b);

/* lib/net_fold.c. Folds BN into the convs (running statistics) and converts
 * the result by the policy's host conversion, unless the cache is clean. */
void lpnas_net_fold(lpnas_net *net, const lpnas_policy *policy);
/* The deployed forward over the folded weights (input already loaded). */
void lpnas_net_forward_folded(lpnas_net *net, int n, const lpnas_policy *policy);
/* Backward of the folded forward: straight-through rounding, the chain rule
 * through the fold to conv weights/biases and BN gamma/beta (frozen
 * statistics). Adds into net->grads. */
void lpnas_net_backward_folded(lpnas_net *net, const float *dlogits, const lpnas_policy *policy);

/* lib/net_quant.c. Integer policies: true once calibrated; weights
 * quantized after a float fold (net->folded then holds the dequantized
 * values the straight-through backward uses); the integer forward. */
bool lpnas_net_quant_ready(const lpnas_net *net);
void lpnas_net_quantize_weights(lpnas_net *net, const lpnas_policy *policy);
void lpnas_net_forward_int(lpnas_net *net, int n, const lpnas_policy *policy);
void lpnas_net_quant_free(lpnas_net *net);
/* For the QDQ exporter, after lpnas_net_fold in an integer policy: true if
 * node i's output is an integer tensor (the last node of a conv's fused
 * group, or any other node), with its scale and zero point; node 0 too. */
bool lpnas_net_int_tensor(lpnas_net *net, int i, float *scale, int32_t *zp);
/* Conv/deconv node i: weight codes (the folded layout), int32 bias codes,
 * per-output-channel weight scales, and the input tensor's scale. */
void lpnas_net_int_weights(const lpnas_net *net, int i, const int8_t **qw, const int32_t **qb, const float **ws,
                           float *s_in);
/* Model files (lib/model_file.c). Node i's calibrated range, scale and
 * zero point; false if the net is not calibrated. */
bool lpnas_net_calib_get(const lpnas_net *net, int i, float *lo, float *hi, float *scale, int32_t *zp);
/* Sets the calibration of every node (graph count entries) as saved; the
 * scales and zero points are kept for `policy` (an integer policy, or NULL:
 * recomputed from the ranges for the policy of the next use). */
lpnas_status lpnas_net_calib_restore(lpnas_net *net, const float *lo, const float *hi, const float *scale,
                                     const int32_t *zp, const lpnas_policy *policy);
/* After lpnas_net_fold in an integer policy: the per-output-channel weight
 * scales of every conv and deconv in graph order into out (NULL: count only). */
size_t lpnas_net_weight_scales(const lpnas_net *net, float *out);

#endif
