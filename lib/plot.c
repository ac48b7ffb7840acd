/* Scatter plots drawn into an RGB buffer and written with libpng. Text uses
 * a built-in 3x5 pixel font, drawn at 2x. */
#include "lpnas/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lpnas/data.h"

#define W 800
#define H 500
#define LEFT 80
#define RIGHT 30
#define TOP 50
#define BOTTOM 70

/* 5 rows of 3 bits, top row first, most significant bit leftmost */
static const struct {
    char c;
    unsigned short rows[5];
} FONT[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 7, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 1, 1}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {'.', {0, 0, 0, 0, 2}}, {'-', {0, 0, 7, 0, 0}},
    {':', {0, 2, 0, 2, 0}}, {'(', {1, 2, 2, 2, 1}}, {')', {4, 2, 2, 2, 4}}, {'/', {1, 1, 2, 4, 4}},
    {'%', {5, 1, 2, 4, 5}}, {'=', {0, 7, 0, 7, 0}}, {',', {0, 0, 0, 2, 4}}, {'a', {2, 5, 7, 5, 5}},
    {'b', {6, 5, 6, 5, 6}}, {'c', {3, 4, 4, 4, 3}}, {'d', {6, 5, 5, 5, 6}}, {'e', {7, 4, 6, 4, 7}},
    {'f', {7, 4, 6, 4, 4}}, {'g', {3, 4, 5, 5, 3}}, {'h', {5, 5, 7, 5, 5}}, {'i', {7, 2, 2, 2, 7}},
    {'j', {1, 1, 1, 5, 2}}, {'k', {5, 5, 6, 5, 5}}, {'l', {4, 4, 4, 4, 7}}, {'m', {5, 7, 7, 5, 5}},
    {'n', {6, 5, 5, 5, 5}}, {'o', {2, 5, 5, 5, 2}}, {'p', {6, 5, 6, 4, 4}}, {'q', {2, 5, 5, 6, 3}},
    {'r', {6, 5, 6, 5, 5}}, {'s', {3, 4, 2, 1, 6}}, {'t', {7, 2, 2, 2, 2}}, {'u', {5, 5, 5, 5, 7}},
    {'v', {5, 5, 5, 5, 2}}, {'w', {5, 5, 7, 7, 5}}, {'x', {5, 5, 2, 5, 5}}, {'y', {5, 5, 2, 2, 2}},
    {'z', {7, 1, 2, 4, 7}}, {'+', {0, 2, 7, 2, 0}},
};

typedef struct {
    uint8_t *px;
} canvas;

static void dot(canvas *cv, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= W || y >= H)
        return;
    memcpy(cv->px + ((size_t)y * W + x) * 3, rgb, 3);
}

static void text(canvas *cv, int x, int y, const char *s, const uint8_t rgb[3])
{
    for (; *s; s++, x += 8) {
        char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
        for (size_t g = 0; g < sizeof FONT / sizeof FONT[0]; g++) {
            if (FONT[g].c != c)
                continue;
            for (int r = 0; r < 5; r++)
                for (int b = 0; b < 3; b++)
                    if (FONT[g].rows[r] >> (2 - b) & 1)
                        for (int k = 0; k < 4; k++)
                            dot(cv, x + 2 * b + (k & 1), y + 2 * r + (k >> 1), rgb);
        }
    }
}

static void line(canvas *cv, int x0, int y0, int x1, int y1, const uint8_t rgb[3], int dash)
{
    int n = abs(x1 - x0) > abs(y1 - y0) ? abs(x1 - x0) : abs(y1 - y0);
    for (int i = 0; i <= n; i++) {
        if (dash && (i / dash) % 2)
            continue;
        double t = n ? (double)i / n : 0;
        dot(cv, (int)lround(x0 + t * (x1 - x0)), (int)lround(y0 + t * (y1 - y0)), rgb);
    }
}

static int cmp_x(const void *a, const void *b)
{
    double x = ((const lpnas_plot_point *)a)->x, y = ((const lpnas_plot_point *)b)->x;
    return (x > y) - (x < y);
}

