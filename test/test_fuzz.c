/* Every fuzz harness (test/fuzz/) over its corpus: the seeds from the
 * project's own files and every input a fuzzing run ever crashed on. A
 * regression run in seconds, under ASan in make test-asan; make fuzz does
 * the real fuzzing with libFuzzer. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "test/fuzz/fuzz.h"

static const struct {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} HARNESSES[] = {
    {"arch", lpnas_fuzz_arch},   {"layer_list", lpnas_fuzz_layer_list}, {"lut", lpnas_fuzz_lut},
    {"model", lpnas_fuzz_model}, {"scaler", lpnas_fuzz_scaler},         {"state", lpnas_fuzz_state},
    {"png", lpnas_fuzz_png},     {"model_payload", lpnas_fuzz_model_payload},
};

static int replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
    char dir[512], path[1024];
    const char *src = getenv("LPNAS_SRC");
    snprintf(dir, sizeof dir, "%s/test/fuzz/%s", src && *src ? src : ".", name);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "%s: no corpus folder", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "%s: cannot open", path);
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        rewind(f);
        uint8_t *buf = malloc((size_t)len + 1);
        ck_assert(buf && fread(buf, 1, (size_t)len, f) == (size_t)len);
        fclose(f);
        ck_assert_int_eq(fn(buf, (size_t)len), 0);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

START_TEST(every_corpus_replays)
{
    int i = _i;
    int n = replay(HARNESSES[i].name, HARNESSES[i].fn);
    ck_assert_msg(n >= 1, "test/fuzz/%s: empty corpus", HARNESSES[i].name);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fuzz_corpus");
    TCase *t = lpnas_tcase("fuzz_corpus");
    tcase_add_loop_test(t, every_corpus_replays, 0, (int)(sizeof HARNESSES / sizeof HARNESSES[0]));
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
