/* blockwise --mode distill: the distillation table over candidate blocks
 * and formats (lpnas_blockwise_kd_*), the search over it under the device's
 * latency and size budgets, and the chosen network trained and measured
 * like a search candidate (FP32 warm-up, stage weights on their grids,
 * post-hoc mIoU in the policy), beside the teacher measured the same way. */
#include "distill.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Per position: plain, depthwise-separable and inverted residual (e4) blocks
 * at half, the same and 1.5 times the teacher's width (multiples of 8, at
 * most 64: the search space's widths), the teacher's kernel and blocks. */
static void make_cands(const lpnas_arch *t, lpnas_blockwise_cands *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < t->stages; i++) {
        int w = t->stage[i].width, ws[3] = {w / 2, w, w + w / 2}, n = 0;
        for (int k = 0; k < 3; k++) {
            int x = (ws[k] + 4) / 8 * 8;
            x = x < 8 ? 8 : x > 64 ? 64 : x;
            if (k > 0 && x == ws[k - 1]) /* already listed (a clamp or rounding made them equal) */
                continue;
            ws[k] = x;
            const lpnas_block_type ty[3] = {LPNAS_BLOCK_PLAIN, LPNAS_BLOCK_SEPARABLE, LPNAS_BLOCK_INVERTED};
            for (int j = 0; j < 3; j++) {
                lpnas_stage s = {ty[j], x, t->stage[i].blocks, t->stage[i].kernel, ty[j] == LPNAS_BLOCK_INVERTED ? 4 : 0,
                                 LPNAS_WFMT_DEFAULT};
                c->cand[i][n++] = s;
            }
        }
        c->ncand[i] = n;
    }
}

/* FP32 training from scratch, then FP32 and post-hoc mIoU with the stage
 * weights on their grids (the search's candidate pipeline with no fine-tune). */
static int train_and_measure(const lpnas_arch *a, const char *label, const distill_args *g, double *fp32,
                             double *posthoc)
{
    lpnas_net_options no = {16, lpnas_dataset_height(g->d), lpnas_dataset_width(g->d), g->seed};
    lpnas_net *net;
    lpnas_train_options to;
    lpnas_train_options_default(&to);
    to.steps = g->steps, to.batch = 16, to.seed = g->seed;
    to.progress = blockwise_train_progress, to.user = (void *)label;
    to.progress_every = blockwise_progress_every(to.steps);
    lpnas_train_result tr;
    lpnas_eval_result e;
    if (lpnas_net_create(a, &no, &net))
        return 1;
    int nc = g->nv < 64 ? g->nv : 64;
    size_t per = (size_t)lpnas_dataset_channels(g->d) * lpnas_dataset_height(g->d) * lpnas_dataset_width(g->d);
    float *x = malloc((size_t)nc * per * sizeof *x);
    for (int i = 0; x && i < nc; i++)
        memcpy(x + (size_t)i * per, lpnas_dataset_image(g->d, g->va[i]), per * sizeof *x);
    int rc = !x || lpnas_net_set_normalization(net, g->mean, g->std) || lpnas_train(net, g->d, g->tr, g->nt, &to, &tr) ||
             lpnas_evaluate(net, g->d, g->va, g->nv, NULL, &e);
    if (!rc) {
        *fp32 = e.miou;
        rc = lpnas_net_round_stage_weights(net, NULL) ||
             (lpnas_policy_is_integer(g->pol) && lpnas_net_calibrate(net, x, nc, g->pol, NULL)) ||
             lpnas_evaluate(net, g->d, g->va, g->nv, g->pol, &e);
        *posthoc = e.miou;
    }
    free(x);
    lpnas_net_free(net);
    return rc;
}

static void block_progress(void *user, int done, int total)
{
    fprintf(stderr, "blockwise: distillation table %d/%d candidate blocks, %.0f s\n", done, total,
            now() - *(const double *)user);
}

int blockwise_distill(const distill_args *g)
{
    lpnas_blockwise_cands c;
    make_cands(g->arch, &c);
    lpnas_blockwise_kd_options o;
    lpnas_blockwise_kd_options_default(&o);
    o.steps = g->kd_steps, o.seed = g->seed;
    lpnas_blockwise_kd_table *t = malloc(sizeof *t);
    double t0 = now();
    o.progress = block_progress, o.progress_user = &t0;
    if (!t || lpnas_blockwise_kd_build(g->teacher, g->d, g->tr, g->nt, g->va, g->nv, g->fmt, g->nfmt, &c, &o, t)) {
        fprintf(stderr, "blockwise: %s\n", t ? lpnas_last_error() : "out of memory");
        free(t);
        return 1;
    }
    double t1 = now();
    printf("distillation table: %lld candidate blocks trained %d steps each, %.1f s\n", t->trained, o.steps, t1 - t0);
    printf("position  block           ");
    for (int j = 0; j < t->nfmt; j++)
        printf("  loss %-4s", lpnas_wfmt_name(t->fmt[j]));
    printf("\n");
    for (int i = 0; i < t->stages; i++)
        for (int b = 0; b < c.ncand[i]; b++) {
            const lpnas_stage *s = &c.cand[i][b];
            char name[64];
            snprintf(name, sizeof name, "%c%dx%dk%d", "csr"[s->type], s->width, s->blocks, s->kernel);
            if (s->type == LPNAS_BLOCK_INVERTED)
                snprintf(name + strlen(name), sizeof name - strlen(name), "e%d", s->expansion);
            printf("%8d  %-16s", i + 1, name);
            for (int j = 0; j < t->nfmt; j++)
                printf("  %9.4f", t->loss[i][b][j]);
            printf("\n");
        }
    lpnas_blockwise_budget b = {g->latency, g->max_ms, g->max_weight_bytes, g->bits, lpnas_dataset_height(g->d),
                                lpnas_dataset_width(g->d)};
    lpnas_blockwise_choice ch;
    double t2 = now();
    lpnas_status st = lpnas_blockwise_kd_search(t, g->arch, &b, &ch);
    double t3 = now();
    free(t);
    if (st) {
        fprintf(stderr, "%s\n", lpnas_last_error());
        return 1;
    }
    char s[512];
    lpnas_arch_format(&ch.arch, s, sizeof s);
    printf("search    %lld assignments checked, %.3f s\n", ch.visited, t3 - t2);
    printf("choice    %s\n          loss %.4f, %.3f ms (budget %s), %lld weight bytes (budget %s)\n", s, ch.loss,
           ch.latency_ms, g->max_ms > 0 ? "set" : "none", ch.weight_bytes, g->max_weight_bytes > 0 ? "set" : "none");
    if (!g->measure)
        return 0;
    double f32, ph, tf32, tph;
    if (train_and_measure(&ch.arch, "choice", g, &f32, &ph) ||
        train_and_measure(g->arch, "teacher", g, &tf32, &tph)) {
        fprintf(stderr, "blockwise: %s\n", lpnas_last_error());
        return 1;
    }
    printf("measured  choice  mIoU FP32 %.4f, post-hoc %.4f (%d FP32 steps from scratch)\n", f32, ph, g->steps);
    printf("measured  teacher mIoU FP32 %.4f, post-hoc %.4f (the same)\n", tf32, tph);
    return 0;
}
