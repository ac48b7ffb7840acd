/* QDQ ONNX export of integer-policy networks, judged by ONNX Runtime
 * (tools/ort_run.js): the presets, four extra architectures and random
 * genomes of the search space (24 networks) on real tiles (synthetic where
 * ../shared/data/sen2ships is absent), calibrated in int8-ort. Every model
 * must load and run, and the runtime's int8 output codes must EQUAL
 * lpnas_net_infer's, every code of every network: int8-ort follows the
 * runtime's own arithmetic kernel by kernel (docs/numerics.md "QDQ export
 * and ONNX Runtime"): QLinearConv's MlasRequantizeOutput, QLinearAdd's
 * MLAS AVX2 kernel on uint8 codes, QLinearConcat's table, the float NHWC
 * bilinear Resize between DequantizeLinear and QuantizeLinear, and the
 * export writes uint8 activations so that no QDQ pair is left unfused by
 * the runtime's int8 -> uint8 conversion. Skipped with a message when ONNX
 * Runtime is not installed (tools/install_ort.sh), a failure under CI=true. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/rng.h"
#include "check_util.h"
#include "lpnas.h"
#include "nas/space.h"

#define TILES 4
#define RANDOM_GENOMES 16
#define MAX_MODELS 32

static const char *extra_archs[] = {
    "in3-c8x1k3-c16x1k5/down=pool,up=deconv,skip=add,dec=1,act=relu6",
    "in3-c8x1k3-s16x1k3-r16x2k3e2/down=pool,up=bilinear,skip=concat,dec=2,act=relu",
    "in3-c12x2k3-c16x1k3/down=conv,up=bilinear,skip=none,dec=1,act=relu6",
    "in3-r8x1k3e1-c16x1k1/down=conv,up=deconv,skip=concat,dec=1,act=relu",
};

static char *tmp;

static bool in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && !strcmp(ci, "true");
}

static void write_f32(const char *path, const float *x, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f && fwrite(x, 4, n, f) == n && fclose(f) == 0, "%s: cannot write", path);
}

static float *read_f32(const char *path, size_t n)
{
    float *x = malloc(n * 4);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(x && f, "%s: cannot open", path);
    ck_assert_msg(fread(x, 4, n, f) == n, "%s: fewer than %zu floats", path, n);
    fclose(f);
    return x;
}

typedef struct {
    char arch[512];
    int8_t *codes;
    float s;
    int32_t zp;
    size_t n;
} model;

static void build(model *m, int id, const lpnas_arch *a, const lpnas_dataset *d, const int *tr, const float *images,
                  const lpnas_policy *pol, FILE *list)
{
    lpnas_net_options o = {TILES, 64, 64, (uint64_t)id + 1};
    lpnas_net *net;
    ck_assert_int_eq(lpnas_net_create(a, &o, &net), LPNAS_OK);
    lpnas_arch_format(a, m->arch, sizeof m->arch);
    size_t per = 3 * 64 * 64;
    float *x = malloc(TILES * per * 4);
    for (int t = 0; t < TILES; t++)
        memcpy(x + t * per, lpnas_dataset_image(d, tr[t]), per * 4);
    float mean[16] = {90, 90, 90}, sd[16] = {40, 40, 40};
    lpnas_net_set_normalization(net, mean, sd);
    const float *y;
    for (int k = 0; k < 2; k++) /* BN running statistics away from their initial values */
        ck_assert_int_eq(lpnas_net_forward(net, x, TILES, true, NULL, &y), LPNAS_OK);
    ck_assert_int_eq(lpnas_net_calibrate(net, x, TILES, pol, NULL), LPNAS_OK);
    ck_assert_int_eq(lpnas_net_infer(net, images, TILES, pol, &y), LPNAS_OK);
    const int8_t *c;
    ck_assert_int_eq(lpnas_net_int_output(net, &c, &m->s, &m->zp), LPNAS_OK);
    m->n = (size_t)TILES * 64 * 64;
    m->codes = malloc(m->n);
    memcpy(m->codes, c, m->n);
    char path[4200];
    snprintf(path, sizeof path, "%s/q%d.onnx", tmp, id);
    lpnas_onnx_options eo;
    lpnas_onnx_options_default(&eo);
    eo.policy = pol;
    ck_assert_msg(lpnas_model_export_onnx(net, &eo, path) == LPNAS_OK, "%s: %s", m->arch, lpnas_last_error());
    fprintf(list, "%s %s/tiles.f32 %d 3 64 64 %s/q%d\n", path, tmp, TILES, tmp, id);
    free(x);
    lpnas_net_free(net);
}

