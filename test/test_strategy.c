/* Search strategies: Pareto sorting and crowding on hand-built fronts,
 * constrained domination, aging evolution against random search on a cheap
 * synthetic objective, NSGA-II selection, state save/load equality. */
#include "test/check_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nas/pareto.h"
#include "nas/strategy.h"

/* ---- a toy space: 12 genes with 8 values each --------------------------- */

#define TOY_GENES 8
#define TOY_VALUES 8

static void toy_random(void *ctx, lpnas_rng *rng, lpnas_genome *out)
{
    (void)ctx;
    out->n = TOY_GENES;
    for (int i = 0; i < TOY_GENES; i++) out->g[i] = (int32_t)lpnas_rng_below(rng, TOY_VALUES);
}

static void toy_mutate(void *ctx, lpnas_rng *rng, lpnas_genome *g)
{
    (void)ctx;
    int i = (int)lpnas_rng_below(rng, TOY_GENES);
    g->g[i] = (g->g[i] + 1 + (int32_t)lpnas_rng_below(rng, TOY_VALUES - 1)) % TOY_VALUES;
}

static void toy_crossover(void *ctx, lpnas_rng *rng, const lpnas_genome *a, const lpnas_genome *b,
                          lpnas_genome *child)
{
    (void)ctx;
    child->n = a->n;
    for (int i = 0; i < a->n; i++) child->g[i] = (lpnas_rng_u64(rng) & 1) ? a->g[i] : b->g[i];
}

static const lpnas_space_ops toy_space = {NULL, toy_random, toy_mutate, toy_crossover};

/* Optimum at g[i] = i % 8: fitness = -(distance). */
static double toy_fitness(const lpnas_genome *g)
{
    double d = 0;
    for (int i = 0; i < TOY_GENES; i++) d += abs(g->g[i] - i % TOY_VALUES);
    return -d;
}

static double run_toy(lpnas_strategy_kind kind, uint64_t seed, int budget)
{
    lpnas_strategy_options o;
    lpnas_strategy_options_default(&o, kind);
    o.seed = seed;
    o.population = 20;
    o.sample = 5;
    lpnas_strategy *s;
    ck_assert_int_eq(lpnas_strategy_create(&o, &toy_space, &s), LPNAS_OK);
    double best = -INFINITY;
    for (int e = 0; e < budget; e++) {
        lpnas_genome g;
        lpnas_strategy_ask(s, &g);
        lpnas_outcome r = {{{0}, 0}, toy_fitness(&g), false};
        r.point.obj[0] = -r.fitness;
        if (r.fitness > best) best = r.fitness;
        lpnas_strategy_tell(s, &g, &r);
    }
    lpnas_strategy_free(s);
    return best;
}

START_TEST(aging_evolution_beats_random_search)
{
    /* 30 seeds, 1000 evaluations each. Random search samples 1000 of 8^8
     * genomes and essentially never reaches the optimum; evolution climbs. */
    int evo_hits = 0, rnd_hits = 0;
    double evo_sum = 0, rnd_sum = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        double e = run_toy(LPNAS_STRATEGY_EVOLUTION, seed, 1000);
        double r = run_toy(LPNAS_STRATEGY_RANDOM, seed, 1000);
        evo_hits += e == 0.0;
        rnd_hits += r == 0.0;
        evo_sum += e;
        rnd_sum += r;
    }
    fprintf(stderr, "toy: evolution found the optimum %d/30 times (mean best %.2f), random %d/30 (mean best %.2f)\n",
            evo_hits, evo_sum / 30, rnd_hits, rnd_sum / 30);
    ck_assert_int_ge(evo_hits, rnd_hits + 8); /* measured: 11 vs 0 */
    ck_assert(evo_sum / 30 > rnd_sum / 30 + 4.0); /* measured: -0.67 vs -6.10 */
}
END_TEST

static lpnas_point pt2(double a, double b, double v)
{
    lpnas_point p = {{a, b, 0, 0}, v};
    return p;
}

START_TEST(constrained_domination)
{
    lpnas_point feas_bad = pt2(10, 10, 0), infeas_good = pt2(0, 0, 0.5), infeas_worse = pt2(0, 0, 2);
    ck_assert(lpnas_dominates(&feas_bad, &infeas_good, 2));   /* feasible beats infeasible */
    ck_assert(!lpnas_dominates(&infeas_good, &feas_bad, 2));
    ck_assert(lpnas_dominates(&infeas_good, &infeas_worse, 2)); /* less violation beats more */
    ck_assert(!lpnas_dominates(&infeas_worse, &infeas_good, 2));
    lpnas_point a = pt2(1, 2, 0), b = pt2(2, 2, 0), c = pt2(2, 1, 0);
    ck_assert(lpnas_dominates(&a, &b, 2));
    ck_assert(!lpnas_dominates(&b, &a, 2));
    ck_assert(!lpnas_dominates(&a, &c, 2) && !lpnas_dominates(&c, &a, 2)); /* incomparable */
    ck_assert(!lpnas_dominates(&a, &a, 2));                                /* not strict */
}
END_TEST

