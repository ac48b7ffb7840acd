/* LUTs from a real device: OpenVINO benchmark_app's per-layer performance
 * counters (-report_type detailed_counters, or average_counters) turned
 * into a latency table for the layers of a layer list.
 *
 * The report (benchmark_detailed_counters_report.csv, written by the
 * samples' CsvDumper: every field is followed by ';') holds one block per
 * infer request:
 *
 *   layerName;execStatus;layerType;execType;realTime (ms);cpuTime (ms);
 *   conv1;EXECUTED;Convolution;MyriadXHwOp;0.412000;0.000000;
 *   relu1;OPTIMIZED_OUT;ReLU;<none>;0.000000;0.000000;
 *   Total;;;;0.412;0.000;
 *   (blank line)
 *
 * Matching: the report lists stages in execution order and a layer list
 * lists layers in the same order, so rows are matched to EXECUTED entries
 * in order, by op type (docs/formats.md has the table). Entries named
 * NAME@something are parts of NAME (the plugin splits some layers) and are
 * summed. Rows the device folds (BN/ReLU after a conv, the fused max pool,
 * concat) need no entry. A row without a compatible entry before the next
 * row's type is unmatched; entries no row takes are unmatched too, and
 * their time becomes the per-inference overhead unless one is given. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/error.h"
#include "nas/latency_internal.h"

#define HEADER "layerName;execStatus;layerType;execType;realTime (ms);cpuTime (ms)"

typedef struct {
    char name[160], type[64];
    double ms;     /* summed over requests, then divided */
    double sq;     /* sum of squares over requests, for the std */
    bool executed;
} counter;

typedef struct {
    counter *c;
    size_t n, cap;
} counters;

void lpnas_openvino_import_options_default(lpnas_openvino_import_options *o)
{
    memset(o, 0, sizeof *o);
    o->overhead_ms = -1;
}

static lpnas_status push(counters *cs, const counter *c)
{
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? 2 * cs->cap : 64;
        counter *p = realloc(cs->c, cap * sizeof *p);
        if (!p)
            return lpnas_fail(LPNAS_ERR_NOMEM, "openvino import: out of memory");
        cs->c = p, cs->cap = cap;
    }
    cs->c[cs->n++] = *c;
    return LPNAS_OK;
}

