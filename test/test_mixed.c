/* Mixed precision (issue 18): weight-format suffixes in architecture strings
 * round-trip and are refused by name when wrong; model size in bytes against
 * a hand count; per-row weight bits; the i.MX 8M Plus model against its
 * formula computed here; precision genes stay valid under mutation and
 * crossover; device names, formats and policies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "f16_ref.h"
#include "lpnas/data.h"
#include "lpnas/search.h"
#include "lib/net_internal.h"
#include "lpnas/blockwise.h"
#include "lpnas/device.h"
#include "lpnas/train.h"
#include "lpnas/qnet.h"
#include "lpnas/quant.h"
#include "nas/latency_internal.h"
#include "nas/space.h"

#define TINY "in3-c8x1k3-c16x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu"
#define TINY_W4 "in3-c8x1k3-c16x1k3:w4/down=conv,up=nearest,skip=concat,dec=1,act=relu"

START_TEST(suffix_round_trips)
{
    const char *ok[] = {TINY_W4, "in3-c16x2k3:w8-s24x1k5:w4-r32x1k3e2:f16/down=pool,up=bilinear,skip=add,dec=2,act=relu6"};
    for (int i = 0; i < 2; i++) {
        lpnas_arch a;
        char buf[512];
        ck_assert_int_eq(lpnas_arch_parse(ok[i], &a), LPNAS_OK);
        lpnas_arch_format(&a, buf, sizeof buf);
        ck_assert_str_eq(buf, ok[i]);
    }
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_parse(TINY_W4, &a), LPNAS_OK);
    ck_assert_int_eq(a.stage[0].wfmt, LPNAS_WFMT_DEFAULT);
    ck_assert_int_eq(a.stage[1].wfmt, LPNAS_WFMT_W4);
    /* a format must follow ':'; no spelling for the default ("" never matches) */
    ck_assert_int_eq(lpnas_arch_parse("in3-c8x1k3:w2/down=conv,up=nearest,skip=concat,dec=1,act=relu", &a),
                     LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "position 12"));
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "weight format"));
    ck_assert_int_eq(lpnas_arch_parse("in3-c8x1k3:/down=conv,up=nearest,skip=concat,dec=1,act=relu", &a),
                     LPNAS_ERR_FORMAT);
    ck_assert_str_eq(lpnas_wfmt_name(LPNAS_WFMT_W8), "w8");
    ck_assert_ptr_null(lpnas_wfmt_name((lpnas_wfmt)9));
    lpnas_arch_parse(TINY, &a);
    a.stage[0].wfmt = (lpnas_wfmt)7;
    ck_assert_int_eq(lpnas_arch_check(&a), LPNAS_ERR_ARG);
}
END_TEST

START_TEST(weight_bytes_by_hand)
{
    /* tiny: conv 3->8 k3 (216 weights), conv 8->16 k3 (1152), decoder conv
     * 24->8 k3 (1728), head 8->1 (8); one 4-byte bias per output channel:
     * 4 * (8 + 16 + 8 + 1) = 132. */
    lpnas_arch a;
    long long b;
    ck_assert_int_eq(lpnas_arch_parse(TINY, &a), LPNAS_OK);
    ck_assert_int_eq(lpnas_arch_weight_bytes(&a, 8, &b), LPNAS_OK);
    ck_assert_int_eq(b, 216 + 1152 + 1728 + 8 + 132);
    ck_assert_int_eq(lpnas_arch_weight_bytes(&a, 32, &b), LPNAS_OK);
    ck_assert_int_eq(b, 4 * (216 + 1152 + 1728 + 8) + 132);
    ck_assert_int_eq(lpnas_arch_weight_bytes(&a, 4, &b), LPNAS_OK);
    ck_assert_int_eq(b, 108 + 576 + 864 + 4 + 132);
    ck_assert_int_eq(lpnas_arch_parse(TINY_W4, &a), LPNAS_OK); /* stage 2 at 4 bits, the rest at 8 */
    ck_assert_int_eq(lpnas_arch_weight_bytes(&a, 8, &b), LPNAS_OK);
    ck_assert_int_eq(b, 216 + 576 + 1728 + 8 + 132);
    ck_assert_int_eq(lpnas_arch_weight_bytes(&a, 6, &b), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "default bits 6"));
}
END_TEST

