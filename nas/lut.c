/* LUT files: a versioned text format for latency tables (docs/formats.md).
 *
 *   # lpnas lut v1
 *   device=...            provenance: device, toolchain, date, method (required)
 *   overhead_ms=2         per-inference overhead
 *   fusions=myriadx       or "fold"
 *   [analytic]            optional: the Myriad X model's constants, name=value
 *   nce_ms_per_unit=1.549e-06
 *   [entries]
 *   signature,mean_ms,std_ms,count
 *   conv:56x56x64>64:k3:s1:g1:d1:relu,1.234,0.012,7
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nas/latency_internal.h"

#define MAGIC "# lpnas lut v1"

static const struct {
    const char *name;
    size_t offset;
} CONSTS[] = {
#define C(f) {#f, offsetof(lpnas_myriadx_constants, f)}
    C(nce_ms_per_unit), C(conv_floor_ms), C(ddr_bytes_per_ms), C(weight_bytes_per_ms), C(cmx_bytes),
    C(dw_fixed_ms), C(dw_fixed_per_k_ms), C(dw_ms_per_unit), C(dw_k_offset), C(shave_fixed_ms),
    C(shave_bytes_per_ms), C(shave_macs_per_ms), C(fc_floor_ms), C(fc_fixed_ms), C(fc_bytes_per_ms),
    C(fused_pool_factor), C(nce_tile_units),
#undef C
};
#define NCONSTS (sizeof CONSTS / sizeof CONSTS[0])

static double *const_at(lpnas_myriadx_constants *k, size_t i)
{
    return (double *)(void *)((char *)k + CONSTS[i].offset);
}

lpnas_status lpnas_lut_save(const lpnas_latency_model *m, const char *path)
{
    if (m->analytic_imx8mp) /* its roofline has no LUT spelling: a saved file would price nothing */
        return lpnas_fail(LPNAS_ERR_UNSUPPORTED, "%s: the built-in i.MX 8M Plus model is not a table; save a measured LUT instead", path);
    FILE *f = fopen(path, "w");
    if (!f)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "%s\ndevice=%s\ntoolchain=%s\ndate=%s\nmethod=%s\noverhead_ms=%.17g\nfusions=%s\n", MAGIC, m->device,
            m->toolchain, m->date, m->method, m->overhead_ms, m->fusions == LPNAS_FUSE_MYRIADX ? "myriadx" : "fold");
    if (m->has_analytic) {
        fprintf(f, "[analytic]\n");
        lpnas_myriadx_constants k = m->k;
        for (size_t i = 0; i < NCONSTS; i++)
            fprintf(f, "%s=%.17g\n", CONSTS[i].name, *const_at(&k, i));
    }
    fprintf(f, "[entries]\nsignature,mean_ms,std_ms,count\n");
    for (size_t i = 0; i < m->count; i++) {
        char sig[160];
        lpnas_lut_key_format(&m->entries[i].key, sig, sizeof sig);
        fprintf(f, "%s,%.9g,%.9g,%u\n", sig, m->entries[i].mean_ms, m->entries[i].std_ms, m->entries[i].count);
    }
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    return ok ? LPNAS_OK : lpnas_fail(LPNAS_ERR_IO, "%s: write failed", path);
}

/* ---- loading ---------------------------------------------------------- */

struct ctx {
    const char *path;
    int line;
};

