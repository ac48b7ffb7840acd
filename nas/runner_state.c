/* The runner's durable state (nas/runner.h, docs/formats.md):
 *
 * search.journal, append-only, one record per asked candidate and one per
 * finished evaluation, each fsynced:
 *   u32 "LPRC" | candidate fields | u32 CRC-32 of the record
 * search.state, a small snapshot rewritten atomically once per batch:
 *   "LPNASRUN" | u32 version 2 | u32 n | n bytes of configuration
 *   ("key=value" lines) | u64 count | u64 told | i32 rejections
 *   | i32 duplicate run | u64 journal bytes covered | u32 CRC | strategy
 *
 * Every record up to the covered length must be intact. After it, the
 * journal may hold results of the open batch (finished after the
 * snapshot: kept) and then at most a torn record or the asks of a batch
 * whose snapshot never landed (cut off: they are asked again, identically). */
#include "nas/runner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/binio.h"
#include "base/error.h"
#include "base/fault.h"

static const char state_magic[8] = {'L', 'P', 'N', 'A', 'S', 'R', 'U', 'N'};
#define STATE_VERSION 2u
#define RECORD_TAG 0x4352504cu /* "LPRC" */
#define MAX_CONFIG (64u << 10)
/* A record is at least this long: tag, fixed fields, both text fields, CRC. */
#define MIN_RECORD (4u + 8 + 4 + LPNAS_ARCH_TEXT_MAX + 8 * 3 + 8 * 5 + 8 + 8 + 4 + 8 + LPNAS_REASON_MAX + \
                    8 * LPNAS_MAX_OBJECTIVES + 8 + 8 + 4 + 4)

/* ---- configuration ------------------------------------------------------- */

lpnas_status lpnas_runner_build_config(lpnas_runner *r)
{
    const lpnas_strategy_options *s = &r->opt.strategy;
    const char *user = r->opt.config ? r->opt.config : "";
    size_t cap = strlen(user) + 512;
    free(r->config);
    r->config = malloc(cap);
    if (!r->config)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    snprintf(r->config, cap,
             "batch=%d\nstrategy=%s\npopulation=%d\nsample=%d\ncrossover=%.17g\nobjectives=%d\nseed=%llu\n"
             "max_rejections=%d\nmax_duplicates=%d\n%s%s%s",
             r->opt.batch, lpnas_strategy_kind_name(s->kind), s->population, s->sample, s->crossover_prob, s->n_obj,
             (unsigned long long)s->seed, r->opt.max_rejections, r->opt.max_duplicates,
             r->opt.async ? "schedule=async\n" : "", user,
             *user && user[strlen(user) - 1] != '\n' ? "\n" : "");
    return LPNAS_OK;
}

/* The value of key in a "key=value" text, as a pointer and length; NULL if absent. */
static const char *config_value(const char *text, const char *key, size_t klen, size_t *vlen)
{
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > klen && line[klen] == '=' && strncmp(line, key, klen) == 0) {
            *vlen = len - klen - 1;
            return line + klen + 1;
        }
        line += len + (end != NULL);
    }
    return NULL;
}

/* Every key of a in b with the same value; names the first that is not. */
static lpnas_status config_diff(const char *path, const char *stored, const char *mine, bool stored_side)
{
    const char *a = stored_side ? stored : mine, *b = stored_side ? mine : stored;
    for (const char *line = a; *line;) {
        const char *end = strchr(line, '\n'), *eq = strchr(line, '=');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (eq && eq < line + len) {
            size_t klen = (size_t)(eq - line), alen = len - klen - 1, blen = 0;
            const char *bv = config_value(b, line, klen, &blen);
            const char *sv = stored_side ? eq + 1 : bv, *mv = stored_side ? bv : eq + 1;
            size_t sl = stored_side ? alen : blen, ml = stored_side ? blen : alen;
            if (!bv || blen != alen || memcmp(bv, eq + 1, alen) != 0)
                return lpnas_fail(LPNAS_ERR_ARG,
                                  "%s: option %.*s differs: the search ran with %.*s, this run has %.*s (resume with "
                                  "the original options, or start a new search with --overwrite)",
                                  path, (int)klen, line, sv ? (int)sl : 6, sv ? sv : "(none)", mv ? (int)ml : 6,
                                  mv ? mv : "(none)");
        }
        line += len + (end != NULL);
    }
    return LPNAS_OK;
}

