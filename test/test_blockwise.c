/* The block-wise distillation table (include/lpnas/blockwise.h, issue 18):
 * built on a tiny teacher, every entry finite, training lowers every
 * candidate's loss, the same inputs give the same table bits; the search
 * over the table against a brute-force enumeration written here, under
 * size and latency budgets, and its refusals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "lpnas/blockwise.h"
#include "lpnas/data.h"
#include "lpnas/device.h"
#include "lpnas/train.h"

#define TINY "in3-c8x1k3-c16x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu"

static lpnas_stage st(lpnas_block_type t, int width, int kernel, int exp)
{
    lpnas_stage s = {t, width, 1, kernel, exp, LPNAS_WFMT_DEFAULT};
    return s;
}

/* position 1: the teacher's block, a separable one, a wider one; position 2:
 * the teacher's, an inverted residual, a narrower plain one */
static lpnas_blockwise_cands cands(void)
{
    lpnas_blockwise_cands c;
    memset(&c, 0, sizeof c);
    c.ncand[0] = 3, c.ncand[1] = 3;
    c.cand[0][0] = st(LPNAS_BLOCK_PLAIN, 8, 3, 0);
    c.cand[0][1] = st(LPNAS_BLOCK_SEPARABLE, 8, 3, 0);
    c.cand[0][2] = st(LPNAS_BLOCK_PLAIN, 16, 3, 0);
    c.cand[1][0] = st(LPNAS_BLOCK_PLAIN, 16, 3, 0);
    c.cand[1][1] = st(LPNAS_BLOCK_INVERTED, 16, 3, 2);
    c.cand[1][2] = st(LPNAS_BLOCK_PLAIN, 8, 5, 0);
    return c;
}

typedef struct {
    lpnas_dataset *d;
    lpnas_net *teacher;
    lpnas_arch arch;
    int tr[16], va[8];
} fixture;

static void fixture_make(fixture *f)
{
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 24, so.size = 32;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &f->d), LPNAS_OK);
    for (int i = 0; i < 16; i++)
        f->tr[i] = i;
    for (int i = 0; i < 8; i++)
        f->va[i] = 16 + i;
    ck_assert_int_eq(lpnas_arch_parse(TINY, &f->arch), LPNAS_OK);
    lpnas_net_options no = {4, 32, 32, 3};
    ck_assert_int_eq(lpnas_net_create(&f->arch, &no, &f->teacher), LPNAS_OK);
    float mean[16], std[16];
    ck_assert_int_eq(lpnas_dataset_channel_stats(f->d, f->tr, 16, mean, std), LPNAS_OK);
    ck_assert_int_eq(lpnas_net_set_normalization(f->teacher, mean, std), LPNAS_OK);
    lpnas_train_options to;
    lpnas_train_options_default(&to);
    to.steps = 20, to.batch = 4, to.lr = 3e-3;
    lpnas_train_result r;
    ck_assert_int_eq(lpnas_train(f->teacher, f->d, f->tr, 16, &to, &r), LPNAS_OK);
}

static void fixture_free(fixture *f)
{
    lpnas_net_free(f->teacher);
    lpnas_dataset_free(f->d);
}

static const lpnas_wfmt FMT[2] = {LPNAS_WFMT_W8, LPNAS_WFMT_W4};

typedef struct {
    int calls, last_done, total;
} progress_seen;

/* Each call reports one more block than the last, out of the same total. */
static void count_progress(void *user, int done, int total)
{
    progress_seen *p = user;
    ck_assert_int_eq(done, p->last_done + 1);
    ck_assert(p->calls == 0 || total == p->total);
    p->calls++, p->last_done = done, p->total = total;
}

static void build(fixture *f, int steps, lpnas_blockwise_kd_table *t)
{
    lpnas_blockwise_cands c = cands();
    lpnas_blockwise_kd_options o;
    lpnas_blockwise_kd_options_default(&o);
    ck_assert(o.progress == NULL);
    progress_seen seen = {0, 0, 0};
    o.steps = steps, o.batch = 4, o.seed = 7, o.progress = count_progress, o.progress_user = &seen;
    ck_assert_msg(lpnas_blockwise_kd_build(f->teacher, f->d, f->tr, 16, f->va, 8, FMT, 2, &c, &o, t) == LPNAS_OK, "%s",
                  lpnas_last_error());
    /* once per candidate block: 3 at each of 2 positions */
    ck_assert_int_eq(seen.calls, 6);
    ck_assert_int_eq(seen.total, 6);
    ck_assert_int_eq(seen.last_done, (int)t->trained);
}

