/* conv2d, fp16-accumulate (myriadx-fp16acc): every code path this CPU has
 * (portable, AVX2, AVX-512F, AVX512-FP16) bit for bit against the
 * lpnas_f16_fma chain and the independent binary64 reference: data modes,
 * the double-rounding traps, and the caller's floating-point mode. */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "conv_case.h"
#include "f16_ref.h"
#include "kernels/conv2d.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

/* Every fp16-accumulate code path this CPU has (portable, AVX2, AVX-512),
 * bit for bit against the lpnas_f16_fma chain: dense, grouped, depthwise
 * with vector interiors (stride 1 and 2), tiny values (subnormal partial
 * sums and -0), and sums near 65504 (the bound sends them to the scalar
 * chain, overflowing to inf like the reference). */
/* Data modes of f16acc_case: random values times the scales; small
 * integers times the scales (products on a coarse grid: many partial sums
 * are exact binary16 midpoints, and some inputs and weights are the trap
 * pair of fp16_accumulate_double_rounding, so inexact ones occur too); the
 * random data with a NaN input and an infinite weight. */
enum { DATA_RANDOM, DATA_TIES, DATA_NONFINITE };

static void fill_ties(float *x, size_t n, float scale, float trap)
{
    for (size_t i = 0; i < n; i++) {
        rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
        int v = (int)(rng_state >> 59) - 16; /* -16..15 */
        x[i] = (rng_state >> 40) % 23 == 0 ? trap : (float)v * scale;
    }
}

/* The AVX2 kernel's two ways (kernels/conv2d.h): scaled binary16 all
 * along, rounding to odd all along, and the watch's trial of both (which
 * moves between them in the middle of a long enough call) give the same
 * bits, bound results included. Returns the ways the watched call ran. */
static unsigned avx2_ways_agree(const float *in, const float *w, const float *b, lpnas_shape s, lpnas_shape o,
                                const lpnas_conv_params *p, const char *what)
{
    size_t no = lpnas_shape_numel(o);
    float *out[3], *ws = malloc(lpnas_conv2d_f16acc_avx2_workspace(s, o, p) * 4);
    const lpnas_f16acc_way ways[3] = {LPNAS_F16ACC_SCALED, LPNAS_F16ACC_ODD, LPNAS_F16ACC_WATCH};
    bool done[3];
    unsigned ran[3];
    for (int v = 0; v < 3; v++) {
        out[v] = malloc(no * 4);
        done[v] = lpnas_conv2d_f16acc_avx2_way(out[v], in, w, b, s, o, p, ws, LPNAS_ISA_AVX2, ways[v], &ran[v]);
    }
    ck_assert_msg((ran[0] & ~1u) == 0 && (ran[1] & ~2u) == 0,
                  "%s: a fixed way ran the other (%u, %u)", what, ran[0], ran[1]);
    for (int v = 1; v < 3; v++) {
        ck_assert_msg(done[v] == done[0], "%s: way %d bounded %d, scaled %d", what, v, done[v], done[0]);
        for (size_t i = 0; done[0] && i < no; i++)
            LPNAS_REQUIRE(memcmp(&out[v][i], &out[0][i], 4) == 0, "%s AVX2 way %d out[%zu]: %a, scaled %a", what, v,
                          i, (double)out[v][i], (double)out[0][i]);
    }
    for (int v = 0; v < 3; v++)
        free(out[v]);
    free(ws);
    return ran[2];
}

