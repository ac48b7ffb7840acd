/* The search loop (nas/runner.h): batches of candidates asked in id order,
 * cheap checks and duplicate detection on the search thread, evaluation on
 * worker threads, results told in id order; every finished candidate is
 * journaled the moment it finishes (runner_state.c). */
#include "nas/runner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* mkdir -p: every missing parent too. */
static lpnas_status make_dirs(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    memcpy(p, dir, n + 1);
    lpnas_status st = LPNAS_OK;
    for (size_t i = 1; i <= n && !st; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        struct stat sb;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot create the output folder (at %s: %s)", dir, p, strerror(errno));
        else if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot create the output folder (%s is not a folder)", dir, p);
        p[i] = c;
    }
    free(p);
    return st;
}

/* An exclusive flock on search.lock for the runner's life. The kernel
 * drops it when the process dies, so a stale lock file is no obstacle;
 * the file holds the owner's pid for the message. */
static lpnas_status take_lock(lpnas_runner *r)
{
    char path[4096];
    lpnas_status st = lpnas_runner_path(r, "search.lock", path, sizeof path);
    if (st)
        return st;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot write in the output folder: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t k = pread(fd, pid, sizeof pid - 1, 0);
        pid[k > 0 ? k : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return lpnas_fail(LPNAS_ERR_IO,
                          "%s: another search is running in this folder (pid %s holds %s); wait for it or stop it, "
                          "or use another --out",
                          r->opt.out_dir, *pid ? pid : "?", path);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot write in the output folder: %s", path, strerror(e));
    }
    r->lock_fd = fd;
    return LPNAS_OK;
}

static bool exists(const lpnas_runner *r, const char *name)
{
    char path[4096];
    struct stat sb;
    return !lpnas_runner_path(r, name, path, sizeof path) && stat(path, &sb) == 0;
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
    struct stat sb;
    if (o->resume && stat(o->out_dir, &sb) != 0) /* nothing to continue: never create it */
        return lpnas_fail(LPNAS_ERR_IO,
                          "%s: nothing to resume yet: the folder does not exist; start the search without --resume",
                          o->out_dir);
    lpnas_status st = make_dirs(o->out_dir);
    if (st)
        return st;
    lpnas_runner *r = calloc(1, sizeof *r);
    if (!r)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    r->opt = *o;
    r->problem = *p;
    r->lock_fd = -1;
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->stop, 0);
    r->nranks = o->transport && o->transport->size > 1 ? o->transport->size : 1;
    r->rank_slots = calloc((size_t)r->nranks, sizeof *r->rank_slots);
    r->rank_done = calloc((size_t)r->nranks, sizeof *r->rank_done);
    r->rank_busy = calloc((size_t)r->nranks, sizeof *r->rank_busy);
    r->rank_host = calloc((size_t)r->nranks, sizeof *r->rank_host);
    if (!r->rank_slots || !r->rank_done || !r->rank_busy || !r->rank_host)
        st = lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    else
        r->rank_slots[0] = o->workers;
    if (!st && o->transport)
        snprintf(r->rank_host[0], sizeof r->rank_host[0], "%s", o->transport->host);
    if (!st && !(st = lpnas_runner_build_config(r)))
        st = take_lock(r);
    if (!st && o->resume) {
        if (!(st = lpnas_runner_load_state(r)) && !(st = lpnas_runner_journal_open(r, false)))
            st = lpnas_runner_open_csv(r, false); /* rebuilt from the records */
        if (!st)
            st = lpnas_runner_write_pareto(r);
    } else if (!st) {
        if (exists(r, "search.state") && !o->overwrite)
            st = lpnas_fail(LPNAS_ERR_ARG,
                            "%s: holds a search (search.state): continue it with --resume, or start a new one over it "
                            "with --overwrite",
                            o->out_dir);
        if (!st && o->overwrite) {
            char path[4096];
            if (!lpnas_runner_path(r, "search.state", path, sizeof path))
                remove(path);
            if (!lpnas_runner_path(r, "pareto.csv", path, sizeof path))
                remove(path);
        }
        if (!st)
            st = lpnas_strategy_create(&o->strategy, &r->problem.space, &r->strategy);
        if (!st && !(st = lpnas_runner_journal_open(r, true)))
            st = lpnas_runner_open_csv(r, true);
        /* The snapshot of the empty search, before anything is asked. Batches
         * with nothing to train write rows but no snapshot (ask_batch); were
         * the first batches all infeasible, an interrupt would leave rows and
         * no search.state, and --resume would refuse ("nothing to resume
         * yet"). From this one a resume asks them again identically. */
        if (!st)
            st = lpnas_runner_save_state(r);
    }
    if (st) {
        lpnas_runner_free(r);
        return st;
    }
    *out = r;
    return LPNAS_OK;
}

