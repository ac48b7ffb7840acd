/* The block-wise distillation table and the search over it
 * (include/lpnas/blockwise.h, docs/search.md "The block-wise shortcut").
 *
 * This reaches into the engine (lib/net_internal.h): a candidate block is
 * trained against an intermediate feature map of the teacher, which the
 * public API (a loss on the logits only) cannot express. The encoder is a
 * prefix of the node list, stage by stage (lib/graph.h), so a student made
 * of the teacher's first i stages and a candidate block has exactly the
 * teacher's nodes, parameters and BN buffers up to stage i - 1, in the same
 * places: they are copied as one prefix. */
#include "lpnas/blockwise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "lib/net_internal.h"

void lpnas_blockwise_kd_options_default(lpnas_blockwise_kd_options *o)
{
    o->steps = 60, o->batch = 8, o->lr = 0.003, o->seed = 1;
    o->progress = NULL, o->progress_user = NULL;
}

/* One candidate block in training: its nodes first..last of net, its
 * parameters p0..p1, and the 1x1 adapter A (ct x cb) to the teacher's width. */
typedef struct {
    lpnas_net *net;
    int first, last;
    size_t p0, p1;
    int ct, cb, hw;
    float *A, *gA, *m, *v, *dy, *keep;
    long step;
} student;

/* Parameters of nodes 0..last (allocated in node order, lib/net.c). */
static size_t prefix_params(const lpnas_net *net, int last)
{
    size_t p = 0;
    for (int k = 0; k <= last; k++)
        p += (size_t)net->g.node[k].params;
    return p;
}

static size_t prefix_buffers(const lpnas_net *net, int last)
{
    size_t b = 0;
    for (int k = 0; k <= last; k++)
        b += net->g.node[k].kind == LPNAS_NODE_BN ? 2 * (size_t)net->g.node[k].c : 0;
    return b;
}

/* The unfolded FP32 forward of nodes 1..last; nodes >= train_from in
 * training mode (BN batch statistics), the others as in evaluation. */
static void forward_to(lpnas_net *net, const float *images, int n, int last, int train_from)
{
    lpnas_net_load_input(net, images, n, NULL);
    for (int k = 0; k < net->g.count; k++)
        net->alias[k] = k; /* the unfolded forward reads second inputs through the identity alias */
    for (int k = 1; k <= last; k++)
        lpnas_net_forward_node(net, k, n, k >= train_from, net->params, net->acts + net->s[net->g.node[k].in[0]].act,
                               NULL);
}

static void gather(const lpnas_dataset *d, const int *idx, int n, float *images)
{
    size_t per = (size_t)lpnas_dataset_channels(d) * lpnas_dataset_height(d) * lpnas_dataset_width(d);
    for (int b = 0; b < n; b++)
        memcpy(images + (size_t)b * per, lpnas_dataset_image(d, idx[b]), per * sizeof *images);
}

/* y = A f per pixel (f: n x cb x hw, y: n x ct x hw); returns sum (y - t)^2
 * and adds sum t^2 to *tt; when grad, dy = 2 (y - t) / count. */
static double adapt(student *s, const float *f, const float *t, int n, double *tt, bool grad)
{
    int ct = s->ct, cb = s->cb, hw = s->hw;
    double rr = 0;
    float inv = 2.0f / (float)((size_t)n * ct * hw);
    float *y = s->dy;
    for (int b = 0; b < n; b++)
        for (int c = 0; c < ct; c++) {
            float *yc = y + ((size_t)b * ct + c) * hw;
            const float *tc = t + ((size_t)b * ct + c) * hw;
            memset(yc, 0, (size_t)hw * sizeof *yc);
            for (int j = 0; j < cb; j++) {
                const float *fj = f + ((size_t)b * cb + j) * hw;
                float a = s->A[(size_t)c * cb + j];
                for (int p = 0; p < hw; p++)
                    yc[p] += a * fj[p];
            }
            for (int p = 0; p < hw; p++) {
                double r = (double)yc[p] - tc[p];
                rr += r * r, *tt += (double)tc[p] * tc[p];
                if (grad)
                    yc[p] = (yc[p] - tc[p]) * inv;
            }
        }
    return rr;
}

