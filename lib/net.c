/* The network engine: memory plan, forward/backward over the node graph,
 * folded device inference (include/lpnas/net.h). */
#include "lpnas/net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "kernels/activation.h"
#include "kernels/batchnorm.h"
#include "kernels/conv2d.h"
#include "kernels/deconv2d.h"
#include "kernels/eltwise.h"
#include "kernels/pool.h"
#include "kernels/upsample.h"
#include "lib/graph.h"
#include "lib/net_internal.h"

void lpnas_net_options_default(lpnas_net_options *o)
{
    o->batch = 16;
    o->h = o->w = 64;
    o->seed = 1;
}

#define numel lpnas_net_numel
#define shape_of lpnas_net_shape
#define conv_params lpnas_net_conv_params

/* PyTorch's defaults: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * BN gamma 1, beta 0, running mean 0, variance 1. */
static void init_params(lpnas_net *net, uint64_t seed)
{
    lpnas_rng r;
    lpnas_rng_derive(&r, seed, 0x1417, 0);
    for (int i = 0; i < net->g.count; i++) {
        const lpnas_node *n = &net->g.node[i];
        const lpnas_net_slots *s = &net->s[i];
        if (n->kind == LPNAS_NODE_CONV || n->kind == LPNAS_NODE_DECONV) {
            size_t nw = (size_t)n->params - (n->bias ? (size_t)n->c : 0);
            /* fan_in: conv in/groups*k*k; ConvTranspose: out*k*k (PyTorch's weight.size(1)) */
            double fan = n->kind == LPNAS_NODE_CONV ? (double)(n->in_c / n->groups) * n->kernel * n->kernel
                                                    : (double)n->c * n->kernel * n->kernel;
            float bound = (float)(1.0 / sqrt(fan));
            for (size_t k = 0; k < nw; k++)
                net->params[s->w + k] = (2 * lpnas_rng_uniform(&r) - 1) * bound;
            if (n->bias)
                for (int k = 0; k < n->c; k++)
                    net->params[s->b + (size_t)k] = (2 * lpnas_rng_uniform(&r) - 1) * bound;
        } else if (n->kind == LPNAS_NODE_BN) {
            for (int k = 0; k < n->c; k++) {
                net->params[s->w + (size_t)k] = 1;
                net->params[s->b + (size_t)k] = 0;
                net->buffers[s->buf + (size_t)k] = 0;
                net->buffers[s->buf + (size_t)n->c + (size_t)k] = 1;
            }
        }
    }
}

/* n floats of zeros on a 64-byte boundary (a cache line; the conv kernels'
 * vector loads of activation rows are then aligned); NULL if out of memory.
 * Freed with free(). */
static float *zalloc64(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)))
        return NULL;
    memset(p, 0, (n ? n : 1) * sizeof(float));
    return p;
}

