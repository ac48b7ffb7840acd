/* The deployed network: BN folded into the conv before it, the folded
 * weights converted by the policy's host conversion, activations fused into
 * the conv (one rounding, after the activation), as lpnas_net_infer runs and
 * the device computes. Fine-tuning in a device policy trains this very
 * arithmetic (lpnas_net_forward under a non-fp32 policy comes here): the
 * forward is the inference forward, and the backward carries the gradient
 * through the fold to the fp32 master conv weights and BN gamma/beta.
 *
 * The recipe (docs/engine.md): BN statistics are frozen after the FP32
 * warm-up (Krishnamoorthi 2018 §3.2, Jacob et al. 2018 §3.2 "batch
 * normalization folding" with frozen statistics). Folding with the running
 * statistics makes the training forward and the deployed forward one and the
 * same computation, so the bits agree by construction, not by correction.
 *
 * With s_c = gamma_c / sqrt(var_c + eps), the fold is
 *   Wf[c][k] = W[c][k] * s_c,   bf_c = (b_c - mean_c) * s_c + beta_c,
 * and, rounding being straight-through (d round(v)/dv := 1), the chain rule
 * from the gradients gWf, gbf of the folded weights gives
 *   dW[c][k] = gWf[c][k] * s_c,   db_c = gbf_c * s_c,   dbeta_c = gbf_c,
 *   dgamma_c = (sum_k gWf[c][k] W[c][k] + gbf_c (b_c - mean_c)) / sqrt(var_c + eps). */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "base/error.h"
#include "kernels/activation.h"
#include "kernels/batchnorm.h"
#include "kernels/deconv2d.h"
#include "lib/net_internal.h"

static bool same_policy(const lpnas_policy *a, const lpnas_policy *b)
{
    return a == b || (lpnas_policy_is_fp32(a) && lpnas_policy_is_fp32(b));
}

static bool folds_bn(const lpnas_net *net, int i)
{
    return i + 1 < net->g.count && net->g.node[i + 1].kind == LPNAS_NODE_BN;
}

/* Unconditionally: each conv/deconv with its BN folded (running
 * statistics), then converted as the host would for the device. */
static void fold_now(lpnas_net *net, const lpnas_policy *policy)
{
    lpnas_bn_params bp = lpnas_bn_params_default();
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        if (nd->kind != LPNAS_NODE_CONV && nd->kind != LPNAS_NODE_DECONV)
            continue;
        const lpnas_net_slots *s = &net->s[i];
        size_t nw = (size_t)nd->params - (nd->bias ? (size_t)nd->c : 0);
        float *w = net->folded + s->fw, *b = net->folded + s->fb;
        memcpy(w, net->params + s->w, nw * 4);
        for (int c = 0; c < nd->c; c++)
            b[c] = nd->bias ? net->params[s->b + (size_t)c] : 0.0f;
        if (folds_bn(net, i)) {
            const lpnas_net_slots *t = &net->s[i + 1];
            const float *g = net->params + t->w, *be = net->params + t->b;
            const float *rm = net->buffers + t->buf, *rv = rm + nd->c;
            if (nd->kind == LPNAS_NODE_CONV) {
                lpnas_bn_fold(w, nw / (size_t)nd->c, b, b, g, be, rm, rv, nd->c, bp.eps);
            } else { /* deconv weights are [in][out][k][k]: scale per output channel */
                size_t per = (size_t)nd->kernel * nd->kernel;
                for (int c = 0; c < nd->c; c++) {
                    double sc = g[c] / sqrt((double)rv[c] + bp.eps);
                    for (int ci = 0; ci < nd->in_c; ci++)
                        for (size_t k = 0; k < per; k++)
                            w[((size_t)ci * nd->c + (size_t)c) * per + k] *= (float)sc;
                    b[c] = (float)((b[c] - rm[c]) * sc + be[c]);
                }
            }
        }
        lpnas_policy_round_host(policy, w, nw);
        lpnas_policy_round_host(policy, b, (size_t)nd->c);
    }
    if (lpnas_policy_is_integer(policy))
        lpnas_net_quantize_weights(net, policy);
    net->fold_dirty = false;
    net->fold_policy = policy;
}

void lpnas_net_fold(lpnas_net *net, const lpnas_policy *policy)
{
    if (net->fold_dirty || !same_policy(net->fold_policy, policy))
        fold_now(net, policy);
}

