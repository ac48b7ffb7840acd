/* Scene-wise splits (lib/dataset_split.c) on a folder of 16-bit RGB tiles
 * this test writes with a manifest.csv (quoted fields with commas, as the
 * sen2ships manifests have): no scene on both sides, the split line, the
 * value range of 16-bit data end to end (loader, summary, train_segmenter
 * with --input-norm none and the FP32 control, vessel_search with --val,
 * --test and a narrowed space); a manifest without a
 * scene column falls back to a tile split; a manifest missing a tile or
 * with a short row is an error naming the file. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_util.h"
#include "lpnas.h"

#define N 24
#define S 16
static const char *PORTS[] = {"algiers", "athens", "busan", "genoa", "klang", "hedland"};
static char *dir;

/* tile t: 16-bit RGB, values spanning 0..65535 (tile 0 holds both ends) */
static void write_tile(const char *path, int t, bool mask)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    png_init_io(p, f);
    png_set_IHDR(p, info, S, S, mask ? 8 : 16, mask ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    png_byte row[S * 3 * 2];
    for (int y = 0; y < S; y++) {
        for (int x = 0; x < S; x++) {
            if (mask) {
                row[x] = (png_byte)((x > 5 && x < 9 && y > 4 && y < 8) ? 255 : 0);
                continue;
            }
            for (int c = 0; c < 3; c++) {
                unsigned v = (unsigned)((x * 4099 + y * 1021 + c * 333 + t * 77) % 65536);
                if (t == 0 && x == 0 && y == 0)
                    v = 0;
                if (t == 0 && x == S - 1 && y == S - 1)
                    v = 65535;
                row[(x * 3 + c) * 2] = (png_byte)(v >> 8), row[(x * 3 + c) * 2 + 1] = (png_byte)v;
            }
        }
        png_write_row(p, row);
    }
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    fclose(f);
}

static void write_manifest(const char *column, int rows)
{
    char path[600];
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "idx,source_path,%s,y0\n", column);
    for (int t = 0; t < rows; t++)
        fprintf(f, "%04d,\"a/*_{B04,B03,B02}.tiff + \"\"x\"\"\",%s,%d\n", t, PORTS[t % 6], t * 64);
    fclose(f);
}

static void setup(void)
{
    dir = lpnas_test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/images", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/masks", dir);
    mkdir(path, 0777);
    for (int t = 0; t < N; t++) {
        snprintf(path, sizeof path, "%s/images/%04d.png", dir, t);
        write_tile(path, t, false);
        snprintf(path, sizeof path, "%s/masks/%04d.png", dir, t);
        write_tile(path, t, true);
    }
}

static void teardown(void)
{
    lpnas_test_rmdir(dir);
    free(dir);
}

START_TEST(scenes_never_straddle)
{
    write_manifest("port", N);
    lpnas_dataset *d;
    ck_assert_msg(lpnas_dataset_load_png_dir(dir, &d) == LPNAS_OK, "%s", lpnas_last_error());
    float lo, hi;
    int all[N];
    for (int i = 0; i < N; i++)
        all[i] = i;
    ck_assert_int_eq(lpnas_dataset_value_range(d, all, N, &lo, &hi), LPNAS_OK);
    ck_assert(lo == 0 && hi == 65535); /* 16-bit values keep their scale */
    for (uint64_t seed = 1; seed <= 6; seed++) {
        int *tr, *va, nt, nv;
        char how[600];
        ck_assert_int_eq(lpnas_dataset_split_scenes(d, dir, 0.3, seed, &tr, &nt, &va, &nv, how, sizeof how), LPNAS_OK);
        ck_assert_int_eq(nt + nv, N);
        ck_assert_msg(nv >= 4 && nv <= 12, "seed %d: %d validation tiles for a target of 7.2", (int)seed, nv);
        ck_assert_ptr_nonnull(strstr(how, "scene-wise split by manifest column 'port'"));
        bool inval[6] = {false}, intr[6] = {false};
        for (int i = 0; i < nv; i++)
            inval[va[i] % 6] = true;
        for (int i = 0; i < nt; i++)
            intr[tr[i] % 6] = true;
        for (int s = 0; s < 6; s++) {
            ck_assert_msg(!(inval[s] && intr[s]), "seed %d: %s on both sides (%s)", (int)seed, PORTS[s], how);
            if (inval[s])
                ck_assert_ptr_nonnull(strstr(how, PORTS[s]));
        }
        free(tr), free(va);
    }
    /* a manifest with no scene column: a tile split, and the line says so */
    write_manifest("harbour", N);
    int *tr, *va, nt, nv;
    char how[600];
    ck_assert_int_eq(lpnas_dataset_split_scenes(d, dir, 0.25, 1, &tr, &nt, &va, &nv, how, sizeof how), LPNAS_OK);
    ck_assert_int_eq(nv, 6);
    ck_assert_ptr_nonnull(strstr(how, "random tile split"));
    free(tr), free(va);
    ck_assert_int_eq(lpnas_dataset_split_scenes(d, NULL, 0.25, 1, &tr, &nt, &va, &nv, NULL, 0), LPNAS_OK);
    free(tr), free(va);
    /* a manifest missing a tile */
    write_manifest("source_image", N - 1);
    ck_assert_int_eq(lpnas_dataset_split_scenes(d, dir, 0.25, 1, &tr, &nt, &va, &nv, how, sizeof how),
                     LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "manifest.csv"));
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "0023"));
    /* a short row */
    char path[600];
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "idx,x,port\n0000,1,algiers\n0001\n");
    fclose(f);
    ck_assert_int_eq(lpnas_dataset_split_scenes(d, dir, 0.25, 1, &tr, &nt, &va, &nv, how, sizeof how),
                     LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "row 3"));
    ck_assert_int_eq(lpnas_dataset_split_scenes(d, dir, 0, 1, &tr, &nt, &va, &nv, how, sizeof how), LPNAS_ERR_ARG);
    lpnas_dataset_free(d);
}
END_TEST

