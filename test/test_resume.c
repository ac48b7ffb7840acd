/* The runner's durability (nas/runner.h, issue 12) with a cheap stand-in
 * problem: the folder lock, resume after SIGKILL at many random moments,
 * a stop mid-batch keeping what finished, results.csv rebuilt from the
 * records, the configuration compared on resume, full disks (injected write
 * failures), corrupt and oversized state files. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/binio.h"
#include "base/error.h"
#include "base/fault.h"
#include "check_util.h"
#include "lpnas.h"
#include "nas/runner.h"
#include "nas/space.h"

typedef struct {
    lpnas_space space;
    atomic_int evaluations;
    int delay_us;
    int stop_after;          /* request a stop when this many evaluations finished (0: never) */
    lpnas_runner *runner;
    bool reject_genomes;     /* valid() says no */
    long infeasible_below;   /* candidates with a smaller id fail the precheck */
    long stop_at_precheck;   /* request a stop in this candidate's precheck (-1: never) */
} fake;

static fake F;

static lpnas_status precheck(void *ctx, lpnas_candidate *c, bool *feasible)
{
    fake *f = ctx;
    lpnas_space_identity(&f->space, &c->genome, c->arch, sizeof c->arch);
    lpnas_arch a;
    lpnas_space_decode(&f->space, &c->genome, &a, NULL);
    lpnas_arch_stats s;
    lpnas_status st = lpnas_arch_stats_compute(&a, 16, 16, &s);
    if (st)
        return st;
    c->params = s.params, c->flops = 2 * s.macs, c->peak_bytes = s.peak_act_bytes_device;
    c->latency_ms = (double)s.macs / 1e6;
    *feasible = c->params <= 60000 && (long)c->id >= f->infeasible_below;
    if ((long)c->id == f->stop_at_precheck && f->runner)
        lpnas_runner_request_stop(f->runner); /* as Ctrl-C would, while a batch is asked */
    if (!*feasible) {
        snprintf(c->reason, sizeof c->reason, "too many parameters");
        c->outcome.point.violation = 1;
    }
    return LPNAS_OK;
}

static lpnas_status evaluate(void *ctx, lpnas_candidate *c, uint64_t seed, const atomic_int *stop)
{
    fake *f = ctx;
    if (f->delay_us)
        usleep((useconds_t)f->delay_us);
    if (atomic_load(stop))
        return LPNAS_ERR_INTERRUPTED;
    lpnas_arch a;
    lpnas_space_decode(&f->space, &c->genome, &a, NULL);
    double q = 0.9 - 0.02 * abs(a.stages - 3);
    for (int i = 0; i < a.stages; i++)
        q -= 0.0004 * fabs(a.stage[i].width - 24.0);
    q += (double)(seed % 1000) * 1e-6;
    c->miou_fp32 = q, c->miou_posthoc = q - 0.01, c->miou_aligned = q - 0.002, c->vessel_iou = q - 0.3;
    c->status = LPNAS_CAND_OK;
    int n = atomic_fetch_add(&f->evaluations, 1) + 1;
    if (f->stop_after && n == f->stop_after && f->runner)
        lpnas_runner_request_stop(f->runner); /* as Ctrl-C would, mid-batch */
    return LPNAS_OK;
}

static void score(void *ctx, lpnas_candidate *c)
{
    (void)ctx;
    c->outcome.fitness = c->miou_aligned;
    c->outcome.point.obj[0] = -c->miou_aligned;
    c->outcome.point.obj[1] = c->latency_ms;
}

static bool valid(void *ctx, const lpnas_genome *g)
{
    fake *f = ctx;
    return !f->reject_genomes && lpnas_space_valid(&f->space, g);
}

static lpnas_problem problem(int delay_us)
{
    lpnas_space_options so;
    lpnas_space_options_default(&so);
    so.max_stages = 3;
    lpnas_space_init(&F.space, &so);
    atomic_init(&F.evaluations, 0);
    F.delay_us = delay_us;
    F.stop_after = 0;
    F.runner = NULL;
    F.reject_genomes = false;
    F.infeasible_below = 0;
    F.stop_at_precheck = -1;
    lpnas_problem p = {&F, lpnas_space_operators(&F.space), precheck, evaluate, score, valid, NULL, NULL, NULL};
    return p;
}

