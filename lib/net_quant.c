/* Networks in integer policies: calibration of activation ranges, weight
 * quantization after the BN fold, and the integer forward.
 *
 * The deployed network is the folded one (lib/net_fold.c): BN folded into
 * the conv with its running statistics, activations fused into the
 * requantization clamp. In an integer policy its forward runs the integer
 * kernels (kernels/int_ops.h) on int8 codes; every tensor is also written
 * dequantized, scale * (code - zp), into net->acts, and the folded weights
 * are replaced by their dequantized codes. That float picture is exactly
 * the fake-quantized network: the training forward (quantization-aware
 * fine-tuning) is this very integer computation, so it equals the integer
 * inference bit for bit by construction, and the backward of the folded
 * network (straight-through: d quant(v)/dv := 1) runs unchanged on the
 * dequantized activations and weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "fp16/policy.h"
#include "kernels/int_ops.h"
#include "lib/net_internal.h"
#include "lpnas/qnet.h"

struct lpnas_net_quant {
    float lo[LPNAS_GRAPH_MAX_NODES], hi[LPNAS_GRAPH_MAX_NODES]; /* calibrated ranges */
    float scale[LPNAS_GRAPH_MAX_NODES];                         /* for `fmt` */
    int32_t zp[LPNAS_GRAPH_MAX_NODES];
    lpnas_int_format fmt;
    bool have_fmt;
    int8_t *codes;   /* nacts: activation codes */
    int8_t *qw;      /* nfolded: weight codes at the folded weight offsets */
    int32_t *qb;     /* nfolded: bias codes at the folded bias offsets */
    float *ws;       /* nfolded: weight scale per output channel, at the bias offsets */
    int32_t *plane;  /* largest conv output plane */
    lpnas_rq *rq;    /* largest channel count */
    size_t nplane;
    int maxc;
};

void lpnas_calib_options_default(lpnas_calib_options *o)
{
    o->method = LPNAS_CALIB_MINMAX;
    o->percentile = 99.99;
    o->max_samples = 65536;
}

bool lpnas_net_quant_ready(const lpnas_net *net) { return net->quant != NULL; }
bool lpnas_net_is_calibrated(const lpnas_net *net) { return net && net->quant; }

void lpnas_net_quant_free(lpnas_net *net)
{
    struct lpnas_net_quant *q = net->quant;
    if (!q)
        return;
    free(q->codes), free(q->qw), free(q->qb), free(q->ws), free(q->plane), free(q->rq);
    free(q);
    net->quant = NULL;
}

static bool same_fmt(const lpnas_int_format *a, const lpnas_int_format *b)
{
    return a->weight_bits == b->weight_bits && a->weight_per_channel == b->weight_per_channel &&
           a->act_bits == b->act_bits && a->act_symmetric == b->act_symmetric && a->pow2_scales == b->pow2_scales &&
           a->requant == b->requant;
}

static float pow2_up(float s) { return ldexpf(1.0f, (int)ceil(log2((double)s))); }

/* Scale and zero point of a range [lo, hi] (widened to hold 0 exactly, as
 * TFLite and ONNX Runtime's calibrators do, so zero padding and ReLU are exact). */
static void range_params(float lo, float hi, const lpnas_int_format *f, float *s, int32_t *zp)
{
    int32_t qmin = -(1 << (f->act_bits - 1)), qmax = (1 << (f->act_bits - 1)) - 1;
    lo = fminf(lo, 0), hi = fmaxf(hi, 0);
    if (f->act_symmetric) {
        float m = fmaxf(-lo, hi);
        *s = m > 0 ? m / (float)qmax : 1.0f / 256;
        if (f->pow2_scales)
            *s = pow2_up(*s);
        *zp = 0;
        return;
    }
    *s = hi > lo ? (hi - lo) / (float)(qmax - qmin) : 1.0f / 256;
    if (f->pow2_scales)
        *s = pow2_up(*s);
    double z = (double)qmin - nearbyint((double)lo / *s);
    *zp = (int32_t)(z < qmin ? qmin : z > qmax ? qmax : z);
}