lpnas_status lpnas_plot_scatter_png(const char *path, const lpnas_plot_point *p, int n, const char *title,
                                    const char *xlabel, const char *ylabel, double vline, const char *vline_label)
{
    if (n < 0 || (n > 0 && !p))
        return lpnas_fail(LPNAS_ERR_ARG, "plot: bad points");
    canvas cv = {malloc((size_t)W * H * 3)};
    lpnas_plot_point *front = malloc(((size_t)n + 1) * sizeof *front);
    if (!cv.px || !front) {
        free(cv.px), free(front);
        return lpnas_fail(LPNAS_ERR_NOMEM, "plot: out of memory");
    }
    memset(cv.px, 255, (size_t)W * H * 3);
    static const uint8_t black[3] = {0, 0, 0}, grey[3] = {150, 150, 150}, light[3] = {225, 225, 225},
                         blue[3] = {40, 90, 200}, red[3] = {210, 30, 30}, orange[3] = {240, 140, 0};
    double x0 = 0, x1 = isnan(vline) ? 1e-9 : vline * 1.2, y0 = 1, y1 = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(p[i].x) || !isfinite(p[i].y))
            continue;
        x1 = fmax(x1, p[i].x * 1.08);
        y0 = fmin(y0, p[i].y), y1 = fmax(y1, p[i].y);
    }
    if (y1 <= y0)
        y0 = 0, y1 = 1;
    double pad = (y1 - y0) * 0.1 + 1e-3;
    y0 = fmax(0, y0 - pad), y1 = fmin(1, y1 + pad);
    int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PX(v) (LEFT + (int)lround(((v) - x0) / (x1 - x0) * pw))
#define PY(v) (TOP + ph - (int)lround(((v) - y0) / (y1 - y0) * ph))
    char buf[64];
    for (int t = 0; t <= 5; t++) { /* grid and tick labels */
        double xv = x0 + (x1 - x0) * t / 5, yv = y0 + (y1 - y0) * t / 5;
        line(&cv, PX(xv), TOP, PX(xv), TOP + ph, light, 0);
        line(&cv, LEFT, PY(yv), LEFT + pw, PY(yv), light, 0);
        snprintf(buf, sizeof buf, "%.1f", xv);
        text(&cv, PX(xv) - 4 * (int)strlen(buf), TOP + ph + 10, buf, black);
        snprintf(buf, sizeof buf, "%.3f", yv);
        text(&cv, LEFT - 8 * (int)strlen(buf) - 6, PY(yv) - 5, buf, black);
    }
    line(&cv, LEFT, TOP + ph, LEFT + pw, TOP + ph, black, 0);
    line(&cv, LEFT, TOP, LEFT, TOP + ph, black, 0);
    if (isfinite(vline) && vline > x0 && vline < x1) {
        line(&cv, PX(vline), TOP, PX(vline), TOP + ph, orange, 6);
        if (vline_label)
            text(&cv, PX(vline) + 6, TOP + 6, vline_label, orange);
    }
    int nf = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(p[i].x) || !isfinite(p[i].y))
            continue;
        int x = PX(p[i].x), y = PY(p[i].y);
        if (p[i].kind == LPNAS_PLOT_INFEASIBLE) {
            line(&cv, x - 3, y - 3, x + 3, y + 3, grey, 0);
            line(&cv, x - 3, y + 3, x + 3, y - 3, grey, 0);
            continue;
        }
        if (p[i].kind == LPNAS_PLOT_FRONT)
            front[nf++] = p[i];
        const uint8_t *c = p[i].kind == LPNAS_PLOT_FRONT ? red : blue;
        for (int dy = -3; dy <= 3; dy++)
            for (int dx = -3; dx <= 3; dx++)
                if (dx * dx + dy * dy <= 9)
                    dot(&cv, x + dx, y + dy, c);
    }
    qsort(front, (size_t)nf, sizeof *front, cmp_x);
    for (int i = 1; i < nf; i++)
        line(&cv, PX(front[i - 1].x), PY(front[i - 1].y), PX(front[i].x), PY(front[i].y), red, 0);
    if (title)
        text(&cv, LEFT, 16, title, black);
    if (xlabel)
        text(&cv, LEFT + pw / 2 - 4 * (int)strlen(xlabel), H - 28, xlabel, black);
    if (ylabel)
        text(&cv, 8, TOP - 18, ylabel, black);
    text(&cv, W - 350, 16, "blue: trained   red: front   x: infeasible", grey);
#undef PX
#undef PY
    lpnas_status st = lpnas_png_write_rgb(path, cv.px, W, H);
    free(cv.px), free(front);
    return st;
}

/* Grouped dot plot: per group (a setting), one dot per series at its mean
 * with a bar of +- sd, series side by side in a fixed palette, a legend. */