static char *read_text(const char *path, lpnas_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? 2 * cap : 65536;
            char *p = cap <= ((size_t)64 << 20) ? realloc(buf, cap + 1) : NULL;
            if (!p) {
                free(buf);
                fclose(f);
                *st = lpnas_fail(cap > ((size_t)64 << 20) ? LPNAS_ERR_FORMAT : LPNAS_ERR_NOMEM,
                                 "%s: larger than 64 MiB or out of memory", path);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool err = ferror(f);
    fclose(f);
    buf[n] = 0;
    if (err || strlen(buf) != n) {
        free(buf);
        *st = lpnas_fail(err ? LPNAS_ERR_IO : LPNAS_ERR_FORMAT, "%s: %s", path,
                         err ? "read error" : "contains a NUL byte: not a CSV report");
        return NULL;
    }
    *st = LPNAS_OK;
    return buf;
}

/* Splits a ';'-separated line in place; the trailing ';' CsvDumper writes
 * after the last field makes no extra field. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    size_t len = strlen(line);
    if (len && line[len - 1] == ';')
        line[len - 1] = 0;
    for (char *p = line;; p++) {
        if (n < max)
            f[n] = p;
        n++;
        p = strchr(p, ';');
        if (!p)
            break;
        *p = 0;
    }
    return n;
}

/* Parses every request block; the blocks must list the same layers (one
 * network, several requests): their real times are summed per position. */
static lpnas_status parse_report(const char *path, char *text, counters *out, int *requests)
{
    counters cur = {0};
    int line_no = 0, nreq = 0;
    bool in_block = false;
    lpnas_status st = LPNAS_OK;
    char *save = NULL;
    for (char *line = text; line && !st; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = 0;
        line_no++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = 0;
        if (!len)
            continue;
        if (!strncmp(line, HEADER, strlen(HEADER))) {
            if (in_block)
                st = lpnas_fail(LPNAS_ERR_FORMAT, "%s:%d: a new request block before the 'Total' line", path, line_no);
            in_block = true;
            cur.n = 0;
            continue;
        }
        if (!in_block) {
            st = lpnas_fail(LPNAS_ERR_FORMAT,
                            "%s:%d: expected the counters header '%s;' (benchmark_app -report_type detailed_counters)",
                            path, line_no, HEADER);
            break;
        }
        char *f[8];
        int nf = split(line, f, 8);
        if (!strcmp(f[0], "Total")) { /* end of one request's block */
            in_block = false;
            for (size_t i = 0; i < cur.n; i++)
                cur.c[i].sq = cur.c[i].ms * cur.c[i].ms; /* per request, after parts were summed */
            if (nreq == 0) {
                for (size_t i = 0; i < cur.n && !st; i++)
                    st = push(out, &cur.c[i]);
            } else if (cur.n != out->n) {
                st = lpnas_fail(LPNAS_ERR_FORMAT, "%s:%d: request %d lists %zu layers, request 1 lists %zu", path,
                                line_no, nreq + 1, cur.n, out->n);
            } else {
                for (size_t i = 0; i < cur.n && !st; i++) {
                    if (strcmp(cur.c[i].name, out->c[i].name))
                        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s:%d: request %d has layer '%s' where request 1 has '%s'",
                                        path, line_no, nreq + 1, cur.c[i].name, out->c[i].name);
                    out->c[i].ms += cur.c[i].ms;
                    out->c[i].sq += cur.c[i].sq;
                }
            }
            nreq++;
            continue;
        }
        if (nf < 6) {
            st = lpnas_fail(LPNAS_ERR_FORMAT, "%s:%d: %d fields; a counter line has 6 (%s)", path, line_no, nf, HEADER);
            break;
        }
        counter c = {{0}, {0}, 0, 0, false};
        if (strlen(f[0]) >= sizeof c.name || !f[0][0]) {
            st = lpnas_fail(LPNAS_ERR_FORMAT, "%s:%d: field layerName: empty or longer than %zu bytes", path, line_no,
                            sizeof c.name - 1);
            break;
        }
        snprintf(c.name, sizeof c.name, "%s", f[0]);
        snprintf(c.type, sizeof c.type, "%s", f[2]);
        if (!strcmp(f[1], "EXECUTED"))
            c.executed = true;
        else if (strcmp(f[1], "NOT_RUN") && strcmp(f[1], "OPTIMIZED_OUT")) {
            st = lpnas_fail(LPNAS_ERR_FORMAT,
                            "%s:%d: field execStatus: '%.40s' (expected EXECUTED, NOT_RUN or OPTIMIZED_OUT)", path,
                            line_no, f[1]);
            break;
        }
        char *end;
        errno = 0;
        c.ms = strtod(f[4], &end);
        if (end == f[4] || *end || errno || !isfinite(c.ms) || c.ms < 0) {
            st = lpnas_fail(LPNAS_ERR_FORMAT, "%s:%d: field realTime (ms): '%.40s' is not a number >= 0", path,
                            line_no, f[4]);
            break;
        }
        /* NAME@part: a stage the plugin split off NAME; summed into NAME */
        char *at = strchr(c.name, '@');
        if (at)
            *at = 0;
        if (c.executed && cur.n && cur.c[cur.n - 1].executed && !strcmp(cur.c[cur.n - 1].name, c.name))
            cur.c[cur.n - 1].ms += c.ms;
        else
            st = push(&cur, &c);
    }
    free(cur.c);
    if (!st && in_block)
        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: the last request block has no 'Total' line (truncated?)", path);
    if (!st && nreq == 0)
        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: no performance-counter block (header '%s;')", path, HEADER);
    *requests = nreq;
    return st;
}