START_TEST(layer_bits_follow_the_stages)
{
    lpnas_arch a;
    lpnas_layer_list l;
    ck_assert_int_eq(lpnas_arch_parse(TINY_W4, &a), LPNAS_OK);
    ck_assert_int_eq(lpnas_arch_layers(&a, 16, 16, &l), LPNAS_OK);
    int bits[64];
    ck_assert_uint_le(l.count, 64);
    ck_assert_int_eq(lpnas_arch_layer_wbits(&a, 16, 16, bits, l.count), LPNAS_OK);
    int fours = 0;
    for (size_t i = 0; i < l.count; i++) {
        const lpnas_layer *y = &l.layers[i];
        /* the stage-2 conv is the only one reading 8 channels and writing 16 */
        bool s2 = y->op == LPNAS_OP_CONV && y->in_c == 8 && y->out_c == 16;
        ck_assert_int_eq(bits[i], s2 ? 4 : 0);
        fours += s2;
    }
    ck_assert_int_eq(fours, 1);
    ck_assert_int_eq(lpnas_arch_layer_wbits(&a, 16, 16, bits, l.count - 1), LPNAS_ERR_ARG);
    lpnas_layer_list_free(&l);
}
END_TEST

/* The roofline of nas/latency_imx8mp.c, written out independently. */
static double roof(double macs, double util, double bytes)
{
    double c = macs / (1.15e9 * util), t = bytes / 6.0e6;
    return 0.015 + (c > t ? c : t);
}

START_TEST(imx8mp_formula_and_bits)
{
    lpnas_latency_model *m;
    ck_assert_int_eq(lpnas_latency_model_imx8mp(NULL, &m), LPNAS_OK);
    ck_assert_ptr_nonnull(strstr(lpnas_latency_source(m), "UNCALIBRATED"));
    lpnas_layer_list l;
    lpnas_layer_list_init(&l);
    /* weight-bound: 1x1 conv 512->512 on one pixel; compute-bound: 3x3 conv 32->32 at 64x64 */
    lpnas_layer fc = {LPNAS_OP_CONV, 1, 1, 512, 512, 1, 1, 1, LPNAS_ACT_RELU, 1};
    lpnas_layer cv = {LPNAS_OP_CONV, 64, 64, 32, 32, 3, 1, 1, LPNAS_ACT_NONE, 1};
    lpnas_layer bn = {LPNAS_OP_BN, 64, 64, 32, 32, 1, 1, 1, LPNAS_ACT_NONE, 1};
    ck_assert_int_eq(lpnas_layer_list_push(&l, &fc), LPNAS_OK);
    ck_assert_int_eq(lpnas_layer_list_push(&l, &cv), LPNAS_OK);
    ck_assert_int_eq(lpnas_layer_list_push(&l, &bn), LPNAS_OK); /* folded into the conv */
    double per[3], t8, t4, t0;
    int b8[3] = {8, 8, 0}, b4[3] = {4, 4, 0};
    ck_assert_int_eq(lpnas_latency_estimate_wbits(m, &l, b8, per, &t8), LPNAS_OK);
    double w = 512.0 * 512;
    ck_assert_double_eq_tol(per[0], roof(w, 0.25, 512 + 512 + w + 4 * 512), 1e-12);
    double wc = 32.0 * 32 * 9;
    ck_assert_double_eq_tol(per[1], roof(wc * 4096, 0.35, 2 * 4096.0 * 32 + wc + 4 * 32), 1e-12);
    ck_assert(per[2] == 0);
    ck_assert_double_eq_tol(t8, per[0] + per[1] + 0.4, 1e-12);
    ck_assert_int_eq(lpnas_latency_estimate_wbits(m, &l, b4, per, &t4), LPNAS_OK);
    ck_assert_double_eq_tol(per[0], roof(w, 0.25, 512 + 512 + w / 2 + 4 * 512), 1e-12);
    ck_assert(t4 < t8); /* 4-bit weights halve the weight traffic */
    /* the plain estimate is the device default (int8) */
    ck_assert_int_eq(lpnas_latency_estimate(m, &l, NULL, &t0), LPNAS_OK);
    ck_assert_double_eq_tol(t0, t8, 1e-12);
    /* a measured entry overrides the roofline */
    lpnas_lut_key k = lpnas_lut_key_of(&cv, false);
    ck_assert_int_eq(lpnas_latency_model_put(m, &k, 1.25, 0, 1), LPNAS_OK);
    ck_assert_int_eq(lpnas_latency_estimate_wbits(m, &l, b8, per, &t8), LPNAS_OK);
    ck_assert(per[1] == 1.25);
    ck_assert_int_eq(lpnas_lut_save(m, "/tmp/lpnas_test_imx8mp.lut"), LPNAS_ERR_UNSUPPORTED);
    lpnas_imx8mp_options o = {-1};
    lpnas_latency_model *bad = NULL;
    ck_assert_int_eq(lpnas_latency_model_imx8mp(&o, &bad), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "overhead -1"));
    lpnas_layer_list_free(&l);
    lpnas_latency_model_free(m);
}
END_TEST

