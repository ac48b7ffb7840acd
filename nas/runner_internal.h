/* Internal: the runner object shared by runner.c, runner_io.c and
 * runner_state.c. */
#ifndef LPNAS_NAS_RUNNER_INTERNAL_H
#define LPNAS_NAS_RUNNER_INTERNAL_H

#include <pthread.h>
#include <stdio.h>

#include "nas/runner.h"

struct lpnas_runner {
    lpnas_runner_options opt;
    lpnas_problem problem;
    lpnas_strategy *strategy;
    lpnas_candidate *cand; /* every candidate so far, by id */
    size_t count, capacity;
    size_t told;           /* candidates told to the strategy; [told, count) is the open batch */
    size_t rows_written;   /* rows of results.csv written (in id order) */
    FILE *csv;             /* results.csv, appending */
    FILE *journal;         /* search.journal, appending */
    uint64_t journal_len;  /* bytes of search.journal written */
    int rejections;        /* consecutive infeasible proposals */
    int duplicate_run;     /* consecutive duplicate proposals */
    int lock_fd;           /* search.lock, flock'ed; -1 if none */
    char *config;          /* the full configuration text (runner keys + opt.config) */
    pthread_mutex_t mu;    /* workers finishing: journal and rows */
    lpnas_status io_status; /* first write failure of a worker (stops the search) */
    char io_msg[512];
    bool check_only;       /* loading for a check: never repair files */
    atomic_int stop;
    /* per rank (1 without a transport): slots (worker threads), candidates
     * evaluated, in flight now; host names */
    int nranks;
    int *rank_slots, *rank_done, *rank_busy;
    char (*rank_host)[64];
    double t_start;
};

/* A batch handed to worker threads: they take indices from next. */
typedef struct {
    lpnas_runner *r;
    size_t *todo; /* candidate indices to evaluate */
    size_t n;
    atomic_size_t next;
} lpnas_runner_work;

void *lpnas_runner_worker(void *work);
/* A candidate whose evaluation ended with st (msg: its error text):
 * recorded, journaled, rows appended. The caller holds r->mu. */
void lpnas_runner_finish(lpnas_runner *r, lpnas_candidate *c, lpnas_status st, const char *msg, int rank);
uint64_t lpnas_runner_seed(const lpnas_runner *r, const lpnas_candidate *c);
void lpnas_runner_progress(lpnas_runner *r);
bool lpnas_runner_distributed(const lpnas_runner *r);

/* runner_dist.c (rank 0 of a distributed search) */
lpnas_status lpnas_runner_hello(lpnas_runner *r);
/* Evaluates w's batch on this rank's threads and on the other ranks. */
lpnas_status lpnas_runner_evaluate_dist(lpnas_runner *r, lpnas_runner_work *w);
/* Sends one candidate to rank k (async mode). */
lpnas_status lpnas_runner_send_candidate(lpnas_runner *r, int k, size_t index);
/* Handles one waiting message if any (a result is finished and journaled);
 * *got says whether there was one. */
lpnas_status lpnas_runner_poll_once(lpnas_runner *r, bool *got);
/* Stops the other ranks; results still arriving are kept. */
void lpnas_runner_dismiss_all(lpnas_runner *r);

/* runner_async.c */
lpnas_status lpnas_runner_run_async(lpnas_runner *r);
/* Asks one candidate (cheap checks, duplicates); *train: it needs evaluating. */
lpnas_status lpnas_runner_ask_one(lpnas_runner *r, bool *train);
/* Scores and tells every final candidate next in id order. */
void lpnas_runner_tell_ready(lpnas_runner *r);

extern const char lpnas_results_header[];
lpnas_status lpnas_runner_reserve(lpnas_runner *r, size_t n);
size_t lpnas_format_result_row(const lpnas_candidate *c, char *buf, size_t cap);
lpnas_status lpnas_runner_path(const lpnas_runner *r, const char *name, char *buf, size_t cap);
/* Copies the measurements of a duplicate's original into it; false while
 * the original has not finished. */
bool lpnas_runner_settle_duplicate(lpnas_runner *r, lpnas_candidate *c);
/* Appends (and fsyncs) every row that is next in id order and final. */
lpnas_status lpnas_runner_append_rows(lpnas_runner *r);
/* results.csv: a fresh one with the header, or (resume) rebuilt from the
 * records atomically; then opened for appending. */
lpnas_status lpnas_runner_open_csv(lpnas_runner *r, bool fresh);
lpnas_status lpnas_runner_write_pareto(lpnas_runner *r);

/* runner_state.c */
lpnas_status lpnas_runner_build_config(lpnas_runner *r);
lpnas_status lpnas_runner_journal_open(lpnas_runner *r, bool fresh);
/* One record, flushed; fsynced when sync (a finished evaluation). */
lpnas_status lpnas_runner_journal_append(lpnas_runner *r, const lpnas_candidate *c, bool sync);
lpnas_status lpnas_runner_journal_sync(lpnas_runner *r);
lpnas_status lpnas_runner_save_state(lpnas_runner *r);
lpnas_status lpnas_runner_load_state(lpnas_runner *r);
/* Loads out_dir's state as a resume would (no lock, no files written):
 * for the fuzz harness and for checks. */
lpnas_status lpnas_runner_check_state(const lpnas_runner_options *o, const lpnas_problem *p);

#endif
