/* The search on Open MPI (docs/distributed.md), end to end with mpirun:
 * -np 1, 2, 3 give the rows of a single process; kill -9 of rank 0 and of
 * another rank at random moments, then --resume, ends with the rows of an
 * uninterrupted run; options that differ between ranks are refused; --async
 * finishes. Skipped (with a message) when mpirun or an MPI build is missing.
 * Also the data set's wire format, which needs no MPI. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "lpnas.h"

static const char *bin(void)
{
    static char path[512];
    const char *b = getenv("BUILD");
    snprintf(path, sizeof path, "%s/bin/vessel_search", b && *b ? b : "build");
    return path;
}

/* Small on purpose: tiny tiles and batches, FP32 policy; a few seconds a run. */
#define TINY "--tiles 16 --warmup-steps 2 --finetune-steps 1 --train-batch 2 --policy fp32 --workers 1"

/* mpirun as the tests need it: root in CI needs Open MPI's two variables
 * (set here, never asked of users); 3 ranks on 2 cores need oversubscribe;
 * no binding, so oversubscribed ranks do not share one core; leak checks
 * off in the ranks under ASan (Open MPI keeps its allocations to exit). */
static const char *mpirun(void)
{
    if (getuid() == 0) {
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    }
    setenv("ASAN_OPTIONS", "detect_leaks=0", 0);
    setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
    return "mpirun --oversubscribe --bind-to none";
}

/* Why the MPI tests cannot run here, or NULL. */
static const char *no_mpi(void)
{
    if (system("command -v mpirun >/dev/null 2>&1") != 0)
        return "Open MPI is not installed (apt-get install openmpi-bin libopenmpi-dev)";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --help | grep -q 'this build has MPI'", bin());
    if (system(cmd) != 0)
        return "vessel_search was built without MPI (make MPI=1)";
    return NULL;
}

#define SKIP_WITHOUT_MPI()                                                  \
    do {                                                                    \
        const char *why_ = no_mpi();                                        \
        if (why_) {                                                         \
            fprintf(stderr, "SKIPPED %s: %s\n", __func__, why_);            \
            return;                                                         \
        }                                                                   \
    } while (0)

/* A CSV file without its seconds column (field 12), quote-aware. */
static char *without_seconds(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "missing %s", path);
    size_t cap = 1 << 18, n = 0;
    char *out = calloc(1, cap), line[4096];
    while (fgets(line, sizeof line, f)) {
        int field = 0, q = 0;
        for (char *p = line; *p && n + 1 < cap; p++) {
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

static void same_files(const char *a_dir, const char *b_dir, const char *what)
{
    const char *names[] = {"results.csv", "pareto.csv"};
    for (int i = 0; i < 2; i++) {
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", a_dir, names[i]);
        snprintf(pb, sizeof pb, "%s/%s", b_dir, names[i]);
        char *a = without_seconds(pa), *b = without_seconds(pb);
        ck_assert_msg(strcmp(a, b) == 0 && strlen(a) > 150, "%s: %s differs:\n%s\n---\n%s", what, names[i], a, b);
        free(a), free(b);
    }
}

static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static bool has_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    static char all[1 << 16];
    size_t n = fread(all, 1, sizeof all - 1, f);
    all[n] = '\0';
    fclose(f);
    return strstr(all, text) != NULL;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

START_TEST(same_rows_on_any_number_of_ranks)
{
    SKIP_WITHOUT_MPI();
    char *dir = lpnas_test_tmpdir(), cmd[4096], ref[1024], out[1024], tmp[1024];
    snprintf(ref, sizeof ref, "%s/single", dir);
    snprintf(cmd, sizeof cmd, "%s " TINY " --evaluations 6 --out %s >%s/single.txt 2>&1", bin(), ref, dir);
    ck_assert_int_eq(run(cmd), 0);
    snprintf(tmp, sizeof tmp, "%s/scratch", dir);
    mkdir(tmp, 0777);
    for (int np = 1; np <= 3; np++) {
        snprintf(out, sizeof out, "%s/np%d", dir, np);
        snprintf(cmd, sizeof cmd, "TMPDIR=%s %s -x TMPDIR -np %d %s " TINY " --evaluations 6 --out %s >%s/np%d.txt 2>&1",
                 tmp, mpirun(), np, bin(), out, dir, np);
        int rc = run(cmd);
        snprintf(cmd, sizeof cmd, "%s/np%d.txt", dir, np);
        ck_assert_msg(rc == 0, "-np %d: exit %d (see %s)", np, rc, cmd);
        char what[32];
        snprintf(what, sizeof what, "-np %d", np);
        same_files(ref, out, what);
        snprintf(cmd, sizeof cmd, "%s/best.lpm", out); /* the models came back to rank 0 */
        ck_assert_msg(access(cmd, R_OK) == 0, "-np %d: no best.lpm", np);
        if (np == 3) {
            snprintf(cmd, sizeof cmd, "%s/np3.txt", dir);
            ck_assert_msg(has_text(cmd, "/min") && has_text(cmd, "ranks 0:") && has_text(cmd, " 2:"),
                          "no per-rank progress in %s", cmd);
        }
    }
    ck_assert_msg(count_entries(tmp) == 0, "the ranks left files in their scratch folder %s", tmp);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* The pid of the rank of a run tagged `tag` (its environment), or -1. */
static pid_t find_rank(const char *tag, int rank)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;
    char want_tag[128], want_rank[64];
    snprintf(want_tag, sizeof want_tag, "LPNAS_KILL_TAG=%s", tag);
    snprintf(want_rank, sizeof want_rank, "OMPI_COMM_WORLD_RANK=%d", rank);
    while (d && found < 0 && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == getpid())
            continue;
        char path[64], comm[64] = "";
        snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "vessel_search", 13) != 0)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/environ", pid);
        f = fopen(path, "r");
        if (!f)
            continue;
        static char env[1 << 17];
        size_t n = fread(env, 1, sizeof env - 1, f);
        fclose(f);
        env[n] = '\0';
        bool t = false, r = false;
        for (size_t i = 0; i < n; i += strlen(env + i) + 1) {
            t |= strcmp(env + i, want_tag) == 0;
            r |= strcmp(env + i, want_rank) == 0;
        }
        if (t && r)
            found = (pid_t)pid;
    }
    if (d)
        closedir(d);
    return found;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