START_TEST(precision_genes_stay_valid)
{
    lpnas_space_options so;
    lpnas_space_options_default(&so);
    so.n_wfmts = lpnas_device_wfmts(LPNAS_DEVICE_IMX8MP, so.wfmts);
    ck_assert_int_eq(so.n_wfmts, 2);
    lpnas_space s;
    ck_assert_int_eq(lpnas_space_init(&s, &so), LPNAS_OK);
    lpnas_space_ops ops = lpnas_space_operators(&s);
    lpnas_rng r;
    lpnas_rng_seed(&r, 7);
    lpnas_genome a, b, c;
    ops.random(ops.ctx, &r, &a);
    ops.random(ops.ctx, &r, &b);
    long w4 = 0, w8 = 0, changed = 0, n = 20000;
    for (long i = 0; i < n; i++) {
        char before[512], after[512];
        lpnas_space_identity(&s, &a, before, sizeof before);
        if (i % 3 == 2) {
            ops.crossover(ops.ctx, &r, &a, &b, &c);
            b = a, a = c;
        } else {
            ops.mutate(ops.ctx, &r, &a);
        }
        ck_assert(lpnas_space_valid(&s, &a));
        lpnas_space_identity(&s, &a, after, sizeof after);
        changed += strcmp(before, after) != 0;
        /* every stage carries a suffix, and the string round-trips */
        lpnas_arch x;
        lpnas_space_decode(&s, &a, &x, NULL);
        char text[512];
        lpnas_arch_format(&x, text, sizeof text);
        lpnas_arch y;
        ck_assert_int_eq(lpnas_arch_parse(text, &y), LPNAS_OK);
        for (int k = 0; k < x.stages; k++) {
            ck_assert(x.stage[k].wfmt == LPNAS_WFMT_W8 || x.stage[k].wfmt == LPNAS_WFMT_W4);
            ck_assert_int_eq(y.stage[k].wfmt, x.stage[k].wfmt);
            w4 += x.stage[k].wfmt == LPNAS_WFMT_W4, w8 += x.stage[k].wfmt == LPNAS_WFMT_W8;
        }
    }
    ck_assert_int_gt(w4, n / 4);
    ck_assert_int_gt(w8, n / 4);
    ck_assert_int_gt(changed, n * 9 / 10);
    /* without precision genes no string has a suffix */
    ck_assert_int_eq(lpnas_space_init(&s, NULL), LPNAS_OK);
    ops = lpnas_space_operators(&s);
    for (int i = 0; i < 1000; i++) {
        char id[512];
        ops.random(ops.ctx, &r, &a);
        lpnas_space_identity(&s, &a, id, sizeof id);
        ck_assert_ptr_null(strchr(id, ':'));
    }
    so.n_wfmts = 5;
    ck_assert_int_eq(lpnas_space_init(&s, &so), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "5 weight formats"));
}
END_TEST

START_TEST(devices)
{
    lpnas_device d;
    ck_assert_int_eq(lpnas_device_parse("imx8mp", &d), LPNAS_OK);
    ck_assert_int_eq(d, LPNAS_DEVICE_IMX8MP);
    ck_assert_int_eq(lpnas_device_parse("tpu", &d), LPNAS_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "'tpu'"));
    lpnas_wfmt f[LPNAS_WFMT_COUNT];
    ck_assert_int_eq(lpnas_device_wfmts(LPNAS_DEVICE_MYRIADX, f), 1);
    ck_assert_int_eq(f[0], LPNAS_WFMT_F16);
    const lpnas_policy *i8, *mx, *f32;
    ck_assert_int_eq(lpnas_policy_get("int8", &i8), LPNAS_OK);
    ck_assert_int_eq(lpnas_policy_get("myriadx", &mx), LPNAS_OK);
    ck_assert_int_eq(lpnas_policy_get("fp32", &f32), LPNAS_OK);
    ck_assert(lpnas_device_accepts_policy(LPNAS_DEVICE_IMX8MP, i8));
    ck_assert(!lpnas_device_accepts_policy(LPNAS_DEVICE_IMX8MP, mx));
    ck_assert(!lpnas_device_accepts_policy(LPNAS_DEVICE_MYRIADX, i8));
    ck_assert(lpnas_device_accepts_policy(LPNAS_DEVICE_MYRIADX, f32));
    ck_assert_str_eq(lpnas_device_default_policy(LPNAS_DEVICE_IMX8MP), "int8");
    lpnas_latency_model *m;
    ck_assert_int_eq(lpnas_device_latency_model(LPNAS_DEVICE_MYRIADX, &m), LPNAS_OK);
    ck_assert_ptr_nonnull(strstr(lpnas_latency_device(m), "Myriad X"));
    lpnas_latency_model_free(m);
}
END_TEST