static lpnas_runner_options options(const char *dir, int workers, int budget)
{
    lpnas_runner_options o;
    lpnas_runner_options_default(&o);
    o.strategy.seed = 77;
    o.strategy.n_obj = 2;
    o.budget = budget;
    o.batch = 4;
    o.workers = workers;
    o.out_dir = dir;
    o.config = "steps=3\ndata=synthetic 40 tiles\n";
    return o;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *p = calloc(1, (size_t)n + 1);
    size_t got = fread(p, 1, (size_t)n, f);
    fclose(f);
    if (len)
        *len = got;
    return p;
}

/* a CSV without the seconds column (field 12): timing differs run to run */
static char *without_time(const char *dir, const char *name)
{
    char *in = slurp(dir, name, NULL);
    if (!in)
        return strdup("(missing)");
    char *out = calloc(1, strlen(in) + 1), *o = out;
    int field = 0, q = 0;
    for (char *p = in; *p; p++) {
        q ^= *p == '"';
        if (*p == ',' && !q)
            field++;
        if (*p == '\n')
            field = 0;
        if (field != 11)
            *o++ = *p;
    }
    free(in);
    return out;
}

static lpnas_status run_search(const char *dir, int workers, int budget, bool resume, int delay_us)
{
    lpnas_problem p = problem(delay_us);
    lpnas_runner_options o = options(dir, workers, budget);
    o.resume = resume;
    lpnas_runner *r;
    lpnas_status st = lpnas_runner_create(&o, &p, &r);
    ck_assert_msg(st == LPNAS_OK, "%s", lpnas_last_error());
    st = lpnas_runner_run(r);
    lpnas_runner_free(r);
    return st;
}

static void assert_same_as(const char *straight, const char *dir)
{
    const char *files[] = {"results.csv", "pareto.csv"};
    for (int i = 0; i < 2; i++) {
        char *a = without_time(straight, files[i]), *b = without_time(dir, files[i]);
        ck_assert_msg(strcmp(a, b) == 0, "%s differs from the straight run:\n%s\n---\n%s", files[i], a, b);
        ck_assert_msg(strlen(a) > 150, "%s is nearly empty", files[i]);
        free(a), free(b);
    }
}

static bool has(const char *dir, const char *name)
{
    char path[600];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

/* item 0: a second runner on a locked folder is refused, naming the
 * holder; the lock of a killed process is no obstacle */
START_TEST(folder_lock)
{
    char *dir = lpnas_test_tmpdir();
    lpnas_problem p = problem(0);
    lpnas_runner_options o = options(dir, 1, 8);
    lpnas_runner *r1, *r2;
    ck_assert_msg(lpnas_runner_create(&o, &p, &r1) == LPNAS_OK, "%s", lpnas_last_error());
    o.overwrite = true;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r2), LPNAS_ERR_IO);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    ck_assert_msg(strstr(lpnas_last_error(), "another search is running") && strstr(lpnas_last_error(), pid),
                  "%s", lpnas_last_error());
    o.resume = true, o.overwrite = false;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r2), LPNAS_ERR_IO); /* --resume too */
    lpnas_runner_free(r1);
    pid_t child = fork();
    ck_assert(child >= 0);
    if (child == 0) { /* takes the lock and dies holding it */
        lpnas_runner *x;
        lpnas_runner_options oc = options(dir, 1, 8);
        oc.overwrite = true;
        if (lpnas_runner_create(&oc, &p, &x) == LPNAS_OK)
            kill(getpid(), SIGKILL);
        _exit(1);
    }
    int status;
    waitpid(child, &status, 0);
    ck_assert(WIFSIGNALED(status));
    o = options(dir, 1, 8);
    o.overwrite = true;
    ck_assert_msg(lpnas_runner_create(&o, &p, &r1) == LPNAS_OK, "stale lock: %s", lpnas_last_error());
    lpnas_runner_free(r1);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* kill test: SIGKILL at >= 10 random moments, resumed each time; ends
 * with results.csv and pareto.csv equal to an uninterrupted run */
