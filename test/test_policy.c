/* Device policies (the myriadx host conversion bit for bit, rounding of op
 * outputs) and the dynamic loss scaler. */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "f16_ref.h"
#include "fp16/policy.h"
#include "lpnas/policy.h"
#include "lpnas/scaler.h"

/* The plugin's algorithm as DESIGN §4.2 describes it, in binary32
 * arithmetic (the library does it with integers): add half a binary16 ulp
 * of |x|'s binade, compare with the thresholds, truncate. */
static uint16_t ref_myriadx(float x)
{
    uint32_t u = fbits(x);
    uint16_t s = (uint16_t)((u >> 16) & 0x8000);
    float ax = fabsf(x);
    if (isnan(x))
        return (uint16_t)(0xFE00 | ((u & 0x7FFFFF) >> 13)); /* sign bit always set */
    if (isinf(x))
        return (uint16_t)(s | 0x7C00);
    volatile float half_ulp = ffrom(fbits(ax) & 0x7F800000u) * 0x1p-11f; /* 0 for subnormal x */
    volatile float v = ax + half_ulp;                                     /* binary32, nearest-even */
    if (v < 0x1p-15f)
        return s;
    if (v < 0x1p-14f)
        return (uint16_t)(s | 0x0400);
    if (v >= 65504.0f)
        return (uint16_t)(s | 0x7BFF);
    return (uint16_t)(s | ((fbits(v) - (112u << 23)) >> 13));
}

static const lpnas_policy *policy(const char *name)
{
    const lpnas_policy *p = NULL;
    ck_assert_int_eq(lpnas_policy_get(name, &p), LPNAS_OK);
    return p;
}

static void check_myriadx(const lpnas_policy *p, uint32_t u)
{
    float x = ffrom(u);
    lpnas_f16 h;
    lpnas_policy_to_device(p, &h, &x, 1);
    uint16_t want = ref_myriadx(x);
    LPNAS_REQUIRE(h.bits == want, "myriadx x=0x%08x got 0x%04x want 0x%04x", u, h.bits, want);
}