/* Stage weights onto their format's grid, against the rule computed here:
 * per output channel s = max|w| / 7, w' = nearbyint(w / s) * s for :w4;
 * binary16 for :f16; every other parameter untouched. */
START_TEST(stage_weights_rounded)
{
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_parse("in3-c8x1k3:f16-c16x1k3:w4/down=conv,up=nearest,skip=concat,dec=1,act=relu", &a),
                     LPNAS_OK);
    lpnas_net_options no = {2, 16, 16, 3};
    lpnas_net *net;
    ck_assert_int_eq(lpnas_net_create(&a, &no, &net), LPNAS_OK);
    size_t np = lpnas_net_param_count(net);
    float *before = malloc(np * sizeof *before), *p = lpnas_net_params(net);
    for (size_t i = 0; i < np; i++)
        p[i] = (float)sin((double)i * 0.37) * 0.3f + 1e-4f * (float)i; /* fractional bits everywhere */
    memcpy(before, p, np * sizeof *before);
    int layers = 0;
    ck_assert_int_eq(lpnas_net_round_stage_weights(net, &layers), LPNAS_OK);
    ck_assert_int_eq(layers, 2);
    bool touched[1 << 15] = {false};
    ck_assert_uint_le(np, 1 << 15);
    for (int i = 0; i < net->g.count; i++) {
        const lpnas_node *n = &net->g.node[i];
        if (n->kind != LPNAS_NODE_CONV || !n->wfmt)
            continue;
        size_t per = (size_t)(n->in_c / n->groups) * n->kernel * n->kernel, off = net->s[i].w;
        for (int o = 0; o < n->c; o++) {
            const float *x = before + off + (size_t)o * per;
            float mx = 0;
            for (size_t k = 0; k < per; k++)
                mx = fmaxf(mx, fabsf(x[k]));
            for (size_t k = 0; k < per; k++) {
                float want;
                if (n->wfmt == LPNAS_WFMT_W4) {
                    float s = mx / 7.0f, q = nearbyintf(x[k] / s);
                    want = fminf(fmaxf(q, -7), 7) * s;
                } else {
                    uint16_t r[5];
                    unsigned fl[5];
                    if (x[k] == 0) {
                        want = x[k];
                    } else {
                        lpnas_ref_round_double_all((double)x[k], r, fl); /* independent reference */
                        want = (float)lpnas_ref_f16_value(r[LPNAS_RNE]);
                    }
                }
                ck_assert_float_eq(p[off + (size_t)o * per + k], want);
                touched[off + (size_t)o * per + k] = true;
            }
        }
    }
    for (size_t i = 0; i < np; i++)
        if (!touched[i])
            ck_assert_float_eq(p[i], before[i]);
    free(before);
    lpnas_net_free(net);
}
END_TEST

/* The block-wise shortcut: the choice over a hand-made table under budgets
 * (sizes of tiny: 3,236 bytes all w8; 2,660 with stage 2 at w4; 3,128 with
 * stage 1 at w4; 2,552 both w4), and a table measured on a trained network. */