START_TEST(sigkill_at_random_moments)
{
    char *straight = lpnas_test_tmpdir(), *dir = lpnas_test_tmpdir();
    ck_assert_int_eq(run_search(straight, 1, 24, false, 0), LPNAS_OK);
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    int kills = 0;
    for (int k = 0; k < 120 && kills < 12; k++) {
        bool resume = has(dir, "search.state");
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
            lpnas_problem p = problem(3000);
            lpnas_runner_options o = options(dir, 1 + k % 2, 24);
            o.resume = resume, o.overwrite = !resume;
            lpnas_runner *r;
            if (lpnas_runner_create(&o, &p, &r) == LPNAS_OK)
                lpnas_runner_run(r);
            _exit(0);
        }
        usleep((useconds_t)(1000 + rand() % 40000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        kills += WIFSIGNALED(status);
        if (!WIFSIGNALED(status)) { /* it finished before the kill: start the series again */
            lpnas_test_rmdir(dir);
            mkdir(dir, 0777);
        }
    }
    ck_assert_msg(kills >= 10, "only %d kills landed (seed %u)", kills, seed);
    ck_assert_int_eq(run_search(dir, 2, 24, has(dir, "search.state"), 0), LPNAS_OK);
    assert_same_as(straight, dir);
    lpnas_test_rmdir(straight), lpnas_test_rmdir(dir);
    free(straight), free(dir);
}
END_TEST

static int ok_rows(const char *dir)
{
    char *s = slurp(dir, "results.csv", NULL);
    int n = 0;
    for (char *p = s; p && (p = strstr(p, ",ok,")); p++)
        n++;
    free(s);
    return n;
}

/* items 2 and 11: a stop mid-batch keeps every finished candidate; the
 * resume evaluates only what did not finish and equals a straight run */
START_TEST(stop_mid_batch_keeps_finished)
{
    char *straight = lpnas_test_tmpdir(), *dir = lpnas_test_tmpdir();
    ck_assert_int_eq(run_search(straight, 1, 24, false, 0), LPNAS_OK);
    int total = atomic_load(&F.evaluations);
    lpnas_problem p = problem(0);
    lpnas_runner_options o = options(dir, 1, 24);
    lpnas_runner *r;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_OK);
    F.runner = r;
    F.stop_after = 5; /* inside the second batch: its first one finished, the rest did not */
    ck_assert_int_eq(lpnas_runner_run(r), LPNAS_ERR_INTERRUPTED);
    ck_assert_msg(strstr(lpnas_last_error(), "to finish on resume"), "%s", lpnas_last_error());
    lpnas_runner_free(r);
    ck_assert_int_eq(ok_rows(dir), 5); /* all five in results.csv, in order */
    ck_assert_int_eq(run_search(dir, 2, 24, true, 0), LPNAS_OK);
    ck_assert_int_eq(atomic_load(&F.evaluations), total - 5); /* none of the five again */
    assert_same_as(straight, dir);
    lpnas_test_rmdir(straight), lpnas_test_rmdir(dir);
    free(straight), free(dir);
}
END_TEST

/* An interrupt after the first batches, all infeasible, wrote rows (they
 * are final at once) but no snapshot (nothing was trained): the resume
 * continues from the snapshot of the empty search, and ends as a straight
 * run does. (vessel_search's interrupt test met this: "nothing to resume yet".) */
