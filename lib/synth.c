/* The synthetic vessel generator: the embedded default data set that needs
 * no download. Tile i depends only on (seed, i). Optical tiles imitate
 * Sentinel-2 RGB port scenes on a 0..255 scale (dark sea, waves, glint,
 * haze, coast, bright or dark hulls with tapered bows, wakes that are not
 * vessel); SAR-like tiles are one channel with multiplicative speckle and
 * bright point scatterers on hulls. The mask is exactly the hull pixels
 * (2x2 supersampled coverage >= 1/2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "lib/dataset_internal.h"

void lpnas_synth_options_default(lpnas_synth_options *o)
{
    o->count = 512;
    o->size = 64;
    o->mode = LPNAS_SYNTH_OPTICAL;
    o->seed = 1;
    o->vessel_prob = 0.75f;
    o->min_len = 3;
    o->max_len = 40;
}

static float unif(lpnas_rng *r, float a, float b)
{
    return a + (b - a) * lpnas_rng_uniform(r);
}

typedef struct {
    float cx, cy, c, s, len, half_w, taper;
} hull;

/* Is (x, y) inside the hull? u along the heading (bow at +len/2), v across. */
static bool in_hull(const hull *h, float x, float y)
{
    float dx = x - h->cx, dy = y - h->cy;
    float u = dx * h->c + dy * h->s, v = -dx * h->s + dy * h->c;
    if (u < -h->len / 2 || u > h->len / 2)
        return false;
    float hw = h->half_w;
    float bow = h->len / 2 - u;
    if (bow < h->taper)
        hw *= bow / h->taper; /* tapered bow */
    if (u < -h->len / 2 + 0.6f)
        hw *= 0.85f; /* squarer stern */
    return fabsf(v) <= hw;
}

/* Wake intensity behind the stern: a narrow V that fades with distance. */
static float wake(const hull *h, float x, float y, float reach)
{
    float dx = x - h->cx, dy = y - h->cy;
    float u = dx * h->c + dy * h->s, v = -dx * h->s + dy * h->c;
    float behind = -h->len / 2 - u;
    if (behind < 0 || behind > reach)
        return 0;
    float spread = h->half_w + 0.25f * behind;
    float arm = fabsf(fabsf(v) - 0.6f * spread);
    float k = expf(-arm * arm / 1.5f) + 0.6f * expf(-v * v / (0.5f + 0.1f * behind));
    return k * (1 - behind / reach);
}