static lpnas_status bad(const struct ctx *c, const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    return lpnas_fail(LPNAS_ERR_FORMAT, "%s:%d: %s", c->path, c->line, msg);
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* op:HxWxC>OC:kK:sS:gG:dD:act[:pool] */
static bool parse_signature(const char *s, lpnas_lut_key *k)
{
    char op[32], act[16], tail[16] = "";
    int v[8], used = 0;
    if (sscanf(s, "%31[a-z_]:%dx%dx%d>%d:k%d:s%d:g%d:d%d:%15[a-z0-9]%n", op, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &v[6], &v[7], act, &used) != 10)
        return false;
    if (s[used] == ':') {
        snprintf(tail, sizeof tail, "%s", s + used + 1);
        if (strcmp(tail, "pool"))
            return false;
    } else if (s[used]) {
        return false;
    }
    int opi = -1, acti = -1;
    for (int i = 0; i < LPNAS_OP_COUNT_; i++)
        if (!strcmp(op, lpnas_layer_op_name((lpnas_layer_op)i)))
            opi = i;
    for (int i = 0; i < LPNAS_ACT_COUNT_; i++)
        if (!strcmp(act, lpnas_layer_act_name((lpnas_layer_act)i)))
            acti = i;
    if (opi < 0 || acti < 0)
        return false;
    lpnas_layer y = {(lpnas_layer_op)opi, v[0], v[1], v[2], v[3], v[4], v[5], v[6], (lpnas_layer_act)acti, v[7]};
    if (lpnas_layer_check(&y))
        return false;
    *k = lpnas_lut_key_of(&y, tail[0] != 0);
    return true;
}

static lpnas_status parse_entry(struct ctx *c, lpnas_latency_model *m, char *line)
{
    char *f[4] = {line, NULL, NULL, NULL};
    for (int i = 1; i < 4; i++) {
        char *comma = strchr(f[i - 1], ',');
        if (!comma)
            return bad(c, "%s", "expected 4 fields: signature,mean_ms,std_ms,count");
        *comma = 0;
        f[i] = comma + 1;
    }
    if (strchr(f[3], ','))
        return bad(c, "%s", "too many fields (signature,mean_ms,std_ms,count)");
    lpnas_lut_key key;
    if (!parse_signature(f[0], &key))
        return bad(c, "bad signature '%s' (op:HxWxC>OC:kK:sS:gG:dD:act[:pool])", f[0]);
    double mean, sd, cnt;
    if (!parse_double(f[1], &mean) || mean < 0)
        return bad(c, "mean_ms '%s': need a finite number >= 0", f[1]);
    if (!parse_double(f[2], &sd) || sd < 0)
        return bad(c, "std_ms '%s': need a finite number >= 0", f[2]);
    if (!parse_double(f[3], &cnt) || cnt < 1 || cnt != floor(cnt) || cnt > 4e9)
        return bad(c, "count '%s': need an integer >= 1", f[3]);
    if (lpnas_latency_model_find(m, &key))
        return bad(c, "duplicate signature '%s'", f[0]);
    return lpnas_latency_model_put(m, &key, mean, sd, (uint32_t)cnt);
}

static lpnas_status set_text(const struct ctx *c, char *dst, size_t size, const char *v, const char *name)
{
    if (strlen(v) >= size)
        return bad(c, "%s: value too long", name);
    snprintf(dst, size, "%s", v);
    return LPNAS_OK;
}

static lpnas_status parse_header_key(struct ctx *c, lpnas_latency_model *m, char *line, bool analytic, unsigned *seen)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return bad(c, "expected name=value, found '%s'", line);
    *eq = 0;
    const char *name = line, *v = eq + 1;
    if (analytic) {
        for (size_t i = 0; i < NCONSTS; i++)
            if (!strcmp(name, CONSTS[i].name)) {
                double d;
                if (!parse_double(v, &d))
                    return bad(c, "%s: not a finite number", name);
                /* rates and the CMX size are divisors or thresholds: zero
                 * would turn every estimate into inf or NaN */
                size_t nl = strlen(name);
                bool rate = (nl > 7 && !strcmp(name + nl - 7, "_per_ms")) || !strcmp(name, "cmx_bytes") ||
                            !strcmp(name, "fused_pool_factor");
                if (rate && !(d > 0))
                    return bad(c, "%s: must be > 0", name);
                if (d < 0 && strcmp(name, "dw_k_offset"))
                    return bad(c, "%s: must be >= 0", name);
                if (d <= 0 && strstr(name, "s_per_ms")) /* a rate: the model divides by it */
                    return bad(c, "%s: must be > 0", name);
                *const_at(&m->k, i) = d;
                *seen |= 1u << (8 + i);
                return LPNAS_OK;
            }
        return bad(c, "unknown analytic constant '%s'", name);
    }
    if (!strcmp(name, "device")) {
        *seen |= 1;
        return set_text(c, m->device, sizeof m->device, v, name);
    }
    if (!strcmp(name, "toolchain")) {
        *seen |= 2;
        return set_text(c, m->toolchain, sizeof m->toolchain, v, name);
    }
    if (!strcmp(name, "date")) {
        *seen |= 4;
        return set_text(c, m->date, sizeof m->date, v, name);
    }
    if (!strcmp(name, "method")) {
        *seen |= 8;
        return set_text(c, m->method, sizeof m->method, v, name);
    }
    if (!strcmp(name, "overhead_ms")) {
        double d;
        if (!parse_double(v, &d) || d < 0)
            return bad(c, "overhead_ms '%s': need a finite number >= 0", v);
        m->overhead_ms = d;
        return LPNAS_OK;
    }
    if (!strcmp(name, "fusions")) {
        if (!strcmp(v, "myriadx"))
            m->fusions = LPNAS_FUSE_MYRIADX;
        else if (!strcmp(v, "fold"))
            m->fusions = LPNAS_FUSE_FOLD;
        else
            return bad(c, "fusions '%s': expected myriadx or fold", v);
        return LPNAS_OK;
    }
    return bad(c, "unknown key '%s'", name);
}

