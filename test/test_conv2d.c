/* conv2d: backward against central differences of a binary64 loss, the fast
 * FP32 path against the reference loop, the device paths (fp32-accumulate
 * within one binary16 ulp, fp16-accumulate bit-exact with the lpnas_f16_fma
 * chain through the dispatch; every fp16-accumulate code path in
 * test_conv2d_f16acc.c), the SIMD paths' bits, and bad shapes. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "conv_case.h"
#include "gradcheck.h"
#include "kernels/conv2d.h"


static const conv_case CASES[] = {
    {1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    /* plain 3x3 */
    {2, 4, 7, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2, 1},    /* batch 2, odd sizes, stride 2, groups 2 */
    {1, 6, 9, 9, 6, 3, 3, 1, 1, 2, 2, 2, 2, 6, 0},    /* depthwise, dilation 2, no bias */
    {2, 5, 6, 7, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},    /* 1x1 as a bare GEMM */
    {1, 2, 11, 10, 3, 5, 5, 1, 2, 2, 1, 1, 1, 1, 1},  /* 5x5, unequal stride and padding */
    {1, 8, 6, 6, 16, 1, 1, 2, 2, 0, 0, 1, 1, 4, 0},   /* 1x1 stride 2, groups 4 */
    {2, 3, 5, 5, 2, 3, 2, 1, 1, 0, 1, 1, 1, 1, 1},    /* rectangular kernel */
    {2, 5, 6, 19, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   /* direct 3x3: 16-, 8-column blocks, tail, 4 + 2 channels */
    {2, 4, 7, 35, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},   /* direct 3x3 stride 2 */
};
#define NCASES (sizeof CASES / sizeof CASES[0])


/* L = sum(out * r) with out computed in binary64 by direct loops. */
struct loss_ctx {
    const conv_case *k;
    lpnas_shape s, o;
    const float *in, *w, *b, *r;
};

static double loss64(void *vctx)
{
    struct loss_ctx *c = vctx;
    const conv_case *k = c->k;
    int cg = k->c / k->groups, og = k->oc / k->groups;
    double L = 0;
    for (int n = 0; n < c->o.n; n++)
        for (int oc = 0; oc < c->o.c; oc++)
            for (int oy = 0; oy < c->o.h; oy++)
                for (int ox = 0; ox < c->o.w; ox++) {
                    double acc = c->b ? c->b[oc] : 0;
                    int g = oc / og;
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < k->kh; ky++)
                            for (int kx = 0; kx < k->kw; kx++) {
                                int iy = oy * k->sh - k->ph + ky * k->dh, ix = ox * k->sw - k->pw + kx * k->dw;
                                if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w)
                                    continue;
                                acc += (double)c->w[((oc * cg + ci) * k->kh + ky) * k->kw + kx] *
                                       c->in[lpnas_shape_at(c->s, n, g * cg + ci, iy, ix)];
                            }
                    L += acc * c->r[lpnas_shape_at(c->o, n, oc, oy, ox)];
                }
    return L;
}

