/* Random search, aging evolution and NSGA-II behind one ask/tell interface.
 *
 * Aging evolution (Real et al. 2019, "regularized evolution"): a queue of at
 * most P members; a child is the best of S members sampled at random,
 * mutated (optionally crossed with a second tournament winner first); every
 * tell pushes the newcomer and removes the oldest, so a lucky early member
 * cannot dominate forever.
 *
 * NSGA-II (Deb et al. 2002) with constrained domination: children come from
 * binary tournaments on (front rank, crowding distance) among the N parents;
 * once N children are told, parents + children are sorted into fronts and
 * the best N survive, the last front cut by crowding distance. */
#include "nas/strategy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/binio.h"
#include "base/error.h"

struct lpnas_strategy {
    lpnas_strategy_options opt;
    lpnas_space_ops space;
    lpnas_rng rng;
    uint64_t asked, told;

    /* aging evolution: ring buffer of up to P members, oldest at `head` */
    lpnas_genome *pop_g;
    lpnas_outcome *pop_o;
    int pop_len, pop_head;

    /* nsga2: parents with their front rank and crowding distance, and the
     * children told since the last selection */
    lpnas_genome *par_g;
    lpnas_outcome *par_o;
    int *par_rank;
    double *par_crowd;
    int par_len;
    lpnas_genome *off_g;
    lpnas_outcome *off_o;
    int off_len;
    /* selection scratch for the 2N combined points, allocated once */
    lpnas_point *pts;
    void *sort_scratch;
    int *rank, *members, *order, *chosen, *tmp_rank;
    double *dist, *crowd;
    lpnas_genome *tmp_g;
    lpnas_outcome *tmp_o;
};

static const char *const kind_names[] = {"random", "evolution", "nsga2"};

const char *lpnas_strategy_kind_name(lpnas_strategy_kind k)
{
    return (unsigned)k < 3 ? kind_names[k] : "unknown";
}

lpnas_status lpnas_strategy_kind_parse(const char *name, lpnas_strategy_kind *out)
{
    for (int k = 0; k < 3; k++)
        if (name && strcmp(name, kind_names[k]) == 0) {
            *out = (lpnas_strategy_kind)k;
            return LPNAS_OK;
        }
    return lpnas_fail(LPNAS_ERR_NOT_FOUND, "unknown strategy '%s' (known: random, evolution, nsga2)",
                      name ? name : "(null)");
}

void lpnas_strategy_options_default(lpnas_strategy_options *o, lpnas_strategy_kind kind)
{
    o->kind = kind;
    o->population = 16;
    o->sample = 4;
    /* evolution: a quarter of the children recombine two tournament winners
     * before the mutation (Real et al. 2019 mutate only; recombination lets
     * good encoders and decoders found apart meet) */
    o->crossover_prob = kind == LPNAS_STRATEGY_NSGA2 ? 0.5 : kind == LPNAS_STRATEGY_EVOLUTION ? 0.25 : 0.0;
    o->n_obj = 2;
    o->seed = 1;
}

static lpnas_status validate(const lpnas_strategy_options *o, const lpnas_space_ops *space)
{
    if ((unsigned)o->kind > LPNAS_STRATEGY_NSGA2)
        return lpnas_fail(LPNAS_ERR_ARG, "strategy: kind %d is not a strategy", (int)o->kind);
    if (o->population < 2 || o->population > 4096)
        return lpnas_fail(LPNAS_ERR_ARG, "strategy: population %d (must be 2..4096)", o->population);
    if (o->sample < 1 || o->sample > o->population)
        return lpnas_fail(LPNAS_ERR_ARG, "strategy: tournament sample %d (must be 1..population %d)",
                          o->sample, o->population);
    if (!(o->crossover_prob >= 0.0 && o->crossover_prob <= 1.0))
        return lpnas_fail(LPNAS_ERR_ARG, "strategy: crossover probability %g (must be 0..1)",
                          o->crossover_prob);
    if (o->n_obj < 1 || o->n_obj > LPNAS_MAX_OBJECTIVES)
        return lpnas_fail(LPNAS_ERR_ARG, "strategy: %d objectives (must be 1..%d)", o->n_obj,
                          LPNAS_MAX_OBJECTIVES);
    if (!space || !space->random || !space->mutate || (o->crossover_prob > 0 && !space->crossover))
        return lpnas_fail(LPNAS_ERR_ARG, "strategy: the search space lacks an operator");
    return LPNAS_OK;
}