/* Gradients of the MSE: into the block's output (df) and the adapter (gA). */
static void adapt_backward(student *s, const float *f, float *df, int n)
{
    int ct = s->ct, cb = s->cb, hw = s->hw;
    memset(s->gA, 0, (size_t)ct * cb * sizeof *s->gA);
    for (int b = 0; b < n; b++)
        for (int c = 0; c < ct; c++) {
            const float *dyc = s->dy + ((size_t)b * ct + c) * hw;
            for (int j = 0; j < cb; j++) {
                const float *fj = f + ((size_t)b * cb + j) * hw;
                float *dfj = df + ((size_t)b * cb + j) * hw, a = s->A[(size_t)c * cb + j];
                double g = 0;
                for (int p = 0; p < hw; p++) {
                    dfj[p] += a * dyc[p];
                    g += (double)dyc[p] * fj[p];
                }
                s->gA[(size_t)c * cb + j] += (float)g;
            }
        }
}

/* Adam (beta 0.9, 0.999, eps 1e-8, bias-corrected) on x[0..n) with moments m, v. */
static void adam(float *x, const float *g, float *m, float *v, size_t n, double lr, long t)
{
    double c1 = 1 - pow(0.9, (double)t), c2 = 1 - pow(0.999, (double)t);
    for (size_t k = 0; k < n; k++) {
        m[k] = 0.9f * m[k] + 0.1f * g[k];
        v[k] = 0.999f * v[k] + 0.001f * g[k] * g[k];
        x[k] -= (float)(lr * (m[k] / c1) / (sqrt(v[k] / c2) + 1e-8));
    }
}

static void student_free(student *s)
{
    lpnas_net_free(s->net);
    free(s->A), free(s->gA), free(s->m), free(s->v), free(s->dy), free(s->keep);
    memset(s, 0, sizeof *s);
}

/* The student for position i and candidate block b, the teacher's prefix copied in. */
static lpnas_status student_make(lpnas_net *teacher, int i, const lpnas_stage *b, int batch, uint64_t seed,
                                 student *s)
{
    memset(s, 0, sizeof *s);
    lpnas_arch a = teacher->arch;
    a.stages = i + 1;
    a.stage[i] = *b;
    for (int k = 0; k <= i; k++)
        a.stage[k].wfmt = LPNAS_WFMT_DEFAULT; /* the formats are applied after training */
    lpnas_net_options no = {batch, teacher->h, teacher->w, seed};
    lpnas_status st = lpnas_net_create(&a, &no, &s->net);
    if (st)
        return st;
    lpnas_net *net = s->net;
    int prev = i ? net->g.stage_end[i - 1] : 0;
    for (int k = 0; k <= prev; k++) { /* the shared prefix, by construction; checked, cheaply */
        const lpnas_node *x = &net->g.node[k], *y = &teacher->g.node[k];
        if (x->kind != y->kind || x->c != y->c || x->h != y->h || x->params != y->params)
            return lpnas_fail(LPNAS_ERR_ARG, "blockwise: student and teacher differ at node %d", k);
    }
    s->first = prev + 1, s->last = net->g.stage_end[i];
    s->p0 = prefix_params(net, prev), s->p1 = prefix_params(net, s->last);
    memcpy(net->params, teacher->params, s->p0 * sizeof *net->params);
    memcpy(net->buffers, teacher->buffers, prefix_buffers(net, prev) * sizeof *net->buffers);
    memcpy(net->mean, teacher->mean, sizeof net->mean);
    memcpy(net->std, teacher->std, sizeof net->std);
    const lpnas_node *out = &net->g.node[s->last];
    s->ct = teacher->g.node[teacher->g.stage_end[i]].c, s->cb = out->c, s->hw = out->h * out->w;
    size_t na = (size_t)s->ct * s->cb, np = s->p1 - s->p0;
    s->A = calloc(na, sizeof *s->A), s->gA = calloc(na, sizeof *s->gA);
    s->m = calloc(np + na, sizeof *s->m), s->v = calloc(np + na, sizeof *s->v);
    s->dy = calloc((size_t)batch * s->ct * s->hw, sizeof *s->dy);
    s->keep = calloc(np + 1, sizeof *s->keep);
    if (!s->A || !s->gA || !s->m || !s->v || !s->dy || !s->keep)
        return lpnas_fail(LPNAS_ERR_NOMEM, "blockwise: out of memory");
    for (int c = 0; c < s->ct && c < s->cb; c++)
        s->A[(size_t)c * s->cb + c] = 1; /* the identity where the widths meet: an equal-width block starts as a copy */
    return LPNAS_OK;
}