lpnas_status lpnas_runner_check_state(const lpnas_runner_options *o, const lpnas_problem *p)
{
    lpnas_runner *r = calloc(1, sizeof *r);
    if (!r)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    r->opt = *o;
    r->problem = *p;
    r->lock_fd = -1;
    r->check_only = true;
    pthread_mutex_init(&r->mu, NULL);
    lpnas_status st = lpnas_runner_build_config(r);
    if (!st)
        st = lpnas_runner_load_state(r);
    lpnas_runner_free(r);
    return st;
}

void lpnas_runner_free(lpnas_runner *r)
{
    if (!r)
        return;
    if (r->csv)
        fclose(r->csv);
    if (r->journal)
        fclose(r->journal);
    if (r->lock_fd >= 0)
        close(r->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&r->mu);
    free(r->rank_slots), free(r->rank_done), free(r->rank_busy), free(r->rank_host);
    lpnas_strategy_free(r->strategy);
    free(r->config);
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

bool lpnas_runner_distributed(const lpnas_runner *r)
{
    return r->nranks > 1;
}

uint64_t lpnas_runner_seed(const lpnas_runner *r, const lpnas_candidate *c)
{
    lpnas_rng seed;
    lpnas_rng_derive(&seed, r->opt.strategy.seed, c->id, 0xca4d);
    return lpnas_rng_u64(&seed);
}

void lpnas_runner_finish(lpnas_runner *r, lpnas_candidate *c, lpnas_status st, const char *msg, int rank)
{
    if (st == LPNAS_ERR_INTERRUPTED || st == LPNAS_ERR_IO) {
        /* IO: e.g. the disk filled while saving the model; stop, and redo it on resume */
        if (st == LPNAS_ERR_IO && !r->io_status) {
            r->io_status = st;
            if (lpnas_runner_distributed(r))
                snprintf(r->io_msg, sizeof r->io_msg, "candidate %llu on rank %d (%s): %s", (unsigned long long)c->id,
                         rank, r->rank_host[rank], msg);
            else
                snprintf(r->io_msg, sizeof r->io_msg, "candidate %llu: %s", (unsigned long long)c->id, msg);
            atomic_store(&r->stop, 1);
        }
        c->status = LPNAS_CAND_PENDING;
    } else if (st) {
        c->status = LPNAS_CAND_FAILED;
        snprintf(c->reason, sizeof c->reason, "%s", msg);
    }
    if (c->status != LPNAS_CAND_PENDING) {
        r->rank_done[rank]++;
        /* durable the moment it finishes: a kill now repeats nothing */
        lpnas_status ws = lpnas_runner_journal_append(r, c, true);
        if (ws) {
            c->status = LPNAS_CAND_PENDING; /* not saved: it is evaluated again on resume */
        } else {
            ws = lpnas_runner_append_rows(r);
        }
        if (ws && !r->io_status) {
            r->io_status = ws;
            snprintf(r->io_msg, sizeof r->io_msg, "%s", lpnas_last_error());
            atomic_store(&r->stop, 1);
        }
    }
}

void *lpnas_runner_worker(void *v)
{
    lpnas_runner_work *w = v;
    lpnas_runner *r = w->r;
    for (;;) {
        size_t k = atomic_fetch_add(&w->next, 1);
        if (k >= w->n || atomic_load(&r->stop))
            return NULL;
        lpnas_candidate *c = &r->cand[w->todo[k]];
        uint64_t seed = lpnas_runner_seed(r, c);
        pthread_mutex_lock(&r->mu);
        r->rank_busy[0]++;
        pthread_mutex_unlock(&r->mu);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        lpnas_status st = r->problem.evaluate(r->problem.ctx, c, seed, &r->stop);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        pthread_mutex_lock(&r->mu);
        r->rank_busy[0]--;
        c->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        lpnas_runner_finish(r, c, st, st ? lpnas_last_error() : "", 0);
        pthread_mutex_unlock(&r->mu);
    }
}

static lpnas_status evaluate_batch(lpnas_runner *r, size_t *todo, size_t n)
{
    lpnas_runner_work w = {r, todo, n, 0};
    atomic_init(&w.next, 0);
    if (lpnas_runner_distributed(r))
        return lpnas_runner_evaluate_dist(r, &w);
    int nt = r->opt.workers < (int)n ? r->opt.workers : (int)n;
    if (nt <= 1) {
        lpnas_runner_worker(&w);
        return LPNAS_OK;
    }
    pthread_t th[256];
    int started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, lpnas_runner_worker, &w) != 0)
            break;
    if (started == 0)
        lpnas_runner_worker(&w);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return LPNAS_OK;
}

