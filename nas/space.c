/* The search space's genome and its operators (nas/space.h). */
#include "nas/space.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"

#define G_STAGES 0
#define G_STAGE(i) (1 + 5 * (i))
#define G_DOWN 31
#define G_UP 32
#define G_SKIP 33
#define G_DEC 34
#define G_ACT 35
#define G_LR 36
#define G_OPT 37
#define G_SCHED 38
#define G_WFMT(i) (39 + (i))

void lpnas_space_options_default(lpnas_space_options *o)
{
    memset(o, 0, sizeof *o);
    o->in_channels = 3;
    o->min_stages = 2, o->max_stages = 4;
    for (int i = 0; i < 8; i++)
        o->widths[i] = 8 * (i + 1);
    o->n_widths = 8;
    o->max_blocks = 3;
    o->kernels[0] = 3, o->kernels[1] = 5, o->n_kernels = 2;
    o->allow_separable = o->allow_inverted = true;
    o->max_expansion = 4;
    o->max_dec_blocks = 2;
    o->lrs[0] = 1e-3, o->lrs[1] = 2e-3, o->lrs[2] = 3e-3, o->lrs[3] = 5e-3, o->n_lrs = 4;
}

lpnas_status lpnas_space_init(lpnas_space *s, const lpnas_space_options *o)
{
    lpnas_space_options d;
    if (!o) {
        lpnas_space_options_default(&d);
        o = &d;
    }
    if (o->in_channels < 1 || o->in_channels > 16)
        return lpnas_fail(LPNAS_ERR_ARG, "search space: input channels %d (need 1..16)", o->in_channels);
    if (o->min_stages < 1 || o->max_stages > LPNAS_ARCH_MAX_STAGES || o->min_stages > o->max_stages)
        return lpnas_fail(LPNAS_ERR_ARG, "search space: stages %d..%d (need 1 <= min <= max <= 6)", o->min_stages,
                          o->max_stages);
    if (o->n_widths < 1 || o->n_widths > 16 || o->n_kernels < 1 || o->n_kernels > 4 || o->n_lrs < 1 || o->n_lrs > 8)
        return lpnas_fail(LPNAS_ERR_ARG, "search space: need 1..16 widths, 1..4 kernels, 1..8 learning rates");
    for (int i = 0; i < o->n_widths; i++)
        if (o->widths[i] < 1 || o->widths[i] > 1024)
            return lpnas_fail(LPNAS_ERR_ARG, "search space: width %d (need 1..1024)", o->widths[i]);
    for (int i = 0; i < o->n_kernels; i++)
        if (o->kernels[i] != 1 && o->kernels[i] != 3 && o->kernels[i] != 5 && o->kernels[i] != 7)
            return lpnas_fail(LPNAS_ERR_ARG, "search space: kernel %d (need 1, 3, 5 or 7)", o->kernels[i]);
    for (int i = 0; i < o->n_lrs; i++)
        if (!(o->lrs[i] > 0 && o->lrs[i] < 10))
            return lpnas_fail(LPNAS_ERR_ARG, "search space: learning rate %g (need (0, 10))", o->lrs[i]);
    if (o->max_blocks < 1 || o->max_blocks > 8 || o->max_expansion < 1 || o->max_expansion > 8 ||
        o->max_dec_blocks < 1 || o->max_dec_blocks > 4)
        return lpnas_fail(LPNAS_ERR_ARG, "search space: blocks 1..8, expansion 1..8, decoder blocks 1..4");
    if (o->n_wfmts < 0 || o->n_wfmts > LPNAS_WFMT_COUNT)
        return lpnas_fail(LPNAS_ERR_ARG, "search space: %d weight formats (need 0..%d)", o->n_wfmts, LPNAS_WFMT_COUNT);
    for (int i = 0; i < o->n_wfmts; i++)
        if ((unsigned)o->wfmts[i] >= LPNAS_WFMT_COUNT)
            return lpnas_fail(LPNAS_ERR_ARG, "search space: weight format %d unknown", (int)o->wfmts[i]);
    s->o = *o;
    return LPNAS_OK;
}