void lpnas_strategy_free(lpnas_strategy *s)
{
    if (!s) return;
    free(s->pop_g);
    free(s->pop_o);
    free(s->par_g);
    free(s->par_o);
    free(s->par_rank);
    free(s->par_crowd);
    free(s->off_g);
    free(s->off_o);
    free(s->pts);
    free(s->sort_scratch);
    free(s->rank);
    free(s->members);
    free(s->order);
    free(s->chosen);
    free(s->tmp_rank);
    free(s->dist);
    free(s->crowd);
    free(s->tmp_g);
    free(s->tmp_o);
    free(s);
}

lpnas_status lpnas_strategy_create(const lpnas_strategy_options *o, const lpnas_space_ops *space,
                                   lpnas_strategy **out)
{
    *out = NULL;
    lpnas_status st = validate(o, space);
    if (st) return st;
    lpnas_strategy *s = calloc(1, sizeof *s);
    if (!s) return lpnas_fail(LPNAS_ERR_NOMEM, "strategy: out of memory");
    s->opt = *o;
    s->space = *space;
    lpnas_rng_derive(&s->rng, o->seed, 0x5EA5C4, (uint64_t)o->kind);
    size_t p = (size_t)o->population, p2 = 2 * p;
    s->pop_g = calloc(p, sizeof *s->pop_g);
    s->pop_o = calloc(p, sizeof *s->pop_o);
    s->par_g = calloc(p2, sizeof *s->par_g);
    s->par_o = calloc(p2, sizeof *s->par_o);
    s->par_rank = calloc(p2, sizeof *s->par_rank);
    s->par_crowd = calloc(p2, sizeof *s->par_crowd);
    s->off_g = calloc(p, sizeof *s->off_g);
    s->off_o = calloc(p, sizeof *s->off_o);
    s->pts = calloc(p2, sizeof *s->pts);
    s->sort_scratch = malloc(lpnas_nondominated_sort_scratch(p2));
    s->rank = calloc(p2, sizeof(int));
    s->members = calloc(p2, sizeof(int));
    s->order = calloc(p2, sizeof(int));
    s->chosen = calloc(p2, sizeof(int));
    s->tmp_rank = calloc(p2, sizeof(int));
    s->dist = calloc(p2, sizeof(double));
    s->crowd = calloc(p2, sizeof(double));
    s->tmp_g = calloc(p2, sizeof *s->tmp_g);
    s->tmp_o = calloc(p2, sizeof *s->tmp_o);
    if (!s->pop_g || !s->pop_o || !s->par_g || !s->par_o || !s->par_rank || !s->par_crowd || !s->off_g ||
        !s->off_o || !s->pts || !s->sort_scratch || !s->rank || !s->members || !s->order || !s->chosen ||
        !s->tmp_rank || !s->dist || !s->crowd || !s->tmp_g || !s->tmp_o) {
        lpnas_strategy_free(s);
        return lpnas_fail(LPNAS_ERR_NOMEM, "strategy: out of memory for population %d", o->population);
    }
    *out = s;
    return LPNAS_OK;
}

/* ---- aging evolution ---------------------------------------------------- */

static const lpnas_genome *tournament_aging(lpnas_strategy *s)
{
    int best = -1;
    for (int k = 0; k < s->opt.sample; k++) {
        /* Index by age (0 = oldest), not by storage slot, so that a
         * population reloaded from a checkpoint samples identically. */
        int age = (int)lpnas_rng_below(&s->rng, (uint64_t)s->pop_len);
        int i = (s->pop_head + age) % s->opt.population;
        if (best < 0 || s->pop_o[i].fitness > s->pop_o[best].fitness) best = i;
    }
    return &s->pop_g[best];
}

static void ask_evolution(lpnas_strategy *s, lpnas_genome *out)
{
    if (s->asked < (uint64_t)s->opt.population || s->pop_len == 0) {
        s->space.random(s->space.ctx, &s->rng, out);
        return;
    }
    *out = *tournament_aging(s);
    if (s->opt.crossover_prob > 0 && lpnas_rng_uniform_f64(&s->rng) < s->opt.crossover_prob) {
        lpnas_genome a = *out;
        const lpnas_genome *b = tournament_aging(s);
        s->space.crossover(s->space.ctx, &s->rng, &a, b, out);
    }
    s->space.mutate(s->space.ctx, &s->rng, out);
}