/* ---- the loop ------------------------------------------------------------ */

void lpnas_runner_progress(lpnas_runner *r)
{
    double t_start = r->t_start;
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
    p.per_minute = el > 0 ? 60.0 * p.evaluated / el : 0;
    p.ranks = r->nranks;
    p.rank_evaluated = r->rank_done;
    p.rank_busy = r->rank_busy;
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

/* Journal fsynced, then the snapshot that covers it. */
static lpnas_status checkpoint(lpnas_runner *r)
{
    lpnas_status st = lpnas_runner_journal_sync(r);
    return st ? st : lpnas_runner_save_state(r);
}

lpnas_status lpnas_runner_ask_one(lpnas_runner *r, bool *train)
{
    lpnas_status st;
    *train = false;
    if ((st = lpnas_runner_reserve(r, r->count + 1)))
        return st;
    lpnas_candidate *c = &r->cand[r->count];
    memset(c, 0, sizeof *c);
    c->id = r->count;
    c->dup_of = -1;
    c->latency_ms = c->miou_fp32 = c->miou_posthoc = c->miou_aligned = c->vessel_iou = NAN;
    for (int k = 0; k < LPNAS_PRUNE_POINTS; k++)
        c->curve[k] = c->prune_median[k] = NAN; /* the precheck sets the pruner's thresholds */
    c->seconds = 0;
    c->weight_bytes = -1;
    lpnas_strategy_ask(r->strategy, &c->genome);
    if (r->problem.derive)
        r->problem.derive(r->problem.ctx, c);
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
        *train = true;
        r->rejections = 0;
        r->duplicate_run = 0;
    }
    return LPNAS_OK;
}

/* Asks one batch: cheap checks and duplicates on this thread; every asked
 * candidate goes to the journal, then the snapshot (strategy after the
 * asks) is saved. Returns the indices to evaluate in todo. */
static lpnas_status ask_batch(lpnas_runner *r, size_t *todo, size_t *n_todo)
{
    size_t first = r->count;
    int batch = r->opt.batch;
    lpnas_status st;
    *n_todo = 0;
    if ((st = lpnas_runner_reserve(r, first + (size_t)batch)))
        return st;
    for (int b = 0; b < batch; b++) {
        bool train = false;
        if ((st = lpnas_runner_ask_one(r, &train))) {
            r->count = first; /* nothing of this batch was saved: it is asked again */
            return st;
        }
        if (train)
            todo[(*n_todo)++] = r->count - 1;
    }
    for (size_t i = first; i < r->count && !st; i++)
        st = lpnas_runner_journal_append(r, &r->cand[i], false);
    /* The snapshot before evaluating: a batch with nothing to train (all
     * infeasible or duplicates) needs none, since a resume from the last
     * snapshot asks it again identically and cheaply; that keeps a long run
     * of rejections from costing two fsyncs a batch. */
    if (!st && *n_todo > 0)
        st = checkpoint(r);
    if (!st)
        st = lpnas_runner_append_rows(r); /* infeasible and duplicate rows are final now */
    return st;
}

