/* Dynamic loss scaling with PyTorch GradScaler's rules: skip the step and
 * multiply the scale by backoff on inf/NaN; multiply by growth after
 * growth_interval consecutive clean steps. Clamped to [min, max]. */
#include <math.h>
#include <string.h>

#include "base/binio.h"
#include "base/error.h"
#include "lpnas/scaler.h"

#define SCALER_MAGIC 0x534C504Eu /* "NPLS" little-endian: LPNAS scaler */
#define SCALER_VERSION 1u

void lpnas_scaler_options_default(lpnas_scaler_options *o)
{
    o->init_scale = 65536.0f;
    o->growth_factor = 2.0f;
    o->backoff_factor = 0.5f;
    o->growth_interval = 2000;
    o->min_scale = 1.0f;
    o->max_scale = 16777216.0f;
}

static lpnas_status check_options(const lpnas_scaler_options *o)
{
    if (!(isfinite(o->init_scale) && o->init_scale > 0))
        return lpnas_fail(LPNAS_ERR_ARG, "loss scaler: init_scale %g must be finite and > 0", (double)o->init_scale);
    if (!(isfinite(o->growth_factor) && o->growth_factor > 1))
        return lpnas_fail(LPNAS_ERR_ARG, "loss scaler: growth_factor %g must be finite and > 1", (double)o->growth_factor);
    if (!(o->backoff_factor > 0 && o->backoff_factor < 1))
        return lpnas_fail(LPNAS_ERR_ARG, "loss scaler: backoff_factor %g must be in (0, 1)", (double)o->backoff_factor);
    if (o->growth_interval == 0)
        return lpnas_fail(LPNAS_ERR_ARG, "loss scaler: growth_interval must be >= 1");
    if (!(isfinite(o->min_scale) && isfinite(o->max_scale) && o->min_scale > 0 &&
          o->min_scale <= o->init_scale && o->init_scale <= o->max_scale))
        return lpnas_fail(LPNAS_ERR_ARG, "loss scaler: need 0 < min_scale (%g) <= init_scale (%g) <= max_scale (%g)",
                          (double)o->min_scale, (double)o->init_scale, (double)o->max_scale);
    return LPNAS_OK;
}

lpnas_status lpnas_scaler_init(lpnas_scaler *s, const lpnas_scaler_options *o)
{
    lpnas_scaler_options def;
    if (!o) {
        lpnas_scaler_options_default(&def);
        o = &def;
    }
    lpnas_status st = check_options(o);
    if (st)
        return st;
    memset(s, 0, sizeof *s);
    s->opt = *o;
    s->scale = o->init_scale;
    return LPNAS_OK;
}

bool lpnas_scaler_update(lpnas_scaler *s, bool found_nonfinite)
{
    if (found_nonfinite) {
        s->skipped++;
        s->clean_steps = 0;
        float next = s->scale * s->opt.backoff_factor;
        s->scale = next < s->opt.min_scale ? s->opt.min_scale : next;
        return false;
    }
    s->applied++;
    if (++s->clean_steps >= s->opt.growth_interval) {
        s->clean_steps = 0;
        float next = s->scale * s->opt.growth_factor;
        s->scale = next > s->opt.max_scale ? s->opt.max_scale : next;
    }
    return true;
}

/* x - x is 0 for finite x and NaN for inf/NaN: one subtraction and one
 * compare per element, no branches in the loop, vectorizable. */
bool lpnas_any_nonfinite(const float *x, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t end = n - i > 4096 ? i + 4096 : n;
        float acc = 0;
        for (; i < end; i++)
            acc += x[i] - x[i];
        if (acc != 0 || acc != acc)
            return true;
    }
    return false;
}

/* Layout (little-endian): magic, version, the options, the state, then the
 * CRC-32 of everything before it. */
lpnas_status lpnas_scaler_save(const lpnas_scaler *s, FILE *f)
{
    if (!s || !f)
        return lpnas_fail(LPNAS_ERR_ARG, "loss scaler save: NULL scaler or file");
    lpnas_binio b;
    lpnas_binio_init(&b, f);
    lpnas_binio_u32_w(&b, SCALER_MAGIC);
    lpnas_binio_u32_w(&b, SCALER_VERSION);
    lpnas_binio_f64_w(&b, s->opt.init_scale);
    lpnas_binio_f64_w(&b, s->opt.growth_factor);
    lpnas_binio_f64_w(&b, s->opt.backoff_factor);
    lpnas_binio_u32_w(&b, s->opt.growth_interval);
    lpnas_binio_f64_w(&b, s->opt.min_scale);
    lpnas_binio_f64_w(&b, s->opt.max_scale);
    lpnas_binio_f64_w(&b, s->scale);
    lpnas_binio_u32_w(&b, s->clean_steps);
    lpnas_binio_u64_w(&b, s->applied);
    lpnas_binio_u64_w(&b, s->skipped);
    lpnas_binio_u32_w(&b, b.crc);
    if (b.failed)
        return lpnas_fail(LPNAS_ERR_IO, "loss scaler state: write failed");
    return LPNAS_OK;
}

lpnas_status lpnas_scaler_load(lpnas_scaler *s, FILE *f)
{
    if (!s || !f)
        return lpnas_fail(LPNAS_ERR_ARG, "loss scaler load: NULL scaler or file");
    lpnas_binio b;
    lpnas_binio_init(&b, f);
    uint32_t magic = lpnas_binio_u32_r(&b), version = lpnas_binio_u32_r(&b);
    if (b.failed)
        return lpnas_fail(LPNAS_ERR_CORRUPT, "loss scaler state: truncated header");
    if (magic != SCALER_MAGIC)
        return lpnas_fail(LPNAS_ERR_FORMAT, "loss scaler state: bad magic 0x%08x", magic);
    if (version != SCALER_VERSION)
        return lpnas_fail(LPNAS_ERR_FORMAT, "loss scaler state: version %u, this build reads %u", version,
                          SCALER_VERSION);
    lpnas_scaler t;
    t.opt.init_scale = (float)lpnas_binio_f64_r(&b);
    t.opt.growth_factor = (float)lpnas_binio_f64_r(&b);
    t.opt.backoff_factor = (float)lpnas_binio_f64_r(&b);
    t.opt.growth_interval = lpnas_binio_u32_r(&b);
    t.opt.min_scale = (float)lpnas_binio_f64_r(&b);
    t.opt.max_scale = (float)lpnas_binio_f64_r(&b);
    t.scale = (float)lpnas_binio_f64_r(&b);
    t.clean_steps = lpnas_binio_u32_r(&b);
    t.applied = lpnas_binio_u64_r(&b);
    t.skipped = lpnas_binio_u64_r(&b);
    uint32_t crc = b.crc;
    uint32_t stored = lpnas_binio_u32_r(&b);
    if (b.failed)
        return lpnas_fail(LPNAS_ERR_CORRUPT, "loss scaler state: truncated");
    if (crc != stored)
        return lpnas_fail(LPNAS_ERR_CORRUPT, "loss scaler state: checksum 0x%08x, expected 0x%08x", crc, stored);
    if (check_options(&t.opt))
        return lpnas_fail(LPNAS_ERR_CORRUPT, "loss scaler state: %s", lpnas_last_error());
    if (!(t.scale >= t.opt.min_scale && t.scale <= t.opt.max_scale))
        return lpnas_fail(LPNAS_ERR_CORRUPT, "loss scaler state: scale %g outside [%g, %g]", (double)t.scale,
                          (double)t.opt.min_scale, (double)t.opt.max_scale);
    *s = t;
    return LPNAS_OK;
}
