/* The search loop with a cheap stand-in problem: results identical for 1
 * and 2 workers; a child killed with SIGKILL mid-search and resumed ends
 * with the same results as an uninterrupted run; duplicates are never
 * evaluated twice; failures are recorded and the search goes on; an empty
 * feasible region ends with a clear status; stop requests save. The median
 * pruner: checkpoints, medians over finished and pruned candidates (pruned
 * ones at their last value from where they stopped), no effect on
 * the results when it prunes nothing, pruned rows recorded and kept as
 * pruned through a resume, never the best. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "check_util.h"
#include "lpnas.h"
#include "nas/prune.h"
#include "nas/runner.h"
#include "nas/space.h"

typedef struct {
    lpnas_space space;
    atomic_int evaluations;
    int delay_us;
    long max_params;
} fake;

static lpnas_status precheck(void *ctx, lpnas_candidate *c, bool *feasible)
{
    fake *f = ctx;
    lpnas_space_identity(&f->space, &c->genome, c->arch, sizeof c->arch);
    lpnas_arch a;
    lpnas_space_decode(&f->space, &c->genome, &a, NULL);
    lpnas_arch_stats s;
    lpnas_status st = lpnas_arch_stats_compute(&a, 16, 16, &s);
    if (st)
        return st;
    c->params = s.params, c->flops = 2 * s.macs, c->peak_bytes = s.peak_act_bytes_device;
    c->latency_ms = (double)s.macs / 1e6;
    *feasible = c->params <= f->max_params;
    if (!*feasible) {
        snprintf(c->reason, sizeof c->reason, "%lld parameters > %ld", (long long)c->params, f->max_params);
        c->outcome.point.violation = (double)(c->params - f->max_params);
    }
    return LPNAS_OK;
}

/* a smooth made-up accuracy: favours ~24-wide stages, 3 stages, kernel 3 */
static lpnas_status evaluate(void *ctx, lpnas_candidate *c, uint64_t seed, const atomic_int *stop)
{
    fake *f = ctx;
    atomic_fetch_add(&f->evaluations, 1);
    if (f->delay_us)
        usleep((useconds_t)f->delay_us);
    if (atomic_load(stop))
        return LPNAS_ERR_INTERRUPTED;
    lpnas_arch a;
    lpnas_space_decode(&f->space, &c->genome, &a, NULL);
    if (a.stage[0].width == 8 && a.stage[0].blocks == 1) /* a family that "diverges" */
        return lpnas_fail(LPNAS_ERR_NUMERIC, "train: loss is nan at step 7");
    double q = 0.9 - 0.02 * abs(a.stages - 3);
    for (int i = 0; i < a.stages; i++)
        q -= 0.0004 * fabs(a.stage[i].width - 24.0) + (a.stage[i].kernel != 3 ? 0.01 : 0);
    q += (double)(seed % 1000) * 1e-6; /* seed-dependent noise: per-candidate seeds must be stable */
    c->miou_fp32 = q, c->miou_posthoc = q - 0.01, c->miou_aligned = q - 0.002, c->vessel_iou = q - 0.3;
    c->status = LPNAS_CAND_OK;
    return LPNAS_OK;
}

static void score(void *ctx, lpnas_candidate *c)
{
    (void)ctx;
    c->outcome.fitness = c->miou_aligned;
    c->outcome.point.obj[0] = -c->miou_aligned;
    c->outcome.point.obj[1] = c->latency_ms;
    c->outcome.point.violation = 0;
}

static fake F;

static lpnas_problem problem(int delay_us)
{
    lpnas_space_options so;
    lpnas_space_options_default(&so);
    so.max_stages = 3;
    lpnas_space_init(&F.space, &so);
    atomic_init(&F.evaluations, 0);
    F.delay_us = delay_us;
    F.max_params = 60000;
    lpnas_problem p = {&F, lpnas_space_operators(&F.space), precheck, evaluate, score, NULL, NULL, NULL, NULL};
    return p;
}

