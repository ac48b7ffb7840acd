/* Training: a tiny net learns the synthetic task; fine-tuning in a policy
 * keeps fp32 master weights and counts skipped steps when forced to
 * overflow; a NaN loss ends training cleanly; model files round trip and
 * reject every corruption. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <sys/stat.h>
#include <zlib.h>

#include "check_util.h"
#include "lib/dataset_internal.h"
#include "lib/train_internal.h"
#include "lpnas.h"

static lpnas_dataset *data;
static int *tr, *va, nt, nv;

static void setup(void)
{
    lpnas_synth_options o;
    lpnas_synth_options_default(&o);
    o.count = 300;
    ck_assert_int_eq(lpnas_dataset_synthetic(&o, &data), LPNAS_OK);
    ck_assert_int_eq(lpnas_dataset_split(data, 0.2, 3, &tr, &nt, &va, &nv), LPNAS_OK);
}

static void teardown(void)
{
    free(tr), free(va);
    lpnas_dataset_free(data);
}

static lpnas_net *tiny(void)
{
    lpnas_arch a;
    lpnas_arch_preset("tiny", &a);
    lpnas_net *net;
    lpnas_net_options o;
    lpnas_net_options_default(&o);
    ck_assert_int_eq(lpnas_net_create(&a, &o, &net), LPNAS_OK);
    float m[3], s[3];
    lpnas_dataset_channel_stats(data, tr, nt, m, s);
    lpnas_net_set_normalization(net, m, s);
    return net;
}

START_TEST(tiny_net_learns)
{
    lpnas_net *net = tiny();
    lpnas_eval_result before, after;
    ck_assert_int_eq(lpnas_evaluate(net, data, va, nv, NULL, &before), LPNAS_OK);
    lpnas_train_options o;
    lpnas_train_options_default(&o);
    o.steps = 150;
    lpnas_train_result r;
    ck_assert_msg(lpnas_train(net, data, tr, nt, &o, &r) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_int_eq(r.steps, 150);
    ck_assert_int_eq(lpnas_evaluate(net, data, va, nv, NULL, &after), LPNAS_OK);
    /* all-background prediction scores about 0.49 (background IoU ~0.97, vessel 0) */
    ck_assert_msg(after.miou > 0.65 && after.vessel_iou > 0.3, "mIoU %.3f (vessel %.3f), before %.3f", after.miou,
                  after.vessel_iou, before.miou);
    /* deterministic: the same seed gives the same weights */
    lpnas_net *again = tiny();
    ck_assert_int_eq(lpnas_train(again, data, tr, nt, &o, &r), LPNAS_OK);
    ck_assert_int_eq(memcmp(lpnas_net_params(net), lpnas_net_params(again), lpnas_net_param_count(net) * 4), 0);
    lpnas_net_free(again);
    lpnas_net_free(net);
}
END_TEST

START_TEST(fine_tuning_in_a_policy)
{
    const lpnas_policy *mx;
    lpnas_policy_get("myriadx", &mx);
    lpnas_net *net = tiny();
    lpnas_train_options o;
    lpnas_train_options_default(&o);
    o.steps = 20;
    o.policy = mx;
    lpnas_train_result r;
    ck_assert_int_eq(lpnas_train(net, data, tr, nt, &o, &r), LPNAS_OK);
    ck_assert(r.skipped_steps == 0 && r.final_scale == 65536.0);
    /* master weights stay fp32: not all of them are binary16 values */
    size_t np = lpnas_net_param_count(net), off16 = 0;
    float *p = lpnas_net_params(net);
    for (size_t i = 0; i < np; i++) {
        float v = p[i];
        lpnas_policy_round_host(mx, &v, 1);
        off16 += v != p[i];
    }
    ck_assert_msg(off16 > np / 2, "only %zu of %zu master weights are off the binary16 grid", off16, np);
    /* forced overflow: an absurd loss scale makes every gradient inf: steps skipped, scale backs off */
    o.scaler.init_scale = o.scaler.max_scale = 1e30f;
    o.steps = 5;
    float *before = malloc(np * 4);
    memcpy(before, p, np * 4);
    ck_assert_int_eq(lpnas_train(net, data, tr, nt, &o, &r), LPNAS_OK);
    ck_assert_int_eq(r.skipped_steps, 5);
    ck_assert(r.final_scale == 1e30f / 32);
    ck_assert_int_eq(memcmp(before, p, np * 4), 0); /* skipped steps change nothing */
    free(before);
    /* a NaN weight: the loss is NaN: training ends with a clear status */
    p[0] = NAN;
    o.policy = NULL;
    ck_assert_int_eq(lpnas_train(net, data, tr, nt, &o, &r), LPNAS_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "step 1"));
    /* bad options */
    p[0] = 0;
    o.batch = 99;
    ck_assert_int_eq(lpnas_train(net, data, tr, nt, &o, &r), LPNAS_ERR_ARG);
    o.batch = 16, o.lr = -1;
    ck_assert_int_eq(lpnas_train(net, data, tr, nt, &o, &r), LPNAS_ERR_ARG);
    lpnas_net_free(net);
}
END_TEST

