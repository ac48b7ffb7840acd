/* Architecture strings: round trips (presets and 2000 random valid
 * architectures), parse errors with positions, hand-computed sizes, layer lists. */
#include <stdio.h>
#include <string.h>

#include "check_util.h"
#include "lpnas/arch.h"

static void random_arch(lpnas_arch *a, uint64_t *s)
{
#define R(n) ((int)((*s = *s * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (n))
    memset(a, 0, sizeof *a);
    a->in_channels = 1 + R(16);
    a->stages = 1 + R(LPNAS_ARCH_MAX_STAGES);
    for (int i = 0; i < a->stages; i++) {
        lpnas_stage *st = &a->stage[i];
        st->type = (lpnas_block_type)R(3);
        st->width = 1 + R(1024);
        st->blocks = 1 + R(8);
        st->kernel = 1 + 2 * R(4);
        st->expansion = st->type == LPNAS_BLOCK_INVERTED ? 1 + R(8) : 0;
    }
    a->down = (lpnas_down_kind)R(2);
    a->up = (lpnas_up_kind)R(3);
    a->skip = (lpnas_skip_kind)R(3);
    a->dec_blocks = 1 + R(4);
    a->act = (lpnas_arch_act)R(2);
#undef R
}

START_TEST(round_trips)
{
    for (size_t i = 0; lpnas_arch_preset_name(i); i++) {
        lpnas_arch a, b;
        ck_assert_int_eq(lpnas_arch_preset(lpnas_arch_preset_name(i), &a), LPNAS_OK);
        char s1[512], s2[512];
        lpnas_arch_format(&a, s1, sizeof s1);
        ck_assert_int_eq(lpnas_arch_parse(s1, &b), LPNAS_OK);
        lpnas_arch_format(&b, s2, sizeof s2);
        ck_assert_str_eq(s1, s2);
    }
    uint64_t s = 5;
    for (int i = 0; i < 2000; i++) {
        lpnas_arch a, b;
        random_arch(&a, &s);
        ck_assert_int_eq(lpnas_arch_check(&a), LPNAS_OK);
        char s1[512], s2[512];
        lpnas_arch_format(&a, s1, sizeof s1);
        LPNAS_REQUIRE(lpnas_arch_parse(s1, &b) == LPNAS_OK, "'%s': %s", s1, lpnas_last_error());
        lpnas_arch_format(&b, s2, sizeof s2);
        LPNAS_REQUIRE(strcmp(s1, s2) == 0 && memcmp(&a, &b, sizeof a) == 0, "'%s' != '%s'", s1, s2);
    }
}
END_TEST

START_TEST(parse_errors_name_the_position)
{
    static const struct { const char *text, *msg; } BAD[] = {
        {"", "position 1: expected 'in' and the input channels, found the end"},
        {"in0-c8x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu", "position 3: input channels 0"},
        {"in3-c8x1k4/down=conv,up=nearest,skip=concat,dec=1,act=relu", "position 10: kernel 4: need 1, 3, 5 or 7"},
        {"in3-c8xk3/down=conv,up=nearest,skip=concat,dec=1,act=relu", "position 8: expected a number of blocks, found 'k'"},
        {"in3-q8x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu", "position 5: expected a block type"},
        {"in3-r8x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu", "position 11: expected 'e' and the expansion"},
        {"in3-c08x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu", "position 6: expected a width"},
        {"in3-c8x1k3/down=conv,up=linear,skip=concat,dec=1,act=relu", "position 25: expected nearest, bilinear or deconv"},
        {"in3-c8x1k3/down=conv,up=nearest,skip=concat,dec=1,act=gelu", "position 55: expected relu or relu6"},
        {"in3-c8x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu ", "position 59: expected the end of the string"},
        {"in3-c8x1k3/down=conv,up=nearest,skip=concat,dec=9,act=relu", "position 49: 9 decoder blocks"},
        {"in3-c8x9k3/down=conv,up=nearest,skip=concat,dec=1,act=relu", "position 8: 9 blocks: need 1..8"},
        {"in3/down=conv,up=nearest,skip=concat,dec=1,act=relu", "position 4: expected '-' and a stage"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        lpnas_arch a;
        ck_assert_int_eq(lpnas_arch_parse(BAD[i].text, &a), LPNAS_ERR_FORMAT);
        ck_assert_msg(strstr(lpnas_last_error(), BAD[i].msg), "'%s': got '%s', wanted '%s'", BAD[i].text,
                      lpnas_last_error(), BAD[i].msg);
    }
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_preset("huge", &a), LPNAS_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "paper96k"));
}
END_TEST

