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
float *lpnas_net_params(lpnas_net *net);             /* flat fp32 master parameters */
float *lpnas_net_grads(lpnas_net *net);              /* same layout */
/* BN running statistics (mean then variance per BN, in graph order), saved in model files */
float *lpnas_net_buffers(lpnas_net *net, size_t *count);

/* Input normalization (part of the model, as on the device): x' = (x - mean[c]) / std[c]. */
lpnas_status lpnas_net_set_normalization(lpnas_net *net, const float *mean, const float *std);
void lpnas_net_get_normalization(const lpnas_net *net, float *mean, float *std);

void lpnas_net_zero_grad(lpnas_net *net);
/* images: n x C x H x W raw values. training: BN uses batch statistics and
 * updates its running ones; policy non-fp32: device-precision forward
 * (weights and every op output rounded). *logits: n x 1 x H x W, owned by net. */
lpnas_status lpnas_net_forward(lpnas_net *net, const float *images, int n, bool training, const lpnas_policy *policy,
                               const float **logits);
/* After a training forward: adds parameter gradients (dlogits: n x 1 x H x W).
 * Activation gradients are rounded by the policy at op boundaries; weight
 * gradients stay fp32 (rounding is straight-through). */
lpnas_status lpnas_net_backward(lpnas_net *net, const float *dlogits, const lpnas_policy *policy);
/* Inference as deployed: BN folded into the conv weights (running statistics),
 * weights and input converted by the policy's host conversion, outputs rounded. */
lpnas_status lpnas_net_infer(lpnas_net *net, const float *images, int n, const lpnas_policy *policy,
                             const float **logits);

#ifdef __cplusplus
}
#endif
#endif
