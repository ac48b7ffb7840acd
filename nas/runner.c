/* The search loop (nas/runner.h): batches of candidates asked in id order,
 * cheap checks and duplicate detection on the search thread, evaluation on
 * worker threads, results told and written in id order, state saved after
 * every batch. */
#include "nas/runner_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/error.h"

void lpnas_runner_options_default(lpnas_runner_options *o)
{
    memset(o, 0, sizeof *o);
    lpnas_strategy_options_default(&o->strategy, LPNAS_STRATEGY_EVOLUTION);
    o->budget = 20;
    o->batch = 4;
    o->workers = 1;
    o->max_rejections = 2000;
    o->max_duplicates = 500;
    o->out_dir = "out";
}

lpnas_status lpnas_runner_reserve(lpnas_runner *r, size_t n)
{
    if (n <= r->capacity)
        return LPNAS_OK;
    size_t cap = r->capacity ? r->capacity : 64;
    while (cap < n)
        cap *= 2;
    lpnas_candidate *c = realloc(r->cand, cap * sizeof *c);
    if (!c)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory for %zu candidates", n);
    r->cand = c;
    r->capacity = cap;
    return LPNAS_OK;
}

lpnas_status lpnas_runner_create(const lpnas_runner_options *o, const lpnas_problem *p, lpnas_runner **out)
{
    *out = NULL;
    if (o->budget < 1 || o->budget > 1000000 || o->batch < 1 || o->batch > 1024 || o->workers < 1 ||
        o->workers > 256 || o->max_rejections < 1 || o->max_duplicates < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "search: budget %d (1..1e6), batch %d (1..1024), workers %d (1..256) out of range",
                          o->budget, o->batch, o->workers);
    if (!o->out_dir || !*o->out_dir)
        return lpnas_fail(LPNAS_ERR_ARG, "search: no output folder");
    if (mkdir(o->out_dir, 0777) != 0) {
        struct stat sb;
        if (stat(o->out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return lpnas_fail(LPNAS_ERR_IO, "%s: cannot create the output folder", o->out_dir);
    }
    lpnas_runner *r = calloc(1, sizeof *r);
    if (!r)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    r->opt = *o;
    r->problem = *p;
    atomic_init(&r->stop, 0);
    lpnas_status st;
    if (o->resume) {
        st = lpnas_runner_load_state(r);
        if (!st)
            st = lpnas_runner_open_csv(r, false);
    } else {
        st = lpnas_strategy_create(&o->strategy, &r->problem.space, &r->strategy);
        if (!st)
            st = lpnas_runner_open_csv(r, true);
    }
    if (!st && o->resume) /* rows the state holds but results.csv lost */
        st = lpnas_runner_append_rows(r);
    if (st) {
        lpnas_runner_free(r);
        return st;
    }
    *out = r;
    return LPNAS_OK;
}

void lpnas_runner_free(lpnas_runner *r)
{
    if (!r)
        return;
    if (r->csv)
        fclose(r->csv);
    lpnas_strategy_free(r->strategy);
    free(r->cand);
    free(r);
}

void lpnas_runner_request_stop(lpnas_runner *r)
{
    atomic_store(&r->stop, 1);
}

size_t lpnas_runner_candidates(const lpnas_runner *r, const lpnas_candidate **out)
{
    *out = r->cand;
    return r->count;
}

long lpnas_runner_best(const lpnas_runner *r)
{
    long best = -1;
    for (size_t i = 0; i < r->count; i++)
        if (r->cand[i].status == LPNAS_CAND_OK && (best < 0 || r->cand[i].outcome.fitness > r->cand[best].outcome.fitness))
            best = (long)i;
    return best;
}

static int trained(const lpnas_runner *r)
{
    int n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += r->cand[i].status == LPNAS_CAND_OK || r->cand[i].status == LPNAS_CAND_FAILED ||
             r->cand[i].status == LPNAS_CAND_PRUNED;
    return n;
}

/* ---- workers ----------------------------------------------------------- */

typedef struct {
    lpnas_runner *r;
    size_t *todo; /* candidate indices to evaluate */
    size_t n;
    atomic_size_t next;
} work;

static void *worker(void *v)
{
    work *w = v;
    lpnas_runner *r = w->r;
    for (;;) {
        size_t k = atomic_fetch_add(&w->next, 1);
        if (k >= w->n || atomic_load(&r->stop))
            return NULL;
        lpnas_candidate *c = &r->cand[w->todo[k]];
        lpnas_rng seed;
        lpnas_rng_derive(&seed, r->opt.strategy.seed, c->id, 0xca4d);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        lpnas_status st = r->problem.evaluate(r->problem.ctx, c, lpnas_rng_u64(&seed), &r->stop);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        c->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (st == LPNAS_ERR_INTERRUPTED) {
            c->status = LPNAS_CAND_PENDING;
        } else if (st) {
            c->status = LPNAS_CAND_FAILED;
            snprintf(c->reason, sizeof c->reason, "%s", lpnas_last_error());
        }
    }
}

static lpnas_status evaluate_batch(lpnas_runner *r, size_t *todo, size_t n)
{
    work w = {r, todo, n, 0};
    atomic_init(&w.next, 0);
    int nt = r->opt.workers < (int)n ? r->opt.workers : (int)n;
    if (nt <= 1) {
        worker(&w);
        return LPNAS_OK;
    }
    pthread_t th[256];
    int started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, worker, &w) != 0)
            break;
    if (started == 0)
        worker(&w);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return LPNAS_OK;
}