lpnas_status lpnas_net_create(const lpnas_arch *a, const lpnas_net_options *o, lpnas_net **out)
{
    lpnas_net_options def;
    if (!o) {
        lpnas_net_options_default(&def);
        o = &def;
    }
    *out = NULL;
    if (o->batch < 1 || o->batch > 4096)
        return lpnas_fail(LPNAS_ERR_ARG, "net: batch %d (need 1..4096)", o->batch);
    lpnas_net *net = calloc(1, sizeof *net);
    if (!net)
        return lpnas_fail(LPNAS_ERR_NOMEM, "net: out of memory");
    lpnas_status st = lpnas_graph_build(a, o->h, o->w, &net->g);
    if (st) {
        free(net);
        return st;
    }
    net->arch = *a;
    net->batch = o->batch, net->h = o->h, net->w = o->w;
    /* sizes first */
    for (int i = 0; i < net->g.count; i++) {
        const lpnas_node *n = &net->g.node[i];
        lpnas_net_slots *s = &net->s[i];
        s->act = net->nacts;
        net->nacts += numel(n, o->batch);
        if (n->kind == LPNAS_NODE_CONV || n->kind == LPNAS_NODE_DECONV) {
            size_t nw = (size_t)n->params - (n->bias ? (size_t)n->c : 0);
            s->w = net->nparams;
            s->b = s->w + nw;
            net->nparams += (size_t)n->params;
            s->fw = net->nfolded;
            s->fb = s->fw + nw;
            net->nfolded += nw + (size_t)n->c;
            lpnas_shape in = shape_of(&net->g.node[n->in[0]], 1);
            size_t ws;
            if (n->kind == LPNAS_NODE_CONV) {
                lpnas_conv_params p = conv_params(n);
                ws = lpnas_conv2d_workspace(in, n->c, &p);
            } else {
                lpnas_deconv_params p = lpnas_deconv_params_make(2, 2);
                ws = lpnas_deconv2d_workspace(in, n->c, &p);
            }
            net->nws = ws > net->nws ? ws : net->nws;
        } else if (n->kind == LPNAS_NODE_BN) {
            s->w = net->nparams;
            s->b = s->w + (size_t)n->c;
            net->nparams += 2 * (size_t)n->c;
            s->buf = net->nbuffers;
            net->nbuffers += 2 * (size_t)n->c;
            s->save = net->nsave;
            net->nsave += 2 * (size_t)n->c;
        } else if (n->kind == LPNAS_NODE_MAXPOOL) {
            s->idx = net->nidx;
            net->nidx += numel(n, o->batch);
        }
    }
    /* then one allocation each */
    net->params = calloc(net->nparams + 1, 4);
    net->grads = calloc(net->nparams + 1, 4);
    net->buffers = calloc(net->nbuffers + 1, 4);
    net->acts = zalloc64(net->nacts);
    net->dacts = zalloc64(net->nacts);
    net->ws = zalloc64(net->nws + 1);
    net->save = calloc(net->nsave + 1, 4);
    net->folded = calloc(net->nfolded + 1, 4);
    net->dfolded = calloc(net->nfolded + 1, 4);
    net->idx = calloc(net->nidx + 1, sizeof *net->idx);
    if (!net->params || !net->grads || !net->buffers || !net->acts || !net->dacts || !net->ws ||
        !net->save || !net->folded || !net->dfolded || !net->idx) {
        lpnas_net_free(net);
        return lpnas_fail(LPNAS_ERR_NOMEM, "net: out of memory for a batch of %d at %dx%d", o->batch, o->h, o->w);
    }
    for (int c = 0; c < 16; c++)
        net->mean[c] = 0, net->std[c] = 1;
    init_params(net, o->seed);
    net->fold_dirty = true;
    *out = net;
    return LPNAS_OK;
}

void lpnas_net_free(lpnas_net *net)
{
    if (!net)
        return;
    free(net->params), free(net->grads), free(net->buffers), free(net->acts), free(net->dacts);
    free(net->ws), free(net->save), free(net->folded), free(net->dfolded), free(net->idx);
    lpnas_net_quant_free(net);
    free(net);
}

const lpnas_arch *lpnas_net_arch(const lpnas_net *net) { return &net->arch; }

void lpnas_net_size(const lpnas_net *net, int *batch, int *h, int *w)
{
    *batch = net->batch, *h = net->h, *w = net->w;
}
size_t lpnas_net_param_count(const lpnas_net *net) { return net->nparams; }
/* Handing out a writable pointer may change what the fold was made of. */
float *lpnas_net_params(lpnas_net *net)
{
    net->fold_dirty = true;
    return net->params;
}
void lpnas_net_params_changed(lpnas_net *net) { net->fold_dirty = true; }
float *lpnas_net_grads(lpnas_net *net) { return net->grads; }

float *lpnas_net_buffers(lpnas_net *net, size_t *count)
{
    *count = net->nbuffers;
    net->fold_dirty = true;
    return net->buffers;
}

size_t lpnas_net_memory_bytes(const lpnas_net *net)
{
    return 4 * (2 * net->nparams + net->nbuffers + 2 * net->nacts + net->nws + net->nsave + 2 * net->nfolded + net->nidx);
}

lpnas_status lpnas_net_set_normalization(lpnas_net *net, const float *mean, const float *std)
{
    for (int c = 0; c < net->arch.in_channels; c++)
        if (!isfinite(mean[c]) || !isfinite(std[c]) || !(std[c] > 0))
            return lpnas_fail(LPNAS_ERR_ARG, "net normalization: channel %d: mean %g, std %g (need finite, std > 0)", c,
                              (double)mean[c], (double)std[c]);
    for (int c = 0; c < net->arch.in_channels; c++)
        net->mean[c] = mean[c], net->std[c] = std[c];
    return LPNAS_OK;
}