START_TEST(blockwise_table_and_choice)
{
    lpnas_blockwise_table t = {2, 2, {LPNAS_WFMT_W8, LPNAS_WFMT_W4}, 0.8, {{0.79, 0.70}, {0.80, 0.78}}};
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_parse(TINY, &a), LPNAS_OK);
    int ch[LPNAS_ARCH_MAX_STAGES];
    double pred;
    long long b;
    ck_assert_int_eq(lpnas_blockwise_choose(&t, &a, 8, 0, ch, &pred, &b), LPNAS_OK);
    ck_assert(ch[0] == 0 && ch[1] == 0 && b == 3236);
    ck_assert_double_eq_tol(pred, 0.79, 1e-12);
    ck_assert_int_eq(lpnas_blockwise_choose(&t, &a, 8, 3000, ch, &pred, &b), LPNAS_OK);
    ck_assert(ch[0] == 0 && ch[1] == 1 && b == 2660);
    ck_assert_double_eq_tol(pred, 0.77, 1e-12);
    ck_assert_int_eq(lpnas_blockwise_choose(&t, &a, 8, 2600, ch, &pred, &b), LPNAS_OK);
    ck_assert(ch[0] == 1 && ch[1] == 1 && b == 2552);
    ck_assert_int_eq(lpnas_blockwise_choose(&t, &a, 8, 2000, ch, &pred, &b), LPNAS_ERR_INFEASIBLE);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "2000 weight bytes"));

    /* measured on a briefly trained tiny network */
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 12, so.size = 32;
    lpnas_dataset *d;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
    int idx[12];
    for (int i = 0; i < 12; i++)
        idx[i] = i;
    lpnas_net_options no = {4, 32, 32, 5};
    lpnas_net *net;
    ck_assert_int_eq(lpnas_net_create(&a, &no, &net), LPNAS_OK);
    lpnas_train_options to;
    lpnas_train_options_default(&to);
    to.steps = 20, to.batch = 4, to.lr = 3e-3;
    lpnas_train_result tr;
    ck_assert_int_eq(lpnas_train(net, d, idx, 8, &to, &tr), LPNAS_OK);
    const lpnas_policy *i8;
    ck_assert_int_eq(lpnas_policy_get("int8", &i8), LPNAS_OK);
    lpnas_wfmt f[2] = {LPNAS_WFMT_F16, LPNAS_WFMT_W4};
    lpnas_blockwise_table m;
    ck_assert_int_eq(lpnas_blockwise_measure(net, d, idx + 8, 4, i8, f, 2, &m), LPNAS_OK);
    lpnas_eval_result e;
    float x[4 * 3 * 32 * 32];
    for (int i = 0; i < 4; i++)
        memcpy(x + i * 3 * 32 * 32, lpnas_dataset_image(d, idx[8 + i]), 3 * 32 * 32 * sizeof *x);
    ck_assert_int_eq(lpnas_net_calibrate(net, x, 4, i8, NULL), LPNAS_OK); /* as the table calibrates */
    ck_assert_int_eq(lpnas_evaluate(net, d, idx + 8, 4, i8, &e), LPNAS_OK);
    ck_assert_double_eq_tol(m.base, e.miou, 1e-12); /* the copy is the same network */
    for (int i = 0; i < 2; i++) {
        ck_assert(m.miou[i][1] >= 0 && m.miou[i][1] <= 1);
        ck_assert_double_eq_tol(m.miou[i][0], m.base, 0.02); /* binary16 weights barely move a mask */
    }
    ck_assert_int_eq(lpnas_blockwise_measure(net, d, idx, 4, i8, f, 0, &m), LPNAS_ERR_ARG);
    lpnas_wfmt bad = LPNAS_WFMT_DEFAULT;
    ck_assert_int_eq(lpnas_blockwise_measure(net, d, idx, 4, i8, &bad, 1, &m), LPNAS_ERR_ARG);
    lpnas_net_free(net);
    lpnas_dataset_free(d);
}
END_TEST

/* Issue 17's integer path honours the genes: after calibration and the fold
 * in int8, the ":w4" stage's folded weights are k * s with |k| <= 7 per
 * output channel (s = max|w| / 7), the default stage's use up to 127 codes. */
START_TEST(integer_fold_uses_stage_bits)
{
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_parse(TINY_W4, &a), LPNAS_OK);
    lpnas_net_options no = {2, 16, 16, 3};
    lpnas_net *net;
    ck_assert_int_eq(lpnas_net_create(&a, &no, &net), LPNAS_OK);
    float *p = lpnas_net_params(net);
    for (size_t i = 0; i < lpnas_net_param_count(net); i++)
        p[i] = (float)sin((double)i * 0.61) * 0.2f;
    lpnas_net_params_changed(net);
    float img[2 * 3 * 16 * 16];
    for (int i = 0; i < 2 * 3 * 16 * 16; i++)
        img[i] = (float)((i * 37) % 255);
    const lpnas_policy *i8;
    ck_assert_int_eq(lpnas_policy_get("int8", &i8), LPNAS_OK);
    ck_assert_msg(lpnas_net_calibrate(net, img, 2, i8, NULL) == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_net_fold(net, i8);
    int seen4 = 0, seen8 = 0;
    for (int i = 0; i < net->g.count; i++) {
        const lpnas_node *n = &net->g.node[i];
        if (n->kind != LPNAS_NODE_CONV || (n->in[0] != 0 && n->wfmt != LPNAS_WFMT_W4))
            continue; /* the first conv (default, 8 bits) and the :w4 one */
        size_t per = (size_t)(n->in_c / n->groups) * n->kernel * n->kernel;
        int kmax = n->wfmt == LPNAS_WFMT_W4 ? 7 : 127, top = 0;
        for (int o = 0; o < n->c; o++) {
            const float *w = net->folded + net->s[i].fw + (size_t)o * per;
            float mx = 0;
            for (size_t k = 0; k < per; k++)
                mx = fmaxf(mx, fabsf(w[k]));
            if (!(mx > 0))
                continue;
            float s = mx / (float)kmax;
            for (size_t k = 0; k < per; k++) {
                float q = w[k] / s;
                ck_assert_msg(fabsf(q - nearbyintf(q)) < 1e-3f && fabsf(q) <= kmax + 1e-3f, "node %d: %g", i, q);
                int qi = (int)fabsf(nearbyintf(q));
                top = qi > top ? qi : top;
            }
        }
        if (n->wfmt == LPNAS_WFMT_W4) {
            seen4 = 1;
            ck_assert_int_eq(top, 7);
        } else {
            seen8 = 1;
            ck_assert_int_gt(top, 7);
        }
    }
    ck_assert(seen4 && seen8);
    lpnas_net_free(net);
}
END_TEST