START_TEST(nondominated_sort_hand_built_fronts)
{
    /* Front 0: (1,5) (2,3) (4,1); front 1: (3,5) (5,3); front 2: (6,6);
     * the infeasible point goes behind every feasible one. */
    lpnas_point p[7] = {pt2(3, 5, 0), pt2(1, 5, 0), pt2(6, 6, 0), pt2(2, 3, 0),
                        pt2(5, 3, 0), pt2(4, 1, 0), pt2(0, 0, 1)};
    int rank[7];
    void *scratch = malloc(lpnas_nondominated_sort_scratch(7));
    int fronts = lpnas_nondominated_sort(p, 7, 2, rank, scratch);
    free(scratch);
    int want[7] = {1, 0, 2, 0, 1, 0, 3};
    ck_assert_int_eq(fronts, 4);
    for (int i = 0; i < 7; i++) ck_assert_msg(rank[i] == want[i], "point %d: rank %d, want %d", i, rank[i], want[i]);
}
END_TEST

START_TEST(crowding_distance_hand_built)
{
    /* Front (0,10) (1,6) (4,4) (10,0): objective ranges 10 and 10. The inner
     * points: (1,6): (4-0)/10 + (10-4)/10 = 1.0; (4,4): (10-1)/10 + (6-0)/10 = 1.5. */
    lpnas_point p[4] = {pt2(4, 4, 0), pt2(0, 10, 0), pt2(10, 0, 0), pt2(1, 6, 0)};
    int members[4] = {0, 1, 2, 3}, order[4];
    double d[4];
    lpnas_crowding_distance(p, members, 4, 2, d, order);
    ck_assert(isinf(d[1]) && isinf(d[2]));
    ck_assert_double_eq_tol(d[0], 1.5, 1e-12);
    ck_assert_double_eq_tol(d[3], 1.0, 1e-12);
}
END_TEST

START_TEST(nsga2_keeps_a_nondominated_spread)
{
    /* Two objectives in conflict: f1 = sum of genes, f2 = sum of (7 - gene). */
    lpnas_strategy_options o;
    lpnas_strategy_options_default(&o, LPNAS_STRATEGY_NSGA2);
    o.population = 16;
    o.seed = 7;
    lpnas_strategy *s;
    ck_assert_int_eq(lpnas_strategy_create(&o, &toy_space, &s), LPNAS_OK);
    for (int e = 0; e < 16 * 12; e++) {
        lpnas_genome g;
        lpnas_strategy_ask(s, &g);
        double f1 = 0, f2 = 0;
        for (int i = 0; i < g.n; i++) {
            f1 += g.g[i] * (i + 1);
            f2 += (7 - g.g[i]) * (TOY_GENES - i);
        }
        lpnas_outcome r = {{{f1, f2, 0, 0}, 0}, 0, false};
        lpnas_strategy_tell(s, &g, &r);
    }
    const lpnas_genome *gs;
    const lpnas_outcome *os;
    size_t n = lpnas_strategy_population(s, &gs, &os);
    ck_assert_uint_eq(n, 16);
    /* Survivors after selection are sorted by front; the first front must
     * be mutually non-dominated and spread over more than one point. */
    int first = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (lpnas_dominates(&os[i].point, &os[j].point, 2)) ck_assert(i != j);
    for (size_t i = 0; i < n; i++) {
        bool dominated = false;
        for (size_t j = 0; j < n; j++) dominated |= lpnas_dominates(&os[j].point, &os[i].point, 2);
        first += !dominated;
    }
    ck_assert_int_ge(first, 4);
    lpnas_strategy_free(s);
}
END_TEST

/* A strategy saved mid-run and loaded again proposes exactly what the
 * original proposes from then on. */