lpnas_status lpnas_plot_groups_png(const char *path, const char *const *groups, int ng, const lpnas_plot_series *s,
                                   int ns, const char *title, const char *ylabel)
{
    if (ng < 1 || ns < 1 || ns > 6 || !groups || !s)
        return lpnas_fail(LPNAS_ERR_ARG, "plot: %d groups and %d series (need >= 1 and 1..6)", ng, ns);
    canvas cv = {malloc((size_t)W * H * 3)};
    if (!cv.px)
        return lpnas_fail(LPNAS_ERR_NOMEM, "plot: out of memory");
    memset(cv.px, 255, (size_t)W * H * 3);
    static const uint8_t black[3] = {0, 0, 0}, light[3] = {225, 225, 225};
    static const uint8_t pal[6][3] = {{40, 90, 200}, {120, 120, 120}, {210, 30, 30}, {30, 150, 60}, {240, 140, 0},
                                      {140, 60, 170}};
    double y0 = 1, y1 = 0;
    for (int k = 0; k < ns; k++)
        for (int g = 0; g < ng; g++) {
            double m = s[k].mean[g], e = s[k].sd ? s[k].sd[g] : 0;
            if (isfinite(m))
                y0 = fmin(y0, m - (isfinite(e) ? e : 0)), y1 = fmax(y1, m + (isfinite(e) ? e : 0));
        }
    if (y1 <= y0)
        y0 = 0, y1 = 1;
    double pad = (y1 - y0) * 0.1 + 1e-3;
    y0 = fmax(0, y0 - pad), y1 = fmin(1, y1 + pad);
    int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PY(v) (TOP + ph - (int)lround(((v) - y0) / (y1 - y0) * ph))
    char buf[64];
    for (int t = 0; t <= 5; t++) {
        double yv = y0 + (y1 - y0) * t / 5;
        line(&cv, LEFT, PY(yv), LEFT + pw, PY(yv), light, 0);
        snprintf(buf, sizeof buf, "%.3f", yv);
        text(&cv, LEFT - 8 * (int)strlen(buf) - 6, PY(yv) - 5, buf, black);
    }
    line(&cv, LEFT, TOP + ph, LEFT + pw, TOP + ph, black, 0);
    line(&cv, LEFT, TOP, LEFT, TOP + ph, black, 0);
    double cw = (double)pw / ng;
    for (int g = 0; g < ng; g++) {
        int cx = LEFT + (int)lround(cw * (g + 0.5));
        if (g)
            line(&cv, LEFT + (int)lround(cw * g), TOP, LEFT + (int)lround(cw * g), TOP + ph, light, 3);
        /* the label, one line per '\n'-separated part, centred under the group */
        const char *p = groups[g];
        for (int row = 0; p && *p && row < 3; row++) {
            size_t len = strcspn(p, "\n");
            snprintf(buf, sizeof buf, "%.*s", (int)(len < 63 ? len : 63), p);
            text(&cv, cx - 4 * (int)strlen(buf), TOP + ph + 8 + 14 * row, buf, black);
            p += len + (p[len] == '\n');
        }
        for (int k = 0; k < ns; k++) {
            double m = s[k].mean[g], e = s[k].sd ? s[k].sd[g] : 0;
            if (!isfinite(m))
                continue;
            int x = cx + (int)lround((k - (ns - 1) / 2.0) * fmin(12.0, cw / (ns + 1)));
            if (isfinite(e) && e > 0)
                line(&cv, x, PY(fmin(y1, m + e)), x, PY(fmax(y0, m - e)), pal[k], 0);
            for (int dy = -3; dy <= 3; dy++)
                for (int dx = -3; dx <= 3; dx++)
                    if (dx * dx + dy * dy <= 9)
                        dot(&cv, x + dx, PY(m) + dy, pal[k]);
        }
    }
    if (title)
        text(&cv, LEFT, 16, title, black);
    if (ylabel)
        text(&cv, 8, TOP - 18, ylabel, black);
    for (int k = 0, x = W - RIGHT - 8; k < ns; k++) { /* legend, right-aligned */
        const char *name = s[k].name ? s[k].name : "";
        x -= 8 * (int)strlen(name) + 24;
        for (int dy = -3; dy <= 3; dy++)
            for (int dx = -3; dx <= 3; dx++)
                if (dx * dx + dy * dy <= 9)
                    dot(&cv, x + dx, 34 + dy, pal[k]);
        text(&cv, x + 8, 29, name, pal[k]);
    }
#undef PY
    lpnas_status st = lpnas_png_write_rgb(path, cv.px, W, H);
    free(cv.px);
    return st;
}