START_TEST(stop_before_anything_trained)
{
    char *straight = lpnas_test_tmpdir(), *dir = lpnas_test_tmpdir();
    lpnas_problem p = problem(0);
    F.infeasible_below = 6; /* the first batch of 4 and half the second */
    lpnas_runner_options o = options(straight, 1, 8);
    lpnas_runner *r;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_OK);
    ck_assert_int_eq(lpnas_runner_run(r), LPNAS_OK);
    lpnas_runner_free(r);
    p = problem(0);
    F.infeasible_below = 6;
    o = options(dir, 1, 8);
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_OK);
    F.runner = r;
    F.stop_at_precheck = 3; /* the first batch's last candidate */
    ck_assert_int_eq(lpnas_runner_run(r), LPNAS_ERR_INTERRUPTED);
    lpnas_runner_free(r);
    size_t n;
    char *rows = slurp(dir, "results.csv", &n);
    int infeasible = 0;
    for (char *q = rows; (q = strstr(q, ",infeasible,")); q++)
        infeasible++;
    free(rows);
    ck_assert_int_eq(infeasible, 4); /* the batch's rows are out */
    ck_assert_int_eq(atomic_load(&F.evaluations), 0);
    ck_assert(has(dir, "search.state"));
    p = problem(0);
    F.infeasible_below = 6;
    o.resume = true;
    ck_assert_msg(lpnas_runner_create(&o, &p, &r) == LPNAS_OK, "%s", lpnas_last_error());
    ck_assert_int_eq(lpnas_runner_run(r), LPNAS_OK);
    lpnas_runner_free(r);
    assert_same_as(straight, dir);
    lpnas_test_rmdir(straight), lpnas_test_rmdir(dir);
    free(straight), free(dir);
}
END_TEST

static void put_file(const char *dir, const char *name, const char *text, size_t n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(text, 1, n, f) == n && fclose(f) == 0);
}

/* items 1 and 10: results.csv cut short, without its last newline, reset
 * to a header or padded with NUL bytes, and a stale or missing pareto.csv,
 * are all rebuilt from the records on resume; a fresh start over a
 * search is refused */
START_TEST(outputs_rebuilt_on_resume)
{
    char *straight = lpnas_test_tmpdir(), *dir = lpnas_test_tmpdir();
    ck_assert_int_eq(run_search(straight, 1, 16, false, 0), LPNAS_OK);
    ck_assert_int_eq(run_search(dir, 1, 16, false, 0), LPNAS_OK);
    size_t len;
    char *full = slurp(dir, "results.csv", &len);
    for (int k = 0; k < 5; k++) {
        if (k == 0)
            put_file(dir, "results.csv", full, len / 2); /* cut mid-row */
        else if (k == 1)
            put_file(dir, "results.csv", full, len - 1); /* no final newline */
        else if (k == 2)
            put_file(dir, "results.csv", full, (size_t)(strchr(full, '\n') - full + 1)); /* header only */
        else if (k == 3) {
            char *pad = calloc(1, len + 1257);
            memcpy(pad, full, (size_t)(strchr(full, '\n') - full + 1));
            put_file(dir, "results.csv", pad, len + 1257); /* header + NULs */
            free(pad);
        } else {
            char path[600];
            snprintf(path, sizeof path, "%s/results.csv", dir);
            remove(path);
        }
        put_file(dir, "pareto.csv", "stale\n", 6);
        ck_assert_int_eq(run_search(dir, 1, 16, true, 0), LPNAS_OK);
        size_t n2;
        char *now = slurp(dir, "results.csv", &n2);
        ck_assert_msg(strlen(now) == n2, "case %d: NUL bytes in results.csv", k);
        free(now);
        assert_same_as(straight, dir);
    }
    /* a fresh start over the search: refused, nothing touched */
    lpnas_problem p = problem(0);
    lpnas_runner_options o = options(dir, 1, 16);
    lpnas_runner *r;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_ERR_ARG);
    ck_assert_msg(strstr(lpnas_last_error(), "--resume") && strstr(lpnas_last_error(), "--overwrite"), "%s",
                  lpnas_last_error());
    size_t n3;
    char *after = slurp(dir, "results.csv", &n3);
    ck_assert(n3 == len && memcmp(after, full, len) == 0);
    free(after), free(full);
    lpnas_test_rmdir(straight), lpnas_test_rmdir(dir);
    free(straight), free(dir);
}
END_TEST