static void check_resume(lpnas_strategy_kind kind)
{
    lpnas_strategy_options o;
    lpnas_strategy_options_default(&o, kind);
    o.population = 8;
    o.sample = 3;
    o.crossover_prob = 0.3;
    o.seed = 99;
    lpnas_strategy *a;
    ck_assert_int_eq(lpnas_strategy_create(&o, &toy_space, &a), LPNAS_OK);
    for (int e = 0; e < 29; e++) { /* stop mid-generation on purpose */
        lpnas_genome g;
        lpnas_strategy_ask(a, &g);
        lpnas_outcome r = {{{-toy_fitness(&g), (double)g.g[0], 0, 0}, 0}, toy_fitness(&g), e % 7 == 3};
        lpnas_strategy_tell(a, &g, &r);
    }
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(lpnas_strategy_save(a, f), LPNAS_OK);
    long size = ftell(f);
    rewind(f);
    lpnas_strategy *b;
    ck_assert_int_eq(lpnas_strategy_load(f, &toy_space, &b), LPNAS_OK);
    for (int e = 0; e < 40; e++) {
        lpnas_genome ga, gb;
        lpnas_strategy_ask(a, &ga);
        lpnas_strategy_ask(b, &gb);
        ck_assert_int_eq(ga.n, gb.n);
        for (int i = 0; i < ga.n; i++) ck_assert_msg(ga.g[i] == gb.g[i], "%s: step %d gene %d: %d vs %d", lpnas_strategy_kind_name(kind), e, i, ga.g[i], gb.g[i]);
        lpnas_outcome r = {{{-toy_fitness(&ga), (double)ga.g[0], 0, 0}, 0}, toy_fitness(&ga), false};
        lpnas_strategy_tell(a, &ga, &r);
        lpnas_strategy_tell(b, &gb, &r);
    }
    lpnas_strategy_free(b);

    /* Truncation at every length and a flipped byte are refused cleanly. */
    unsigned char *buf = malloc((size_t)size);
    rewind(f);
    ck_assert_int_eq(fread(buf, 1, (size_t)size, f), size);
    fclose(f);
    for (long cut = 0; cut < size; cut += (cut < 64 ? 1 : 13)) {
        FILE *t = tmpfile();
        fwrite(buf, 1, (size_t)cut, t);
        rewind(t);
        lpnas_strategy *c = NULL;
        ck_assert_int_ne(lpnas_strategy_load(t, &toy_space, &c), LPNAS_OK);
        ck_assert_ptr_null(c);
        fclose(t);
    }
    buf[size / 2] ^= 0x10;
    FILE *t = tmpfile();
    fwrite(buf, 1, (size_t)size, t);
    rewind(t);
    lpnas_strategy *c = NULL;
    ck_assert_int_ne(lpnas_strategy_load(t, &toy_space, &c), LPNAS_OK);
    fclose(t);
    free(buf);
    lpnas_strategy_free(a);
}

START_TEST(resume_equals_straight_run)
{
    check_resume(LPNAS_STRATEGY_RANDOM);
    check_resume(LPNAS_STRATEGY_EVOLUTION);
    check_resume(LPNAS_STRATEGY_NSGA2);
}
END_TEST

START_TEST(bad_options_are_refused)
{
    lpnas_strategy_options o;
    lpnas_strategy *s = NULL;
    lpnas_strategy_options_default(&o, LPNAS_STRATEGY_EVOLUTION);
    o.population = 1;
    ck_assert_int_eq(lpnas_strategy_create(&o, &toy_space, &s), LPNAS_ERR_ARG);
    lpnas_strategy_options_default(&o, LPNAS_STRATEGY_EVOLUTION);
    o.sample = 0;
    ck_assert_int_eq(lpnas_strategy_create(&o, &toy_space, &s), LPNAS_ERR_ARG);
    lpnas_strategy_options_default(&o, LPNAS_STRATEGY_NSGA2);
    o.crossover_prob = NAN;
    ck_assert_int_eq(lpnas_strategy_create(&o, &toy_space, &s), LPNAS_ERR_ARG);
    ck_assert_ptr_null(s);
    lpnas_strategy_kind k;
    ck_assert_int_eq(lpnas_strategy_kind_parse("nsga2", &k), LPNAS_OK);
    ck_assert_int_eq(k, LPNAS_STRATEGY_NSGA2);
    ck_assert_int_eq(lpnas_strategy_kind_parse("hillclimb", &k), LPNAS_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "evolution"));
}
END_TEST

static Suite *strategy_suite(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = lpnas_tcase("strategy");
    tcase_add_test(tc, constrained_domination);
    tcase_add_test(tc, nondominated_sort_hand_built_fronts);
    tcase_add_test(tc, crowding_distance_hand_built);
    tcase_add_test(tc, aging_evolution_beats_random_search);
    tcase_add_test(tc, nsga2_keeps_a_nondominated_spread);
    tcase_add_test(tc, resume_equals_straight_run);
    tcase_add_test(tc, bad_options_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

LPNAS_TEST_MAIN(strategy_suite)