START_TEST(model_files)
{
    lpnas_net *net = tiny();
    lpnas_train_options o;
    lpnas_train_options_default(&o);
    o.steps = 5;
    lpnas_train_result r;
    lpnas_train(net, data, tr, nt, &o, &r);
    char *dir = lpnas_test_tmpdir(), path[512], bad[512];
    snprintf(path, sizeof path, "%s/m.lpm", dir);
    snprintf(bad, sizeof bad, "%s/bad.lpm", dir);
    ck_assert_int_eq(lpnas_model_save(net, "myriadx", path), LPNAS_OK);
    lpnas_net *back;
    char pol[32];
    ck_assert_msg(lpnas_model_load(path, 4, &back, pol, sizeof pol) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_str_eq(pol, "myriadx");
    const lpnas_policy *mx;
    lpnas_policy_get("myriadx", &mx);
    const float *y1, *y2;
    float *keep = malloc(4 * 64 * 64 * 4);
    ck_assert_int_eq(lpnas_net_infer(net, lpnas_dataset_image(data, 0), 1, mx, &y1), LPNAS_OK);
    memcpy(keep, y1, 64 * 64 * 4);
    ck_assert_int_eq(lpnas_net_infer(back, lpnas_dataset_image(data, 0), 1, mx, &y2), LPNAS_OK);
    ck_assert_int_eq(memcmp(keep, y2, 64 * 64 * 4), 0);
    free(keep);
    lpnas_net_free(back);
    /* corruption */
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)len);
    ck_assert_int_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    for (long cut = 0; cut < len; cut += len / 23 + 1) {
        f = fopen(bad, "wb");
        fwrite(buf, 1, (size_t)cut, f);
        fclose(f);
        lpnas_status st = lpnas_model_load(bad, 1, &back, NULL, 0);
        ck_assert_msg(st == LPNAS_ERR_CORRUPT || st == LPNAS_ERR_FORMAT, "cut %ld: %d", cut, st);
        ck_assert_ptr_null(back);
    }
    for (long at = 24; at < len; at += len / 19 + 1) {
        buf[at] ^= 0x24;
        f = fopen(bad, "wb");
        fwrite(buf, 1, (size_t)len, f);
        fclose(f);
        ck_assert_int_eq(lpnas_model_load(bad, 1, &back, NULL, 0), LPNAS_ERR_CORRUPT);
        buf[at] ^= 0x24;
    }
    buf[0] = 'X';
    f = fopen(bad, "wb");
    fwrite(buf, 1, (size_t)len, f);
    fclose(f);
    ck_assert_int_eq(lpnas_model_load(bad, 1, &back, NULL, 0), LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "bad magic"));
    buf[0] = 'L', buf[8] = 9;
    f = fopen(bad, "wb");
    fwrite(buf, 1, (size_t)len, f);
    fclose(f);
    ck_assert_int_eq(lpnas_model_load(bad, 1, &back, NULL, 0), LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "version 9"));
    ck_assert_int_eq(lpnas_model_load("/nonexistent.lpm", 1, &back, NULL, 0), LPNAS_ERR_IO);
    free(buf);
    lpnas_net_free(net);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* Augmentation of non-square tiles (issue 12 item 4): every transform the
 * trainer may pick, against an independent index formula; 8x16 and 16x8. */