/* A mixed-precision search on the integer device: every candidate's size is
 * its string's size at the policy's 8 bits (recomputed here from the
 * string), the strings carry the precision genes, and a size budget below
 * every network makes the region infeasible. */
/* The weight_bytes column (the last field) of every row of dir/name equals
 * lpnas_arch_weight_bytes of the row's architecture; returns the rows. */
static int check_weight_bytes_column(const char *dir, const char *name)
{
    char path[600], line[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s missing", path);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strstr(line, ",status,reason,weight_bytes\n") != NULL, "%s header: %s", name, line);
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char arch[512];
        const char *q = strchr(line, '"'), *e = q ? strchr(q + 1, '|') : NULL, *last = strrchr(line, ',');
        ck_assert_msg(q && e && last && e - q - 1 < (long)sizeof arch, "%s row: %s", name, line);
        snprintf(arch, sizeof arch, "%.*s", (int)(e - q - 1), q + 1);
        lpnas_arch a;
        long long b;
        ck_assert_int_eq(lpnas_arch_parse(arch, &a), LPNAS_OK);
        ck_assert_int_eq(lpnas_arch_weight_bytes(&a, 8, &b), LPNAS_OK);
        ck_assert_msg(strtoll(last + 1, NULL, 10) == b, "%s: %s: weight_bytes %s, want %lld", name, arch, last + 1, b);
        rows++;
    }
    fclose(f);
    return rows;
}

/* results.csv as written before the weight_bytes column: header and rows without their last field */
static void strip_last_column(const char *dir)
{
    char path[600], line[4096];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *all = calloc(1, 1 << 20);
    while (fgets(line, sizeof line, f)) {
        *strrchr(line, ',') = 0;
        strcat(strcat(all, line), "\n");
    }
    fclose(f);
    f = fopen(path, "w");
    fputs(all, f);
    fclose(f);
    free(all);
}

