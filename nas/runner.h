/* Internal: the search loop — asks a strategy for candidates, rejects the
 * infeasible ones cheaply, never trains a duplicate, evaluates the rest on
 * N worker threads, and keeps every finished result safe on disk.
 *
 * Determinism: candidates are asked in batches of a fixed size (not tied to
 * the number of workers); within a batch they train in parallel, each with a
 * seed derived from (search seed, candidate id); results are told to the
 * strategy and written to results.csv in candidate-id order. So 1 worker and
 * 8 workers give the same rows, and a resumed run equals a straight one.
 *
 * Durability (docs/search.md, "Files and resume"):
 *   - the folder is locked (flock on search.lock) for the runner's life:
 *     a second process on it gets an error naming the running one;
 *   - search.journal is append-only: every asked candidate, and every
 *     finished evaluation the moment it finishes, is one CRC-checked
 *     record, fsynced (O(1) per candidate, never the whole history);
 *   - search.state is a small snapshot rewritten atomically (temp file,
 *     fsync, rename) once per batch, after asking it: the configuration,
 *     the strategy and how much of the journal it covers;
 *   - results.csv rows are appended in id order as they become final and
 *     fsynced; on resume results.csv and pareto.csv are rebuilt from the
 *     records, so a kill -9 at any moment loses and repeats nothing that
 *     had finished, and a stop mid-batch keeps every finished candidate. */
#ifndef LPNAS_NAS_RUNNER_H
#define LPNAS_NAS_RUNNER_H

#include <stdatomic.h>

#include "lpnas/search.h"
#include "lpnas/transport.h"
#include "nas/strategy.h"

#define LPNAS_ARCH_TEXT_MAX 256
#define LPNAS_REASON_MAX 160

/* Append-only: written to the state file and results.csv. */
typedef enum {
    LPNAS_CAND_PENDING = 0,    /* asked, not yet evaluated */
    LPNAS_CAND_OK = 1,         /* trained and measured */
    LPNAS_CAND_INFEASIBLE = 2, /* over a budget: never trained */
    LPNAS_CAND_FAILED = 3,     /* training failed (NaN, divergence) */
    LPNAS_CAND_DUPLICATE = 4,  /* same architecture as an earlier candidate: result reused */
    LPNAS_CAND_PRUNED = 5      /* stopped early by the pruner: measured at that step, never finished */
} lpnas_cand_status;

/* Pruner checkpoints per candidate (validation mIoU during training). */
#define LPNAS_PRUNE_POINTS 16

const char *lpnas_cand_status_name(lpnas_cand_status s); /* "ok", "infeasible", ... */

/* One candidate = one row of results.csv. NaN marks what was not measured. */
typedef struct {
    uint64_t id;
    lpnas_genome genome;
    char arch[LPNAS_ARCH_TEXT_MAX]; /* canonical architecture string: the identity */
    int64_t params, flops, peak_bytes;
    double latency_ms;
    double miou_fp32, miou_posthoc, miou_aligned, vessel_iou;
    int64_t skipped_steps;
    double seconds;
    /* model size on the device (the problem's derive hook; -1: not known).
     * A pure function of the genome and the checked configuration, so it is
     * not in the journal record: derive fills it again on resume. */
    int64_t weight_bytes;
    lpnas_cand_status status;
    int64_t dup_of; /* id of the original for duplicates, else -1 */
    char reason[LPNAS_REASON_MAX];
    lpnas_outcome outcome; /* what the strategy was told */
    /* the pruner's validation mIoU at each checkpoint (NaN: not reached);
     * saved in the state, so a resumed search prunes as a straight one */
    double curve[LPNAS_PRUNE_POINTS];
    double prune_median[LPNAS_PRUNE_POINTS]; /* thresholds set before evaluation (NaN: none); not saved */
} lpnas_candidate;

