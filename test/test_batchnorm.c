/* Batch norm: training-mode backward (through the batch statistics) against
 * central differences, running statistics, inference, folding into a conv. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "gradcheck.h"
#include "kernels/batchnorm.h"
#include "kernels/conv2d.h"

static uint64_t st = 5;
static float frand(void)
{
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(st >> 11) * 0x1p-53 * 2 - 1);
}

struct ctx {
    lpnas_shape s;
    const float *x, *gamma, *beta, *r;
    lpnas_bn_params p;
};

/* L = sum(BN_train(x) * r) in binary64 */
static double loss64(void *v)
{
    struct ctx *c = v;
    size_t P = (size_t)c->s.h * c->s.w, M = P * c->s.n;
    double L = 0;
    for (int ch = 0; ch < c->s.c; ch++) {
        double m = 0, var = 0;
        for (int n = 0; n < c->s.n; n++)
            for (size_t i = 0; i < P; i++)
                m += c->x[lpnas_shape_at(c->s, n, ch, 0, 0) + i];
        m /= (double)M;
        for (int n = 0; n < c->s.n; n++)
            for (size_t i = 0; i < P; i++) {
                double d = c->x[lpnas_shape_at(c->s, n, ch, 0, 0) + i] - m;
                var += d * d;
            }
        var /= (double)M;
        for (int n = 0; n < c->s.n; n++)
            for (size_t i = 0; i < P; i++) {
                size_t at = lpnas_shape_at(c->s, n, ch, 0, 0) + i;
                L += (c->gamma[ch] * (c->x[at] - m) / sqrt(var + c->p.eps) + c->beta[ch]) * c->r[at];
            }
    }
    return L;
}

START_TEST(training_backward)
{
    lpnas_shape shapes[] = {{2, 3, 5, 7}, {4, 2, 3, 3}, {1, 4, 6, 5}};
    for (int t = 0; t < 3; t++) {
        lpnas_shape s = shapes[t];
        size_t n = lpnas_shape_numel(s);
        int C = s.c;
        float *x = malloc(n * 4), *y = malloc(n * 4), *r = malloc(n * 4), *dx = calloc(n, 4);
        float *g = malloc((size_t)C * 4), *b = malloc((size_t)C * 4), *dg = calloc((size_t)C, 4), *db = calloc((size_t)C, 4);
        float *sm = malloc((size_t)C * 4), *si = malloc((size_t)C * 4), *rm = calloc((size_t)C, 4), *rv = malloc((size_t)C * 4);
        for (size_t i = 0; i < n; i++)
            x[i] = 3 * frand() + 1, r[i] = frand();
        for (int c = 0; c < C; c++)
            g[c] = 1 + frand() / 2, b[c] = frand(), rv[c] = 1;
        lpnas_bn_params p = lpnas_bn_params_default();
        ck_assert_int_eq(lpnas_bn_check(s, &p), LPNAS_OK);
        lpnas_bn_forward_train(y, sm, si, rm, rv, x, g, b, s, &p, NULL);
        lpnas_bn_backward(dx, dg, db, r, x, sm, si, g, s, NULL);
        struct ctx c = {s, x, g, b, r, p};
        lpnas_gradcheck_options o = lpnas_gradcheck_defaults();
        o.h = 1e-3, o.rtol = 1e-2, o.atol = 1e-3;
        ck_assert_uint_eq(lpnas_gradcheck("bn dx", loss64, &c, x, dx, n, &o), 0);
        ck_assert_uint_eq(lpnas_gradcheck("bn dgamma", loss64, &c, g, dg, (size_t)C, &o), 0);
        ck_assert_uint_eq(lpnas_gradcheck("bn dbeta", loss64, &c, b, db, (size_t)C, &o), 0);
        /* output per channel: mean beta, variance gamma^2 (biased, up to eps) */
        for (int ch = 0; ch < C; ch++) {
            double m = 0, v = 0;
            size_t P = (size_t)s.h * s.w, M = P * s.n;
            for (int k = 0; k < s.n; k++)
                for (size_t i = 0; i < P; i++)
                    m += y[lpnas_shape_at(s, k, ch, 0, 0) + i];
            m /= (double)M;
            for (int k = 0; k < s.n; k++)
                for (size_t i = 0; i < P; i++) {
                    double d = y[lpnas_shape_at(s, k, ch, 0, 0) + i] - m;
                    v += d * d;
                }
            v /= (double)M;
            ck_assert(fabs(m - b[ch]) < 1e-5 && fabs(v - (double)g[ch] * g[ch]) < 1e-3);
            /* running mean after one step from 0: momentum * batch mean */
            ck_assert(fabs(rm[ch] - 0.1 * sm[ch]) < 1e-6);
        }
        free(x), free(y), free(r), free(dx), free(g), free(b), free(dg), free(db), free(sm), free(si), free(rm), free(rv);
    }
}
END_TEST