START_TEST(kill_any_rank_then_resume)
{
    SKIP_WITHOUT_MPI();
    char *dir = lpnas_test_tmpdir(), cmd[4096], ref[1024], out[1024], state[1100], tmp[1024];
    snprintf(ref, sizeof ref, "%s/ref", dir);
    snprintf(out, sizeof out, "%s/killed", dir);
    snprintf(state, sizeof state, "%s/search.state", out);
    snprintf(tmp, sizeof tmp, "%s/scratch", dir);
    mkdir(tmp, 0777);
    snprintf(cmd, sizeof cmd, "%s " TINY " --evaluations 30 --out %s >/dev/null 2>&1", bin(), ref);
    double t_ref = now();
    ck_assert_int_eq(run(cmd), 0);
    /* kill within a sixth of a whole one-process run (at least 1.8 s): mostly
     * mid-search, on a fast build and under ASan alike */
    t_ref = now() - t_ref;
    double window = t_ref / 6 > 1.8 ? t_ref / 6 : 1.8;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    int kills[2] = {0, 0}, attempts = 0;
    const char *mr = mpirun();
    while ((kills[0] < 3 || kills[1] < 3) && attempts < 60) {
        int victim = kills[0] <= kills[1] ? 0 : 1 + rand() % 2;
        char tag[64];
        snprintf(tag, sizeof tag, "%d-%d", (int)getpid(), attempts++);
        snprintf(cmd, sizeof cmd,
                 "LPNAS_KILL_TAG=%s TMPDIR=%s exec %s -x LPNAS_KILL_TAG -x TMPDIR -np 3 %s " TINY
                 " --evaluations 30 --out %s %s >>%s/killed.txt 2>&1",
                 tag, tmp, mr, bin(), out, access(state, R_OK) == 0 ? "--resume" : "", dir);
        pid_t job = fork();
        ck_assert(job >= 0);
        if (job == 0) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        /* a random moment: during start-up, training, the batch barrier or the outputs */
        double at = now() + 0.4 + window * rand() / (double)RAND_MAX;
        bool killed = false;
        int status = 0;
        pid_t w = 0;
        while ((w = waitpid(job, &status, WNOHANG)) == 0 && now() < at) {
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
        }
        if (w == 0) {
            pid_t p = find_rank(tag, victim);
            if (p > 0 && kill(p, SIGKILL) == 0) {
                killed = true;
                kills[victim > 0]++;
            }
            double limit = now() + 120;
            while ((w = waitpid(job, &status, WNOHANG)) == 0 && now() < limit) {
                struct timespec ts = {0, 20000000};
                nanosleep(&ts, NULL);
            }
            if (w == 0) { /* mpirun should have ended the job: say so, and clean up */
                kill(job, SIGKILL);
                waitpid(job, &status, 0);
                ck_abort_msg("mpirun did not end the job within 2 minutes after rank %d was killed", victim);
            }
        }
        fprintf(stderr, "kill test: attempt %d: %s rank %d, mpirun exit %d\n", attempts,
                killed ? "killed" : "missed (already ended)", victim, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (!killed) /* the search finished before the kill: start the series again */
            lpnas_test_rmdir(out);
    }
    ck_assert_msg(kills[0] >= 3 && kills[1] >= 3, "only %d kills of rank 0 and %d of others in %d attempts", kills[0],
                  kills[1], attempts);
    snprintf(cmd, sizeof cmd, "%s/results.csv", out);
    FILE *rf = fopen(cmd, "r");
    int before = 0;
    char row[4096];
    while (rf && fgets(row, sizeof row, rf))
        before += strstr(row, ",ok,") != NULL;
    if (rf)
        fclose(rf);
    fprintf(stderr, "kill test: %d candidates trained before the final --resume\n", before);
    /* and finish it */
    snprintf(cmd, sizeof cmd, "%s -np 3 %s " TINY " --evaluations 30 --out %s %s >>%s/killed.txt 2>&1", mr, bin(), out,
             access(state, R_OK) == 0 ? "--resume" : "", dir);
    int rc = run(cmd);
    ck_assert_msg(rc == 0, "the final --resume exited %d (see %s/killed.txt)", rc, dir);
    same_files(ref, out, "killed and resumed");
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(ranks_with_other_options_are_refused)
{
    SKIP_WITHOUT_MPI();
    char *dir = lpnas_test_tmpdir(), cmd[4096], log[1100];
    snprintf(log, sizeof log, "%s/out.txt", dir);
    /* MPMD: rank 1 trains for 3 steps where rank 0 trains for 2 */
    snprintf(cmd, sizeof cmd, "%s -np 1 %s " TINY " --evaluations 2 --out %s/s : -np 1 %s " TINY
             " --warmup-steps 3 --evaluations 2 --out %s/s >%s 2>&1",
             mpirun(), bin(), dir, bin(), dir, log);
    int rc = run(cmd);
    ck_assert_msg(rc != 0, "differing options ran (exit 0)");
    ck_assert_msg(has_text(log, "rank 1") && has_text(log, "warmup_steps=2") && has_text(log, "warmup_steps=3"),
                  "the refusal does not name the rank and the option (see %s)", log);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(async_mode_finishes)
{
    SKIP_WITHOUT_MPI();
    char *dir = lpnas_test_tmpdir(), cmd[4096], path[1100];
    snprintf(cmd, sizeof cmd, "%s -np 3 %s " TINY " --async --evaluations 6 --out %s/a >%s/a.txt 2>&1", mpirun(),
             bin(), dir, dir);
    ck_assert_int_eq(run(cmd), 0);
    snprintf(path, sizeof path, "%s/a/results.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int ok = 0, rows = 0;
    long last = -1;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        long id = strtol(line, NULL, 10);
        ck_assert_msg(id == last + 1, "rows out of id order: %ld after %ld", id, last);
        last = id;
        rows++;
        ok += strstr(line, ",ok,") != NULL;
    }
    fclose(f);
    /* async asks exactly as slots free up: the budget is met, never passed by a batch */
    ck_assert_msg(ok == 6, "%d trained of a budget of 6 (%d rows)", ok, rows);
    /* a resume of the finished search (on another number of ranks) keeps
     * every row as it was: nothing is evaluated twice */
    FILE *raw = fopen(path, "r");
    static char bytes[1 << 16], again[1 << 16];
    size_t nb = fread(bytes, 1, sizeof bytes - 1, raw);
    fclose(raw);
    snprintf(cmd, sizeof cmd, "%s -np 2 %s " TINY " --async --evaluations 6 --resume --out %s/a >>%s/a.txt 2>&1",
             mpirun(), bin(), dir, dir);
    ck_assert_int_eq(run(cmd), 0);
    raw = fopen(path, "r");
    size_t na = fread(again, 1, sizeof again - 1, raw);
    fclose(raw);
    ck_assert_msg(na == nb && memcmp(bytes, again, nb) == 0, "results.csv changed on resume:\n%.*s\n---\n%.*s", (int)nb,
                  bytes, (int)na, again);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* The broadcast format: a round trip keeps every pixel, mask and name;
 * bad or short messages are errors. */
START_TEST(dataset_wire_round_trip)
{
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 5, so.size = 16;
    lpnas_dataset *d, *e;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
    void *buf;
    size_t n;
    ck_assert_int_eq(lpnas_dataset_pack(d, &buf, &n), LPNAS_OK);
    ck_assert_int_eq(lpnas_dataset_unpack(buf, n, &e), LPNAS_OK);
    ck_assert_int_eq(lpnas_dataset_count(e), 5);
    ck_assert_int_eq(lpnas_dataset_channels(e), lpnas_dataset_channels(d));
    for (int i = 0; i < 5; i++) {
        ck_assert(memcmp(lpnas_dataset_image(d, i), lpnas_dataset_image(e, i), 3 * 16 * 16 * sizeof(float)) == 0);
        ck_assert(memcmp(lpnas_dataset_mask(d, i), lpnas_dataset_mask(e, i), 16 * 16) == 0);
        ck_assert_str_eq(lpnas_dataset_name(d, i), lpnas_dataset_name(e, i));
    }
    lpnas_dataset_free(e);
    lpnas_dataset *x = (lpnas_dataset *)1;
    ck_assert_int_eq(lpnas_dataset_unpack(buf, n - 1, &x), LPNAS_ERR_CORRUPT); /* a name cut short */
    ck_assert_ptr_null(x);
    ck_assert_int_eq(lpnas_dataset_unpack(buf, 1000, &x), LPNAS_ERR_CORRUPT); /* pixels cut short */
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "too short"));
    ((char *)buf)[0] = 'X';
    ck_assert_int_eq(lpnas_dataset_unpack(buf, n, &x), LPNAS_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpnas_last_error(), "LPDS"));
    free(buf);
    lpnas_dataset_free(d);
}
END_TEST

/* ---- the transport abstraction without MPI: two ranks as threads ------------ */

typedef struct qmsg {
    int src, tag;
    void *buf;
    size_t n;
    struct qmsg *next;
} qmsg;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    qmsg *inbox[2];
    const void *bc;
    size_t bcn;
    int bc_gen, bc_taken;
} loop_world;