START_TEST(qdq_models_match_onnx_runtime)
{
    const char *dir = getenv("LPNAS_SEN2SHIPS");
    if (!dir)
        dir = "../shared/data/sen2ships";
    lpnas_dataset *d = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0 || lpnas_dataset_load_png_dir(dir, &d) != LPNAS_OK) {
        lpnas_synth_options so;
        lpnas_synth_options_default(&so);
        so.count = 64;
        ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
        printf("real tiles not found at %s: synthetic tiles\n", dir);
    }
    int *tr, *va, nt, nv;
    ck_assert_int_eq(lpnas_dataset_split(d, 0.25, 7, &tr, &nt, &va, &nv), LPNAS_OK);
    size_t per = 3 * 64 * 64;
    float *images = malloc(TILES * per * 4);
    for (int t = 0; t < TILES; t++)
        memcpy(images + t * per, lpnas_dataset_image(d, va[t]), per * 4);
    char path[4200], cmd[9000];
    snprintf(path, sizeof path, "%s/tiles.f32", tmp);
    write_f32(path, images, TILES * per);
    const lpnas_policy *pol;
    ck_assert_int_eq(lpnas_policy_get("int8-ort", &pol), LPNAS_OK);
    static model ms[MAX_MODELS];
    int count = 0;
    snprintf(path, sizeof path, "%s/ort.list", tmp);
    FILE *list = fopen(path, "w");
    lpnas_arch a;
    for (size_t i = 0; lpnas_arch_preset_name(i); i++) {
        ck_assert_int_eq(lpnas_arch_preset(lpnas_arch_preset_name(i), &a), LPNAS_OK);
        build(&ms[count], count, &a, d, tr, images, pol, list), count++;
    }
    for (size_t i = 0; i < sizeof extra_archs / sizeof *extra_archs; i++) {
        ck_assert_int_eq(lpnas_arch_parse(extra_archs[i], &a), LPNAS_OK);
        build(&ms[count], count, &a, d, tr, images, pol, list), count++;
    }
    lpnas_space s;
    ck_assert_int_eq(lpnas_space_init(&s, NULL), LPNAS_OK);
    lpnas_space_ops ops = lpnas_space_operators(&s);
    lpnas_rng rng;
    lpnas_rng_seed(&rng, 17);
    for (int k = 0; k < RANDOM_GENOMES; k++) {
        lpnas_genome g;
        lpnas_hparams hp;
        ops.random(ops.ctx, &rng, &g);
        lpnas_space_decode(&s, &g, &a, &hp);
        build(&ms[count], count, &a, d, tr, images, pol, list), count++;
    }
    fclose(list);
    ck_assert_int_ge(count, 20);
    snprintf(cmd, sizeof cmd, "node tools/ort_run.js %s/ort.list > %s/ort.log 2>&1", tmp, tmp);
    int rc = system(cmd);
    rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
    if (rc == 3 || rc == 127) {
        ck_assert_msg(!in_ci(), "ONNX Runtime is required under CI=true (tools/install_ort.sh)");
        printf("ONNX Runtime not installed: run tools/install_ort.sh (skipping this check)\n");
    } else {
        snprintf(cmd, sizeof cmd, "cat %s/ort.log", tmp);
        ck_assert_msg(rc == 0, "ONNX Runtime failed (status %d); log in %s/ort.log", rc, tmp);
        size_t total = 0, differ = 0, worst = 0;
        int exact = 0;
        for (int m = 0; m < count; m++) {
            snprintf(path, sizeof path, "%s/q%d.logits.f32", tmp, m);
            float *o = read_f32(path, ms[m].n);
            size_t dm = 0, off = 0;
            for (size_t k = 0; k < ms[m].n; k++) {
                /* the runtime's DequantizeLinear: (code - zp) * s, exact to invert */
                int32_t code = (int32_t)nearbyintf(o[k] / ms[m].s) + ms[m].zp;
                int dd = abs(code - ms[m].codes[k]);
                dm += dd != 0;
                off = (size_t)dd > off ? (size_t)dd : off;
            }
            if (dm)
                printf("  %-70s %zu of %zu codes differ (at most %zu)\n", ms[m].arch, dm, ms[m].n, off);
            exact += dm == 0;
            total += ms[m].n, differ += dm, worst = off > worst ? off : worst;
            free(o);
        }
        printf("QDQ int8 vs ONNX Runtime: %d of %d models identical; %zu of %zu output codes differ, at most by %zu\n",
               exact, count, differ, total, worst);
        ck_assert_msg(exact == count && differ == 0,
                      "QDQ int8 outputs differ from ONNX Runtime's: %d of %d models identical, %zu codes differ "
                      "(models and outputs kept with LPNAS_KEEP_TMP=1)", exact, count, differ);
    }
    for (int m = 0; m < count; m++)
        free(ms[m].codes);
    free(images), free(tr), free(va);
    lpnas_dataset_free(d);
}
END_TEST

static void make_tmp(void) { tmp = lpnas_test_tmpdir(); }
static void remove_tmp(void)
{
    if (!getenv("LPNAS_KEEP_TMP"))
        lpnas_test_rmdir(tmp);
    free(tmp);
}

static Suite *suite(void)
{
    Suite *s = suite_create("qdq");
    TCase *t = lpnas_tcase("qdq");
    tcase_add_unchecked_fixture(t, make_tmp, remove_tmp);
    tcase_add_test(t, qdq_models_match_onnx_runtime);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