void lpnas_net_forward_folded(lpnas_net *net, int n, const lpnas_policy *policy)
{
    if (lpnas_policy_is_integer(policy)) {
        lpnas_net_forward_int(net, n, policy);
        return;
    }
    int *alias = net->alias; /* folded BN/ACT nodes read their conv's output */
    for (int i = 0; i < net->g.count; i++)
        alias[i] = i;
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        const lpnas_net_slots *s = &net->s[i];
        int src = alias[nd->in[0]];
        float *out = net->acts + s->act;
        const float *x = net->acts + net->s[src].act;
        lpnas_shape sh = lpnas_net_shape(&net->g.node[src], n);
        if (nd->kind == LPNAS_NODE_CONV || nd->kind == LPNAS_NODE_DECONV) {
            int j = i + 1;
            lpnas_act act = LPNAS_KACT_NONE;
            if (folds_bn(net, i))
                alias[j] = i, j++;
            if (j < net->g.count && net->g.node[j].kind == LPNAS_NODE_ACT && alias[j - 1] == i &&
                net->g.node[j].in[0] == j - 1)
                act = net->g.node[j].act ? LPNAS_KACT_RELU6 : LPNAS_KACT_RELU, alias[j] = i;
            if (nd->kind == LPNAS_NODE_CONV) {
                lpnas_conv_params p = lpnas_net_conv_params(nd);
                lpnas_conv2d_forward(out, x, net->folded + s->fw, net->folded + s->fb, sh, nd->c, &p, act, policy,
                                     net->ws);
            } else {
                lpnas_deconv_params p = lpnas_deconv_params_make(2, 2);
                lpnas_deconv2d_forward(out, x, net->folded + s->fw, net->folded + s->fb, sh, nd->c, &p, act, policy,
                                       net->ws);
            }
            continue;
        }
        if (alias[i] != i)
            continue; /* folded or fused above */
        /* pooling, upsampling, add, concat read their inputs through the
         * aliases. lib/graph.c puts every BN right after a conv/deconv and
         * every activation right after a BN, so nothing else remains; an
         * unfolded BN here would run with its running statistics, and its
         * backward (batch statistics) would not match: keep that invariant. */
        assert(nd->kind != LPNAS_NODE_BN && nd->kind != LPNAS_NODE_ACT);
        lpnas_net_forward_node(net, i, n, false, net->params, x, policy);
    }
}

/* dW, db, dgamma, dbeta of conv/deconv node i from the gradients of its
 * folded weights (see the top of the file). */
static void chain_through_fold(lpnas_net *net, int i)
{
    const lpnas_node *nd = &net->g.node[i];
    const lpnas_net_slots *s = &net->s[i];
    int C = nd->c;
    size_t nw = (size_t)nd->params - (nd->bias ? (size_t)C : 0);
    const float *gw = net->dfolded + s->fw, *gb = net->dfolded + s->fb, *W = net->params + s->w;
    float *dW = net->grads + s->w;
    if (!folds_bn(net, i)) { /* the head: the folded weights are the weights */
        for (size_t k = 0; k < nw; k++)
            dW[k] += gw[k];
        if (nd->bias)
            for (int c = 0; c < C; c++)
                net->grads[s->b + (size_t)c] += gb[c];
        return;
    }
    const lpnas_net_slots *t = &net->s[i + 1];
    const float *g = net->params + t->w, *rm = net->buffers + t->buf, *rv = rm + C;
    float eps = lpnas_bn_params_default().eps;
    size_t per = nd->kind == LPNAS_NODE_CONV ? nw / (size_t)C : (size_t)nd->kernel * nd->kernel;
    int groups_in = nd->kind == LPNAS_NODE_CONV ? 1 : nd->in_c; /* deconv: [in][out][k][k] */
    for (int c = 0; c < C; c++) {
        double sigma = sqrt((double)rv[c] + eps), sc = g[c] / sigma, dsc = 0;
        for (int ci = 0; ci < groups_in; ci++) {
            size_t at = nd->kind == LPNAS_NODE_CONV ? (size_t)c * per : ((size_t)ci * C + (size_t)c) * per;
            for (size_t k = 0; k < per; k++) {
                dsc += (double)gw[at + k] * W[at + k];
                dW[at + k] += (float)(gw[at + k] * sc);
            }
        }
        double b = nd->bias ? net->params[s->b + (size_t)c] : 0.0;
        dsc += gb[c] * (b - rm[c]);
        if (nd->bias)
            net->grads[s->b + (size_t)c] += (float)(gb[c] * sc);
        net->grads[t->w + (size_t)c] += (float)(dsc / sigma);
        net->grads[t->b + (size_t)c] += gb[c];
    }
}