static lpnas_runner_options options(const char *dir, int workers, int budget)
{
    lpnas_runner_options o;
    lpnas_runner_options_default(&o);
    o.strategy.seed = 77;
    o.strategy.n_obj = 2;
    o.budget = budget;
    o.batch = 4;
    o.workers = workers;
    o.out_dir = dir;
    return o;
}

/* results.csv without the seconds column (timing differs run to run) */
static char *results_without_time(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *out = calloc(1, 1 << 20), line[4096];
    while (fgets(line, sizeof line, f)) {
        /* drop field 12 (seconds): count commas outside quotes */
        int field = 0, q = 0;
        char *o = out + strlen(out);
        for (char *p = line; *p; p++) {
            if (*p == '"')
                q = !q;
            if (*p == ',' && !q)
                field++;
            if (field != 11) /* the comma opening field 11 and its text are dropped */
                *o++ = *p;
        }
        *o = 0;
    }
    fclose(f);
    return out;
}

static void run_search(const char *dir, int workers, int budget, bool resume, int delay_us)
{
    lpnas_problem p = problem(delay_us);
    lpnas_runner_options o = options(dir, workers, budget);
    o.resume = resume;
    lpnas_runner *r;
    ck_assert_msg(lpnas_runner_create(&o, &p, &r) == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_status st = lpnas_runner_run(r);
    ck_assert_msg(st == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_runner_free(r);
}

START_TEST(same_results_for_any_worker_count)
{
    char *d1 = lpnas_test_tmpdir(), *d2 = lpnas_test_tmpdir();
    run_search(d1, 1, 24, false, 0);
    run_search(d2, 2, 24, false, 2000);
    char *a = results_without_time(d1), *b = results_without_time(d2);
    ck_assert_msg(strcmp(a, b) == 0 && strlen(a) > 100, "1 and 2 workers differ");
    free(a), free(b);
    lpnas_test_rmdir(d1), lpnas_test_rmdir(d2);
    free(d1), free(d2);
}
END_TEST

static int rows(const char *dir)
{
    char path[512], line[4096];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "r");
    int n = -1;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        n++;
    fclose(f);
    return n;
}

START_TEST(kill_and_resume_equals_straight_run)
{
    char *straight = lpnas_test_tmpdir(), *killed = lpnas_test_tmpdir();
    run_search(straight, 1, 24, false, 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) { /* the child searches slowly until it is killed */
        lpnas_problem p = problem(30000);
        lpnas_runner_options o = options(killed, 1, 24);
        lpnas_runner *r;
        if (lpnas_runner_create(&o, &p, &r) == LPNAS_OK)
            lpnas_runner_run(r);
        _exit(0);
    }
    for (int i = 0; i < 400 && rows(killed) < 9; i++)
        usleep(10000);
    usleep(45000); /* somewhere inside a batch */
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status));
    int before = rows(killed);
    ck_assert_msg(before > 0 && before < 30, "%d rows when killed", before);
    run_search(killed, 2, 24, true, 0);
    char *a = results_without_time(straight), *b = results_without_time(killed);
    ck_assert_msg(strcmp(a, b) == 0, "resumed results differ from the straight run:\n%s\n---\n%s", a, b);
    free(a), free(b);
    lpnas_test_rmdir(straight), lpnas_test_rmdir(killed);
    free(straight), free(killed);
}
END_TEST