START_TEST(myriadx_named_cases)
{
    ck_assert_int_eq(fegetround(), FE_TONEAREST);
    const lpnas_policy *p = policy("myriadx");
    struct { float x; uint16_t want; } cases[] = {
        {1.0f, 0x3C00},
        {1.0f + 0x1p-11f, 0x3C01},                /* tie: away from zero */
        {1.0f + 0x3p-11f, 0x3C02},                /* tie: away (nearest-even would give 0x3C02 too) */
        {1.0f + 0x5p-11f, 0x3C03},                /* tie: away, where nearest-even gives 0x3C02 */
        {-(1.0f + 0x5p-11f), 0xBC03},
        {0x1p-15f, 0x0400},                       /* [2^-15, 2^-14) -> 2^-14 */
        {0x1.ffcp-16f, 0x0000},                   /* + 2^-27 stays below 2^-15 -> 0 */
        {0x1.ffep-16f, 0x0400},                   /* + 2^-27 reaches 2^-15 -> 2^-14 */
        {0x1.ff0000p-15f, 0x0400},
        {-0x1p-15f, 0x8400},
        {0x1p-24f, 0x0000},                       /* IEEE would keep this subnormal */
        {65504.0f, 0x7BFF}, {65519.0f, 0x7BFF}, {65520.0f, 0x7BFF}, {1e6f, 0x7BFF}, {-1e30f, 0xFBFF},
        {65488.0f, 0x7BFF},                       /* 65488 + 16 reaches 65504: saturates */
        {INFINITY, 0x7C00}, {-INFINITY, 0xFC00},
        {0.0f, 0x0000}, {-0.0f, 0x8000},
        /* just below and at the midpoint under 2.0: the sum stays in its binade (exact) or reaches 2 */
        {2.0f - 0x1p-11f - 0x1p-23f, 0x3FFF},
        {2.0f - 0x1p-11f, 0x4000},
        {2.0f - 0x1p-23f, 0x4000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lpnas_f16 h;
        lpnas_policy_to_device(p, &h, &cases[i].x, 1);
        ck_assert_msg(h.bits == cases[i].want, "myriadx(%a) = 0x%04x, want 0x%04x", (double)cases[i].x, h.bits,
                      cases[i].want);
        ck_assert_uint_eq(ref_myriadx(cases[i].x), cases[i].want);
    }
    /* NaN: sign bit set whatever the input sign, quiet, top payload kept */
    float qnan = ffrom(0x7FC12345u), snan = ffrom(0x7F812345u);
    lpnas_f16 h;
    lpnas_policy_to_device(p, &h, &qnan, 1);
    ck_assert_uint_eq(h.bits, 0xFE00 | (0x412345u >> 13));
    lpnas_policy_to_device(p, &h, &snan, 1);
    ck_assert_uint_eq(h.bits, 0xFE00 | (0x012345u >> 13));
}
END_TEST

START_TEST(myriadx_sweep)
{
    const lpnas_policy *p = policy("myriadx");
    /* every binary16 value, midpoint and their float neighbours */
    for (uint32_t b = 0; b < 0x7C00; b++) {
        double v = lpnas_ref_f16_value((uint16_t)b), w = lpnas_ref_f16_value((uint16_t)(b + 1));
        uint32_t mid = fbits((float)((v + w) / 2));
        uint32_t at = fbits((float)v);
        for (int d = -2; d <= 2; d++) {
            check_myriadx(p, mid + (uint32_t)d);
            check_myriadx(p, (mid + (uint32_t)d) | 0x80000000u);
            check_myriadx(p, at + (uint32_t)d);
        }
    }
    /* the flush region around 2^-15 and 2^-14, densely */
    for (uint32_t u = fbits(0x1p-17f); u < fbits(0x1p-13f); u += 7)
        check_myriadx(p, u);
    uint64_t st = 5;
    long n = lpnas_test_long() ? (1L << 32) : 10000000L;
    for (long i = 0; i < n; i++)
        check_myriadx(p, lpnas_test_long() ? (uint32_t)i : (uint32_t)lpnas_ref_rand(&st));
}
END_TEST

START_TEST(presets_and_names)
{
    const char *names[] = {"fp32", "ieee-fp16", "myriadx", "myriadx-fp16acc", "int8", "int8-pow2", "w4a8", "int8-ort"};
    for (size_t i = 0; i < 8; i++) {
        const lpnas_policy *p = lpnas_policy_at(i);
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(lpnas_policy_name(p), names[i]);
        ck_assert_ptr_eq(policy(names[i]), p);
        ck_assert(strlen(lpnas_policy_description(p)) > 10);
    }
    ck_assert_ptr_null(lpnas_policy_at(8));
    const lpnas_policy *p = (const lpnas_policy *)1;
    ck_assert_int_eq(lpnas_policy_get("myriad", &p), LPNAS_ERR_NOT_FOUND);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "'myriad'"));
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "myriadx-fp16acc"));
    ck_assert_int_eq(lpnas_policy_get(NULL, &p), LPNAS_ERR_NOT_FOUND);
    ck_assert(lpnas_policy_is_fp32(policy("fp32")) && lpnas_policy_is_fp32(NULL));
    ck_assert(!lpnas_policy_is_fp32(policy("myriadx")));
    ck_assert_int_eq(policy("myriadx-fp16acc")->accumulate, LPNAS_ACCUM_F16);
    ck_assert_int_eq(policy("myriadx")->accumulate, LPNAS_ACCUM_F32);
}
END_TEST

/* lpnas_policy_round: the IEEE conversion in the policy's mode, then its
 * flush rule, for every value of a sweep; idempotent; fp32 is a no-op. */
