/* The architecture search (DESIGN §5): a search space of encoder-decoder
 * segmentation networks and their training hyper-parameters. */
#ifndef LPNAS_SEARCH_H
#define LPNAS_SEARCH_H

#include "lpnas/arch.h"
#include "lpnas/train.h"
#include "lpnas/latency.h"
#include "lpnas/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds of the search space. Widths are multiples of 8 (the device pads
 * channels to 8). */
typedef struct {
    int in_channels;      /* 3 */
    int min_stages, max_stages;  /* 2..4 */
    int widths[16];       /* allowed widths; default 8, 16, ..., 64 */
    int n_widths;
    int max_blocks;       /* 1..3 */
    int kernels[4];       /* allowed kernel sizes; default 3, 5 */
    int n_kernels;
    bool allow_separable, allow_inverted; /* block types besides plain convs; default true */
    int max_expansion;    /* inverted residual expansion 1..max; default 4 */
    int max_dec_blocks;   /* 1..2 */
    double lrs[8];        /* learning rates searched; default 1e-3, 2e-3, 3e-3, 5e-3 */
    int n_lrs;
    /* Per-stage weight-format genes (mixed precision): the formats the device
     * allows. 0 (default): no genes, every stage has the policy's format and
     * strings carry no suffix; 1: that format everywhere; 2..4: searched. */
    lpnas_wfmt wfmts[LPNAS_WFMT_COUNT];
    int n_wfmts;
} lpnas_space_options;

/* Training hyper-parameters searched alongside the architecture. */
typedef struct {
    double lr;
    lpnas_optimizer optimizer;
    lpnas_schedule schedule;
} lpnas_hparams;

void lpnas_space_options_default(lpnas_space_options *o);

/* ---- the search ---------------------------------------------------------- */

typedef enum { LPNAS_SEARCH_RANDOM = 0, LPNAS_SEARCH_EVOLUTION = 1, LPNAS_SEARCH_NSGA2 = 2 } lpnas_search_strategy;
/* aligned: judge candidates by mIoU after fine-tuning in the policy (this library's method;
 * with no fine-tuning steps, by post-hoc mIoU: still the device's numbers);
 * posthoc: by FP32 mIoU, the conventional NAS the paper compares against. */
typedef enum { LPNAS_MODE_ALIGNED = 0, LPNAS_MODE_POSTHOC = 1 } lpnas_search_mode;

typedef struct {
    int evaluated, feasible, infeasible, duplicates, failed; /* so far */
    int budget;
    double best;           /* best fitness (-inf if none yet) */
    const char *best_arch; /* valid during the callback */
    double evals_per_hour;
    double eta_seconds;    /* NaN while unknown */
    int pruned;            /* stopped early by the pruner (counted in evaluated) */
    double per_minute;     /* candidates trained per minute so far */
    int ranks;             /* processes taking part (1: threads in one process) */
    const int *rank_evaluated, *rank_busy; /* per rank: trained so far, evaluating now */
} lpnas_search_progress;