START_TEST(duplicates_failures_and_empty_region)
{
    char *dir = lpnas_test_tmpdir();
    lpnas_problem p = problem(0);
    /* a space of a handful of candidates: duplicates must appear and never be evaluated */
    lpnas_space_options so;
    lpnas_space_options_default(&so);
    so.min_stages = so.max_stages = 1;
    so.n_widths = 2, so.max_blocks = 1, so.n_kernels = 1, so.allow_inverted = so.allow_separable = false;
    so.max_dec_blocks = 1, so.n_lrs = 1;
    lpnas_space_init(&F.space, &so);
    p.space = lpnas_space_operators(&F.space);
    lpnas_runner_options o = options(dir, 1, 1000);
    o.max_duplicates = 40;
    lpnas_runner *r;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_OK);
    /* converges: only duplicates left; that is a stop before the budget, said so */
    ck_assert_int_eq(lpnas_runner_run(r), LPNAS_ERR_STOPPED);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "repeated earlier candidates"));
    const lpnas_candidate *c;
    size_t n = lpnas_runner_candidates(r, &c), dups = 0, failed = 0, ok = 0;
    for (size_t i = 0; i < n; i++) {
        dups += c[i].status == LPNAS_CAND_DUPLICATE;
        failed += c[i].status == LPNAS_CAND_FAILED;
        ok += c[i].status == LPNAS_CAND_OK;
        if (c[i].status == LPNAS_CAND_FAILED)
            ck_assert_ptr_nonnull(strstr(c[i].reason, "loss is nan"));
    }
    ck_assert_int_eq((int)atomic_load(&F.evaluations), (int)(ok + failed)); /* never twice */
    ck_assert(dups >= 40 && failed >= 1 && ok >= 1);
    lpnas_runner_free(r);
    lpnas_test_rmdir(dir);
    free(dir);
    /* nothing fits: the search ends with a clear status */
    dir = lpnas_test_tmpdir();
    p = problem(0);
    F.max_params = 10;
    o = options(dir, 1, 10);
    o.max_rejections = 30;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_OK);
    ck_assert_int_eq(lpnas_runner_run(r), LPNAS_ERR_INFEASIBLE);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "feasible region looks empty"));
    lpnas_runner_free(r);
    /* a stop request: interrupted, with what finished saved and resumable */
    p = problem(0);
    o = options(dir, 1, 10);
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_ERR_ARG); /* a search is there: refused */
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "--overwrite"));
    o.overwrite = true;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_OK);
    lpnas_runner_request_stop(r);
    ck_assert_int_eq(lpnas_runner_run(r), LPNAS_ERR_INTERRUPTED);
    lpnas_runner_free(r);
    /* bad options and a resume without a state file */
    o.budget = 0;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_ERR_ARG);
    char other[600];
    snprintf(other, sizeof other, "%s/none", dir);
    o = options(other, 1, 10);
    o.resume = true;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_ERR_IO);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* The real pipeline on a tiny budget: candidates trained, post-hoc and
 * aligned mIoU measured, files written, the best model loadable. */
