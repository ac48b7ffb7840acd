/* The runner's files: results.csv rows, pareto.csv, and the state file
 * (atomic rewrite: temp file + fsync + rename). */
#include "nas/runner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/binio.h"
#include "base/error.h"

static const char *const status_names[] = {"pending", "ok", "infeasible", "failed", "duplicate", "pruned"};

const char *lpnas_cand_status_name(lpnas_cand_status s)
{
    return (unsigned)s < 6 ? status_names[s] : "unknown";
}

const char lpnas_results_header[] =
    "id,arch,params,flops,latency_ms,peak_bytes,miou_fp32,miou_posthoc,miou_aligned,vessel_iou,"
    "skipped_steps,seconds,status,reason\n";

/* A CSV field in double quotes, inner quotes doubled (RFC 4180). */
static size_t put_quoted(char *dst, size_t cap, const char *s)
{
    size_t k = 0;
    if (k < cap) dst[k++] = '"';
    for (; *s && k + 2 < cap; s++) {
        if (*s == '"') dst[k++] = '"';
        dst[k++] = (*s == '\n' || *s == '\r') ? ' ' : *s;
    }
    if (k < cap) dst[k++] = '"';
    return k;
}

static size_t put_num(char *dst, size_t cap, const char *fmt, double v)
{
    if (isnan(v)) return 0; /* not measured: empty field */
    int n = snprintf(dst, cap, fmt, v);
    return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

size_t lpnas_format_result_row(const lpnas_candidate *c, char *buf, size_t cap)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, cap - k, "%llu,", (unsigned long long)c->id);
    k += put_quoted(buf + k, cap - k, c->arch);
    k += (size_t)snprintf(buf + k, cap - k, ",%lld,%lld,", (long long)c->params, (long long)c->flops);
    k += put_num(buf + k, cap - k, "%.4f", c->latency_ms);
    k += (size_t)snprintf(buf + k, cap - k, ",%lld,", (long long)c->peak_bytes);
    k += put_num(buf + k, cap - k, "%.6f", c->miou_fp32);
    buf[k++] = ',';
    k += put_num(buf + k, cap - k, "%.6f", c->miou_posthoc);
    buf[k++] = ',';
    k += put_num(buf + k, cap - k, "%.6f", c->miou_aligned);
    buf[k++] = ',';
    k += put_num(buf + k, cap - k, "%.6f", c->vessel_iou);
    k += (size_t)snprintf(buf + k, cap - k, ",%lld,", (long long)c->skipped_steps);
    k += put_num(buf + k, cap - k, "%.2f", c->seconds);
    k += (size_t)snprintf(buf + k, cap - k, ",%s,", lpnas_cand_status_name(c->status));
    k += put_quoted(buf + k, cap - k, c->reason);
    if (k + 1 < cap) buf[k++] = '\n';
    buf[k] = '\0';
    return k;
}

lpnas_status lpnas_runner_path(const lpnas_runner *r, const char *name, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", r->opt.out_dir, name);
    if (n < 0 || (size_t)n >= cap)
        return lpnas_fail(LPNAS_ERR_ARG, "output folder name is too long: %s", r->opt.out_dir);
    return LPNAS_OK;
}

/* Appends every finished row that is next in id order; flushes. */
lpnas_status lpnas_runner_append_rows(lpnas_runner *r)
{
    char row[2048];
    bool wrote = false;
    while (r->rows_written < r->count && r->cand[r->rows_written].status != LPNAS_CAND_PENDING) {
        size_t n = lpnas_format_result_row(&r->cand[r->rows_written], row, sizeof row);
        if (fwrite(row, 1, n, r->csv) != n)
            return lpnas_fail(LPNAS_ERR_IO, "%s/results.csv: write failed: %s", r->opt.out_dir, strerror(errno));
        r->csv_len += n;
        r->rows_written++;
        wrote = true;
    }
    if (wrote && fflush(r->csv) != 0)
        return lpnas_fail(LPNAS_ERR_IO, "%s/results.csv: flush failed: %s", r->opt.out_dir, strerror(errno));
    return LPNAS_OK;
}

/* Opens results.csv for appending: new (header only) or, on resume, cut
 * back to the length the state recorded. */
lpnas_status lpnas_runner_open_csv(lpnas_runner *r, bool fresh)
{
    char path[4096];
    lpnas_status st = lpnas_runner_path(r, "results.csv", path, sizeof path);
    if (st) return st;
    if (fresh) {
        r->csv = fopen(path, "w");
        if (!r->csv) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        size_t n = strlen(lpnas_results_header);
        if (fwrite(lpnas_results_header, 1, n, r->csv) != n || fflush(r->csv) != 0)
            return lpnas_fail(LPNAS_ERR_IO, "%s: write failed", path);
        r->csv_len = n;
        return LPNAS_OK;
    }
    if (truncate(path, (off_t)r->csv_len) != 0)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot cut back to %llu bytes for resume: %s", path,
                          (unsigned long long)r->csv_len, strerror(errno));
    r->csv = fopen(path, "a");
    if (!r->csv) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return LPNAS_OK;
}

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
    for (int k = 0; k < LPNAS_PRUNE_POINTS; k++) lpnas_binio_f64_w(b, c->curve[k]); /* version 2 */
}