typedef struct {
    lpnas_space_options space;
    const lpnas_dataset *data;       /* required */
    const int *train, *val;          /* tile indices (required) */
    int ntrain, nval;
    const lpnas_dataset *val_data;   /* the data `val` indexes (NULL: data); same tile size and channels */
    const lpnas_policy *policy;      /* device policy (default myriadx) */
    lpnas_search_mode mode;
    const lpnas_latency_model *latency; /* required */
    double budget_ms;                /* latency budget (default 5) */
    double latency_slack;            /* trained up to budget * (1 + slack), penalized (default 0.1) */
    double latency_penalty;          /* fitness -= penalty * relative excess (default 1) */
    long long max_params;            /* default 200000 */
    long long max_peak_bytes;        /* device activations, binary16 (default 2.5 MB: the CMX) */
    int warmup_steps, finetune_steps, batch; /* per candidate: default 120, 40, 16 */
    lpnas_search_strategy strategy;  /* default evolution */
    int population, sample;          /* 16 and 4 */
    uint64_t seed;
    int evaluations;                 /* candidates to train (default 20) */
    int workers;                     /* threads (default 1) */
    int search_batch;                /* candidates asked at a time (default 4; results never depend on workers) */
    const char *out_dir;             /* results.csv, pareto.csv, best.lpm, search.state */
    bool resume;
    bool overwrite;                  /* start afresh over an existing search in out_dir (else refused) */
    bool raw_inputs;                 /* no input normalization: the network sees raw sensor values */
    long long max_weight_bytes;      /* model size budget (lpnas_arch_weight_bytes; default 0: none) */
    double crossover_prob;           /* evolution: share of children that recombine two tournament
                                      * winners (stage genes travel together), then mutate; default 0.25 */
    /* Median pruner (as Optuna's MedianPruner): during the FP32 warm-up, at
     * steps prune_warmup, prune_warmup + prune_interval, ... and at its end,
     * the FP32 validation mIoU is measured; a candidate below the median of
     * the finished (ok) candidates of earlier batches at the same step is
     * stopped and recorded as pruned. Only once prune_startup candidates
     * have finished. Default on: warm-up 40 steps, interval 20, startup 5. */
    bool prune;
    int prune_warmup, prune_interval, prune_startup;
    void (*progress)(void *user, const lpnas_search_progress *p);
    void *user;
    /* Distributed (docs/distributed.md): every rank calls lpnas_search_create
     * and lpnas_search_run with the same options; only rank 0 needs data,
     * train, val and latency (the data set is broadcast) and writes out_dir.
     * NULL: threads in this process. */
    lpnas_transport *transport;
    bool async;                      /* no batch barrier: faster, rows depend on timing */
} lpnas_search_options;

typedef struct {
    long id;                 /* -1 if nothing was trained */
    char arch[384];          /* identity: architecture string | training hyper-parameters */
    double latency_ms, miou_fp32, miou_posthoc, miou_aligned, vessel_iou;
    long long params;
    int evaluated, infeasible, duplicates, failed;
    int pruned;              /* of evaluated: stopped early by the pruner */
} lpnas_search_summary;

typedef struct lpnas_search lpnas_search;

void lpnas_search_options_default(lpnas_search_options *o);
lpnas_status lpnas_search_create(const lpnas_search_options *o, lpnas_search **out);
/* Runs to the evaluation budget. LPNAS_ERR_INTERRUPTED after a stop request
 * (everything finished is saved; resume with .resume = true, the same
 * options: a difference is LPNAS_ERR_ARG naming the option).
 * LPNAS_ERR_STOPPED when it ended before the budget (too many infeasible or
 * duplicate proposals; the message says which); the best model is kept as
 * for a finished search. LPNAS_ERR_IO when a file could not be written
 * (e.g. a full disk): everything finished before is saved and resumable.
 * On a rank other than 0 of a distributed search: evaluates what rank 0
 * sends until rank 0 ends the search (LPNAS_OK), or refuses (LPNAS_ERR_ARG)
 * when its options differ from rank 0's. */
lpnas_status lpnas_search_run(lpnas_search *s);
void lpnas_search_request_stop(lpnas_search *s); /* async-signal-safe */
void lpnas_search_summarize(const lpnas_search *s, lpnas_search_summary *out);
void lpnas_search_free(lpnas_search *s);

/* Every candidate so far, as results.csv has it (docs/search.md). */
typedef struct {
    long id;
    char arch[384];
    long long params;
    double latency_ms, miou_fp32, miou_posthoc, miou_aligned, vessel_iou; /* NaN: not measured */
    int status;       /* 1 ok, 2 infeasible, 3 failed, 4 duplicate, 5 pruned */
    bool on_front;    /* ok and no ok candidate is both faster and more accurate */
    double quality;   /* the mIoU the search ranks by (aligned, post-hoc or FP32: see the modes) */
    long long weight_bytes; /* model size on the device (lpnas_arch_weight_bytes); 0: not computed */
} lpnas_search_row;

/* *rows is malloc'ed (free it). */
lpnas_status lpnas_search_rows(const lpnas_search *s, lpnas_search_row **rows, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
