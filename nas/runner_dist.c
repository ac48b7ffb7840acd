/* The runner across processes (docs/distributed.md): rank 0 runs the
 * strategy and owns the folder; other ranks evaluate what they are sent.
 * Per candidate one message goes out (the record with its genome, and its
 * seed) and one comes back (the record with its measurements, the status,
 * the error text, and the model files packed by the problem). Only the
 * thread that runs the search calls the transport (MPI "funneled"); the
 * worker threads on every rank hand their results to it.
 *
 * Messages:  HELLO  k -> 0  slots, refusal flag, host, refusal text
 *            CAND   0 -> k  u64 seed | record
 *            RESULT k -> 0  i32 status | error text | record | packed files
 *            STOP   0 -> k  (nothing)     BYE k -> 0 (nothing) */
#include "nas/runner_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"

enum { TAG_HELLO = 1, TAG_CAND = 2, TAG_RESULT = 3, TAG_STOP = 4, TAG_BYE = 5 };
#define MSG_TEXT 512

typedef struct {
    int32_t slots, refused;
    char host[64];
    char text[MSG_TEXT];
} hello_msg;

typedef struct {
    uint64_t seed;
    lpnas_candidate c;
} cand_msg;

typedef struct {
    int32_t status;
    char text[MSG_TEXT];
    lpnas_candidate c;
} result_head;

static void nap(void)
{
    struct timespec ts = {0, 1000000}; /* 1 ms: polling costs nothing next to a training */
    nanosleep(&ts, NULL);
}

/* ---- rank 0 --------------------------------------------------------------- */

lpnas_status lpnas_runner_hello(lpnas_runner *r)
{
    lpnas_transport *t = r->opt.transport;
    int greeted = 1;
    lpnas_status st = LPNAS_OK, refusal = LPNAS_OK;
    char why[1024] = "";
    while (greeted < r->nranks && !st) {
        if (atomic_load(&r->stop))
            return lpnas_fail(LPNAS_ERR_INTERRUPTED, "search: stopped on request while the ranks were starting");
        int src, tag;
        void *buf;
        size_t n;
        bool got;
        if ((st = t->poll(t, &src, &tag, &buf, &n, &got)))
            break;
        if (!got) {
            nap();
            continue;
        }
        if (tag == TAG_HELLO && n == sizeof(hello_msg) && src > 0 && src < r->nranks && !r->rank_slots[src]) {
            hello_msg h;
            memcpy(&h, buf, sizeof h);
            h.host[sizeof h.host - 1] = h.text[sizeof h.text - 1] = '\0';
            r->rank_slots[src] = h.slots > 0 ? h.slots : 1;
            snprintf(r->rank_host[src], sizeof r->rank_host[src], "%s", h.host);
            if (h.refused && !refusal) {
                refusal = LPNAS_ERR_ARG;
                snprintf(why, sizeof why, "rank %d (%s) cannot take part: %s", src, h.host, h.text);
            }
            greeted++;
        }
        free(buf);
    }
    if (st)
        return st;
    return refusal ? lpnas_fail(refusal, "%s", why) : LPNAS_OK;
}

lpnas_status lpnas_runner_send_candidate(lpnas_runner *r, int k, size_t index)
{
    cand_msg m;
    m.c = r->cand[index];
    m.seed = lpnas_runner_seed(r, &m.c);
    lpnas_transport *t = r->opt.transport;
    lpnas_status st = t->send(t, k, TAG_CAND, &m, sizeof m);
    if (!st)
        r->rank_busy[k]++;
    return st;
}

static void handle_result(lpnas_runner *r, int src, const char *buf, size_t n)
{
    result_head h;
    if (n < sizeof h)
        return;
    memcpy(&h, buf, sizeof h);
    h.text[sizeof h.text - 1] = '\0';
    if (r->rank_busy[src] > 0)
        r->rank_busy[src]--;
    uint64_t id = h.c.id;
    if (id >= r->count || r->cand[id].status != LPNAS_CAND_PENDING)
        return; /* not (or no longer) expected: e.g. finished before a resume */
    lpnas_candidate *c = &r->cand[id];
    lpnas_status st = (lpnas_status)h.status;
    const char *msg = h.text;
    char err[MSG_TEXT];
    lpnas_candidate got = h.c;
    if (!st && got.status == LPNAS_CAND_OK && r->problem.unpack) {
        /* the models reach the folder before the record says they exist */
        lpnas_status us = r->problem.unpack(r->problem.ctx, &got, buf + sizeof h, n - sizeof h);
        if (us) {
            snprintf(err, sizeof err, "%s", lpnas_last_error());
            st = LPNAS_ERR_IO, msg = err;
        }
    }
    pthread_mutex_lock(&r->mu);
    if (st == LPNAS_ERR_INTERRUPTED || st == LPNAS_ERR_IO)
        c->seconds = got.seconds; /* stays pending */
    else
        *c = got; /* the record as it left, plus its measurements */
    lpnas_runner_finish(r, c, st, msg, src);
    pthread_mutex_unlock(&r->mu);
}