START_TEST(non_square_augmentation)
{
    for (int shape = 0; shape < 2; shape++) {
        int H = shape ? 16 : 8, W = shape ? 8 : 16, C = 2;
        lpnas_dataset *d;
        ck_assert_int_eq(lpnas_dataset_alloc(2, C, H, W, &d), LPNAS_OK);
        for (size_t k = 0; k < (size_t)2 * C * H * W; k++)
            d->images[k] = (float)k;
        for (size_t k = 0; k < (size_t)2 * H * W; k++)
            d->masks[k] = (uint8_t)(k % 251);
        float *img = malloc((size_t)C * H * W * sizeof *img);
        uint8_t *msk = malloc((size_t)H * W);
        for (int xf = 0; xf < 8; xf++) {
            lpnas_train_put_tile(d, 0, xf, img, msk);
            int e = xf & 6; /* non-square: flips and the half turn only */
            bool mirror = (e >> 2) & 1, half = (e & 3) == 2;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int sx = mirror ? W - 1 - x : x, sy = y;
                    if (half)
                        sx = W - 1 - sx, sy = H - 1 - sy;
                    LPNAS_REQUIRE(msk[y * W + x] == d->masks[sy * W + sx], "%dx%d xf %d: mask (%d,%d)", W, H, xf, x, y);
                    for (int c = 0; c < C; c++)
                        LPNAS_REQUIRE(img[(c * H + y) * W + x] == d->images[(c * H + sy) * W + sx],
                                      "%dx%d xf %d: image (%d,%d,%d) is %g", W, H, xf, c, x, y,
                                      (double)img[(c * H + y) * W + x]);
                }
        }
        free(img), free(msk);
        lpnas_dataset_free(d);
    }
}
END_TEST

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes a model file around a payload, with a valid header and CRC. */
static void write_model_v(const char *path, const unsigned char *payload, uLong plen, uint32_t version)
{
    uLongf clen = compressBound(plen);
    unsigned char *z = malloc(clen), hdr[24];
    ck_assert(compress2(z, &clen, payload, plen, 6) == Z_OK);
    memcpy(hdr, "LPNASMDL", 8);
    le32(hdr + 8, version), le32(hdr + 12, (uint32_t)plen), le32(hdr + 16, (uint32_t)clen);
    le32(hdr + 20, (uint32_t)crc32(0L, payload, (uInt)plen));
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(hdr, 1, 24, f) == 24 && fwrite(z, 1, clen, f) == clen && fclose(f) == 0);
    free(z);
}

/* Files as lpnas_model_save writes them today (version 2). */
static void write_model(const char *path, const unsigned char *payload, uLong plen)
{
    write_model_v(path, payload, plen, 2);
}

/* Model files whose header sizes lie (issue 12 item 14): refused before
 * the network for the claimed tile size is built or a payload allocated. */
START_TEST(model_file_sizes_checked)
{
    char *dir = lpnas_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/m.lpm", dir);
    lpnas_arch a;
    ck_assert_int_eq(lpnas_arch_parse("in1-c2x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu", &a), LPNAS_OK);
    lpnas_net_options no = {1, 8, 8, 1};
    lpnas_net *net;
    ck_assert_int_eq(lpnas_net_create(&a, &no, &net), LPNAS_OK);
    ck_assert_int_eq(lpnas_model_save(net, "fp32", path), LPNAS_OK);
    lpnas_net_free(net);
    FILE *f = fopen(path, "rb");
    unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uLongf plen = (uLongf)(buf[12] | buf[13] << 8 | buf[14] << 16 | (uLong)buf[15] << 24);
    unsigned char *payload = malloc(plen);
    ck_assert(uncompress(payload, &plen, buf + 24, (uLong)(n - 24)) == Z_OK);
    /* str arch | str policy | u32 C | C mean | C std | u32 h | u32 w */
    size_t at = 0;
    at += 4 + (payload[at] | payload[at + 1] << 8);
    at += 4 + (payload[at] | payload[at + 1] << 8);
    uint32_t C = payload[at];
    at += 4 + 8 * C;
    ck_assert(payload[at] == 8 && payload[at + 4] == 8);
    le32(payload + at, 8192), le32(payload + at + 4, 8192); /* the 4.5 GB request of the issue */
    write_model(path, payload, plen);
    ck_assert_int_eq(lpnas_model_load(path, 16, &net, NULL, 0), LPNAS_ERR_CORRUPT);
    ck_assert_msg(strstr(lpnas_last_error(), "activations"), "%s", lpnas_last_error());
    le32(payload + at, 8), le32(payload + at + 4, 8);
    write_model(path, payload, plen - 4); /* a parameter short: checked before building */
    ck_assert_int_eq(lpnas_model_load(path, 1, &net, NULL, 0), LPNAS_ERR_CORRUPT);
    write_model(path, payload, plen);
    ck_assert_msg(lpnas_model_load(path, 1, &net, NULL, 0) == LPNAS_OK, "%s", lpnas_last_error());
    lpnas_net_free(net);
    /* version 1 (before the calibration section: the payload without its
     * u32 K = 0 and u64 W = 0) still loads; with the section it does not
     * (trailing bytes), and version 2 without it is truncated */
    ck_assert(plen > 12 && !memcmp(payload + plen - 12, "\0\0\0\0\0\0\0\0\0\0\0\0", 12));
    write_model_v(path, payload, plen - 12, 1);
    ck_assert_msg(lpnas_model_load(path, 1, &net, NULL, 0) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert(!lpnas_net_is_calibrated(net));
    lpnas_net_free(net);
    write_model_v(path, payload, plen, 1);
    ck_assert_int_eq(lpnas_model_load(path, 1, &net, NULL, 0), LPNAS_ERR_CORRUPT);
    write_model(path, payload, plen - 12);
    ck_assert_int_eq(lpnas_model_load(path, 1, &net, NULL, 0), LPNAS_ERR_CORRUPT);
    write_model(path, payload, plen);
    /* a header claiming 256 MB behind a few compressed bytes, or more bytes than the file has */
    f = fopen(path, "rb+");
    unsigned char big[4];
    le32(big, 255u << 20);
    fseek(f, 12, SEEK_SET);
    fwrite(big, 1, 4, f);
    fclose(f);
    ck_assert_int_eq(lpnas_model_load(path, 1, &net, NULL, 0), LPNAS_ERR_CORRUPT);
    ck_assert_msg(strstr(lpnas_last_error(), "cannot come from"), "%s", lpnas_last_error());
    f = fopen(path, "rb+");
    fseek(f, 16, SEEK_SET);
    fwrite(big, 1, 4, f);
    fclose(f);
    ck_assert_int_eq(lpnas_model_load(path, 1, &net, NULL, 0), LPNAS_ERR_CORRUPT);
    ck_assert_msg(strstr(lpnas_last_error(), "the file holds"), "%s", lpnas_last_error());
    free(payload);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* A folder of n gray w x h tiles (SAR-like) with masks. */
static void gray_folder(const char *dir, int n, int w, int h)
{
    char path[700];
    const char *sub[] = {"images", "masks"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, sub[k]);
        mkdir(path, 0777);
        for (int i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/%s/t%02d.png", dir, sub[k], i);
            FILE *f = fopen(path, "wb");
            png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
            png_infop info = png_create_info_struct(p);
            png_init_io(p, f);
            png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                         PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
            png_write_info(p, info);
            unsigned char row[64];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++)
                    row[x] = (unsigned char)(k ? ((x + y + i) % 7 == 0) * 255 : (x * 13 + y * 7 + i * 31) % 256);
                png_write_row(p, row);
            }
            png_write_end(p, NULL);
            png_destroy_write_struct(&p, &info);
            fclose(f);
        }
    }
}

