/* Architecture strings: parse (canonical spelling only), format, bounds,
 * presets, and sizes/layer lists from the node graph (docs/arch.md). */
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "lib/graph.h"

static const char BLOCK_CH[] = {'c', 's', 'r'};
static const char *const DOWN[] = {"conv", "pool"};
static const char *const UP[] = {"nearest", "bilinear", "deconv"};
static const char *const SKIP[] = {"concat", "add", "none"};
static const char *const ACT[] = {"relu", "relu6"};
/* Weight formats after ':' in a stage; index = lpnas_wfmt (0: no suffix). */
static const char *const WFMT[] = {"", "f16", "w8", "w4"};

const char *lpnas_wfmt_name(lpnas_wfmt f)
{
    return (unsigned)f < LPNAS_WFMT_COUNT ? WFMT[f] : NULL;
}

int lpnas_wfmt_bits(lpnas_wfmt f, int default_bits)
{
    switch (f) {
    case LPNAS_WFMT_F16: return 16;
    case LPNAS_WFMT_W8: return 8;
    case LPNAS_WFMT_W4: return 4;
    default: return default_bits;
    }
}

lpnas_status lpnas_arch_check(const lpnas_arch *a)
{
    if (a->in_channels < 1 || a->in_channels > 16)
        return lpnas_fail(LPNAS_ERR_ARG, "arch: input channels %d (need 1..16)", a->in_channels);
    if (a->stages < 1 || a->stages > LPNAS_ARCH_MAX_STAGES)
        return lpnas_fail(LPNAS_ERR_ARG, "arch: %d stages (need 1..%d)", a->stages, LPNAS_ARCH_MAX_STAGES);
    for (int i = 0; i < a->stages; i++) {
        const lpnas_stage *s = &a->stage[i];
        if ((unsigned)s->type > LPNAS_BLOCK_INVERTED)
            return lpnas_fail(LPNAS_ERR_ARG, "arch: stage %d: block type %d unknown", i + 1, (int)s->type);
        if (s->width < 1 || s->width > 1024)
            return lpnas_fail(LPNAS_ERR_ARG, "arch: stage %d: width %d (need 1..1024)", i + 1, s->width);
        if (s->blocks < 1 || s->blocks > 8)
            return lpnas_fail(LPNAS_ERR_ARG, "arch: stage %d: %d blocks (need 1..8)", i + 1, s->blocks);
        if (s->kernel != 1 && s->kernel != 3 && s->kernel != 5 && s->kernel != 7)
            return lpnas_fail(LPNAS_ERR_ARG, "arch: stage %d: kernel %d (need 1, 3, 5 or 7)", i + 1, s->kernel);
        bool inv = s->type == LPNAS_BLOCK_INVERTED;
        if (inv ? (s->expansion < 1 || s->expansion > 8) : s->expansion != 0)
            return lpnas_fail(LPNAS_ERR_ARG, "arch: stage %d: expansion %d (%s)", i + 1, s->expansion,
                              inv ? "need 1..8" : "only inverted residual stages have one");
        if ((unsigned)s->wfmt >= LPNAS_WFMT_COUNT)
            return lpnas_fail(LPNAS_ERR_ARG, "arch: stage %d: weight format %d unknown", i + 1, (int)s->wfmt);
    }
    if ((unsigned)a->down > LPNAS_DOWN_POOL || (unsigned)a->up > LPNAS_UP_DECONV ||
        (unsigned)a->skip > LPNAS_SKIP_NONE || (unsigned)a->act > LPNAS_ARCH_RELU6)
        return lpnas_fail(LPNAS_ERR_ARG, "arch: down/up/skip/act value out of range");
    if (a->dec_blocks < 1 || a->dec_blocks > 4)
        return lpnas_fail(LPNAS_ERR_ARG, "arch: %d decoder blocks (need 1..4)", a->dec_blocks);
    return LPNAS_OK;
}