/* ---- records ------------------------------------------------------------- */

static void put_candidate(lpnas_binio *b, const lpnas_candidate *c)
{
    lpnas_binio_u64_w(b, c->id);
    lpnas_binio_i32_w(b, c->genome.n);
    for (int i = 0; i < c->genome.n; i++) lpnas_binio_i32_w(b, c->genome.g[i]);
    lpnas_binio_bytes_w(b, c->arch, sizeof c->arch);
    lpnas_binio_u64_w(b, (uint64_t)c->params);
    lpnas_binio_u64_w(b, (uint64_t)c->flops);
    lpnas_binio_u64_w(b, (uint64_t)c->peak_bytes);
    lpnas_binio_f64_w(b, c->latency_ms);
    lpnas_binio_f64_w(b, c->miou_fp32);
    lpnas_binio_f64_w(b, c->miou_posthoc);
    lpnas_binio_f64_w(b, c->miou_aligned);
    lpnas_binio_f64_w(b, c->vessel_iou);
    lpnas_binio_u64_w(b, (uint64_t)c->skipped_steps);
    lpnas_binio_f64_w(b, c->seconds);
    lpnas_binio_u32_w(b, (uint32_t)c->status);
    lpnas_binio_u64_w(b, (uint64_t)c->dup_of);
    lpnas_binio_bytes_w(b, c->reason, sizeof c->reason);
    for (int k = 0; k < LPNAS_MAX_OBJECTIVES; k++) lpnas_binio_f64_w(b, c->outcome.point.obj[k]);
    lpnas_binio_f64_w(b, c->outcome.point.violation);
    lpnas_binio_f64_w(b, c->outcome.fitness);
    lpnas_binio_u32_w(b, c->outcome.failed);
    /* the pruner: validation mIoU at each checkpoint and the thresholds set
     * when the candidate was asked, so a resumed candidate prunes as in a
     * straight run */
    for (int k = 0; k < LPNAS_PRUNE_POINTS; k++) lpnas_binio_f64_w(b, c->curve[k]);
    for (int k = 0; k < LPNAS_PRUNE_POINTS; k++) lpnas_binio_f64_w(b, c->prune_median[k]);
}

static bool get_candidate(lpnas_binio *b, lpnas_candidate *c)
{
    memset(c, 0, sizeof *c);
    c->id = lpnas_binio_u64_r(b);
    c->genome.n = lpnas_binio_i32_r(b);
    if (b->failed || c->genome.n < 0 || c->genome.n > LPNAS_GENOME_MAX) return false;
    for (int i = 0; i < c->genome.n; i++) c->genome.g[i] = lpnas_binio_i32_r(b);
    lpnas_binio_bytes_r(b, c->arch, sizeof c->arch);
    c->arch[sizeof c->arch - 1] = '\0';
    c->params = (int64_t)lpnas_binio_u64_r(b);
    c->flops = (int64_t)lpnas_binio_u64_r(b);
    c->peak_bytes = (int64_t)lpnas_binio_u64_r(b);
    c->latency_ms = lpnas_binio_f64_r(b);
    c->miou_fp32 = lpnas_binio_f64_r(b);
    c->miou_posthoc = lpnas_binio_f64_r(b);
    c->miou_aligned = lpnas_binio_f64_r(b);
    c->vessel_iou = lpnas_binio_f64_r(b);
    c->skipped_steps = (int64_t)lpnas_binio_u64_r(b);
    c->seconds = lpnas_binio_f64_r(b);
    uint32_t status = lpnas_binio_u32_r(b);
    c->dup_of = (int64_t)lpnas_binio_u64_r(b);
    lpnas_binio_bytes_r(b, c->reason, sizeof c->reason);
    c->reason[sizeof c->reason - 1] = '\0';
    for (int k = 0; k < LPNAS_MAX_OBJECTIVES; k++) c->outcome.point.obj[k] = lpnas_binio_f64_r(b);
    c->outcome.point.violation = lpnas_binio_f64_r(b);
    c->outcome.fitness = lpnas_binio_f64_r(b);
    c->outcome.failed = lpnas_binio_u32_r(b) != 0;
    for (int k = 0; k < LPNAS_PRUNE_POINTS; k++) c->curve[k] = lpnas_binio_f64_r(b);
    for (int k = 0; k < LPNAS_PRUNE_POINTS; k++) c->prune_median[k] = lpnas_binio_f64_r(b);
    c->status = (lpnas_cand_status)status;
    return !b->failed && status <= LPNAS_CAND_PRUNED;
}