START_TEST(round_outputs)
{
    size_t n = 1 << 18;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    uint64_t st = 11;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)lpnas_ref_rand(&st);
        if (i % 3)
            u = (u & 0x807FFFFFu) | ((uint32_t)(98 + i % 48) << 23);
        x[i] = ffrom(u);
    }
    x[0] = 1e-7f; /* binary16 subnormal range */
    x[1] = -3e-6f;
    x[2] = 70000.0f;
    for (size_t k = 0; k < 4; k++) {
        const lpnas_policy *p = lpnas_policy_at(k);
        memcpy(y, x, n * sizeof *x);
        lpnas_policy_round(p, y, n);
        for (size_t i = 0; i < n; i++) {
            float want = x[i];
            if (!lpnas_policy_is_fp32(p)) {
                unsigned fl = 0;
                uint16_t r = lpnas_ref_round_double((double)x[i], LPNAS_RNE, &fl);
                if (isnan(x[i]) || x[i] == 0 || isinf(x[i]))
                    r = lpnas_f16_from_f32(x[i], LPNAS_RNE, NULL).bits;
                if (p->flush_subnormals && (r & 0x7C00) == 0)
                    r &= 0x8000;
                want = (float)lpnas_ref_f16_value(r);
                if (isnan(x[i]))
                    want = NAN;
            }
            LPNAS_REQUIRE(fbits(y[i]) == fbits(want) || (isnan(want) && isnan(y[i])),
                          "%s: round(0x%08x) = 0x%08x want 0x%08x", lpnas_policy_name(p), fbits(x[i]),
                          fbits(y[i]), fbits(want));
            LPNAS_REQUIRE(fbits(lpnas_policy_round1(p, x[i])) == fbits(y[i]) || isnan(y[i]),
                          "%s: round1 differs at 0x%08x", lpnas_policy_name(p), fbits(x[i]));
        }
        memcpy(x + n / 2, y, (n / 2) * sizeof *x); /* idempotence on the second half */
        memcpy(y, x + n / 2, (n / 2) * sizeof *x);
        lpnas_policy_round(p, y, n / 2);
        ck_assert_int_eq(memcmp(y, x + n / 2, (n / 2) * sizeof *x), 0);
    }
    /* round_host under myriadx equals the bits of to_device */
    const lpnas_policy *mx = policy("myriadx");
    memcpy(y, x, n * sizeof *x);
    lpnas_policy_round_host(mx, y, n);
    for (size_t i = 0; i < n; i++) {
        lpnas_f16 h;
        lpnas_policy_to_device(mx, &h, &x[i], 1);
        float want = lpnas_f16_to_f32(h);
        LPNAS_REQUIRE(fbits(y[i]) == fbits(want), "round_host 0x%08x", fbits(x[i]));
    }
    free(x);
    free(y);
}
END_TEST

/* ---- loss scaler ----------------------------------------------------- */

START_TEST(scaler_defaults_and_dynamics)
{
    lpnas_scaler_options o;
    lpnas_scaler_options_default(&o);
    ck_assert(o.init_scale == 65536.0f && o.growth_factor == 2.0f && o.backoff_factor == 0.5f &&
              o.growth_interval == 2000);
    lpnas_scaler s;
    ck_assert_int_eq(lpnas_scaler_init(&s, NULL), LPNAS_OK);
    ck_assert(s.scale == 65536.0f);
    /* overflow: skip and back off */
    ck_assert(!lpnas_scaler_update(&s, true));
    ck_assert(s.scale == 32768.0f && s.skipped == 1 && s.applied == 0);
    /* growth after exactly growth_interval clean steps */
    for (int i = 0; i < 1999; i++)
        ck_assert(lpnas_scaler_update(&s, false));
    ck_assert(s.scale == 32768.0f);
    ck_assert(lpnas_scaler_update(&s, false));
    ck_assert(s.scale == 65536.0f && s.applied == 2000 && s.clean_steps == 0);
    /* an overflow resets the clean-step count */
    for (int i = 0; i < 1000; i++)
        lpnas_scaler_update(&s, false);
    lpnas_scaler_update(&s, true);
    for (int i = 0; i < 1999; i++)
        lpnas_scaler_update(&s, false);
    ck_assert(s.scale == 32768.0f);

    /* floor and ceiling */
    o.growth_interval = 1;
    o.min_scale = 4;
    o.max_scale = 1 << 20;
    o.init_scale = 8;
    ck_assert_int_eq(lpnas_scaler_init(&s, &o), LPNAS_OK);
    for (int i = 0; i < 10; i++)
        lpnas_scaler_update(&s, true);
    ck_assert(s.scale == 4.0f && s.skipped == 10);
    for (int i = 0; i < 100; i++)
        lpnas_scaler_update(&s, false);
    ck_assert(s.scale == (float)(1 << 20));
}
END_TEST