/* The nodes the folded forward writes (not folded into a conv), and the
 * alias map: conv output holds its BN's and activation's values. */
static void make_alias(lpnas_net *net)
{
    for (int i = 0; i < net->g.count; i++)
        net->alias[i] = i;
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        if (nd->kind != LPNAS_NODE_CONV && nd->kind != LPNAS_NODE_DECONV)
            continue;
        int j = i + 1;
        if (j < net->g.count && net->g.node[j].kind == LPNAS_NODE_BN)
            net->alias[j] = i, j++;
        if (j < net->g.count && net->g.node[j].kind == LPNAS_NODE_ACT && net->alias[j - 1] == i &&
            net->g.node[j].in[0] == j - 1)
            net->alias[j] = i;
    }
}

/* The fused activation of conv i: 0 none, 1 relu, 2 relu6. */
static int fused_act(const lpnas_net *net, int i)
{
    for (int j = i + 1; j < net->g.count && j <= i + 2; j++)
        if (net->alias[j] == i && net->g.node[j].kind == LPNAS_NODE_ACT)
            return net->g.node[j].act ? 2 : 1;
    return 0;
}

/* Scales for the policy's format from the calibrated ranges. Max pooling
 * and upsampling keep their input's scale and zero point. */
static void set_format(lpnas_net *net, const lpnas_int_format *f)
{
    struct lpnas_net_quant *q = net->quant;
    if (q->have_fmt && same_fmt(&q->fmt, f))
        return;
    for (int i = 0; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        int a = net->alias[i];
        if (a != i) {
            q->scale[i] = q->scale[a], q->zp[i] = q->zp[a];
        } else if (nd->kind == LPNAS_NODE_MAXPOOL || nd->kind == LPNAS_NODE_UPSAMPLE) {
            int src = net->alias[nd->in[0]];
            q->scale[i] = q->scale[src], q->zp[i] = q->zp[src];
        } else {
            range_params(q->lo[i], q->hi[i], f, &q->scale[i], &q->zp[i]);
        }
    }
    q->fmt = *f;
    q->have_fmt = true;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Quantization error of samples in [lo, hi] (8-bit asymmetric grid). */
static double range_mse(const float *v, size_t m, float lo, float hi, const lpnas_int_format *f)
{
    float s;
    int32_t zp;
    range_params(lo, hi, f, &s, &zp);
    int32_t qmin = -(1 << (f->act_bits - 1)), qmax = (1 << (f->act_bits - 1)) - 1;
    double e = 0;
    for (size_t k = 0; k < m; k++) {
        float d = s * (float)(lpnas_quantize1(v[k], s, zp, qmin, qmax) - zp) - v[k];
        e += (double)d * d;
    }
    return e;
}

static lpnas_status quant_alloc(lpnas_net *net)
{
    lpnas_net_quant_free(net);
    struct lpnas_net_quant *q = calloc(1, sizeof *q);
    if (!q)
        return lpnas_fail(LPNAS_ERR_NOMEM, "calibrate: out of memory");
    size_t plane = 1;
    int maxc = 1;
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        if ((size_t)nd->h * nd->w > plane)
            plane = (size_t)nd->h * nd->w;
        if (nd->c > maxc)
            maxc = nd->c;
    }
    q->codes = calloc(net->nacts + 1, 1);
    q->qw = calloc(net->nfolded + 1, 1);
    q->qb = calloc(net->nfolded + 1, sizeof *q->qb);
    q->ws = calloc(net->nfolded + 1, sizeof *q->ws);
    q->plane = calloc(plane, sizeof *q->plane);
    q->rq = calloc((size_t)maxc, sizeof *q->rq);
    q->nplane = plane, q->maxc = maxc;
    net->quant = q;
    if (!q->codes || !q->qw || !q->qb || !q->ws || !q->plane || !q->rq) {
        lpnas_net_quant_free(net);
        return lpnas_fail(LPNAS_ERR_NOMEM, "calibrate: out of memory");
    }
    return LPNAS_OK;
}

