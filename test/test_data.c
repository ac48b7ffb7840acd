/* Data: the PNG loader on PNGs this test writes with libpng (every colour
 * type, 16-bit, palette with tRNS, interlaced), bad files, folder data sets,
 * splits, channel statistics, the synthetic generator, overlays. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "check_util.h"
#include "lib/png_io.h"
#include "lpnas/data.h"

/* writes a w x h PNG of the given colour type/depth; sample(x, y, c) values */
static void write_png(const char *path, int w, int h, int type, int depth, int interlace)
{
    FILE *f = fopen(path, "wb");
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, depth, type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = {{0, 0, 0}, {10, 20, 30}, {200, 100, 50}, {255, 255, 255}};
        png_set_PLTE(p, info, pal, 4);
        png_byte trans[1] = {128};
        png_set_tRNS(p, info, trans, 1, NULL);
    }
    png_write_info(p, info);
    int ch = type == PNG_COLOR_TYPE_GRAY ? 1 : type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : type == PNG_COLOR_TYPE_RGB ? 3
             : type == PNG_COLOR_TYPE_RGBA ? 4 : 1;
    int bytes = depth == 16 ? 2 : 1;
    png_bytep *rows = malloc((size_t)h * sizeof *rows);
    for (int y = 0; y < h; y++) {
        rows[y] = malloc((size_t)w * ch * bytes);
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                int v = type == PNG_COLOR_TYPE_PALETTE ? (x + y) % 4 : (x * 7 + y * 3 + c * 50) % 256;
                if (bytes == 2) {
                    int v16 = v * 257 + c;
                    rows[y][((size_t)x * ch + c) * 2] = (png_byte)(v16 >> 8);
                    rows[y][((size_t)x * ch + c) * 2 + 1] = (png_byte)v16;
                } else {
                    rows[y][(size_t)x * ch + c] = (png_byte)v;
                }
            }
    }
    png_write_image(p, rows);
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    fclose(f);
    for (int y = 0; y < h; y++)
        free(rows[y]);
    free(rows);
}

START_TEST(png_every_colour_type)
{
    char *dir = lpnas_test_tmpdir(), path[512];
    static const struct { int type, depth, interlace, want_c; } T[] = {
        {PNG_COLOR_TYPE_GRAY, 8, 0, 1},  {PNG_COLOR_TYPE_GRAY, 16, 0, 1}, {PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 1},
        {PNG_COLOR_TYPE_RGB, 8, 0, 3},   {PNG_COLOR_TYPE_RGB, 16, 1, 3},  {PNG_COLOR_TYPE_RGBA, 8, 0, 3},
        {PNG_COLOR_TYPE_PALETTE, 8, 0, 3}, {PNG_COLOR_TYPE_RGB, 8, 1, 3},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        snprintf(path, sizeof path, "%s/t%zu.png", dir, i);
        write_png(path, 13, 7, T[i].type, T[i].depth, T[i].interlace);
        float *px;
        int c, h, w;
        ck_assert_msg(lpnas_png_read(path, &px, &c, &h, &w) == LPNAS_OK, "%zu: %s", i, lpnas_last_error());
        ck_assert(c == T[i].want_c && h == 7 && w == 13);
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 13; x++)
                for (int k = 0; k < c; k++) {
                    float want;
                    if (T[i].type == PNG_COLOR_TYPE_PALETTE) {
                        static const int pal[4][3] = {{0, 0, 0}, {10, 20, 30}, {200, 100, 50}, {255, 255, 255}};
                        want = (float)pal[(x + y) % 4][k];
                    } else {
                        int v = (x * 7 + y * 3 + k * 50) % 256;
                        want = (float)(T[i].depth == 16 ? v * 257 + k : v);
                    }
                    LPNAS_REQUIRE(px[((size_t)k * 7 + y) * 13 + x] == want, "type %zu (%d,%d,%d): %g want %g", i, x, y,
                                  k, (double)px[((size_t)k * 7 + y) * 13 + x], (double)want);
                }
        free(px);
    }
    /* bad files: missing, empty, not a PNG, truncated at many offsets, corrupted data */
    float *px;
    int c, h, w;
    ck_assert_int_eq(lpnas_png_read("/nonexistent.png", &px, &c, &h, &w), LPNAS_ERR_IO);
    snprintf(path, sizeof path, "%s/empty.png", dir);
    fclose(fopen(path, "wb"));
    ck_assert_int_eq(lpnas_png_read(path, &px, &c, &h, &w), LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "empty.png"));
    snprintf(path, sizeof path, "%s/t3.png", dir);
    FILE *f = fopen(path, "rb");
    unsigned char buf[4096];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.png", dir);
    for (size_t cut = 9; cut < len; cut += 11) {
        f = fopen(bad, "wb");
        fwrite(buf, 1, cut, f);
        fclose(f);
        lpnas_status st = lpnas_png_read(bad, &px, &c, &h, &w);
        ck_assert_msg(st == LPNAS_ERR_FORMAT, "cut at %zu: status %d", cut, st);
        ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "bad.png"));
    }
    for (size_t at = 40; at < len - 12; at += 17) { /* flipped bytes in IHDR/IDAT: CRC or zlib errors */
        unsigned char cp[4096];
        memcpy(cp, buf, len);
        cp[at] ^= 0x5A;
        f = fopen(bad, "wb");
        fwrite(cp, 1, len, f);
        fclose(f);
        if (lpnas_png_read(bad, &px, &c, &h, &w) == LPNAS_OK)
            free(px); /* a flip in an ancillary spot may be harmless; never a crash */
    }
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