static void tell_evolution(lpnas_strategy *s, const lpnas_genome *g, const lpnas_outcome *r)
{
    if (r->failed || !isfinite(r->fitness)) return; /* never a parent */
    int p = s->opt.population;
    if (s->pop_len < p) {
        int at = (s->pop_head + s->pop_len) % p;
        s->pop_g[at] = *g;
        s->pop_o[at] = *r;
        s->pop_len++;
    } else { /* the newcomer takes the oldest's place */
        s->pop_g[s->pop_head] = *g;
        s->pop_o[s->pop_head] = *r;
        s->pop_head = (s->pop_head + 1) % p;
    }
}

/* ---- NSGA-II ------------------------------------------------------------ */

static int tournament_nsga2(lpnas_strategy *s)
{
    int i = (int)lpnas_rng_below(&s->rng, (uint64_t)s->par_len);
    int j = (int)lpnas_rng_below(&s->rng, (uint64_t)s->par_len);
    if (s->par_rank[j] < s->par_rank[i]) return j;
    if (s->par_rank[j] == s->par_rank[i] && s->par_crowd[j] > s->par_crowd[i]) return j;
    return i;
}

static void ask_nsga2(lpnas_strategy *s, lpnas_genome *out)
{
    if (s->par_len == 0) {
        s->space.random(s->space.ctx, &s->rng, out);
        return;
    }
    *out = s->par_g[tournament_nsga2(s)];
    if (s->opt.crossover_prob > 0 && lpnas_rng_uniform_f64(&s->rng) < s->opt.crossover_prob) {
        lpnas_genome a = *out;
        s->space.crossover(s->space.ctx, &s->rng, &a, &s->par_g[tournament_nsga2(s)], out);
    }
    s->space.mutate(s->space.ctx, &s->rng, out);
}

/* Parents + children -> the best N, by fronts then crowding distance. */
static void select_nsga2(lpnas_strategy *s)
{
    int n = s->par_len + s->off_len, keep = s->opt.population, n_obj = s->opt.n_obj;
    /* The combined set lives in the parent arrays (sized 2N). */
    for (int i = 0; i < s->off_len; i++) {
        s->par_g[s->par_len + i] = s->off_g[i];
        s->par_o[s->par_len + i] = s->off_o[i];
    }
    s->off_len = 0;
    for (int i = 0; i < n; i++) s->pts[i] = s->par_o[i].point;
    int *rank = s->rank, *members = s->members, *chosen = s->chosen;
    double *dist = s->dist;
    int fronts = lpnas_nondominated_sort(s->pts, (size_t)n, n_obj, rank, s->sort_scratch);

    int taken = 0;
    for (int f = 0; f < fronts && taken < keep; f++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (rank[i] == f) members[m++] = i;
        lpnas_crowding_distance(s->pts, members, (size_t)m, n_obj, dist, s->order);
        if (taken + m > keep) {
            /* Stable selection by decreasing crowding distance (insertion
             * sort, so ties keep candidate order and results are the same
             * on every libc). */
            for (int a = 1; a < m; a++) {
                int mv = members[a];
                double dv = dist[a];
                int b = a;
                while (b > 0 && dist[b - 1] < dv) {
                    members[b] = members[b - 1];
                    dist[b] = dist[b - 1];
                    b--;
                }
                members[b] = mv;
                dist[b] = dv;
            }
            m = keep - taken;
        }
        for (int a = 0; a < m; a++) {
            chosen[taken] = members[a];
            s->crowd[taken] = dist[a];
            taken++;
        }
    }
    /* Compact the survivors to the front of the arrays, in chosen order. */
    for (int a = 0; a < taken; a++) {
        s->tmp_g[a] = s->par_g[chosen[a]];
        s->tmp_o[a] = s->par_o[chosen[a]];
        s->tmp_rank[a] = rank[chosen[a]];
    }
    for (int a = 0; a < taken; a++) {
        s->par_g[a] = s->tmp_g[a];
        s->par_o[a] = s->tmp_o[a];
        s->par_rank[a] = s->tmp_rank[a];
        s->par_crowd[a] = s->crowd[a];
    }
    s->par_len = taken;
}

static void tell_nsga2(lpnas_strategy *s, const lpnas_genome *g, const lpnas_outcome *r)
{
    if (r->failed) return;
    s->off_g[s->off_len] = *g;
    s->off_o[s->off_len] = *r;
    s->off_len++;
    if (s->off_len >= s->opt.population) select_nsga2(s);
}