lpnas_status lpnas_net_calibrate(lpnas_net *net, const float *images, int n, const lpnas_policy *policy,
                                 const lpnas_calib_options *o)
{
    lpnas_calib_options d;
    lpnas_calib_options_default(&d);
    if (!o)
        o = &d;
    if (!net || !images || n < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "calibrate: need a network and n >= 1 images (n = %d)", n);
    lpnas_int_format f;
    lpnas_status st = lpnas_policy_int_format(policy, &f);
    if (st)
        return st;
    if ((int)o->method < 0 || o->method > LPNAS_CALIB_MSE)
        return lpnas_fail(LPNAS_ERR_ARG, "calibrate: method %d unknown", (int)o->method);
    if (o->method == LPNAS_CALIB_PERCENTILE && !(o->percentile > 50 && o->percentile <= 100))
        return lpnas_fail(LPNAS_ERR_ARG, "calibrate: percentile %g: must be in (50, 100]", o->percentile);
    if (o->max_samples < 16)
        return lpnas_fail(LPNAS_ERR_ARG, "calibrate: max_samples %d: must be >= 16", o->max_samples);
    st = quant_alloc(net);
    if (st)
        return st;
    struct lpnas_net_quant *q = net->quant;
    int G = net->g.count;
    float *samp = malloc((size_t)G * (size_t)o->max_samples * sizeof *samp);
    size_t *ns = calloc((size_t)G, sizeof *ns);
    if (!samp || !ns) {
        free(samp), free(ns);
        lpnas_net_quant_free(net);
        return lpnas_fail(LPNAS_ERR_NOMEM, "calibrate: out of memory");
    }
    for (int i = 0; i < G; i++)
        q->lo[i] = INFINITY, q->hi[i] = -INFINITY;
    size_t per_image = (size_t)net->g.node[0].c * net->h * net->w;
    for (int at = 0; at < n && !st; at += net->batch) {
        int m = n - at < net->batch ? n - at : net->batch;
        const float *logits;
        st = lpnas_net_forward_deployed(net, images + (size_t)at * per_image, m, NULL, &logits);
        for (int i = 0; i < G && !st; i++) {
            if (net->alias[i] != i)
                continue;
            const float *v = net->acts + net->s[i].act;
            size_t cnt = lpnas_net_numel(&net->g.node[i], m);
            size_t stride = cnt * (size_t)n / (size_t)o->max_samples / (size_t)m + 1;
            for (size_t k = 0; k < cnt; k++) {
                q->lo[i] = fminf(q->lo[i], v[k]), q->hi[i] = fmaxf(q->hi[i], v[k]);
                if (k % stride == 0 && ns[i] < (size_t)o->max_samples)
                    samp[(size_t)i * o->max_samples + ns[i]++] = v[k];
            }
        }
    }
    net->fwd_n = 0;
    for (int i = 0; i < G && !st && o->method != LPNAS_CALIB_MINMAX; i++) {
        if (net->alias[i] != i || !ns[i])
            continue;
        float *v = samp + (size_t)i * o->max_samples;
        if (o->method == LPNAS_CALIB_PERCENTILE) {
            qsort(v, ns[i], sizeof *v, cmp_float);
            double tail = (100.0 - o->percentile) / 100.0;
            size_t a = (size_t)(tail * (double)(ns[i] - 1)), b = ns[i] - 1 - a;
            q->lo[i] = v[a], q->hi[i] = v[b];
        } else { /* MSE-optimal shrink of the min/max range on the sampled values */
            float lo = q->lo[i], hi = q->hi[i], best_lo = lo, best_hi = hi;
            double best = INFINITY;
            for (int t = 20; t >= 4; t--) {
                float c = (float)t / 20;
                double e = range_mse(v, ns[i], lo * c, hi * c, &f);
                if (e < best)
                    best = e, best_lo = lo * c, best_hi = hi * c;
            }
            q->lo[i] = best_lo, q->hi[i] = best_hi;
        }
    }
    free(samp), free(ns);
    if (st) {
        lpnas_net_quant_free(net);
        return st;
    }
    q->have_fmt = false;
    set_format(net, &f);
    net->fold_dirty = true; /* the next fold quantizes the weights for the policy */
    return LPNAS_OK;
}