START_TEST(vessel_search_tiny)
{
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 48, so.size = 32;
    lpnas_dataset *d;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
    int *tr, *va, nt, nv;
    lpnas_dataset_split(d, 0.25, 1, &tr, &nt, &va, &nv);
    lpnas_latency_model *m;
    lpnas_latency_model_myriadx(NULL, &m);
    char *dir = lpnas_test_tmpdir();
    lpnas_search_options o;
    lpnas_search_options_default(&o);
    o.space.max_stages = 2, o.space.n_widths = 2, o.space.max_blocks = 1;
    o.data = d, o.train = tr, o.val = va, o.ntrain = nt, o.nval = nv;
    o.latency = m, o.budget_ms = 50;
    o.warmup_steps = 3, o.finetune_steps = 2, o.batch = 4;
    o.evaluations = 3, o.workers = 2, o.out_dir = dir;
    lpnas_search *s;
    ck_assert_msg(lpnas_search_create(&o, &s) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_msg(lpnas_search_run(s) == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_search_summary sum;
    lpnas_search_summarize(s, &sum);
    ck_assert(sum.evaluated >= 3 && sum.id >= 0);
    ck_assert(sum.miou_fp32 >= 0 && sum.miou_fp32 <= 1 && sum.miou_aligned >= 0 && sum.latency_ms > 0);
    ck_assert_ptr_nonnull(strstr(sum.arch, "|lr="));
    char path[600];
    snprintf(path, sizeof path, "%s/best.lpm", dir);
    lpnas_net *net;
    ck_assert_msg(lpnas_model_load(path, 1, &net, NULL, 0) == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_net_free(net);
    snprintf(path, sizeof path, "%s/pareto.csv", dir);
    ck_assert_int_eq(access(path, R_OK), 0);
    lpnas_search_free(s);
    /* a tight budget: every candidate infeasible, reported clearly */
    o.budget_ms = 0.001, o.resume = false;
    char *dir2 = lpnas_test_tmpdir();
    o.out_dir = dir2;
    ck_assert_int_eq(lpnas_search_create(&o, &s), LPNAS_OK);
    lpnas_status st = lpnas_search_run(s);
    ck_assert(st == LPNAS_ERR_INFEASIBLE);
    lpnas_search_free(s);
    o.latency = NULL;
    ck_assert_int_eq(lpnas_search_create(&o, &s), LPNAS_ERR_ARG);
    lpnas_test_rmdir(dir), lpnas_test_rmdir(dir2);
    free(dir), free(dir2), free(tr), free(va);
    lpnas_latency_model_free(m);
    lpnas_dataset_free(d);
}
END_TEST

/* Aligned mode without fine-tuning ranks by the device's numbers (post-hoc
 * mIoU), never by FP32; a separate validation set is used; the front's
 * models are kept for held-out judgement; bad options are refused. */
START_TEST(ranking_validation_set_and_front_models)
{
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 40, so.size = 32;
    lpnas_dataset *d, *dv;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
    so.count = 12, so.seed = 99;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &dv), LPNAS_OK);
    int tr[40], va[12];
    for (int i = 0; i < 40; i++)
        tr[i] = i;
    for (int i = 0; i < 12; i++)
        va[i] = i;
    lpnas_latency_model *m;
    lpnas_latency_model_myriadx(NULL, &m);
    char *dir = lpnas_test_tmpdir();
    lpnas_search_options o;
    lpnas_search_options_default(&o);
    o.space.max_stages = 2, o.space.n_widths = 2, o.space.max_blocks = 1;
    o.data = d, o.train = tr, o.val = va, o.ntrain = 40, o.nval = 12, o.val_data = dv;
    o.latency = m, o.budget_ms = 50;
    o.warmup_steps = 3, o.finetune_steps = 0, o.batch = 4;
    o.evaluations = 4, o.workers = 1, o.out_dir = dir;
    lpnas_search *s;
    ck_assert_msg(lpnas_search_create(&o, &s) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_msg(lpnas_search_run(s) == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_search_row *rows;
    size_t n;
    ck_assert_int_eq(lpnas_search_rows(s, &rows, &n), LPNAS_OK);
    int ok = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].status != 1)
            continue;
        ok++;
        ck_assert(isnan(rows[i].miou_aligned));
        ck_assert(rows[i].quality == rows[i].miou_posthoc); /* the device's numbers */
        char path[600];
        snprintf(path, sizeof path, "%s/front-%ld.lpm", dir, rows[i].id);
        kept += access(path, R_OK) == 0;
    }
    ck_assert(ok >= 1);
    lpnas_search_summary sum;
    lpnas_search_summarize(s, &sum);
    char best[600];
    snprintf(best, sizeof best, "%s/best.fp32.lpm", dir);
    ck_assert_int_eq(access(best, R_OK), 0);
    ck_assert(kept <= ok);
    free(rows);
    lpnas_search_free(s);
    o.crossover_prob = 2;
    ck_assert_int_eq(lpnas_search_create(&o, &s), LPNAS_ERR_ARG);
    o.crossover_prob = 0.25;
    so.size = 16, so.count = 8;
    lpnas_dataset *bad;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &bad), LPNAS_OK);
    o.val_data = bad, o.nval = 8; /* tiles of another size */
    ck_assert_int_eq(lpnas_search_create(&o, &s), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "validation tiles"));
    lpnas_dataset_free(bad);
    lpnas_test_rmdir(dir);
    free(dir);
    lpnas_latency_model_free(m);
    lpnas_dataset_free(d), lpnas_dataset_free(dv);
}
END_TEST