START_TEST(folding_matches_conv_then_bn)
{
    lpnas_shape s = {2, 3, 6, 6}, o;
    int oc = 4;
    lpnas_conv_params cp = lpnas_conv_params_make(3, 1, 1);
    ck_assert_int_eq(lpnas_conv2d_check(s, oc, &cp, &o), LPNAS_OK);
    size_t ni = lpnas_shape_numel(s), no = lpnas_shape_numel(o), nw = (size_t)oc * 3 * 9;
    float *x = malloc(ni * 4), *w = malloc(nw * 4), *wf = malloc(nw * 4), *bias = malloc((size_t)oc * 4);
    float *y1 = malloc(no * 4), *y2 = malloc(no * 4), *t = malloc(no * 4), *bf = malloc((size_t)oc * 4);
    float g[4], be[4], rm[4], rv[4];
    for (size_t i = 0; i < ni; i++)
        x[i] = frand();
    for (size_t i = 0; i < nw; i++)
        w[i] = frand();
    for (int c = 0; c < oc; c++)
        g[c] = 1 + frand() / 2, be[c] = frand(), rm[c] = frand(), rv[c] = 0.5f + frand() / 4, bias[c] = frand();
    float *ws = malloc(lpnas_conv2d_workspace(s, oc, &cp) * 4);
    lpnas_bn_params p = lpnas_bn_params_default();
    lpnas_conv2d_forward(t, x, w, bias, s, oc, &cp, LPNAS_KACT_NONE, NULL, ws);
    lpnas_bn_forward_infer(y1, t, g, be, rm, rv, o, &p, NULL);
    memcpy(wf, w, nw * 4);
    lpnas_bn_fold(wf, nw / oc, bf, bias, g, be, rm, rv, oc, p.eps);
    lpnas_conv2d_forward(y2, x, wf, bf, s, oc, &cp, LPNAS_KACT_NONE, NULL, ws);
    for (size_t i = 0; i < no; i++)
        LPNAS_REQUIRE(fabsf(y1[i] - y2[i]) <= 1e-5f * (1 + fabsf(y1[i])), "fold: %g vs %g at %zu", (double)y1[i],
                      (double)y2[i], i);
    /* without a conv bias */
    lpnas_conv2d_forward(t, x, w, NULL, s, oc, &cp, LPNAS_KACT_NONE, NULL, ws);
    lpnas_bn_forward_infer(y1, t, g, be, rm, rv, o, &p, NULL);
    memcpy(wf, w, nw * 4);
    lpnas_bn_fold(wf, nw / oc, bf, NULL, g, be, rm, rv, oc, p.eps);
    lpnas_conv2d_forward(y2, x, wf, bf, s, oc, &cp, LPNAS_KACT_NONE, NULL, ws);
    for (size_t i = 0; i < no; i++)
        LPNAS_REQUIRE(fabsf(y1[i] - y2[i]) <= 1e-5f * (1 + fabsf(y1[i])), "fold (no bias) at %zu", i);
    free(x), free(w), free(wf), free(bias), free(y1), free(y2), free(t), free(bf), free(ws);
}
END_TEST

/* The training forward and the backward give the same bits on every code
 * path this CPU has (binary64 lanes 2, 4 or 8 wide; planes with and
 * without a tail of P mod 8; din NULL and not; a -0 in din stays as the
 * sum leaves it); storing din gives what adding into a zeroed one does. */
