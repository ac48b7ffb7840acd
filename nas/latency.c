/* Latency models: the table of measured entries, fusion rules and the
 * estimate over a layer list (include/lpnas/latency.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nas/latency_internal.h"

lpnas_status lpnas_latency_model_new(lpnas_latency_model **out)
{
    lpnas_latency_model *m = calloc(1, sizeof *m);
    if (!m)
        return lpnas_fail(LPNAS_ERR_NOMEM, "latency model: out of memory");
    lpnas_myriadx_constants_default(&m->k);
    *out = m;
    return LPNAS_OK;
}

void lpnas_latency_model_free(lpnas_latency_model *m)
{
    if (!m)
        return;
    free(m->entries);
    free(m->slots);
    free(m);
}

void lpnas_myriadx_options_default(lpnas_myriadx_options *o)
{
    o->overhead_ms = 2.0;
}

lpnas_status lpnas_latency_model_myriadx(const lpnas_myriadx_options *o, lpnas_latency_model **out)
{
    lpnas_myriadx_options def;
    if (!o) {
        lpnas_myriadx_options_default(&def);
        o = &def;
    }
    if (!(o->overhead_ms >= 0 && o->overhead_ms < 1e6))
        return lpnas_fail(LPNAS_ERR_ARG, "myriadx model: overhead %g ms must be in [0, 1e6)", o->overhead_ms);
    lpnas_status st = lpnas_latency_model_new(out);
    if (st)
        return st;
    lpnas_latency_model *m = *out;
    snprintf(m->device, sizeof m->device, "Intel Movidius Myriad X (NCS2)");
    snprintf(m->toolchain, sizeof m->toolchain, "OpenVINO MYRIAD plugin 2019-2021 (published figures)");
    snprintf(m->date, sizeof m->date, "2026-11-22");
    snprintf(m->method, sizeof m->method,
             "analytic model calibrated on published NCS2 figures (shared/reference/myriadx.md), see docs/latency.md");
    snprintf(m->source, sizeof m->source,
             "built-in Myriad X model (analytic, calibrated on published NCS2 figures: worst calibration error "
             "14%%, held-out networks in docs/latency.md)");
    m->has_analytic = true;
    m->fusions = LPNAS_FUSE_MYRIADX;
    m->overhead_ms = o->overhead_ms;
    return LPNAS_OK;
}

double lpnas_latency_overhead(const lpnas_latency_model *m) { return m->overhead_ms; }
void lpnas_latency_set_overhead(lpnas_latency_model *m, double ms) { m->overhead_ms = ms >= 0 ? ms : 0; }
const char *lpnas_latency_device(const lpnas_latency_model *m) { return m->device; }
const char *lpnas_latency_source(const lpnas_latency_model *m) { return m->source[0] ? m->source : m->device; }
size_t lpnas_latency_entry_count(const lpnas_latency_model *m) { return m->count; }

lpnas_lut_key lpnas_lut_key_of(const lpnas_layer *y, bool fused_pool)
{
    lpnas_lut_key k = {{(int32_t)y->op, y->in_h, y->in_w, y->in_c, y->out_c, y->kernel, y->stride, y->groups,
                        y->dilation, (int32_t)y->act, fused_pool ? 1 : 0}};
    return k;
}

static uint64_t key_hash(const lpnas_lut_key *k)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 11; i++) {
        h ^= (uint64_t)(uint32_t)k->v[i];
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    return h;
}

static bool key_eq(const lpnas_lut_key *a, const lpnas_lut_key *b)
{
    return memcmp(a->v, b->v, sizeof a->v) == 0;
}

const lpnas_lut_entry *lpnas_latency_model_find(const lpnas_latency_model *m, const lpnas_lut_key *key)
{
    if (!m->nslots)
        return NULL;
    size_t mask = m->nslots - 1;
    for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask) {
        uint32_t s = m->slots[i];
        if (!s)
            return NULL;
        if (key_eq(&m->entries[s - 1].key, key))
            return &m->entries[s - 1];
    }
}

static lpnas_status rehash(lpnas_latency_model *m, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return lpnas_fail(LPNAS_ERR_NOMEM, "latency table: out of memory");
    for (size_t e = 0; e < m->count; e++)
        for (size_t i = key_hash(&m->entries[e].key) & (nslots - 1);; i = (i + 1) & (nslots - 1))
            if (!slots[i]) {
                slots[i] = (uint32_t)(e + 1);
                break;
            }
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    return LPNAS_OK;
}

lpnas_status lpnas_latency_model_put(lpnas_latency_model *m, const lpnas_lut_key *key, double mean, double std,
                                     uint32_t count)
{
    lpnas_lut_entry *old = (lpnas_lut_entry *)lpnas_latency_model_find(m, key);
    if (old) {
        old->mean_ms = mean, old->std_ms = std, old->count = count;
        return LPNAS_OK;
    }
    if (m->count == m->capacity) {
        size_t cap = m->capacity ? 2 * m->capacity : 64;
        lpnas_lut_entry *e = realloc(m->entries, cap * sizeof *e);
        if (!e)
            return lpnas_fail(LPNAS_ERR_NOMEM, "latency table: out of memory");
        m->entries = e;
        m->capacity = cap;
    }
    m->entries[m->count++] = (lpnas_lut_entry){*key, mean, std, count};
    if (m->count * 2 > m->nslots)
        return rehash(m, m->nslots ? 2 * m->nslots : 128);
    size_t mask = m->nslots - 1;
    for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask)
        if (!m->slots[i]) {
            m->slots[i] = (uint32_t)m->count;
            break;
        }
    return LPNAS_OK;
}

int lpnas_lut_key_format(const lpnas_lut_key *k, char *buf, size_t size)
{
    return snprintf(buf, size, "%s:%dx%dx%d>%d:k%d:s%d:g%d:d%d:%s%s", lpnas_layer_op_name((lpnas_layer_op)k->v[0]),
                    k->v[1], k->v[2], k->v[3], k->v[4], k->v[5], k->v[6], k->v[7], k->v[8],
                    lpnas_layer_act_name((lpnas_layer_act)k->v[9]), k->v[10] ? ":pool" : "");
}

int lpnas_layer_signature(const lpnas_layer *y, char *buf, size_t size)
{
    lpnas_lut_key k = lpnas_lut_key_of(y, false);
    return lpnas_lut_key_format(&k, buf, size);
}

/* BN and ReLU rows right after a conv/deconv/fc (possibly after each
 * other) are folded into it: the device folds BN into the weights and fuses
 * the activation; the host kernels do the same in inference. */
