/* examples/vessel_search end to end on a tiny budget: every output file,
 * CSVs that parse, PNGs that decode, Ctrl-C then --resume, bad options. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "check_util.h"
#include "lib/png_io.h"

static const char *bin(void)
{
    static char path[512];
    const char *b = getenv("BUILD");
    snprintf(path, sizeof path, "%s/bin/vessel_search", b && *b ? b : "build");
    return path;
}

static int csv_rows(const char *path, int want_fields)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int rows = -1;
    while (fgets(line, sizeof line, f)) {
        int fields = 1, q = 0;
        for (char *p = line; *p; p++) {
            q ^= *p == '"';
            fields += *p == ',' && !q;
        }
        ck_assert_msg(fields == want_fields, "%s: %d fields in '%s'", path, fields, line);
        rows++;
    }
    fclose(f);
    return rows;
}

START_TEST(runs_and_writes_everything)
{
    char *dir = lpnas_test_tmpdir(), cmd[2048], path[1024];
    snprintf(cmd, sizeof cmd,
             "%s --tiles 40 --evaluations 2 --warmup-steps 3 --finetune-steps 1 --workers 2 --out %s/s >%s/out.txt 2>&1",
             bin(), dir, dir);
    int st = system(cmd);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit %d", WEXITSTATUS(st));
    const char *files[] = {"results.csv", "pareto.csv", "best.lpm", "best.onnx", "pareto.png", "masks.png", "report.md",
                           "search.state"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/s/%s", dir, files[i]);
        ck_assert_msg(access(path, R_OK) == 0, "missing %s", path);
    }
    snprintf(path, sizeof path, "%s/s/results.csv", dir);
    ck_assert(csv_rows(path, 15) >= 2); /* weight_bytes last */
    snprintf(path, sizeof path, "%s/s/pareto.csv", dir);
    ck_assert(csv_rows(path, 15) >= 1);
    const char *pngs[] = {"pareto.png", "masks.png"};
    for (int i = 0; i < 2; i++) {
        float *px;
        int c, h, w;
        snprintf(path, sizeof path, "%s/s/%s", dir, pngs[i]);
        ck_assert_msg(lpnas_png_read(path, &px, &c, &h, &w) == LPNAS_OK, "%s", lpnas_last_error());
        ck_assert(c == 3 && h > 50 && w > 100);
        free(px);
    }
    snprintf(path, sizeof path, "%s/out.txt", dir);
    FILE *f = fopen(path, "r");
    char line[1024], all[8192] = "";
    while (fgets(line, sizeof line, f))
        strncat(all, line, sizeof all - strlen(all) - 1);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(all, "best architecture"));
    ck_assert_ptr_nonnull(strstr(all, "mIoU aligned"));
    ck_assert_ptr_nonnull(strstr(all, "latency source: built-in Myriad X model"));
    /* report.md: the latency source and the share per op kind of the best candidates */
    snprintf(path, sizeof path, "%s/s/report.md", dir);
    f = fopen(path, "r");
    all[0] = 0;
    while (fgets(line, sizeof line, f))
        strncat(all, line, sizeof all - strlen(all) - 1);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(all, "| latency source | built-in Myriad X model"));
    ck_assert_ptr_nonnull(strstr(all, "## Latency by op kind (best "));
    ck_assert_ptr_nonnull(strstr(all, "| id | ms | conv | pointwise | depthwise |"));
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(interrupt_then_resume)
{
    char *dir = lpnas_test_tmpdir(), out[600], path[700];
    snprintf(out, sizeof out, "%s/s", dir);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", 1);
        dup2(devnull, 1), dup2(devnull, 2);
        /* a tight budget: the first rows (infeasible ones, written without
         * training) appear at once even under sanitizers on a loaded machine */
        execl(bin(), bin(), "--tiles", "40", "--evaluations", "6", "--warmup-steps", "6", "--finetune-steps", "1",
              "--budget-ms", "3.5", "--workers", "1", "--out", out, (char *)NULL);
        _exit(127);
    }
    snprintf(path, sizeof path, "%s/results.csv", out);
    int lines = 0;
    for (int i = 0; i < 6000 && lines < 2; i++) { /* wait (up to 2 min: sanitizers are slow) for the first batch */
        FILE *f = fopen(path, "r");
        char line[4096];
        lines = 0;
        if (f) {
            while (fgets(line, sizeof line, f))
                lines++;
            fclose(f);
        }
        usleep(20000);
    }
    ck_assert_msg(lines >= 2, "no candidate finished within 2 minutes");
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFEXITED(st) && (WEXITSTATUS(st) == 3 || WEXITSTATUS(st) == 0), "status %d", WEXITSTATUS(st));
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s --tiles 40 --evaluations 6 --warmup-steps 6 --finetune-steps 1 --budget-ms 3.5 --workers 2 --out %s "
             "--resume >%s/resume.log 2>&1",
             bin(), out, dir);
    st = system(cmd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { /* say why: the resume's own message */
        char log[700], said[4096] = "";
        snprintf(log, sizeof log, "%s/resume.log", dir);
        FILE *lf = fopen(log, "r");
        if (lf) {
            size_t n = fread(said, 1, sizeof said - 1, lf);
            said[n] = '\0';
            fclose(lf);
        }
        ck_abort_msg("resume exit %d:\n%s", WEXITSTATUS(st), said);
    }
    int trained = 0;
    FILE *f = fopen(path, "r");
    char line[4096];
    while (fgets(line, sizeof line, f))
        trained += strstr(line, ",ok,") != NULL || strstr(line, ",failed,") != NULL;
    fclose(f);
    ck_assert_int_ge(trained, 6);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* results.csv without the seconds column (field 12), quote-aware */
static char *rows_without_time(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *out = calloc(1, 1 << 16), line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        int field = 0, q = 0;
        for (char *p = line; *p && n + 1 < (1 << 16); p++) {
            q ^= *p == '"';
            if (*p == ',' && !q)
                field++;
            if (field != 11)
                out[n++] = *p;
        }
    }
    fclose(f);
    return out;
}

