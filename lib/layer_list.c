/* Layer lists: the CSV contract between architectures and latency models
 * (include/lpnas/layers.h, docs/formats.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lpnas/layers.h"

static const char *const OP_NAMES[LPNAS_OP_COUNT_] = {
    "conv", "deconv", "maxpool", "avgpool", "global_avgpool", "fc", "add", "concat",
    "upsample_nearest", "upsample_bilinear", "bn", "relu", "detection_output"};
static const char *const ACT_NAMES[LPNAS_ACT_COUNT_] = {"none", "relu", "relu6"};
static const char HEADER[] = "op,in_h,in_w,in_c,out_c,kernel,stride,groups,act,dilation";
static const char HEADER9[] = "op,in_h,in_w,in_c,out_c,kernel,stride,groups,act";

const char *lpnas_layer_op_name(lpnas_layer_op op)
{
    return (unsigned)op < LPNAS_OP_COUNT_ ? OP_NAMES[op] : "?";
}

const char *lpnas_layer_act_name(lpnas_layer_act act)
{
    return (unsigned)act < LPNAS_ACT_COUNT_ ? ACT_NAMES[act] : "?";
}

void lpnas_layer_list_init(lpnas_layer_list *l)
{
    memset(l, 0, sizeof *l);
}

void lpnas_layer_list_free(lpnas_layer_list *l)
{
    free(l->layers);
    memset(l, 0, sizeof *l);
}

lpnas_status lpnas_layer_check(const lpnas_layer *y)
{
    if ((unsigned)y->op >= LPNAS_OP_COUNT_)
        return lpnas_fail(LPNAS_ERR_ARG, "layer: op %d unknown", (int)y->op);
    if ((unsigned)y->act >= LPNAS_ACT_COUNT_)
        return lpnas_fail(LPNAS_ERR_ARG, "layer: act %d unknown", (int)y->act);
    const struct { const char *name; int v, lo, hi; } f[] = {
        {"in_h", y->in_h, 1, 1 << 16},      {"in_w", y->in_w, 1, 1 << 16},   {"in_c", y->in_c, 1, 1 << 20},
        {"out_c", y->out_c, 1, 1 << 20},    {"kernel", y->kernel, 1, 1024}, {"stride", y->stride, 1, 1024},
        {"groups", y->groups, 1, 1 << 20},  {"dilation", y->dilation, 1, 256},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v < f[i].lo || f[i].v > f[i].hi)
            return lpnas_fail(LPNAS_ERR_ARG, "layer %s: %s = %d outside [%d, %d]", OP_NAMES[y->op], f[i].name,
                              f[i].v, f[i].lo, f[i].hi);
    if (y->in_c % y->groups || y->out_c % y->groups)
        return lpnas_fail(LPNAS_ERR_ARG, "layer %s: groups %d must divide in_c %d and out_c %d", OP_NAMES[y->op],
                          y->groups, y->in_c, y->out_c);
    bool same_c = y->op == LPNAS_OP_MAXPOOL || y->op == LPNAS_OP_AVGPOOL || y->op == LPNAS_OP_GLOBAL_AVGPOOL ||
                  y->op == LPNAS_OP_ADD || y->op == LPNAS_OP_CONCAT || y->op == LPNAS_OP_UPSAMPLE_NEAREST ||
                  y->op == LPNAS_OP_UPSAMPLE_BILINEAR || y->op == LPNAS_OP_BN || y->op == LPNAS_OP_RELU;
    if (y->op == LPNAS_OP_DETECTION_OUTPUT && (y->in_w != 1 || y->kernel != 1 || y->stride != 1 || y->groups != 1))
        return lpnas_fail(LPNAS_ERR_ARG,
                          "layer detection_output: in_w %d, kernel %d, stride %d, groups %d must all be 1 "
                          "(in_h = priors, in_c = classes, out_c = detections kept)",
                          y->in_w, y->kernel, y->stride, y->groups);
    if (same_c && y->in_c != y->out_c)
        return lpnas_fail(LPNAS_ERR_ARG, "layer %s: in_c %d and out_c %d must be equal", OP_NAMES[y->op], y->in_c,
                          y->out_c);
    return LPNAS_OK;
}

lpnas_status lpnas_layer_list_push(lpnas_layer_list *l, const lpnas_layer *layer)
{
    lpnas_status st = lpnas_layer_check(layer);
    if (st)
        return st;
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? 2 * l->capacity : 16;
        lpnas_layer *p = realloc(l->layers, cap * sizeof *p);
        if (!p)
            return lpnas_fail(LPNAS_ERR_NOMEM, "layer list: out of memory at %zu layers", l->count);
        l->layers = p;
        l->capacity = cap;
    }
    l->layers[l->count++] = *layer;
    return LPNAS_OK;
}

void lpnas_layer_out_hw(const lpnas_layer *y, int *oh, int *ow)
{
    switch (y->op) {
    case LPNAS_OP_GLOBAL_AVGPOOL:
    case LPNAS_OP_FC:
    case LPNAS_OP_DETECTION_OUTPUT: /* a short list of boxes */
        *oh = *ow = 1;
        break;
    case LPNAS_OP_DECONV:
    case LPNAS_OP_UPSAMPLE_NEAREST:
    case LPNAS_OP_UPSAMPLE_BILINEAR:
        *oh = y->in_h * y->stride;
        *ow = y->in_w * y->stride;
        break;
    default:
        *oh = (y->in_h + y->stride - 1) / y->stride;
        *ow = (y->in_w + y->stride - 1) / y->stride;
    }
}