int lpnas_arch_format(const lpnas_arch *a, char *buf, size_t size)
{
    char tmp[512];
    int n = snprintf(tmp, sizeof tmp, "in%d", a->in_channels);
    for (int i = 0; i < a->stages && i < LPNAS_ARCH_MAX_STAGES; i++) {
        const lpnas_stage *s = &a->stage[i];
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "-%c%dx%dk%d", BLOCK_CH[s->type % 3], s->width, s->blocks,
                      s->kernel);
        if (s->type == LPNAS_BLOCK_INVERTED)
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, "e%d", s->expansion);
        if (s->wfmt != LPNAS_WFMT_DEFAULT) /* the default has no suffix: one spelling per network */
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, ":%s", WFMT[s->wfmt % LPNAS_WFMT_COUNT]);
    }
    snprintf(tmp + n, sizeof tmp - (size_t)n, "/down=%s,up=%s,skip=%s,dec=%d,act=%s", DOWN[a->down % 2],
             UP[a->up % 3], SKIP[a->skip % 3], a->dec_blocks, ACT[a->act % 2]);
    return snprintf(buf, size, "%s", tmp);
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct {
    const char *s, *p;
} cursor;

static lpnas_status expected(const cursor *c, const char *what)
{
    char found[16];
    if (*c->p)
        snprintf(found, sizeof found, "'%c'", *c->p);
    else
        snprintf(found, sizeof found, "the end");
    return lpnas_fail(LPNAS_ERR_FORMAT, "arch: position %d: expected %s, found %s", (int)(c->p - c->s) + 1, what,
                      found);
}

static lpnas_status lit(cursor *c, const char *text, const char *what)
{
    size_t n = strlen(text);
    if (strncmp(c->p, text, n))
        return expected(c, what);
    c->p += n;
    return LPNAS_OK;
}

/* canonical decimal: no sign, no leading zero, at most 4 digits */
static lpnas_status number(cursor *c, const char *what, int *out)
{
    if (*c->p < '0' || *c->p > '9' || (c->p[0] == '0' && c->p[1] >= '0' && c->p[1] <= '9'))
        return expected(c, what);
    int v = 0, digits = 0;
    while (*c->p >= '0' && *c->p <= '9') {
        if (++digits > 4)
            return expected(c, what);
        v = v * 10 + (*c->p++ - '0');
    }
    *out = v;
    return LPNAS_OK;
}

static lpnas_status word(cursor *c, const char *const *words, int n, const char *what, int *out)
{
    /* longest match first (relu6 before relu) */
    int best = -1;
    size_t bl = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(words[i]);
        if (!strncmp(c->p, words[i], l) && l > bl)
            best = i, bl = l;
    }
    if (best < 0)
        return expected(c, what);
    c->p += bl;
    *out = best;
    return LPNAS_OK;
}

/* a bounds problem found after parsing: point at the start of the token */
static lpnas_status bound(const cursor *c, const char *tok, const char *fmt, int v)
{
    char msg[128];
    snprintf(msg, sizeof msg, fmt, v);
    return lpnas_fail(LPNAS_ERR_FORMAT, "arch: position %d: %s", (int)(tok - c->s) + 1, msg);
}