typedef struct {
    lpnas_transport t;
    loop_world *w;
    int seen_gen;
} loop_t;

static lpnas_status loop_bcast(lpnas_transport *t, void *buf, size_t n)
{
    loop_t *l = (loop_t *)t;
    loop_world *w = l->w;
    pthread_mutex_lock(&w->mu);
    if (t->rank == 0) {
        w->bc = buf, w->bcn = n, w->bc_taken = 0, w->bc_gen++;
        pthread_cond_broadcast(&w->cv);
        while (w->bc_taken < t->size - 1)
            pthread_cond_wait(&w->cv, &w->mu);
    } else {
        while (w->bc_gen == l->seen_gen)
            pthread_cond_wait(&w->cv, &w->mu);
        l->seen_gen = w->bc_gen;
        ck_assert_uint_eq(w->bcn, n);
        memcpy(buf, w->bc, n);
        w->bc_taken++;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return LPNAS_OK;
}

static lpnas_status loop_send(lpnas_transport *t, int dest, int tag, const void *buf, size_t n)
{
    loop_world *w = ((loop_t *)t)->w;
    qmsg *m = calloc(1, sizeof *m);
    m->src = t->rank, m->tag = tag, m->n = n, m->buf = malloc(n + 1);
    memcpy(m->buf, buf, n);
    pthread_mutex_lock(&w->mu);
    qmsg **q = &w->inbox[dest];
    while (*q)
        q = &(*q)->next;
    *q = m;
    pthread_mutex_unlock(&w->mu);
    return LPNAS_OK;
}

static lpnas_status loop_poll(lpnas_transport *t, int *src, int *tag, void **buf, size_t *n, bool *got)
{
    loop_world *w = ((loop_t *)t)->w;
    pthread_mutex_lock(&w->mu);
    qmsg *m = w->inbox[t->rank];
    if (m)
        w->inbox[t->rank] = m->next;
    pthread_mutex_unlock(&w->mu);
    *got = m != NULL;
    if (m) {
        *src = m->src, *tag = m->tag, *buf = m->buf, *n = m->n;
        free(m);
    }
    return LPNAS_OK;
}

static void loop_destroy(lpnas_transport *t)
{
    (void)t; /* owned by the test */
}

typedef struct {
    lpnas_search_options o;
    lpnas_status create, run;
} rank_job;

static void *other_rank(void *v)
{
    rank_job *j = v;
    lpnas_search *s = NULL;
    j->create = lpnas_search_create(&j->o, &s);
    j->run = j->create ? j->create : lpnas_search_run(s);
    lpnas_search_free(s);
    return NULL;
}

static void tiny_options(lpnas_search_options *o, lpnas_dataset *d, int *tr, int nt, int *va, int nv,
                         lpnas_latency_model *m, const char *out)
{
    lpnas_search_options_default(o);
    o->data = d, o->train = tr, o->ntrain = nt, o->val = va, o->nval = nv, o->latency = m, o->out_dir = out;
    lpnas_policy_get("fp32", &o->policy);
    o->budget_ms = 3.5, o->max_params = 120000, o->population = 8, o->sample = 4;
    o->space.max_stages = 3, o->space.n_widths = 6;
    o->warmup_steps = 2, o->finetune_steps = 1, o->batch = 2, o->evaluations = 5;
}

/* lpnas_search over a transport: rank 1 gets the data by broadcast and
 * evaluates; the rows equal a search without a transport, in both modes'
 * guarantees: the batch mode exactly, --async in count and order. */
START_TEST(search_over_a_transport_of_threads)
{
    lpnas_synth_options so;
    lpnas_synth_options_default(&so);
    so.count = 16;
    lpnas_dataset *d;
    lpnas_latency_model *m;
    int *tr, *va, nt, nv;
    ck_assert_int_eq(lpnas_dataset_synthetic(&so, &d), LPNAS_OK);
    ck_assert_int_eq(lpnas_latency_model_myriadx(NULL, &m), LPNAS_OK);
    ck_assert_int_eq(lpnas_dataset_split(d, 0.2, 1, &tr, &nt, &va, &nv), LPNAS_OK);
    char *dir = lpnas_test_tmpdir(), plain[1024], dist[1024];
    snprintf(plain, sizeof plain, "%s/plain", dir);
    lpnas_search_options o;
    tiny_options(&o, d, tr, nt, va, nv, m, plain);
    lpnas_search *s;
    ck_assert_int_eq(lpnas_search_create(&o, &s), LPNAS_OK);
    ck_assert_int_eq(lpnas_search_run(s), LPNAS_OK);
    lpnas_search_row *ra, *rb;
    size_t na, nb;
    ck_assert_int_eq(lpnas_search_rows(s, &ra, &na), LPNAS_OK);
    lpnas_search_free(s);
    for (int async = 0; async <= 1; async++) {
        loop_world w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
        loop_t t[2];
        memset(t, 0, sizeof t);
        for (int k = 0; k < 2; k++) {
            t[k].t.rank = k, t[k].t.size = 2, t[k].w = &w;
            snprintf(t[k].t.host, sizeof t[k].t.host, "thread%d", k);
            t[k].t.bcast = loop_bcast, t[k].t.send = loop_send, t[k].t.poll = loop_poll, t[k].t.destroy = loop_destroy;
        }
        snprintf(dist, sizeof dist, "%s/dist%d", dir, async);
        rank_job j;
        tiny_options(&j.o, NULL, NULL, 0, NULL, 0, NULL, "/nonexistent/never-written");
        j.o.transport = &t[1].t, j.o.async = async;
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, other_rank, &j), 0);
        tiny_options(&o, d, tr, nt, va, nv, m, dist);
        o.transport = &t[0].t, o.async = async;
        ck_assert_int_eq(lpnas_search_create(&o, &s), LPNAS_OK);
        ck_assert_msg(lpnas_search_run(s) == LPNAS_OK, "%s", lpnas_last_error());
        pthread_join(th, NULL);
        ck_assert_msg(j.create == LPNAS_OK && j.run == LPNAS_OK, "rank 1: %d %d", j.create, j.run);
        ck_assert_int_eq(lpnas_search_rows(s, &rb, &nb), LPNAS_OK);
        lpnas_search_free(s);
        if (!async) {
            ck_assert_uint_eq(na, nb);
            for (size_t i = 0; i < na; i++) {
                ck_assert_str_eq(ra[i].arch, rb[i].arch);
                ck_assert_int_eq(ra[i].status, rb[i].status);
                ck_assert(memcmp(&ra[i].miou_aligned, &rb[i].miou_aligned, sizeof(double)) == 0);
                ck_assert(memcmp(&ra[i].miou_fp32, &rb[i].miou_fp32, sizeof(double)) == 0);
            }
        } else {
            int ok = 0;
            for (size_t i = 0; i < nb; i++) {
                ok += rb[i].status == 1;
                ck_assert_int_eq(rb[i].id, (long)i);
            }
            ck_assert_int_eq(ok, 5);
        }
        char path[1100];
        snprintf(path, sizeof path, "%s/best.lpm", dist); /* models came back from rank 1 or were made here */
        ck_assert_msg(access(path, R_OK) == 0, "no %s", path);
        free(rb);
        ck_assert_ptr_null(w.inbox[0]);
        ck_assert_ptr_null(w.inbox[1]);
    }
    free(ra);
    free(tr), free(va);
    lpnas_latency_model_free(m);
    lpnas_dataset_free(d);
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* Rank 1 cannot write its models (an injected full disk in its scratch
 * folder): rank 0 stops with a message naming the candidate, the rank and
 * the cause, exit 1; a --resume without the fault ends with the rows of a
 * run that never failed. */