/* Inclusive bounds of gene k. */
static void bounds(const lpnas_space *s, int k, int *lo, int *hi)
{
    const lpnas_space_options *o = &s->o;
    *lo = 0;
    if (k == G_STAGES) {
        *lo = o->min_stages, *hi = o->max_stages;
    } else if (k >= G_WFMT(0)) {
        *hi = o->n_wfmts > 1 ? o->n_wfmts - 1 : 0;
    } else if (k < G_DOWN) {
        switch ((k - 1) % 5) {
        case 0: *hi = o->allow_inverted ? 2 : o->allow_separable ? 1 : 0; break;
        case 1: *hi = o->n_widths - 1; break;
        case 2: *lo = 1, *hi = o->max_blocks; break;
        case 3: *hi = o->n_kernels - 1; break;
        default: *lo = 1, *hi = o->max_expansion; break;
        }
    } else {
        switch (k) {
        case G_DOWN: *hi = 1; break;
        case G_UP: *hi = 2; break;
        case G_SKIP: *hi = 2; break;
        case G_DEC: *lo = 1, *hi = o->max_dec_blocks; break;
        case G_ACT: *hi = 1; break;
        case G_LR: *hi = o->n_lrs - 1; break;
        default: *hi = 1; break; /* optimizer, schedule */
        }
    }
}

/* Block type gene -> type, skipping a disallowed separable type. */
static lpnas_block_type block_type(const lpnas_space *s, int v)
{
    if (v == 1 && !s->o.allow_separable)
        return LPNAS_BLOCK_INVERTED;
    return (lpnas_block_type)v;
}

bool lpnas_space_valid(const lpnas_space *s, const lpnas_genome *g)
{
    if (g->n != LPNAS_SPACE_GENES)
        return false;
    for (int k = 0; k < LPNAS_SPACE_GENES; k++) {
        int lo, hi;
        bounds(s, k, &lo, &hi);
        if (g->g[k] < lo || g->g[k] > hi)
            return false;
    }
    return true;
}

static void random_genome(void *ctx, lpnas_rng *r, lpnas_genome *out)
{
    const lpnas_space *s = ctx;
    out->n = LPNAS_SPACE_GENES;
    /* without precision genes they stay 0 and draw nothing, so a search
     * without --mixed-precision proposes exactly what it did before them */
    int n = s->o.n_wfmts > 1 ? LPNAS_SPACE_GENES : G_WFMT(0);
    for (int k = 0; k < LPNAS_SPACE_GENES; k++) {
        int lo, hi;
        bounds(s, k, &lo, &hi);
        out->g[k] = k < n ? lo + (int)lpnas_rng_below(r, (uint64_t)(hi - lo + 1)) : lo;
    }
}

/* Genes that change the decoded candidate (unused stages and the expansion
 * of non-inverted stages do not). */
static int active_genes(const lpnas_space *s, const lpnas_genome *g, int *list)
{
    int n = 0;
    list[n++] = G_STAGES;
    for (int i = 0; i < g->g[G_STAGES]; i++)
        for (int j = 0; j < 5; j++) {
            if (j == 4 && block_type(s, g->g[G_STAGE(i)]) != LPNAS_BLOCK_INVERTED)
                continue;
            list[n++] = G_STAGE(i) + j;
        }
    for (int k = G_DOWN; k <= G_SCHED; k++)
        list[n++] = k;
    if (s->o.n_wfmts > 1)
        for (int i = 0; i < g->g[G_STAGES]; i++)
            list[n++] = G_WFMT(i);
    return n;
}