static lpnas_status resume_with(const char *dir, lpnas_runner_options o)
{
    lpnas_problem p = problem(0);
    F.reject_genomes = o.workers == 3; /* a marker: see configuration_checked_on_resume */
    o.workers = 1;
    o.resume = true;
    lpnas_runner *r;
    lpnas_status st = lpnas_runner_create(&o, &p, &r);
    if (!st)
        lpnas_runner_free(r);
    return st;
}

/* item 3: every option is stored; a resume that differs names it and both values */
START_TEST(configuration_checked_on_resume)
{
    char *dir = lpnas_test_tmpdir();
    ck_assert_int_eq(run_search(dir, 1, 8, false, 0), LPNAS_OK);
    lpnas_runner_options o = options(dir, 1, 8);
    o.strategy.seed = 78;
    ck_assert_int_eq(resume_with(dir, o), LPNAS_ERR_ARG);
    ck_assert_msg(strstr(lpnas_last_error(), "option seed differs: the search ran with 77, this run has 78"), "%s",
                  lpnas_last_error());
    o = options(dir, 1, 8);
    o.config = "steps=4\ndata=synthetic 40 tiles\n";
    ck_assert_int_eq(resume_with(dir, o), LPNAS_ERR_ARG);
    ck_assert_msg(strstr(lpnas_last_error(), "option steps differs: the search ran with 3, this run has 4"), "%s",
                  lpnas_last_error());
    o.config = "steps=3\n";
    ck_assert_int_eq(resume_with(dir, o), LPNAS_ERR_ARG);
    ck_assert_msg(strstr(lpnas_last_error(), "option data differs") && strstr(lpnas_last_error(), "(none)"), "%s",
                  lpnas_last_error());
    o = options(dir, 1, 8);
    o.batch = 5;
    ck_assert_int_eq(resume_with(dir, o), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "option batch differs"));
    o = options(dir, 1, 8);
    o.strategy.kind = LPNAS_STRATEGY_RANDOM;
    ck_assert_int_eq(resume_with(dir, o), LPNAS_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "option strategy differs"));
    o = options(dir, 3, 8); /* genomes outside the space */
    ck_assert_int_eq(resume_with(dir, o), LPNAS_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "outside this run's search space"));
    o = options(dir, 1, 12); /* a larger budget extends the search */
    ck_assert_int_eq(resume_with(dir, o), LPNAS_OK);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* item 9: mkdir -p; a resume where nothing started says so and how to start */
START_TEST(parents_created_and_nothing_to_resume)
{
    char *dir = lpnas_test_tmpdir(), deep[600];
    snprintf(deep, sizeof deep, "%s/a/b/c", dir);
    ck_assert_int_eq(run_search(deep, 1, 4, false, 0), LPNAS_OK);
    snprintf(deep, sizeof deep, "%s/empty", dir);
    mkdir(deep, 0777);
    lpnas_runner_options o = options(deep, 1, 4);
    o.resume = true;
    lpnas_problem p = problem(0);
    lpnas_runner *r;
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_ERR_IO);
    ck_assert_msg(strstr(lpnas_last_error(), "nothing to resume yet") && strstr(lpnas_last_error(), "without --resume"),
                  "%s", lpnas_last_error());
    /* an output folder that cannot be created is refused before anything runs */
    snprintf(deep, sizeof deep, "%s/a/b/c/results.csv/x", dir);
    o = options(deep, 1, 4);
    ck_assert_int_eq(lpnas_runner_create(&o, &p, &r), LPNAS_ERR_IO);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "cannot create the output folder"));
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* fault injection: a full disk at the Nth write (journal record, state
 * snapshot, results.csv row, pareto.csv) gives a clear error; every
 * earlier result stays intact, and a resume ends equal to a straight run */