lpnas_status lpnas_arch_parse(const char *text, lpnas_arch *out)
{
    if (!text)
        return lpnas_fail(LPNAS_ERR_ARG, "arch: NULL string");
    lpnas_arch a;
    memset(&a, 0, sizeof a);
    cursor c = {text, text};
    lpnas_status st;
    const char *tok = c.p + 2;
    if ((st = lit(&c, "in", "'in' and the input channels")) || (st = number(&c, "input channels 1..16", &a.in_channels)))
        return st;
    if (a.in_channels < 1 || a.in_channels > 16)
        return bound(&c, tok, "input channels %d: need 1..16", a.in_channels);
    while (*c.p == '-') {
        c.p++;
        if (a.stages == LPNAS_ARCH_MAX_STAGES)
            return expected(&c, "'/' (at most 6 stages)");
        lpnas_stage *s = &a.stage[a.stages];
        const char *ty = strchr("csr", *c.p);
        if (!*c.p || !ty)
            return expected(&c, "a block type c (plain), s (separable) or r (inverted residual)");
        s->type = (lpnas_block_type)(ty - "csr");
        c.p++;
        tok = c.p;
        if ((st = number(&c, "a width", &s->width)))
            return st;
        if (s->width < 1 || s->width > 1024)
            return bound(&c, tok, "width %d: need 1..1024", s->width);
        if ((st = lit(&c, "x", "'x' and the number of blocks")))
            return st;
        tok = c.p;
        if ((st = number(&c, "a number of blocks", &s->blocks)))
            return st;
        if (s->blocks < 1 || s->blocks > 8)
            return bound(&c, tok, "%d blocks: need 1..8", s->blocks);
        if ((st = lit(&c, "k", "'k' and a kernel size")))
            return st;
        tok = c.p;
        if ((st = number(&c, "a kernel size 1, 3, 5 or 7", &s->kernel)))
            return st;
        if (s->kernel != 1 && s->kernel != 3 && s->kernel != 5 && s->kernel != 7)
            return bound(&c, tok, "kernel %d: need 1, 3, 5 or 7", s->kernel);
        if (s->type == LPNAS_BLOCK_INVERTED) {
            if ((st = lit(&c, "e", "'e' and the expansion of an inverted residual stage")))
                return st;
            tok = c.p;
            if ((st = number(&c, "an expansion 1..8", &s->expansion)))
                return st;
            if (s->expansion < 1 || s->expansion > 8)
                return bound(&c, tok, "expansion %d: need 1..8", s->expansion);
        }
        if (*c.p == ':') {
            c.p++;
            int f = 0;
            /* WFMT[0] is "" and never matches: ":" must name a format */
            if ((st = word(&c, WFMT + 1, LPNAS_WFMT_COUNT - 1, "a weight format f16, w8 or w4", &f)))
                return st;
            s->wfmt = (lpnas_wfmt)(f + 1);
        }
        a.stages++;
    }
    if (a.stages == 0)
        return expected(&c, "'-' and a stage");
    int v = 0;
    if ((st = lit(&c, "/down=", "'/down='")) || (st = word(&c, DOWN, 2, "conv or pool", &v)))
        return st;
    a.down = (lpnas_down_kind)v;
    if ((st = lit(&c, ",up=", "',up='")) || (st = word(&c, UP, 3, "nearest, bilinear or deconv", &v)))
        return st;
    a.up = (lpnas_up_kind)v;
    if ((st = lit(&c, ",skip=", "',skip='")) || (st = word(&c, SKIP, 3, "concat, add or none", &v)))
        return st;
    a.skip = (lpnas_skip_kind)v;
    if ((st = lit(&c, ",dec=", "',dec='")))
        return st;
    tok = c.p;
    if ((st = number(&c, "a number of decoder blocks 1..4", &a.dec_blocks)))
        return st;
    if (a.dec_blocks < 1 || a.dec_blocks > 4)
        return bound(&c, tok, "%d decoder blocks: need 1..4", a.dec_blocks);
    if ((st = lit(&c, ",act=", "',act='")) || (st = word(&c, ACT, 2, "relu or relu6", &v)))
        return st;
    a.act = (lpnas_arch_act)v;
    if (*c.p)
        return expected(&c, "the end of the string");
    *out = a;
    return LPNAS_OK;
}

/* ---- presets ------------------------------------------------------------ */

