/* The runner without a batch barrier (--async, docs/distributed.md): a new
 * candidate is asked the moment an evaluation slot (a thread here or on
 * another rank) frees up, as aging evolution does at scale. Results are
 * still told to the strategy and written in id order, once every earlier
 * candidate is final; what differs from the batch mode is which results
 * the strategy has seen when it asks, so the rows depend on timing.
 * Durability is the batch mode's: asks are journaled and the snapshot
 * saved before they are evaluated, every result journaled as it comes. */
#include "nas/runner_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"

typedef struct {
    pthread_t th;
    atomic_int state; /* 0 free, 1 evaluating, 2 done */
    size_t index;
    lpnas_candidate c; /* a copy: the record array may grow meanwhile */
    uint64_t seed;
    lpnas_status st;
    char text[512];
    lpnas_runner *r;
} local_slot;

static void *local_run(void *v)
{
    local_slot *s = v;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s->st = s->r->problem.evaluate(s->r->problem.ctx, &s->c, s->seed, &s->r->stop);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->c.seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    snprintf(s->text, sizeof s->text, "%s", s->st ? lpnas_last_error() : "");
    atomic_store(&s->state, 2);
    return NULL;
}

void lpnas_runner_tell_ready(lpnas_runner *r)
{
    while (r->told < r->count) {
        lpnas_candidate *c = &r->cand[r->told];
        if (c->status == LPNAS_CAND_PENDING)
            return;
        if (c->status == LPNAS_CAND_DUPLICATE) {
            if (!lpnas_runner_settle_duplicate(r, c))
                return;
            c->outcome = r->cand[c->dup_of].outcome;
        } else if (c->status == LPNAS_CAND_OK || c->status == LPNAS_CAND_FAILED) {
            r->problem.score(r->problem.ctx, c);
            c->outcome.failed = c->status == LPNAS_CAND_FAILED;
        }
        lpnas_strategy_tell(r->strategy, &c->genome, &c->outcome);
        r->told++;
    }
}

static int trained(const lpnas_runner *r)
{
    int n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += r->cand[i].status == LPNAS_CAND_OK || r->cand[i].status == LPNAS_CAND_FAILED;
    return n;
}

static int busy(const lpnas_runner *r, const local_slot *ls, int nl)
{
    int b = 0;
    for (int i = 0; i < nl; i++)
        b += atomic_load(&ls[i].state) != 0;
    for (int k = 1; k < r->nranks; k++)
        b += r->rank_busy[k];
    return b;
}

/* A free slot: another rank's (-1, *rank set), a local one (its index), or none (-2). */
static int free_slot(const lpnas_runner *r, const local_slot *ls, int nl, int *rank)
{
    for (int k = 1; k < r->nranks; k++) /* other ranks first: rank 0 also runs the strategy */
        if (r->rank_busy[k] < r->rank_slots[k]) {
            *rank = k;
            return -1;
        }
    for (int i = 0; i < nl; i++)
        if (atomic_load(&ls[i].state) == 0) {
            *rank = 0;
            return i;
        }
    return -2;
}

static lpnas_status dispatch(lpnas_runner *r, local_slot *ls, int nl, size_t index)
{
    int rank = 0, i = free_slot(r, ls, nl, &rank);
    if (rank > 0)
        return lpnas_runner_send_candidate(r, rank, index);
    local_slot *s = &ls[i];
    s->index = index, s->c = r->cand[index], s->seed = lpnas_runner_seed(r, &s->c), s->r = r;
    atomic_store(&s->state, 1);
    r->rank_busy[0]++;
    if (pthread_create(&s->th, NULL, local_run, s) != 0) {
        r->rank_busy[0]--;
        atomic_store(&s->state, 0);
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: cannot start a worker thread");
    }
    return LPNAS_OK;
}

static void collect_local(lpnas_runner *r, local_slot *ls, int nl, bool *any)
{
    for (int i = 0; i < nl; i++) {
        local_slot *s = &ls[i];
        if (atomic_load(&s->state) != 2)
            continue;
        pthread_join(s->th, NULL);
        pthread_mutex_lock(&r->mu);
        r->rank_busy[0]--;
        lpnas_candidate *c = &r->cand[s->index];
        if (s->st == LPNAS_ERR_INTERRUPTED || s->st == LPNAS_ERR_IO)
            c->seconds = s->c.seconds;
        else
            *c = s->c;
        lpnas_runner_finish(r, c, s->st, s->text, 0);
        pthread_mutex_unlock(&r->mu);
        atomic_store(&s->state, 0);
        *any = true;
    }
}