START_TEST(prune_points_and_medians)
{
    int at[LPNAS_PRUNE_POINTS];
    ck_assert_int_eq(lpnas_prune_points(40, 20, 120, at), 5);
    ck_assert(at[0] == 40 && at[1] == 60 && at[2] == 80 && at[3] == 100 && at[4] == 120);
    ck_assert_int_eq(lpnas_prune_points(200, 20, 120, at), 1); /* warm-up past the end: only the end */
    ck_assert_int_eq(at[0], 120);
    ck_assert_int_eq(lpnas_prune_points(1, 1, 1000, at), LPNAS_PRUNE_POINTS); /* capped, the end kept */
    ck_assert_int_eq(at[LPNAS_PRUNE_POINTS - 1], 1000);
    lpnas_candidate c[5];
    memset(c, 0, sizeof c);
    const double v[5] = {0.5, 0.1, 0.9, 0.3, 0.7};
    for (int i = 0; i < 5; i++) {
        for (int k = 0; k < LPNAS_PRUNE_POINTS; k++)
            c[i].curve[k] = NAN;
        c[i].status = LPNAS_CAND_OK;
        c[i].curve[0] = v[i];
        c[i].curve[1] = i < 2 ? v[i] : NAN;
    }
    double med[LPNAS_PRUNE_POINTS];
    lpnas_prune_medians(c, 4, 2, med);
    ck_assert(med[0] == 0.4);              /* ok: 0.1 0.3 0.5 0.9 -> (0.3 + 0.5) / 2 */
    ck_assert(fabs(med[1] - 0.3) < 1e-15); /* 0.1 and 0.5 */
    ck_assert(isnan(med[2]));              /* nobody measured there */
    /* c[4] stopped at point 0 with 0.7: it counts there and, carried forward, at point 1 */
    c[4].status = LPNAS_CAND_PRUNED;
    lpnas_prune_medians(c, 5, 2, med);
    ck_assert(med[0] == 0.5);    /* 0.1 0.3 0.5 0.7 0.9 */
    ck_assert(med[1] == 0.5);    /* 0.1 0.5 and the carried 0.7 */
    ck_assert(isnan(med[2]));    /* no finished candidate measured point 2: no pruning there */
    lpnas_prune_medians(c, 5, 3, med);
    ck_assert(med[0] == 0.5 && isnan(med[1])); /* only 2 finished at point 1: below the startup count */
    /* a pruned candidate without any measured point (none exists in a search) is skipped; a failed one never counts */
    c[4].curve[0] = NAN;
    c[3].status = LPNAS_CAND_FAILED;
    lpnas_prune_medians(c, 5, 2, med);
    ck_assert(med[0] == 0.5); /* ok: 0.1 0.5 0.9 */
}
END_TEST