static void conv_backward_folded(lpnas_net *net, int i, int n, const float *x, const lpnas_policy *policy,
                                 bool store_dx)
{
    const lpnas_node *nd = &net->g.node[i];
    const lpnas_net_slots *s = &net->s[i];
    size_t nw = (size_t)nd->params - (nd->bias ? (size_t)nd->c : 0);
    float *gw = net->dfolded + s->fw, *gb = net->dfolded + s->fb;
    memset(gw, 0, nw * 4);
    memset(gb, 0, (size_t)nd->c * 4);
    float *dx = nd->in[0] == 0 ? NULL : net->dacts + net->s[nd->in[0]].act; /* no gradient for the input */
    const float *dz = net->dacts + s->act;
    lpnas_shape sh = lpnas_net_shape(&net->g.node[net->alias[nd->in[0]]], n);
    /* the input gradient flows through the weights the forward used: the
     * folded device values (straight-through rounding) */
    if (nd->kind == LPNAS_NODE_CONV) {
        lpnas_conv_params p = lpnas_net_conv_params(nd);
        lpnas_conv2d_backward_to(dx, !store_dx, gw, gb, dz, x, net->folded + s->fw, sh, nd->c, &p, policy,
                                 net->ws);
    } else {
        lpnas_deconv_params p = lpnas_deconv_params_make(2, 2);
        lpnas_deconv2d_backward(dx, gw, gb, dz, x, net->folded + s->fw, sh, nd->c, &p, policy, net->ws);
    }
    chain_through_fold(net, i);
}

void lpnas_net_backward_folded(lpnas_net *net, const float *dlogits, const lpnas_policy *policy)
{
    int n = net->fwd_n, last = net->g.count - 1, last_use[LPNAS_GRAPH_MAX_NODES];
    lpnas_net_dgrad_begin(net, n, dlogits, last_use);
    for (int i = last; i >= 1; i--) {
        const lpnas_node *nd = &net->g.node[i];
        int c = net->alias[i];
        /* a folded BN or activation (c != i) adds its routed gradient: no store */
        bool store = lpnas_net_dgrad_open(net, i, n, last_use, c == i);
        if (c != i) { /* a BN or activation folded into conv c: route its gradient to c */
            float *d = net->dacts + net->s[nd->in[0]].act, *dy = net->dacts + net->s[i].act;
            size_t m = lpnas_net_numel(nd, n);
            if (nd->kind == LPNAS_NODE_ACT) { /* the conv's output is post-activation: its sign and (0, 6) decide */
                const float *y = net->acts + net->s[c].act;
                lpnas_activation_backward(d, dy, y, y, m, nd->act ? LPNAS_ACTFN_RELU6 : LPNAS_ACTFN_RELU, policy);
            } else {
                for (size_t k = 0; k < m; k++)
                    d[k] += dy[k];
                lpnas_policy_round(policy, d, m);
            }
            continue;
        }
        const float *x = net->acts + net->s[net->alias[nd->in[0]]].act;
        if (nd->kind == LPNAS_NODE_CONV || nd->kind == LPNAS_NODE_DECONV)
            conv_backward_folded(net, i, n, x, policy, store); /* a deconv never stores */
        else
            lpnas_net_backward_node(net, i, n, net->params, x, policy, store);
    }
}

lpnas_status lpnas_net_forward_deployed(lpnas_net *net, const float *images, int n, const lpnas_policy *policy,
                                        const float **logits)
{
    lpnas_status st = lpnas_net_check_n(net, n, images, "forward");
    if (st)
        return st;
    if (lpnas_policy_is_integer(policy) && !lpnas_net_quant_ready(net))
        return lpnas_fail(LPNAS_ERR_ARG, "%s: policy '%s' is an integer policy: calibrate the network first "
                                         "(lpnas_net_calibrate)", "forward", lpnas_policy_name(policy));
    fold_now(net, policy); /* the parameters may have moved since the last step */
    lpnas_net_load_input(net, images, n, policy);
    lpnas_net_forward_folded(net, n, policy);
    net->fwd_n = n;
    net->fwd_folded = true;
    net->fold_dirty = true; /* the caller updates the parameters next */
    *logits = net->acts + net->s[net->alias[net->g.count - 1]].act;
    return LPNAS_OK;
}

lpnas_status lpnas_net_infer(lpnas_net *net, const float *images, int n, const lpnas_policy *policy,
                             const float **logits)
{
    lpnas_status st = lpnas_net_check_n(net, n, images, "infer");
    if (st)
        return st;
    if (lpnas_policy_is_integer(policy) && !lpnas_net_quant_ready(net))
        return lpnas_fail(LPNAS_ERR_ARG, "%s: policy '%s' is an integer policy: calibrate the network first "
                                         "(lpnas_net_calibrate)", "infer", lpnas_policy_name(policy));
    lpnas_net_fold(net, policy); /* once per evaluation: only when parameters or policy changed */
    lpnas_net_load_input(net, images, n, policy);
    lpnas_net_forward_folded(net, n, policy);
    net->fwd_n = 0; /* the activations are no training forward's any more */
    *logits = net->acts + net->s[net->alias[net->g.count - 1]].act;
    return LPNAS_OK;
}
