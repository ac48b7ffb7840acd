/* Networks built from an architecture: one memory plan (parameters,
 * gradients, activations, workspace; sizes known before allocating), forward
 * and backward over the node graph in FP32 or a device policy, and device
 * inference with BN folded into the convs. No allocation inside a step. */
#ifndef LPNAS_NET_H
#define LPNAS_NET_H

#include "lpnas/arch.h"
#include "lpnas/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lpnas_net lpnas_net;

typedef struct {
    int batch;     /* largest batch a step will use; default 16 */
    int h, w;      /* tile size; default 64 x 64 */
    uint64_t seed; /* initialization (PyTorch's defaults: Kaiming-uniform); default 1 */
} lpnas_net_options;

void lpnas_net_options_default(lpnas_net_options *o);
lpnas_status lpnas_net_create(const lpnas_arch *a, const lpnas_net_options *o, lpnas_net **out);
void lpnas_net_free(lpnas_net *net);

const lpnas_arch *lpnas_net_arch(const lpnas_net *net);
void lpnas_net_size(const lpnas_net *net, int *batch, int *h, int *w); /* the plan's */
size_t lpnas_net_param_count(const lpnas_net *net);
size_t lpnas_net_memory_bytes(const lpnas_net *net); /* everything the plan allocated */
/* Flat fp32 master parameters. Asking for the pointer marks the folded
 * inference weights stale (they are refolded at the next lpnas_net_infer);
 * a caller that keeps the pointer and writes through it later calls
 * lpnas_net_params_changed (lpnas_train does this for itself). */
float *lpnas_net_params(lpnas_net *net);
void lpnas_net_params_changed(lpnas_net *net);
/* Mixed precision (issue 18): rounds, in place, the weights of every conv
 * whose stage has a weight format (":w8", ":w4": symmetric per output
 * channel; ":f16": binary16) to the values the device holds; other layers
 * are left to the policy. *layers (may be NULL) receives how many convs. */
lpnas_status lpnas_net_round_stage_weights(lpnas_net *net, int *layers);
float *lpnas_net_grads(lpnas_net *net);              /* same layout */
/* BN running statistics (mean then variance per BN, in graph order), saved
 * in model files; like lpnas_net_params, marks the fold stale */
float *lpnas_net_buffers(lpnas_net *net, size_t *count);

/* Input normalization (part of the model, as on the device): x' = (x - mean[c]) / std[c]. */
lpnas_status lpnas_net_set_normalization(lpnas_net *net, const float *mean, const float *std);
void lpnas_net_get_normalization(const lpnas_net *net, float *mean, float *std);

void lpnas_net_zero_grad(lpnas_net *net);
/* images: n x C x H x W raw values. *logits: n x 1 x H x W, owned by net.
 * policy fp32 (or NULL): the unfolded network; training: BN uses batch
 * statistics and updates its running ones.
 * policy non-fp32: the deployed network, trained through the fold: BN is
 * folded into the conv with its running statistics (frozen: fine-tuning
 * follows an FP32 warm-up), the folded weights converted by the policy's
 * host conversion, activations fused -- the same computation, bit for bit,
 * as lpnas_net_infer, in training and evaluation mode alike. */
lpnas_status lpnas_net_forward(lpnas_net *net, const float *images, int n, bool training, const lpnas_policy *policy,
                               const float **logits);
/* The deployed network's forward as a training forward, in any policy --
 * in fp32 too (BN folded with its frozen running statistics, no rounding):
 * what lpnas_net_forward does under a device policy. */
lpnas_status lpnas_net_forward_deployed(lpnas_net *net, const float *images, int n, const lpnas_policy *policy,
                                        const float **logits);
/* After a training forward: adds parameter gradients (dlogits: n x 1 x H x W).
 * Activation gradients are rounded by the policy at op boundaries; weight
 * gradients stay fp32 (rounding is straight-through). After a device-policy
 * forward the gradient flows through the fold to the conv weights and
 * biases and BN gamma and beta (docs/engine.md). */
lpnas_status lpnas_net_backward(lpnas_net *net, const float *dlogits, const lpnas_policy *policy);
/* Inference as deployed: BN folded into the conv weights (running statistics),
 * weights and input converted by the policy's host conversion, outputs rounded.
 * The fold is cached: it is redone only when the policy differs from the
 * last call's or the parameters may have changed (a training forward,
 * lpnas_net_params/buffers, lpnas_net_params_changed). */
lpnas_status lpnas_net_infer(lpnas_net *net, const float *images, int n, const lpnas_policy *policy,
                             const float **logits);

#ifdef __cplusplus
}
#endif
#endif