static lpnas_status run_pipeline(lpnas_search_options *o, lpnas_search_row **rows, size_t *n,
                                 lpnas_search_summary *sum)
{
    lpnas_search *s;
    lpnas_status st = lpnas_search_create(o, &s);
    if (st)
        return st;
    st = lpnas_search_run(s);
    lpnas_search_rows(s, rows, n);
    lpnas_search_summarize(s, sum);
    lpnas_search_free(s);
    return st;
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

START_TEST(median_pruner)
{
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 48, so.size = 32;
    lpnas_dataset *d;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
    int *tr, *va, nt, nv;
    lpnas_dataset_split(d, 0.25, 1, &tr, &nt, &va, &nv);
    lpnas_latency_model *m;
    lpnas_latency_model_myriadx(NULL, &m);
    char *dir[3] = {lpnas_test_tmpdir(), lpnas_test_tmpdir(), lpnas_test_tmpdir()};
    lpnas_search_options o;
    lpnas_search_options_default(&o);
    o.space.max_stages = 2, o.space.n_widths = 2, o.space.max_blocks = 1;
    o.data = d, o.train = tr, o.val = va, o.ntrain = nt, o.nval = nv;
    o.latency = m, o.budget_ms = 50;
    o.warmup_steps = 8, o.finetune_steps = 2, o.batch = 4;
    o.evaluations = 12, o.workers = 2, o.search_batch = 2, o.population = 4, o.sample = 2;
    o.prune_warmup = 2, o.prune_interval = 2;
    lpnas_search_row *ra, *rb, *rc, *rd;
    size_t na, nb, nc, nd;
    lpnas_search_summary sa, sb, sc, sd;
    /* measuring checkpoints but never pruning changes nothing: same rows as without the pruner */
    o.prune = true, o.prune_startup = 1000, o.out_dir = dir[0];
    ck_assert_msg(run_pipeline(&o, &ra, &na, &sa) == LPNAS_OK, "%s", lpnas_last_error());
    o.prune = false, o.out_dir = dir[1];
    ck_assert_msg(run_pipeline(&o, &rb, &nb, &sb) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        ck_assert_int_eq(ra[i].status, rb[i].status);
        ck_assert_str_eq(ra[i].arch, rb[i].arch);
        ck_assert_msg(same_double(ra[i].miou_fp32, rb[i].miou_fp32) && same_double(ra[i].miou_aligned, rb[i].miou_aligned),
                      "row %zu: checkpoints changed the training", i);
    }
    ck_assert_int_eq(sa.pruned, 0);
    /* pruning on: some candidates stopped, recorded as pruned, never the best */
    o.prune = true, o.prune_startup = 2, o.out_dir = dir[2];
    ck_assert_msg(run_pipeline(&o, &rc, &nc, &sc) == LPNAS_OK, "%s", lpnas_last_error());
    int pruned = 0;
    for (size_t i = 0; i < nc; i++)
        if (rc[i].status == LPNAS_CAND_PRUNED) {
            pruned++;
            ck_assert(isnan(rc[i].miou_aligned) && rc[i].miou_fp32 >= 0 && !rc[i].on_front);
            ck_assert(rc[i].id != sc.id);
        }
    ck_assert_int_ge(pruned, 1);
    ck_assert_int_eq(pruned, sc.pruned);
    ck_assert(sc.id >= 0 && rc[sc.id].status == LPNAS_CAND_OK);
    ck_assert_int_ge(sc.evaluated, 12); /* pruned ones count as evaluated */
    char path[700], line[4096];
    snprintf(path, sizeof path, "%s/results.csv", dir[2]);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int csv_pruned = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, ",pruned,")) {
            csv_pruned++;
            ck_assert_ptr_nonnull(strstr(line, "pruned at step"));
        }
    fclose(f);
    ck_assert_int_eq(csv_pruned, pruned);
    /* resumed with a larger budget: the pruned stay pruned (never re-run or taken as finished) */
    o.resume = true, o.evaluations = 14;
    ck_assert_msg(run_pipeline(&o, &rd, &nd, &sd) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_uint_ge(nd, nc);
    for (size_t i = 0; i < nc; i++) {
        ck_assert_int_eq(rd[i].status, rc[i].status);
        ck_assert(same_double(rd[i].miou_fp32, rc[i].miou_fp32));
    }
    free(ra), free(rb), free(rc), free(rd);
    for (int i = 0; i < 3; i++)
        lpnas_test_rmdir(dir[i]), free(dir[i]);
    free(tr), free(va);
    lpnas_latency_model_free(m);
    lpnas_dataset_free(d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("search");
    TCase *t = lpnas_tcase("search");
    tcase_add_test(t, same_results_for_any_worker_count);
    tcase_add_test(t, kill_and_resume_equals_straight_run);
    tcase_add_test(t, duplicates_failures_and_empty_region);
    tcase_add_test(t, vessel_search_tiny);
    tcase_add_test(t, ranking_validation_set_and_front_models);
    tcase_add_test(t, prune_points_and_medians);
    tcase_add_test(t, median_pruner);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
