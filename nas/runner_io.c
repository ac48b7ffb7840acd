/* The runner's text files: results.csv rows (appended and fsynced, rebuilt
 * from the records on resume) and pareto.csv (atomic rewrite). The state
 * and journal are in runner_state.c. */
#include "nas/runner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fault.h"

static const char *const status_names[] = {"pending", "ok", "infeasible", "failed", "duplicate", "pruned"};

const char *lpnas_cand_status_name(lpnas_cand_status s)
{
    return (unsigned)s < 6 ? status_names[s] : "unknown";
}

const char lpnas_results_header[] =
    "id,arch,params,flops,latency_ms,peak_bytes,miou_fp32,miou_posthoc,miou_aligned,vessel_iou,"
    "skipped_steps,seconds,status,reason,weight_bytes\n"; /* new columns go at the end: readers by index keep working */

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
    if (c->weight_bytes >= 0) /* empty when the problem does not compute it */
        k += (size_t)snprintf(buf + k, cap - k, ",%lld", (long long)c->weight_bytes);
    else if (k + 1 < cap)
        buf[k++] = ',';
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

bool lpnas_runner_settle_duplicate(lpnas_runner *r, lpnas_candidate *c)
{
    if (c->status != LPNAS_CAND_DUPLICATE)
        return c->status != LPNAS_CAND_PENDING;
    const lpnas_candidate *o = &r->cand[c->dup_of];
    if (o->status == LPNAS_CAND_PENDING)
        return false;
    c->params = o->params, c->flops = o->flops, c->peak_bytes = o->peak_bytes;
    c->latency_ms = o->latency_ms, c->miou_fp32 = o->miou_fp32, c->miou_posthoc = o->miou_posthoc;
    c->miou_aligned = o->miou_aligned, c->vessel_iou = o->vessel_iou, c->skipped_steps = o->skipped_steps;
    c->weight_bytes = o->weight_bytes; /* the same identity: the same network */
    return true;
}

/* Writes the rows that are next in id order and final to f; counts bytes. */
static lpnas_status write_rows(lpnas_runner *r, FILE *f, const char *path, bool *wrote)
{
    char row[2048];
    while (r->rows_written < r->count && lpnas_runner_settle_duplicate(r, &r->cand[r->rows_written])) {
        size_t n = lpnas_format_result_row(&r->cand[r->rows_written], row, sizeof row);
        if (lpnas_fwrite(row, n, f, path) != n)
            return lpnas_fail(LPNAS_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        r->rows_written++;
        *wrote = true;
    }
    return LPNAS_OK;
}

/* Appends every final row that is next in id order and flushes. No fsync:
 * the journal holds every record durably and results.csv is rebuilt from
 * it on resume, so a row lost with the page cache costs nothing. */
lpnas_status lpnas_runner_append_rows(lpnas_runner *r)
{
    char path[4096];
    lpnas_status st = lpnas_runner_path(r, "results.csv", path, sizeof path);
    bool wrote = false;
    if (!st)
        st = write_rows(r, r->csv, path, &wrote);
    if (!st && wrote && fflush(r->csv) != 0)
        st = lpnas_fail(LPNAS_ERR_IO, "%s: flush failed: %s", path, strerror(errno));
    if (st)
        clearerr(r->csv);
    return st;
}

/* Opens results.csv for appending: new (header only) or, on resume,
 * rebuilt from the records into a temporary file renamed over it, so a
 * file that was cut short, extended, or overwritten by a fresh start is
 * made whole again. */
lpnas_status lpnas_runner_open_csv(lpnas_runner *r, bool fresh)
{
    char path[4096], tmp[4100];
    lpnas_status st = lpnas_runner_path(r, "results.csv", path, sizeof path);
    if (st) return st;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    size_t n = strlen(lpnas_results_header);
    bool wrote = false;
    r->rows_written = 0;
    if (lpnas_fwrite(lpnas_results_header, n, f, tmp) != n)
        st = lpnas_fail(LPNAS_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    if (!st && !fresh)
        st = write_rows(r, f, tmp, &wrote);
    if (!st && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = lpnas_fail(LPNAS_ERR_IO, "%s: flush failed: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && !st)
        st = lpnas_fail(LPNAS_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    if (!st && rename(tmp, path) != 0)
        st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot replace: %s", path, strerror(errno));
    if (st) {
        remove(tmp);
        return st;
    }
    r->csv = fopen(path, "a");
    if (!r->csv) return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return LPNAS_OK;
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
    size_t hn = strlen(lpnas_results_header);
    bool bad = lpnas_fwrite(lpnas_results_header, hn, f, path) != hn;
    int n_obj = r->opt.strategy.n_obj;
    for (size_t i = 0; i < r->count; i++) {
        const lpnas_candidate *a = &r->cand[i];
        if (a->status != LPNAS_CAND_OK) continue;
        bool dominated = false;
        for (size_t j = 0; j < r->count && !dominated; j++) {
            const lpnas_candidate *b = &r->cand[j];
            dominated = b->status == LPNAS_CAND_OK && lpnas_dominates(&b->outcome.point, &a->outcome.point, n_obj);
        }
        size_t n = dominated ? 0 : lpnas_format_result_row(a, row, sizeof row);
        if (n && fwrite(row, 1, n, f) != n) bad = true; /* the header counted for the fault injection */
    }
    int err = errno;
    bad |= ferror(f) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        remove(tmp);
        return lpnas_fail(LPNAS_ERR_IO, "%s: write failed: %s", path, strerror(bad ? err : errno));
    }
    return LPNAS_OK;
}
