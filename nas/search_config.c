/* The search configuration compared on resume (nas/search_config.h). */
#include "nas/search_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} text;

static void add(text *t, const char *fmt, ...) LPNAS_PRINTF(2, 3);
static void add(text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || t->len + (size_t)n + 1 > t->cap) {
        size_t cap = 2 * t->cap + (size_t)(n > 0 ? n : 0) + 256;
        char *q = realloc(t->p, cap);
        if (!q || n < 0) {
            t->oom = true;
            free(q);
            t->p = NULL;
            return;
        }
        t->p = q, t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* FNV-1a, 64 bits: a fingerprint of the data, not a security hash. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

char *lpnas_search_config_text(const lpnas_search_options *o)
{
    text t = {0};
    const lpnas_space_options *s = &o->space;
    add(&t, "space.stages=%d..%d\nspace.widths=", s->min_stages, s->max_stages);
    for (int i = 0; i < s->n_widths && i < 16; i++)
        add(&t, "%s%d", i ? "," : "", s->widths[i]);
    add(&t, "\nspace.kernels=");
    for (int i = 0; i < s->n_kernels && i < 4; i++)
        add(&t, "%s%d", i ? "," : "", s->kernels[i]);
    add(&t, "\nspace.lrs=");
    for (int i = 0; i < s->n_lrs && i < 8; i++)
        add(&t, "%s%.17g", i ? "," : "", s->lrs[i]);
    add(&t, "\nspace.blocks=%d\nspace.separable=%d\nspace.inverted=%d\nspace.expansion=%d\nspace.dec_blocks=%d\n",
        s->max_blocks, s->allow_separable, s->allow_inverted, s->max_expansion, s->max_dec_blocks);
    add(&t, "policy=%s\nmode=%s\n", o->policy ? lpnas_policy_name(o->policy) : "fp32",
        o->mode == LPNAS_MODE_POSTHOC ? "posthoc" : "aligned");
    add(&t, "latency_model=%s\nbudget_ms=%.17g\nlatency_slack=%.17g\nlatency_penalty=%.17g\n",
        o->latency ? lpnas_latency_device(o->latency) : "", o->budget_ms, o->latency_slack, o->latency_penalty);
    add(&t, "max_params=%lld\nmax_peak_bytes=%lld\nwarmup_steps=%d\nfinetune_steps=%d\ntrain_batch=%d\n",
        o->max_params, o->max_peak_bytes, o->warmup_steps, o->finetune_steps, o->batch);
    add(&t, "raw_inputs=%d\n", o->raw_inputs);
    if (o->prune)
        add(&t, "prune=on, warm-up %d, interval %d, startup %d\n", o->prune_warmup, o->prune_interval,
            o->prune_startup);
    else
        add(&t, "prune=off\n");
    for (int k = 0; k < 2; k++) { /* the data, and a separate validation set if any */
        const lpnas_dataset *d = k ? o->val_data : o->data;
        if (!d)
            continue;
        int n = lpnas_dataset_count(d), C = lpnas_dataset_channels(d), H = lpnas_dataset_height(d),
            W = lpnas_dataset_width(d);
        uint64_t h = 0xcbf29ce484222325ull;
        for (int i = 0; i < n; i++) {
            h = fnv(h, lpnas_dataset_image(d, i), (size_t)C * H * W * sizeof(float));
            h = fnv(h, lpnas_dataset_mask(d, i), (size_t)H * W);
        }
        add(&t, "%s=%d tiles of %dx%dx%d, hash %016llx\n", k ? "val_data" : "data", n, C, H, W,
            (unsigned long long)h);
    }
    uint64_t hs = fnv(fnv(0xcbf29ce484222325ull, o->train, (size_t)o->ntrain * sizeof *o->train), o->val,
                      (size_t)o->nval * sizeof *o->val);
    add(&t, "split=%d training, %d validation, hash %016llx\n", o->ntrain, o->nval, (unsigned long long)hs);
    if (t.oom) {
        free(t.p);
        return NULL;
    }
    return t.p;
}

lpnas_status lpnas_search_check_data(const lpnas_search_options *o)
{
    int H = lpnas_dataset_height(o->data), W = lpnas_dataset_width(o->data), n = o->space.max_stages;
    int f = n >= 1 && n <= 6 ? 1 << (n - 1) : 1;
    /* stage i runs at 1/2^i: the deepest stage needs sides divisible by 2^(stages-1) */
    if (H < f || W < f || H % f || W % f || H > 8192 || W > 8192)
        return lpnas_fail(LPNAS_ERR_ARG,
                          "data: tiles of %dx%d cannot go through the space's %d stages: width and height must be "
                          "multiples of %d (at most 8192); crop or pad the tiles, or search fewer stages",
                          W, H, n, f);
    return LPNAS_OK;
}
