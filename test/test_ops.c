/* Activations, pooling, upsampling, add and concat: every backward against
 * central differences, hand-computed values, policy rounding, bad shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "gradcheck.h"
#include "kernels/activation.h"
#include "kernels/eltwise.h"
#include "kernels/pool.h"
#include "kernels/upsample.h"

static uint64_t st = 9;
static float frand(void)
{
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(st >> 11) * 0x1p-53 * 2 - 1);
}

/* inputs away from kinks: |x| >= 0.1, and all distinct by >= 0.02 so a
 * step of 1e-3 never changes which element is the maximum */
static void fill_smooth(float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) {
        float v = frand();
        v = v < 0 ? v - 0.1f : v + 0.1f;
        x[i] = scale * v + 0.02f * (float)(i % 7);
    }
}

/* L = sum(forward(x) * r): one op under test */
typedef void (*fwd_fn)(float *out, const float *in, const void *op);
struct ctx {
    fwd_fn f;
    const void *op;
    const float *in, *r;
    float *out;
    size_t no;
};

static double lossf(void *v)
{
    struct ctx *c = v;
    c->f(c->out, c->in, c->op);
    double L = 0;
    for (size_t i = 0; i < c->no; i++)
        L += (double)c->out[i] * c->r[i];
    return L;
}

static size_t check_grad(const char *what, fwd_fn f, const void *op, float *in, size_t ni, const float *din,
                         size_t no, const float *r)
{
    float *out = malloc(no * sizeof *out);
    struct ctx c = {f, op, in, r, out, no};
    lpnas_gradcheck_options o = lpnas_gradcheck_defaults();
    o.h = 1e-3;
    o.rtol = 1e-2;
    o.atol = 1e-3;
    size_t bad = lpnas_gradcheck(what, lossf, &c, in, din, ni, &o);
    free(out);
    return bad;
}

/* ---- activations ----------------------------------------------------- */
struct act_op { lpnas_actfn fn; size_t n; };
static void act_fwd(float *out, const float *in, const void *v)
{
    const struct act_op *a = v;
    lpnas_activation_forward(out, in, a->n, a->fn, NULL);
}

START_TEST(activations)
{
    size_t n = 200;
    float *x = malloc(n * 4), *y = malloc(n * 4), *r = malloc(n * 4), *dx = malloc(n * 4);
    const lpnas_actfn fns[] = {LPNAS_ACTFN_RELU, LPNAS_ACTFN_RELU6, LPNAS_ACTFN_SIGMOID};
    for (int k = 0; k < 3; k++) {
        fill_smooth(x, n, 8); /* crosses 0 and 6 */
        for (size_t i = 0; i < n; i++)
            if (fabsf(x[i] - 6) < 0.05f)
                x[i] += 0.1f;
        fill_smooth(r, n, 1);
        memset(dx, 0, n * 4);
        struct act_op a = {fns[k], n};
        lpnas_activation_forward(y, x, n, fns[k], NULL);
        lpnas_activation_backward(dx, r, x, y, n, fns[k], NULL);
        ck_assert_uint_eq(check_grad("activation", act_fwd, &a, x, n, dx, n, r), 0);
        /* storing into a buffer of NaN = adding into zeros, -0 gradients included */
        float *r0 = malloc(n * 4), *sx = malloc(n * 4);
        for (size_t i = 0; i < n; i++)
            r0[i] = i % 3 ? r[i] : -0.0f;
        memset(dx, 0, n * 4);
        memset(sx, 0xff, n * 4);
        lpnas_activation_backward(dx, r0, x, y, n, fns[k], NULL);
        lpnas_activation_backward_to(sx, false, r0, x, y, n, fns[k], NULL);
        ck_assert_msg(!memcmp(sx, dx, n * 4), "activation %d: store != add into zeros", k);
        free(r0), free(sx);
    }
    /* exact values */
    float in[] = {-2, 0, 3, 7, 1e30f, -1e30f, 100, -100};
    float out[8];
    lpnas_activation_forward(out, in, 4, LPNAS_ACTFN_RELU6, NULL);
    ck_assert(out[0] == 0 && out[1] == 0 && out[2] == 3 && out[3] == 6);
    lpnas_activation_forward(out, in + 4, 4, LPNAS_ACTFN_SIGMOID, NULL);
    ck_assert(out[0] == 1 && out[1] == 0 && out[2] == 1 && isfinite(out[3]) && out[3] >= 0);
    ck_assert(lpnas_sigmoid(0) == 0.5f);
    /* policy: outputs are device values */
    const lpnas_policy *mx;
    lpnas_policy_get("myriadx", &mx);
    fill_smooth(x, n, 3);
    lpnas_activation_forward(y, x, n, LPNAS_ACTFN_SIGMOID, mx);
    for (size_t i = 0; i < n; i++) {
        float v = y[i];
        lpnas_policy_round(mx, &v, 1);
        ck_assert(v == y[i]);
        ck_assert(fabsf(y[i] - lpnas_sigmoid(x[i])) <= 0x1p-11f);
    }
    free(x), free(y), free(r), free(dx);
}
END_TEST