void lpnas_net_quantize_weights(lpnas_net *net, const lpnas_policy *policy)
{
    struct lpnas_net_quant *q = net->quant;
    if (!q)
        return;
    const lpnas_int_format *f = &policy->integer;
    make_alias(net);
    set_format(net, f);
    int32_t wmax_policy = (1 << (f->weight_bits - 1)) - 1;
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        if (nd->kind != LPNAS_NODE_CONV && nd->kind != LPNAS_NODE_DECONV)
            continue;
        /* a precision gene (issue 18: ":w4"/":w8" on the stage) overrides the policy's weight width */
        int32_t wmax = nd->wfmt == LPNAS_WFMT_W4 ? 7 : nd->wfmt == LPNAS_WFMT_W8 ? 127 : wmax_policy;
        const lpnas_net_slots *s = &net->s[i];
        int C = nd->c;
        size_t nw = (size_t)nd->params - (nd->bias ? (size_t)C : 0);
        float *w = net->folded + s->fw, *b = net->folded + s->fb, *ws = q->ws + s->fb;
        bool dec = nd->kind == LPNAS_NODE_DECONV;
        size_t per = dec ? (size_t)nd->kernel * nd->kernel : nw / (size_t)C;
        int reps = dec ? nd->in_c : 1;
        /* index of element k of channel c's weights in the layout */
#define WAT(c, r, k) (dec ? (((size_t)(r) * C + (size_t)(c)) * per + (k)) : ((size_t)(c) * per + (k)))
        float all = 0;
        for (size_t k = 0; k < nw; k++)
            all = fmaxf(all, fabsf(w[k]));
        float s_in = q->scale[net->alias[nd->in[0]]];
        for (int c = 0; c < C; c++) {
            float m = 0;
            if (f->weight_per_channel) {
                for (int r = 0; r < reps; r++)
                    for (size_t k = 0; k < per; k++)
                        m = fmaxf(m, fabsf(w[WAT(c, r, k)]));
            } else {
                m = all;
            }
            float sw = m > 0 ? m / (float)wmax : 1.0f;
            if (f->pow2_scales)
                sw = pow2_up(sw);
            ws[c] = sw;
            for (int r = 0; r < reps; r++)
                for (size_t k = 0; k < per; k++) {
                    size_t at = WAT(c, r, k);
                    int32_t code = lpnas_quantize1(w[at], sw, 0, -wmax, wmax);
                    q->qw[s->fw + at] = (int8_t)code;
                    w[at] = sw * (float)code;
                }
            /* bias in the accumulator's scale s_in * s_w, int32 */
            double sb = (double)s_in * sw, v = nearbyint((double)b[c] / sb);
            v = v > 2147483647.0 ? 2147483647.0 : v < -2147483648.0 ? -2147483648.0 : v;
            q->qb[s->fb + (size_t)c] = (int32_t)v;
            b[c] = (float)(sb * v);
        }
#undef WAT
    }
}

static void dequantize(float *dst, const int8_t *src, size_t m, float s, int32_t zp)
{
    for (size_t k = 0; k < m; k++)
        dst[k] = s * (float)((int32_t)src[k] - zp);
}