static lpnas_status run_batches(lpnas_runner *r)
{
    lpnas_status st = LPNAS_OK;
    size_t todo[1024], n_todo = 0;
    /* a resumed open batch: evaluate what did not finish, then tell it whole */
    bool open_batch = r->told < r->count;
    for (size_t i = r->told; i < r->count; i++)
        if (r->cand[i].status == LPNAS_CAND_PENDING)
            todo[n_todo++] = i;
    while (open_batch || trained(r) < r->opt.budget) {
        if (atomic_load(&r->stop))
            return lpnas_fail(LPNAS_ERR_INTERRUPTED, "search: stopped on request after %zu candidates (saved)",
                              r->count);
        if (!open_batch && (st = ask_batch(r, todo, &n_todo)))
            return st;
        open_batch = false;
        evaluate_batch(r, todo, n_todo);
        if (r->io_status)
            return lpnas_fail(r->io_status, "%s (every finished candidate before it is saved; --resume continues)",
                              r->io_msg);
        size_t left = 0;
        for (size_t k = 0; k < n_todo; k++)
            left += r->cand[todo[k]].status == LPNAS_CAND_PENDING;
        if (left) /* stopped mid-batch: the finished ones are journaled, the rest run on resume */
            return lpnas_fail(LPNAS_ERR_INTERRUPTED,
                              "search: stopped on request; %zu candidates saved, %zu of the batch to finish on resume",
                              r->count - left, left);
        /* score and tell in id order; duplicates reuse their original's results */
        for (size_t i = r->told; i < r->count; i++) {
            lpnas_candidate *c = &r->cand[i];
            if (c->status == LPNAS_CAND_DUPLICATE) {
                lpnas_runner_settle_duplicate(r, c);
                c->outcome = r->cand[c->dup_of].outcome;
            } else if (c->status == LPNAS_CAND_OK || c->status == LPNAS_CAND_FAILED ||
                       c->status == LPNAS_CAND_PRUNED) {
                r->problem.score(r->problem.ctx, c);
                c->outcome.failed = c->status == LPNAS_CAND_FAILED;
            }
            lpnas_strategy_tell(r->strategy, &c->genome, &c->outcome);
        }
        r->told = r->count;
        if ((st = lpnas_runner_append_rows(r)) || (st = lpnas_runner_write_pareto(r)))
            return st;
        lpnas_runner_progress(r);
        if ((r->rejections >= r->opt.max_rejections || r->duplicate_run >= r->opt.max_duplicates ||
             trained(r) >= r->opt.budget) &&
            (st = checkpoint(r))) /* the end, as told */
            return st;
        if (r->rejections >= r->opt.max_rejections) {
            bool any = false;
            for (size_t i = 0; i < r->count; i++)
                any |= r->cand[i].status == LPNAS_CAND_OK;
            return lpnas_fail(any ? LPNAS_ERR_STOPPED : LPNAS_ERR_INFEASIBLE,
                              "search: stopped after %d of %d trained: %d proposals in a row violated the budgets%s",
                              trained(r), r->opt.budget, r->rejections,
                              any ? "" : ": the feasible region looks empty (relax the latency or parameter budget)");
        }
        if (r->duplicate_run >= r->opt.max_duplicates)
            return lpnas_fail(LPNAS_ERR_STOPPED,
                              "search: stopped after %d of %d trained: %d proposals in a row repeated earlier "
                              "candidates (the search converged; a larger space or population would go on)",
                              trained(r), r->opt.budget, r->duplicate_run);
    }
    return lpnas_runner_write_pareto(r);
}

lpnas_status lpnas_runner_run(lpnas_runner *r)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r->t_start = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    lpnas_status st = lpnas_runner_distributed(r) ? lpnas_runner_hello(r) : LPNAS_OK;
    if (!st)
        st = r->opt.async ? lpnas_runner_run_async(r) : run_batches(r);
    if (lpnas_runner_distributed(r)) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lpnas_last_error());
        lpnas_runner_dismiss_all(r); /* results still in flight are kept */
        lpnas_fail(st, "%s", msg);
    }
    return st;
}