/* The real pipeline gives the same rows on 1 and 2 workers (per-candidate seeds). */
START_TEST(same_rows_for_one_and_two_workers)
{
    char *dir = lpnas_test_tmpdir(), cmd[2048], path[1024];
    for (int w = 1; w <= 2; w++) {
        snprintf(cmd, sizeof cmd,
                 "%s --tiles 48 --evaluations 4 --warmup-steps 4 --finetune-steps 2 --workers %d --out %s/w%d "
                 ">/dev/null 2>&1",
                 bin(), w, dir, w);
        int st = system(cmd);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "workers %d: exit %d", w, WEXITSTATUS(st));
    }
    snprintf(path, sizeof path, "%s/w1/results.csv", dir);
    char *a = rows_without_time(path);
    snprintf(path, sizeof path, "%s/w2/results.csv", dir);
    char *b = rows_without_time(path);
    ck_assert_msg(strcmp(a, b) == 0 && strlen(a) > 200, "1 and 2 workers differ:\n%s\n---\n%s", a, b);
    free(a), free(b);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(bad_options)
{
    static const lpnas_program_case RUNS[] = {
        {"--help", 0},
        {"--bogus", 2},
        {"--strategy annealing", 2},
        {"--mode hybrid", 2},
        {"--policy fp8", 2},
        {"--budget-ms -1", 2},
        {"--workers 0", 2},
        {"--evaluations x", 2},
        {"--data /nonexistent", 1},
        {"--lut /nonexistent.lut --tiles 16", 1},
        {"--resume --out /nonexistent/none --tiles 16", 1},
    };
    lpnas_test_program_statuses("vessel_search", RUNS, sizeof RUNS / sizeof RUNS[0]);
}
END_TEST

/* The issue-18 command on the integer device runs end to end with every
 * output: model files hold no integer calibration, so best.lpm is
 * calibrated again (as the search did) before best.onnx is exported. */
START_TEST(integer_device_mixed_precision_end_to_end)
{
    char *dir = lpnas_test_tmpdir(), cmd[2048], path[1024];
    snprintf(cmd, sizeof cmd,
             "%s --device imx8mp --policy int8 --mixed-precision --strategy nsga2 --tiles 40 --evaluations 2 "
             "--warmup-steps 3 --finetune-steps 1 --max-stages 2 --max-width 16 --budget-ms 2 --workers 1 --out %s/s "
             ">%s/out.txt 2>&1",
             bin(), dir, dir);
    int st = system(cmd);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit %d", WEXITSTATUS(st));
    const char *files[] = {"results.csv", "pareto.csv", "best.lpm", "best.onnx", "pareto.png", "pareto-size.png",
                           "masks.png", "report.md"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/s/%s", dir, files[i]);
        ck_assert_msg(access(path, R_OK) == 0, "missing %s", path);
    }
    snprintf(path, sizeof path, "%s/s/results.csv", dir);
    ck_assert(csv_rows(path, 15) >= 2);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("vessel_search");
    TCase *t = lpnas_tcase("vessel_search");
    tcase_add_test(t, runs_and_writes_everything);
    tcase_add_test(t, integer_device_mixed_precision_end_to_end);
    tcase_add_test(t, interrupt_then_resume);
    tcase_add_test(t, same_rows_for_one_and_two_workers);
    tcase_add_test(t, bad_options);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