static void mutate(void *ctx, lpnas_rng *r, lpnas_genome *g)
{
    const lpnas_space *s = ctx;
    int list[LPNAS_SPACE_GENES], n = active_genes(s, g, list);
    for (int tries = 0; tries < 64; tries++) {
        int k = list[lpnas_rng_below(r, (uint64_t)n)], lo, hi;
        bounds(s, k, &lo, &hi);
        if (hi == lo)
            continue;
        int v = lo + (int)lpnas_rng_below(r, (uint64_t)(hi - lo)); /* any other value */
        g->g[k] = v >= g->g[k] ? v + 1 : v;
        return;
    }
}

/* Uniform crossover over units: a stage's five genes (type, width, blocks,
 * kernel, expansion) are one unit and come from one parent together, so a
 * child inherits whole stages; every other gene is a unit of its own. */
static void crossover(void *ctx, lpnas_rng *r, const lpnas_genome *a, const lpnas_genome *b, lpnas_genome *child)
{
    const lpnas_space *s = ctx;
    child->n = a->n;
    /* no draws for absent precision genes (the same sequence as before them) */
    int n = s->o.n_wfmts > 1 ? a->n : G_WFMT(0);
    memcpy(&child->g[n], &a->g[n], (size_t)(a->n - n) * sizeof child->g[0]);
    for (int k = 0; k < n;) {
        int len = k >= G_STAGE(0) && k < G_DOWN ? 5 : 1;
        const lpnas_genome *p = (lpnas_rng_u32(r) & 1) ? a : b;
        memcpy(&child->g[k], &p->g[k], (size_t)len * sizeof child->g[0]);
        k += len;
    }
}

lpnas_space_ops lpnas_space_operators(lpnas_space *s)
{
    lpnas_space_ops ops = {s, random_genome, mutate, crossover};
    return ops;
}

void lpnas_space_decode(const lpnas_space *s, const lpnas_genome *g, lpnas_arch *a, lpnas_hparams *hp)
{
    memset(a, 0, sizeof *a);
    a->in_channels = s->o.in_channels;
    a->stages = g->g[G_STAGES];
    for (int i = 0; i < a->stages; i++) {
        const int32_t *x = &g->g[G_STAGE(i)];
        lpnas_stage *st = &a->stage[i];
        st->type = block_type(s, x[0]);
        st->width = s->o.widths[x[1]];
        st->blocks = x[2];
        st->kernel = s->o.kernels[x[3]];
        st->expansion = st->type == LPNAS_BLOCK_INVERTED ? x[4] : 0;
        st->wfmt = s->o.n_wfmts ? s->o.wfmts[g->g[G_WFMT(i)]] : LPNAS_WFMT_DEFAULT;
    }
    a->down = (lpnas_down_kind)g->g[G_DOWN];
    a->up = (lpnas_up_kind)g->g[G_UP];
    a->skip = (lpnas_skip_kind)g->g[G_SKIP];
    a->dec_blocks = g->g[G_DEC];
    a->act = (lpnas_arch_act)g->g[G_ACT];
    if (hp) {
        hp->lr = s->o.lrs[g->g[G_LR]];
        hp->optimizer = g->g[G_OPT] ? LPNAS_OPT_SGD : LPNAS_OPT_ADAM;
        hp->schedule = g->g[G_SCHED] ? LPNAS_SCHED_CONSTANT : LPNAS_SCHED_COSINE;
    }
}

int lpnas_space_identity(const lpnas_space *s, const lpnas_genome *g, char *buf, size_t size)
{
    lpnas_arch a;
    lpnas_hparams hp;
    lpnas_space_decode(s, g, &a, &hp);
    char arch[384];
    lpnas_arch_format(&a, arch, sizeof arch);
    return snprintf(buf, size, "%s|lr=%g,opt=%s,sched=%s", arch, hp.lr,
                    hp.optimizer == LPNAS_OPT_SGD ? "sgd" : "adam",
                    hp.schedule == LPNAS_SCHED_CONSTANT ? "constant" : "cosine");
}
