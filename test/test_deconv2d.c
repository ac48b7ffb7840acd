/* deconv2d (transposed conv): backward vs central differences of a binary64
 * loss, GEMM path vs scatter reference, output sizes, device paths, bad
 * parameters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "gradcheck.h"
#include "kernels/deconv2d.h"

typedef struct {
    int n, c, h, w, oc, k, s, pad, op, groups, bias;
} dcase;

static const dcase CASES[] = {
    {1, 4, 4, 4, 3, 2, 2, 0, 0, 1, 1},  /* the decoder's 2x2 stride-2 upsampling */
    {2, 3, 5, 3, 2, 3, 2, 1, 1, 1, 1},  /* 3x3 s2 with output padding, batch 2, odd sizes */
    {1, 4, 3, 4, 6, 4, 2, 1, 0, 2, 0},  /* groups 2, no bias */
    {1, 2, 3, 3, 2, 3, 1, 1, 0, 1, 1},  /* stride 1 */
};
#define NCASES (sizeof CASES / sizeof CASES[0])

static lpnas_deconv_params params_of(const dcase *d)
{
    lpnas_deconv_params p;
    p.conv = lpnas_conv_params_make(d->k, d->s, d->groups);
    p.conv.pad_h = p.conv.pad_w = d->pad;
    p.out_pad_h = p.out_pad_w = d->op;
    return p;
}

static uint64_t st = 3;
static void fill(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(st >> 11) * 0x1p-53 * 2 - 1);
    }
}

struct ctx {
    const dcase *d;
    lpnas_shape s, o;
    const float *in, *w, *b, *r;
};

static double loss64(void *vc)
{
    struct ctx *c = vc;
    const dcase *d = c->d;
    size_t no = lpnas_shape_numel(c->o);
    double *out = calloc(no, sizeof *out);
    int cg = d->c / d->groups, og = d->oc / d->groups;
    for (int n = 0; n < c->o.n; n++)
        for (int oc = 0; oc < d->oc; oc++)
            for (int i = 0; i < c->o.h * c->o.w; i++)
                out[lpnas_shape_at(c->o, n, oc, 0, 0) + (size_t)i] = c->b ? c->b[oc] : 0;
    for (int n = 0; n < d->n; n++)
        for (int ci = 0; ci < d->c; ci++)
            for (int iy = 0; iy < d->h; iy++)
                for (int ix = 0; ix < d->w; ix++)
                    for (int ol = 0; ol < og; ol++)
                        for (int ky = 0; ky < d->k; ky++)
                            for (int kx = 0; kx < d->k; kx++) {
                                int oy = iy * d->s - d->pad + ky, ox = ix * d->s - d->pad + kx;
                                if (oy < 0 || oy >= c->o.h || ox < 0 || ox >= c->o.w)
                                    continue;
                                out[lpnas_shape_at(c->o, n, (ci / cg) * og + ol, oy, ox)] +=
                                    (double)c->in[lpnas_shape_at(c->s, n, ci, iy, ix)] *
                                    c->w[(((size_t)ci * og + ol) * d->k + ky) * d->k + kx];
                            }
    double L = 0;
    for (size_t i = 0; i < no; i++)
        L += out[i] * c->r[i];
    free(out);
    return L;
}