/* ---- the interface ------------------------------------------------------ */

void lpnas_strategy_ask(lpnas_strategy *s, lpnas_genome *out)
{
    switch (s->opt.kind) {
    case LPNAS_STRATEGY_RANDOM: s->space.random(s->space.ctx, &s->rng, out); break;
    case LPNAS_STRATEGY_EVOLUTION: ask_evolution(s, out); break;
    case LPNAS_STRATEGY_NSGA2: ask_nsga2(s, out); break;
    }
    s->asked++;
}

void lpnas_strategy_tell(lpnas_strategy *s, const lpnas_genome *g, const lpnas_outcome *r)
{
    s->told++;
    if (s->opt.kind == LPNAS_STRATEGY_EVOLUTION) tell_evolution(s, g, r);
    else if (s->opt.kind == LPNAS_STRATEGY_NSGA2) tell_nsga2(s, g, r);
}

size_t lpnas_strategy_population(const lpnas_strategy *s, const lpnas_genome **genomes,
                                 const lpnas_outcome **outcomes)
{
    if (s->opt.kind == LPNAS_STRATEGY_NSGA2) {
        *genomes = s->par_g;
        *outcomes = s->par_o;
        return (size_t)s->par_len;
    }
    /* The aging ring is returned as stored; order is irrelevant to readers. */
    *genomes = s->pop_g;
    *outcomes = s->pop_o;
    return (size_t)s->pop_len;
}

/* ---- state files -------------------------------------------------------- */

static const char strategy_magic[8] = {'L', 'P', 'N', 'A', 'S', 'S', 'T', 'R'};
#define STRATEGY_VERSION 1u

static void put_genome(lpnas_binio *b, const lpnas_genome *g)
{
    lpnas_binio_i32_w(b, g->n);
    for (int i = 0; i < g->n; i++) lpnas_binio_i32_w(b, g->g[i]);
}

static bool get_genome(lpnas_binio *b, lpnas_genome *g)
{
    memset(g, 0, sizeof *g);
    g->n = lpnas_binio_i32_r(b);
    if (g->n < 0 || g->n > LPNAS_GENOME_MAX) return false;
    for (int i = 0; i < g->n; i++) g->g[i] = lpnas_binio_i32_r(b);
    return !b->failed;
}

static void put_outcome(lpnas_binio *b, const lpnas_outcome *o)
{
    for (int k = 0; k < LPNAS_MAX_OBJECTIVES; k++) lpnas_binio_f64_w(b, o->point.obj[k]);
    lpnas_binio_f64_w(b, o->point.violation);
    lpnas_binio_f64_w(b, o->fitness);
    lpnas_binio_u32_w(b, o->failed ? 1u : 0u);
}

static void get_outcome(lpnas_binio *b, lpnas_outcome *o)
{
    for (int k = 0; k < LPNAS_MAX_OBJECTIVES; k++) o->point.obj[k] = lpnas_binio_f64_r(b);
    o->point.violation = lpnas_binio_f64_r(b);
    o->fitness = lpnas_binio_f64_r(b);
    o->failed = lpnas_binio_u32_r(b) != 0;
}

lpnas_status lpnas_strategy_save(const lpnas_strategy *s, FILE *f)
{
    lpnas_binio b;
    lpnas_binio_init(&b, f);
    lpnas_binio_bytes_w(&b, strategy_magic, sizeof strategy_magic);
    lpnas_binio_u32_w(&b, STRATEGY_VERSION);
    lpnas_binio_u32_w(&b, (uint32_t)s->opt.kind);
    lpnas_binio_i32_w(&b, s->opt.population);
    lpnas_binio_i32_w(&b, s->opt.sample);
    lpnas_binio_f64_w(&b, s->opt.crossover_prob);
    lpnas_binio_i32_w(&b, s->opt.n_obj);
    lpnas_binio_u64_w(&b, s->opt.seed);
    for (int i = 0; i < 4; i++) lpnas_binio_u64_w(&b, s->rng.s[i]);
    lpnas_binio_u64_w(&b, s->asked);
    lpnas_binio_u64_w(&b, s->told);
    lpnas_binio_i32_w(&b, s->pop_len);
    lpnas_binio_i32_w(&b, s->pop_head);
    for (int i = 0; i < s->pop_len; i++) {
        int at = (s->pop_head + i) % s->opt.population;
        put_genome(&b, &s->pop_g[at]);
        put_outcome(&b, &s->pop_o[at]);
    }
    lpnas_binio_i32_w(&b, s->par_len);
    for (int i = 0; i < s->par_len; i++) {
        put_genome(&b, &s->par_g[i]);
        put_outcome(&b, &s->par_o[i]);
        lpnas_binio_i32_w(&b, s->par_rank[i]);
        lpnas_binio_f64_w(&b, s->par_crowd[i]);
    }
    lpnas_binio_i32_w(&b, s->off_len);
    for (int i = 0; i < s->off_len; i++) {
        put_genome(&b, &s->off_g[i]);
        put_outcome(&b, &s->off_o[i]);
    }
    uint32_t crc = b.crc;
    lpnas_binio_u32_w(&b, crc);
    if (b.failed) return lpnas_fail(LPNAS_ERR_IO, "strategy state: write failed");
    return LPNAS_OK;
}