void lpnas_net_forward_int(lpnas_net *net, int n, const lpnas_policy *policy)
{
    struct lpnas_net_quant *q = net->quant;
    const lpnas_int_format *f = &policy->integer;
    make_alias(net);
    set_format(net, f);
    int32_t amin = -(1 << (f->act_bits - 1)), amax = (1 << (f->act_bits - 1)) - 1;
    /* the input: quantized once from the normalized floats */
    {
        float *x = net->acts + net->s[0].act;
        int8_t *c = q->codes + net->s[0].act;
        size_t m = lpnas_net_numel(&net->g.node[0], n);
        for (size_t k = 0; k < m; k++)
            c[k] = (int8_t)lpnas_quantize1(x[k], q->scale[0], q->zp[0], amin, amax);
        dequantize(x, c, m, q->scale[0], q->zp[0]);
    }
    for (int i = 1; i < net->g.count; i++) {
        if (net->alias[i] != i)
            continue;
        const lpnas_node *nd = &net->g.node[i];
        const lpnas_net_slots *s = &net->s[i];
        int src = net->alias[nd->in[0]];
        const int8_t *x = q->codes + net->s[src].act;
        int8_t *y = q->codes + s->act;
        lpnas_shape sh = lpnas_net_shape(&net->g.node[src], n);
        float so = q->scale[i];
        lpnas_qrange r = {q->zp[i], amin, amax};
        switch (nd->kind) {
        case LPNAS_NODE_CONV:
        case LPNAS_NODE_DECONV: {
            int act = fused_act(net, i);
            if (act)
                r.lo = r.zp > amin ? r.zp : amin; /* ReLU: the code of 0 */
            if (act == 2) {
                double six = r.zp + nearbyint(6.0 / so);
                r.hi = six < amax ? (int32_t)six : amax;
            }
            for (int c = 0; c < nd->c; c++) {
                /* ONNX Runtime forms the multiplier in binary32: (s_x * s_w) / s_y */
                double m = f->requant == LPNAS_REQUANT_ORT ? (double)((q->scale[src] * q->ws[s->fb + (size_t)c]) / so)
                                                           : (double)q->scale[src] * q->ws[s->fb + (size_t)c] / so;
                q->rq[c] = lpnas_rq_make(f->requant, m);
            }
            if (nd->kind == LPNAS_NODE_CONV) {
                lpnas_conv_params p = lpnas_net_conv_params(nd);
                lpnas_conv2d_int_forward(y, x, q->zp[src], q->qw + s->fw, q->qb + s->fb, q->rq, r, sh, nd->c, &p,
                                         q->plane);
            } else {
                lpnas_deconv_params p = lpnas_deconv_params_make(2, 2);
                lpnas_deconv2d_int_forward(y, x, q->zp[src], q->qw + s->fw, q->qb + s->fb, q->rq, r, sh, nd->c,
                                           &p);
            }
            break;
        }
        case LPNAS_NODE_MAXPOOL:
            lpnas_maxpool_int_forward(y, net->idx + s->idx, x, sh);
            break;
        case LPNAS_NODE_UPSAMPLE:
            lpnas_upsample_int_forward(y, x, q->scale[src], q->zp[src], sh, nd->act, f->requant);
            break;
        case LPNAS_NODE_ADD:
        case LPNAS_NODE_CONCAT: {
            int j = net->alias[nd->in[1]];
            const int8_t *b = q->codes + net->s[j].act;
            if (nd->kind == LPNAS_NODE_ADD)
                lpnas_add_int_forward(y, x, q->scale[src], q->zp[src], b, q->scale[j], q->zp[j], so, r, f->requant,
                                      lpnas_net_numel(nd, n));
            else
                lpnas_concat_int_forward(y, x, q->scale[src], q->zp[src], sh, b, q->scale[j], q->zp[j],
                                         lpnas_net_shape(&net->g.node[j], n), so, r);
            break;
        }
        default: /* BN and activations are always folded (lib/graph.c's invariant) */
            break;
        }
        dequantize(net->acts + s->act, y, lpnas_net_numel(nd, n), so, q->zp[i]);
    }
}