/* issue 12 item 12: the default preset takes the data's channels (gray SAR tiles) */
START_TEST(train_segmenter_gray_data)
{
    char *dir = lpnas_test_tmpdir(), args[1024], last[1024];
    gray_folder(dir, 10, 16, 16);
    snprintf(args, sizeof args, "--data %s --preset tiny --warmup-steps 2 --finetune-steps 1 --batch 2", dir);
    ck_assert_int_eq(lpnas_test_program_last_line("train_segmenter", args, last, sizeof last), 0);
    ck_assert_msg(strstr(last, "miou_aligned="), "%s", last);
    snprintf(args, sizeof args, "--data %s --warmup-steps 1 --finetune-steps 0 --batch 2", dir); /* paper96k */
    ck_assert_int_eq(lpnas_test_program_last_line("train_segmenter", args, last, sizeof last), 0);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(train_segmenter_program)
{
    char last[512];
    ck_assert_int_eq(lpnas_test_program_last_line("train_segmenter",
                                                  "--preset tiny --tiles 40 --warmup-steps 4 --finetune-steps 2 --batch 4",
                                                  last, sizeof last),
                     0);
    double f, ph, al, v;
    long params, skipped;
    ck_assert_msg(sscanf(last, "miou_fp32=%lf miou_posthoc=%lf miou_aligned=%lf vessel_iou_aligned=%lf params=%ld "
                               "skipped_steps=%ld", &f, &ph, &al, &v, &params, &skipped) == 6,
                  "last line '%s'", last);
    ck_assert(params == 3169 && f >= 0 && f <= 1);
    static const lpnas_program_case RUNS[] = {
        {"--help", 0},         {"--bogus", 2},          {"--preset nope", 2},
        {"--policy fp64", 2},  {"--batch 0", 2},        {"--arch in3", 2},
        {"--arch x --preset tiny", 2}, {"--data /nonexistent --warmup-steps 1", 1},
        {"--preset tiny --lr -3", 2},
    };
    lpnas_test_program_statuses("train_segmenter", RUNS, sizeof RUNS / sizeof RUNS[0]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("train");
    TCase *t = lpnas_tcase("train");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, tiny_net_learns);
    tcase_add_test(t, fine_tuning_in_a_policy);
    tcase_add_test(t, model_files);
    tcase_add_test(t, train_segmenter_program);
    tcase_add_test(t, non_square_augmentation);
    tcase_add_test(t, train_segmenter_gray_data);
    tcase_add_test(t, model_file_sizes_checked);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
