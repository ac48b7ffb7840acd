/* Training through the fold (lib/net_fold.c): in every device policy the
 * fine-tuning forward computes the deployed network's bits -- for every
 * preset and 20 random genomes of the search space, after FP32 warm-up and
 * device fine-tuning steps, the training forward, the evaluation-mode
 * forward and lpnas_net_infer agree bit for bit on the same tiles; the
 * backward through the fold (conv weights, biases, BN gamma and beta)
 * against central differences; the fold cache is refreshed whenever the
 * parameters or the policy change. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "gradcheck.h"
#include "lib/net_internal.h"
#include "lpnas.h"
#include "nas/space.h"

static const char *NETS[] = {
    "in2-c4x1k3-c6x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu",
    "in2-s4x1k3-r6x1k3e2/down=pool,up=bilinear,skip=add,dec=1,act=relu6",
    "in1-c4x1k3-r4x2k3e1/down=conv,up=deconv,skip=none,dec=2,act=relu",
    "in3-c4x2k1/down=conv,up=nearest,skip=concat,dec=1,act=relu",
};

static uint64_t st = 29;
static float frand(void)
{
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(st >> 11) * 0x1p-53 * 2 - 1);
}

struct ctx {
    lpnas_net *net;
    const float *x, *r;
    int n;
    size_t nl;
};

static double lossf(void *v)
{
    struct ctx *c = v;
    const float *y;
    lpnas_net_forward_deployed(c->net, c->x, c->n, NULL, &y);
    double L = 0;
    for (size_t i = 0; i < c->nl; i++)
        L += (double)y[i] * c->r[i];
    return L;
}

/* In fp32 the folded forward has no rounding, so central differences see
 * the function the straight-through backward differentiates. */
START_TEST(backward_through_the_fold)
{
    for (size_t t = 0; t < sizeof NETS / sizeof NETS[0]; t++) {
        lpnas_arch a;
        ck_assert_msg(lpnas_arch_parse(NETS[t], &a) == LPNAS_OK, "%s", lpnas_last_error());
        lpnas_net_options o = {3, 8, 8, 7};
        lpnas_net *net;
        ck_assert_int_eq(lpnas_net_create(&a, &o, &net), LPNAS_OK);
        size_t nx = (size_t)3 * a.in_channels * 64, nl = 3 * 64, np = lpnas_net_param_count(net), nb;
        float *x = malloc(nx * 4), *r = malloc(nl * 4), *g = malloc(np * 4), *P = lpnas_net_params(net);
        for (size_t i = 0; i < nx; i++)
            x[i] = frand();
        for (size_t i = 0; i < nl; i++)
            r[i] = frand();
        /* running statistics, gamma and beta away from their initial 0/1 */
        const float *y;
        for (int k = 0; k < 3; k++)
            lpnas_net_forward(net, x, 3, true, NULL, &y);
        float *buf = lpnas_net_buffers(net, &nb);
        for (size_t i = 0; i < nb; i++)
            buf[i] += 0.1f * frand();
        for (size_t i = 0; i < np; i++)
            P[i] += 0.05f * frand();
        ck_assert_int_eq(lpnas_net_forward_deployed(net, x, 3, NULL, &y), LPNAS_OK);
        lpnas_net_zero_grad(net);
        ck_assert_int_eq(lpnas_net_backward(net, r, NULL), LPNAS_OK);
        memcpy(g, lpnas_net_grads(net), np * 4);
        struct ctx c = {net, x, r, 3, nl};
        lpnas_gradcheck_options go = lpnas_gradcheck_defaults();
        go.h = 1e-4;
        go.rtol = 2e-2;
        go.atol = 5e-3;
        go.max_checked = 0; /* every parameter: gamma and beta included */
        size_t bad = lpnas_gradcheck(NETS[t], lossf, &c, P, g, np, &go);
        ck_assert_msg(bad <= 2, "%s: %zu of %zu gradients off (ReLU kinks allow 2)", NETS[t], bad, np);
        /* BN parameters do get gradients through the fold */
        size_t nz = 0;
        for (int i = 1; i < net->g.count; i++)
            if (net->g.node[i].kind == LPNAS_NODE_BN)
                for (int k = 0; k < net->g.node[i].c; k++)
                    nz += g[net->s[i].w + (size_t)k] != 0 && g[net->s[i].b + (size_t)k] != 0;
        ck_assert_msg(nz > 0, "%s: no BN gradient", NETS[t]);
        free(x), free(r), free(g);
        lpnas_net_free(net);
    }
}
END_TEST