static bool get_candidate(lpnas_binio *b, lpnas_candidate *c, uint32_t version)
{
    memset(c, 0, sizeof *c);
    c->id = lpnas_binio_u64_r(b);
    c->genome.n = lpnas_binio_i32_r(b);
    if (c->genome.n < 0 || c->genome.n > LPNAS_GENOME_MAX) return false;
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
    for (int k = 0; k < LPNAS_PRUNE_POINTS; k++) {
        c->curve[k] = version >= 2 ? lpnas_binio_f64_r(b) : NAN; /* version 1: no pruner */
        c->prune_median[k] = NAN;
    }
    c->status = (lpnas_cand_status)status;
    return !b->failed && status <= LPNAS_CAND_PRUNED;
}

static const char state_magic[8] = {'L', 'P', 'N', 'A', 'S', 'R', 'U', 'N'};
#define STATE_VERSION 2u /* 2: pruner curves; version 1 files are read too */

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
    lpnas_binio_bytes_w(&b, state_magic, sizeof state_magic);
    lpnas_binio_u32_w(&b, STATE_VERSION);
    lpnas_binio_i32_w(&b, r->opt.budget);
    lpnas_binio_i32_w(&b, r->opt.batch);
    lpnas_binio_u64_w(&b, r->count);
    lpnas_binio_u64_w(&b, r->rows_written);
    lpnas_binio_u64_w(&b, r->csv_len);
    lpnas_binio_i32_w(&b, r->rejections);
    lpnas_binio_i32_w(&b, r->duplicate_run);
    lpnas_binio_u32_w(&b, r->batch_told ? 1u : 0u);
    for (size_t i = 0; i < r->count; i++) put_candidate(&b, &r->cand[i]);
    uint32_t crc = b.crc;
    lpnas_binio_u32_w(&b, crc);
    st = b.failed ? lpnas_fail(LPNAS_ERR_IO, "%s: write failed", tmp) : lpnas_strategy_save(r->strategy, f);
    if (!st && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = lpnas_fail(LPNAS_ERR_IO, "%s: flush failed: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && !st) st = lpnas_fail(LPNAS_ERR_IO, "%s: close failed", tmp);
    if (!st && rename(tmp, path) != 0)
        st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot replace: %s", path, strerror(errno));
    if (st) {
        remove(tmp);
        return st;
    }
    /* Make the rename itself durable. */
    int dfd = open(r->opt.out_dir, O_RDONLY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return LPNAS_OK;
}

lpnas_status lpnas_runner_load_state(lpnas_runner *r)
{
    char path[4096];
    lpnas_status st = lpnas_runner_path(r, "search.state", path, sizeof path);
    if (st) return st;
    FILE *f = fopen(path, "rb");
    if (!f) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open for --resume: %s", path, strerror(errno));
    lpnas_binio b;
    lpnas_binio_init(&b, f);
    char magic[8];
    lpnas_binio_bytes_r(&b, magic, sizeof magic);
    if (b.failed || memcmp(magic, state_magic, sizeof magic) != 0) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: not a search state file (bad magic)", path);
    }
    uint32_t version = lpnas_binio_u32_r(&b);
    if (version != STATE_VERSION && version != 1) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: state version %u, this build reads %u", path, version,
                          STATE_VERSION);
    }
    (void)lpnas_binio_i32_r(&b); /* budget: the resuming run's own budget wins */
    int batch = lpnas_binio_i32_r(&b);
    uint64_t count = lpnas_binio_u64_r(&b);
    r->rows_written = (size_t)lpnas_binio_u64_r(&b);
    r->csv_len = lpnas_binio_u64_r(&b);
    r->rejections = lpnas_binio_i32_r(&b);
    r->duplicate_run = lpnas_binio_i32_r(&b);
    r->batch_told = lpnas_binio_u32_r(&b) != 0;
    if (b.failed || count > (1u << 24) || r->rows_written > count) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: truncated or corrupt header", path);
    }
    if (batch != r->opt.batch) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_ARG, "%s: the search ran with batch %d, resume asks for %d (results would differ)",
                          path, batch, r->opt.batch);
    }
    st = lpnas_runner_reserve(r, (size_t)count);
    for (size_t i = 0; !st && i < count; i++) {
        if (!get_candidate(&b, &r->cand[i], version) || r->cand[i].id != i)
            st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: candidate record %zu is truncated or corrupt", path, i);
    }
    uint32_t crc = b.crc;
    if (!st && lpnas_binio_u32_r(&b) != crc)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: checksum mismatch", path);
    if (!st) {
        r->count = (size_t)count;
        lpnas_strategy_free(r->strategy);
        r->strategy = NULL;
        st = lpnas_strategy_load(f, &r->problem.space, &r->strategy);
        if (st) lpnas_error_prefix("%s: ", path);
    }
    fclose(f);
    return st;
}

/* pareto.csv: the OK candidates no other OK candidate dominates. */
lpnas_status lpnas_runner_write_pareto(lpnas_runner *r)
{
    char path[4096], tmp[4100], row[2048];
    lpnas_status st = lpnas_runner_path(r, "pareto.csv", path, sizeof path);
    if (st) return st;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    fputs(lpnas_results_header, f);
    int n_obj = r->opt.strategy.n_obj;
    for (size_t i = 0; i < r->count; i++) {
        const lpnas_candidate *a = &r->cand[i];
        if (a->status != LPNAS_CAND_OK) continue;
        bool dominated = false;
        for (size_t j = 0; j < r->count && !dominated; j++) {
            const lpnas_candidate *b = &r->cand[j];
            dominated = b->status == LPNAS_CAND_OK && lpnas_dominates(&b->outcome.point, &a->outcome.point, n_obj);
        }
        if (!dominated) fwrite(row, 1, lpnas_format_result_row(a, row, sizeof row), f);
    }
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        remove(tmp);
        return lpnas_fail(LPNAS_ERR_IO, "%s: write failed", path);
    }
    return LPNAS_OK;
}