START_TEST(hand_computed_sizes)
{
    /* in1-c2x1k3 (single stage): conv 1->2 k3 (18) + BN (4) + head 1x1 2->1 with bias (3) = 25 params;
     * MACs at 4x4: 16 px * 2 * 9 + 16 * 1 * 2 = 288 + 32 = 320 */
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_parse("in1-c2x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu", &a), LPNAS_OK);
    lpnas_arch_stats s;
    ck_assert_int_eq(lpnas_arch_stats_compute(&a, 4, 4, &s), LPNAS_OK);
    ck_assert_int_eq(s.params, 25);
    ck_assert_int_eq(s.macs, 320);
    /* two stages, concat skip: e1 conv 1->2 k3 (18+4), e2 conv 2->4 k3 s2 (72+8), up nearest,
     * concat (4+2=6), dec conv 6->2 k3 (108+4), head 2->1 (3) = 217;
     * MACs at 8x8: 64*2*9 + 16*4*18 + 64*2*54 + 64*2 = 1152 + 1152 + 6912 + 128 = 9344 */
    ck_assert_int_eq(lpnas_arch_parse("in1-c2x1k3-c4x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu", &a),
                     LPNAS_OK);
    ck_assert_int_eq(lpnas_arch_stats_compute(&a, 8, 8, &s), LPNAS_OK);
    ck_assert_int_eq(s.params, 217);
    ck_assert_int_eq(s.macs, 9344);
    /* the peer network of shared/peers/peer_torch.py: PyTorch counts 81,569 */
    ck_assert_int_eq(lpnas_arch_preset("unet-peer", &a), LPNAS_OK);
    ck_assert_int_eq(lpnas_arch_stats_compute(&a, 64, 64, &s), LPNAS_OK);
    ck_assert_int_eq(s.params, 81569);
    ck_assert_int_eq(lpnas_arch_preset("paper96k", &a), LPNAS_OK);
    ck_assert_int_eq(lpnas_arch_stats_compute(&a, 64, 64, &s), LPNAS_OK);
    ck_assert(s.params > 90000 && s.params < 100000);
    ck_assert_int_eq(lpnas_arch_stats_compute(&a, 66, 64, &s), LPNAS_ERR_ARG);
}
END_TEST

START_TEST(layer_list_rows)
{
    lpnas_arch a;
    lpnas_arch_parse("in1-c2x1k3-c4x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu6", &a);
    lpnas_layer_list l;
    ck_assert_int_eq(lpnas_arch_layers(&a, 8, 8, &l), LPNAS_OK);
    /* bn (input normalization), conv e1, conv e2 s2, upsample, concat, conv dec, conv head */
    ck_assert_uint_eq(l.count, 7);
    const lpnas_layer_op ops[] = {LPNAS_OP_BN, LPNAS_OP_CONV, LPNAS_OP_CONV, LPNAS_OP_UPSAMPLE_NEAREST,
                                  LPNAS_OP_CONCAT, LPNAS_OP_CONV, LPNAS_OP_CONV};
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(l.layers[i].op, ops[i]);
    ck_assert(l.layers[2].stride == 2 && l.layers[2].in_h == 8 && l.layers[2].out_c == 4);
    ck_assert_int_eq(l.layers[2].act, LPNAS_ACT_RELU6);
    ck_assert(l.layers[4].in_c == 6 && l.layers[4].in_h == 8);
    ck_assert(l.layers[6].act == LPNAS_ACT_NONE && l.layers[6].out_c == 1 && l.layers[6].kernel == 1);
    lpnas_layer_list_free(&l);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("arch");
    TCase *t = lpnas_tcase("arch");
    tcase_add_test(t, round_trips);
    tcase_add_test(t, parse_errors_name_the_position);
    tcase_add_test(t, hand_computed_sizes);
    tcase_add_test(t, layer_list_rows);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
