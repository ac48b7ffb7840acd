/* Networks: whole-network gradients against central differences on tiny
 * nets covering every block type, skip and upsampling kind; folded inference
 * equals the unfolded eval forward; the backward reads no stale activation
 * gradient; parameter counts; bad inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "gradcheck.h"
#include "lib/net_internal.h"
#include "lpnas/net.h"

static const char *NETS[] = {
    "in2-c4x1k3-c6x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu",
    "in2-s4x1k3-r6x1k3e2/down=pool,up=bilinear,skip=add,dec=1,act=relu6",
    "in1-c4x1k3-r4x2k3e1/down=conv,up=deconv,skip=none,dec=2,act=relu",
    "in3-c4x2k1/down=conv,up=nearest,skip=concat,dec=1,act=relu",
};

static uint64_t st = 11;
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
    lpnas_net_forward(c->net, c->x, c->n, true, NULL, &y);
    double L = 0;
    for (size_t i = 0; i < c->nl; i++)
        L += (double)y[i] * c->r[i];
    return L;
}

START_TEST(whole_network_gradients)
{
    for (size_t t = 0; t < sizeof NETS / sizeof NETS[0]; t++) {
        lpnas_arch a;
        ck_assert_msg(lpnas_arch_parse(NETS[t], &a) == LPNAS_OK, "%s", lpnas_last_error());
        lpnas_net_options o = {3, 8, 8, 5};
        lpnas_net *net;
        ck_assert_int_eq(lpnas_net_create(&a, &o, &net), LPNAS_OK);
        size_t nx = (size_t)3 * a.in_channels * 64, nl = 3 * 64;
        float *x = malloc(nx * 4), *r = malloc(nl * 4);
        for (size_t i = 0; i < nx; i++)
            x[i] = frand();
        for (size_t i = 0; i < nl; i++)
            r[i] = frand();
        const float *y;
        ck_assert_int_eq(lpnas_net_forward(net, x, 3, true, NULL, &y), LPNAS_OK);
        lpnas_net_zero_grad(net);
        ck_assert_int_eq(lpnas_net_backward(net, r, NULL), LPNAS_OK);
        size_t np = lpnas_net_param_count(net);
        float *g = malloc(np * 4);
        memcpy(g, lpnas_net_grads(net), np * 4);
        struct ctx c = {net, x, r, 3, nl};
        lpnas_gradcheck_options go = lpnas_gradcheck_defaults();
        /* tiny nets with BN are strongly nonlinear (ReLU kinks within a few
         * 1e-3): small steps; float forward noise bounds atol */
        go.h = 1e-4;
        go.rtol = 5e-2;
        go.atol = 2e-2;
        go.max_checked = 60;
        size_t bad = lpnas_gradcheck(NETS[t], lossf, &c, lpnas_net_params(net), g, np, &go);
        ck_assert_msg(bad <= 2, "%s: %zu of 60 gradients off (ReLU kinks allow 2)", NETS[t], bad);
        free(x), free(r), free(g);
        lpnas_net_free(net);
    }
}
END_TEST

START_TEST(folded_inference_equals_eval_forward)
{
    for (size_t t = 0; t < sizeof NETS / sizeof NETS[0]; t++) {
        lpnas_arch a;
        lpnas_arch_parse(NETS[t], &a);
        lpnas_net_options o = {2, 8, 8, 9};
        lpnas_net *net;
        ck_assert_int_eq(lpnas_net_create(&a, &o, &net), LPNAS_OK);
        size_t nx = (size_t)2 * a.in_channels * 64;
        float *x = malloc(nx * 4), y1[128], m[3] = {0.1f, -0.2f, 0.3f}, s[3] = {2, 0.5f, 1};
        for (size_t i = 0; i < nx; i++)
            x[i] = frand();
        lpnas_net_set_normalization(net, m, s);
        const float *y;
        /* a few training steps' worth of BN statistics, then compare */
        for (int k = 0; k < 3; k++)
            lpnas_net_forward(net, x, 2, true, NULL, &y);
        ck_assert_int_eq(lpnas_net_forward(net, x, 2, false, NULL, &y), LPNAS_OK);
        memcpy(y1, y, sizeof y1);
        ck_assert_int_eq(lpnas_net_infer(net, x, 2, NULL, &y), LPNAS_OK);
        for (int i = 0; i < 128; i++)
            LPNAS_REQUIRE(fabsf(y[i] - y1[i]) <= 1e-4f * (1 + fabsf(y1[i])), "%s: logit %d %g vs %g", NETS[t], i,
                          (double)y[i], (double)y1[i]);
        /* under myriadx the logits are device values, close to fp32 */
        const lpnas_policy *mx;
        lpnas_policy_get("myriadx", &mx);
        ck_assert_int_eq(lpnas_net_infer(net, x, 2, mx, &y), LPNAS_OK);
        for (int i = 0; i < 128; i++) {
            float v = y[i];
            lpnas_policy_round(mx, &v, 1);
            ck_assert(v == y[i]);
            LPNAS_REQUIRE(fabsf(y[i] - y1[i]) <= 0.05f * (1 + fabsf(y1[i])), "%s myriadx logit %d", NETS[t], i);
        }
        free(x);
        lpnas_net_free(net);
    }
}
END_TEST