static lpnas_dataset *data;
static int idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static void setup(void)
{
    lpnas_synth_options o;
    lpnas_synth_options_default(&o);
    o.count = 8;
    o.size = 16;
    o.vessel_prob = 1;
    ck_assert_int_eq(lpnas_dataset_synthetic(&o, &data), LPNAS_OK);
}

static void teardown(void) { lpnas_dataset_free(data); }

static bool same_bits(const float *a, const float *b, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t x, y;
        memcpy(&x, a + i, 4), memcpy(&y, b + i, 4);
        if (x != y) {
            *at = i;
            return false;
        }
    }
    return true;
}

/* FP32 warm-up, fine-tuning in the policy, then three forwards on the same tiles. */
static void check_deployed_bits(const lpnas_arch *a, const char *what, const lpnas_policy *pol)
{
    lpnas_net_options no = {2, 16, 16, 3};
    lpnas_net *net;
    ck_assert_msg(lpnas_net_create(a, &no, &net) == LPNAS_OK, "%s: %s", what, lpnas_last_error());
    float m[3], s[3];
    lpnas_dataset_channel_stats(data, idx, 8, m, s);
    lpnas_net_set_normalization(net, m, s);
    lpnas_train_options o;
    lpnas_train_options_default(&o);
    o.batch = 2, o.steps = 2;
    lpnas_train_result r;
    ck_assert_msg(lpnas_train(net, data, idx, 8, &o, &r) == LPNAS_OK, "%s: %s", what, lpnas_last_error());
    o.policy = pol, o.steps = 3, o.lr = 1e-2;
    ck_assert_msg(lpnas_train(net, data, idx, 8, &o, &r) == LPNAS_OK, "%s %s: %s", what, lpnas_policy_name(pol),
                  lpnas_last_error());
    size_t px = 16 * 16, np = lpnas_net_param_count(net);
    float x[2 * 3 * 256], eval[512], train[512];
    memcpy(x, lpnas_dataset_image(data, 5), 3 * px * 4);
    memcpy(x + 3 * px, lpnas_dataset_image(data, 6), 3 * px * 4);
    float *before = malloc(np * 4);
    memcpy(before, lpnas_net_params(net), np * 4);
    const float *y;
    ck_assert_int_eq(lpnas_net_forward(net, x, 2, false, pol, &y), LPNAS_OK);
    memcpy(eval, y, sizeof eval);
    ck_assert_int_eq(lpnas_net_forward(net, x, 2, true, pol, &y), LPNAS_OK);
    memcpy(train, y, sizeof train);
    ck_assert_int_eq(lpnas_net_infer(net, x, 2, pol, &y), LPNAS_OK);
    size_t at = 0;
    LPNAS_REQUIRE(same_bits(eval, y, 512, &at), "%s %s: eval forward logit %zu %a, infer %a", what,
                  lpnas_policy_name(pol), at, (double)eval[at], (double)y[at]);
    LPNAS_REQUIRE(same_bits(train, y, 512, &at), "%s %s: training forward logit %zu %a, infer %a", what,
                  lpnas_policy_name(pol), at, (double)train[at], (double)y[at]);
    /* the training forward leaves parameters and statistics alone (frozen BN) */
    ck_assert_int_eq(memcmp(before, lpnas_net_params(net), np * 4), 0);
    bool finite = true;
    for (int i = 0; i < 512; i++)
        finite &= isfinite(y[i]) != 0;
    ck_assert_msg(finite, "%s %s: non-finite logits", what, lpnas_policy_name(pol));
    free(before);
    lpnas_net_free(net);
}

static void each_device_policy(const lpnas_arch *a, const char *what)
{
    for (size_t i = 0; lpnas_policy_at(i); i++)
        if (!lpnas_policy_is_fp32(lpnas_policy_at(i)) && !lpnas_policy_is_integer(lpnas_policy_at(i))) /* test_qnet */
            check_deployed_bits(a, what, lpnas_policy_at(i));
}