bool lpnas_layer_folded(const lpnas_layer_list *list, size_t i)
{
    if (!lpnas_op_folds(list->layers[i].op))
        return false;
    while (i > 0) {
        lpnas_layer_op p = list->layers[--i].op;
        if (lpnas_op_anchors_folds(p))
            return true;
        if (!lpnas_op_folds(p))
            return false;
    }
    return false;
}

static const char *const KIND_NAMES[LPNAS_LATKIND_COUNT_] = {
    "conv", "pointwise", "depthwise", "dilated", "deconv", "pool", "add", "concat", "resample", "fc", "other",
    "overhead"};

const char *lpnas_latency_kind_name(lpnas_latency_kind k)
{
    return (unsigned)k < LPNAS_LATKIND_COUNT_ ? KIND_NAMES[k] : "?";
}

lpnas_latency_kind lpnas_latency_kind_of(const lpnas_layer *y)
{
    switch (y->op) {
    case LPNAS_OP_CONV:
        if (y->dilation > 1)
            return LPNAS_LATKIND_DILATED;
        if (y->groups > 1 && y->groups == y->in_c && y->out_c == y->in_c)
            return LPNAS_LATKIND_DEPTHWISE;
        return y->kernel == 1 ? LPNAS_LATKIND_POINTWISE : LPNAS_LATKIND_CONV;
    case LPNAS_OP_DECONV: return LPNAS_LATKIND_DECONV;
    case LPNAS_OP_MAXPOOL:
    case LPNAS_OP_AVGPOOL:
    case LPNAS_OP_GLOBAL_AVGPOOL: return LPNAS_LATKIND_POOL;
    case LPNAS_OP_FC: return LPNAS_LATKIND_FC;
    case LPNAS_OP_ADD: return LPNAS_LATKIND_ADD;
    case LPNAS_OP_CONCAT: return LPNAS_LATKIND_CONCAT;
    case LPNAS_OP_UPSAMPLE_NEAREST:
    case LPNAS_OP_UPSAMPLE_BILINEAR: return LPNAS_LATKIND_RESAMPLE;
    default: return LPNAS_LATKIND_OTHER;
    }
}

lpnas_status lpnas_latency_breakdown(const lpnas_latency_model *m, const lpnas_layer_list *list,
                                     double ms_by_kind[LPNAS_LATKIND_COUNT_], double *total_ms)
{
    if (!m || !list || !ms_by_kind || !total_ms)
        return lpnas_fail(LPNAS_ERR_ARG, "latency breakdown: NULL argument");
    double *per = malloc((list->count ? list->count : 1) * sizeof *per);
    if (!per)
        return lpnas_fail(LPNAS_ERR_NOMEM, "latency breakdown: out of memory for %zu layers", list->count);
    lpnas_status st = lpnas_latency_estimate(m, list, per, total_ms);
    if (!st) {
        for (int k = 0; k < LPNAS_LATKIND_COUNT_; k++)
            ms_by_kind[k] = 0;
        for (size_t i = 0; i < list->count; i++)
            ms_by_kind[lpnas_latency_kind_of(&list->layers[i])] += per[i];
        ms_by_kind[LPNAS_LATKIND_OVERHEAD] = m->overhead_ms;
    }
    free(per);
    return st;
}