lpnas_status lpnas_strategy_load(FILE *f, const lpnas_space_ops *space, lpnas_strategy **out)
{
    *out = NULL;
    lpnas_binio b;
    lpnas_binio_init(&b, f);
    char magic[8];
    lpnas_binio_bytes_r(&b, magic, sizeof magic);
    if (b.failed || memcmp(magic, strategy_magic, sizeof magic) != 0)
        return lpnas_fail(LPNAS_ERR_FORMAT, "strategy state: bad magic (not a strategy state)");
    uint32_t version = lpnas_binio_u32_r(&b);
    if (version != STRATEGY_VERSION)
        return lpnas_fail(LPNAS_ERR_FORMAT, "strategy state: version %u (this build reads %u)", version,
                          STRATEGY_VERSION);
    lpnas_strategy_options o;
    o.kind = (lpnas_strategy_kind)lpnas_binio_u32_r(&b);
    o.population = lpnas_binio_i32_r(&b);
    o.sample = lpnas_binio_i32_r(&b);
    o.crossover_prob = lpnas_binio_f64_r(&b);
    o.n_obj = lpnas_binio_i32_r(&b);
    o.seed = lpnas_binio_u64_r(&b);
    if (b.failed) return lpnas_fail(LPNAS_ERR_CORRUPT, "strategy state: truncated header");
    lpnas_strategy *s;
    lpnas_status st = lpnas_strategy_create(&o, space, &s);
    if (st) {
        lpnas_error_prefix("strategy state: ");
        return st;
    }
    for (int i = 0; i < 4; i++) s->rng.s[i] = lpnas_binio_u64_r(&b);
    s->asked = lpnas_binio_u64_r(&b);
    s->told = lpnas_binio_u64_r(&b);
    int pop_len = lpnas_binio_i32_r(&b);
    (void)lpnas_binio_i32_r(&b); /* head: members are stored oldest first, so it restarts at 0 */
    bool ok = !b.failed && pop_len >= 0 && pop_len <= o.population;
    for (int i = 0; ok && i < pop_len; i++) {
        ok = get_genome(&b, &s->pop_g[i]);
        get_outcome(&b, &s->pop_o[i]);
    }
    if (ok) s->pop_len = pop_len;
    int par_len = ok ? lpnas_binio_i32_r(&b) : -1;
    ok = ok && !b.failed && par_len >= 0 && par_len <= o.population;
    for (int i = 0; ok && i < par_len; i++) {
        ok = get_genome(&b, &s->par_g[i]);
        get_outcome(&b, &s->par_o[i]);
        s->par_rank[i] = lpnas_binio_i32_r(&b);
        s->par_crowd[i] = lpnas_binio_f64_r(&b);
    }
    if (ok) s->par_len = par_len;
    int off_len = ok ? lpnas_binio_i32_r(&b) : -1;
    ok = ok && !b.failed && off_len >= 0 && off_len < o.population;
    for (int i = 0; ok && i < off_len; i++) {
        ok = get_genome(&b, &s->off_g[i]);
        get_outcome(&b, &s->off_o[i]);
    }
    if (ok) s->off_len = off_len;
    uint32_t crc = b.crc;
    uint32_t stored = lpnas_binio_u32_r(&b);
    if (!ok || b.failed || crc != stored) {
        lpnas_strategy_free(s);
        return lpnas_fail(LPNAS_ERR_CORRUPT, "strategy state: %s",
                          b.failed ? "truncated" : !ok ? "a count is out of range" : "checksum mismatch");
    }
    *out = s;
    return LPNAS_OK;
}