lpnas_status lpnas_net_int_output(const lpnas_net *net, const int8_t **codes, float *scale, int32_t *zp)
{
    if (!net || !net->quant || !codes)
        return lpnas_fail(LPNAS_ERR_ARG, "int_output: network not calibrated for an integer policy");
    int last = net->alias[net->g.count - 1];
    *codes = net->quant->codes + net->s[last].act;
    if (scale)
        *scale = net->quant->scale[last];
    if (zp)
        *zp = net->quant->zp[last];
    return LPNAS_OK;
}

lpnas_status lpnas_net_act_quant(const lpnas_net *net, int node, float *scale, int32_t *zp)
{
    if (!net || !net->quant)
        return lpnas_fail(LPNAS_ERR_ARG, "act_quant: network not calibrated");
    if (node < 0 || node >= net->g.count)
        return lpnas_fail(LPNAS_ERR_ARG, "act_quant: node %d out of range 0..%d", node, net->g.count - 1);
    *scale = net->quant->scale[node];
    *zp = net->quant->zp[node];
    return LPNAS_OK;
}

bool lpnas_net_int_tensor(lpnas_net *net, int i, float *scale, int32_t *zp)
{
    if (!net->quant)
        return false;
    make_alias(net);
    int a = net->alias[i];
    /* the group of conv a ends at its last aliased node */
    for (int j = i + 1; j < net->g.count && j <= i + 2; j++)
        if (net->alias[j] == a)
            return false;
    *scale = net->quant->scale[a];
    *zp = net->quant->zp[a];
    return true;
}

void lpnas_net_int_weights(const lpnas_net *net, int i, const int8_t **qw, const int32_t **qb, const float **ws,
                           float *s_in)
{
    const struct lpnas_net_quant *q = net->quant;
    const lpnas_net_slots *s = &net->s[i];
    *qw = q->qw + s->fw, *qb = q->qb + s->fb, *ws = q->ws + s->fb;
    *s_in = q->scale[net->alias[net->g.node[i].in[0]]];
}

/* ---- the calibration in model files (lib/model_file.c) ------------------ */

bool lpnas_net_calib_get(const lpnas_net *net, int i, float *lo, float *hi, float *scale, int32_t *zp)
{
    const struct lpnas_net_quant *q = net->quant;
    if (!q || i < 0 || i >= net->g.count)
        return false;
    *lo = q->lo[i], *hi = q->hi[i], *scale = q->scale[i], *zp = q->zp[i];
    return true;
}

lpnas_status lpnas_net_calib_restore(lpnas_net *net, const float *lo, const float *hi, const float *scale,
                                     const int32_t *zp, const lpnas_policy *policy)
{
    lpnas_status st = quant_alloc(net);
    if (st)
        return st;
    struct lpnas_net_quant *q = net->quant;
    for (int i = 0; i < net->g.count; i++)
        q->lo[i] = lo[i], q->hi[i] = hi[i], q->scale[i] = scale[i], q->zp[i] = zp[i];
    make_alias(net);
    /* the saved scales are the ones the model was fine-tuned and exported
     * with: kept as they are (not recomputed from the ranges) for the
     * policy they were made for; another policy recomputes them */
    q->have_fmt = policy && lpnas_policy_is_integer(policy);
    if (q->have_fmt)
        q->fmt = policy->integer;
    net->fold_dirty = true;
    return LPNAS_OK;
}

size_t lpnas_net_weight_scales(const lpnas_net *net, float *out)
{
    size_t k = 0;
    for (int i = 1; i < net->g.count; i++) {
        const lpnas_node *nd = &net->g.node[i];
        if (nd->kind != LPNAS_NODE_CONV && nd->kind != LPNAS_NODE_DECONV)
            continue;
        for (int c = 0; c < nd->c; c++, k++)
            if (out)
                out[k] = net->quant->ws[net->s[i].fb + (size_t)c];
    }
    return k;
}
