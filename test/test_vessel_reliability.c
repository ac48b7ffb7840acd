/* examples/vessel_search as a careful user runs it (issue 12): exit codes
 * and their messages, the folder lock between processes, a stale lock
 * after SIGKILL, --overwrite, outputs that cannot be written (injected full
 * disk), a stale best.lpm, Ctrl-C while outputs are written, tiles the
 * space cannot take, ./out never created behind the user's back. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"
#include "lpnas.h"

#define TINY "--tiles 16 --evaluations 1 --warmup-steps 2 --finetune-steps 1 --workers 1"

static const char *bin(void)
{
    static char path[PATH_MAX];
    if (path[0] == '/')
        return path;
    const char *b = getenv("BUILD");
    char rel[512];
    snprintf(rel, sizeof rel, "%s/bin/vessel_search", b && *b ? b : "build");
    if (!realpath(rel, path))
        snprintf(path, sizeof path, "%s", rel);
    return path;
}

/* Runs vessel_search with args (and an environment prefix); returns the
 * exit status and keeps stdout+stderr in *out (malloc'ed). */
static int run(const char *env, const char *args, char **out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", env ? env : "", bin(), args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 1 << 16, n = 0;
    char *buf = calloc(1, cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0)
        n += k;
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool exists(const char *dir, const char *name)
{
    char path[1024];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

#define EXPECT(st, want, out)                                                          \
    ck_assert_msg((st) == (want), "status %d, want %d; output:\n%s", (st), (want), (out))
#define SAYS(out, text) ck_assert_msg(strstr((out), (text)) != NULL, "no '%s' in:\n%s", (text), (out))

/* items 9 and 12: no ./out; nothing to resume; unfit tiles named before the
 * search; whole numbers only; an output folder that cannot be made */
START_TEST(clear_errors_before_any_training)
{
    char *dir = lpnas_test_tmpdir(), args[2048], *out;
    char cwd[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    (void)bin(); /* resolved from the repository root, before the chdir */
    ck_assert_int_eq(chdir(dir), 0);
    int st = run(NULL, "--tiles 16 --resume --out sub/none", &out);
    ck_assert_int_eq(chdir(cwd), 0);
    EXPECT(st, 1, out);
    SAYS(out, "nothing to resume yet");
    SAYS(out, "without --resume");
    ck_assert_msg(!exists(dir, "out"), "vessel_search created ./out although --out points elsewhere");
    free(out);
    st = run(NULL, "--evaluations 2.5", &out);
    EXPECT(st, 2, out);
    SAYS(out, "--evaluations '2.5': expected a whole number");
    free(out);
    /* 30x30 tiles cannot go through 3 stages */
    char sub[1024], path[1200];
    const char *parts[] = {"images", "masks"};
    uint8_t rgb[30 * 30 * 3] = {0};
    for (int k = 0; k < 2; k++) {
        snprintf(sub, sizeof sub, "%s/d/%s", dir, parts[k]);
        snprintf(path, sizeof path, "%s/d", dir);
        mkdir(path, 0777);
        mkdir(sub, 0777);
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/t%d.png", sub, i);
            ck_assert_int_eq(lpnas_png_write_rgb(path, rgb, 30, 30), LPNAS_OK);
        }
    }
    snprintf(args, sizeof args, "--data %s/d --out %s/s", dir, dir);
    st = run(NULL, args, &out);
    EXPECT(st, 1, out);
    SAYS(out, "data: tiles of 30x30 cannot go through the space's 3 stages");
    free(out);
    /* an output folder below a file */
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    snprintf(args, sizeof args, "--tiles 16 --out %s/file/s", dir);
    st = run(NULL, args, &out);
    EXPECT(st, 1, out);
    SAYS(out, "cannot create the output folder");
    free(out);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* item 0: a second process on a running search's folder is refused, naming
 * it; after the first is killed (SIGKILL) its lock is no obstacle and the
 * resume finishes the search */
START_TEST(second_process_refused_then_resume_after_kill)
{
    char *dir = lpnas_test_tmpdir(), s[700], args[2048], *out;
    snprintf(s, sizeof s, "%s/s", dir);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout), freopen("/dev/null", "w", stderr);
        execl(bin(), bin(), "--tiles", "16", "--evaluations", "2", "--warmup-steps", "30", "--finetune-steps", "1",
              "--workers", "1", "--out", s, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 3000 && !exists(s, "search.state"); i++)
        usleep(10000);
    ck_assert(exists(s, "search.state"));
    snprintf(args, sizeof args, "--tiles 16 --evaluations 2 --warmup-steps 30 --finetune-steps 1 --workers 1 --out %s --resume",
             s);
    int st = run(NULL, args, &out);
    EXPECT(st, 1, out);
    char want[64];
    snprintf(want, sizeof want, "pid %ld", (long)pid);
    SAYS(out, "another search is running in this folder");
    SAYS(out, want);
    free(out);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status));
    st = run(NULL, args, &out);
    EXPECT(st, 0, out);
    free(out);
    ck_assert(exists(s, "best.lpm") && exists(s, "report.md") && exists(s, "masks.png"));
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* items 8 and 10, fault injection: outputs that cannot be written are named
 * and give exit 5; a full disk while a candidate's model is saved stops the
 * search with the error (1); resumes finish; a best.lpm of another
 * candidate is removed, not shown beside the report */
START_TEST(outputs_that_cannot_be_written)
{
    char *dir = lpnas_test_tmpdir(), args[2048], *out;
    snprintf(args, sizeof args, TINY " --out %s/s", dir);
    int st = run("LPNAS_FAULT_PATH=.png", args, &out);
    EXPECT(st, 5, out);
    SAYS(out, "pareto.png was not written: ");
    SAYS(out, "No space left on device");
    SAYS(out, "masks.png was not written");
    free(out);
    char s[700];
    snprintf(s, sizeof s, "%s/s", dir);
    ck_assert(!exists(s, "pareto.png") && !exists(s, "masks.png"));
    snprintf(args, sizeof args, TINY " --out %s/s --resume", dir);
    st = run(NULL, args, &out); /* outputs rebuilt on resume */
    EXPECT(st, 0, out);
    free(out);
    ck_assert(exists(s, "pareto.png") && exists(s, "masks.png"));
    /* best.id names another candidate: best.lpm is someone else's */
    char path[800];
    snprintf(path, sizeof path, "%s/best.id", s);
    FILE *f = fopen(path, "w");
    fputs("99\n", f);
    fclose(f);
    st = run(NULL, args, &out);
    EXPECT(st, 1, out);
    SAYS(out, "the model of the best candidate");
    SAYS(out, "is missing");
    free(out);
    ck_assert_msg(!exists(s, "best.lpm") && !exists(s, "best.fp32.lpm"), "a stale best.lpm was left");
    /* a full disk while candidate models are saved */
    snprintf(args, sizeof args, TINY " --out %s/m", dir);
    st = run("LPNAS_FAULT_PATH=cand-", args, &out);
    EXPECT(st, 1, out);
    SAYS(out, "No space left on device");
    SAYS(out, "--resume continues");
    free(out);
    snprintf(args, sizeof args, TINY " --out %s/m --resume", dir);
    st = run(NULL, args, &out);
    EXPECT(st, 0, out);
    free(out);
    /* and at the nth write of any kind (journal, state, rows, models, pictures) */
    int failed = 0;
    for (int n = 5; n <= 14; n += 9) {
        snprintf(args, sizeof args, TINY " --out %s/r%d", dir, n);
        char env[64];
        snprintf(env, sizeof env, "LPNAS_FAULT_WRITE=%d", n);
        st = run(env, args, &out);
        ck_assert_msg(st == 1 || st == 5, "write %d: status %d:\n%s", n, st, out);
        SAYS(out, "No space left on device");
        failed++;
        free(out);
        char r[800];
        snprintf(r, sizeof r, "%s/r%d", dir, n);
        bool resumable = exists(r, "search.state"); /* else nothing had started: a plain start */
        snprintf(args, sizeof args, TINY " --out %s%s", r, resumable ? " --resume" : "");
        st = run(NULL, args, &out);
        EXPECT(st, 0, out);
        free(out);
    }
    ck_assert_int_eq(failed, 2);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* items 1 and 8: a fresh start over a search is refused (--overwrite starts
 * afresh); a search that cannot reach its budget says why and exits 4 */
START_TEST(overwrite_and_stopped_short)
{
    char *dir = lpnas_test_tmpdir(), args[2048], *out;
    snprintf(args, sizeof args, TINY " --out %s/s", dir);
    int st = run(NULL, args, &out);
    EXPECT(st, 0, out);
    free(out);
    st = run(NULL, args, &out);
    EXPECT(st, 1, out);
    SAYS(out, "continue it with --resume, or start a new one over it with --overwrite");
    free(out);
    snprintf(args, sizeof args, TINY " --out %s/s --overwrite --seed 5", dir);
    st = run(NULL, args, &out);
    EXPECT(st, 0, out);
    free(out);
    snprintf(args, sizeof args, TINY " --out %s/s --resume", dir); /* the overwritten search had seed 5 */
    st = run(NULL, args, &out);
    EXPECT(st, 1, out);
    SAYS(out, "option seed differs: the search ran with 5, this run has 1");
    free(out);
    snprintf(args, sizeof args, "--tiles 16 --max-params 10 --out %s/empty", dir);
    st = run(NULL, args, &out);
    EXPECT(st, 4, out);
    SAYS(out, "violated the budgets");
    free(out);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* item 13: Ctrl-C while the outputs are written (a resume of a finished
 * search does nothing else) ends cleanly: exit 3 with how to continue, or
 * 0 if it came too late; never death by the signal */
START_TEST(ctrl_c_while_writing_outputs)
{
    char *dir = lpnas_test_tmpdir(), args[2048], *out, s[700];
    snprintf(s, sizeof s, "%s/s", dir);
    snprintf(args, sizeof args, TINY " --out %s", s);
    int st = run(NULL, args, &out);
    EXPECT(st, 0, out);
    free(out);
    int threes = 0;
    for (int k = 0; k < 6; k++) {
        char log[800];
        snprintf(log, sizeof log, "%s/log%d.txt", dir, k);
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
            freopen("/dev/null", "w", stdout), freopen(log, "w", stderr);
            execl(bin(), bin(), "--tiles", "16", "--evaluations", "1", "--warmup-steps", "2", "--finetune-steps", "1",
                  "--workers", "1", "--out", s, "--resume", (char *)NULL);
            _exit(127);
        }
        usleep((useconds_t)(50000 + 40000 * k));
        kill(pid, SIGINT);
        int status;
        waitpid(pid, &status, 0);
        ck_assert_msg(WIFEXITED(status), "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        ck_assert_msg(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3, "status %d", WEXITSTATUS(status));
        threes += WEXITSTATUS(status) == 3;
    }
    ck_assert_msg(threes >= 1, "no Ctrl-C landed before the end");
    snprintf(args, sizeof args, TINY " --out %s --resume", s);
    st = run(NULL, args, &out);
    EXPECT(st, 0, out);
    free(out);
    ck_assert(exists(s, "report.md") && exists(s, "masks.png") && exists(s, "pareto.png"));
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST



/* a CSV without the seconds column (field 12) */
static char *without_time(const char *dir, const char *name)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("(missing)");
    char *out = calloc(1, 1 << 20), *o = out;
    int field = 0, q = 0, c;
    while ((c = fgetc(f)) != EOF && o - out < (1 << 20) - 1) {
        q ^= c == '"';
        field += c == ',' && !q;
        if (c == '\n')
            field = 0;
        if (field != 11)
            *o++ = (char)c;
    }
    fclose(f);
    return out;
}

/* make test-long: the real program killed with SIGKILL at 10 random
 * moments, resumed each time, ends with the CSVs of an uninterrupted run */
START_TEST(program_sigkill_at_random_moments)
{
    if (!lpnas_test_long())
        return;
    char *dir = lpnas_test_tmpdir(), args[8192], *out, a[700], b[700];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    const char *opts = "--tiles 16 --evaluations 6 --warmup-steps 6 --finetune-steps 2 --workers 1";
    snprintf(args, sizeof args, "%s --out %s", opts, a);
    int st = run(NULL, args, &out);
    EXPECT(st, 0, out);
    free(out);
    srand((unsigned)getpid());
    int kills = 0;
    for (int k = 0; k < 60 && kills < 10; k++) {
        bool resume = exists(b, "search.state");
        snprintf(args, sizeof args, "exec %s %s --out %s%s >/dev/null 2>&1", bin(), opts, b, resume ? " --resume" : "");
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", args, (char *)NULL);
            _exit(127);
        }
        usleep((useconds_t)(100000 + rand() % 1500000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        kills += WIFSIGNALED(status);
    }
    ck_assert_int_ge(kills, 10);
    snprintf(args, sizeof args, "%s --out %s%s", opts, b, exists(b, "search.state") ? " --resume" : "");
    st = run(NULL, args, &out);
    EXPECT(st, 0, out);
    free(out);
    const char *files[] = {"results.csv", "pareto.csv"};
    for (int i = 0; i < 2; i++) {
        char *x = without_time(a, files[i]), *y = without_time(b, files[i]);
        ck_assert_msg(strcmp(x, y) == 0, "%s differs:\n%s\n---\n%s", files[i], x, y);
        free(x), free(y);
    }
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

static void stub(const char *dir, const char *name, const char *body)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
}

/* The README's first command: tools/install_deps.sh calls apt-get directly
 * as root (Debian containers have no sudo) and through sudo otherwise;
 * apt-get, sudo and id are stubs that log what they were asked. */
START_TEST(install_command_with_and_without_sudo)
{
    char *dir = lpnas_test_tmpdir(), cmd[4096], log[800];
    snprintf(log, sizeof log, "%s/log", dir);
    char body[1200];
    snprintf(body, sizeof body, "echo \"apt-get $*\" >> %s", log);
    stub(dir, "apt-get", body);
    snprintf(body, sizeof body, "echo \"sudo $1\" >> %s; \"$@\"", log);
    stub(dir, "sudo", body);
    stub(dir, "id", "echo $FAKE_UID");
    for (int root = 1; root >= 0; root--) {
        remove(log);
        snprintf(cmd, sizeof cmd, "FAKE_UID=%d PATH=%s:$PATH sh tools/install_deps.sh >/dev/null 2>&1", root ? 0 : 1000,
                 dir);
        int st = system(cmd);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "install_deps.sh as %s: status %d", root ? "root" : "user",
                      WEXITSTATUS(st));
        FILE *f = fopen(log, "r");
        ck_assert_ptr_nonnull(f);
        char all[2048] = "", line[512];
        while (fgets(line, sizeof line, f))
            strncat(all, line, sizeof all - strlen(all) - 1);
        fclose(f);
        ck_assert_msg(strstr(all, "apt-get install -y build-essential") && strstr(all, "libclang-rt-14-dev"), "%s", all);
        ck_assert_msg(root ? !strstr(all, "sudo") : strstr(all, "sudo apt-get") != NULL, "as %s:\n%s",
                      root ? "root" : "user", all);
    }
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("vessel_reliability");
    TCase *t = lpnas_tcase("vessel_reliability");
    tcase_add_test(t, clear_errors_before_any_training);
    tcase_add_test(t, second_process_refused_then_resume_after_kill);
    tcase_add_test(t, outputs_that_cannot_be_written);
    tcase_add_test(t, overwrite_and_stopped_short);
    tcase_add_test(t, ctrl_c_while_writing_outputs);
    suite_add_tcase(s, t);
    TCase *k = lpnas_tcase("long");
    tcase_add_test(k, program_sigkill_at_random_moments);
    suite_add_tcase(s, k);
    TCase *i = lpnas_tcase("install");
    tcase_add_test(i, install_command_with_and_without_sudo);
    suite_add_tcase(s, i);
    return s;
}

LPNAS_TEST_MAIN(suite)