lpnas_status lpnas_runner_poll_once(lpnas_runner *r, bool *got)
{
    lpnas_transport *t = r->opt.transport;
    int src, tag;
    void *buf;
    size_t n;
    lpnas_status st = t->poll(t, &src, &tag, &buf, &n, got);
    if (st || !*got)
        return st;
    if (tag == TAG_RESULT && src > 0 && src < r->nranks)
        handle_result(r, src, buf, n);
    free(buf);
    return LPNAS_OK;
}

static int remote_busy(const lpnas_runner *r)
{
    int b = 0;
    for (int k = 1; k < r->nranks; k++)
        b += r->rank_busy[k];
    return b;
}

lpnas_status lpnas_runner_evaluate_dist(lpnas_runner *r, lpnas_runner_work *w)
{
    /* this rank's own threads take from the same queue: rank 0 evaluates when idle */
    int nt = r->opt.workers < (int)w->n ? r->opt.workers : (int)w->n;
    pthread_t th[256];
    int started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, lpnas_runner_worker, w) != 0)
            break;
    lpnas_status st = LPNAS_OK;
    for (;;) {
        bool stop = atomic_load(&r->stop) != 0;
        for (int k = 1; k < r->nranks && !stop && !st; k++)
            while (r->rank_busy[k] < r->rank_slots[k]) {
                size_t i = atomic_fetch_add(&w->next, 1);
                if (i >= w->n)
                    break;
                if ((st = lpnas_runner_send_candidate(r, k, w->todo[i])))
                    break;
            }
        if (st || (remote_busy(r) == 0 && (stop || atomic_load(&w->next) >= w->n)))
            break;
        bool got = false;
        if ((st = lpnas_runner_poll_once(r, &got)))
            break;
        if (!got)
            nap();
    }
    if (st) {
        pthread_mutex_lock(&r->mu);
        if (!r->io_status) {
            r->io_status = st;
            snprintf(r->io_msg, sizeof r->io_msg, "%s", lpnas_last_error());
        }
        pthread_mutex_unlock(&r->mu);
        atomic_store(&r->stop, 1);
    }
    if (started == 0 && nt > 0 && !st) /* no thread could start: evaluate here */
        lpnas_runner_worker(w);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return LPNAS_OK;
}

/* STOP to every rank, then wait for each BYE; results that arrive
 * meanwhile are journaled like any other. */
static void dismiss(lpnas_transport *t, lpnas_runner *r)
{
    int bye = 1;
    for (int k = 1; k < t->size; k++)
        if (t->send(t, k, TAG_STOP, "", 0))
            bye++; /* unreachable: do not wait for it */
    while (bye < t->size) {
        int src, tag;
        void *buf;
        size_t n;
        bool got;
        if (t->poll(t, &src, &tag, &buf, &n, &got))
            return;
        if (!got) {
            nap();
            continue;
        }
        if (tag == TAG_BYE)
            bye++;
        else if (tag == TAG_RESULT && r && src > 0 && src < r->nranks)
            handle_result(r, src, buf, n);
        free(buf);
    }
}

void lpnas_runner_dismiss_all(lpnas_runner *r)
{
    dismiss(r->opt.transport, r);
    if (!r->check_only && r->journal)
        lpnas_runner_journal_sync(r);
}

void lpnas_runner_dismiss(lpnas_transport *t)
{
    if (t && t->size > 1 && t->rank == 0)
        dismiss(t, NULL);
}

/* ---- the other ranks -------------------------------------------------------- */

typedef struct {
    pthread_t th;
    atomic_int state; /* 0 free, 1 evaluating, 2 done */
    cand_msg in;
    lpnas_status st;
    char text[MSG_TEXT];
    void *files;
    size_t nfiles;
    const lpnas_problem *p;
    const atomic_int *stop;
} slot;