/* ---- the loop ------------------------------------------------------------ */

static void progress(lpnas_runner *r, double t_start)
{
    if (!r->opt.progress)
        return;
    lpnas_search_progress p = {0};
    for (size_t i = 0; i < r->count; i++) {
        const lpnas_candidate *c = &r->cand[i];
        p.evaluated += c->status == LPNAS_CAND_OK || c->status == LPNAS_CAND_FAILED || c->status == LPNAS_CAND_PRUNED;
        p.pruned += c->status == LPNAS_CAND_PRUNED;
        p.feasible += c->status == LPNAS_CAND_OK;
        p.infeasible += c->status == LPNAS_CAND_INFEASIBLE;
        p.duplicates += c->status == LPNAS_CAND_DUPLICATE;
        p.failed += c->status == LPNAS_CAND_FAILED;
    }
    p.budget = r->opt.budget;
    long b = lpnas_runner_best(r);
    p.best = b >= 0 ? r->cand[b].outcome.fitness : -INFINITY;
    p.best_arch = b >= 0 ? r->cand[b].arch : "";
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double el = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - t_start;
    p.evals_per_hour = el > 0 ? 3600.0 * p.evaluated / el : 0;
    /* batches are whole, so the budget can be passed by up to batch - 1 */
    p.eta_seconds = p.evaluated > 0 ? el / p.evaluated * fmax(0, p.budget - p.evaluated) : NAN;
    r->opt.progress(r->opt.progress_user, &p);
}

/* Looks for an earlier candidate with the same identity. */
static long find_duplicate(const lpnas_runner *r, size_t upto, const char *arch)
{
    for (size_t i = 0; i < upto; i++)
        if (r->cand[i].status != LPNAS_CAND_PENDING && r->cand[i].status != LPNAS_CAND_DUPLICATE &&
            strcmp(r->cand[i].arch, arch) == 0)
            return (long)i;
    for (size_t i = 0; i < upto; i++) /* pending ones of this batch */
        if (r->cand[i].status == LPNAS_CAND_PENDING && strcmp(r->cand[i].arch, arch) == 0)
            return (long)i;
    return -1;
}

