/* binary16 conversions: every half to f32 and back, f32/f64 -> f16 in every
 * mode against the independent reference (test/f16_ref.c), boundaries,
 * classification, and every SIMD path against the portable one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "f16_ref.h"
#include "lpnas/fp16.h"

static const lpnas_round MODES[] = {LPNAS_RNE, LPNAS_RTZ, LPNAS_RDN, LPNAS_RUP, LPNAS_RNA};

static int is_nan16(uint16_t b) { return (b & 0x7FFF) > 0x7C00; }

/* Reference f32 -> f16: specials by the IEEE rules (NaN keeps sign and top
 * payload, quiet bit set; INVALID for signaling), the rest by lpnas_ref_round. */
static uint16_t ref_from_double(double x, uint16_t nan_bits, int snan, lpnas_round rm, unsigned *flags)
{
    if (isnan(x)) {
        if (snan)
            *flags |= LPNAS_FLAG_INVALID;
        return nan_bits;
    }
    if (isinf(x))
        return x < 0 ? 0xFC00 : 0x7C00;
    if (x == 0)
        return signbit(x) ? 0x8000 : 0;
    return lpnas_ref_round_double(x, rm, flags);
}

static uint16_t ref_from_f32(uint32_t u, lpnas_round rm, unsigned *flags)
{
    uint16_t nan_bits = (uint16_t)(((u >> 16) & 0x8000) | 0x7E00 | ((u & 0x7FFFFF) >> 13));
    int snan = (u & 0x7FC00000) == 0x7F800000 && (u & 0x3FFFFF);
    return ref_from_double((double)ffrom(u), nan_bits, snan, rm, flags);
}

/* 1 if ok; prints the failing case in hex */
static int check_f32(uint32_t u, lpnas_round rm)
{
    unsigned fl = 0, rfl = 0;
    uint16_t got = lpnas_f16_from_f32(ffrom(u), rm, &fl).bits;
    uint16_t want = ref_from_f32(u, rm, &rfl);
    if (got != want || fl != rfl) {
        fprintf(stderr, "f32->f16 %s: x=0x%08x got 0x%04x flags %u, want 0x%04x flags %u\n",
                lpnas_ref_mode_name(rm), u, got, fl, want, rfl);
        return 0;
    }
    return 1;
}

START_TEST(every_half_round_trips)
{
    for (uint32_t b = 0; b < 0x10000; b++) {
        lpnas_f16 h = {(uint16_t)b};
        float f = lpnas_f16_to_f32(h);
        double v = lpnas_ref_f16_value((uint16_t)b);
        if (is_nan16((uint16_t)b)) {
            LPNAS_REQUIRE(isnan(f), "0x%04x -> %a, want NaN", b, (double)f);
            /* sign and payload kept, quiet bit set */
            uint32_t want = ((b & 0x8000u) << 16) | 0x7FC00000u | ((b & 0x3FFu) << 13);
            LPNAS_REQUIRE(fbits(f) == want, "0x%04x -> 0x%08x, want 0x%08x", b, fbits(f), want);
            continue;
        }
        LPNAS_REQUIRE((double)f == v && !!signbit(f) == !!signbit(v), "0x%04x -> %a, want %a", b, (double)f, v);
        for (size_t m = 0; m < 5; m++) {
            unsigned fl = 0;
            uint16_t back = lpnas_f16_from_f32(f, MODES[m], &fl).bits;
            LPNAS_REQUIRE(back == b && fl == 0, "0x%04x %s: back 0x%04x flags %u", b,
                          lpnas_ref_mode_name(MODES[m]), back, fl);
            back = lpnas_f16_from_f64(v, MODES[m], &fl).bits;
            LPNAS_REQUIRE(back == b && fl == 0, "0x%04x %s: from f64 0x%04x flags %u", b,
                          lpnas_ref_mode_name(MODES[m]), back, fl);
        }
    }
}
END_TEST

START_TEST(classification)
{
    for (uint32_t b = 0; b < 0x10000; b++) {
        lpnas_f16 h = {(uint16_t)b};
        double v = lpnas_ref_f16_value((uint16_t)b);
        int neg = (b & 0x8000) != 0;
        lpnas_f16_class want;
        if (isnan(v))
            want = (b & 0x200) ? LPNAS_F16_QUIET_NAN : LPNAS_F16_SIGNALING_NAN;
        else if (isinf(v))
            want = neg ? LPNAS_F16_NEG_INF : LPNAS_F16_POS_INF;
        else if (v == 0)
            want = neg ? LPNAS_F16_NEG_ZERO : LPNAS_F16_POS_ZERO;
        else if (fabs(v) < ldexp(1, -14))
            want = neg ? LPNAS_F16_NEG_SUBNORMAL : LPNAS_F16_POS_SUBNORMAL;
        else
            want = neg ? LPNAS_F16_NEG_NORMAL : LPNAS_F16_POS_NORMAL;
        LPNAS_REQUIRE(lpnas_f16_classify(h) == want, "classify 0x%04x", b);
        LPNAS_REQUIRE(lpnas_f16_is_nan(h) == (bool)isnan(v) && lpnas_f16_is_inf(h) == (bool)isinf(v) &&
                          lpnas_f16_is_finite(h) == (bool)isfinite(v),
                      "is_nan/is_inf/is_finite 0x%04x", b);
    }
}
END_TEST