START_TEST(full_disk_at_every_kind_of_write)
{
    char *straight = lpnas_test_tmpdir();
    ck_assert_int_eq(run_search(straight, 1, 16, false, 0), LPNAS_OK);
    char *want = without_time(straight, "results.csv");
    int hit = 0;
    for (int n = 1; n <= 64; n += 1 + n / 8) {
        char *dir = lpnas_test_tmpdir();
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
            char v[16];
            snprintf(v, sizeof v, "%d", n);
            setenv("LPNAS_FAULT_WRITE", v, 1);
            lpnas_fault_reset();
            lpnas_problem p = problem(0);
            lpnas_runner_options o = options(dir, 1 + n % 2, 16);
            lpnas_runner *r;
            lpnas_status st = lpnas_runner_create(&o, &p, &r);
            if (!st) {
                st = lpnas_runner_run(r);
                lpnas_runner_free(r);
            }
            if (!st)
                _exit(2); /* every write happened before the disk "filled" */
            bool clear = st == LPNAS_ERR_IO && strstr(lpnas_last_error(), "No space left on device");
            if (!clear)
                fprintf(stderr, "fault at write %d: status %d: %s\n", n, st, lpnas_last_error());
            _exit(clear ? 0 : 1);
        }
        int status;
        waitpid(pid, &status, 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 1, "fault at write %d: unclear failure", n);
        hit += WEXITSTATUS(status) == 0;
        char *before = without_time(dir, "results.csv");
        ck_assert_msg(strcmp(before, "(missing)") == 0 || strncmp(before, want, strlen(before)) == 0,
                      "fault at write %d: results.csv is not a prefix of the straight run:\n%s", n, before);
        free(before);
        lpnas_status st = run_search(dir, 1, 16, has(dir, "search.state"), 0);
        ck_assert_msg(st == LPNAS_OK, "fault at write %d: resume: %s", n, lpnas_last_error());
        assert_same_as(straight, dir);
        lpnas_test_rmdir(dir);
        free(dir);
    }
    ck_assert_int_ge(hit, 10);
    free(want);
    lpnas_test_rmdir(straight);
    free(straight);
}
END_TEST

/* item 14: a state whose header asks for 2^24 candidates is refused before
 * anything that size is allocated */
START_TEST(oversized_state_refused)
{
    char *dir = lpnas_test_tmpdir();
    ck_assert_int_eq(run_search(dir, 1, 4, false, 0), LPNAS_OK);
    size_t len;
    unsigned char *s = (unsigned char *)slurp(dir, "search.state", &len);
    uint32_t n = (uint32_t)s[12] | (uint32_t)s[13] << 8 | (uint32_t)s[14] << 16 | (uint32_t)s[15] << 24;
    size_t at = 16 + n; /* count, told, rejections, duplicate run, covered, crc */
    ck_assert(at + 36 <= len);
    uint64_t big = 1u << 24;
    for (int i = 0; i < 8; i++)
        s[at + i] = (unsigned char)(big >> (8 * i));
    uint32_t crc = lpnas_crc32(0, s, at + 32);
    for (int i = 0; i < 4; i++)
        s[at + 32 + i] = (unsigned char)(crc >> (8 * i));
    put_file(dir, "search.state", (const char *)s, len);
    free(s);
    lpnas_runner_options o = options(dir, 1, 4);
    ck_assert_int_eq(resume_with(dir, o), LPNAS_ERR_CORRUPT);
    ck_assert_msg(strstr(lpnas_last_error(), "cannot fit"), "%s", lpnas_last_error());
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("resume");
    TCase *t = lpnas_tcase("resume");
    tcase_add_test(t, folder_lock);
    tcase_add_test(t, sigkill_at_random_moments);
    tcase_add_test(t, stop_mid_batch_keeps_finished);
    tcase_add_test(t, stop_before_anything_trained);
    tcase_add_test(t, outputs_rebuilt_on_resume);
    tcase_add_test(t, configuration_checked_on_resume);
    tcase_add_test(t, parents_created_and_nothing_to_resume);
    tcase_add_test(t, full_disk_at_every_kind_of_write);
    tcase_add_test(t, oversized_state_refused);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