/* The backward zeroes each activation gradient right before the first step
 * that adds into it (lib/net.c): on a twin network whose gradient buffers
 * hold NaN from the start, the same parameter and activation gradients, bit
 * for bit, as on one whose buffers start zeroed; FP32 (unfolded) and myriadx
 * (folded) backward, every block and skip kind and the mobile preset. */
START_TEST(backward_reads_no_stale_gradient)
{
    const char *policies[] = {"fp32", "myriadx"};
    for (size_t t = 0; t <= sizeof NETS / sizeof NETS[0]; t++)
        for (int pi = 0; pi < 2; pi++) {
            lpnas_arch a;
            if (t < sizeof NETS / sizeof NETS[0])
                ck_assert_int_eq(lpnas_arch_parse(NETS[t], &a), LPNAS_OK);
            else
                ck_assert_int_eq(lpnas_arch_preset("mobile", &a), LPNAS_OK);
            const lpnas_policy *pol;
            ck_assert_int_eq(lpnas_policy_get(policies[pi], &pol), LPNAS_OK);
            lpnas_net_options o = {3, 16, 16, 5};
            lpnas_net *net[2];
            for (int k = 0; k < 2; k++)
                ck_assert_int_eq(lpnas_net_create(&a, &o, &net[k]), LPNAS_OK);
            memset(net[1]->dacts, 0xff, net[1]->nacts * 4); /* NaN everywhere */
            size_t nx = (size_t)3 * a.in_channels * 256, nl = 3 * 256, np = lpnas_net_param_count(net[0]);
            float *x = malloc(nx * 4), *r = malloc(nl * 4);
            for (size_t i = 0; i < nx; i++)
                x[i] = frand();
            for (size_t i = 0; i < nl; i++)
                r[i] = frand();
            for (int k = 0; k < 2; k++) {
                const float *y;
                ck_assert_int_eq(lpnas_net_forward(net[k], x, 3, true, pol, &y), LPNAS_OK);
                lpnas_net_zero_grad(net[k]);
                ck_assert_int_eq(lpnas_net_backward(net[k], r, pol), LPNAS_OK);
            }
            ck_assert_msg(!memcmp(lpnas_net_grads(net[0]), lpnas_net_grads(net[1]), np * 4), "net %zu, %s: gradients", t,
                          policies[pi]);
            const lpnas_graph *g = lpnas_net_graph(net[0]);
            for (int i = 1; i < g->count; i++) /* node 0, the input, has none */
                ck_assert_msg(!memcmp(net[0]->dacts + net[0]->s[i].act, net[1]->dacts + net[1]->s[i].act,
                                      lpnas_net_numel(&g->node[i], 3) * 4),
                              "net %zu, %s: activation gradient of node %d", t, policies[pi], i);
            free(x), free(r);
            lpnas_net_free(net[0]), lpnas_net_free(net[1]);
        }
}
END_TEST

START_TEST(plan_and_bad_input)
{
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_preset("unet-peer", &a), LPNAS_OK);
    lpnas_net *net;
    lpnas_net_options o;
    lpnas_net_options_default(&o);
    ck_assert_int_eq(lpnas_net_create(&a, &o, &net), LPNAS_OK);
    ck_assert_uint_eq(lpnas_net_param_count(net), 81569); /* = PyTorch's count of peer_torch.py */
    lpnas_arch_stats s;
    lpnas_arch_stats_compute(&a, 64, 64, &s);
    ck_assert_int_eq(s.params, 81569);
    ck_assert(lpnas_net_memory_bytes(net) >= (size_t)s.peak_act_bytes * 16);
    float x[3 * 64 * 64] = {0};
    const float *y;
    ck_assert_int_eq(lpnas_net_forward(net, x, 17, true, NULL, &y), LPNAS_ERR_ARG);
    ck_assert_int_eq(lpnas_net_forward(net, x, 0, true, NULL, &y), LPNAS_ERR_ARG);
    ck_assert_int_eq(lpnas_net_backward(net, x, NULL), LPNAS_ERR_ARG); /* no training forward yet */
    float m[3] = {0, 0, 0}, bad[3] = {1, 0, 1};
    ck_assert_int_eq(lpnas_net_set_normalization(net, m, bad), LPNAS_ERR_ARG);
    lpnas_net_free(net);
    o.h = 62; /* not divisible by 4 */
    ck_assert_int_eq(lpnas_net_create(&a, &o, &net), LPNAS_ERR_ARG);
    ck_assert_ptr_null(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("net");
    TCase *t = lpnas_tcase("net");
    tcase_add_test(t, whole_network_gradients);
    tcase_add_test(t, folded_inference_equals_eval_forward);
    tcase_add_test(t, backward_reads_no_stale_gradient);
    tcase_add_test(t, plan_and_bad_input);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
