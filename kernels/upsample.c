#include "kernels/upsample.h"

#include <stdlib.h>

#include "base/error.h"

lpnas_status lpnas_upsample_check(lpnas_shape in, int factor, lpnas_shape *out)
{
    lpnas_status st = lpnas_shape_check(in, "upsample input");
    if (st)
        return st;
    if (factor < 1 || factor > 64)
        return lpnas_fail(LPNAS_ERR_ARG, "upsample: factor %d (need 1..64)", factor);
    lpnas_shape o = {in.n, in.c, in.h * factor, in.w * factor};
    if ((st = lpnas_shape_check(o, "upsample output")))
        return st;
    if (out)
        *out = o;
    return LPNAS_OK;
}

/* One axis of bilinear interpolation: for output index d, the two source
 * indices and the weight of the upper one. */
static inline void bilinear_tap(int d, int factor, int in_size, int *i0, int *i1, float *w1)
{
    float src = ((float)d + 0.5f) / (float)factor - 0.5f;
    if (src < 0)
        src = 0;
    int lo = (int)src;
    if (lo > in_size - 1)
        lo = in_size - 1;
    *i0 = lo;
    *i1 = lo + 1 < in_size ? lo + 1 : in_size - 1;
    *w1 = src - (float)lo;
}

/* The column taps of a bilinear row, computed once per call (a float
 * division per output pixel was most of the cost): the same values that
 * bilinear_tap gives, so the same bits. NULL when out of memory: then the
 * loops compute each tap where they use it, as before. */
typedef struct {
    int *x0, *x1;
    float *wx;
} col_taps;

static col_taps col_taps_make(int ow, int f, int w)
{
    col_taps t = {malloc((size_t)ow * sizeof(int)), malloc((size_t)ow * sizeof(int)), malloc((size_t)ow * sizeof(float))};
    if (!t.x0 || !t.x1 || !t.wx) {
        free(t.x0), free(t.x1), free(t.wx);
        return (col_taps){NULL, NULL, NULL};
    }
    for (int ox = 0; ox < ow; ox++)
        bilinear_tap(ox, f, w, &t.x0[ox], &t.x1[ox], &t.wx[ox]);
    return t;
}

static inline void col_tap(const col_taps *t, int ox, int f, int w, int *x0, int *x1, float *wx)
{
    if (t->x0)
        *x0 = t->x0[ox], *x1 = t->x1[ox], *wx = t->wx[ox];
    else
        bilinear_tap(ox, f, w, x0, x1, wx);
}

static void col_taps_free(col_taps *t)
{
    free(t->x0), free(t->x1), free(t->wx);
}

void lpnas_upsample_forward(float *out, const float *in, lpnas_shape s, int f, lpnas_upsample_mode mode,
                            const lpnas_policy *policy)
{
    lpnas_shape o = {s.n, s.c, s.h * f, s.w * f};
    col_taps taps = mode == LPNAS_UPSAMPLE_NEAREST ? (col_taps){NULL, NULL, NULL} : col_taps_make(o.w, f, s.w);
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *x = in + lpnas_shape_at(s, n, c, 0, 0);
            float *y = out + lpnas_shape_at(o, n, c, 0, 0);
            for (int oy = 0; oy < o.h; oy++) {
                if (mode == LPNAS_UPSAMPLE_NEAREST) {
                    const float *row = x + (size_t)(oy / f) * s.w;
                    float *dst = y + (size_t)oy * o.w;
                    if (f == 2) /* our networks' factor: no division per element */
                        for (int i = 0; i < s.w; i++)
                            dst[2 * i] = dst[2 * i + 1] = row[i];
                    else
                        for (int ox = 0; ox < o.w; ox++)
                            dst[ox] = row[ox / f];
                    continue;
                }
                int y0, y1;
                float wy;
                bilinear_tap(oy, f, s.h, &y0, &y1, &wy);
                for (int ox = 0; ox < o.w; ox++) {
                    int x0, x1;
                    float wx;
                    col_tap(&taps, ox, f, s.w, &x0, &x1, &wx);
                    float top = (1 - wx) * x[(size_t)y0 * s.w + x0] + wx * x[(size_t)y0 * s.w + x1];
                    float bot = (1 - wx) * x[(size_t)y1 * s.w + x0] + wx * x[(size_t)y1 * s.w + x1];
                    y[(size_t)oy * o.w + ox] = (1 - wy) * top + wy * bot;
                }
            }
        }
    col_taps_free(&taps);
    lpnas_policy_round(policy, out, lpnas_shape_numel(o));
}

void lpnas_upsample_backward(float *din, const float *dout, lpnas_shape s, int f, lpnas_upsample_mode mode,
                             const lpnas_policy *policy)
{
    lpnas_shape o = {s.n, s.c, s.h * f, s.w * f};
    col_taps taps = mode == LPNAS_UPSAMPLE_NEAREST ? (col_taps){NULL, NULL, NULL} : col_taps_make(o.w, f, s.w);
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            float *dx = din + lpnas_shape_at(s, n, c, 0, 0);
            const float *dy = dout + lpnas_shape_at(o, n, c, 0, 0);
            for (int oy = 0; oy < o.h; oy++) {
                if (mode == LPNAS_UPSAMPLE_NEAREST) {
                    float *row = dx + (size_t)(oy / f) * s.w;
                    const float *src = dy + (size_t)oy * o.w;
                    if (f == 2) /* the same additions in the same order (ox ascending) */
                        for (int i = 0; i < s.w; i++)
                            row[i] = (row[i] + src[2 * i]) + src[2 * i + 1];
                    else
                        for (int ox = 0; ox < o.w; ox++)
                            row[ox / f] += src[ox];
                    continue;
                }
                int y0, y1;
                float wy;
                bilinear_tap(oy, f, s.h, &y0, &y1, &wy);
                for (int ox = 0; ox < o.w; ox++) {
                    int x0, x1;
                    float wx;
                    col_tap(&taps, ox, f, s.w, &x0, &x1, &wx);
                    float g = dy[(size_t)oy * o.w + ox];
                    dx[(size_t)y0 * s.w + x0] += (1 - wy) * (1 - wx) * g;
                    dx[(size_t)y0 * s.w + x1] += (1 - wy) * wx * g;
                    dx[(size_t)y1 * s.w + x0] += wy * (1 - wx) * g;
                    dx[(size_t)y1 * s.w + x1] += wy * wx * g;
                }
            }
        }
    col_taps_free(&taps);
    lpnas_policy_round(policy, din, lpnas_shape_numel(s));
}