/* The boundaries the issue names, each with its float neighbours. */
static const float BOUNDARIES[] = {
    65504.0f, 65520.0f, 65536.0f, 65519.996f, 65535.996f, 0x1p-24f, 0x1p-25f, 0x1.8p-25f, 0x1.8p-24f,
    0x1p-14f, 0x1p-15f, 0x1.ffcp-15f, 0x1.ff8p-15f, 1.0f, 1.0f + 0x1p-11f, 1.0f + 0x3p-11f, 2048.0f, 2049.0f,
    2051.0f, 0x1p-26f, 0x1p-149f, 0x1p-126f, 3.4028235e38f, 0.1f, 0.33333334f, 1000.5f, 0x1.002p0f,
};

START_TEST(f32_boundaries)
{
    for (size_t i = 0; i < sizeof BOUNDARIES / sizeof BOUNDARIES[0]; i++) {
        uint32_t u = fbits(BOUNDARIES[i]);
        for (int d = -3; d <= 3; d++)
            for (int s = 0; s < 2; s++)
                for (size_t m = 0; m < 5; m++)
                    LPNAS_REQUIRE(check_f32((u + (uint32_t)d) ^ (s ? 0x80000000u : 0), MODES[m]), "mismatch (see stderr)");
    }
    /* every half, its midpoints with both neighbours, and one float either side */
    for (uint32_t b = 0; b < 0x7C00; b++) {
        double v = lpnas_ref_f16_value((uint16_t)b), w = lpnas_ref_f16_value((uint16_t)(b + 1));
        uint32_t mid = fbits((float)((v + w) / 2)); /* exact: 12 bits */
        for (int d = -1; d <= 1; d++)
            for (size_t m = 0; m < 5; m++) {
                LPNAS_REQUIRE(check_f32(mid + (uint32_t)d, MODES[m]), "mismatch (see stderr)");
                LPNAS_REQUIRE(check_f32((mid + (uint32_t)d) | 0x80000000u, MODES[m]), "mismatch (see stderr)");
            }
    }
    /* specials */
    const uint32_t special[] = {0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00001u, 0x7F800001u,
                                0x7FA00000u, 0xFF812345u, 0, 0x80000000u, 1, 0x80000001u};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        for (size_t m = 0; m < 5; m++)
            LPNAS_REQUIRE(check_f32(special[i], MODES[m]), "mismatch (see stderr)");
}
END_TEST

START_TEST(f32_random)
{
    /* 10^7 inputs: half uniform bit patterns, half concentrated on the
     * binary16 range, where the rounding decisions are. */
    uint64_t st = 12345;
    long n = lpnas_test_long() ? 100000000L : 10000000L;
    for (long i = 0; i < n; i++) {
        uint64_t r = lpnas_ref_rand(&st);
        uint32_t u = (uint32_t)r;
        if (i & 1) /* exponent in [2^-27, 2^17) */
            u = (u & 0x807FFFFFu) | ((uint32_t)(100 + (r >> 32) % 44) << 23);
        if (!check_f32(u, MODES[(r >> 40) % 5]))
            ck_abort_msg("f32 -> f16 mismatch (see stderr)");
    }
}
END_TEST

static int check_f64(double x, lpnas_round rm)
{
    unsigned fl = 0, rfl = 0;
    uint64_t u;
    memcpy(&u, &x, 8);
    uint16_t nan_bits = (uint16_t)(((u >> 48) & 0x8000) | 0x7E00 | ((u >> 42) & 0x3FF));
    int snan = isnan(x) && !(u & 0x8000000000000ull);
    uint16_t want = ref_from_double(x, nan_bits, snan, rm, &rfl);
    uint16_t got = lpnas_f16_from_f64(x, rm, &fl).bits;
    if (got != want || fl != rfl) {
        fprintf(stderr, "f64->f16 %s: x=0x%016llx got 0x%04x flags %u, want 0x%04x flags %u\n",
                lpnas_ref_mode_name(rm), (unsigned long long)u, got, fl, want, rfl);
        return 0;
    }
    return 1;
}