static void train_step(student *s, lpnas_net *teacher, int i, const float *images, int n, double lr)
{
    lpnas_net *net = s->net;
    int te = teacher->g.stage_end[i];
    forward_to(teacher, images, n, te, te + 1);
    forward_to(net, images, n, s->last, s->first);
    const float *f = net->acts + net->s[s->last].act, *t = teacher->acts + teacher->s[te].act;
    double tt = 0;
    adapt(s, f, t, n, &tt, true);
    memset(net->dacts, 0, net->nacts * sizeof *net->dacts);
    memset(net->grads, 0, net->nparams * sizeof *net->grads);
    adapt_backward(s, f, net->dacts + net->s[s->last].act, n);
    for (int k = s->last; k >= s->first; k--)
        lpnas_net_backward_node(net, k, n, net->params, net->acts + net->s[net->g.node[k].in[0]].act, NULL, false);
    s->step++;
    size_t np = s->p1 - s->p0;
    adam(net->params + s->p0, net->grads + s->p0, s->m, s->v, np, lr, s->step);
    adam(s->A, s->gA, s->m + np, s->v + np, (size_t)s->ct * s->cb, lr, s->step);
}

/* Validation loss: sum (A f - t)^2 / sum t^2, everything in evaluation mode. */
static double val_loss(student *s, lpnas_net *teacher, int i, const lpnas_dataset *d, const int *val, int nval,
                       float *images, int batch)
{
    int te = teacher->g.stage_end[i];
    double rr = 0, tt = 0;
    for (int at = 0; at < nval; at += batch) {
        int n = nval - at < batch ? nval - at : batch;
        gather(d, val + at, n, images);
        forward_to(teacher, images, n, te, te + 1);
        forward_to(s->net, images, n, s->last, s->last + 1);
        rr += adapt(s, s->net->acts + s->net->s[s->last].act, teacher->acts + teacher->s[te].act, n, &tt, false);
    }
    return tt > 0 ? rr / tt : rr;
}

