/* Writes the seed corpora of test/fuzz/ from the project's own formats:
 *   cc -std=c11 -D_DEFAULT_SOURCE -Iinclude -I. tools/fuzz_seeds.c build/liblpnas.a \
 *      $(pkg-config --libs openblas libpng zlib) -lm -lpthread
 *   ./a.out test/fuzz
 * Seeds are small real files: a model, a scaler state, a LUT, PNG pairs,
 * architecture strings and layer lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "lpnas.h"
#include "nas/runner_internal.h"
#include "nas/space.h"

static lpnas_space SPACE;

static lpnas_status seed_precheck(void *ctx, lpnas_candidate *c, bool *feasible)
{
    lpnas_space_identity(&SPACE, &c->genome, c->arch, sizeof c->arch);
    *feasible = c->id % 3 != 2; /* some infeasible rows too */
    c->latency_ms = 1.0 + (double)c->id;
    return LPNAS_OK;
}

static lpnas_status seed_evaluate(void *ctx, lpnas_candidate *c, uint64_t seed, const atomic_int *stop)
{
    c->miou_fp32 = c->miou_posthoc = c->miou_aligned = c->vessel_iou = (double)(seed % 1000) / 1000;
    c->status = LPNAS_CAND_OK;
    return LPNAS_OK;
}

static void seed_score(void *ctx, lpnas_candidate *c)
{
    c->outcome.fitness = c->miou_aligned;
    c->outcome.point.obj[0] = -c->miou_aligned;
}

static void put(const char *dir, const char *sub, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "%s: write failed\n", path);
        exit(1);
    }
}

static void *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "test/fuzz";
    const char *archs[] = {"in1-c2x1k3/down=conv,up=nearest,skip=concat,dec=1,act=relu",
                           "in3-c8x1k3-s16x2k5-r24x1k3e4/down=maxpool,up=bilinear,skip=add,dec=2,act=relu6",
                           "in3-c16x2k3-c32x1k3/down=conv,up=deconv,skip=none,dec=1,act=relu"};
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "seed%d", i);
        put(dir, "arch", name, archs[i], strlen(archs[i]));
    }
    const char *lists[] = {"examples/latency/resnet18_224.csv", "examples/latency/deeplabv3_mnv2_256.csv"};
    for (int i = 0; i < 2; i++) {
        size_t n;
        void *p = slurp(lists[i], &n);
        put(dir, "layer_list", i ? "deeplab" : "resnet18", p, n);
        free(p);
    }
    lpnas_latency_model *m;
    lpnas_latency_model_myriadx(NULL, &m);
    lpnas_lut_save(m, "/tmp/seed.lut");
    lpnas_latency_model_free(m);
    size_t n;
    void *p = slurp("/tmp/seed.lut", &n);
    put(dir, "lut", "myriadx", p, n);
    free(p);
    lpnas_arch a;
    lpnas_arch_parse(archs[0], &a);
    lpnas_net_options no = {1, 8, 8, 1};
    lpnas_net *net;
    if (lpnas_net_create(&a, &no, &net) || lpnas_model_save(net, "myriadx", "/tmp/seed.lpm")) {
        fprintf(stderr, "%s\n", lpnas_last_error());
        return 1;
    }
    lpnas_net_free(net);
    p = slurp("/tmp/seed.lpm", &n);
    put(dir, "model", "tiny", p, n);
    {
        /* the same model's payload, for the model_payload harness */
        const unsigned char *h = p;
        uLongf plen = (uLongf)h[12] | (uLongf)h[13] << 8 | (uLongf)h[14] << 16 | (uLongf)h[15] << 24;
        unsigned char *pl = malloc(plen);
        if (uncompress(pl, &plen, h + 24, (uLong)(n - 24)) != Z_OK) {
            fprintf(stderr, "seed model: cannot uncompress\n");
            return 1;
        }
        put(dir, "model_payload", "tiny", pl, plen);
        free(pl);
    }
    free(p);
    lpnas_scaler sc;
    lpnas_scaler_init(&sc, NULL);
    FILE *f = fopen("/tmp/seed.scaler", "wb");
    lpnas_scaler_save(&sc, f);
    fclose(f);
    p = slurp("/tmp/seed.scaler", &n);
    put(dir, "scaler", "default", p, n);
    free(p);
    /* a search state and journal as the state harness reads them (default
     * runner options, the default space with 3 stages) */
    lpnas_space_options spo;
    lpnas_space_options_default(&spo);
    spo.max_stages = 3;
    lpnas_space_init(&SPACE, &spo);
    lpnas_runner_options ro;
    lpnas_runner_options_default(&ro);
    ro.budget = 6;
    ro.out_dir = "/tmp/seed-state";
    ro.overwrite = true;
    lpnas_problem pb = {NULL, lpnas_space_operators(&SPACE), seed_precheck, seed_evaluate, seed_score, NULL, NULL, NULL, NULL};
    lpnas_runner *run;
    if (lpnas_runner_create(&ro, &pb, &run) || lpnas_runner_run(run)) {
        fprintf(stderr, "%s\n", lpnas_last_error());
        return 1;
    }
    lpnas_runner_free(run);
    {
        size_t ns, nj;
        unsigned char *ps = slurp("/tmp/seed-state/search.state", &ns), *pj = slurp("/tmp/seed-state/search.journal", &nj);
        unsigned char *both = malloc(4 + ns + nj);
        both[0] = (unsigned char)ns, both[1] = (unsigned char)(ns >> 8), both[2] = (unsigned char)(ns >> 16), both[3] = 0;
        memcpy(both + 4, ps, ns);
        memcpy(both + 4 + ns, pj, nj);
        put(dir, "state", "six", both, 4 + ns + nj);
        free(ps), free(pj), free(both);
    }
    /* PNG pairs: an 8x8 RGB image with a 8x8 mask; a 4x8 one */
    for (int k = 0; k < 2; k++) {
        int w = 8, h = k ? 4 : 8;
        uint8_t rgb[8 * 8 * 3];
        for (int i = 0; i < w * h * 3; i++)
            rgb[i] = (uint8_t)(i * 37);
        lpnas_png_write_rgb("/tmp/seed-i.png", rgb, w, h);
        for (int i = 0; i < w * h * 3; i++)
            rgb[i] = i % 5 == 0 ? 255 : 0;
        lpnas_png_write_rgb("/tmp/seed-m.png", rgb, w, h);
        size_t ni, nm;
        unsigned char *pi = slurp("/tmp/seed-i.png", &ni), *pm = slurp("/tmp/seed-m.png", &nm);
        unsigned char *pair = malloc(4 + ni + nm);
        pair[0] = (unsigned char)ni, pair[1] = (unsigned char)(ni >> 8), pair[2] = (unsigned char)(ni >> 16), pair[3] = 0;
        memcpy(pair + 4, pi, ni);
        memcpy(pair + 4 + ni, pm, nm);
        put(dir, "png", k ? "rect" : "square", pair, 4 + ni + nm);
        free(pi), free(pm), free(pair);
    }
    return 0;
}