START_TEST(a_rank_that_cannot_write_stops_cleanly)
{
    SKIP_WITHOUT_MPI();
    char *dir = lpnas_test_tmpdir(), cmd[4096], log[1100], ref[1100], out[1100];
    snprintf(log, sizeof log, "%s/out.txt", dir);
    snprintf(ref, sizeof ref, "%s/ref", dir);
    snprintf(out, sizeof out, "%s/s", dir);
    snprintf(cmd, sizeof cmd, "%s " TINY " --evaluations 4 --out %s >/dev/null 2>&1", bin(), ref);
    ck_assert_int_eq(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "LPNAS_FAULT_PATH=lpnas-rank1- %s -x LPNAS_FAULT_PATH -np 2 %s " TINY
             " --evaluations 4 --out %s >%s 2>&1", mpirun(), bin(), out, log);
    int rc = run(cmd);
    ck_assert_msg(rc == 1, "exit %d with rank 1's disk full (see %s)", rc, log);
    ck_assert_msg(has_text(log, "on rank 1 (") && has_text(log, "cand-") && has_text(log, "--resume"),
                  "the message does not name the rank, the file and the way on (see %s)", log);
    snprintf(cmd, sizeof cmd, "%s -np 2 %s " TINY " --evaluations 4 --resume --out %s >>%s 2>&1", mpirun(), bin(), out,
             log);
    ck_assert_int_eq(run(cmd), 0);
    same_files(ref, out, "resumed after rank 1's full disk");
    lpnas_test_rmdir(dir);
    free(dir);
}
END_TEST

/* The options this issue added: out of range is exit 2, like the others. */
START_TEST(bad_distributed_options)
{
    const lpnas_program_case cases[] = {
        {"--search-batch 0", 2}, {"--search-batch 2000", 2}, {"--search-batch x", 2},
        {"--train-batch 0", 2},  {"--train-batch 1.5", 2},   {"--async --help", 0},
    };
    lpnas_test_program_statuses("vessel_search", cases, sizeof cases / sizeof cases[0]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("distributed");
    TCase *t = lpnas_tcase("distributed");
    tcase_add_test(t, dataset_wire_round_trip);
    tcase_add_test(t, bad_distributed_options);
    tcase_add_test(t, search_over_a_transport_of_threads);
    tcase_add_test(t, same_rows_on_any_number_of_ranks);
    tcase_add_test(t, ranks_with_other_options_are_refused);
    tcase_add_test(t, async_mode_finishes);
    tcase_add_test(t, a_rank_that_cannot_write_stops_cleanly);
    tcase_add_test(t, kill_any_rank_then_resume);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