/* One whole record with its CRC; false on a short, torn or corrupt one. */
static bool read_record(FILE *f, lpnas_candidate *c)
{
    lpnas_binio b;
    lpnas_binio_init(&b, f);
    if (lpnas_binio_u32_r(&b) != RECORD_TAG || b.failed)
        return false;
    bool ok = get_candidate(&b, c);
    uint32_t crc = b.crc;
    return ok && lpnas_binio_u32_r(&b) == crc && !b.failed;
}

lpnas_status lpnas_runner_journal_open(lpnas_runner *r, bool fresh)
{
    char path[4096];
    lpnas_status st = lpnas_runner_path(r, "search.journal", path, sizeof path);
    if (st) return st;
    r->journal = fopen(path, fresh ? "wb" : "ab");
    if (!r->journal) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fresh) r->journal_len = 0;
    return LPNAS_OK;
}

lpnas_status lpnas_runner_journal_sync(lpnas_runner *r)
{
    if (fflush(r->journal) != 0 || fsync(fileno(r->journal)) != 0)
        return lpnas_fail(LPNAS_ERR_IO, "%s/search.journal: flush failed: %s", r->opt.out_dir, strerror(errno));
    return LPNAS_OK;
}

lpnas_status lpnas_runner_journal_append(lpnas_runner *r, const lpnas_candidate *c, bool sync)
{
    lpnas_binio b;
    lpnas_binio_init(&b, r->journal);
    if (lpnas_fault_write("search.journal"))
        b.failed = true; /* an injected full disk (base/fault.h) */
    lpnas_binio_u32_w(&b, RECORD_TAG);
    put_candidate(&b, c);
    uint32_t crc = b.crc;
    lpnas_binio_u32_w(&b, crc);
    if (b.failed || fflush(r->journal) != 0 || (sync && fsync(fileno(r->journal)) != 0)) {
        lpnas_status st = lpnas_fail(LPNAS_ERR_IO, "%s/search.journal: write failed: %s", r->opt.out_dir,
                                     strerror(errno));
        /* a torn record must not stay in front of later good ones: cut it off */
        clearerr(r->journal);
        if (ftruncate(fileno(r->journal), (off_t)r->journal_len) != 0) { /* the loader skips it anyway */ }
        return st;
    }
    long at = ftell(r->journal);
    r->journal_len = at > 0 ? (uint64_t)at : r->journal_len;
    return LPNAS_OK;
}

/* ---- the snapshot -------------------------------------------------------- */