START_TEST(f64_direct_rounding)
{
    /* f64 -> f16 must round once: values just off a binary16 midpoint by
     * less than a binary32 ulp would double-round through binary32. */
    for (uint32_t b = 0; b < 0x7C00; b++) {
        double v = lpnas_ref_f16_value((uint16_t)b), w = lpnas_ref_f16_value((uint16_t)(b + 1));
        double mid = (v + w) / 2;
        double eps = ldexp(mid == 0 ? 1 : mid, -40);
        for (size_t m = 0; m < 5; m++) {
            LPNAS_REQUIRE(check_f64(mid - eps, MODES[m]), "mismatch (see stderr)");
            LPNAS_REQUIRE(check_f64(mid + eps, MODES[m]), "mismatch (see stderr)");
            LPNAS_REQUIRE(check_f64(-(mid + eps), MODES[m]), "mismatch (see stderr)");
            LPNAS_REQUIRE(check_f64(mid, MODES[m]), "mismatch (see stderr)");
        }
    }
    uint64_t st = 99;
    for (int i = 0; i < 2000000; i++) {
        uint64_t r = lpnas_ref_rand(&st);
        double x;
        uint64_t u = (r & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(1023 - 27 + (r >> 52) % 45) << 52);
        if (i % 7 == 0)
            u = r; /* anything, including NaN, inf, huge and tiny */
        memcpy(&x, &u, 8);
        LPNAS_REQUIRE(check_f64(x, MODES[i % 5]), "mismatch (see stderr)");
    }
    /* binary64 subnormals and the largest values */
    LPNAS_REQUIRE(check_f64(0x1p-1074, LPNAS_RUP), "mismatch (see stderr)");
    LPNAS_REQUIRE(check_f64(-0x1p-1074, LPNAS_RDN), "mismatch (see stderr)");
    LPNAS_REQUIRE(check_f64(-0x1p-1074, LPNAS_RNE), "mismatch (see stderr)");
    LPNAS_REQUIRE(check_f64(1e308, LPNAS_RTZ), "mismatch (see stderr)");
}
END_TEST

/* ---- array paths ---------------------------------------------------- */

static const lpnas_f16_path PATHS[] = {LPNAS_F16_PATH_PORTABLE, LPNAS_F16_PATH_F16C, LPNAS_F16_PATH_AVX512,
                                       LPNAS_F16_PATH_AUTO};

static void check_array_from(const float *src, size_t n, lpnas_round rm, lpnas_f16 *dst)
{
    for (size_t p = 0; p < 4; p++) {
        if (!lpnas_f16_path_available(PATHS[p])) {
            ck_assert_int_eq(lpnas_f16_from_f32_array_path(PATHS[p], dst, src, n, rm), LPNAS_ERR_UNSUPPORTED);
            continue;
        }
        ck_assert_int_eq(lpnas_f16_from_f32_array_path(PATHS[p], dst, src, n, rm), LPNAS_OK);
        for (size_t i = 0; i < n; i++) {
            uint16_t want = lpnas_f16_from_f32(src[i], rm, NULL).bits;
            LPNAS_REQUIRE(dst[i].bits == want, "path %s %s: x=0x%08x got 0x%04x want 0x%04x",
                          lpnas_f16_path_name(PATHS[p]), lpnas_ref_mode_name(rm), fbits(src[i]),
                          dst[i].bits, want);
        }
    }
}

START_TEST(array_paths_every_half)
{
    size_t n = 0x10000 + 7; /* odd length: exercises the tails */
    lpnas_f16 *h = malloc(n * sizeof *h);
    float *f = malloc(n * sizeof *f), *g = malloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++)
        h[i].bits = (uint16_t)i;
    for (size_t p = 0; p < 4; p++) {
        if (!lpnas_f16_path_available(PATHS[p]))
            continue;
        ck_assert_int_eq(lpnas_f16_to_f32_array_path(PATHS[p], f, h, n), LPNAS_OK);
        for (size_t i = 0; i < n; i++) {
            float want = lpnas_f16_to_f32(h[i]);
            LPNAS_REQUIRE(fbits(f[i]) == fbits(want), "to_f32 path %s: 0x%04x got 0x%08x want 0x%08x",
                          lpnas_f16_path_name(PATHS[p]), h[i].bits, fbits(f[i]), fbits(want));
        }
    }
    /* every half and every midpoint (+-1 float), in every mode */
    lpnas_f16_to_f32_array(f, h, n);
    for (size_t i = 0; i < n; i++) {
        float a = lpnas_f16_to_f32(h[i]);
        float b = lpnas_f16_to_f32((lpnas_f16){(uint16_t)(h[i].bits + 1)});
        float mid = (a + b) / 2;
        g[i] = ffrom(fbits(isfinite(mid) ? mid : a) + (uint32_t)(i % 3) - 1);
    }
    lpnas_f16 *d = malloc(n * sizeof *d);
    for (size_t m = 0; m < 5; m++) {
        check_array_from(f, n, MODES[m], d);
        check_array_from(g, n, MODES[m], d);
    }
    free(h);
    free(f);
    free(g);
    free(d);
}
END_TEST

