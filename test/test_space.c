/* The search space: every genome the operators produce is valid and decodes
 * to a valid architecture whose string round-trips and whose layer list
 * builds, under 10^5 random mutations and crossovers; mutations change the
 * candidate; bad bounds are rejected. */
#include <stdio.h>
#include <string.h>

#include "check_util.h"
#include "nas/space.h"

START_TEST(valid_under_mutation_and_crossover)
{
    lpnas_space s;
    ck_assert_int_eq(lpnas_space_init(&s, NULL), LPNAS_OK);
    lpnas_space_ops ops = lpnas_space_operators(&s);
    lpnas_rng r;
    lpnas_rng_seed(&r, 42);
    lpnas_genome a, b, c;
    ops.random(ops.ctx, &r, &a);
    ops.random(ops.ctx, &r, &b);
    long changed = 0, n = 100000;
    for (long i = 0; i < n; i++) {
        char before[512], after[512];
        lpnas_space_identity(&s, &a, before, sizeof before);
        if (i % 3 == 2) {
            ops.crossover(ops.ctx, &r, &a, &b, &c);
            b = a;
            a = c;
        } else {
            ops.mutate(ops.ctx, &r, &a);
        }
        LPNAS_REQUIRE(lpnas_space_valid(&s, &a), "genome %ld out of bounds", i);
        lpnas_arch arch, back;
        lpnas_hparams hp;
        lpnas_space_decode(&s, &a, &arch, &hp);
        LPNAS_REQUIRE(lpnas_arch_check(&arch) == LPNAS_OK, "%ld: %s", i, lpnas_last_error());
        char text[512];
        lpnas_arch_format(&arch, text, sizeof text);
        LPNAS_REQUIRE(lpnas_arch_parse(text, &back) == LPNAS_OK && memcmp(&arch, &back, sizeof arch) == 0,
                      "%ld: '%s' does not round-trip", i, text);
        lpnas_space_identity(&s, &a, after, sizeof after);
        if (i % 3 != 2) {
            LPNAS_REQUIRE(strcmp(before, after) != 0, "mutation %ld left '%s' unchanged", i, after);
            changed++;
        }
        if (i % 1000 == 0) { /* the layer list builds at the search's tile size */
            lpnas_layer_list l;
            LPNAS_REQUIRE(lpnas_arch_layers(&arch, 64, 64, &l) == LPNAS_OK, "%s: %s", text, lpnas_last_error());
            lpnas_layer_list_free(&l);
        }
    }
    ck_assert(changed > 60000);
}
END_TEST

START_TEST(bounds_are_checked)
{
    lpnas_space_options o;
    lpnas_space_options_default(&o);
    lpnas_space s;
    o.max_stages = 7;
    ck_assert_int_eq(lpnas_space_init(&s, &o), LPNAS_ERR_ARG);
    lpnas_space_options_default(&o);
    o.kernels[0] = 4;
    ck_assert_int_eq(lpnas_space_init(&s, &o), LPNAS_ERR_ARG);
    lpnas_space_options_default(&o);
    o.n_widths = 0;
    ck_assert_int_eq(lpnas_space_init(&s, &o), LPNAS_ERR_ARG);
    lpnas_space_options_default(&o);
    o.allow_separable = false;
    o.allow_inverted = false;
    ck_assert_int_eq(lpnas_space_init(&s, &o), LPNAS_OK);
    lpnas_space_ops ops = lpnas_space_operators(&s);
    lpnas_rng r;
    lpnas_rng_seed(&r, 1);
    for (int i = 0; i < 1000; i++) {
        lpnas_genome g;
        ops.random(ops.ctx, &r, &g);
        lpnas_arch a;
        lpnas_space_decode(&s, &g, &a, NULL);
        for (int k = 0; k < a.stages; k++)
            ck_assert_int_eq(a.stage[k].type, LPNAS_BLOCK_PLAIN);
    }
}
END_TEST

/* A stage's five genes come from one parent together; over many children
 * both parents contribute and other genes mix independently. */
START_TEST(crossover_keeps_stages_whole)
{
    lpnas_space s;
    ck_assert_int_eq(lpnas_space_init(&s, NULL), LPNAS_OK);
    lpnas_space_ops ops = lpnas_space_operators(&s);
    lpnas_rng r;
    lpnas_rng_seed(&r, 7);
    long from_a = 0, from_b = 0;
    for (int t = 0; t < 2000; t++) {
        lpnas_genome a, b, c;
        ops.random(ops.ctx, &r, &a);
        ops.random(ops.ctx, &r, &b);
        for (int k = 1; k <= 30; k++) /* make every stage gene tell its parent */
            b.g[k] = a.g[k] + 100;
        ops.crossover(ops.ctx, &r, &a, &b, &c);
        for (int st = 0; st < 6; st++) {
            const int32_t *x = &c.g[1 + 5 * st];
            bool all_a = memcmp(x, &a.g[1 + 5 * st], 5 * sizeof *x) == 0;
            bool all_b = memcmp(x, &b.g[1 + 5 * st], 5 * sizeof *x) == 0;
            LPNAS_REQUIRE(all_a || all_b, "child %d: stage %d mixes its parents' genes", t, st);
            from_a += all_a, from_b += all_b;
        }
        for (int k = 31; k < LPNAS_SPACE_GENES; k++)
            LPNAS_REQUIRE(c.g[k] == a.g[k] || c.g[k] == b.g[k], "child %d: gene %d from neither parent", t, k);
    }
    ck_assert_msg(from_a > 5000 && from_b > 5000, "stages from a %ld, from b %ld of 12000", from_a, from_b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("space");
    TCase *t = lpnas_tcase("space");
    tcase_add_test(t, valid_under_mutation_and_crossover);
    tcase_add_test(t, crossover_keeps_stages_whole);
    tcase_add_test(t, bounds_are_checked);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