lpnas_status lpnas_runner_run_async(lpnas_runner *r)
{
    int nl = r->opt.workers;
    local_slot *ls = calloc((size_t)nl, sizeof *ls);
    if (!ls)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    for (int i = 0; i < nl; i++)
        atomic_init(&ls[i].state, 0);
    lpnas_status st = LPNAS_OK;
    /* a resumed open set: its pending ones go first (only those: the ones
     * asked from here on are dispatched when asked) */
    size_t resume_next = r->told, resume_end = r->count;
    bool limit = false;
    while (!st) {
        bool stop = atomic_load(&r->stop) != 0, any = false;
        /* fill the free slots */
        int rank;
        while (!stop && !st && free_slot(r, ls, nl, &rank) != -2) {
            while (resume_next < resume_end && r->cand[resume_next].status != LPNAS_CAND_PENDING)
                resume_next++;
            if (resume_next < resume_end) {
                st = dispatch(r, ls, nl, resume_next++);
                continue;
            }
            limit = r->rejections >= r->opt.max_rejections || r->duplicate_run >= r->opt.max_duplicates;
            if (limit || trained(r) + busy(r, ls, nl) >= r->opt.budget)
                break;
            size_t before = r->count;
            bool train = false;
            if ((st = lpnas_runner_ask_one(r, &train)))
                break;
            if ((st = lpnas_runner_journal_append(r, &r->cand[before], false)))
                break;
            if (train) {
                /* the ask is durable (and the strategy with it) before it runs */
                if ((st = lpnas_runner_journal_sync(r)) || (st = lpnas_runner_save_state(r)))
                    break;
                st = dispatch(r, ls, nl, before);
            }
            any = true;
        }
        if (st)
            break;
        collect_local(r, ls, nl, &any);
        bool got = false;
        if (lpnas_runner_distributed(r) && (st = lpnas_runner_poll_once(r, &got)))
            break;
        any |= got;
        if (r->io_status)
            break;
        size_t told = r->told;
        lpnas_runner_tell_ready(r);
        if (r->told != told) {
            pthread_mutex_lock(&r->mu);
            st = lpnas_runner_append_rows(r);
            pthread_mutex_unlock(&r->mu);
            lpnas_runner_progress(r);
        }
        if (busy(r, ls, nl) == 0 && (stop || limit || trained(r) >= r->opt.budget))
            break;
        if (!any) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    bool stopped = atomic_load(&r->stop) && trained(r) < r->opt.budget && !limit;
    atomic_store(&r->stop, 1); /* the slots still running end early: pending, run on resume */
    bool any = false;
    for (int i = 0; i < nl; i++)
        if (atomic_load(&ls[i].state) == 1)
            while (atomic_load(&ls[i].state) != 2) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
    collect_local(r, ls, nl, &any);
    free(ls);
    if (st)
        return st;
    if (r->io_status)
        return lpnas_fail(r->io_status, "%s (every finished candidate before it is saved; --resume continues)",
                          r->io_msg);
    lpnas_runner_tell_ready(r);
    if ((st = lpnas_runner_append_rows(r)) || (st = lpnas_runner_write_pareto(r)) ||
        (st = lpnas_runner_journal_sync(r)) || (st = lpnas_runner_save_state(r)))
        return st;
    if (stopped && r->told < r->count)
        return lpnas_fail(LPNAS_ERR_INTERRUPTED, "search: stopped on request; %zu candidates saved, the rest run on resume",
                          r->told);
    if (stopped)
        return lpnas_fail(LPNAS_ERR_INTERRUPTED, "search: stopped on request after %zu candidates (saved)", r->count);
    if (limit)
        return lpnas_fail(LPNAS_ERR_STOPPED, "search: stopped after %d of %d trained: %d infeasible or %d duplicate "
                                             "proposals in a row",
                          trained(r), r->opt.budget, r->rejections, r->duplicate_run);
    return LPNAS_OK;
}