static void *slot_run(void *v)
{
    slot *s = v;
    lpnas_candidate *c = &s->in.c;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s->st = s->p->evaluate(s->p->ctx, c, s->in.seed, s->stop);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (s->st)
        snprintf(s->text, sizeof s->text, "%s", lpnas_last_error());
    else if (c->status == LPNAS_CAND_OK && s->p->pack && s->p->pack(s->p->ctx, c, &s->files, &s->nfiles)) {
        s->st = LPNAS_ERR_IO; /* like a full disk on rank 0: stop, redo on resume */
        snprintf(s->text, sizeof s->text, "%s", lpnas_last_error());
    }
    atomic_store(&s->state, 2);
    return NULL;
}

static lpnas_status send_result(lpnas_transport *t, slot *s)
{
    size_t n = sizeof(result_head) + s->nfiles;
    char *b = malloc(n);
    if (!b)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory for a result of %zu bytes", n);
    result_head h;
    memset(&h, 0, sizeof h);
    h.status = (int32_t)s->st;
    snprintf(h.text, sizeof h.text, "%s", s->text);
    h.c = s->in.c;
    memcpy(b, &h, sizeof h);
    if (s->nfiles)
        memcpy(b + sizeof h, s->files, s->nfiles);
    lpnas_status st = t->send(t, 0, TAG_RESULT, b, n);
    free(b);
    return st;
}

lpnas_status lpnas_runner_serve(lpnas_transport *t, const lpnas_problem *p, int workers, const char *refusal,
                                const atomic_int *stop)
{
    if (workers < 1 || workers > 256)
        workers = 1;
    slot *slots = calloc((size_t)workers, sizeof *slots);
    if (!slots)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    atomic_int halt; /* rank 0 said stop, or this rank was asked to stop */
    atomic_init(&halt, 0);
    hello_msg h;
    memset(&h, 0, sizeof h);
    h.slots = workers, h.refused = refusal != NULL;
    snprintf(h.host, sizeof h.host, "%s", t->host);
    snprintf(h.text, sizeof h.text, "%s", refusal ? refusal : "");
    lpnas_status st = t->send(t, 0, TAG_HELLO, &h, sizeof h);
    bool stopping = false;
    for (int i = 0; i < workers; i++)
        slots[i].p = p, slots[i].stop = &halt, atomic_init(&slots[i].state, 0);
    while (!st) {
        if (stop && atomic_load(stop))
            atomic_store(&halt, 1); /* candidates end early (pending on rank 0); rank 0 still says stop */
        bool busy = false, did = false;
        for (int i = 0; i < workers && !st; i++) {
            slot *s = &slots[i];
            int state = atomic_load(&s->state);
            if (state == 2) {
                pthread_join(s->th, NULL);
                st = send_result(t, s);
                free(s->files);
                s->files = NULL, s->nfiles = 0, s->text[0] = '\0';
                atomic_store(&s->state, 0);
                did = true;
            } else if (state == 1) {
                busy = true;
            }
        }
        if (st || (stopping && !busy))
            break;
        int src, tag;
        void *buf;
        size_t n;
        bool got;
        if ((st = t->poll(t, &src, &tag, &buf, &n, &got)))
            break;
        if (got && tag == TAG_STOP) {
            stopping = true;
            atomic_store(&halt, 1);
        } else if (got && tag == TAG_CAND && n == sizeof(cand_msg)) {
            int i = 0;
            while (i < workers && atomic_load(&slots[i].state) != 0)
                i++;
            slot *s = &slots[i < workers ? i : 0];
            if (i == workers) {
                st = lpnas_fail(LPNAS_ERR_ARG, "search: rank %d was sent more candidates than its %d workers", t->rank,
                                workers);
            } else {
                memcpy(&s->in, buf, sizeof s->in);
                s->st = LPNAS_OK;
                atomic_store(&s->state, 1);
                if (pthread_create(&s->th, NULL, slot_run, s) != 0) {
                    atomic_store(&s->state, 0);
                    st = lpnas_fail(LPNAS_ERR_NOMEM, "search: rank %d cannot start a worker thread", t->rank);
                }
            }
        }
        free(got ? buf : NULL);
        if (!got && !did)
            nap();
    }
    atomic_store(&halt, 1);
    for (int i = 0; i < workers; i++)
        if (atomic_load(&slots[i].state) != 0) {
            pthread_join(slots[i].th, NULL);
            free(slots[i].files);
        }
    free(slots);
    lpnas_status bs = t->send(t, 0, TAG_BYE, "", 0);
    if (st)
        return st;
    if (bs)
        return bs;
    if (refusal)
        return lpnas_fail(LPNAS_ERR_ARG, "%s", refusal);
    return stop && atomic_load(stop) ? lpnas_fail(LPNAS_ERR_INTERRUPTED, "search: rank %d stopped on request", t->rank)
                                     : LPNAS_OK;
}
