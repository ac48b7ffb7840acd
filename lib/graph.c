/* Architecture -> node graph (see graph.h and docs/arch.md for the
 * structure: encoder stages, U-Net decoder, 1x1 head). */
#include "lib/graph.h"

#include "base/error.h"

typedef struct {
    lpnas_graph *g;
    lpnas_status st;
    int wfmt; /* the weight format of the stage being built */
} builder;

static int add_node(builder *b, lpnas_node n)
{
    if (b->st)
        return 0;
    if (b->g->count >= LPNAS_GRAPH_MAX_NODES) {
        b->st = lpnas_fail(LPNAS_ERR_ARG, "arch: more than %d nodes", LPNAS_GRAPH_MAX_NODES);
        return 0;
    }
    if (n.kind == LPNAS_NODE_CONV || n.kind == LPNAS_NODE_DECONV)
        n.wfmt = b->wfmt;
    b->g->node[b->g->count] = n;
    return b->g->count++;
}

static const lpnas_node *at(builder *b, int i)
{
    return &b->g->node[i];
}

static int conv(builder *b, int x, int out_c, int k, int stride, int groups, int bias)
{
    const lpnas_node *p = at(b, x);
    int oh = (p->h + stride - 1) / stride, ow = (p->w + stride - 1) / stride;
    lpnas_node n = {LPNAS_NODE_CONV, {x, -1}, out_c, oh, ow, p->c, k, stride, groups, bias, 0, 0, 0, 0};
    n.params = (long long)out_c * (p->c / groups) * k * k + (bias ? out_c : 0);
    n.macs = (long long)oh * ow * out_c * (p->c / groups) * k * k;
    return add_node(b, n);
}

static int simple(builder *b, lpnas_node_kind kind, int x, int act)
{
    const lpnas_node *p = at(b, x);
    lpnas_node n = {kind, {x, -1}, p->c, p->h, p->w, p->c, 1, 1, 1, 0, act, 0, 0, 0};
    if (kind == LPNAS_NODE_BN)
        n.params = 2LL * p->c;
    if (kind == LPNAS_NODE_MAXPOOL)
        n.h = (p->h + 1) / 2, n.w = (p->w + 1) / 2, n.kernel = 2, n.stride = 2;
    if (kind == LPNAS_NODE_UPSAMPLE)
        n.h = p->h * 2, n.w = p->w * 2, n.stride = 2;
    return add_node(b, n);
}

/* conv -> BN -> act (act < 0: none) */
static int cba(builder *b, int x, int out_c, int k, int stride, int groups, int act)
{
    int y = simple(b, LPNAS_NODE_BN, conv(b, x, out_c, k, stride, groups, 0), 0);
    return act >= 0 ? simple(b, LPNAS_NODE_ACT, y, act) : y;
}

static int two(builder *b, lpnas_node_kind kind, int x, int y)
{
    const lpnas_node *p = at(b, x), *q = at(b, y);
    lpnas_node n = {kind, {x, y}, kind == LPNAS_NODE_CONCAT ? p->c + q->c : p->c, p->h, p->w, p->c + q->c,
                    1, 1, 1, 0, 0, 0, 0, 0};
    return add_node(b, n);
}

static int block(builder *b, int x, const lpnas_stage *st, int stride, int act)
{
    int cin = at(b, x)->c;
    switch (st->type) {
    case LPNAS_BLOCK_PLAIN:
        return cba(b, x, st->width, st->kernel, stride, 1, act);
    case LPNAS_BLOCK_SEPARABLE: {
        int y = cba(b, x, cin, st->kernel, stride, cin, act);
        return cba(b, y, st->width, 1, 1, 1, act);
    }
    case LPNAS_BLOCK_INVERTED: {
        int hid = cin * st->expansion, y = x;
        if (st->expansion != 1)
            y = cba(b, y, hid, 1, 1, 1, act);
        y = cba(b, y, hid, st->kernel, stride, hid, act);
        y = cba(b, y, st->width, 1, 1, 1, -1);
        if (stride == 1 && cin == st->width)
            y = two(b, LPNAS_NODE_ADD, y, x);
        return y;
    }
    }
    return x;
}

lpnas_status lpnas_graph_build(const lpnas_arch *a, int h, int w, lpnas_graph *g)
{
    lpnas_status st = lpnas_arch_check(a);
    if (st)
        return st;
    int f = 1 << (a->stages - 1);
    if (h < f || w < f || h % f || w % f || h > 8192 || w > 8192)
        return lpnas_fail(LPNAS_ERR_ARG, "arch: input %dx%d must be divisible by %d (2^(stages-1)) and at most 8192",
                          h, w, f);
    builder b = {g, LPNAS_OK, 0};
    g->count = 0;
    lpnas_node in = {LPNAS_NODE_INPUT, {-1, -1}, a->in_channels, h, w, a->in_channels, 1, 1, 1, 0, 0, 0, 0, 0};
    int x = add_node(&b, in);
    int act = a->act == LPNAS_ARCH_RELU6 ? 1 : 0;
    int skips[LPNAS_ARCH_MAX_STAGES];
    for (int i = 0; i < a->stages; i++) {
        for (int k = 0; k < a->stage[i].blocks; k++) {
            int stride = 1;
            if (i > 0 && k == 0) {
                if (a->down == LPNAS_DOWN_POOL)
                    x = simple(&b, LPNAS_NODE_MAXPOOL, x, 0);
                else
                    stride = 2;
            }
            b.wfmt = (int)a->stage[i].wfmt;
            x = block(&b, x, &a->stage[i], stride, act);
            b.wfmt = 0;
        }
        skips[i] = g->stage_end[i] = x;
    }
    for (int i = a->stages - 2; i >= 0; i--) {
        int wi = a->stage[i].width;
        if (a->up == LPNAS_UP_DECONV) {
            const lpnas_node *p = at(&b, x);
            lpnas_node d = {LPNAS_NODE_DECONV, {x, -1}, wi, p->h * 2, p->w * 2, p->c, 2, 2, 1, 0, 0, 0, 0, 0};
            d.params = (long long)p->c * wi * 4;
            d.macs = (long long)p->h * p->w * p->c * wi * 4;
            x = simple(&b, LPNAS_NODE_ACT, simple(&b, LPNAS_NODE_BN, add_node(&b, d), 0), act);
        } else {
            x = simple(&b, LPNAS_NODE_UPSAMPLE, x, a->up == LPNAS_UP_BILINEAR);
        }
        if (a->skip == LPNAS_SKIP_CONCAT) {
            x = two(&b, LPNAS_NODE_CONCAT, x, skips[i]);
        } else if (a->skip == LPNAS_SKIP_ADD) {
            if (at(&b, x)->c != wi)
                x = cba(&b, x, wi, 1, 1, 1, act);
            x = two(&b, LPNAS_NODE_ADD, x, skips[i]);
        }
        for (int k = 0; k < a->dec_blocks; k++)
            x = cba(&b, x, wi, 3, 1, 1, act);
    }
    conv(&b, x, 1, 1, 1, 1, 1); /* the head: one logit per pixel */
    return b.st;
}