static void make_tile(const lpnas_synth_options *o, int i, float *img, uint8_t *mask)
{
    lpnas_rng r;
    lpnas_rng_derive(&r, o->seed, (uint64_t)i, 0x5e77);
    int n = o->size, C = o->mode == LPNAS_SYNTH_OPTICAL ? 3 : 1;
    size_t plane = (size_t)n * n;
    bool sar = C == 1;
    /* sea colour and its large-scale variation */
    float base[3] = {unif(&r, 18, 40), unif(&r, 30, 55), unif(&r, 45, 75)};
    if (sar)
        base[0] = unif(&r, 15, 35);
    float ph1 = unif(&r, 0, 6.283f), ph2 = unif(&r, 0, 6.283f), f1 = unif(&r, 0.02f, 0.08f);
    float wave_dir = unif(&r, 0, 3.1416f), wave_f = unif(&r, 0.6f, 1.4f), wave_a = unif(&r, 1, 5);
    float wc = cosf(wave_dir), ws = sinf(wave_dir);
    /* glint, haze, land */
    bool glint = lpnas_rng_uniform(&r) < 0.3f, haze = lpnas_rng_uniform(&r) < 0.3f;
    bool land = lpnas_rng_uniform(&r) < 0.25f;
    float gx = unif(&r, 0, (float)n), gy = unif(&r, 0, (float)n), gr = unif(&r, 6, 20), ga = unif(&r, 20, 70);
    float hz = unif(&r, 20, 90), hph = unif(&r, 0, 6.283f);
    float la = unif(&r, 0, 6.283f), lc = cosf(la), ls = sinf(la), ld = unif(&r, (float)n * 0.25f, (float)n * 0.6f);
    bool straight = lpnas_rng_uniform(&r) < 0.5f; /* harbour-like edge */
    float land_col[3] = {unif(&r, 70, 140), unif(&r, 70, 130), unif(&r, 55, 110)};
    uint8_t *is_land = calloc(plane, 1);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            size_t at = (size_t)y * n + x;
            float low = 6 * sinf(f1 * x + ph1) * cosf(f1 * 0.7f * y + ph2);
            float wav = wave_a * sinf(wave_f * (x * wc + y * ws));
            float g = glint ? ga * expf(-((x - gx) * (x - gx) + (y - gy) * (y - gy)) / (2 * gr * gr)) : 0;
            float hzv = haze ? hz * (0.5f + 0.5f * sinf(0.05f * (x + y) + hph)) : 0;
            float edge = (x - n / 2.0f) * lc + (y - n / 2.0f) * ls - ld;
            if (!straight)
                edge += 4 * sinf(0.2f * (x * ls - y * lc));
            bool on_land = land && edge > 0;
            is_land[at] = on_land;
            for (int c = 0; c < C; c++) {
                float v;
                if (on_land)
                    v = land_col[c] + unif(&r, -25, 25);
                else
                    v = base[c] + low + wav + unif(&r, -3, 3) + g;
                v += hzv;
                img[c * plane + at] = v;
            }
        }
    /* vessels */
    memset(mask, 0, plane);
    int vessels = lpnas_rng_uniform(&r) < o->vessel_prob ? 1 + (int)lpnas_rng_below(&r, 3) : 0;
    for (int k = 0; k < vessels; k++) {
        hull h;
        float head = unif(&r, 0, 6.283f);
        h.c = cosf(head), h.s = sinf(head);
        h.len = unif(&r, (float)o->min_len, (float)o->max_len);
        h.half_w = fmaxf(0.6f, h.len / unif(&r, 8, 12));
        h.taper = h.len * 0.3f;
        int tries = 0;
        do {
            h.cx = unif(&r, 2, (float)n - 2), h.cy = unif(&r, 2, (float)n - 2);
        } while (is_land[(size_t)h.cy * n + (size_t)h.cx] && ++tries < 20);
        if (tries >= 20)
            continue;
        bool bright = lpnas_rng_uniform(&r) < 0.85f;
        float lum = bright ? unif(&r, 130, 230) : unif(&r, 8, 22); /* grey-white or dark hulls */
        float col[3] = {lum + unif(&r, -12, 12), lum + unif(&r, -12, 12), lum + unif(&r, -12, 12)};
        if (sar)
            col[0] = unif(&r, 150, 255);
        float reach = h.len * unif(&r, 1, 3);
        bool has_wake = lpnas_rng_uniform(&r) < 0.6f;
        int x0 = (int)fmaxf(0, h.cx - h.len - reach), x1 = (int)fminf((float)n, h.cx + h.len + reach + 1);
        int y0 = (int)fmaxf(0, h.cy - h.len - reach), y1 = (int)fminf((float)n, h.cy + h.len + reach + 1);
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                size_t at = (size_t)y * n + x;
                int cover = 0;
                for (int sy = 0; sy < 2; sy++)
                    for (int sx = 0; sx < 2; sx++)
                        cover += in_hull(&h, x + 0.25f + 0.5f * sx, y + 0.25f + 0.5f * sy);
                if (cover >= 2 && !is_land[at]) {
                    mask[at] = 1;
                    for (int c = 0; c < C; c++)
                        img[c * plane + at] = col[c] + unif(&r, -10, 10);
                } else if (cover == 1 && !is_land[at]) { /* anti-aliased edge, not vessel */
                    for (int c = 0; c < C; c++)
                        img[c * plane + at] = 0.5f * (img[c * plane + at] + col[c]);
                } else if (has_wake && !is_land[at]) {
                    float wv = wake(&h, x + 0.5f, y + 0.5f, reach);
                    for (int c = 0; c < C; c++)
                        img[c * plane + at] += 35 * wv;
                }
            }
        if (bright && h.len > 8) { /* superstructure highlight */
            int sx = (int)(h.cx - 0.15f * h.len * h.c), sy = (int)(h.cy - 0.15f * h.len * h.s);
            if (sx >= 0 && sx < n && sy >= 0 && sy < n && mask[(size_t)sy * n + sx])
                for (int c = 0; c < C; c++)
                    img[c * plane + (size_t)sy * n + sx] = 250;
        }
    }
    /* distractors: whitecaps and small bright debris (not vessel) */
    int caps = (int)lpnas_rng_below(&r, 6);
    for (int k = 0; k < caps; k++) {
        int x = (int)lpnas_rng_below(&r, (uint64_t)n), y = (int)lpnas_rng_below(&r, (uint64_t)n);
        size_t at = (size_t)y * n + x;
        if (mask[at] || is_land[at])
            continue;
        for (int c = 0; c < C; c++)
            img[c * plane + at] += unif(&r, 40, 110);
    }
    if (sar) /* multiplicative speckle: exponential (1-look) around 1, then some averaging (4-look) */
        for (size_t k = 0; k < plane; k++) {
            float s = 0;
            for (int q = 0; q < 4; q++)
                s += -logf(1 - lpnas_rng_uniform(&r) * 0.999999f);
            img[k] *= s / 4;
        }
    for (size_t k = 0; k < (size_t)C * plane; k++)
        img[k] = fminf(255, fmaxf(0, img[k]));
    free(is_land);
}