/* OpenVINO layer types that can execute a row of each op (IR v5-v11 names). */
static bool type_fits(lpnas_layer_op op, const char *t)
{
    static const char *const CONV[] = {"Convolution", "GroupConvolution", "Conv", NULL};
    static const char *const DECONV[] = {"Deconvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData",
                                         NULL};
    static const char *const POOL[] = {"Pooling", "MaxPool", "AvgPool", NULL};
    static const char *const GPOOL[] = {"Pooling", "AvgPool", "ReduceMean", "GlobalAvgPool", NULL};
    static const char *const FC[] = {"FullyConnected", "MatMul", "Gemm", NULL};
    static const char *const ADD[] = {"Eltwise", "Add", "Sum", NULL};
    static const char *const CAT[] = {"Concat", NULL};
    static const char *const UP[] = {"Resample", "Interp", "Interpolate", "Upsample", NULL};
    static const char *const BN[] = {"ScaleShift", "BatchNormalization", "BatchNormInference", "Multiply", NULL};
    static const char *const RELU[] = {"ReLU", "Relu", "Clamp", NULL};
    static const char *const DET[] = {"DetectionOutput", NULL};
    const char *const *set;
    switch (op) {
    case LPNAS_OP_CONV: set = CONV; break;
    case LPNAS_OP_DECONV: set = DECONV; break;
    case LPNAS_OP_MAXPOOL:
    case LPNAS_OP_AVGPOOL: set = POOL; break;
    case LPNAS_OP_GLOBAL_AVGPOOL: set = GPOOL; break;
    case LPNAS_OP_FC: set = FC; break;
    case LPNAS_OP_ADD: set = ADD; break;
    case LPNAS_OP_CONCAT: set = CAT; break;
    case LPNAS_OP_UPSAMPLE_NEAREST:
    case LPNAS_OP_UPSAMPLE_BILINEAR: set = UP; break;
    case LPNAS_OP_BN: set = BN; break;
    case LPNAS_OP_RELU: set = RELU; break;
    case LPNAS_OP_DETECTION_OUTPUT: set = DET; break;
    default: return false;
    }
    for (; *set; set++)
        if (!strcasecmp(*set, t))
            return true;
    return false;
}

/* Appends to a growing log; on out of memory the log is just cut short. */
static void logf_(char **log, size_t *len, size_t *cap, const char *fmt, ...)
{
    if (!log)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = *log ? vsnprintf(*log + *len, *cap - *len, fmt, ap) : -1;
        va_end(ap);
        if (k >= 0 && (size_t)k < *cap - *len) {
            *len += (size_t)k;
            return;
        }
        size_t ncap = *cap ? 2 * *cap : 1024;
        while (k >= 0 && ncap - *len <= (size_t)k)
            ncap *= 2;
        char *p = realloc(*log, ncap);
        if (!p)
            return;
        *log = p, *cap = ncap;
    }
}

/* Rows that cost time on the device (the same rules as the estimate with
 * Myriad X fusions): need[i] = 1, or 2 for a conv fused with its pool. */
static void rows_needing_counters(const lpnas_layer_list *l, unsigned char *need)
{
    bool prev_anchor = false;
    size_t fused_at = (size_t)-1;
    for (size_t i = 0; i < l->count; i++) {
        const lpnas_layer *y = &l->layers[i];
        need[i] = 0;
        if (lpnas_op_folds(y->op) && prev_anchor)
            continue;
        if (i == fused_at || y->op == LPNAS_OP_CONCAT) {
            prev_anchor = false;
            continue;
        }
        prev_anchor = lpnas_op_anchors_folds(y->op);
        size_t next = i + 1;
        if (prev_anchor)
            while (next < l->count && lpnas_op_folds(l->layers[next].op))
                next++;
        bool fused = next < l->count && lpnas_pool_fuses(y, &l->layers[next]);
        if (fused)
            fused_at = next;
        need[i] = fused ? 2 : 1;
    }
}