START_TEST(presets_train_the_deployed_bits)
{
    for (size_t i = 0; lpnas_arch_preset_name(i); i++) {
        lpnas_arch a;
        ck_assert_int_eq(lpnas_arch_preset(lpnas_arch_preset_name(i), &a), LPNAS_OK);
        each_device_policy(&a, lpnas_arch_preset_name(i));
    }
}
END_TEST

START_TEST(random_genomes_train_the_deployed_bits)
{
    lpnas_space sp;
    ck_assert_int_eq(lpnas_space_init(&sp, NULL), LPNAS_OK);
    lpnas_space_ops ops = lpnas_space_operators(&sp);
    lpnas_rng r;
    lpnas_rng_derive(&r, 2026, 11, 0);
    for (int k = 0; k < 20; k++) {
        lpnas_genome g;
        ops.random(ops.ctx, &r, &g);
        lpnas_arch a;
        lpnas_space_decode(&sp, &g, &a, NULL);
        char s[384];
        lpnas_arch_format(&a, s, sizeof s);
        each_device_policy(&a, s);
    }
}
END_TEST

/* The fold is made once per evaluation and redone when it must be. */
START_TEST(fold_cache)
{
    lpnas_arch a;
    lpnas_arch_parse(NETS[0], &a);
    lpnas_net_options no = {2, 8, 8, 5};
    lpnas_net *net;
    ck_assert_int_eq(lpnas_net_create(&a, &no, &net), LPNAS_OK);
    float x[2 * 2 * 64], y0[128], y1[128];
    for (int i = 0; i < 256; i++)
        x[i] = frand();
    const lpnas_policy *mx, *ie;
    lpnas_policy_get("myriadx", &mx);
    lpnas_policy_get("ieee-fp16", &ie);
    const float *y;
    float *P = lpnas_net_params(net);
    ck_assert_int_eq(lpnas_net_infer(net, x, 2, mx, &y), LPNAS_OK);
    memcpy(y0, y, sizeof y0);
    ck_assert(!net->fold_dirty && net->fold_policy == mx);
    ck_assert_int_eq(lpnas_net_infer(net, x, 2, mx, &y), LPNAS_OK); /* cached: the same bits */
    ck_assert_int_eq(memcmp(y, y0, sizeof y0), 0);
    /* a write through a kept pointer, announced: refolded */
    for (size_t i = 0; i < lpnas_net_param_count(net); i++)
        P[i] *= 1.5f;
    lpnas_net_params_changed(net);
    ck_assert_int_eq(lpnas_net_infer(net, x, 2, mx, &y), LPNAS_OK);
    memcpy(y1, y, sizeof y1);
    ck_assert(memcmp(y1, y0, sizeof y0) != 0);
    /* another policy refolds; back to the first gives the first's bits */
    ck_assert_int_eq(lpnas_net_infer(net, x, 2, ie, &y), LPNAS_OK);
    ck_assert(net->fold_policy == ie);
    ck_assert_int_eq(lpnas_net_infer(net, x, 2, mx, &y), LPNAS_OK);
    ck_assert_int_eq(memcmp(y, y1, sizeof y1), 0);
    /* an FP32 training forward moves the running statistics: stale */
    ck_assert_int_eq(lpnas_net_forward(net, x, 2, true, NULL, &y), LPNAS_OK);
    ck_assert(net->fold_dirty);
    ck_assert_int_eq(lpnas_net_infer(net, x, 2, mx, &y), LPNAS_OK);
    ck_assert(memcmp(y, y1, sizeof y1) != 0);
    /* an infer between forward and backward: nothing left to differentiate */
    ck_assert_int_eq(lpnas_net_backward(net, y0, mx), LPNAS_ERR_ARG);
    lpnas_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fold");
    TCase *t = lpnas_tcase("fold");
    tcase_add_test(t, backward_through_the_fold);
    tcase_add_test(t, fold_cache);
    suite_add_tcase(s, t);
    TCase *d = lpnas_tcase("deployed");
    tcase_add_checked_fixture(d, setup, teardown);
    tcase_add_test(d, presets_train_the_deployed_bits);
    tcase_add_test(d, random_genomes_train_the_deployed_bits);
    suite_add_tcase(s, d);
    return s;
}

LPNAS_TEST_MAIN(suite)