lpnas_status lpnas_dataset_synthetic(const lpnas_synth_options *o, lpnas_dataset **out)
{
    lpnas_synth_options def;
    if (!o) {
        lpnas_synth_options_default(&def);
        o = &def;
    }
    *out = NULL;
    if (o->count < 1 || o->count > 1000000)
        return lpnas_fail(LPNAS_ERR_ARG, "synthetic data: count %d (need 1..1000000)", o->count);
    if (o->size < 8 || o->size > 4096)
        return lpnas_fail(LPNAS_ERR_ARG, "synthetic data: size %d (need 8..4096)", o->size);
    if (o->min_len < 1 || o->max_len < o->min_len || o->max_len > 4 * o->size)
        return lpnas_fail(LPNAS_ERR_ARG, "synthetic data: vessel length %d..%d (need 1 <= min <= max <= 4*size)",
                          o->min_len, o->max_len);
    if (!(o->vessel_prob >= 0 && o->vessel_prob <= 1))
        return lpnas_fail(LPNAS_ERR_ARG, "synthetic data: vessel_prob %g (need 0..1)", (double)o->vessel_prob);
    if ((unsigned)o->mode > LPNAS_SYNTH_SAR)
        return lpnas_fail(LPNAS_ERR_ARG, "synthetic data: mode %d unknown", (int)o->mode);
    lpnas_dataset *d;
    int C = o->mode == LPNAS_SYNTH_OPTICAL ? 3 : 1;
    lpnas_status st = lpnas_dataset_alloc(o->count, C, o->size, o->size, &d);
    if (st)
        return st;
    for (int i = 0; i < o->count; i++) {
        make_tile(o, i, (float *)lpnas_dataset_image(d, i), d->masks + (size_t)i * o->size * o->size);
        char name[32];
        int len = snprintf(name, sizeof name, "synth-%06d", i);
        if ((st = lpnas_dataset_set_name(d, i, name, (size_t)len))) {
            lpnas_dataset_free(d);
            return st;
        }
    }
    *out = d;
    return LPNAS_OK;
}