static void make_folder(const char *dir, int n, int missing_mask_at, int odd_size_at)
{
    char p[512];
    snprintf(p, sizeof p, "%s/images", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/masks", dir);
    mkdir(p, 0700);
    for (int i = 0; i < n; i++) {
        int s = i == odd_size_at ? 9 : 8;
        snprintf(p, sizeof p, "%s/images/t%02d.png", dir, i);
        write_png(p, s, s, PNG_COLOR_TYPE_RGB, 8, 0);
        if (i == missing_mask_at)
            continue;
        snprintf(p, sizeof p, "%s/masks/t%02d.png", dir, i);
        write_png(p, s, s, PNG_COLOR_TYPE_GRAY, 8, 0);
    }
}

START_TEST(folder_data_sets)
{
    char *dir = lpnas_test_tmpdir();
    make_folder(dir, 10, -1, -1);
    lpnas_dataset *d;
    ck_assert_msg(lpnas_dataset_load_png_dir(dir, &d) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert(lpnas_dataset_count(d) == 10 && lpnas_dataset_channels(d) == 3 && lpnas_dataset_height(d) == 8);
    ck_assert_str_eq(lpnas_dataset_name(d, 3), "t03");
    /* mask: nonzero = vessel: pixel (0,0) of the gray ramp is 0, others mostly not */
    ck_assert(lpnas_dataset_mask(d, 0)[0] == 0 && lpnas_dataset_mask(d, 0)[1] == 1);
    /* channel stats against a direct computation */
    int idx[3] = {1, 4, 7};
    float m[3], s[3];
    ck_assert_int_eq(lpnas_dataset_channel_stats(d, idx, 3, m, s), LPNAS_OK);
    double sum = 0, sq = 0;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 64; k++) {
            double v = lpnas_dataset_image(d, idx[i])[64 + k]; /* channel 1 */
            sum += v, sq += v * v;
        }
    double mean = sum / 192;
    ck_assert(fabs(m[1] - mean) < 1e-3 && fabs(s[1] - sqrt(sq / 192 - mean * mean)) < 1e-2);
    /* deterministic, disjoint, complete split */
    int *tr, *va, *tr2, *va2, nt, nv, nt2, nv2;
    ck_assert_int_eq(lpnas_dataset_split(d, 0.3, 7, &tr, &nt, &va, &nv), LPNAS_OK);
    ck_assert_int_eq(lpnas_dataset_split(d, 0.3, 7, &tr2, &nt2, &va2, &nv2), LPNAS_OK);
    ck_assert(nt == 7 && nv == 3 && !memcmp(tr, tr2, 7 * sizeof *tr) && !memcmp(va, va2, 3 * sizeof *va));
    int seen[10] = {0};
    for (int i = 0; i < nt; i++)
        seen[tr[i]]++;
    for (int i = 0; i < nv; i++)
        seen[va[i]]++;
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(seen[i], 1);
    free(tr), free(va), free(tr2), free(va2);
    ck_assert_int_eq(lpnas_dataset_split(d, 1.0, 7, &tr, &nt, &va, &nv), LPNAS_ERR_ARG);
    lpnas_dataset_free(d);
    lpnas_test_rmdir(dir);
    free(dir);
    /* a missing mask, a size mismatch, an empty folder, no folder */
    dir = lpnas_test_tmpdir();
    make_folder(dir, 4, 2, -1);
    ck_assert_int_eq(lpnas_dataset_load_png_dir(dir, &d), LPNAS_ERR_IO);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "t02.png: no mask"));
    lpnas_test_rmdir(dir);
    free(dir);
    dir = lpnas_test_tmpdir();
    make_folder(dir, 4, -1, 3);
    ck_assert_int_eq(lpnas_dataset_load_png_dir(dir, &d), LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "tiles must share one size"));
    lpnas_test_rmdir(dir);
    free(dir);
    dir = lpnas_test_tmpdir();
    make_folder(dir, 0, -1, -1);
    ck_assert_int_eq(lpnas_dataset_load_png_dir(dir, &d), LPNAS_ERR_FORMAT);
    ck_assert_int_eq(lpnas_dataset_load_png_dir("/nonexistent", &d), LPNAS_ERR_IO);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST


static void be32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (24 - 8 * i));
}

/* A PNG of a header (IHDR) claiming w x h RGB and a corrupt body: a
 * 16384x16384 tile costs 61 bytes on disk and 3 GB decoded. */
static void write_header_only_png(const char *path, uint32_t w, uint32_t h)
{
    unsigned char b[64];
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    memcpy(b, sig, 8);
    be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    be32(b + 16, w), be32(b + 20, h);
    b[24] = 8, b[25] = 2, b[26] = 0, b[27] = 0, b[28] = 0;
    be32(b + 29, (uint32_t)crc32(0L, b + 12, 17));
    be32(b + 33, 4); /* an IDAT of 4 bytes that are no zlib stream: the body is corrupt */
    memcpy(b + 37, "IDAT\xde\xad\xbe\xef", 8);
    be32(b + 45, (uint32_t)crc32(0L, b + 37, 8));
    be32(b + 49, 0);
    memcpy(b + 53, "IEND", 4);
    be32(b + 57, 0xAE426082u);
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(b, 1, 61, f) == 61 && fclose(f) == 0);
}

static void tile(const char *dir, const char *name, int w, int h)
{
    char path[1024];
    uint8_t rgb[16 * 16 * 3];
    for (int i = 0; i < w * h * 3; i++)
        rgb[i] = (uint8_t)(i * 7);
    snprintf(path, sizeof path, "%s/images/%s.png", dir, name);
    ck_assert_int_eq(lpnas_png_write_rgb(path, rgb, w, h), LPNAS_OK);
    snprintf(path, sizeof path, "%s/masks/%s.png", dir, name);
    ck_assert_int_eq(lpnas_png_write_rgb(path, rgb, w, h), LPNAS_OK);
}

/* issue 12 items 5 and 14: Sentinel-2 length names load; every header is
 * checked before any tile is decoded, and tiles larger than networks take
 * are refused from their header */