/* What the runner needs from a problem (e.g. vessel segmentation). */
typedef struct {
    void *ctx;
    lpnas_space_ops space;
    /* Cheap, on the search thread: fill arch, params, flops, peak_bytes,
     * latency_ms. Return false when over a budget, with reason and
     * outcome.point.violation (> 0) set. A non-OK status aborts the search. */
    lpnas_status (*precheck)(void *ctx, lpnas_candidate *c, bool *feasible);
    /* Expensive, on a worker thread, thread-safe: train and measure, set
     * status OK or FAILED (+reason). Return LPNAS_ERR_INTERRUPTED if *stop
     * became nonzero (the candidate stays pending); any other non-OK status
     * is recorded as a failure, except LPNAS_ERR_IO (e.g. a full disk while
     * saving the model), which stops the search with that error. */
    lpnas_status (*evaluate)(void *ctx, lpnas_candidate *c, uint64_t seed, const atomic_int *stop);
    /* Turn measurements into c->outcome (objectives, violation, fitness). */
    void (*score)(void *ctx, lpnas_candidate *c);
    /* Optional: is a genome loaded from a state file inside this space? */
    bool (*valid)(void *ctx, const lpnas_genome *g);
    /* Optional, for a distributed search: on the rank that evaluated c, the
     * files evaluate wrote for it as one malloc'ed buffer (and removed);
     * on rank 0, written into the output folder before c is journaled. */
    lpnas_status (*pack)(void *ctx, const lpnas_candidate *c, void **buf, size_t *n);
    lpnas_status (*unpack)(void *ctx, const lpnas_candidate *c, const void *buf, size_t n);
    /* Optional: fill the fields that are pure functions of the genome and
     * the checked configuration (weight_bytes). Called before precheck for
     * every asked candidate and for every candidate read back on resume, so
     * journals need not carry them (and journals written before the field
     * existed resume with it filled). */
    void (*derive)(void *ctx, lpnas_candidate *c);
} lpnas_problem;

typedef void (*lpnas_search_progress_fn)(void *user, const lpnas_search_progress *p);

typedef struct {
    lpnas_strategy_options strategy;
    int budget;          /* candidates to train (ok + failed) */
    int batch;           /* candidates asked at a time (default 4); results never depend on workers */
    int workers;         /* threads (default 1) */
    int max_rejections;  /* consecutive infeasible proposals before giving up (default 2000) */
    int max_duplicates;  /* consecutive duplicate proposals before stopping as converged (default 500) */
    const char *out_dir; /* results.csv, pareto.csv, search.state */
    bool resume;         /* continue from out_dir/search.state */
    bool overwrite;      /* start afresh even where a search.state exists (else refused) */
    /* The caller's configuration as "key=value" lines; stored in the state
     * and compared on resume (with the runner's own: batch, strategy,
     * population, sample, seed, ...); a difference names the key and both
     * values. budget is not part of it: a resume may extend a search. */
    const char *config;
    lpnas_search_progress_fn progress;
    void *progress_user;
    /* NULL or size 1: threads in this process. Else this is rank 0 of a
     * distributed search: the other ranks run lpnas_runner_serve. */
    lpnas_transport *transport;
    /* Candidates asked one at a time as evaluation slots free up, told in
     * id order as they complete (no batch barrier): more throughput, but
     * the rows then depend on timing (docs/distributed.md). */
    bool async;
} lpnas_runner_options;

void lpnas_runner_options_default(lpnas_runner_options *o);

typedef struct lpnas_runner lpnas_runner;

lpnas_status lpnas_runner_create(const lpnas_runner_options *o, const lpnas_problem *problem,
                                 lpnas_runner **out);
/* Runs until the budget is spent, the search converges, or a stop is
 * requested (then LPNAS_ERR_INTERRUPTED, with everything finished saved).
 * LPNAS_ERR_STOPPED when it ended before the budget (too many infeasible
 * or duplicate proposals in a row); the message says which. */
lpnas_status lpnas_runner_run(lpnas_runner *r);
/* Async-signal-safe: may be called from a SIGINT handler. */
void lpnas_runner_request_stop(lpnas_runner *r);
void lpnas_runner_free(lpnas_runner *r);

/* A rank other than 0 of a distributed search: evaluates what rank 0
 * sends on `workers` threads until rank 0 says stop. `refusal`, when not
 * NULL, is sent to rank 0 instead (e.g. options that differ), which then
 * ends the job with it. *stop: a local stop request (SIGINT). */
lpnas_status lpnas_runner_serve(lpnas_transport *t, const lpnas_problem *p, int workers, const char *refusal,
                                const atomic_int *stop);
/* Rank 0, when no runner could be made: tells the other ranks to stop. */
void lpnas_runner_dismiss(lpnas_transport *t);

/* All candidate records so far, in id order. */
size_t lpnas_runner_candidates(const lpnas_runner *r, const lpnas_candidate **out);
/* Index of the best OK candidate by fitness, or -1. */
long lpnas_runner_best(const lpnas_runner *r);

#endif