START_TEST(backward_matches_finite_differences)
{
    for (size_t t = 0; t < NCASES; t++) {
        const conv_case *k = &CASES[t];
        lpnas_conv_params p;
        lpnas_shape s, o;
        size_t ni, no, nw;
        conv_case_dims(k, &p, &s, &o, &ni, &no, &nw);
        float *in = malloc(ni * 4), *w = malloc(nw * 4), *b = malloc((size_t)k->oc * 4), *r = malloc(no * 4);
        float *din = calloc(ni, 4), *dw = calloc(nw, 4), *db = calloc((size_t)k->oc, 4);
        float *ws = malloc((lpnas_conv2d_workspace(s, k->oc, &p) + 1) * 4);
        fill(in, ni);
        fill(w, nw);
        fill(b, (size_t)k->oc);
        fill(r, no);
        lpnas_conv2d_backward(din, dw, k->bias ? db : NULL, r, in, w, s, k->oc, &p, NULL, ws);
        struct loss_ctx c = {k, s, o, in, w, k->bias ? b : NULL, r};
        lpnas_gradcheck_options go = lpnas_gradcheck_defaults();
        go.rtol = 1e-3;
        go.atol = 1e-4;
        char what[64];
        snprintf(what, sizeof what, "case %zu din", t);
        ck_assert_uint_eq(lpnas_gradcheck(what, loss64, &c, in, din, ni, &go), 0);
        snprintf(what, sizeof what, "case %zu dweight", t);
        ck_assert_uint_eq(lpnas_gradcheck(what, loss64, &c, w, dw, nw, &go), 0);
        if (k->bias) {
            snprintf(what, sizeof what, "case %zu dbias", t);
            ck_assert_uint_eq(lpnas_gradcheck(what, loss64, &c, b, db, (size_t)k->oc, &go), 0);
        }
        /* the reference backward agrees */
        float *din2 = calloc(ni, 4), *dw2 = calloc(nw, 4), *db2 = calloc((size_t)k->oc, 4);
        lpnas_conv2d_backward_ref(din2, dw2, db2, r, in, w, s, k->oc, &p);
        for (size_t i = 0; i < ni; i++)
            LPNAS_REQUIRE(fabsf(din[i] - din2[i]) <= 1e-4f * (1 + fabsf(din2[i])), "case %zu din[%zu]", t, i);
        for (size_t i = 0; i < nw; i++)
            LPNAS_REQUIRE(fabsf(dw[i] - dw2[i]) <= 1e-4f * (1 + fabsf(dw2[i])), "case %zu dw[%zu]", t, i);
        free(din2), free(dw2), free(db2);
        free(in), free(w), free(b), free(r), free(din), free(dw), free(db), free(ws);
    }
}
END_TEST

static void run_paths(const conv_case *k, const lpnas_policy *pol, lpnas_act act, float **fast, float **ref,
                      size_t *no_out)
{
    lpnas_conv_params p;
    lpnas_shape s, o;
    size_t ni, no, nw;
    conv_case_dims(k, &p, &s, &o, &ni, &no, &nw);
    float *in = filled(ni), *w = filled(nw), *b = filled((size_t)k->oc);
    for (size_t i = 0; i < ni; i++)
        in[i] *= 8; /* larger sums: more rounding */
    /* device values in, as the network would give them */
    lpnas_policy_round_host(pol, in, ni);
    lpnas_policy_round_host(pol, w, nw);
    lpnas_policy_round_host(pol, b, (size_t)k->oc);
    *fast = malloc(no * 4);
    *ref = malloc(no * 4);
    float *ws = malloc((lpnas_conv2d_workspace(s, k->oc, &p) + 1) * 4);
    lpnas_conv2d_forward(*fast, in, w, k->bias ? b : NULL, s, k->oc, &p, act, pol, ws);
    lpnas_conv2d_forward_ref(*ref, in, w, k->bias ? b : NULL, s, k->oc, &p, act, pol);
    *no_out = no;
    free(in), free(w), free(b), free(ws);
}

START_TEST(fp32_fast_matches_reference)
{
    for (size_t t = 0; t < NCASES; t++) {
        float *fast, *ref;
        size_t no;
        run_paths(&CASES[t], NULL, t % 2 ? LPNAS_KACT_RELU : LPNAS_KACT_RELU6, &fast, &ref, &no);
        for (size_t i = 0; i < no; i++)
            LPNAS_REQUIRE(fabsf(fast[i] - ref[i]) <= 1e-5f * (1 + fabsf(ref[i])), "case %zu out[%zu]: %g vs %g", t, i,
                          (double)fast[i], (double)ref[i]);
        free(fast), free(ref);
    }
}
END_TEST

static float ulp16(float x)
{
    int e = ilogbf(fabsf(x));
    return ldexpf(1.0f, (e < -14 ? -14 : e) - 10);
}