START_TEST(paths_same_bits)
{
    const lpnas_shape shapes[] = {{3, 5, 7, 9}, {2, 4, 8, 8}, {1, 3, 1, 3}, {4, 2, 13, 11}};
    lpnas_bn_params p = lpnas_bn_params_default();
    lpnas_isa det = lpnas_cpu_isa_detected();
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        lpnas_shape s = shapes[t];
        size_t n = lpnas_shape_numel(s), C = (size_t)s.c;
        float *x = malloc(n * 4), *dy = malloc(n * 4), *g = malloc(C * 4), *b = malloc(C * 4);
        for (size_t i = 0; i < n; i++)
            x[i] = 3 * frand() + 0.5f, dy[i] = frand();
        for (size_t c = 0; c < C; c++)
            g[c] = 1 + frand(), b[c] = frand();
        float *y[LPNAS_ISA_LEVELS], *sm[LPNAS_ISA_LEVELS], *si[LPNAS_ISA_LEVELS], *rm[LPNAS_ISA_LEVELS],
            *rv[LPNAS_ISA_LEVELS], *dx[LPNAS_ISA_LEVELS], *dg[LPNAS_ISA_LEVELS], *db[LPNAS_ISA_LEVELS];
        for (int isa = 0; isa <= (int)det; isa++) {
            y[isa] = malloc(n * 4), dx[isa] = malloc(n * 4);
            sm[isa] = malloc(C * 4), si[isa] = malloc(C * 4), rm[isa] = calloc(C, 4), rv[isa] = malloc(C * 4);
            dg[isa] = calloc(C, 4), db[isa] = calloc(C, 4);
            for (size_t c = 0; c < C; c++)
                rv[isa][c] = 1;
            for (size_t i = 0; i < n; i++)
                dx[isa][i] = i % 5 ? 0.25f : -0.0f;
            lpnas_bn_forward_train_isa(y[isa], sm[isa], si[isa], rm[isa], rv[isa], x, g, b, s, &p, NULL,
                                       (lpnas_isa)isa);
            lpnas_bn_backward_to_isa(dx[isa], true, dg[isa], db[isa], dy, x, sm[isa], si[isa], g, s, NULL,
                                     (lpnas_isa)isa);
            lpnas_bn_backward_to_isa(NULL, true, dg[isa], db[isa], dy, x, sm[isa], si[isa], g, s, NULL,
                                     (lpnas_isa)isa);
            /* storing into a buffer of NaN = adding into zeros, also where
             * the sum is -0 (channel 0's gradient is all -0) */
            float *dy0 = malloc(n * 4), *zx = calloc(n, 4), *fx = malloc(n * 4), *gb = calloc(2 * C, 4);
            memcpy(dy0, dy, n * 4);
            for (int k = 0; k < s.n; k++)
                for (int i = 0; i < s.h * s.w; i++)
                    dy0[lpnas_shape_at(s, k, 0, 0, 0) + (size_t)i] = -0.0f;
            memset(fx, 0xff, n * 4);
            lpnas_bn_backward_to_isa(zx, true, gb, gb + C, dy0, x, sm[isa], si[isa], g, s, NULL, (lpnas_isa)isa);
            lpnas_bn_backward_to_isa(fx, false, gb, gb + C, dy0, x, sm[isa], si[isa], g, s, NULL, (lpnas_isa)isa);
            ck_assert_msg(!memcmp(fx, zx, n * 4), "shape %zu: store != add into zeros (%s)", t,
                          lpnas_isa_name((lpnas_isa)isa));
            free(dy0), free(zx), free(fx), free(gb);
            if (isa == 0)
                continue;
            const char *path = lpnas_isa_name((lpnas_isa)isa);
            ck_assert_msg(!memcmp(y[isa], y[0], n * 4), "shape %zu y %s", t, path);
            ck_assert_msg(!memcmp(dx[isa], dx[0], n * 4), "shape %zu dx %s", t, path);
            ck_assert_msg(!memcmp(sm[isa], sm[0], C * 4) && !memcmp(si[isa], si[0], C * 4), "shape %zu stats %s", t,
                          path);
            ck_assert_msg(!memcmp(rm[isa], rm[0], C * 4) && !memcmp(rv[isa], rv[0], C * 4), "shape %zu running %s", t,
                          path);
            ck_assert_msg(!memcmp(dg[isa], dg[0], C * 4) && !memcmp(db[isa], db[0], C * 4), "shape %zu dgamma %s", t,
                          path);
        }
        for (int isa = 0; isa <= (int)det; isa++)
            free(y[isa]), free(sm[isa]), free(si[isa]), free(rm[isa]), free(rv[isa]), free(dx[isa]), free(dg[isa]),
                free(db[isa]);
        free(x), free(dy), free(g), free(b);
    }
}
END_TEST

START_TEST(bad_parameters)
{
    lpnas_shape s = {1, 2, 3, 3};
    lpnas_bn_params p = lpnas_bn_params_default();
    p.momentum = 1.5f;
    ck_assert_int_eq(lpnas_bn_check(s, &p), LPNAS_ERR_ARG);
    p = lpnas_bn_params_default();
    p.eps = 0;
    ck_assert_int_eq(lpnas_bn_check(s, &p), LPNAS_ERR_ARG);
    p.eps = NAN;
    ck_assert_int_eq(lpnas_bn_check(s, &p), LPNAS_ERR_ARG);
    lpnas_shape z = {0, 2, 3, 3};
    ck_assert_int_eq(lpnas_bn_check(z, &(lpnas_bn_params){1e-5f, 0.1f}), LPNAS_ERR_ARG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("batchnorm");
    TCase *t = lpnas_tcase("batchnorm");
    tcase_add_test(t, training_backward);
    tcase_add_test(t, folding_matches_conv_then_bn);
    tcase_add_test(t, bad_parameters);
    tcase_add_test(t, paths_same_bits);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