START_TEST(train_segmenter_on_16_bit_raw_values)
{
    write_manifest("port", N);
    char args[1200], last[512];
    snprintf(args, sizeof args,
             "--preset tiny --data %s --input-norm none --policy myriadx --warmup-steps 3 --finetune-steps 2 "
             "--batch 4 --control --overlay %s/o.png",
             dir, dir);
    ck_assert_int_eq(lpnas_test_program_last_line("train_segmenter", args, last, sizeof last), 0);
    double f, ph, al, v, c32, c;
    long params, skipped;
    ck_assert_msg(sscanf(last,
                         "miou_fp32=%lf miou_posthoc=%lf miou_aligned=%lf vessel_iou_aligned=%lf params=%ld "
                         "skipped_steps=%ld miou_control_fp32=%lf miou_control=%lf",
                         &f, &ph, &al, &v, &params, &skipped, &c32, &c) == 8,
                  "last line: %s", last);
    ck_assert(f >= 0 && f <= 1 && c >= 0 && c <= 1);
    char png[700];
    snprintf(png, sizeof png, "%s/o.png", dir);
    struct stat sb;
    ck_assert_int_eq(stat(png, &sb), 0);
    static const lpnas_program_case bad[] = {
        {"--input-norm bogus", 2}, {"--input-norm", 2}, {"--raw-inputs --tiles 1", 2}};
    lpnas_test_program_statuses("train_segmenter", bad, sizeof bad / sizeof bad[0]);
}
END_TEST

/* vessel_search on the same folder: --val, --test, --input-norm none and a
 * narrowed space; the held-out judgement lands in stdout, pareto.csv and report.md. */
START_TEST(vessel_search_held_out)
{
    write_manifest("port", N);
    char args[1600], last[512];
    snprintf(args, sizeof args,
             "--data %s --val %s --test %s --input-norm none --evaluations 2 --population 2 --warmup-steps 2 "
             "--finetune-steps 1 --max-stages 2 --max-width 16 --workers 1 --out %s/s",
             dir, dir, dir, dir);
    ck_assert_int_eq(lpnas_test_program_last_line("vessel_search", args, last, sizeof last), 0);
    ck_assert_msg(strncmp(last, "test mIoU aligned", 17) == 0, "last line: %s", last);
    char path[700], line[4096];
    snprintf(path, sizeof path, "%s/s/pareto.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(strstr(line, ",test_miou_fp32,test_miou_posthoc,test_miou_aligned"));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* at least one candidate on the front, judged */
    fclose(f);
    snprintf(path, sizeof path, "%s/s/report.md", dir);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    bool section = false;
    while (fgets(line, sizeof line, f))
        section |= strstr(line, "## Held-out test tiles") != NULL;
    fclose(f);
    ck_assert(section);
    static const lpnas_program_case bad[] = {{"--input-norm raw", 2},
                                             {"--max-width 4", 2},
                                             {"--max-stages 9", 2},
                                             {"--val /nonexistent --tiles 16", 1},
                                             {"--test /nonexistent --tiles 16", 1}};
    lpnas_test_program_statuses("vessel_search", bad, sizeof bad / sizeof bad[0]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dataset_split");
    TCase *t = lpnas_tcase("dataset_split");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, scenes_never_straddle);
    tcase_add_test(t, train_segmenter_on_16_bit_raw_values);
    tcase_add_test(t, vessel_search_held_out);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