static const struct {
    const char *name, *text;
} PRESETS[] = {
    /* close to the paper's size (~96k parameters) for 64x64 tiles */
    {"paper96k", "in3-c16x2k3-c32x2k3-c56x2k3/down=conv,up=nearest,skip=concat,dec=1,act=relu"},
    /* exactly shared/peers/peer_torch.py's UNetSmall (81,569 parameters) */
    {"unet-peer", "in3-c16x2k3-c32x2k3-c48x2k3/down=conv,up=nearest,skip=concat,dec=1,act=relu"},
    /* for tests: a few thousand parameters */
    {"tiny", "in3-c8x1k3-c16x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu"},
    /* depthwise-separable and inverted-residual stages, MobileNet style */
    {"mobile", "in3-c16x1k3-s24x2k3-r32x2k3e4-r48x2k3e4/down=conv,up=bilinear,skip=add,dec=1,act=relu6"},
};

const char *lpnas_arch_preset_name(size_t i)
{
    return i < sizeof PRESETS / sizeof PRESETS[0] ? PRESETS[i].name : NULL;
}

lpnas_status lpnas_arch_preset(const char *name, lpnas_arch *out)
{
    for (size_t i = 0; name && i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (!strcmp(name, PRESETS[i].name))
            return lpnas_arch_parse(PRESETS[i].text, out);
    return lpnas_fail(LPNAS_ERR_NOT_FOUND, "arch preset '%s': unknown; presets: paper96k, unet-peer, tiny, mobile",
                      name ? name : "(null)");
}

/* ---- sizes and layer lists -------------------------------------------- */

lpnas_status lpnas_arch_stats_compute(const lpnas_arch *a, int h, int w, lpnas_arch_stats *out)
{
    static _Thread_local lpnas_graph g;
    lpnas_status st = lpnas_graph_build(a, h, w, &g);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    int last_use[LPNAS_GRAPH_MAX_NODES];
    for (int i = 0; i < g.count; i++) {
        last_use[i] = i;
        out->params += g.node[i].params;
        out->macs += g.node[i].macs;
        out->peak_act_bytes += 4LL * g.node[i].c * g.node[i].h * g.node[i].w; /* all kept for backward */
    }
    for (int i = 0; i < g.count; i++)
        for (int k = 0; k < 2; k++)
            if (g.node[i].in[k] >= 0)
                last_use[g.node[i].in[k]] = i;
    /* inference on the device: tensors live from creation to their last use */
    long long peak = 0;
    for (int t = 0; t < g.count; t++) {
        long long live = 0;
        for (int i = 0; i <= t; i++)
            if (last_use[i] >= t)
                live += 2LL * g.node[i].c * g.node[i].h * g.node[i].w;
        peak = live > peak ? live : peak;
    }
    out->peak_act_bytes_device = peak;
    return LPNAS_OK;
}

lpnas_status lpnas_arch_weight_bytes(const lpnas_arch *a, int default_bits, long long *bytes)
{
    if (default_bits != 4 && default_bits != 8 && default_bits != 16 && default_bits != 32)
        return lpnas_fail(LPNAS_ERR_ARG, "arch weight bytes: default bits %d (need 4, 8, 16 or 32)", default_bits);
    static _Thread_local lpnas_graph g;
    /* any size the stages divide: weights do not depend on the image size */
    int f = 1 << (a->stages > 0 && a->stages <= LPNAS_ARCH_MAX_STAGES ? a->stages - 1 : 0);
    lpnas_status st = lpnas_graph_build(a, f, f, &g);
    if (st)
        return st;
    long long total = 0;
    for (int i = 0; i < g.count; i++) {
        const lpnas_node *n = &g.node[i];
        if (n->kind != LPNAS_NODE_CONV && n->kind != LPNAS_NODE_DECONV)
            continue;
        long long w = n->params - (n->bias ? n->c : 0); /* weights only; the bias is counted below */
        long long bits = w * lpnas_wfmt_bits((lpnas_wfmt)n->wfmt, default_bits);
        total += (bits + 7) / 8 + 4LL * n->c;
    }
    *bytes = total;
    return LPNAS_OK;
}

static lpnas_status push(lpnas_layer_list *l, lpnas_layer_op op, const lpnas_node *in, const lpnas_node *n, int act)
{
    lpnas_layer y = {op, in->h, in->w, n->in_c, n->c, n->kernel, n->stride, n->groups, (lpnas_layer_act)act, 1};
    if (op == LPNAS_OP_CONCAT || op == LPNAS_OP_ADD)
        y.in_c = y.out_c = n->c;
    return lpnas_layer_list_push(l, &y);
}

lpnas_status lpnas_arch_layers(const lpnas_arch *a, int h, int w, lpnas_layer_list *l)
{
    static _Thread_local lpnas_graph g;
    lpnas_layer_list_init(l);
    lpnas_status st = lpnas_graph_build(a, h, w, &g);
    if (st)
        return st;
    /* the input normalization is a ScaleShift stage on the device */
    lpnas_layer norm = {LPNAS_OP_BN, h, w, a->in_channels, a->in_channels, 1, 1, 1, LPNAS_ACT_NONE, 1};
    st = lpnas_layer_list_push(l, &norm);
    for (int i = 1; i < g.count && !st; i++) {
        const lpnas_node *n = &g.node[i], *in = &g.node[n->in[0]];
        /* a conv/deconv row carries the activation that follows its BN */
        int act = LPNAS_ACT_NONE, j = i + 1;
        if (j < g.count && g.node[j].kind == LPNAS_NODE_BN)
            j++;
        if (j < g.count && g.node[j].kind == LPNAS_NODE_ACT)
            act = g.node[j].act ? LPNAS_ACT_RELU6 : LPNAS_ACT_RELU;
        switch (n->kind) {
        case LPNAS_NODE_CONV: st = push(l, LPNAS_OP_CONV, in, n, act); break;
        case LPNAS_NODE_DECONV: st = push(l, LPNAS_OP_DECONV, in, n, act); break;
        case LPNAS_NODE_MAXPOOL: st = push(l, LPNAS_OP_MAXPOOL, in, n, LPNAS_ACT_NONE); break;
        case LPNAS_NODE_UPSAMPLE:
            st = push(l, n->act ? LPNAS_OP_UPSAMPLE_BILINEAR : LPNAS_OP_UPSAMPLE_NEAREST, in, n, LPNAS_ACT_NONE);
            break;
        case LPNAS_NODE_ADD: st = push(l, LPNAS_OP_ADD, in, n, LPNAS_ACT_NONE); break;
        case LPNAS_NODE_CONCAT: st = push(l, LPNAS_OP_CONCAT, in, n, LPNAS_ACT_NONE); break;
        default: break; /* BN folded, activation fused */
        }
    }
    if (st)
        lpnas_layer_list_free(l);
    return st;
}

lpnas_status lpnas_arch_layer_wbits(const lpnas_arch *a, int h, int w, int *wbits, size_t n)
{
    static _Thread_local lpnas_graph g;
    lpnas_status st = lpnas_graph_build(a, h, w, &g);
    if (st)
        return st;
    size_t row = 0;
    if (row < n)
        wbits[row] = 0; /* the input normalization row */
    row++;
    /* the same rows as lpnas_arch_layers: one per conv/deconv/pool/upsample/add/concat node */
    for (int i = 1; i < g.count; i++) {
        const lpnas_node *x = &g.node[i];
        if (x->kind == LPNAS_NODE_BN || x->kind == LPNAS_NODE_ACT || x->kind == LPNAS_NODE_INPUT)
            continue;
        int b = x->kind == LPNAS_NODE_CONV || x->kind == LPNAS_NODE_DECONV ? lpnas_wfmt_bits((lpnas_wfmt)x->wfmt, 0)
                                                                           : 0;
        if (row < n)
            wbits[row] = b;
        row++;
    }
    if (row != n)
        return lpnas_fail(LPNAS_ERR_ARG, "arch layer bits: the network has %zu layer rows, the array %zu", row, n);
    return LPNAS_OK;
}