lpnas_status lpnas_lut_import_openvino(const char *report, const lpnas_layer_list *list,
                                       const lpnas_openvino_import_options *opt, lpnas_latency_model **out,
                                       char **log)
{
    *out = NULL;
    if (log)
        *log = NULL;
    if (!report || !list || !list->count)
        return lpnas_fail(LPNAS_ERR_ARG, "openvino import: need a report file and a non-empty layer list");
    lpnas_openvino_import_options def;
    if (!opt) {
        lpnas_openvino_import_options_default(&def);
        opt = &def;
    }
    lpnas_status st;
    char *text = read_text(report, &st);
    if (!text)
        return st;
    counters all = {0}, ex = {0};
    int nreq = 0;
    st = parse_report(report, text, &all, &nreq);
    free(text);
    /* executed stages, times averaged over the requests */
    for (size_t i = 0; !st && i < all.n; i++) {
        counter c = all.c[i];
        if (!c.executed)
            continue;
        c.ms /= nreq;
        c.sq /= nreq;
        st = push(&ex, &c);
    }
    free(all.c);
    unsigned char *need = st ? NULL : malloc(list->count);
    unsigned char *taken = st ? NULL : calloc(ex.n + 1, 1);
    lpnas_latency_model *m = NULL;
    if (!st && (!need || !taken))
        st = lpnas_fail(LPNAS_ERR_NOMEM, "openvino import: out of memory");
    if (!st)
        st = lpnas_latency_model_new(&m);
    size_t loglen = 0, logcap = 0, matched = 0, unmatched_rows = 0;
    if (!st) {
        rows_needing_counters(list, need);
        size_t p = 0; /* next report entry to consider */
        for (size_t i = 0; i < list->count && !st; i++) {
            if (!need[i])
                continue;
            const lpnas_layer *y = &list->layers[i];
            /* the next row that needs an entry: stop the scan at an entry it would take */
            const lpnas_layer *nx = NULL;
            for (size_t j = i + 1; j < list->count && !nx; j++)
                if (need[j])
                    nx = &list->layers[j];
            size_t q = p;
            while (q < ex.n && !type_fits(y->op, ex.c[q].type) &&
                   !(nx && nx->op != y->op && type_fits(nx->op, ex.c[q].type)))
                q++;
            lpnas_lut_key key = lpnas_lut_key_of(y, need[i] == 2);
            char sig[160];
            lpnas_lut_key_format(&key, sig, sizeof sig);
            if (q >= ex.n || !type_fits(y->op, ex.c[q].type)) {
                unmatched_rows++;
                logf_(log, &loglen, &logcap, "unmatched row %zu (%s): no %s entry in the report at its place\n",
                      i + 1, sig, lpnas_layer_op_name(y->op));
                continue;
            }
            taken[q] = 1;
            p = q + 1;
            matched++;
            double sd = sqrt(fmax(0, ex.c[q].sq - ex.c[q].ms * ex.c[q].ms));
            const lpnas_lut_entry *e = lpnas_latency_model_find(m, &key);
            if (e) { /* the same layer again (repeated blocks): pool the samples */
                double n0 = e->count, n1 = n0 + nreq;
                double mean = (e->mean_ms * n0 + ex.c[q].ms * nreq) / n1;
                double m2 = n0 * (e->std_ms * e->std_ms + e->mean_ms * e->mean_ms) +
                            nreq * (sd * sd + ex.c[q].ms * ex.c[q].ms);
                st = lpnas_latency_model_put(m, &key, mean, sqrt(fmax(0, m2 / n1 - mean * mean)), (uint32_t)n1);
            } else {
                st = lpnas_latency_model_put(m, &key, ex.c[q].ms, sd, (uint32_t)nreq);
            }
        }
    }
    double other_ms = 0;
    size_t unmatched_entries = 0;
    for (size_t q = 0; !st && q < ex.n; q++)
        if (!taken[q]) {
            unmatched_entries++;
            other_ms += ex.c[q].ms;
            logf_(log, &loglen, &logcap, "unmatched report entry '%s' (%s): %.4f ms\n", ex.c[q].name, ex.c[q].type,
                  ex.c[q].ms);
        }
    if (!st && matched == 0)
        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: no executed layer of the report matches a row of the layer list",
                        report);
    if (!st) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(m->device, sizeof m->device, "%s", opt->device ? opt->device : "Intel Movidius Myriad X (MYRIAD)");
        snprintf(m->toolchain, sizeof m->toolchain, "%s",
                 opt->toolchain ? opt->toolchain : "OpenVINO benchmark_app performance counters");
        strftime(m->date, sizeof m->date, "%Y-%m-%d", &tm);
        const char *base = strrchr(report, '/');
        snprintf(m->method, sizeof m->method,
                 "realTime per layer, mean of %d request%s, from %s; %zu rows matched in order by type, %zu not; "
                 "%zu report entries unmatched",
                 nreq, nreq == 1 ? "" : "s", base ? base + 1 : report, matched, unmatched_rows, unmatched_entries);
        snprintf(m->source, sizeof m->source, "imported from OpenVINO counters %s", report);
        m->fusions = LPNAS_FUSE_MYRIADX;
        m->has_analytic = opt->analytic_fallback;
        m->overhead_ms = opt->overhead_ms >= 0 ? opt->overhead_ms : other_ms;
        logf_(log, &loglen, &logcap,
              "%zu of %zu rows matched (%zu without an entry), %zu LUT entries, %zu report entries unmatched "
              "(%.4f ms%s)\n",
              matched, matched + unmatched_rows, unmatched_rows, m->count, unmatched_entries, other_ms,
              opt->overhead_ms >= 0 ? "" : ", taken as the per-inference overhead");
    }
    free(need);
    free(taken);
    free(ex.c);
    if (st) {
        lpnas_latency_model_free(m);
        if (log) {
            free(*log);
            *log = NULL;
        }
        return st;
    }
    *out = m;
    return LPNAS_OK;
}