START_TEST(long_names_and_headers_first)
{
    const char *longname = "S2B_MSIL1C_20210714T103629_N0301_R008_T32UMD_20210714T124622_x0512_y1024_vessels";
    char *dir = lpnas_test_tmpdir(), sub[700], path[1024];
    snprintf(sub, sizeof sub, "%s/images", dir);
    mkdir(sub, 0777);
    snprintf(sub, sizeof sub, "%s/masks", dir);
    mkdir(sub, 0777);
    tile(dir, longname, 8, 8);
    tile(dir, "short", 8, 8);
    lpnas_dataset *d;
    ck_assert_msg(lpnas_dataset_load_png_dir(dir, &d) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_int_eq(lpnas_dataset_count(d), 2);
    ck_assert_str_eq(lpnas_dataset_name(d, 0), longname);
    lpnas_dataset_free(d);
    /* a first tile with a good header but a corrupt body, a last one of 16384x16384:
     * the header check names the big one (nothing was decoded) */
    snprintf(path, sizeof path, "%s/images/a-corrupt.png", dir);
    write_header_only_png(path, 8, 8);
    snprintf(path, sizeof path, "%s/masks/a-corrupt.png", dir);
    write_header_only_png(path, 8, 8);
    snprintf(path, sizeof path, "%s/images/z-huge.png", dir);
    write_header_only_png(path, 16384, 16384);
    snprintf(path, sizeof path, "%s/masks/z-huge.png", dir);
    write_header_only_png(path, 16384, 16384);
    ck_assert_int_eq(lpnas_dataset_load_png_dir(dir, &d), LPNAS_ERR_FORMAT);
    ck_assert_msg(strstr(lpnas_last_error(), "z-huge.png: 16384x16384: networks take tiles of at most 8192x8192"),
                  "%s", lpnas_last_error());
    snprintf(path, sizeof path, "%s/images/z-huge.png", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/masks/z-huge.png", dir);
    remove(path);
    ck_assert_int_eq(lpnas_dataset_load_png_dir(dir, &d), LPNAS_ERR_FORMAT); /* now the corrupt body */
    ck_assert_msg(strstr(lpnas_last_error(), "a-corrupt.png: corrupt PNG"), "%s", lpnas_last_error());
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(synthetic_tiles)
{
    lpnas_synth_options o;
    lpnas_synth_options_default(&o);
    o.count = 500;
    lpnas_dataset *a, *b;
    ck_assert_int_eq(lpnas_dataset_synthetic(&o, &a), LPNAS_OK);
    o.count = 20; /* tile i depends only on (seed, i) */
    ck_assert_int_eq(lpnas_dataset_synthetic(&o, &b), LPNAS_OK);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(memcmp(lpnas_dataset_image(a, i), lpnas_dataset_image(b, i), 3 * 64 * 64 * 4), 0);
        ck_assert_int_eq(memcmp(lpnas_dataset_mask(a, i), lpnas_dataset_mask(b, i), 64 * 64), 0);
    }
    long vessel = 0, empty = 0;
    for (int i = 0; i < 500; i++) {
        long v = 0;
        for (int k = 0; k < 64 * 64; k++)
            v += lpnas_dataset_mask(a, i)[k];
        vessel += v;
        empty += v == 0;
        for (int k = 0; k < 3 * 64 * 64; k++)
            LPNAS_REQUIRE(lpnas_dataset_image(a, i)[k] >= 0 && lpnas_dataset_image(a, i)[k] <= 255, "range");
    }
    double frac = vessel / (500.0 * 4096);
    ck_assert_msg(frac > 0.01 && frac < 0.08, "vessel fraction %.4f", frac);
    ck_assert_msg(empty > 60 && empty < 220, "%ld tiles without a vessel", empty); /* vessel_prob 0.75 */
    /* vessel pixels are brighter or darker than the sea around them, on average */
    lpnas_dataset_free(b);
    o.mode = LPNAS_SYNTH_SAR;
    ck_assert_int_eq(lpnas_dataset_synthetic(&o, &b), LPNAS_OK);
    ck_assert_int_eq(lpnas_dataset_channels(b), 1);
    lpnas_dataset_free(b);
    o.seed = 2;
    o.mode = LPNAS_SYNTH_OPTICAL;
    ck_assert_int_eq(lpnas_dataset_synthetic(&o, &b), LPNAS_OK);
    ck_assert(memcmp(lpnas_dataset_image(a, 0), lpnas_dataset_image(b, 0), 3 * 64 * 64 * 4) != 0);
    lpnas_dataset_free(b);
    /* bad options */
    lpnas_synth_options bad = o;
    bad.size = 0;
    ck_assert_int_eq(lpnas_dataset_synthetic(&bad, &b), LPNAS_ERR_ARG);
    bad = o, bad.count = -1;
    ck_assert_int_eq(lpnas_dataset_synthetic(&bad, &b), LPNAS_ERR_ARG);
    bad = o, bad.min_len = 30, bad.max_len = 10;
    ck_assert_int_eq(lpnas_dataset_synthetic(&bad, &b), LPNAS_ERR_ARG);
    bad = o, bad.size = 100000;
    ck_assert_int_eq(lpnas_dataset_synthetic(&bad, &b), LPNAS_ERR_ARG);
    bad = o, bad.vessel_prob = NAN;
    ck_assert_int_eq(lpnas_dataset_synthetic(&bad, &b), LPNAS_ERR_ARG);
    /* an overlay decodes at the expected size */
    char *dir = lpnas_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/o.png", dir);
    const uint8_t *masks[2] = {lpnas_dataset_mask(a, 1), lpnas_dataset_mask(a, 2)};
    ck_assert_int_eq(lpnas_write_overlay_png(path, lpnas_dataset_image(a, 1), 3, 64, 64, 255, masks, 2, 2), LPNAS_OK);
    float *px;
    int c, h, w;
    ck_assert_int_eq(lpnas_png_read(path, &px, &c, &h, &w), LPNAS_OK);
    ck_assert(c == 3 && h == 128 && w == 3 * 128 + 8);
    free(px);
    lpnas_test_rmdir(dir);
    free(dir);
    lpnas_dataset_free(a);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data");
    TCase *t = lpnas_tcase("data");
    tcase_add_test(t, png_every_colour_type);
    tcase_add_test(t, folder_data_sets);
    tcase_add_test(t, synthetic_tiles);
    tcase_add_test(t, long_names_and_headers_first);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