START_TEST(table_built_and_deterministic)
{
    fixture f;
    fixture_make(&f);
    lpnas_blockwise_kd_table t0, t1, t2;
    build(&f, 0, &t0);
    build(&f, 30, &t1);
    build(&f, 30, &t2);
    ck_assert_int_eq(t1.stages, 2);
    ck_assert_int_eq(t1.trained, 6);
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 3; b++)
            for (int j = 0; j < 2; j++) {
                double l0 = t0.loss[i][b][j], l1 = t1.loss[i][b][j];
                ck_assert_msg(isfinite(l1) && l1 >= 0 && isfinite(l0), "position %d cand %d fmt %d: %g", i, b, j, l1);
                /* training on the distillation loss lowers it: the gradient goes the right way */
                ck_assert_msg(l1 < l0, "position %d cand %d fmt %d: trained %g, untrained %g", i, b, j, l1, l0);
                /* the same inputs, the same bits */
                ck_assert_msg(memcmp(&t1.loss[i][b][j], &t2.loss[i][b][j], sizeof(double)) == 0,
                              "position %d cand %d fmt %d: %a vs %a", i, b, j, l1, t2.loss[i][b][j]);
            }
    /* 8-bit weights are closer to the FP32-trained block than 4-bit ones, on average */
    double s8 = 0, s4 = 0;
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 3; b++)
            s8 += t1.loss[i][b][0], s4 += t1.loss[i][b][1];
    ck_assert_msg(s8 < s4, "w8 %g, w4 %g", s8, s4);
    /* bad input: named */
    lpnas_blockwise_cands c = cands();
    c.ncand[1] = 0;
    ck_assert_int_eq(lpnas_blockwise_kd_build(f.teacher, f.d, f.tr, 16, f.va, 8, FMT, 2, &c, NULL, &t2), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "position 2 has 0 candidates"));
    c = cands();
    c.cand[0][1].kernel = 4;
    ck_assert_int_eq(lpnas_blockwise_kd_build(f.teacher, f.d, f.tr, 16, f.va, 8, FMT, 2, &c, NULL, &t2), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "position 1, candidate 2"));
    lpnas_wfmt bad = LPNAS_WFMT_DEFAULT;
    ck_assert_int_eq(lpnas_blockwise_kd_build(f.teacher, f.d, f.tr, 16, f.va, 8, &bad, 1, &c, NULL, &t2), LPNAS_ERR_ARG);
    fixture_free(&f);
}
END_TEST

/* The reference: every assignment, its network's size and latency computed
 * here, the least loss that fits (first in position-major order on ties). */
static bool brute_force(const lpnas_blockwise_kd_table *t, const lpnas_arch *teacher, const lpnas_blockwise_budget *b,
                        double *loss, lpnas_arch *best)
{
    bool found = false;
    int n0 = t->cands.ncand[0] * t->nfmt, n1 = t->cands.ncand[1] * t->nfmt;
    for (int x = 0; x < n0; x++)
        for (int y = 0; y < n1; y++) {
            lpnas_arch a = *teacher;
            a.stage[0] = t->cands.cand[0][x / t->nfmt], a.stage[0].wfmt = t->fmt[x % t->nfmt];
            a.stage[1] = t->cands.cand[1][y / t->nfmt], a.stage[1].wfmt = t->fmt[y % t->nfmt];
            double l = t->loss[0][x / t->nfmt][x % t->nfmt] + t->loss[1][y / t->nfmt][y % t->nfmt];
            long long wb;
            ck_assert_int_eq(lpnas_arch_weight_bytes(&a, b->default_bits, &wb), LPNAS_OK);
            if (b->max_weight_bytes > 0 && wb > b->max_weight_bytes)
                continue;
            if (b->max_ms > 0) {
                lpnas_layer_list l2;
                int bits[256];
                double ms;
                ck_assert_int_eq(lpnas_arch_layers(&a, b->h, b->w, &l2), LPNAS_OK);
                ck_assert(l2.count <= 256);
                ck_assert_int_eq(lpnas_arch_layer_wbits(&a, b->h, b->w, bits, l2.count), LPNAS_OK);
                ck_assert_int_eq(lpnas_latency_estimate_wbits(b->latency, &l2, bits, NULL, &ms), LPNAS_OK);
                lpnas_layer_list_free(&l2);
                if (ms > b->max_ms)
                    continue;
            }
            if (!found || l < *loss)
                *loss = l, *best = a, found = true;
        }
    return found;
}