/* One table row: train candidate b at position i, then its loss per format. */
static lpnas_status kd_entry(lpnas_net *teacher, const lpnas_dataset *d, const int *train, int ntrain,
                             const int *val, int nval, int i, int b, const lpnas_blockwise_kd_options *o,
                             lpnas_blockwise_kd_table *t, float *images, int batch)
{
    student s;
    lpnas_rng r;
    lpnas_rng_derive(&r, o->seed, 0xb10c, (uint64_t)(i * LPNAS_BLOCKWISE_MAX_CANDS + b));
    lpnas_status st = student_make(teacher, i, &t->cands.cand[i][b], batch, lpnas_rng_u64(&r), &s);
    int pick[4096];
    for (int step = 0; !st && step < o->steps; step++) {
        int n = o->batch;
        for (int k = 0; k < n; k++)
            pick[k] = train[lpnas_rng_below(&r, (uint64_t)ntrain)];
        gather(d, pick, n, images);
        train_step(&s, teacher, i, images, n, o->lr);
    }
    size_t np = s.p1 - s.p0;
    if (!st)
        memcpy(s.keep, s.net->params + s.p0, np * sizeof *s.keep);
    for (int j = 0; !st && j < t->nfmt; j++) {
        for (int k = s.first; k <= s.last; k++)
            if (s.net->g.node[k].kind == LPNAS_NODE_CONV)
                s.net->g.node[k].wfmt = (int)t->fmt[j];
        st = lpnas_net_round_stage_weights(s.net, NULL);
        if (!st)
            t->loss[i][b][j] = val_loss(&s, teacher, i, d, val, nval, images, batch);
        for (int k = s.first; k <= s.last; k++)
            s.net->g.node[k].wfmt = LPNAS_WFMT_DEFAULT;
        memcpy(s.net->params + s.p0, s.keep, np * sizeof *s.keep); /* the FP32-trained block again */
    }
    student_free(&s);
    if (st)
        lpnas_error_prefix("blockwise: position %d, candidate %d: ", i + 1, b + 1);
    return st;
}

lpnas_status lpnas_blockwise_kd_build(lpnas_net *teacher, const lpnas_dataset *d, const int *train, int ntrain,
                                      const int *val, int nval, const lpnas_wfmt *fmt, int nfmt,
                                      const lpnas_blockwise_cands *cands, const lpnas_blockwise_kd_options *o,
                                      lpnas_blockwise_kd_table *out)
{
    lpnas_blockwise_kd_options def;
    if (!o) {
        lpnas_blockwise_kd_options_default(&def);
        o = &def;
    }
    if (!teacher || !d || !train || ntrain < 1 || !val || nval < 1 || !fmt || nfmt < 1 || nfmt > LPNAS_WFMT_COUNT ||
        !cands || !out)
        return lpnas_fail(LPNAS_ERR_ARG, "blockwise: need a teacher, training and validation tiles, 1..%d formats "
                                         "and candidates", LPNAS_WFMT_COUNT);
    if (o->steps < 0 || o->batch < 1 || o->batch > 4096 || !(o->lr > 0))
        return lpnas_fail(LPNAS_ERR_ARG, "blockwise: steps %d, batch %d, lr %g (need >= 0, 1..4096, > 0)", o->steps,
                          o->batch, o->lr);
    int tb, th, tw;
    lpnas_net_size(teacher, &tb, &th, &tw);
    if (lpnas_dataset_height(d) != th || lpnas_dataset_width(d) != tw ||
        lpnas_dataset_channels(d) != teacher->arch.in_channels)
        return lpnas_fail(LPNAS_ERR_ARG, "blockwise: tiles %dx%dx%d, the teacher takes %dx%dx%d",
                          lpnas_dataset_channels(d), lpnas_dataset_height(d), lpnas_dataset_width(d),
                          teacher->arch.in_channels, th, tw);
    memset(out, 0, sizeof *out);
    out->stages = teacher->arch.stages, out->nfmt = nfmt, out->cands = *cands;
    for (int j = 0; j < nfmt; j++) {
        if ((unsigned)fmt[j] >= LPNAS_WFMT_COUNT || fmt[j] == LPNAS_WFMT_DEFAULT)
            return lpnas_fail(LPNAS_ERR_ARG, "blockwise: format %d: need f16, w8 or w4", (int)fmt[j]);
        out->fmt[j] = fmt[j];
    }
    for (int i = 0; i < out->stages; i++) {
        if (cands->ncand[i] < 1 || cands->ncand[i] > LPNAS_BLOCKWISE_MAX_CANDS)
            return lpnas_fail(LPNAS_ERR_ARG, "blockwise: position %d has %d candidates (need 1..%d)", i + 1,
                              cands->ncand[i], LPNAS_BLOCKWISE_MAX_CANDS);
        for (int b = 0; b < cands->ncand[i]; b++) {
            out->cands.cand[i][b].wfmt = LPNAS_WFMT_DEFAULT;
            lpnas_arch a = teacher->arch;
            a.stage[i] = out->cands.cand[i][b];
            if (lpnas_arch_check(&a)) {
                lpnas_error_prefix("blockwise: position %d, candidate %d: ", i + 1, b + 1);
                return LPNAS_ERR_ARG;
            }
        }
    }
    int batch = o->batch > 16 ? o->batch : 16; /* evaluation batches may be larger than training ones */
    float *images = malloc((size_t)batch * teacher->arch.in_channels * th * tw * sizeof *images);
    if (!images)
        return lpnas_fail(LPNAS_ERR_NOMEM, "blockwise: out of memory");
    lpnas_status st = LPNAS_OK;
    /* the teacher's own tensors must hold an evaluation batch: a copy with room for it */
    lpnas_net *tc = NULL;
    lpnas_net_options no = {batch, th, tw, 1};
    if ((st = lpnas_net_create(&teacher->arch, &no, &tc))) {
        free(images);
        return st;
    }
    memcpy(tc->params, teacher->params, teacher->nparams * sizeof *tc->params);
    memcpy(tc->buffers, teacher->buffers, teacher->nbuffers * sizeof *tc->buffers);
    memcpy(tc->mean, teacher->mean, sizeof tc->mean);
    memcpy(tc->std, teacher->std, sizeof tc->std);
    int total = 0;
    for (int i = 0; i < out->stages; i++)
        total += cands->ncand[i];
    for (int i = 0; !st && i < out->stages; i++)
        for (int b = 0; !st && b < cands->ncand[i]; b++) {
            st = kd_entry(tc, d, train, ntrain, val, nval, i, b, o, out, images, batch);
            out->trained++;
            if (!st && o->progress)
                o->progress(o->progress_user, (int)out->trained, total);
        }
    lpnas_net_free(tc);
    free(images);
    return st;
}