static lpnas_status parse_text(struct ctx *c, lpnas_latency_model *m, char *text)
{
    enum { HEADER, ANALYTIC, ENTRIES_HEAD, ENTRIES } part = HEADER;
    unsigned seen = 0;
    char *save = NULL;
    c->line = 0;
    for (char *line = text; line; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = 0;
        c->line++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = 0;
        if (c->line == 1) {
            if (strcmp(line, MAGIC))
                return lpnas_fail(LPNAS_ERR_FORMAT, "%s:1: not an lpnas LUT (first line must be '%s')", c->path, MAGIC);
            continue;
        }
        if (len == 0 || line[0] == '#')
            continue;
        lpnas_status st = LPNAS_OK;
        if (!strcmp(line, "[analytic]")) {
            if (part != HEADER)
                return bad(c, "%s", "[analytic] must come before [entries], once");
            part = ANALYTIC;
            m->has_analytic = true;
        } else if (!strcmp(line, "[entries]")) {
            if (part == ENTRIES_HEAD || part == ENTRIES)
                return bad(c, "%s", "[entries] twice");
            part = ENTRIES_HEAD;
        } else if (part == ENTRIES_HEAD) {
            if (strcmp(line, "signature,mean_ms,std_ms,count"))
                return bad(c, "%s", "expected the entries header 'signature,mean_ms,std_ms,count'");
            part = ENTRIES;
        } else if (part == ENTRIES) {
            st = parse_entry(c, m, line);
        } else {
            st = parse_header_key(c, m, line, part == ANALYTIC, &seen);
        }
        if (st)
            return st;
    }
    if ((seen & 15) != 15)
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: missing provenance: device, toolchain, date and method are required",
                          c->path);
    if (m->has_analytic && (seen >> 8) != (1u << NCONSTS) - 1)
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: [analytic] must give all %zu constants", c->path, NCONSTS);
    lpnas_myriadx_prepare(&m->k);
    if (part != ENTRIES && !m->has_analytic)
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: no [entries] and no [analytic] section: nothing to estimate with",
                          c->path);
    return LPNAS_OK;
}

lpnas_status lpnas_lut_load(const char *path, lpnas_latency_model **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) || ftell(f) < 0) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot read", path);
    }
    long size = ftell(f);
    rewind(f);
    if (size > (64L << 20)) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: %ld bytes: too large for a LUT", path, size);
    }
    char *text = malloc((size_t)size + 1);
    size_t got = text ? fread(text, 1, (size_t)size, f) : 0;
    fclose(f);
    if (!text)
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", path);
    text[got] = 0;
    if (strlen(text) != got) {
        free(text);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: contains a NUL byte: not a text LUT", path);
    }
    lpnas_latency_model *m;
    lpnas_status st = lpnas_latency_model_new(&m);
    if (st) {
        free(text);
        return st;
    }
    m->fusions = LPNAS_FUSE_FOLD;
    struct ctx c = {path, 0};
    st = parse_text(&c, m, text);
    free(text);
    if (st) {
        lpnas_latency_model_free(m);
        return st;
    }
    snprintf(m->source, sizeof m->source, "LUT file %s (%s; %zu measured entries%s)", path, m->device, m->count,
             m->has_analytic ? ", analytic fallback for the rest" : ", no fallback");
    *out = m;
    return LPNAS_OK;
}