/* ---- parsing ---------------------------------------------------------- */

struct cursor {
    const char *src, *line_start, *p;
    int line;
};

static lpnas_status parse_error(const struct cursor *c, const char *what)
{
    return lpnas_fail(LPNAS_ERR_FORMAT, "%s:%d:%d: %s", c->src, c->line, (int)(c->p - c->line_start) + 1, what);
}

/* one comma-separated field of the current line: [start, end) */
static void next_field(struct cursor *c, const char **start, size_t *len)
{
    *start = c->p;
    while (*c->p && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
        c->p++;
    *len = (size_t)(c->p - *start);
}

static lpnas_status parse_int(struct cursor *c, const char *name, int *out)
{
    const char *s;
    size_t n;
    next_field(c, &s, &n);
    char buf[32];
    if (n == 0 || n >= sizeof buf) {
        c->p = s;
        char msg[96];
        snprintf(msg, sizeof msg, "field %s: expected an integer, found %s", name, n ? "a too long value" : "nothing");
        return parse_error(c, msg);
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (*end || errno || v < INT_MIN || v > INT_MAX) {
        c->p = s;
        char msg[96];
        snprintf(msg, sizeof msg, "field %s: '%s' is not an integer", name, buf);
        return parse_error(c, msg);
    }
    *out = (int)v;
    return LPNAS_OK;
}

static lpnas_status expect_comma(struct cursor *c, const char *after)
{
    if (*c->p != ',') {
        char msg[96];
        snprintf(msg, sizeof msg, "expected ',' after field %s", after);
        return parse_error(c, msg);
    }
    c->p++;
    return LPNAS_OK;
}

static lpnas_status parse_name(struct cursor *c, const char *field, const char *const *names, int count, int *out)
{
    const char *s;
    size_t n;
    next_field(c, &s, &n);
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == n && strncmp(names[i], s, n) == 0) {
            *out = i;
            return LPNAS_OK;
        }
    c->p = s;
    char msg[160];
    snprintf(msg, sizeof msg, "field %s: unknown value '%.*s'", field, (int)(n > 40 ? 40 : n), s);
    return parse_error(c, msg);
}

static lpnas_status parse_row(struct cursor *c, lpnas_layer *y)
{
    static const char *const ints[] = {"in_h", "in_w", "in_c", "out_c", "kernel", "stride", "groups"};
    int op = 0, act = 0, v[7] = {0};
    lpnas_status st = parse_name(c, "op", OP_NAMES, LPNAS_OP_COUNT_, &op);
    if (st || (st = expect_comma(c, "op")))
        return st;
    for (int i = 0; i < 7; i++)
        if ((st = parse_int(c, ints[i], &v[i])) || (st = expect_comma(c, ints[i])))
            return st;
    if ((st = parse_name(c, "act", ACT_NAMES, LPNAS_ACT_COUNT_, &act)))
        return st;
    int dil = 1;
    if (*c->p == ',') {
        c->p++;
        if ((st = parse_int(c, "dilation", &dil)))
            return st;
    }
    if (*c->p == ',')
        return parse_error(c, "too many fields (at most 10)");
    *y = (lpnas_layer){(lpnas_layer_op)op, v[0], v[1], v[2], v[3], v[4], v[5], v[6], (lpnas_layer_act)act, dil};
    if ((st = lpnas_layer_check(y))) {
        c->p = c->line_start;
        char msg[320];
        snprintf(msg, sizeof msg, "%s", lpnas_last_error());
        return parse_error(c, msg);
    }
    return LPNAS_OK;
}

lpnas_status lpnas_layer_list_parse(lpnas_layer_list *l, const char *text, const char *source)
{
    lpnas_layer_list_init(l);
    struct cursor c = {source ? source : "(text)", text, text, 1};
    bool header = false;
    lpnas_status st = LPNAS_OK;
    while (*c.p) {
        c.line_start = c.p;
        const char *eol = c.p + strcspn(c.p, "\n");
        size_t len = (size_t)(eol - c.p);
        while (len && (c.p[len - 1] == '\r' || c.p[len - 1] == ' '))
            len--;
        if (len == 0 || c.p[0] == '#') {
            /* blank or comment */
        } else if (!header) {
            if (!((len == strlen(HEADER) && !strncmp(c.p, HEADER, len)) ||
                  (len == strlen(HEADER9) && !strncmp(c.p, HEADER9, len)))) {
                st = parse_error(&c, "expected the header 'op,in_h,in_w,in_c,out_c,kernel,stride,groups,act[,dilation]'");
                break;
            }
            header = true;
        } else {
            lpnas_layer y;
            if ((st = parse_row(&c, &y)))
                break;
            while (*c.p == ' ' || *c.p == '\r')
                c.p++;
            if (*c.p && *c.p != '\n') {
                st = parse_error(&c, "unexpected text after the last field");
                break;
            }
            if ((st = lpnas_layer_list_push(l, &y)))
                break;
        }
        c.p = *eol ? eol + 1 : eol;
        c.line++;
    }
    if (!st && !header)
        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: no header line (is this a layer list?)", c.src);
    if (!st && l->count == 0)
        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: no layers", c.src);
    if (st)
        lpnas_layer_list_free(l);
    return st;
}

lpnas_status lpnas_layer_list_load(lpnas_layer_list *l, const char *path)
{
    lpnas_layer_list_init(l);
    FILE *f = fopen(path, "rb");
    if (!f)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n < cap - 1)
            break;
        if (cap > ((size_t)64 << 20)) {
            free(buf);
            fclose(f);
            return lpnas_fail(LPNAS_ERR_FORMAT, "%s: larger than 64 MiB: not a layer list", path);
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    bool err = ferror(f);
    fclose(f);
    if (!buf)
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", path);
    if (err) {
        free(buf);
        return lpnas_fail(LPNAS_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    if (strlen(buf) != n) {
        free(buf);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: contains a NUL byte: not a text layer list", path);
    }
    lpnas_status st = lpnas_layer_list_parse(l, buf, path);
    free(buf);
    return st;
}

lpnas_status lpnas_layer_list_format(const lpnas_layer_list *l, char **out)
{
    size_t cap = 128 + l->count * 96;
    char *s = malloc(cap);
    if (!s)
        return lpnas_fail(LPNAS_ERR_NOMEM, "layer list: out of memory formatting %zu layers", l->count);
    size_t n = (size_t)snprintf(s, cap, "# lpnas layer list v1\n%s\n", HEADER);
    for (size_t i = 0; i < l->count; i++) {
        const lpnas_layer *y = &l->layers[i];
        n += (size_t)snprintf(s + n, cap - n, "%s,%d,%d,%d,%d,%d,%d,%d,%s,%d\n", OP_NAMES[y->op], y->in_h, y->in_w,
                              y->in_c, y->out_c, y->kernel, y->stride, y->groups, ACT_NAMES[y->act], y->dilation);
    }
    *out = s;
    return LPNAS_OK;
}

lpnas_status lpnas_layer_list_save(const lpnas_layer_list *l, const char *path)
{
    char *text;
    lpnas_status st = lpnas_layer_list_format(l, &text);
    if (st)
        return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(text);
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    size_t len = strlen(text);
    bool ok = fwrite(text, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    free(text);
    return ok ? LPNAS_OK : lpnas_fail(LPNAS_ERR_IO, "%s: write failed", path);
}