/* ---- the search over the table ----------------------------------------- */

typedef struct {
    const lpnas_blockwise_kd_table *t;
    const lpnas_arch *teacher;
    const lpnas_blockwise_budget *b;
    int order[LPNAS_ARCH_MAX_STAGES][LPNAS_BLOCKWISE_MAX_CANDS * LPNAS_WFMT_COUNT]; /* choices by loss */
    int nchoice[LPNAS_ARCH_MAX_STAGES];
    double rest[LPNAS_ARCH_MAX_STAGES + 1]; /* least loss the positions from i on can add */
    int cur[LPNAS_ARCH_MAX_STAGES];
    lpnas_blockwise_choice *best;
    bool found;
    lpnas_status st;
} kd_search;

static double choice_loss(const kd_search *k, int i, int c)
{
    return k->t->loss[i][c / k->t->nfmt][c % k->t->nfmt];
}

static lpnas_arch assemble(const kd_search *k)
{
    lpnas_arch a = *k->teacher;
    for (int i = 0; i < k->t->stages; i++) {
        a.stage[i] = k->t->cands.cand[i][k->cur[i] / k->t->nfmt];
        a.stage[i].wfmt = k->t->fmt[k->cur[i] % k->t->nfmt];
    }
    return a;
}

/* The assembled network's latency with its per-stage weight bits. */
static lpnas_status arch_latency(const lpnas_blockwise_budget *b, const lpnas_arch *a, double *ms)
{
    lpnas_layer_list l;
    lpnas_status st = lpnas_arch_layers(a, b->h, b->w, &l);
    if (st)
        return st;
    int *bits = malloc((l.count ? l.count : 1) * sizeof *bits);
    if (!bits)
        st = lpnas_fail(LPNAS_ERR_NOMEM, "blockwise: out of memory");
    if (!st)
        st = lpnas_arch_layer_wbits(a, b->h, b->w, bits, l.count);
    if (!st)
        st = lpnas_latency_estimate_wbits(b->latency, &l, bits, NULL, ms);
    free(bits);
    lpnas_layer_list_free(&l);
    return st;
}