START_TEST(scaler_bad_options)
{
    lpnas_scaler s;
    lpnas_scaler_options o;
    lpnas_scaler_options_default(&o);
    o.growth_factor = 0.5f;
    ck_assert_int_eq(lpnas_scaler_init(&s, &o), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "growth_factor"));
    lpnas_scaler_options_default(&o);
    o.init_scale = NAN;
    ck_assert_int_eq(lpnas_scaler_init(&s, &o), LPNAS_ERR_ARG);
    lpnas_scaler_options_default(&o);
    o.backoff_factor = 1.0f;
    ck_assert_int_eq(lpnas_scaler_init(&s, &o), LPNAS_ERR_ARG);
    lpnas_scaler_options_default(&o);
    o.growth_interval = 0;
    ck_assert_int_eq(lpnas_scaler_init(&s, &o), LPNAS_ERR_ARG);
    lpnas_scaler_options_default(&o);
    o.min_scale = 1e9f;
    ck_assert_int_eq(lpnas_scaler_init(&s, &o), LPNAS_ERR_ARG);
}
END_TEST

START_TEST(scaler_save_load)
{
    lpnas_scaler s, t;
    lpnas_scaler_init(&s, NULL);
    for (int i = 0; i < 2500; i++)
        lpnas_scaler_update(&s, i % 700 == 3);
    char *dir = lpnas_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/scaler.bin", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(lpnas_scaler_save(&s, f), LPNAS_OK);
    fclose(f);
    f = fopen(path, "rb");
    ck_assert_int_eq(lpnas_scaler_load(&t, f), LPNAS_OK);
    fclose(f);
    ck_assert_int_eq(memcmp(&s, &t, sizeof s), 0);
    /* the two continue identically */
    for (int i = 0; i < 3000; i++)
        ck_assert(lpnas_scaler_update(&s, i % 900 == 1) == lpnas_scaler_update(&t, i % 900 == 1));
    ck_assert_int_eq(memcmp(&s, &t, sizeof s), 0);

    /* read the bytes back, then truncate and corrupt */
    f = fopen(path, "rb");
    unsigned char buf[256];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t cut = 0; cut < len; cut += 3) {
        f = fmemopen(buf, cut ? cut : 1, "rb");
        if (cut == 0)
            fgetc(f);
        ck_assert_int_eq(lpnas_scaler_load(&t, f), LPNAS_ERR_CORRUPT);
        fclose(f);
    }
    for (size_t i = 8; i < len; i += 5) {
        buf[i] ^= 0x10;
        f = fmemopen(buf, len, "rb");
        ck_assert_int_eq(lpnas_scaler_load(&t, f), LPNAS_ERR_CORRUPT);
        fclose(f);
        buf[i] ^= 0x10;
    }
    buf[0] ^= 1;
    f = fmemopen(buf, len, "rb");
    ck_assert_int_eq(lpnas_scaler_load(&t, f), LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "magic"));
    fclose(f);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(any_nonfinite_scan)
{
    size_t n = 100003;
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)i * 1e30f; /* large but finite */
    ck_assert(!lpnas_any_nonfinite(x, n));
    ck_assert(!lpnas_any_nonfinite(x, 0));
    const float bad[] = {INFINITY, -INFINITY, NAN, -NAN};
    size_t at[] = {0, 4095, 4096, n - 1};
    for (size_t b = 0; b < 4; b++)
        for (size_t k = 0; k < 4; k++) {
            float keep = x[at[k]];
            x[at[k]] = bad[b];
            ck_assert(lpnas_any_nonfinite(x, n));
            x[at[k]] = keep;
        }
    /* two huge finite values never add up to a false positive */
    x[0] = 3e38f;
    x[1] = 3e38f;
    ck_assert(!lpnas_any_nonfinite(x, n));
    free(x);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("policy");
    TCase *t = lpnas_tcase("policy");
    tcase_add_test(t, myriadx_named_cases);
    tcase_add_test(t, myriadx_sweep);
    tcase_add_test(t, presets_and_names);
    tcase_add_test(t, round_outputs);
    tcase_add_test(t, scaler_defaults_and_dynamics);
    tcase_add_test(t, scaler_bad_options);
    tcase_add_test(t, scaler_save_load);
    tcase_add_test(t, any_nonfinite_scan);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