static void f16acc_case_data(const conv_case *k, float scale_in, float scale_w, lpnas_isa isa, const char *what,
                             int data)
{
    const lpnas_policy *acc16;
    lpnas_policy_get("myriadx-fp16acc", &acc16);
    lpnas_conv_params p;
    lpnas_shape s, o;
    size_t ni, no, nw;
    conv_case_dims(k, &p, &s, &o, &ni, &no, &nw);
    float *in = filled(ni), *w = filled(nw), *b = filled((size_t)k->oc);
    for (size_t i = 0; i < ni; i++)
        in[i] *= scale_in;
    for (size_t i = 0; i < nw; i++)
        w[i] *= scale_w;
    if (data == DATA_TIES) {
        fill_ties(in, ni, scale_in, 0x1.ff8p-1f); /* 1 - 2^-10 */
        fill_ties(w, nw, scale_w, 0x1.004p-1f);   /* 0.5 + 2^-11 */
    }
    in[0] = -0.0f; /* signed zeros in the chains */
    w[0] = 0.0f;
    if (data == DATA_NONFINITE) {
        in[ni / 2] = NAN;
        w[nw - 1] = INFINITY;
    }
    float *fast = malloc(no * 4), *ref = malloc(no * 4);
    float *ws = malloc((lpnas_conv2d_workspace(s, k->oc, &p) + 1) * 4);
    lpnas_conv2d_forward_f16acc_isa(fast, in, w, k->bias ? b : NULL, s, k->oc, &p, LPNAS_KACT_NONE, acc16, ws, isa);
    lpnas_conv2d_forward_ref(ref, in, w, k->bias ? b : NULL, s, k->oc, &p, LPNAS_KACT_NONE, acc16);
    for (size_t i = 0; i < no; i++)
        LPNAS_REQUIRE(memcmp(&fast[i], &ref[i], 4) == 0, "%s path %s out[%zu]: %a vs %a", what, lpnas_isa_name(isa), i,
                      (double)fast[i], (double)ref[i]);
    if (isa == LPNAS_ISA_AVX2)
        avx2_ways_agree(in, w, k->bias ? b : NULL, s, o, &p, what);
    free(in), free(w), free(b), free(fast), free(ref), free(ws);
}

static void f16acc_case(const conv_case *k, float scale_in, float scale_w, lpnas_isa isa, const char *what)
{
    f16acc_case_data(k, scale_in, scale_w, isa, what, DATA_RANDOM);
}

