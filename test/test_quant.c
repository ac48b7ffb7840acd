/* Integer policies: presets, policy files and the requantization rules,
 * on hand-computed edge cases (ties, saturation, zero points, int32 limits). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "fp16/requant.h"
#include "lpnas.h"

START_TEST(presets_are_integer)
{
    const char *names[] = {"int8", "int8-pow2", "w4a8", "int8-ort"};
    int wbits[] = {8, 8, 4, 8};
    lpnas_requant_rule rule[] = {LPNAS_REQUANT_TFLITE, LPNAS_REQUANT_SHIFT, LPNAS_REQUANT_TFLITE, LPNAS_REQUANT_ORT};
    for (int i = 0; i < 4; i++) {
        const lpnas_policy *p;
        ck_assert_int_eq(lpnas_policy_get(names[i], &p), LPNAS_OK);
        ck_assert(lpnas_policy_is_integer(p) && !lpnas_policy_is_fp32(p));
        lpnas_int_format f;
        ck_assert_int_eq(lpnas_policy_int_format(p, &f), LPNAS_OK);
        ck_assert_int_eq(f.weight_bits, wbits[i]);
        ck_assert_int_eq(f.act_bits, 8);
        ck_assert(f.weight_per_channel && !f.act_symmetric);
        ck_assert_int_eq(f.requant, rule[i]);
        ck_assert(f.pow2_scales == (i == 1));
        /* the float rounding passes leave values alone: integer kernels quantize */
        float x[3] = {0.1f, 1e-7f, 70000.0f}, y[3];
        memcpy(y, x, sizeof x);
        lpnas_policy_round(p, y, 3);
        lpnas_policy_round_host(p, y, 3);
        ck_assert(memcmp(x, y, sizeof x) == 0);
    }
    const lpnas_policy *m;
    ck_assert_int_eq(lpnas_policy_get("myriadx", &m), LPNAS_OK);
    ck_assert(!lpnas_policy_is_integer(m));
    lpnas_int_format f;
    ck_assert_int_eq(lpnas_policy_int_format(m, &f), LPNAS_ERR_ARG);
    ck_assert(strstr(lpnas_last_error(), "myriadx"));
    ck_assert_int_eq(lpnas_policy_get("int3", &m), LPNAS_ERR_NOT_FOUND);
    ck_assert(strstr(lpnas_last_error(), "w4a8"));
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(policy_files)
{
    char *dir = lpnas_test_tmpdir(), path[512], spec[520];
    snprintf(path, sizeof path, "%s/w6.policy", dir);
    write_file(path, "# six-bit weights\nname = w6a8\nbase = int8\nweight_bits = 6  # comment\n"
                     "weight_granularity = per-tensor\nact_symmetric = yes\nrequant = ort\n");
    const lpnas_policy *p;
    snprintf(spec, sizeof spec, "file:%s", path);
    ck_assert_int_eq(lpnas_policy_get(spec, &p), LPNAS_OK);
    ck_assert_str_eq(lpnas_policy_name(p), "w6a8");
    lpnas_int_format f;
    ck_assert_int_eq(lpnas_policy_int_format(p, &f), LPNAS_OK);
    ck_assert(f.weight_bits == 6 && !f.weight_per_channel && f.act_bits == 8 && f.act_symmetric &&
              !f.pow2_scales && f.requant == LPNAS_REQUANT_ORT);
    struct {
        const char *text, *needle;
    } bad[] = {
        {"name = a\nweight_bits = 9\n", "line 2: weight_bits '9'"},
        {"name = a\nwidth = 3\n", "line 2: key 'width'"},
        {"name = a\nscales = log\n", "value 'log'"},
        {"weight_bits = 4\n", "no 'name"},
        {"name = a\nthis line has no equals\n", "line 2: expected"},
        {"name = a\nbase = myriadx\n", "base 'myriadx'"},
        {"name = a\nrequant = shift\n", "shift needs scales = pow2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].text);
        ck_assert_int_ne(lpnas_policy_load(path, &p), LPNAS_OK);
        ck_assert_msg(strstr(lpnas_last_error(), bad[i].needle) && strstr(lpnas_last_error(), path), "%zu: %s", i,
                      lpnas_last_error());
    }
    snprintf(path, sizeof path, "%s/missing.policy", dir);
    ck_assert_int_eq(lpnas_policy_load(path, &p), LPNAS_ERR_IO);
    ck_assert(strstr(lpnas_last_error(), "missing.policy"));
    lpnas_int_format g = {1, true, 8, false, false, LPNAS_REQUANT_TFLITE};
    ck_assert_int_eq(lpnas_policy_make_int("w1", &g, &p), LPNAS_ERR_ARG);
    ck_assert(strstr(lpnas_last_error(), "weight_bits 1"));
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(quantize_multiplier_cases)
{
    int32_t q;
    int sh;
    struct {
        double m;
        int32_t q;
        int shift;
    } c[] = {
        {0.5, 1 << 30, 0},
        {1.0, 1 << 30, 1},
        {0.75, 1610612736, 0},
        {0.1, 1717986918, -3},           /* 0.8 * 2^31 = 1717986918.4 -> down */
        {1.0 - 0x1p-40, 1 << 30, 1},     /* frac * 2^31 rounds to 2^31: renormalized */
        {0x1p-33, 0, 0},                 /* below 2^-32: TFLite gives zero */
        {0x1p-32, 1 << 30, -31},
        {0x1p40, 2147483647, 30},        /* clamped at the top */
        {0.0, 0, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        ck_assert_int_eq(lpnas_quantize_multiplier(c[i].m, &q, &sh), LPNAS_OK);
        ck_assert_msg(q == c[i].q && sh == c[i].shift, "m=%a: q=%d shift=%d", c[i].m, q, sh);
    }
    ck_assert_int_eq(lpnas_quantize_multiplier(-1.0, &q, &sh), LPNAS_ERR_ARG);
    ck_assert_int_eq(lpnas_quantize_multiplier(NAN, &q, &sh), LPNAS_ERR_ARG);
    ck_assert_int_eq(lpnas_quantize_multiplier(INFINITY, &q, &sh), LPNAS_ERR_ARG);
}
END_TEST

START_TEST(gemmlowp_primitives)
{
    ck_assert_int_eq(lpnas_srdhm(INT32_MIN, INT32_MIN), INT32_MAX); /* the one saturating case */
    ck_assert_int_eq(lpnas_srdhm(INT32_MIN, INT32_MAX), -INT32_MAX);
    ck_assert_int_eq(lpnas_srdhm(1 << 30, 1 << 30), 1 << 29);       /* 0.5 * 0.5 in Q0.31 */
    ck_assert_int_eq(lpnas_srdhm(1, 1 << 30), 1);                    /* +0.5: tie up */
    ck_assert_int_eq(lpnas_srdhm(-1, 1 << 30), 0);                   /* -0.5: tie up, toward +inf */
    ck_assert_int_eq(lpnas_srdhm(-3, 1 << 30), -1);                  /* -1.5 -> -1 */
    ck_assert_int_eq(lpnas_srdhm(3, 1 << 30), 2);                    /* +1.5 -> 2 */
    ck_assert_int_eq(lpnas_srdhm(-5, 0x60000000), -4);               /* -3.75 -> -4: not a tie */
    ck_assert_int_eq(lpnas_rdbpot(1, 1), 1);                         /* 0.5 -> 1: ties away from zero */
    ck_assert_int_eq(lpnas_rdbpot(-1, 1), -1);                       /* -0.5 -> -1 */
    ck_assert_int_eq(lpnas_rdbpot(5, 2), 1);                         /* 1.25 */
    ck_assert_int_eq(lpnas_rdbpot(-6, 2), -2);                       /* -1.5 -> -2 */
    ck_assert_int_eq(lpnas_rdbpot(-5, 2), -1);                       /* -1.25 */
    ck_assert_int_eq(lpnas_rdbpot(7, 0), 7);
    ck_assert_int_eq(lpnas_rdbpot(INT32_MIN, 31), -1);
    ck_assert_int_eq(lpnas_rdbpot(INT32_MAX, 31), 1);                /* 0.99999 */
}
END_TEST

START_TEST(requant_rules_edge_cases)
{
    const lpnas_requant_rule T = LPNAS_REQUANT_TFLITE, O = LPNAS_REQUANT_ORT, S = LPNAS_REQUANT_SHIFT;
    struct {
        lpnas_requant_rule r;
        int32_t acc;
        double m;
        int32_t zp, lo, hi, want;
    } c[] = {
        /* ties: TFLite rounds away from zero (RDBPOT) after a tie-up high multiply; ORT to even */
        {T, 10, 0.25, 0, -128, 127, 3}, {O, 10, 0.25, 0, -128, 127, 2},
        {T, -10, 0.25, 0, -128, 127, -3}, {O, -10, 0.25, 0, -128, 127, -2},
        {T, 101, 0.5, 0, -128, 127, 51}, {T, -101, 0.5, 0, -128, 127, -50}, /* SRDHM alone: tie toward +inf */
        {O, 101, 0.5, 0, -128, 127, 50}, {O, -101, 0.5, 0, -128, 127, -50},
        /* TFLite rounds twice when shift < 0: 101/4 = 25.25, but 50.5 -> 51 then 25.5 -> 26 */
        {T, 101, 0.25, 0, -128, 127, 26}, {O, 101, 0.25, 0, -128, 127, 25},
        /* zero points */
        {T, 10, 0.25, 5, -128, 127, 8}, {O, 10, 0.25, 5, -128, 127, 7}, {T, 0, 0.3, -128, -128, 127, -128},
        /* saturation at -128 / 127 (after the zero point) */
        {T, 1000, 0.5, -128, -128, 127, 127}, {O, 1000, 0.5, -128, -128, 127, 127},
        {T, -1000, 0.5, 10, -128, 127, -128}, {O, -1000, 0.5, 10, -128, 127, -128},
        {T, 254, 0.5, 0, -128, 127, 127}, {T, 256, 0.5, 0, -128, 127, 127}, {T, -256, 0.5, 0, -128, 127, -128},
        /* int32 limits: ORT's float(acc) has 24 bits; TFLite's left shift wraps */
        {T, 16777217, 1.0, 0, INT32_MIN, INT32_MAX, 16777217}, {O, 16777217, 1.0, 0, INT32_MIN, INT32_MAX, 16777216},
        {T, INT32_MAX, 0.5, 0, INT32_MIN, INT32_MAX, 1 << 30}, {O, INT32_MAX, 0.5, 0, INT32_MIN, INT32_MAX, 1 << 30},
        {T, INT32_MIN, 1.0, 0, INT32_MIN, INT32_MAX, 0}, /* INT32_MIN << 1 wraps to 0 in TFLite */
        {T, INT32_MIN, 0.5, 0, INT32_MIN, INT32_MAX, -(1 << 30)},
        /* power-of-two shift: rounding half away from zero */
        {S, 6, 0.25, 0, -128, 127, 2}, {S, -6, 0.25, 0, -128, 127, -2}, {S, 5, 0.25, 0, -128, 127, 1},
        {S, 3, 2.0, 0, -128, 127, 6}, {S, 1000, 0.125, -128, -128, 127, -3},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int32_t got = lpnas_requant(c[i].r, c[i].acc, c[i].m, c[i].zp, c[i].lo, c[i].hi);
        ck_assert_msg(got == c[i].want, "case %zu: rule %d acc %d m %g zp %d: got %d want %d", i, c[i].r, c[i].acc,
                      c[i].m, c[i].zp, got, c[i].want);
    }
}
END_TEST

/* The TFLite rule is within one code of the exact product everywhere
 * (SRDHM rounds, then RDBPOT rounds again: with a right shift a fraction in
 * (1/4, 1/2) can round up) and equal to the exact product rounded to nearest
 * when there is no right shift and no tie. Independent reference: long
 * double arithmetic (64-bit significand: acc * q is exact). */
START_TEST(tflite_close_to_exact)
{
    uint64_t s = 12345;
    for (int i = 0; i < 200000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int32_t acc = (int32_t)(s >> 40) - (1 << 23);
        double m = ldexp((double)((s >> 8) & 0xFFFFF) + 0x100000, -21 - (int)((s >> 4) & 15));
        int32_t t = lpnas_requant(LPNAS_REQUANT_TFLITE, acc, m, 0, INT32_MIN, INT32_MAX);
        int32_t q;
        int sh;
        lpnas_quantize_multiplier(m, &q, &sh);
        long double exact = (long double)acc * q * powl(2, sh - 31);
        long double d = (long double)t - exact;
        LPNAS_REQUIRE(d < 1.0L && d > -1.0L, "acc %d m %a: %d vs %Lf", acc, m, t, exact);
        if (fabsl(exact - floorl(exact) - 0.5L) > 0.01L && sh == 0)
            LPNAS_REQUIRE(t == (int32_t)lroundl(exact), "acc %d m %a: %d vs %Lf", acc, m, t, exact);
        int32_t o = lpnas_requant(LPNAS_REQUANT_ORT, acc, m, 0, INT32_MIN, INT32_MAX);
        LPNAS_REQUIRE(o == (int32_t)nearbyintf((float)acc * (float)m), "ort acc %d", acc);
    }
}
END_TEST

START_TEST(quantize_linear)
{
    ck_assert_int_eq(lpnas_quantize1(0.5f, 1, 0, -128, 127), 0); /* ties to even */
    ck_assert_int_eq(lpnas_quantize1(1.5f, 1, 0, -128, 127), 2);
    ck_assert_int_eq(lpnas_quantize1(2.5f, 1, 0, -128, 127), 2);
    ck_assert_int_eq(lpnas_quantize1(-2.5f, 1, 0, -128, 127), -2);
    ck_assert_int_eq(lpnas_quantize1(1000, 0.5f, -128, -128, 127), 127);
    ck_assert_int_eq(lpnas_quantize1(-1000, 0.5f, 10, -128, 127), -128);
    ck_assert_int_eq(lpnas_quantize1(0, 0.1f, -7, -128, 127), -7);
    ck_assert_int_eq(lpnas_quantize1(NAN, 0.1f, 3, -128, 127), 3);
    ck_assert_int_eq(lpnas_quantize1(0.3f, 0.1f, 0, -128, 127), 3); /* 0.3f/0.1f = 3.0000002 in binary32 */
    lpnas_calib_method m;
    ck_assert_int_eq(lpnas_calib_method_parse("mse", &m), LPNAS_OK);
    ck_assert_int_eq(m, LPNAS_CALIB_MSE);
    ck_assert_int_eq(lpnas_calib_method_parse("kl", &m), LPNAS_ERR_ARG);
    ck_assert(strstr(lpnas_last_error(), "'kl'"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("quant");
    TCase *t = lpnas_tcase("quant");
    tcase_add_test(t, presets_are_integer);
    tcase_add_test(t, policy_files);
    tcase_add_test(t, quantize_multiplier_cases);
    tcase_add_test(t, gemmlowp_primitives);
    tcase_add_test(t, requant_rules_edge_cases);
    tcase_add_test(t, tflite_close_to_exact);
    tcase_add_test(t, quantize_linear);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