void lpnas_net_get_normalization(const lpnas_net *net, float *mean, float *std)
{
    for (int c = 0; c < net->arch.in_channels; c++)
        mean[c] = net->mean[c], std[c] = net->std[c];
}

void lpnas_net_zero_grad(lpnas_net *net)
{
    memset(net->grads, 0, net->nparams * 4);
}

lpnas_status lpnas_net_check_n(const lpnas_net *net, int n, const void *p, const char *what)
{
    if (!p)
        return lpnas_fail(LPNAS_ERR_ARG, "net %s: NULL buffer", what);
    if (n < 1 || n > net->batch)
        return lpnas_fail(LPNAS_ERR_ARG, "net %s: batch %d (the plan holds 1..%d)", what, n, net->batch);
    return LPNAS_OK;
}

/* The input node: raw values, converted as the host sends them to the
 * device, then normalized (a ScaleShift stage on the device) and rounded. */
void lpnas_net_load_input(lpnas_net *net, const float *images, int n, const lpnas_policy *policy)
{
    const lpnas_node *in = &net->g.node[0];
    float *x = net->acts + net->s[0].act;
    size_t plane = (size_t)in->h * in->w, total = numel(in, n);
    memcpy(x, images, total * 4);
    lpnas_policy_round_host(policy, x, total);
    for (int b = 0; b < n; b++)
        for (int c = 0; c < in->c; c++) {
            float *p = x + ((size_t)b * in->c + (size_t)c) * plane, m = net->mean[c], k = 1.0f / net->std[c];
            for (size_t i = 0; i < plane; i++)
                p[i] = (p[i] - m) * k;
        }
    lpnas_policy_round(policy, x, total);
}

void lpnas_net_forward_node(lpnas_net *net, int i, int n, bool training, const float *P, const float *x,
                            const lpnas_policy *policy)
{
    const lpnas_node *nd = &net->g.node[i];
    const lpnas_net_slots *s = &net->s[i];
    const lpnas_node *a = &net->g.node[nd->in[0]];
    float *out = net->acts + s->act;
    lpnas_shape sh = shape_of(a, n);
    switch (nd->kind) {
    case LPNAS_NODE_CONV: {
        lpnas_conv_params p = conv_params(nd);
        lpnas_conv2d_forward(out, x, P + s->w, nd->bias ? P + s->b : NULL, sh, nd->c, &p, LPNAS_KACT_NONE, policy,
                             net->ws);
        break;
    }
    case LPNAS_NODE_DECONV: {
        lpnas_deconv_params p = lpnas_deconv_params_make(2, 2);
        lpnas_deconv2d_forward(out, x, P + s->w, nd->bias ? P + s->b : NULL, sh, nd->c, &p, LPNAS_KACT_NONE, policy,
                               net->ws);
        break;
    }
    case LPNAS_NODE_BN: {
        lpnas_bn_params bp = lpnas_bn_params_default();
        float *rm = net->buffers + s->buf, *rv = rm + nd->c;
        if (training)
            lpnas_bn_forward_train(out, net->save + s->save, net->save + s->save + nd->c, rm, rv, x, P + s->w,
                                   P + s->b, sh, &bp, policy);
        else
            lpnas_bn_forward_infer(out, x, P + s->w, P + s->b, rm, rv, sh, &bp, policy);
        break;
    }
    case LPNAS_NODE_ACT:
        lpnas_activation_forward(out, x, numel(nd, n), nd->act ? LPNAS_ACTFN_RELU6 : LPNAS_ACTFN_RELU, policy);
        break;
    case LPNAS_NODE_MAXPOOL: {
        lpnas_pool_params p = {2, 2, 0};
        lpnas_maxpool_forward(out, net->idx + s->idx, x, sh, &p, policy);
        break;
    }
    case LPNAS_NODE_UPSAMPLE:
        lpnas_upsample_forward(out, x, sh, 2, nd->act ? LPNAS_UPSAMPLE_BILINEAR : LPNAS_UPSAMPLE_NEAREST, policy);
        break;
    case LPNAS_NODE_ADD:
    case LPNAS_NODE_CONCAT: {
        int j = net->alias[nd->in[1]]; /* identity outside the folded forward */
        const float *y = net->acts + net->s[j].act;
        if (nd->kind == LPNAS_NODE_ADD)
            lpnas_add_forward(out, x, y, numel(nd, n), policy);
        else
            lpnas_concat_forward(out, x, y, sh, shape_of(&net->g.node[j], n));
        break;
    }
    case LPNAS_NODE_INPUT:
        break;
    }
}