START_TEST(backward_and_forward)
{
    for (size_t t = 0; t < NCASES; t++) {
        const dcase *d = &CASES[t];
        lpnas_deconv_params p = params_of(d);
        lpnas_shape s = {d->n, d->c, d->h, d->w}, o;
        ck_assert_int_eq(lpnas_deconv2d_check(s, d->oc, &p, &o), LPNAS_OK);
        ck_assert_int_eq(o.h, (d->h - 1) * d->s - 2 * d->pad + d->k + d->op);
        size_t ni = lpnas_shape_numel(s), no = lpnas_shape_numel(o), nw = (size_t)d->c * (d->oc / d->groups) * d->k * d->k;
        float *in = malloc(ni * 4), *w = malloc(nw * 4), *b = malloc((size_t)d->oc * 4), *r = malloc(no * 4);
        float *out = malloc(no * 4), *ref = malloc(no * 4);
        float *din = calloc(ni, 4), *dw = calloc(nw, 4), *db = calloc((size_t)d->oc, 4);
        float *ws = malloc((lpnas_deconv2d_workspace(s, d->oc, &p) + 1) * 4);
        fill(in, ni), fill(w, nw), fill(b, (size_t)d->oc), fill(r, no);
        const float *bias = d->bias ? b : NULL;
        lpnas_deconv2d_forward(out, in, w, bias, s, d->oc, &p, LPNAS_KACT_NONE, NULL, ws);
        lpnas_deconv2d_forward_ref(ref, in, w, bias, s, d->oc, &p);
        for (size_t i = 0; i < no; i++)
            LPNAS_REQUIRE(fabsf(out[i] - ref[i]) <= 1e-5f * (1 + fabsf(ref[i])), "case %zu out[%zu] %g vs %g", t, i,
                          (double)out[i], (double)ref[i]);
        lpnas_deconv2d_backward(din, dw, d->bias ? db : NULL, r, in, w, s, d->oc, &p, NULL, ws);
        struct ctx c = {d, s, o, in, w, bias, r};
        lpnas_gradcheck_options go = lpnas_gradcheck_defaults();
        go.rtol = 1e-3, go.atol = 1e-4;
        ck_assert_uint_eq(lpnas_gradcheck("deconv din", loss64, &c, in, din, ni, &go), 0);
        ck_assert_uint_eq(lpnas_gradcheck("deconv dweight", loss64, &c, w, dw, nw, &go), 0);
        if (d->bias)
            ck_assert_uint_eq(lpnas_gradcheck("deconv dbias", loss64, &c, b, db, (size_t)d->oc, &go), 0);

        /* device paths: outputs are device values, close to FP32 */
        const char *pols[] = {"myriadx", "myriadx-fp16acc"};
        lpnas_policy_round_host(lpnas_policy_at(2), in, ni);
        lpnas_policy_round_host(lpnas_policy_at(2), w, nw);
        lpnas_deconv2d_forward_ref(ref, in, w, bias, s, d->oc, &p);
        for (int k = 0; k < 2; k++) {
            const lpnas_policy *pol;
            lpnas_policy_get(pols[k], &pol);
            lpnas_deconv2d_forward(out, in, w, bias, s, d->oc, &p, LPNAS_KACT_NONE, pol, ws);
            for (size_t i = 0; i < no; i++) {
                float again = out[i];
                lpnas_policy_round(pol, &again, 1);
                LPNAS_REQUIRE(again == out[i], "%s: output %zu not a device value", pols[k], i);
                LPNAS_REQUIRE(fabsf(out[i] - ref[i]) <= 0x1p-8f * (1 + fabsf(ref[i])), "%s out[%zu] %g vs %g",
                              pols[k], i, (double)out[i], (double)ref[i]);
            }
        }
        free(in), free(w), free(b), free(r), free(out), free(ref), free(din), free(dw), free(db), free(ws);
    }
}
END_TEST

START_TEST(sizes_and_bad_parameters)
{
    lpnas_shape s = {1, 8, 16, 16}, o;
    lpnas_deconv_params p = lpnas_deconv_params_make(2, 2);
    ck_assert_int_eq(lpnas_deconv2d_check(s, 4, &p, &o), LPNAS_OK);
    ck_assert(o.h == 32 && o.w == 32 && o.c == 4);
    p = lpnas_deconv_params_make(3, 2);
    ck_assert_int_eq(lpnas_deconv2d_check(s, 4, &p, &o), LPNAS_OK);
    ck_assert(o.h == 32 && o.w == 32);
    p = lpnas_deconv_params_make(4, 2);
    ck_assert_int_eq(lpnas_deconv2d_check(s, 4, &p, &o), LPNAS_OK);
    ck_assert(o.h == 32 && o.w == 32);
    lpnas_deconv_params q = p;
    q.out_pad_h = 2;
    ck_assert_int_eq(lpnas_deconv2d_check(s, 4, &q, &o), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "output padding"));
    q = p;
    q.conv.groups = 3;
    ck_assert_int_eq(lpnas_deconv2d_check(s, 4, &q, &o), LPNAS_ERR_ARG);
    q = p;
    q.conv.pad_h = 40;
    ck_assert_int_eq(lpnas_deconv2d_check(s, 4, &q, &o), LPNAS_ERR_ARG);
    lpnas_shape z = {1, 8, 0, 16};
    ck_assert_int_eq(lpnas_deconv2d_check(z, 4, &p, &o), LPNAS_ERR_ARG);
    ck_assert_int_eq(lpnas_deconv2d_check(s, 0, &p, &o), LPNAS_ERR_ARG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("deconv2d");
    TCase *t = lpnas_tcase("deconv2d");
    tcase_add_test(t, backward_and_forward);
    tcase_add_test(t, sizes_and_bad_parameters);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