START_TEST(search_respects_budgets)
{
    fixture f;
    fixture_make(&f);
    lpnas_blockwise_kd_table t;
    build(&f, 10, &t);
    lpnas_latency_model *m;
    ck_assert_int_eq(lpnas_device_latency_model(LPNAS_DEVICE_IMX8MP, &m), LPNAS_OK);
    lpnas_blockwise_budget b = {m, 0, 0, 8, 32, 32};
    lpnas_blockwise_choice c;
    ck_assert_msg(lpnas_blockwise_kd_search(&t, &f.arch, &b, &c) == LPNAS_OK, "%s", lpnas_last_error());
    /* no budget: each position's least loss */
    double want = 0;
    for (int i = 0; i < 2; i++) {
        double lo = INFINITY;
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 2; j++)
                lo = fmin(lo, t.loss[i][k][j]);
        want += lo;
    }
    ck_assert_double_eq_tol(c.loss, want, 1e-12);
    long long full = c.weight_bytes;
    double full_ms = c.latency_ms;
    /* budgets that bind: the search equals the enumeration, and fits */
    const double ms_frac[3] = {0, 0.97, 0.9};
    const double wb_frac[3] = {0.8, 0, 0.9};
    for (int k = 0; k < 3; k++) {
        b.max_ms = ms_frac[k] * full_ms, b.max_weight_bytes = (long long)(wb_frac[k] * (double)full);
        double ref;
        lpnas_arch ra;
        bool ok = brute_force(&t, &f.arch, &b, &ref, &ra);
        lpnas_status s = lpnas_blockwise_kd_search(&t, &f.arch, &b, &c);
        ck_assert_int_eq(s, ok ? LPNAS_OK : LPNAS_ERR_INFEASIBLE);
        if (!ok)
            continue;
        char x[512], y[512];
        lpnas_arch_format(&c.arch, x, sizeof x), lpnas_arch_format(&ra, y, sizeof y);
        ck_assert_msg(c.loss == ref, "case %d: search %s (%g), enumeration %s (%g)", k, x, c.loss, y, ref);
        ck_assert(b.max_weight_bytes <= 0 || c.weight_bytes <= b.max_weight_bytes);
        ck_assert(b.max_ms <= 0 || c.latency_ms <= b.max_ms);
        ck_assert(c.loss >= want);
        ck_assert(c.visited >= 1);
    }
    /* nothing fits */
    b.max_ms = 0, b.max_weight_bytes = 100;
    ck_assert_int_eq(lpnas_blockwise_kd_search(&t, &f.arch, &b, &c), LPNAS_ERR_INFEASIBLE);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "100 weight bytes"));
    b.latency = NULL, b.max_ms = 1;
    ck_assert_int_eq(lpnas_blockwise_kd_search(&t, &f.arch, &b, &c), LPNAS_ERR_ARG);
    lpnas_arch three;
    ck_assert_int_eq(lpnas_arch_preset("paper96k", &three), LPNAS_OK);
    b.latency = m;
    ck_assert_int_eq(lpnas_blockwise_kd_search(&t, &three, &b, &c), LPNAS_ERR_ARG);
    lpnas_latency_model_free(m);
    fixture_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("blockwise");
    TCase *t = lpnas_tcase("blockwise");
    tcase_add_test(t, table_built_and_deterministic);
    tcase_add_test(t, search_respects_budgets);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