/* ---- pooling --------------------------------------------------------- */
struct pool_op { lpnas_shape s; lpnas_pool_params p; int kind; int32_t *argmax; };
static void pool_fwd(float *out, const float *in, const void *v)
{
    const struct pool_op *o = v;
    if (o->kind == 0)
        lpnas_maxpool_forward(out, o->argmax, in, o->s, &o->p, NULL);
    else if (o->kind == 1)
        lpnas_avgpool_forward(out, in, o->s, &o->p, NULL);
    else
        lpnas_global_avgpool_forward(out, in, o->s, NULL);
}

START_TEST(pooling)
{
    const lpnas_shape shapes[] = {{2, 3, 7, 5}, {1, 2, 8, 8}, {1, 1, 5, 6}};
    const lpnas_pool_params params[] = {{2, 2, 0}, {3, 2, 1}, {3, 1, 1}};
    for (int kind = 0; kind < 3; kind++)
        for (int t = 0; t < 3; t++) {
            struct pool_op op = {shapes[t], params[t], kind, NULL};
            lpnas_shape o = {shapes[t].n, shapes[t].c, 1, 1};
            if (kind < 2)
                ck_assert_int_eq(lpnas_pool_check(shapes[t], &params[t], &o), LPNAS_OK);
            size_t ni = lpnas_shape_numel(shapes[t]), no = lpnas_shape_numel(o);
            float *x = malloc(ni * 4), *y = malloc(no * 4), *r = malloc(no * 4), *dx = calloc(ni, 4);
            op.argmax = malloc(no * sizeof *op.argmax);
            fill_smooth(x, ni, 1);
            fill_smooth(r, no, 1);
            pool_fwd(y, x, &op);
            if (kind == 0)
                lpnas_maxpool_backward(dx, r, op.argmax, shapes[t], &params[t], NULL);
            else if (kind == 1)
                lpnas_avgpool_backward(dx, r, shapes[t], &params[t], NULL);
            else
                lpnas_global_avgpool_backward(dx, r, shapes[t], NULL);
            ck_assert_uint_eq(check_grad("pool", pool_fwd, &op, x, ni, dx, no, r), 0);
            free(x), free(y), free(r), free(dx), free(op.argmax);
        }
    /* hand values: 4x4 ramp, 2x2 max and avg; 3x3 s1 p1 avg corner = mean of 4 taps */
    float in[16];
    for (int i = 0; i < 16; i++)
        in[i] = (float)i;
    lpnas_shape s = {1, 1, 4, 4};
    lpnas_pool_params p2 = {2, 2, 0}, p3 = {3, 1, 1};
    float out[16];
    int32_t am[16];
    lpnas_maxpool_forward(out, am, in, s, &p2, NULL);
    ck_assert(out[0] == 5 && out[1] == 7 && out[2] == 13 && out[3] == 15 && am[0] == 5);
    lpnas_avgpool_forward(out, in, s, &p2, NULL);
    ck_assert(out[0] == 2.5f && out[3] == 12.5f);
    lpnas_avgpool_forward(out, in, s, &p3, NULL);
    ck_assert(out[0] == (0 + 1 + 4 + 5) / 4.0f); /* count_include_pad = false */
    /* ties: the first maximum gets the gradient */
    float flat[4] = {1, 1, 1, 1}, g[1] = {1}, d[4] = {0};
    lpnas_shape s2 = {1, 1, 2, 2};
    lpnas_maxpool_forward(out, am, flat, s2, &p2, NULL);
    lpnas_maxpool_backward(d, g, am, s2, &p2, NULL);
    ck_assert(d[0] == 1 && d[1] == 0 && d[2] == 0 && d[3] == 0);
    /* bad parameters */
    lpnas_pool_params bad = {5, 1, 0};
    ck_assert_int_eq(lpnas_pool_check(s, &bad, NULL), LPNAS_ERR_ARG);
    bad = (lpnas_pool_params){2, 0, 0};
    ck_assert_int_eq(lpnas_pool_check(s, &bad, NULL), LPNAS_ERR_ARG);
    bad = (lpnas_pool_params){2, 2, 2};
    ck_assert_int_eq(lpnas_pool_check(s, &bad, NULL), LPNAS_ERR_ARG);
    lpnas_shape z = {1, 0, 4, 4};
    ck_assert_int_eq(lpnas_pool_check(z, &p2, NULL), LPNAS_ERR_ARG);
}
END_TEST

/* ---- upsampling ------------------------------------------------------ */
struct up_op { lpnas_shape s; int f; lpnas_upsample_mode m; };
static void up_fwd(float *out, const float *in, const void *v)
{
    const struct up_op *o = v;
    lpnas_upsample_forward(out, in, o->s, o->f, o->m, NULL);
}