START_TEST(array_paths_random)
{
    size_t n = 1 << 20;
    float *src = malloc(n * sizeof *src);
    lpnas_f16 *dst = malloc(n * sizeof *dst);
    uint64_t st = 777;
    int rounds = lpnas_test_long() ? 100 : 10; /* 10^7 inputs per mode */
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            uint64_t x = lpnas_ref_rand(&st);
            uint32_t u = (uint32_t)x;
            if (i & 1)
                u = (u & 0x807FFFFFu) | ((uint32_t)(100 + (x >> 32) % 44) << 23);
            src[i] = ffrom(u);
        }
        check_array_from(src, n, MODES[r % 5], dst);
    }
    free(src);
    free(dst);
}
END_TEST

START_TEST(array_bad_arguments)
{
    float x = 1;
    lpnas_f16 h;
    ck_assert_int_eq(lpnas_f16_from_f32_array_path((lpnas_f16_path)9, &h, &x, 1, LPNAS_RNE), LPNAS_ERR_ARG);
    ck_assert_int_eq(lpnas_f16_from_f32_array_path(LPNAS_F16_PATH_PORTABLE, &h, &x, 1, (lpnas_round)7),
                     LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "rounding mode 7"));
    /* zero length writes nothing */
    h.bits = 0xABCD;
    ck_assert_int_eq(lpnas_f16_from_f32_array_path(LPNAS_F16_PATH_AUTO, &h, &x, 0, LPNAS_RNE), LPNAS_OK);
    ck_assert_uint_eq(h.bits, 0xABCD);
    ck_assert_str_eq(lpnas_f16_path_name(LPNAS_F16_PATH_F16C), "f16c");
}
END_TEST

/* make test-long: all 2^32 floats, every mode, the scalar conversion
 * against the reference (one bracket search serves the five modes) and
 * every array path against the scalar. */
static int check_f32_all_modes(uint32_t u)
{
    float x = ffrom(u);
    uint16_t want[5];
    unsigned wfl[5];
    if (isnan(x) || isinf(x) || x == 0) {
        for (int m = 0; m < 5; m++) {
            wfl[m] = 0;
            want[m] = ref_from_f32(u, (lpnas_round)m, &wfl[m]);
        }
    } else {
        lpnas_ref_round_double_all((double)x, want, wfl);
    }
    for (int m = 0; m < 5; m++) {
        unsigned fl = 0;
        uint16_t got = lpnas_f16_from_f32(x, (lpnas_round)m, &fl).bits;
        if (got != want[m] || fl != wfl[m]) {
            fprintf(stderr, "f32->f16 %s: x=0x%08x got 0x%04x flags %u, want 0x%04x flags %u\n",
                    lpnas_ref_mode_name((lpnas_round)m), u, got, fl, want[m], wfl[m]);
            return 0;
        }
    }
    return 1;
}

START_TEST(f32_exhaustive)
{
    if (!lpnas_test_long())
        return;
    enum { N = 1 << 16 };
    static float src[N];
    static lpnas_f16 dst[N];
    for (uint64_t base = 0; base < (1ull << 32); base += N) {
        for (uint32_t i = 0; i < N; i++) {
            src[i] = ffrom((uint32_t)(base + i));
            LPNAS_REQUIRE(check_f32_all_modes((uint32_t)(base + i)), "exhaustive f32 -> f16 mismatch (see stderr)");
        }
        for (size_t m = 0; m < 5; m++)
            check_array_from(src, N, MODES[m], dst);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fp16_convert");
    TCase *t = lpnas_tcase("convert");
    tcase_add_test(t, every_half_round_trips);
    tcase_add_test(t, classification);
    tcase_add_test(t, f32_boundaries);
    tcase_add_test(t, f32_random);
    tcase_add_test(t, f64_direct_rounding);
    tcase_add_test(t, array_paths_every_half);
    tcase_add_test(t, array_paths_random);
    tcase_add_test(t, array_bad_arguments);
    tcase_add_test(t, f32_exhaustive);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