static void leaf(kd_search *k, double loss)
{
    lpnas_arch a = assemble(k);
    long long wb;
    double ms = NAN;
    k->best->visited++;
    if ((k->st = lpnas_arch_weight_bytes(&a, k->b->default_bits, &wb)))
        return;
    if (k->b->max_weight_bytes > 0 && wb > k->b->max_weight_bytes)
        return;
    if (k->b->latency && (k->st = arch_latency(k->b, &a, &ms)))
        return;
    if (k->b->max_ms > 0 && ms > k->b->max_ms)
        return;
    lpnas_blockwise_choice *c = k->best;
    c->arch = a, c->loss = loss, c->latency_ms = ms, c->weight_bytes = wb;
    for (int i = 0; i < k->t->stages; i++)
        c->cand[i] = k->cur[i] / k->t->nfmt, c->fmt[i] = k->cur[i] % k->t->nfmt;
    k->found = true;
}

/* Depth first in loss order; a branch that cannot beat the best found is cut
 * (>=: among equal sums the first found, the earlier choices, stays). */
static void descend(kd_search *k, int i, double loss)
{
    if (k->st || (k->found && loss + k->rest[i] >= k->best->loss))
        return;
    if (i == k->t->stages) {
        leaf(k, loss);
        return;
    }
    for (int c = 0; c < k->nchoice[i] && !k->st; c++) {
        k->cur[i] = k->order[i][c];
        descend(k, i + 1, loss + choice_loss(k, i, k->cur[i]));
    }
}

lpnas_status lpnas_blockwise_kd_search(const lpnas_blockwise_kd_table *t, const lpnas_arch *teacher_arch,
                                       const lpnas_blockwise_budget *b, lpnas_blockwise_choice *out)
{
    if (!t || !teacher_arch || !b || !out || teacher_arch->stages != t->stages || t->nfmt < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "blockwise: the table has %d positions, the architecture %d stages",
                          t ? t->stages : 0, teacher_arch ? teacher_arch->stages : 0);
    if (b->max_ms > 0 && !b->latency)
        return lpnas_fail(LPNAS_ERR_ARG, "blockwise: a latency budget needs a latency model");
    kd_search *k = calloc(1, sizeof *k);
    if (!k)
        return lpnas_fail(LPNAS_ERR_NOMEM, "blockwise: out of memory");
    memset(out, 0, sizeof *out);
    k->t = t, k->teacher = teacher_arch, k->b = b, k->best = out;
    for (int i = 0; i < t->stages; i++) {
        int n = t->cands.ncand[i] * t->nfmt;
        k->nchoice[i] = n;
        for (int c = 0; c < n; c++) { /* insertion sort by loss; stable, so ties keep the table's order */
            int j = c;
            while (j > 0 && choice_loss(k, i, k->order[i][j - 1]) > choice_loss(k, i, c)) {
                k->order[i][j] = k->order[i][j - 1];
                j--;
            }
            k->order[i][j] = c;
        }
    }
    for (int i = t->stages - 1; i >= 0; i--)
        k->rest[i] = k->rest[i + 1] + choice_loss(k, i, k->order[i][0]);
    descend(k, 0, 0);
    lpnas_status st = k->st;
    bool found = k->found;
    free(k);
    if (st)
        return st;
    if (!found)
        return lpnas_fail(LPNAS_ERR_INFEASIBLE,
                          "blockwise: no assignment of the table fits the budgets (%.3f ms, %lld weight bytes; "
                          "%lld assignments checked)",
                          b->max_ms, b->max_weight_bytes, out->visited);
    return LPNAS_OK;
}
