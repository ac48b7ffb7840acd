/* Internal: search strategies behind one ask/tell interface (DESIGN §5).
 *
 * A strategy knows nothing of networks: it proposes genomes (fixed-length
 * integer vectors) through a space's operators and learns from the results
 * it is told. Given the same seed and the same sequence of ask/tell calls it
 * proposes the same genomes, so a search that asks and tells in candidate-id
 * order is reproducible whatever the number of worker threads. */
#ifndef LPNAS_NAS_STRATEGY_H
#define LPNAS_NAS_STRATEGY_H

#include <stdio.h>

#include "base/rng.h"
#include "nas/pareto.h"

#define LPNAS_GENOME_MAX 64

typedef struct {
    int n;
    int32_t g[LPNAS_GENOME_MAX];
} lpnas_genome;

/* The operators of a search space. Every genome they produce must be valid
 * (DESIGN §5: valid by construction). mutate must change the genome. */
typedef struct {
    void *ctx;
    void (*random)(void *ctx, lpnas_rng *rng, lpnas_genome *out);
    void (*mutate)(void *ctx, lpnas_rng *rng, lpnas_genome *g);
    void (*crossover)(void *ctx, lpnas_rng *rng, const lpnas_genome *a, const lpnas_genome *b,
                      lpnas_genome *child);
} lpnas_space_ops;

/* Append-only: written to checkpoints. */
typedef enum {
    LPNAS_STRATEGY_RANDOM = 0,
    LPNAS_STRATEGY_EVOLUTION = 1, /* aging (regularized) evolution, Real et al. 2019 */
    LPNAS_STRATEGY_NSGA2 = 2      /* Deb et al. 2002, constrained domination */
} lpnas_strategy_kind;

typedef struct {
    lpnas_strategy_kind kind;
    int population;        /* evolution: P, nsga2: N (default 16) */
    int sample;            /* evolution: tournament size S (default 4) */
    double crossover_prob; /* probability a child is a crossover of two parents (evolution 0.25, nsga2 0.5) */
    int n_obj;             /* objectives in lpnas_point used by nsga2 (1..LPNAS_MAX_OBJECTIVES) */
    uint64_t seed;
} lpnas_strategy_options;

/* What the strategy is told about a candidate. */
typedef struct {
    lpnas_point point; /* minimized objectives and constraint violation (nsga2) */
    double fitness;    /* higher is better (evolution); ignored if failed */
    bool failed;       /* training failed (NaN, divergence): never a parent */
} lpnas_outcome;

typedef struct lpnas_strategy lpnas_strategy;

void lpnas_strategy_options_default(lpnas_strategy_options *o, lpnas_strategy_kind kind);
const char *lpnas_strategy_kind_name(lpnas_strategy_kind k); /* "random", "evolution", "nsga2" */
lpnas_status lpnas_strategy_kind_parse(const char *name, lpnas_strategy_kind *out);

lpnas_status lpnas_strategy_create(const lpnas_strategy_options *o, const lpnas_space_ops *space,
                                   lpnas_strategy **out);
void lpnas_strategy_free(lpnas_strategy *s);
void lpnas_strategy_ask(lpnas_strategy *s, lpnas_genome *out);
void lpnas_strategy_tell(lpnas_strategy *s, const lpnas_genome *g, const lpnas_outcome *r);

/* The parents NSGA-II keeps, or the aging population; for reports. */
size_t lpnas_strategy_population(const lpnas_strategy *s, const lpnas_genome **genomes,
                                 const lpnas_outcome **outcomes);

/* The whole state (options, RNG, population, counters), with its own magic,
 * version and CRC. load needs the same space operators as create. */
lpnas_status lpnas_strategy_save(const lpnas_strategy *s, FILE *f);
lpnas_status lpnas_strategy_load(FILE *f, const lpnas_space_ops *space, lpnas_strategy **out);

#endif