START_TEST(search_with_size_objective_and_budget)
{
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 16, so.size = 32;
    lpnas_dataset *d;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
    int tr[12], va[4];
    for (int i = 0; i < 12; i++)
        tr[i] = i;
    for (int i = 0; i < 4; i++)
        va[i] = 12 + i;
    lpnas_latency_model *m;
    ck_assert_int_eq(lpnas_device_latency_model(LPNAS_DEVICE_IMX8MP, &m), LPNAS_OK);
    lpnas_search_options o;
    lpnas_search_options_default(&o);
    ck_assert_int_eq(lpnas_policy_get("int8", &o.policy), LPNAS_OK);
    o.space.max_stages = 2, o.space.n_widths = 2, o.space.max_blocks = 1;
    o.space.n_wfmts = lpnas_device_wfmts(LPNAS_DEVICE_IMX8MP, o.space.wfmts);
    o.data = d, o.train = tr, o.val = va, o.ntrain = 12, o.nval = 4;
    o.latency = m, o.budget_ms = 50, o.strategy = LPNAS_SEARCH_NSGA2, o.population = 4;
    o.warmup_steps = 2, o.finetune_steps = 1, o.batch = 4;
    o.evaluations = 3, o.workers = 1, o.search_batch = 3;
    char *dir = lpnas_test_tmpdir();
    o.out_dir = dir;
    lpnas_search *s;
    ck_assert_msg(lpnas_search_create(&o, &s) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_msg(lpnas_search_run(s) == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_search_row *rows;
    size_t n;
    ck_assert_int_eq(lpnas_search_rows(s, &rows, &n), LPNAS_OK);
    int ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].status != 1)
            continue;
        ok++;
        char text[384];
        snprintf(text, sizeof text, "%s", rows[i].arch);
        *strchr(text, '|') = 0;
        ck_assert_ptr_nonnull(strstr(text, ":w"));
        lpnas_arch a;
        long long b;
        ck_assert_int_eq(lpnas_arch_parse(text, &a), LPNAS_OK);
        ck_assert_int_eq(lpnas_arch_weight_bytes(&a, 8, &b), LPNAS_OK);
        ck_assert_int_eq(rows[i].weight_bytes, b);
    }
    ck_assert_int_ge(ok, 3);
    free(rows);
    lpnas_search_free(s);
    /* the weight_bytes column, last in results.csv and pareto.csv */
    ck_assert_int_ge(check_weight_bytes_column(dir, "results.csv"), 3);
    ck_assert_int_ge(check_weight_bytes_column(dir, "pareto.csv"), 1);
    /* a results.csv from before the column: a resume rebuilds it whole, with the column on every row
     * (the journal never carried the size: derive recomputes it from the genome) */
    strip_last_column(dir);
    o.resume = true, o.evaluations = 4;
    ck_assert_msg(lpnas_search_create(&o, &s) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_msg(lpnas_search_run(s) == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_search_free(s);
    ck_assert_int_ge(check_weight_bytes_column(dir, "results.csv"), 4);
    o.resume = false, o.evaluations = 3;
    /* a size budget no network meets */
    char *dir2 = lpnas_test_tmpdir();
    o.out_dir = dir2, o.max_weight_bytes = 10;
    ck_assert_int_eq(lpnas_search_create(&o, &s), LPNAS_OK);
    ck_assert_int_eq(lpnas_search_run(s), LPNAS_ERR_INFEASIBLE);
    ck_assert_int_eq(lpnas_search_rows(s, &rows, &n), LPNAS_OK);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(rows[0].status, 2);
    ck_assert_int_gt(rows[0].weight_bytes, 10);
    free(rows);
    lpnas_search_free(s);
    o.max_weight_bytes = -1;
    ck_assert_int_eq(lpnas_search_create(&o, &s), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "max weight bytes -1"));
    lpnas_test_rmdir(dir), lpnas_test_rmdir(dir2);
    free(dir), free(dir2);
    lpnas_latency_model_free(m);
    lpnas_dataset_free(d);
}
END_TEST

/* The largest |code| of each output channel of conv node i's folded weights
 * (the weights the last forward ran with), checked to be codes of step
 * max|w| / wmax: returns the largest over channels, -1 if one is no code. */
static int folded_top_code(lpnas_net *net, int i, int wmax)
{
    const lpnas_node *n = &net->g.node[i];
    size_t per = (size_t)(n->in_c / n->groups) * n->kernel * n->kernel;
    int top = 0;
    for (int o = 0; o < n->c; o++) {
        const float *w = net->folded + net->s[i].fw + (size_t)o * per;
        float mx = 0;
        for (size_t k = 0; k < per; k++)
            mx = fmaxf(mx, fabsf(w[k]));
        if (!(mx > 0))
            continue;
        for (size_t k = 0; k < per; k++) {
            float q = w[k] / (mx / (float)wmax);
            if (fabsf(q - nearbyintf(q)) > 1e-3f || fabsf(q) > wmax + 1e-3f)
                return -1;
            int qi = (int)fabsf(nearbyintf(q));
            top = qi > top ? qi : top;
        }
    }
    return top;
}

/* Aligned fine-tuning of a mixed-precision candidate (issue 18) under an
 * integer policy: every training forward (lpnas_train in the policy, as the
 * search fine-tunes) runs each encoder stage's convs at its own weight bits
 * (":w8" 8 bits, ":w4" 4 bits) and the rest at the policy's (w4a8: 4, int8: 8), the
 * gradient reaches every stage, and the training forward -- in training and
 * in evaluation mode -- equals lpnas_net_infer bit for bit. */