START_TEST(fp16_accumulate_every_path)
{
    const conv_case cases[] = {
        {1, 16, 9, 21, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   /* dense, channel tail, interior and border pixels */
        {2, 8, 6, 19, 12, 3, 3, 2, 1, 1, 0, 1, 1, 2, 1},    /* grouped, stride 2 rows */
        {1, 3, 5, 30, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0},     /* 1x1, 2 channels */
        {2, 5, 7, 40, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, 1},     /* depthwise, vector interior */
        {1, 4, 9, 45, 4, 3, 3, 2, 2, 1, 1, 1, 1, 4, 0},     /* depthwise stride 2 */
        {1, 3, 6, 37, 3, 5, 5, 1, 1, 4, 4, 2, 2, 3, 1},     /* depthwise 5x5 dilation 2 */
        {2, 6, 7, 13, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    /* batch 2, odd sizes, 10 channels (4 + 4 + 2) */
        {1, 4, 9, 23, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},     /* dense dilation 2, 5 channels (4 + 1) */
        {1, 6, 8, 31, 6, 3, 3, 2, 2, 1, 1, 1, 1, 3, 1},     /* groups 3, stride 2, width tail */
        {2, 5, 3, 45, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0},     /* 1x1, 7 channels, 45 wide */
        {1, 3, 5, 70, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1},     /* depthwise, several vectors in flight and a tail */
        {1, 2, 6, 17, 3, 3, 1, 1, 1, 1, 0, 1, 1, 1, 1},     /* 3x1 kernel, padding in rows only */
        {1, 1, 1, 1, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},      /* a single pixel */
        /* the widest pixel blocks of each channel block (AVX2: 4 x 3, 2 x 6,
         * 1 x 12 vectors; AVX-512F: 4 x 4, 2 x 8, 1 x 16) and their tails */
        {1, 2, 3, 70, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* dense, 4 channels x 3 and x 4 vectors */
        {1, 2, 4, 100, 2, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1},    /* depthwise, 12 vectors and a tail */
        {1, 2, 3, 260, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1},    /* 2 channels a group x 6 and x 8 vectors */
        {1, 1, 3, 260, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    /* one channel x 12 and x 16 vectors */
    };
    lpnas_isa det = lpnas_cpu_isa_detected();
    for (int isa = LPNAS_ISA_PORTABLE; isa <= (int)det; isa++)
        for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
            char what[64];
            snprintf(what, sizeof what, "case %zu", t);
            f16acc_case(&cases[t], 8.0f, 1.0f, (lpnas_isa)isa, what);
            snprintf(what, sizeof what, "case %zu tiny", t);
            f16acc_case(&cases[t], 0x1p-9f, 0x1p-8f, (lpnas_isa)isa, what); /* products near 2^-17..2^-24 */
            snprintf(what, sizeof what, "case %zu huge", t);
            f16acc_case(&cases[t], 3000.0f, 40.0f, (lpnas_isa)isa, what); /* partial sums overflow */
            snprintf(what, sizeof what, "case %zu ties", t);
            f16acc_case_data(&cases[t], 0.25f, 0.5f, (lpnas_isa)isa, what, DATA_TIES); /* midpoints */
            snprintf(what, sizeof what, "case %zu ties large", t);
            f16acc_case_data(&cases[t], 8.0f, 4.0f, (lpnas_isa)isa, what, DATA_TIES); /* coarse ulps */
            snprintf(what, sizeof what, "case %zu nan/inf", t);
            f16acc_case_data(&cases[t], 8.0f, 1.0f, (lpnas_isa)isa, what, DATA_NONFINITE);
        }
    /* the dispatch: LPNAS_ISA caps the path (set by tools/run_tests.sh callers); clamping never goes above the CPU */
    ck_assert_int_le(lpnas_cpu_isa(), det);
    ck_assert_int_eq(lpnas_cpu_isa_clamp(LPNAS_ISA_AVX512FP16), det);
    ck_assert_int_eq(lpnas_cpu_isa_clamp(LPNAS_ISA_AVX512), det < LPNAS_ISA_AVX512 ? det : LPNAS_ISA_AVX512);
    ck_assert_int_eq(lpnas_cpu_isa_clamp(LPNAS_ISA_PORTABLE), LPNAS_ISA_PORTABLE);
    ck_assert_int_eq(lpnas_isa_parse("portable"), LPNAS_ISA_PORTABLE);
    ck_assert_int_eq(lpnas_isa_parse("avx2"), LPNAS_ISA_AVX2);
    ck_assert_int_eq(lpnas_isa_parse("avx512"), LPNAS_ISA_AVX512);
    ck_assert_int_eq(lpnas_isa_parse("avx512fp16"), LPNAS_ISA_AVX512FP16);
    ck_assert_int_eq(lpnas_isa_parse(NULL), LPNAS_ISA_AVX512FP16);
    ck_assert_int_eq(lpnas_isa_parse("sse9"), LPNAS_ISA_AVX512FP16);
    ck_assert_str_eq(lpnas_isa_name(lpnas_isa_parse("avx2")), "avx2");
    ck_assert_str_eq(lpnas_isa_name(LPNAS_ISA_AVX512), "avx512");
    ck_assert_str_eq(lpnas_isa_name(LPNAS_ISA_AVX512FP16), "avx512fp16");
    /* the binary16 path only where the CPU lists avx512_fp16 */
    ck_assert_int_eq(det == LPNAS_ISA_AVX512FP16, strstr(lpnas_cpu_features(), "avx512_fp16") != NULL &&
                                                      strstr(lpnas_cpu_features(), "avx512f") != NULL);
    ck_assert_ptr_nonnull(lpnas_cpu_features());
}
END_TEST

/* The AVX2 watch's trial in the middle of a call, on a conv long enough
 * for both ways to run (16 -> 8 channels, 3x3, 48 x 40: ~280 000 vector
 * steps), with random, tiny (binary16 subnormal sums: the data that makes
 * scaled binary16 slow on some CPUs) and tie-heavy data. */
START_TEST(fp16_accumulate_avx2_watch)
{
    if (lpnas_cpu_isa_detected() < LPNAS_ISA_AVX2)
        return;
    const lpnas_shape s = {1, 16, 48, 40};
    lpnas_conv_params p = lpnas_conv_params_make(3, 1, 1);
    lpnas_shape o;
    ck_assert_int_eq(lpnas_conv2d_check(s, 8, &p, &o), LPNAS_OK);
    size_t ni = lpnas_shape_numel(s), nw = (size_t)8 * 16 * 9;
    const float scales[3][2] = {{8.0f, 1.0f}, {0x1p-9f, 0x1p-8f}, {0.25f, 0.5f}};
    for (int d = 0; d < 3; d++) {
        float *in = filled(ni), *w = filled(nw), *b = filled(8);
        for (size_t i = 0; i < ni; i++)
            in[i] *= scales[d][0];
        for (size_t i = 0; i < nw; i++)
            w[i] *= scales[d][1];
        if (d == 2) {
            fill_ties(in, ni, scales[d][0], 0x1.ff8p-1f);
            fill_ties(w, nw, scales[d][1], 0x1.004p-1f);
        }
        char what[32];
        snprintf(what, sizeof what, "watch data %d", d);
        ck_assert_msg(avx2_ways_agree(in, w, b, s, o, &p, what) == 3u, "%s: the watch did not try both ways", what);
        free(in), free(w), free(b);
    }
}
END_TEST

/* Chains where computing a step in binary32 and then rounding to binary16
 * gives the wrong answer (conv2d_f16acc_avx2.c): the binary32 sum of the
 * exact value lands on a binary16 midpoint, and ties-to-even then goes the
 * wrong way. Each case is a 1x1 conv from one channel, every pixel the
 * same x (a few +-0, which leave the bias), so each output is one step:
 *   1025 + (0.5 + 2^-11)(1 - 2^-10) = 1025.5 - 2^-21 -> 1025 (not 1026),
 *   the same negated, and the same at the top of a binade (2047.5 - 2^-21),
 *   513 * 2^-24 + (1 + 2^-10) 2^-12 * (2 - 2^-9) 2^-14 = 513.5 * 2^-24 - 2^-45
 *     -> 513 * 2^-24 (binary16 subnormals; not 514 * 2^-24), and negated;
 *   1024 + 0x1.1d4p-1 * 0x1.cb8p-1 = 1024.5 + 6 * 2^-22 -> 1025 (binary32
 *   rounds it to the midpoint 1024.5, whose tie goes to 1024; the AVX2
 *   kernel's truncated sum is that midpoint too, and must round up as the
 *   sum is not exact), negated, and the same in subnormals (512.5 * 2^-24
 *   + 6 * 2^-46 -> 513 * 2^-24).
 * The expected bits come from the independent reference (test/f16_ref.c,
 * the exact sum in binary64) and must differ from the double rounding; every
 * path (AVX2 and AVX-512 too where the CPU has them) must give them. */
START_TEST(fp16_accumulate_double_rounding)
{
    /* bias, w, x; then w2 * x2 from a second input channel lifts a
     * subnormal result into the normal range (the policy flushes
     * subnormal outputs) without rounding: 2^-14 + 513 * 2^-24 is exact */
    const struct {
        float bias, w, x, w2, x2;
    } traps[] = {
        {1025.0f, 0x1.004p-1f, 0x1.ff8p-1f, 0.0f, 1.0f},
        {-1025.0f, -0x1.004p-1f, 0x1.ff8p-1f, 0.0f, 1.0f},
        {2047.0f, 0x1.004p-1f, 0x1.ff8p-1f, 0.0f, 1.0f},
        {513 * 0x1p-24f, 0x1.004p-12f, 0x1.ff8p-14f, 0x1p-7f, 0x1p-7f},
        {-513 * 0x1p-24f, 0x1.004p-12f, -0x1.ff8p-14f, 0x1p-7f, -0x1p-7f},
        {1024.0f, 0x1.1d4p-1f, 0x1.cb8p-1f, 0.0f, 1.0f},
        {-1024.0f, 0x1.1d4p-1f, -0x1.cb8p-1f, 0.0f, 1.0f},
        {512 * 0x1p-24f, 0x1.1d4p-13f, 0x1.cb8p-13f, 0x1p-7f, 0x1p-7f},
    };
    const lpnas_policy *acc16;
    lpnas_policy_get("myriadx-fp16acc", &acc16);
    lpnas_isa det = lpnas_cpu_isa_detected();
    for (size_t t = 0; t < sizeof traps / sizeof traps[0]; t++) {
        unsigned flags = 0;
        double exact = (double)traps[t].bias + (double)traps[t].w * (double)traps[t].x; /* exact in binary64 */
        float once = (float)lpnas_ref_f16_value(lpnas_ref_round_double(exact, LPNAS_RNE, &flags));
        float twice = lpnas_f16_to_f32(lpnas_f16_from_f32(fmaf(traps[t].w, traps[t].x, traps[t].bias), LPNAS_RNE, NULL));
        ck_assert_msg(once != twice, "trap %zu is no trap: %a", t, (double)once);
        double lift = (double)traps[t].w2 * (double)traps[t].x2;
        float want = lift == 0 ? once : (float)lpnas_ref_f16_value(lpnas_ref_round_double(once + lift, LPNAS_RNE, &flags));
        float want0 = lift == 0 ? traps[t].bias
                                : (float)lpnas_ref_f16_value(lpnas_ref_round_double(traps[t].bias + lift, LPNAS_RNE, &flags));
        lpnas_shape s = {2, 2, 5, 37}, o;
        lpnas_conv_params p = {1, 1, 1, 1, 0, 0, 1, 1, 1};
        int oc = 3; /* the same weights three times: a channel tail */
        ck_assert_int_eq(lpnas_conv2d_check(s, oc, &p, &o), LPNAS_OK);
        size_t P = (size_t)s.h * s.w, ni = lpnas_shape_numel(s), no = lpnas_shape_numel(o);
        float *in = malloc(ni * 4), *out = malloc(no * 4), *ws = malloc((lpnas_conv2d_workspace(s, oc, &p) + 1) * 4);
        float w[6], b[3];
        for (int c = 0; c < oc; c++)
            w[2 * c] = traps[t].w, w[2 * c + 1] = traps[t].w2, b[c] = traps[t].bias;
        for (size_t i = 0; i < ni; i++) {
            bool second = i / P % 2 == 1;
            in[i] = second ? traps[t].x2 : i % 11 == 3 ? (i % 2 ? -0.0f : 0.0f) : traps[t].x;
        }
        for (int isa = LPNAS_ISA_PORTABLE; isa <= (int)det; isa++) {
            lpnas_conv2d_forward_f16acc_isa(out, in, w, b, s, oc, &p, LPNAS_KACT_NONE, acc16, ws, (lpnas_isa)isa);
            for (size_t i = 0; i < no; i++) {
                size_t pix = i % P, img = i / (P * (size_t)oc);
                float expect = in[img * 2 * P + pix] == 0.0f ? want0 : want;
                LPNAS_REQUIRE(memcmp(&out[i], &expect, 4) == 0, "trap %zu path %s out[%zu]: %a, want %a", t,
                              lpnas_isa_name((lpnas_isa)isa), i, (double)out[i], (double)expect);
            }
        }
        free(in), free(out), free(ws);
    }
}
END_TEST

/* The SIMD fp16-accumulate paths set MXCSR themselves (AVX2: round down
 * for the directed roundings; DAZ and FTZ off) and must neither depend on
 * the caller's rounding mode, DAZ or FTZ nor leave MXCSR changed: every
 * path against the reference computed in the default mode, with the
 * caller in each rounding mode and in nearest with DAZ | FTZ; tie-heavy,
 * tiny (binary16 subnormal sums) and random data. */
START_TEST(fp16_accumulate_caller_fp_mode)
{
    const conv_case k = {1, 6, 7, 29, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
    const struct {
        int round;
        unsigned daz_ftz;
    } modes[] = {{FE_UPWARD, 0}, {FE_DOWNWARD, 0}, {FE_TOWARDZERO, 0}, {FE_TONEAREST, 0x8040u}};
    const struct {
        float si, sw;
        int data;
    } datas[] = {{0.25f, 0.5f, DATA_TIES}, {0x1p-9f, 0x1p-8f, DATA_RANDOM}, {8.0f, 1.0f, DATA_RANDOM}};
    const lpnas_policy *acc16;
    lpnas_policy_get("myriadx-fp16acc", &acc16);
    lpnas_conv_params p = params_of(&k);
    lpnas_shape s = {k.n, k.c, k.h, k.w}, o;
    ck_assert_int_eq(lpnas_conv2d_check(s, k.oc, &p, &o), LPNAS_OK);
    size_t ni = lpnas_shape_numel(s), no = lpnas_shape_numel(o), nw = (size_t)k.oc * k.c * k.kh * k.kw;
    float *in = malloc(ni * 4), *w = malloc(nw * 4), *b = malloc((size_t)k.oc * 4);
    float *fast = malloc(no * 4), *ref = malloc(no * 4);
    float *ws = malloc((lpnas_conv2d_workspace(s, k.oc, &p) + 1) * 4);
    lpnas_isa det = lpnas_cpu_isa_detected();
    for (size_t d = 0; d < sizeof datas / sizeof datas[0]; d++) {
        fill(in, ni), fill(w, nw), fill(b, (size_t)k.oc);
        for (size_t i = 0; i < ni; i++)
            in[i] *= datas[d].si;
        for (size_t i = 0; i < nw; i++)
            w[i] *= datas[d].sw;
        if (datas[d].data == DATA_TIES) {
            fill_ties(in, ni, datas[d].si, 0x1.ff8p-1f);
            fill_ties(w, nw, datas[d].sw, 0x1.004p-1f);
        }
        lpnas_conv2d_forward_ref(ref, in, w, b, s, k.oc, &p, LPNAS_KACT_NONE, acc16);
        for (int isa = LPNAS_ISA_PORTABLE; isa <= (int)det; isa++)
            for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
                ck_assert_int_eq(fesetround(modes[m].round), 0);
#ifdef HAVE_MXCSR
                _mm_setcsr(_mm_getcsr() | modes[m].daz_ftz);
                unsigned before = _mm_getcsr();
#endif
                lpnas_conv2d_forward_f16acc_isa(fast, in, w, b, s, k.oc, &p, LPNAS_KACT_NONE, acc16, ws, (lpnas_isa)isa);
                int round_after = fegetround();
#ifdef HAVE_MXCSR
                unsigned after = _mm_getcsr();
                _mm_setcsr(after & ~0x8040u);
#endif
                fesetround(FE_TONEAREST);
                ck_assert_int_eq(round_after, modes[m].round);
#ifdef HAVE_MXCSR
                ck_assert_msg((after & ~0x3Fu) == (before & ~0x3Fu), "MXCSR %#x after, %#x before", after, before);
#endif
                for (size_t i = 0; i < no; i++)
                    LPNAS_REQUIRE(memcmp(&fast[i], &ref[i], 4) == 0, "data %zu mode %zu path %s out[%zu]: %a vs %a", d, m,
                                  lpnas_isa_name((lpnas_isa)isa), i, (double)fast[i], (double)ref[i]);
            }
    }
    free(in), free(w), free(b), free(fast), free(ref), free(ws);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conv2d_f16acc");
    TCase *t = lpnas_tcase("conv2d_f16acc");
    tcase_add_test(t, fp16_accumulate_every_path);
    tcase_add_test(t, fp16_accumulate_double_rounding);
    tcase_add_test(t, fp16_accumulate_avx2_watch);
    tcase_add_test(t, fp16_accumulate_caller_fp_mode);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