lpnas_status lpnas_runner_run(lpnas_runner *r)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t_start = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    lpnas_status st = LPNAS_OK;
    size_t todo[1024];
    while (!st && trained(r) < r->opt.budget) {
        if (atomic_load(&r->stop))
            return lpnas_fail(LPNAS_ERR_INTERRUPTED, "search: stopped on request after %zu candidates (saved)",
                              r->count);
        size_t first = r->count, n_todo = 0;
        int batch = r->opt.batch;
        if ((st = lpnas_runner_reserve(r, first + (size_t)batch)))
            return st;
        for (int b = 0; b < batch; b++) {
            lpnas_candidate *c = &r->cand[r->count];
            memset(c, 0, sizeof *c);
            c->id = r->count;
            c->dup_of = -1;
            c->latency_ms = c->miou_fp32 = c->miou_posthoc = c->miou_aligned = c->vessel_iou = NAN;
            for (int k = 0; k < LPNAS_PRUNE_POINTS; k++)
                c->curve[k] = c->prune_median[k] = NAN;
            c->seconds = 0;
            lpnas_strategy_ask(r->strategy, &c->genome);
            bool feasible = true;
            if ((st = r->problem.precheck(r->problem.ctx, c, &feasible)))
                return st;
            r->count++;
            long dup = find_duplicate(r, r->count - 1, c->arch);
            if (dup >= 0) {
                c->status = LPNAS_CAND_DUPLICATE;
                c->dup_of = dup;
                snprintf(c->reason, sizeof c->reason, "same as candidate %ld", dup);
                r->duplicate_run++;
            } else if (!feasible) {
                c->status = LPNAS_CAND_INFEASIBLE;
                c->outcome.failed = true;
                r->rejections++;
                r->duplicate_run = 0;
            } else {
                c->status = LPNAS_CAND_PENDING;
                todo[n_todo++] = c->id;
                r->rejections = 0;
                r->duplicate_run = 0;
            }
        }
        evaluate_batch(r, todo, n_todo);
        for (size_t k = 0; k < n_todo; k++)
            if (r->cand[todo[k]].status == LPNAS_CAND_PENDING) { /* stopped mid-batch: the batch is dropped */
                r->count = first;
                return lpnas_fail(LPNAS_ERR_INTERRUPTED, "search: stopped on request; %zu finished candidates saved",
                                  first);
            }
        /* score and tell in id order; duplicates reuse their original's results */
        for (size_t i = first; i < r->count; i++) {
            lpnas_candidate *c = &r->cand[i];
            if (c->status == LPNAS_CAND_DUPLICATE) {
                const lpnas_candidate *o = &r->cand[c->dup_of];
                c->params = o->params, c->flops = o->flops, c->peak_bytes = o->peak_bytes;
                c->latency_ms = o->latency_ms, c->miou_fp32 = o->miou_fp32, c->miou_posthoc = o->miou_posthoc;
                c->miou_aligned = o->miou_aligned, c->vessel_iou = o->vessel_iou, c->outcome = o->outcome;
                c->skipped_steps = o->skipped_steps;
            } else if (c->status == LPNAS_CAND_OK || c->status == LPNAS_CAND_FAILED ||
                       c->status == LPNAS_CAND_PRUNED) {
                r->problem.score(r->problem.ctx, c);
                c->outcome.failed = c->status == LPNAS_CAND_FAILED;
            }
            lpnas_strategy_tell(r->strategy, &c->genome, &c->outcome);
        }
        /* durability: state (with the new records) first, then the rows, then the state again */
        if ((st = lpnas_runner_save_state(r)) || (st = lpnas_runner_append_rows(r)) ||
            (st = lpnas_runner_save_state(r)) || (st = lpnas_runner_write_pareto(r)))
            return st;
        progress(r, t_start);
        if (r->rejections >= r->opt.max_rejections) {
            bool any = false;
            for (size_t i = 0; i < r->count; i++)
                any |= r->cand[i].status == LPNAS_CAND_OK;
            return lpnas_fail(any ? LPNAS_OK : LPNAS_ERR_INFEASIBLE,
                              "search: %d proposals in a row violated the budgets%s", r->rejections,
                              any ? "" : ": the feasible region looks empty (relax the latency or parameter budget)");
        }
        if (r->duplicate_run >= r->opt.max_duplicates)
            break; /* converged: nothing new is proposed */
    }
    return st;
}