START_TEST(fp32_accumulate_policy)
{
    const lpnas_policy *mx;
    lpnas_policy_get("myriadx", &mx);
    for (size_t t = 0; t < NCASES; t++) {
        float *fast, *ref;
        size_t no;
        run_paths(&CASES[t], mx, LPNAS_KACT_NONE, &fast, &ref, &no);
        for (size_t i = 0; i < no; i++) {
            float again = fast[i];
            lpnas_policy_round(mx, &again, 1);
            LPNAS_REQUIRE(again == fast[i], "case %zu: output %zu is not a device value", t, i);
            /* sgemm sums in another order than the reference: equal after
             * rounding, or one binary16 ulp apart where the fp32 sums straddle a midpoint */
            LPNAS_REQUIRE(fabsf(fast[i] - ref[i]) <= ulp16(ref[i]), "case %zu out[%zu]: %a vs %a", t, i,
                          (double)fast[i], (double)ref[i]);
        }
        free(fast), free(ref);
    }
}
END_TEST

START_TEST(fp16_accumulate_bit_exact)
{
    const lpnas_policy *acc16;
    lpnas_policy_get("myriadx-fp16acc", &acc16);
    /* the cases above plus wide ones that take the 8-channel SIMD path with a tail */
    conv_case extra[] = {{1, 16, 9, 9, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, {2, 8, 6, 7, 12, 3, 3, 2, 1, 1, 0, 1, 1, 2, 1}};
    for (size_t t = 0; t < NCASES + 2; t++) {
        const conv_case *k = t < NCASES ? &CASES[t] : &extra[t - NCASES];
        float *fast, *ref;
        size_t no;
        run_paths(k, acc16, LPNAS_KACT_RELU, &fast, &ref, &no);
        for (size_t i = 0; i < no; i++)
            LPNAS_REQUIRE(memcmp(&fast[i], &ref[i], 4) == 0, "case %zu out[%zu]: %a vs %a", t, i, (double)fast[i],
                          (double)ref[i]);
        free(fast), free(ref);
    }
}
END_TEST


/* The FP32 depthwise loops give the same bits on every path this CPU has
 * (forward, backward with and without din), strides 1 and 2, widths with
 * 8-column blocks and tails. The portable path runs the tap-major loops,
 * the AVX2 and AVX-512 ones the row-major sums (conv2d_depthwise.c), so
 * equal bits say the row-major order is the tap-major one. special 1 and
 * 2: data that the padded row sums must not take -- an inf weight (1 only:
 * inf * padded 0 would be NaN), -0 weights, -0 and NaN (quiet and
 * signaling) in din at the rows' edges (-0 + +0 would be +0), -0 and NaN
 * inputs. */
/* Equal bits, or both NaN: which NaN a sum of two NaNs returns depends on
 * the operand order the compiler picks for a commutative addition (x86
 * returns the first), so NaN signs and payloads are not part of the
 * contract; everything else, the sign of zero included, is. */
static bool same_float(float a, float b)
{
    return (a != a && b != b) || !memcmp(&a, &b, sizeof a);
}

static void depthwise_case(const conv_case *k, int special, size_t t)
{
    lpnas_conv_params p = params_of(k);
    lpnas_shape s = {k->n, k->c, k->h, k->w}, o;
    ck_assert_int_eq(lpnas_conv2d_check(s, k->oc, &p, &o), LPNAS_OK);
    size_t ni = lpnas_shape_numel(s), no = lpnas_shape_numel(o), nw = (size_t)k->c * k->kh * k->kw;
    float *in = malloc(ni * 4), *w = malloc(nw * 4), *g = malloc(no * 4), *din0 = calloc(ni, 4);
    fill(in, ni), fill(w, nw), fill(g, no);
    if (special) {
        uint32_t snan = 0x7fa00001u;
        if (special == 1)
            w[0] = INFINITY; /* channel 0; special 2: finite weights, the padded sums' din checks */
        else /* channel 0: k > 0 and dout -0, so din's -0 edges must stay -0 (a padded +0 would flip them) */
            for (int i = 0; i < k->kh * k->kw; i++)
                w[i] = fabsf(w[i]) + 0.5f;
        if (special == 2)
            for (size_t i = 0; i < (size_t)o.h * o.w; i++)
                g[i] = -0.0f;
        for (int i = 0; i < k->kh * k->kw; i++)
            w[(size_t)(1 % k->c) * k->kh * k->kw + (size_t)i] = i % 2 ? -0.0f : w[i + 1]; /* channel 1 */
        for (size_t i = 0; i < ni; i += 7)
            in[i] = i % 3 ? -0.0f : NAN;
        for (size_t i = 0; i < ni; i++) {
            size_t x = i % (size_t)k->w;
            din0[i] = x == 0 || x + 1 == (size_t)k->w ? (i % 3 ? -0.0f : NAN) : (i % 5 ? 0.0f : -0.0f);
        }
        memcpy(&din0[ni / 2 - ni / 2 % (size_t)k->w], &snan, 4); /* a row's first pixel */
    }
    float *out[LPNAS_ISA_LEVELS], *din[LPNAS_ISA_LEVELS], *dw[LPNAS_ISA_LEVELS];
    lpnas_isa det = lpnas_cpu_isa_detected();
    for (int isa = 0; isa <= (int)det; isa++) {
        out[isa] = malloc(no * 4), din[isa] = malloc(ni * 4), dw[isa] = calloc(nw, 4);
        memcpy(din[isa], din0, ni * 4);
        lpnas_conv2d_dw_forward_isa(out[isa], in, w, s, o, &p, (lpnas_isa)isa);
        lpnas_conv2d_dw_backward_isa(din[isa], dw[isa], g, in, w, s, o, &p, (lpnas_isa)isa);
        lpnas_conv2d_dw_backward_isa(NULL, dw[isa], g, in, w, s, o, &p, (lpnas_isa)isa); /* dw twice */
        if (isa > 0) {
            for (size_t i = 0; i < no; i++)
                LPNAS_REQUIRE(same_float(out[isa][i], out[0][i]), "case %zu%s out[%zu] %s: %a vs %a", t,
                              special ? " special" : "", i, lpnas_isa_name(isa), (double)out[isa][i], (double)out[0][i]);
            for (size_t i = 0; i < ni; i++)
                LPNAS_REQUIRE(same_float(din[isa][i], din[0][i]), "case %zu%s din[%zu] %s: %a vs %a", t,
                              special ? " special" : "", i, lpnas_isa_name(isa), (double)din[isa][i], (double)din[0][i]);
            for (size_t i = 0; i < nw; i++)
                LPNAS_REQUIRE(same_float(dw[isa][i], dw[0][i]), "case %zu%s dw[%zu] %s", t, special ? " special" : "", i,
                              lpnas_isa_name(isa));
        }
    }
    if (!special) { /* and the portable path against the reference loops */
        float *ref = malloc(no * 4), *rdin = calloc(ni, 4), *rdw = calloc(nw, 4);
        lpnas_conv2d_forward_ref(ref, in, w, NULL, s, k->oc, &p, LPNAS_KACT_NONE, NULL);
        lpnas_conv2d_backward_ref(rdin, rdw, NULL, g, in, w, s, k->oc, &p);
        for (size_t i = 0; i < no; i++)
            LPNAS_REQUIRE(fabsf(out[0][i] - ref[i]) <= 1e-5f * (1 + fabsf(ref[i])), "case %zu out[%zu]", t, i);
        for (size_t i = 0; i < ni; i++)
            LPNAS_REQUIRE(fabsf(din[0][i] - rdin[i]) <= 1e-5f * (1 + fabsf(rdin[i])), "case %zu din[%zu]", t, i);
        for (size_t i = 0; i < nw; i++)
            LPNAS_REQUIRE(fabsf(dw[0][i] - 2 * rdw[i]) <= 1e-4f * (1 + fabsf(rdw[i])), "case %zu dw[%zu]", t, i);
        free(ref), free(rdin), free(rdw);
    }
    for (int isa = 0; isa <= (int)det; isa++)
        free(out[isa]), free(din[isa]), free(dw[isa]);
    free(in), free(w), free(g), free(din0);
}

START_TEST(depthwise_paths_same_bits)
{
    const conv_case cases[] = {
        {2, 3, 9, 37, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, 0},
        {1, 4, 11, 29, 4, 3, 3, 2, 2, 1, 1, 1, 1, 4, 0},   /* stride 2: tap-major on every path */
        {1, 2, 8, 21, 2, 5, 5, 1, 1, 4, 4, 2, 2, 2, 0},    /* 5x5 dilation 2 */
        {1, 2, 5, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 2, 0},     /* rows narrower than a vector */
        {1, 2, 5, 64, 2, 3, 3, 1, 1, 1, 1, 1, 1, 2, 0},    /* whole blocks only */
        {1, 2, 5, 77, 2, 3, 3, 1, 1, 1, 1, 1, 1, 2, 0},    /* blocks and a partial one */
        {1, 2, 9, 45, 2, 3, 3, 2, 1, 1, 1, 1, 1, 2, 0},    /* stride 2 in rows only */
        {1, 2, 6, 40, 2, 3, 3, 1, 1, 0, 0, 1, 1, 2, 0},    /* no padding */
        {1, 2, 6, 33, 2, 3, 3, 1, 1, 2, 2, 1, 1, 2, 0},    /* padding wider than the kernel's reach */
        {1, 2, 9, 70, 2, 7, 7, 1, 1, 3, 3, 1, 1, 2, 0},    /* 7x7 */
        {1, 2, 4, 30, 2, 1, 17, 1, 1, 0, 8, 1, 1, 2, 0},   /* 1x17: wider than the row-major path takes */
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        depthwise_case(&cases[t], 0, t);
        depthwise_case(&cases[t], 1, t);
        depthwise_case(&cases[t], 2, t);
    }
}
END_TEST

/* The direct 3x3 conv, stride 1 and 2 (conv2d_direct3x3.c): every path this CPU
 * has gives the same bits as the portable one; the forward and the input
 * gradient (from zero) are bit-exact with the reference loops (the same
 * order ci, ky, kx, resp. o, y, x, and the padding taps add +-0, which
 * changes no sum that is never -0); the weight gradient (8 lane partial
 * sums) within 1e-4. Widths with 16- and 8-column blocks and scalar tails,
 * output channels in every block size of the weight gradient (8, 4, 2, 1 on
 * AVX-512; 4, 3, 2, 1 on AVX2; 2, 1 portable). */
START_TEST(direct3x3_paths_same_bits)
{
    const conv_case cases[] = {
        {2, 5, 9, 37, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
        {1, 3, 4, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
        {3, 16, 7, 16, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
        {1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
        {1, 2, 5, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
        {1, 4, 6, 20, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},  /* 15 = 8 + 4 + 2 + 1 = 4 + 4 + 4 + 3 channels */
        {2, 5, 9, 37, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},   /* stride 2, odd sizes */
        {1, 16, 64, 64, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0}, /* stride 2, 32-column output rows */
        {2, 3, 10, 40, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
        {1, 1, 1, 1, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
        {1, 2, 2, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
    };
    lpnas_isa det = lpnas_cpu_isa_detected();
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const conv_case *k = &cases[t];
        lpnas_conv_params p = params_of(k);
        lpnas_shape s = {k->n, k->c, k->h, k->w}, o;
        ck_assert_int_eq(lpnas_conv2d_check(s, k->oc, &p, &o), LPNAS_OK);
        ck_assert(lpnas_conv2d_direct3x3_applies(s, k->oc, &p));
        size_t ni = lpnas_shape_numel(s), no = lpnas_shape_numel(o), nw = (size_t)k->oc * k->c * 9;
        float *in = malloc(ni * 4), *w = malloc(nw * 4), *g = malloc(no * 4);
        float *ws = malloc(lpnas_conv2d_workspace(s, k->oc, &p) * 4);
        ck_assert_uint_ge(lpnas_conv2d_workspace(s, k->oc, &p), lpnas_conv2d_direct3x3_workspace(s, k->oc, k->sh));
        fill(in, ni), fill(w, nw), fill(g, no);
        float *out[LPNAS_ISA_LEVELS], *din[LPNAS_ISA_LEVELS], *dw[LPNAS_ISA_LEVELS];
        for (int isa = 0; isa <= (int)det; isa++) {
            out[isa] = malloc(no * 4), din[isa] = calloc(ni, 4), dw[isa] = calloc(nw, 4);
            lpnas_conv2d_direct3x3_forward_isa(out[isa], in, w, s, k->oc, k->sh, ws, (lpnas_isa)isa);
            lpnas_conv2d_direct3x3_backward_isa(din[isa], true, dw[isa], g, in, w, s, k->oc, k->sh, ws,
                                                (lpnas_isa)isa);
            /* din written (not added into): the bits of adding into zeros, over a NaN-filled buffer */
            float *dst = malloc(ni * 4), *dws = calloc(nw, 4);
            memset(dst, 0xff, ni * 4);
            lpnas_conv2d_direct3x3_backward_isa(dst, false, dws, g, in, w, s, k->oc, k->sh, ws, (lpnas_isa)isa);
            ck_assert_msg(!memcmp(dst, din[isa], ni * 4), "case %zu din stored %s", t, lpnas_isa_name(isa));
            free(dst), free(dws);
            if (isa > 0) {
                ck_assert_msg(!memcmp(out[isa], out[0], no * 4), "case %zu forward %s", t, lpnas_isa_name(isa));
                ck_assert_msg(!memcmp(din[isa], din[0], ni * 4), "case %zu din %s", t, lpnas_isa_name(isa));
                ck_assert_msg(!memcmp(dw[isa], dw[0], nw * 4), "case %zu dw %s", t, lpnas_isa_name(isa));
            }
        }
        /* the dispatching entry points take this path */
        float *fo = malloc(no * 4), *fdin = calloc(ni, 4), *fdw = calloc(nw, 4);
        lpnas_conv2d_forward(fo, in, w, NULL, s, k->oc, &p, LPNAS_KACT_NONE, NULL, ws);
        lpnas_conv2d_backward(fdin, fdw, NULL, g, in, w, s, k->oc, &p, NULL, ws);
        ck_assert_msg(!memcmp(fo, out[0], no * 4), "case %zu lpnas_conv2d_forward", t);
        ck_assert_msg(!memcmp(fdin, din[0], ni * 4), "case %zu lpnas_conv2d_backward din", t);
        ck_assert_msg(!memcmp(fdw, dw[0], nw * 4), "case %zu lpnas_conv2d_backward dw", t);
        /* din = NULL: the weight gradient alone, the same bits */
        memset(fdw, 0, nw * 4);
        lpnas_conv2d_direct3x3_backward_isa(NULL, true, fdw, g, in, w, s, k->oc, k->sh, ws, lpnas_cpu_isa());
        ck_assert_msg(!memcmp(fdw, dw[0], nw * 4), "case %zu dw without din", t);
        float *ref = malloc(no * 4), *rdin = calloc(ni, 4), *rdw = calloc(nw, 4);
        lpnas_conv2d_forward_ref(ref, in, w, NULL, s, k->oc, &p, LPNAS_KACT_NONE, NULL);
        lpnas_conv2d_backward_ref(rdin, rdw, NULL, g, in, w, s, k->oc, &p);
        for (size_t i = 0; i < no; i++)
            LPNAS_REQUIRE(out[0][i] == ref[i], "case %zu out[%zu]: %a vs %a", t, i, (double)out[0][i], (double)ref[i]);
        for (size_t i = 0; i < ni; i++)
            LPNAS_REQUIRE(din[0][i] == rdin[i], "case %zu din[%zu]: %a vs %a", t, i, (double)din[0][i],
                          (double)rdin[i]);
        for (size_t i = 0; i < nw; i++)
            LPNAS_REQUIRE(fabsf(dw[0][i] - rdw[i]) <= 1e-4f * (1 + fabsf(rdw[i])), "case %zu dw[%zu]", t, i);
        for (int isa = 0; isa <= (int)det; isa++)
            free(out[isa]), free(din[isa]), free(dw[isa]);
        free(in), free(w), free(g), free(ws), free(fo), free(fdin), free(fdw), free(ref), free(rdin), free(rdw);
    }
}
END_TEST

/* lpnas_conv2d_backward_to with accumulate false writes din as adding into
 * zeros would, on every conv path (direct 3x3 stride 1 and 2, depthwise,
 * plain 1x1, im2col), FP32 and a device policy, over a NaN-filled buffer;
 * and an all -0 output gradient gives +0, as +0 + -0 does. */
START_TEST(backward_store_equals_add_into_zeros)
{
    const conv_case cases[] = {
        {2, 6, 9, 21, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0}, /* direct 3x3, stride 1 */
        {1, 5, 9, 19, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0}, /* direct 3x3, stride 2 */
        {2, 8, 7, 13, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, 0}, /* depthwise */
        {1, 6, 5, 11, 9, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0}, /* plain 1x1 (sgemm) */
        {1, 6, 8, 10, 4, 5, 5, 1, 1, 2, 2, 1, 1, 2, 0}, /* 5x5, two groups (im2col) */
    };
    const lpnas_policy *dev;
    lpnas_policy_get("myriadx", &dev);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++)
        for (int pol = 0; pol < 2; pol++)
            for (int zero = 0; zero < 2; zero++) {
                const conv_case *k = &cases[t];
                lpnas_conv_params p;
                lpnas_shape s, o;
                size_t ni, no, nw;
                conv_case_dims(k, &p, &s, &o, &ni, &no, &nw);
                float *in = malloc(ni * 4), *w = malloc(nw * 4), *g = malloc(no * 4);
                float *add = calloc(ni, 4), *st = malloc(ni * 4), *dw1 = calloc(nw, 4), *dw2 = calloc(nw, 4);
                float *ws = malloc(lpnas_conv2d_workspace(s, k->oc, &p) * 4);
                fill(in, ni), fill(w, nw), fill(g, no);
                if (zero)
                    for (size_t i = 0; i < no; i++)
                        g[i] = -0.0f;
                memset(st, 0xff, ni * 4);
                const lpnas_policy *pp = pol ? dev : NULL;
                lpnas_conv2d_backward_to(add, true, dw1, NULL, g, in, w, s, k->oc, &p, pp, ws);
                lpnas_conv2d_backward_to(st, false, dw2, NULL, g, in, w, s, k->oc, &p, pp, ws);
                ck_assert_msg(!memcmp(st, add, ni * 4), "case %zu policy %d zero %d: din", t, pol, zero);
                ck_assert_msg(!memcmp(dw1, dw2, nw * 4), "case %zu policy %d zero %d: dw", t, pol, zero);
                for (size_t i = 0; zero && i < ni; i++)
                    LPNAS_REQUIRE(!signbit(st[i]) && st[i] == 0, "case %zu din[%zu] = %a", t, i, (double)st[i]);
                free(in), free(w), free(g), free(add), free(st), free(dw1), free(dw2), free(ws);
            }
}
END_TEST

START_TEST(bad_shapes)
{
    lpnas_shape s = {1, 4, 8, 8}, o;
    lpnas_conv_params p = lpnas_conv_params_make(3, 1, 1);
    ck_assert_int_eq(lpnas_conv2d_check(s, 8, &p, &o), LPNAS_OK);
    ck_assert(o.h == 8 && o.w == 8 && o.c == 8);
    lpnas_shape zero = {1, 0, 8, 8};
    ck_assert_int_eq(lpnas_conv2d_check(zero, 8, &p, &o), LPNAS_ERR_ARG);
    ck_assert_int_eq(lpnas_conv2d_check(s, 0, &p, &o), LPNAS_ERR_ARG);
    lpnas_conv_params q = p;
    q.groups = 3;
    ck_assert_int_eq(lpnas_conv2d_check(s, 8, &q, &o), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "groups 3"));
    q = p;
    q.stride_h = 0;
    ck_assert_int_eq(lpnas_conv2d_check(s, 8, &q, &o), LPNAS_ERR_ARG);
    q = p;
    q.pad_w = -1;
    ck_assert_int_eq(lpnas_conv2d_check(s, 8, &q, &o), LPNAS_ERR_ARG);
    q = lpnas_conv_params_make(11, 1, 1);
    q.pad_h = q.pad_w = 0;
    ck_assert_int_eq(lpnas_conv2d_check(s, 8, &q, &o), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "larger than the padded input"));
    q = p;
    q.dil_h = 0;
    ck_assert_int_eq(lpnas_conv2d_check(s, 8, &q, &o), LPNAS_ERR_ARG);
    ck_assert_uint_eq(lpnas_conv2d_workspace(zero, 8, &p), 0);
}
END_TEST

/* Several worker threads calling sgemm at once (one BLAS thread each) give
 * the same bits as one thread: the engine's workers rely on it. */
struct worker {
    lpnas_shape s;
    int oc;
    lpnas_conv_params p;
    const float *in, *w;
    float *out, *ws;
    int reps;
};

static void *worker_main(void *v)
{
    struct worker *k = v;
    for (int r = 0; r < k->reps; r++)
        lpnas_conv2d_forward(k->out, k->in, k->w, NULL, k->s, k->oc, &k->p, LPNAS_KACT_NONE, NULL,
                             k->ws);
    return NULL;
}

START_TEST(concurrent_workers_same_bits)
{
    lpnas_shape s = {1, 16, 32, 32}, o;
    int oc = 24;
    lpnas_conv_params p = lpnas_conv_params_make(3, 1, 1);
    lpnas_conv2d_check(s, oc, &p, &o);
    size_t ni = lpnas_shape_numel(s), no = lpnas_shape_numel(o), nw = (size_t)oc * 16 * 9;
    float *in = malloc(ni * 4), *w = malloc(nw * 4), *ref = malloc(no * 4);
    fill(in, ni);
    fill(w, nw);
    size_t nws = lpnas_conv2d_workspace(s, oc, &p);
    float *ws0 = malloc(nws * 4);
    lpnas_conv2d_forward(ref, in, w, NULL, s, oc, &p, LPNAS_KACT_NONE, NULL, ws0);
    enum { T = 4 };
    pthread_t th[T];
    struct worker k[T];
    for (int t = 0; t < T; t++) {
        k[t] = (struct worker){s, oc, p, in, w, malloc(no * 4), malloc(nws * 4), 50};
        ck_assert_int_eq(pthread_create(&th[t], NULL, worker_main, &k[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(memcmp(k[t].out, ref, no * 4), 0);
        free(k[t].out), free(k[t].ws);
    }
    free(in), free(w), free(ref), free(ws0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conv2d");
    TCase *t = lpnas_tcase("conv2d");
    tcase_add_test(t, backward_matches_finite_differences);
    tcase_add_test(t, fp32_fast_matches_reference);
    tcase_add_test(t, fp32_accumulate_policy);
    tcase_add_test(t, fp16_accumulate_bit_exact);
    tcase_add_test(t, backward_store_equals_add_into_zeros);
    tcase_add_test(t, depthwise_paths_same_bits);
    tcase_add_test(t, direct3x3_paths_same_bits);
    tcase_add_test(t, bad_shapes);
    tcase_add_test(t, concurrent_workers_same_bits);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