static void identity_alias(lpnas_net *net)
{
    for (int i = 0; i < net->g.count; i++)
        net->alias[i] = i;
}

lpnas_status lpnas_net_forward(lpnas_net *net, const float *images, int n, bool training, const lpnas_policy *policy,
                               const float **logits)
{
    lpnas_status st = lpnas_net_check_n(net, n, images, "forward");
    if (st)
        return st;
    if (!lpnas_policy_is_fp32(policy)) { /* the deployed arithmetic, trained through the fold */
        st = lpnas_net_forward_deployed(net, images, n, policy, logits);
        if (!training) /* nothing to differentiate; the fresh fold is a valid cache */
            net->fwd_n = 0, net->fold_dirty = false;
        return st;
    }
    const float *P = net->params;
    lpnas_net_load_input(net, images, n, policy);
    identity_alias(net);
    for (int i = 1; i < net->g.count; i++)
        lpnas_net_forward_node(net, i, n, training, P, net->acts + net->s[net->g.node[i].in[0]].act, policy);
    if (training) /* running statistics moved */
        net->fold_dirty = true;
    net->fwd_folded = false;
    net->fwd_n = training ? n : 0;
    *logits = net->acts + net->s[net->g.count - 1].act;
    return LPNAS_OK;
}

void lpnas_net_backward_node(lpnas_net *net, int i, int n, const float *P, const float *x, const lpnas_policy *policy,
                             bool store_dx)
{
    const lpnas_node *nd = &net->g.node[i];
    const lpnas_net_slots *s = &net->s[i];
    const lpnas_node *a = &net->g.node[nd->in[0]];
    const float *dout = net->dacts + s->act;
    float *dx = nd->in[0] == 0 ? NULL : net->dacts + net->s[nd->in[0]].act; /* no gradient for the input */
    lpnas_shape sh = shape_of(a, n);
    switch (nd->kind) {
    case LPNAS_NODE_CONV: {
        lpnas_conv_params p = conv_params(nd);
        lpnas_conv2d_backward_to(dx, !store_dx, net->grads + s->w, nd->bias ? net->grads + s->b : NULL, dout, x,
                                 P + s->w, sh, nd->c, &p, policy, net->ws);
        break;
    }
    case LPNAS_NODE_DECONV: {
        lpnas_deconv_params p = lpnas_deconv_params_make(2, 2);
        lpnas_deconv2d_backward(dx, net->grads + s->w, nd->bias ? net->grads + s->b : NULL, dout, x, P + s->w, sh,
                                nd->c, &p, policy, net->ws);
        break;
    }
    case LPNAS_NODE_BN:
        lpnas_bn_backward_to_isa(dx, !store_dx, net->grads + s->w, net->grads + s->b, dout, x, net->save + s->save,
                                 net->save + s->save + nd->c, P + s->w, sh, policy, lpnas_cpu_isa());
        break;
    case LPNAS_NODE_ACT:
        if (dx)
            lpnas_activation_backward_to(dx, !store_dx, dout, x, net->acts + s->act, numel(nd, n),
                                         nd->act ? LPNAS_ACTFN_RELU6 : LPNAS_ACTFN_RELU, policy);
        break;
    case LPNAS_NODE_MAXPOOL: {
        lpnas_pool_params p = {2, 2, 0};
        if (dx)
            lpnas_maxpool_backward(dx, dout, net->idx + s->idx, sh, &p, policy);
        break;
    }
    case LPNAS_NODE_UPSAMPLE:
        if (dx)
            lpnas_upsample_backward(dx, dout, sh, 2, nd->act ? LPNAS_UPSAMPLE_BILINEAR : LPNAS_UPSAMPLE_NEAREST, policy);
        break;
    case LPNAS_NODE_ADD: {
        float *dy = nd->in[1] == 0 ? NULL : net->dacts + net->s[nd->in[1]].act;
        lpnas_add_backward(dx, dy, dout, numel(nd, n), policy);
        break;
    }
    case LPNAS_NODE_CONCAT: {
        float *dy = nd->in[1] == 0 ? NULL : net->dacts + net->s[nd->in[1]].act;
        lpnas_concat_backward(dx, dy, dout, sh, shape_of(&net->g.node[nd->in[1]], n));
        break;
    }
    case LPNAS_NODE_INPUT:
        break;
    }
}