START_TEST(upsampling)
{
    const lpnas_shape shapes[] = {{2, 2, 3, 4}, {1, 3, 5, 5}};
    for (int m = 0; m < 2; m++)
        for (int t = 0; t < 2; t++)
            for (int f = 2; f <= 3; f++) {
                struct up_op op = {shapes[t], f, (lpnas_upsample_mode)m};
                lpnas_shape o;
                ck_assert_int_eq(lpnas_upsample_check(shapes[t], f, &o), LPNAS_OK);
                size_t ni = lpnas_shape_numel(shapes[t]), no = lpnas_shape_numel(o);
                float *x = malloc(ni * 4), *y = malloc(no * 4), *r = malloc(no * 4), *dx = calloc(ni, 4);
                fill_smooth(x, ni, 1);
                fill_smooth(r, no, 1);
                lpnas_upsample_backward(dx, r, shapes[t], f, op.m, NULL);
                ck_assert_uint_eq(check_grad("upsample", up_fwd, &op, x, ni, dx, no, r), 0);
                free(x), free(y), free(r), free(dx);
            }
    /* bilinear, align_corners=false, x2 of [[0, 1], [2, 3]]: source coordinate
     * (d + 0.5)/2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper index
     * clamped to 1): along a row of [0, 1]: 0, 0.25, 0.75, 1. Rows likewise
     * with step 2: row 0 = [0, .25, .75, 1], row 1 = row 0 + 0.5, row 2 =
     * row 0 + 1.5, row 3 = row 0 + 2 (PyTorch gives the same). */
    float in[4] = {0, 1, 2, 3}, out[16];
    lpnas_shape s = {1, 1, 2, 2};
    lpnas_upsample_forward(out, in, s, 2, LPNAS_UPSAMPLE_BILINEAR, NULL);
    const float want[16] = {0, .25f, .75f, 1, .5f, .75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3};
    for (int i = 0; i < 16; i++)
        ck_assert_msg(out[i] == want[i], "bilinear[%d] = %g, want %g", i, (double)out[i], (double)want[i]);
    lpnas_upsample_forward(out, in, s, 2, LPNAS_UPSAMPLE_NEAREST, NULL);
    ck_assert(out[0] == 0 && out[1] == 0 && out[2] == 1 && out[4] == 0 && out[8] == 2 && out[15] == 3);
    ck_assert_int_eq(lpnas_upsample_check(s, 0, NULL), LPNAS_ERR_ARG);
    ck_assert_int_eq(lpnas_upsample_check(s, 1000, NULL), LPNAS_ERR_ARG);
}
END_TEST

/* ---- add and concat -------------------------------------------------- */
START_TEST(add_and_concat)
{
    lpnas_shape sa = {2, 3, 4, 5}, sb = {2, 2, 4, 5}, so;
    ck_assert_int_eq(lpnas_concat_check(sa, sb, &so), LPNAS_OK);
    ck_assert_int_eq(so.c, 5);
    size_t na = lpnas_shape_numel(sa), nb = lpnas_shape_numel(sb), no = na + nb;
    float *a = malloc(na * 4), *b = malloc(nb * 4), *o = malloc(no * 4), *g = malloc(no * 4);
    float *da = calloc(na, 4), *db = calloc(nb, 4);
    fill_smooth(a, na, 1), fill_smooth(b, nb, 1), fill_smooth(g, no, 1);
    lpnas_concat_forward(o, a, b, sa, sb);
    ck_assert(o[0] == a[0] && o[(size_t)3 * 20] == b[0] && o[no / 2] == a[na / 2]);
    lpnas_concat_backward(da, db, g, sa, sb);
    for (int n = 0; n < 2; n++)
        for (size_t i = 0; i < 60; i++)
            ck_assert(da[(size_t)n * 60 + i] == g[(size_t)n * 100 + i]);
    ck_assert(db[0] == g[60] && db[40] == g[160]);
    /* add: d/da = d/db = dout, and the policy rounds the sum */
    const lpnas_policy *mx;
    lpnas_policy_get("myriadx", &mx);
    float x[3] = {1, 0x1p-11f, 65504}, y[3] = {0x1p-11f, 1, 65504}, z[3];
    lpnas_add_forward(z, x, y, 3, mx);
    ck_assert(z[0] == 1 && z[1] == 1 && isinf(z[2])); /* ties to even; overflow */
    lpnas_add_forward(z, x, y, 3, NULL);
    ck_assert(z[0] == 1 + 0x1p-11f);
    float dz[3] = {1, 2, 3}, dx[3] = {0}, dy[3] = {1, 1, 1};
    lpnas_add_backward(dx, dy, dz, 3, NULL);
    ck_assert(dx[2] == 3 && dy[2] == 4);
    lpnas_shape bad = {2, 2, 4, 6};
    ck_assert_int_eq(lpnas_concat_check(sa, bad, NULL), LPNAS_ERR_ARG);
    free(a), free(b), free(o), free(g), free(da), free(db);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops");
    TCase *t = lpnas_tcase("ops");
    tcase_add_test(t, activations);
    tcase_add_test(t, pooling);
    tcase_add_test(t, upsampling);
    tcase_add_test(t, add_and_concat);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