lpnas_status lpnas_runner_save_state(lpnas_runner *r)
{
    char path[4096], tmp[4100];
    lpnas_status st = lpnas_runner_path(r, "search.state", path, sizeof path);
    if (st) return st;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    lpnas_binio b;
    lpnas_binio_init(&b, f);
    if (lpnas_fault_write(tmp))
        b.failed = true;
    lpnas_binio_bytes_w(&b, state_magic, sizeof state_magic);
    lpnas_binio_u32_w(&b, STATE_VERSION);
    uint32_t n = (uint32_t)strlen(r->config);
    lpnas_binio_u32_w(&b, n);
    lpnas_binio_bytes_w(&b, r->config, n);
    lpnas_binio_u64_w(&b, r->count);
    lpnas_binio_u64_w(&b, r->told);
    lpnas_binio_i32_w(&b, r->rejections);
    lpnas_binio_i32_w(&b, r->duplicate_run);
    lpnas_binio_u64_w(&b, r->journal_len);
    uint32_t crc = b.crc;
    lpnas_binio_u32_w(&b, crc);
    st = b.failed ? lpnas_fail(LPNAS_ERR_IO, "%s: write failed: %s", tmp, strerror(errno))
                  : lpnas_strategy_save(r->strategy, f);
    if (!st && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = lpnas_fail(LPNAS_ERR_IO, "%s: flush failed: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && !st) st = lpnas_fail(LPNAS_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    if (!st && rename(tmp, path) != 0)
        st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot replace: %s", path, strerror(errno));
    if (st) {
        remove(tmp);
        return st;
    }
    int dfd = open(r->opt.out_dir, O_RDONLY); /* make the rename itself durable */
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return LPNAS_OK;
}

static long file_size(FILE *f)
{
    struct stat sb;
    return fstat(fileno(f), &sb) == 0 ? (long)sb.st_size : -1;
}

/* The journal: every covered record, then the results that landed after
 * the snapshot. Ids never seen stay UINT64_MAX. */
static lpnas_status replay_journal(lpnas_runner *r, const char *path, uint64_t covered)
{
    FILE *f = fopen(path, "rb");
    if (!f) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    long size = file_size(f);
    if (size < 0 || (uint64_t)size < covered || covered / MIN_RECORD < r->count) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: %ld bytes, but the state records %llu bytes of %zu candidates", path,
                          size, (unsigned long long)covered, r->count);
    }
    lpnas_candidate c;
    lpnas_status st = LPNAS_OK;
    uint64_t at = 0;
    while (!st && at < covered) {
        if (!read_record(f, &c) || c.id >= r->count)
            st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: record at byte %llu is corrupt", path, (unsigned long long)at);
        else
            r->cand[c.id] = c;
        long pos = ftell(f);
        at = pos > 0 ? (uint64_t)pos : covered + 1;
    }
    if (!st && at != covered)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: records do not end at byte %llu", path, (unsigned long long)covered);
    uint64_t good = at;
    while (!st && read_record(f, &c)) { /* results of the open batch that finished after the snapshot */
        if (c.id < r->told || c.id >= r->count || r->cand[c.id].id != c.id ||
            r->cand[c.id].status != LPNAS_CAND_PENDING ||
            (c.status != LPNAS_CAND_OK && c.status != LPNAS_CAND_FAILED && c.status != LPNAS_CAND_PRUNED))
            break;
        r->cand[c.id] = c;
        long pos = ftell(f);
        good = pos > 0 ? (uint64_t)pos : good;
    }
    fclose(f);
    if (!st && (uint64_t)size > good && !r->check_only && truncate(path, (off_t)good) != 0)
        st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot cut off a torn record: %s", path, strerror(errno));
    r->journal_len = good;
    return st;
}

/* Every candidate present, final where told, inside the space. */
static lpnas_status check_records(lpnas_runner *r, const char *path)
{
    for (size_t i = 0; i < r->count; i++) {
        const lpnas_candidate *c = &r->cand[i];
        if (c->id != i)
            return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: candidate %zu has no record", path, i);
        if (i < r->told && c->status == LPNAS_CAND_PENDING)
            return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: candidate %zu was told but never finished", path, i);
        if (c->status == LPNAS_CAND_DUPLICATE && (c->dup_of < 0 || (uint64_t)c->dup_of >= i))
            return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: candidate %zu is a duplicate of %lld", path, i,
                              (long long)c->dup_of);
        if (r->problem.valid && !r->problem.valid(r->problem.ctx, &c->genome))
            return lpnas_fail(LPNAS_ERR_CORRUPT,
                              "%s: candidate %zu (%s) is outside this run's search space (space options differ?)", path,
                              i, c->arch);
    }
    return LPNAS_OK;
}