static void check_stage_formats(const char *pname, int wdef)
{
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_parse("in3-c8x1k3:w8-s16x1k3:w4-c16x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu",
                                      &a), LPNAS_OK);
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 8, so.size = 16;
    lpnas_dataset *d;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
    int idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    lpnas_net_options no = {4, 16, 16, 9};
    lpnas_net *net;
    ck_assert_int_eq(lpnas_net_create(&a, &no, &net), LPNAS_OK);
    lpnas_train_options to;
    lpnas_train_options_default(&to);
    to.steps = 5, to.batch = 4;
    lpnas_train_result tr;
    ck_assert_int_eq(lpnas_train(net, d, idx, 8, &to, &tr), LPNAS_OK); /* the FP32 warm-up */
    const lpnas_policy *p;
    ck_assert_int_eq(lpnas_policy_get(pname, &p), LPNAS_OK);
    float x[4 * 3 * 16 * 16], keep[4 * 16 * 16];
    for (int i = 0; i < 4; i++)
        memcpy(x + i * 3 * 16 * 16, lpnas_dataset_image(d, i), 3 * 16 * 16 * sizeof *x);
    ck_assert_int_eq(lpnas_net_round_stage_weights(net, NULL), LPNAS_OK); /* as the search does before post-hoc */
    ck_assert_msg(lpnas_net_calibrate(net, x, 4, p, NULL) == LPNAS_OK, "%s", lpnas_last_error());
    for (int round = 0; round < 3; round++) {
        size_t np = lpnas_net_param_count(net);
        float *before = malloc(np * sizeof *before);
        memcpy(before, lpnas_net_params(net), np * sizeof *before);
        to.policy = p, to.steps = 2, to.seed = 11 + (uint64_t)round;
        ck_assert_msg(lpnas_train(net, d, idx, 8, &to, &tr) == LPNAS_OK, "%s", lpnas_last_error());
        /* the weights of the last training forward, per conv: stage 1 at 8 bits,
         * stage 2 at 4, stage 3, decoder and head at the policy's 4 */
        int checked = 0;
        for (int i = 1; i < net->g.count; i++) {
            const lpnas_node *n = &net->g.node[i];
            if (n->kind != LPNAS_NODE_CONV)
                continue;
            int wmax = n->wfmt == LPNAS_WFMT_W8 ? 127 : n->wfmt == LPNAS_WFMT_W4 ? 7 : wdef;
            int top = folded_top_code(net, i, wmax);
            ck_assert_msg(top == wmax, "%s round %d node %d (wfmt %d): largest code %d, want %d", pname, round, i,
                          n->wfmt, top, wmax);
            checked++;
        }
        ck_assert_int_ge(checked, 6);
        /* every stage learned: some weight of each stage's first conv moved */
        const float *P = lpnas_net_params(net);
        for (int st = 0; st < 3; st++) {
            int first = net->g.stage_end[st];
            while (first > 0 && net->g.node[first].kind != LPNAS_NODE_CONV)
                first--;
            const lpnas_node *n = &net->g.node[first];
            size_t nw = (size_t)n->params, moved = 0;
            for (size_t k = 0; k < nw; k++)
                moved += P[net->s[first].w + k] != before[net->s[first].w + k];
            ck_assert_msg(moved > 0, "round %d: stage %d's weights never moved", round, st + 1);
        }
        free(before);
        /* training forward == inference, bit for bit (both modes) */
        const float *y;
        for (int train = 0; train < 2; train++) {
            ck_assert_int_eq(lpnas_net_forward(net, x, 4, train, p, &y), LPNAS_OK);
            memcpy(keep, y, sizeof keep);
            ck_assert_int_eq(lpnas_net_infer(net, x, 4, p, &y), LPNAS_OK);
            for (int k = 0; k < 4 * 16 * 16; k++)
                ck_assert_msg(memcmp(&keep[k], &y[k], 4) == 0, "round %d train %d logit %d: %a vs %a", round, train, k,
                              (double)keep[k], (double)y[k]);
        }
    }
    lpnas_net_free(net);
    lpnas_dataset_free(d);
}

START_TEST(aligned_finetune_trains_each_stage_in_its_format)
{
    check_stage_formats("w4a8", 7);
    check_stage_formats("int8", 127);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mixed");
    TCase *t = lpnas_tcase("mixed");
    tcase_add_test(t, suffix_round_trips);
    tcase_add_test(t, weight_bytes_by_hand);
    tcase_add_test(t, layer_bits_follow_the_stages);
    tcase_add_test(t, imx8mp_formula_and_bits);
    tcase_add_test(t, precision_genes_stay_valid);
    tcase_add_test(t, devices);
    tcase_add_test(t, stage_weights_rounded);
    tcase_add_test(t, blockwise_table_and_choice);
    tcase_add_test(t, integer_fold_uses_stage_bits);
    tcase_add_test(t, search_with_size_objective_and_budget);
    tcase_add_test(t, aligned_finetune_trains_each_stage_in_its_format);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
