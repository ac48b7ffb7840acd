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
    snprintf(m->method, sizeof m->method, "analytic model calibrated on shared/reference/myriadx.md, see docs/latency.md");
    m->has_analytic = true;
    m->fusions = LPNAS_FUSE_MYRIADX;
    m->overhead_ms = o->overhead_ms;
    return LPNAS_OK;
}

double lpnas_latency_overhead(const lpnas_latency_model *m) { return m->overhead_ms; }
void lpnas_latency_set_overhead(lpnas_latency_model *m, double ms) { m->overhead_ms = ms >= 0 ? ms : 0; }
const char *lpnas_latency_device(const lpnas_latency_model *m) { return m->device; }
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
    const lpnas_layer *y = &list->layers[i];
    if (y->op != LPNAS_OP_BN && y->op != LPNAS_OP_RELU)
        return false;
    while (i > 0) {
        lpnas_layer_op p = list->layers[--i].op;
        if (p == LPNAS_OP_CONV || p == LPNAS_OP_DECONV || p == LPNAS_OP_FC)
            return true;
        if (p != LPNAS_OP_BN && p != LPNAS_OP_RELU)
            return false;
    }
    return false;
}

/* The device fuses conv 3x3 stride 1 with a following 2x2 stride-2 max pool. */
static bool pool_fuses(const lpnas_layer *conv, const lpnas_layer *pool)
{
    return conv->op == LPNAS_OP_CONV && conv->kernel == 3 && conv->stride == 1 && conv->dilation == 1 &&
           pool->op == LPNAS_OP_MAXPOOL && pool->kernel == 2 && pool->stride == 2 && pool->in_c == conv->out_c;
}

/* Index of the first row after i that is not folded into it. */
static size_t after_folds(const lpnas_layer_list *list, size_t i)
{
    size_t j = i + 1;
    while (j < list->count && lpnas_layer_folded(list, j))
        j++;
    return j;
}

lpnas_status lpnas_latency_estimate(const lpnas_latency_model *m, const lpnas_layer_list *list, double *per_layer,
                                    double *total_ms)
{
    if (!m || !list || !total_ms)
        return lpnas_fail(LPNAS_ERR_ARG, "latency estimate: NULL model, list or total");
    double total = 0;
    size_t n = list->count, fused_pool_at = (size_t)-1;
    bool myriad = m->fusions == LPNAS_FUSE_MYRIADX;
    for (size_t i = 0; i < n; i++) {
        const lpnas_layer *y = &list->layers[i];
        double t;
        if (lpnas_layer_folded(list, i) || i == fused_pool_at || (myriad && y->op == LPNAS_OP_CONCAT)) {
            t = 0; /* folded into the conv before, fused with it, or free */
        } else {
            bool anchor = y->op == LPNAS_OP_CONV || y->op == LPNAS_OP_DECONV || y->op == LPNAS_OP_FC;
            size_t next = anchor ? after_folds(list, i) : i + 1;
            bool fused_pool = myriad && next < n && pool_fuses(y, &list->layers[next]);
            if (fused_pool)
                fused_pool_at = next;
            lpnas_lut_key key = lpnas_lut_key_of(y, fused_pool);
            const lpnas_lut_entry *e = lpnas_latency_model_find(m, &key);
            if (e) {
                t = e->mean_ms;
            } else if (m->has_analytic) {
                int oh, ow;
                lpnas_layer_out_hw(y, &oh, &ow);
                double ib = 2.0 * y->in_h * y->in_w * y->in_c, ob = 2.0 * oh * ow * y->out_c;
                bool in_ddr = i == 0 || ib > m->k.cmx_bytes, out_ddr = next >= n || ob > m->k.cmx_bytes;
                t = lpnas_myriadx_layer_ms(&m->k, y, fused_pool, in_ddr, out_ddr);
            } else {
                t = -1;
            }
            if (!isfinite(t)) { /* e.g. a constant that makes a division blow up: never a silent NaN */
                char sig[128];
                lpnas_lut_key_format(&key, sig, sizeof sig);
                return lpnas_fail(LPNAS_ERR_NUMERIC, "layer %zu (%s): the latency model of '%s' gives %g ms", i + 1,
                                  sig, m->device, t);
            }
            if (t < 0) {
                char sig[128];
                lpnas_lut_key_format(&key, sig, sizeof sig);
                return lpnas_fail(LPNAS_ERR_UNSUPPORTED,
                                  "layer %zu (%s): not in the LUT of '%s' and no analytic model covers it", i + 1,
                                  sig, m->device);
            }
        }
        if (per_layer)
            per_layer[i] = t;
        total += t;
    }
    *total_ms = total + m->overhead_ms;
    return LPNAS_OK;
}