lpnas_status lpnas_runner_load_state(lpnas_runner *r)
{
    char path[4096], jpath[4096];
    lpnas_status st = lpnas_runner_path(r, "search.state", path, sizeof path);
    if (!st) st = lpnas_runner_path(r, "search.journal", jpath, sizeof jpath);
    if (st) return st;
    FILE *f = fopen(path, "rb");
    if (!f && errno == ENOENT)
        return lpnas_fail(LPNAS_ERR_IO,
                          "%s: nothing to resume yet: no search.state (no batch was started here); start the search "
                          "without --resume",
                          r->opt.out_dir);
    if (!f) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open for --resume: %s", path, strerror(errno));
    long size = file_size(f);
    lpnas_binio b;
    lpnas_binio_init(&b, f);
    char magic[8];
    lpnas_binio_bytes_r(&b, magic, sizeof magic);
    uint32_t version = lpnas_binio_u32_r(&b), n = lpnas_binio_u32_r(&b);
    char *stored = NULL;
    if (b.failed || memcmp(magic, state_magic, sizeof magic) != 0)
        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: not a search state file (bad magic)", path);
    else if (version != STATE_VERSION)
        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: state version %u, this build reads %u", path, version, STATE_VERSION);
    else if (n > MAX_CONFIG || size < 0 || (long)n > size) /* checked against the real length before allocating */
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: configuration of %u bytes in a %ld-byte file", path, n, size);
    else if (!(stored = malloc(n + 1)))
        st = lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", path);
    if (!st) {
        lpnas_binio_bytes_r(&b, stored, n);
        stored[n] = 0;
    }
    uint64_t count = lpnas_binio_u64_r(&b), told = lpnas_binio_u64_r(&b);
    r->rejections = lpnas_binio_i32_r(&b);
    r->duplicate_run = lpnas_binio_i32_r(&b);
    uint64_t covered = lpnas_binio_u64_r(&b);
    uint32_t crc = b.crc;
    if (!st && (b.failed || lpnas_binio_u32_r(&b) != crc))
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: truncated or corrupt header (checksum)", path);
    if (!st && (strlen(stored) != n || told > count || count > (1u << 24) || r->rejections < 0 || r->duplicate_run < 0))
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: implausible header fields", path);
    if (!st && !(st = config_diff(path, stored, r->config, true)))
        st = config_diff(path, stored, r->config, false);
    if (!st) {
        lpnas_strategy_free(r->strategy);
        r->strategy = NULL;
        if ((st = lpnas_strategy_load(f, &r->problem.space, &r->strategy)))
            lpnas_error_prefix("%s: ", path);
    }
    fclose(f);
    free(stored);
    if (st) return st;
    r->count = (size_t)count, r->told = (size_t)told;
    if (covered / MIN_RECORD < count) /* before allocating: the journal must be able to hold them */
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: %llu candidates cannot fit in %llu journal bytes", path,
                          (unsigned long long)count, (unsigned long long)covered);
    if ((st = lpnas_runner_reserve(r, r->count ? r->count : 1))) return st;
    for (size_t i = 0; i < r->count; i++) r->cand[i].id = UINT64_MAX;
    if ((st = replay_journal(r, jpath, covered)) || (st = check_records(r, jpath))) {
        r->count = 0;
        return st;
    }
    /* Result records are written the moment a candidate finishes, before it
     * is scored; scoring is a pure function of the measurements and the
     * (checked) configuration, so it is redone here for every finished one. */
    for (size_t i = 0; i < r->count; i++) {
        r->cand[i].weight_bytes = -1;
        if (r->problem.derive)
            r->problem.derive(r->problem.ctx, &r->cand[i]);
    }
    for (size_t i = 0; i < r->count && r->problem.score; i++) {
        lpnas_candidate *c = &r->cand[i];
        if (c->status == LPNAS_CAND_OK || c->status == LPNAS_CAND_FAILED || c->status == LPNAS_CAND_PRUNED) {
            r->problem.score(r->problem.ctx, c);
            c->outcome.failed = c->status == LPNAS_CAND_FAILED;
        } else if (c->status == LPNAS_CAND_DUPLICATE && lpnas_runner_settle_duplicate(r, c)) {
            c->outcome = r->cand[c->dup_of].outcome;
        }
    }
    return LPNAS_OK;
}