/* ---- the activation gradients --------------------------------------------
 * Every backward step adds into the gradients of its node's inputs, and only
 * there. Zeroing all of them before the pass was a memset over every
 * activation (about 10 % of a mobile network's step, 5 % of unet-peer's), whose
 * lines were long out of cache when the first sums arrived. Each is zeroed
 * instead right before the first step that adds into it, its last
 * consumer's (the first visited going backward): the same zeros before the
 * same sums, so the same bits. Where that first step is a BN, activation or
 * conv backward it is not zeroed here: those write it as they would add
 * into zeros (+0 + v, which turns a -0 into +0 as the sum did; the direct
 * 3x3 stride-1 conv's sums are never -0; the other conv paths zero it
 * themselves). */
void lpnas_net_dgrad_begin(lpnas_net *net, int n, const float *dlogits, int *last_use)
{
    int count = net->g.count, last = count - 1;
    for (int k = 0; k < count; k++)
        last_use[k] = -1;
    for (int i = 1; i < count; i++)
        for (int j = 0; j < 2; j++)
            if (net->g.node[i].in[j] >= 0)
                last_use[net->g.node[i].in[j]] = i;
    for (int k = 1; k < last; k++)
        if (last_use[k] < 0) /* nothing adds into it, yet its own backward reads it */
            memset(net->dacts + net->s[k].act, 0, numel(&net->g.node[k], n) * 4);
    memcpy(net->dacts + net->s[last].act, dlogits, numel(&net->g.node[last], n) * 4);
}

bool lpnas_net_dgrad_open(lpnas_net *net, int i, int n, const int *last_use, bool may_store)
{
    const lpnas_node *nd = &net->g.node[i];
    bool store = false;
    for (int j = 0; j < 2; j++) {
        int k = nd->in[j];
        if (k > 0 && last_use[k] == i) { /* the input (node 0) has no gradient */
            /* BN, activation and conv backward write it whole, as onto zeros */
            if (j == 0 && may_store &&
                (nd->kind == LPNAS_NODE_BN || nd->kind == LPNAS_NODE_ACT || nd->kind == LPNAS_NODE_CONV))
                store = true;
            else
                memset(net->dacts + net->s[k].act, 0, numel(&net->g.node[k], n) * 4);
        }
        if (j == 0 && nd->in[1] == k)
            break;
    }
    return store;
}

lpnas_status lpnas_net_backward(lpnas_net *net, const float *dlogits, const lpnas_policy *policy)
{
    if (net->fwd_n < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "net backward: no training forward to differentiate");
    if (!dlogits)
        return lpnas_fail(LPNAS_ERR_ARG, "net backward: NULL dlogits");
    if (net->fwd_folded) {
        lpnas_net_backward_folded(net, dlogits, policy);
        return LPNAS_OK;
    }
    int n = net->fwd_n, last_use[LPNAS_GRAPH_MAX_NODES];
    lpnas_net_dgrad_begin(net, n, dlogits, last_use);
    for (int i = net->g.count - 1; i >= 1; i--) {
        bool store = lpnas_net_dgrad_open(net, i, n, last_use, true);
        lpnas_net_backward_node(net, i, n, net->params, net->acts + net->s[net->g.node[i].in[0]].act, policy, store);
    }
    return LPNAS_OK;
}

/* ---- for exporters (lib/net_internal.h) -------------------------------- */

const lpnas_graph *lpnas_net_graph(const lpnas_net *net) { return &net->g; }
lpnas_graph *lpnas_net_graph_mut(lpnas_net *net) { return &net->g; }

bool lpnas_net_bn_is_folded(const lpnas_net *net, int i)
{
    if (i < 2 || i >= net->g.count || net->g.node[i].kind != LPNAS_NODE_BN)
        return false;
    lpnas_node_kind k = net->g.node[i - 1].kind;
    return net->g.node[i].in[0] == i - 1 && (k == LPNAS_NODE_CONV || k == LPNAS_NODE_DECONV);
}

void lpnas_net_folded(const lpnas_net *net, int i, const float **w, const float **b)
{
    *w = net->folded + net->s[i].fw;
    *b = net->folded + net->s[i].fb;
}
