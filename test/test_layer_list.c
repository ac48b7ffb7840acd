/* Layer lists: parsing good files, every kind of bad line (with line and
 * column), round trips through text and files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "lpnas/layers.h"

static const char GOOD[] =
    "# lpnas layer list v1\n"
    "# a comment\n"
    "op,in_h,in_w,in_c,out_c,kernel,stride,groups,act\n"
    "conv,224,224,3,64,7,2,1,relu\n"
    "\n"
    "maxpool,112,112,64,64,3,2,1,none\n"
    "add,56,56,64,64,1,1,1,relu\r\n"
    "conv,56,56,64,64,3,1,64,relu6,2\n";

START_TEST(parses_good_file)
{
    lpnas_layer_list l;
    ck_assert_int_eq(lpnas_layer_list_parse(&l, GOOD, "good.csv"), LPNAS_OK);
    ck_assert_uint_eq(l.count, 4);
    ck_assert_int_eq(l.layers[0].op, LPNAS_OP_CONV);
    ck_assert(l.layers[0].in_h == 224 && l.layers[0].out_c == 64 && l.layers[0].kernel == 7 && l.layers[0].stride == 2);
    ck_assert_int_eq(l.layers[0].act, LPNAS_ACT_RELU);
    ck_assert_int_eq(l.layers[0].dilation, 1);
    ck_assert_int_eq(l.layers[2].op, LPNAS_OP_ADD);
    ck_assert_int_eq(l.layers[3].groups, 64);
    ck_assert_int_eq(l.layers[3].dilation, 2);
    ck_assert_int_eq(l.layers[3].act, LPNAS_ACT_RELU6);
    int oh, ow;
    lpnas_layer_out_hw(&l.layers[0], &oh, &ow);
    ck_assert(oh == 112 && ow == 112);
    /* text round trip: format, parse, format again: identical */
    char *t1, *t2;
    ck_assert_int_eq(lpnas_layer_list_format(&l, &t1), LPNAS_OK);
    lpnas_layer_list l2;
    ck_assert_int_eq(lpnas_layer_list_parse(&l2, t1, "t1"), LPNAS_OK);
    ck_assert_int_eq(memcmp(l.layers, l2.layers, l.count * sizeof *l.layers), 0);
    ck_assert_int_eq(lpnas_layer_list_format(&l2, &t2), LPNAS_OK);
    ck_assert_str_eq(t1, t2);
    /* file round trip */
    char *dir = lpnas_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/l.csv", dir);
    ck_assert_int_eq(lpnas_layer_list_save(&l, path), LPNAS_OK);
    lpnas_layer_list l3;
    ck_assert_int_eq(lpnas_layer_list_load(&l3, path), LPNAS_OK);
    ck_assert_int_eq(memcmp(l.layers, l3.layers, l.count * sizeof *l.layers), 0);
    lpnas_layer_list_free(&l3);
    lpnas_test_rmdir(dir);
    free(dir);
    free(t1), free(t2);
    lpnas_layer_list_free(&l);
    lpnas_layer_list_free(&l2);
}
END_TEST

/* each bad row: the line, the message fragment, the column expected */
static const struct {
    const char *row, *what;
    int col;
} BAD[] = {
    {"convv,1,1,1,1,1,1,1,none", "unknown value 'convv'", 1},
    {"conv,1,1,1,1,1,1,1,gelu", "unknown value 'gelu'", 20},
    {"conv,1,x,1,1,1,1,1,none", "field in_w: 'x' is not an integer", 8},
    {"conv,1,1,1,1,1,1,1", "expected ',' after field groups", 19},
    {"conv,1,1,1,1,1,1,1,none,1,5", "too many fields", 26},
    {"conv,1,,1,1,1,1,1,none", "field in_w: expected an integer, found nothing", 8},
    {"conv,0,1,1,1,1,1,1,none", "in_h = 0", 1},
    {"conv,8,8,6,4,3,1,4,none", "groups 4 must divide", 1},
    {"conv,8,8,4,4,3,0,1,none", "stride = 0", 1},
    {"add,8,8,4,5,1,1,1,none", "in_c 4 and out_c 5 must be equal", 1},
    {"conv,8,8,4,4,3,1,1,none junk", "unknown value 'none junk'", 20},
    {"conv,99999999999,1,1,1,1,1,1,none", "not an integer", 6},
    {"conv,8,8,4,4,3,1,1,none,0", "dilation = 0", 1},
    {"detection_output,1917,1,91,100,3,1,1,none", "detection_output: in_w 1, kernel 3", 1},
    {"detection_output,1917,2,91,100,1,1,1,none", "must all be 1", 1},
};

START_TEST(reports_bad_lines)
{
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "# lpnas layer list v1\nop,in_h,in_w,in_c,out_c,kernel,stride,groups,act\n"
                                    "conv,8,8,4,4,3,1,1,none\n%s\n", BAD[i].row);
        lpnas_layer_list l;
        ck_assert_int_eq(lpnas_layer_list_parse(&l, text, "bad.csv"), LPNAS_ERR_FORMAT);
        char where[64];
        snprintf(where, sizeof where, "bad.csv:4:%d:", BAD[i].col);
        ck_assert_msg(strstr(lpnas_last_error(), where) && strstr(lpnas_last_error(), BAD[i].what),
                      "row '%s': message '%s', wanted '%s' and '%s'", BAD[i].row, lpnas_last_error(), where, BAD[i].what);
        ck_assert_ptr_null(l.layers);
    }
    lpnas_layer_list l;
    ck_assert_int_eq(lpnas_layer_list_parse(&l, "conv,1,1,1,1,1,1,1,none\n", "nohdr"), LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "nohdr:1:1: expected the header"));
    ck_assert_int_eq(lpnas_layer_list_parse(&l, "# only comments\n", "empty"), LPNAS_ERR_FORMAT);
    ck_assert_int_eq(lpnas_layer_list_parse(&l, "op,in_h,in_w,in_c,out_c,kernel,stride,groups,act\n", "nolayers"),
                     LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "no layers"));
    ck_assert_int_eq(lpnas_layer_list_load(&l, "/nonexistent/x.csv"), LPNAS_ERR_IO);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "/nonexistent/x.csv"));
    /* a binary file */
    char *dir = lpnas_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/bin.csv", dir);
    FILE *f = fopen(path, "wb");
    fwrite("op\0\1\2", 1, 5, f);
    fclose(f);
    ck_assert_int_eq(lpnas_layer_list_load(&l, path), LPNAS_ERR_FORMAT);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(reference_networks_load)
{
    /* the reference networks and the latency test lists (tools/latency_nets.py) */
    const char *files[] = {"examples/latency/resnet18_224.csv", "examples/latency/deeplabv3_mnv2_256.csv",
                           "test/data/latency/ssd_mobilenet_v2_300.csv", "test/data/latency/squeezenet1_1_227.csv"};
    size_t counts[] = {31, 69, 100, 38};
    for (int i = 0; i < 4; i++) {
        lpnas_layer_list l;
        ck_assert_msg(lpnas_layer_list_load(&l, files[i]) == LPNAS_OK, "%s", lpnas_last_error());
        ck_assert_uint_eq(l.count, counts[i]);
        lpnas_layer_list_free(&l);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("layer_list");
    TCase *t = lpnas_tcase("layer_list");
    tcase_add_test(t, parses_good_file);
    tcase_add_test(t, reports_bad_lines);
    tcase_add_test(t, reference_networks_load);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
