/* Data sets: PNG folders, splits, channel statistics (include/lpnas/data.h). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/rng.h"
#include "lib/dataset_internal.h"
#include "lib/png_io.h"

lpnas_status lpnas_dataset_alloc(int count, int channels, int h, int w, lpnas_dataset **out)
{
    *out = NULL;
    if (count < 1 || channels < 1 || channels > 16 || h < 1 || w < 1 || h > 16384 || w > 16384 ||
        (double)count * channels * h * w > 4e9)
        return lpnas_fail(LPNAS_ERR_ARG, "data set: %d tiles of %dx%dx%d out of range", count, channels, h, w);
    lpnas_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return lpnas_fail(LPNAS_ERR_NOMEM, "data set: out of memory");
    d->count = count, d->channels = channels, d->h = h, d->w = w;
    d->images = malloc((size_t)count * channels * h * w * sizeof(float));
    d->masks = calloc((size_t)count * h * w, 1);
    d->names = calloc((size_t)count, sizeof *d->names); /* each set by its loader */
    if (!d->images || !d->masks || !d->names) {
        lpnas_dataset_free(d);
        return lpnas_fail(LPNAS_ERR_NOMEM, "data set: out of memory for %d tiles of %dx%d", count, h, w);
    }
    *out = d;
    return LPNAS_OK;
}

void lpnas_dataset_free(lpnas_dataset *d)
{
    if (!d)
        return;
    if (d->names)
        for (int i = 0; i < d->count; i++)
            free(d->names[i]);
    free(d->images), free(d->masks), free(d->names);
    free(d);
}

int lpnas_dataset_count(const lpnas_dataset *d) { return d->count; }
int lpnas_dataset_channels(const lpnas_dataset *d) { return d->channels; }
int lpnas_dataset_height(const lpnas_dataset *d) { return d->h; }
int lpnas_dataset_width(const lpnas_dataset *d) { return d->w; }
const float *lpnas_dataset_image(const lpnas_dataset *d, int i) { return d->images + (size_t)i * d->channels * d->h * d->w; }
const uint8_t *lpnas_dataset_mask(const lpnas_dataset *d, int i) { return d->masks + (size_t)i * d->h * d->w; }
const char *lpnas_dataset_name(const lpnas_dataset *d, int i) { return d->names[i] ? d->names[i] : ""; }

lpnas_status lpnas_dataset_set_name(lpnas_dataset *d, int i, const char *name, size_t len)
{
    char *s = malloc(len + 1);
    if (!s)
        return lpnas_fail(LPNAS_ERR_NOMEM, "data set: out of memory for tile names");
    memcpy(s, name, len);
    s[len] = 0;
    free(d->names[i]);
    d->names[i] = s;
    return LPNAS_OK;
}

/* "a/b" in a fresh buffer: user paths have no fixed length limit. */
static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (s) {
        memcpy(s, a, la);
        s[la] = '/';
        memcpy(s + la + 1, b, lb + 1);
    }
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sorted *.png names of a directory; caller frees each and the array */
static lpnas_status list_png(const char *dir, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    DIR *dp = opendir(dir);
    if (!dp)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    int cap = 0;
    struct dirent *e;
    lpnas_status st = LPNAS_OK;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".png"))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(*names, (size_t)cap * sizeof *nn);
            if (!nn) {
                st = lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory listing files", dir);
                break;
            }
            *names = nn;
        }
        if (!((*names)[*n] = strdup(e->d_name))) {
            st = lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory listing files", dir);
            break;
        }
        (*n)++;
    }
    closedir(dp);
    if (!st && *n)
        qsort(*names, (size_t)*n, sizeof **names, cmp_str);
    return st;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Memory the loaded data set may take: half the machine's physical memory
 * (the search needs the rest for networks), and never more than 4 GB. */
static double memory_limit(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    double phys = pages > 0 && size > 0 ? (double)pages * (double)size : 8e9;
    return fmin(4e9, phys / 2);
}

/* Pass 1: every image's and mask's header, before any pixel is decoded, so
 * a bad tile late in a big folder (or a 16384x16384 one) costs nothing. */
static lpnas_status check_headers(const char *idir, const char *mdir, char **names, int n, int *C0, int *H, int *W)
{
    for (int i = 0; i < n; i++) {
        char *ip = join(idir, names[i]), *mp = join(mdir, names[i]);
        int c, h, w, mc, mh, mw;
        lpnas_status st = LPNAS_OK;
        struct stat sb;
        if (!ip || !mp)
            st = lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", idir);
        else if ((st = lpnas_png_info(ip, &c, &h, &w)))
            ;
        else if (stat(mp, &sb))
            st = lpnas_fail(LPNAS_ERR_IO, "%s: no mask %s for it", ip, mp);
        else if ((st = lpnas_png_info(mp, &mc, &mh, &mw)))
            ;
        else if (mh != h || mw != w)
            st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: mask is %dx%d but its image is %dx%d", mp, mw, mh, w, h);
        else if (h > LPNAS_DATASET_MAX_SIDE || w > LPNAS_DATASET_MAX_SIDE)
            st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: %dx%d: networks take tiles of at most %dx%d", ip, w, h,
                            LPNAS_DATASET_MAX_SIDE, LPNAS_DATASET_MAX_SIDE);
        else if (i > 0 && (h != *H || w != *W))
            st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: %dx%d, but %s is %dx%d: tiles must share one size", ip, w, h,
                            names[0], *W, *H);
        else if (i > 0 && c == 3 && *C0 == 1)
            st = lpnas_fail(LPNAS_ERR_FORMAT,
                            "%s: colour, but %s is gray: a folder must be all gray or start with a colour tile", ip,
                            names[0]);
        if (!st && i == 0) {
            /* the folder's channel count is its first tile's: later gray tiles
             * in a colour folder are replicated to 3 channels */
            *H = h, *W = w;
            *C0 = c == 1 ? 1 : 3;
        }
        free(ip), free(mp);
        if (st)
            return st;
    }
    double need = (double)n * ((double)*C0 * *H * *W * sizeof(float) + (double)*H * *W);
    if (need > memory_limit())
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: %d tiles of %dx%dx%d need %.0f MB in memory, more than the %.0f MB allowed",
                          idir, n, *C0, *H, *W, need / 1e6, memory_limit() / 1e6);
    return LPNAS_OK;
}

lpnas_status lpnas_dataset_load_png_dir(const char *dir, lpnas_dataset **out)
{
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
        return lpnas_fail(LPNAS_ERR_IO, "%s: not a folder", dir);
    char *idir = join(dir, "images"), *mdir = join(dir, "masks");
    char **names = NULL;
    int n = 0, C0 = 0, H = 0, W = 0;
    lpnas_status st = LPNAS_OK;
    lpnas_dataset *d = NULL;
    if (!idir || !mdir)
        st = lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", dir);
    else if (stat(mdir, &sb) || !S_ISDIR(sb.st_mode))
        st = lpnas_fail(LPNAS_ERR_IO, "%s: no masks/ folder beside images/", dir);
    else if (!(st = list_png(idir, &names, &n)) && n == 0)
        st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: no .png images", idir);
    if (!st)
        st = check_headers(idir, mdir, names, n, &C0, &H, &W);
    if (!st)
        st = lpnas_dataset_alloc(n, C0, H, W, &d);
    for (int i = 0; i < n && !st; i++) {
        float *img = NULL, *msk = NULL;
        int c, h, w, mc, mh, mw;
        char *ip = join(idir, names[i]), *mp = join(mdir, names[i]);
        if (!ip || !mp)
            st = lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", idir);
        else if (!(st = lpnas_png_read(ip, &img, &c, &h, &w)))
            st = lpnas_png_read(mp, &msk, &mc, &mh, &mw);
        /* the headers were checked; the decoded sizes must agree with them
         * (a file replaced between the passes is an error, not an overflow) */
        if (!st && (h != H || w != W || mh != H || mw != W || (c == 3 && C0 == 1)))
            st = lpnas_fail(LPNAS_ERR_FORMAT, "%s: changed while the data set was being read", ip);
        if (!st) {
            size_t plane = (size_t)H * W;
            float *dst = d->images + (size_t)i * d->channels * plane;
            for (int k = 0; k < d->channels; k++)
                memcpy(dst + k * plane, img + (c == 1 ? 0 : k) * plane, plane * sizeof *dst);
            uint8_t *m = d->masks + (size_t)i * plane;
            for (size_t k = 0; k < plane; k++) {
                float v = 0;
                for (int q = 0; q < mc; q++)
                    v = msk[q * plane + k] > v ? msk[q * plane + k] : v;
                m[k] = v > 0;
            }
            st = lpnas_dataset_set_name(d, i, names[i], strlen(names[i]) - 4);
        }
        free(ip), free(mp);
        free(img);
        free(msk);
    }
    free_names(names, n);
    free(idir), free(mdir);
    if (st) {
        lpnas_dataset_free(d);
        return st;
    }
    *out = d;
    return LPNAS_OK;
}

lpnas_status lpnas_dataset_split(const lpnas_dataset *d, double val_frac, uint64_t seed, int **train, int *ntrain,
                                 int **val, int *nval)
{
    if (!(val_frac >= 0 && val_frac < 1))
        return lpnas_fail(LPNAS_ERR_ARG, "split: validation fraction %g (need [0, 1))", val_frac);
    int n = d->count, nv = (int)floor(val_frac * n + 0.5);
    if (val_frac > 0 && nv == 0)
        nv = 1;
    if (nv >= n)
        return lpnas_fail(LPNAS_ERR_ARG, "split: %d tiles cannot give %d validation tiles and a training set", n, nv);
    int *perm = malloc((size_t)n * sizeof *perm);
    *train = malloc((size_t)(n - nv) * sizeof **train);
    *val = malloc((size_t)(nv ? nv : 1) * sizeof **val);
    if (!perm || !*train || !*val) {
        free(perm), free(*train), free(*val);
        return lpnas_fail(LPNAS_ERR_NOMEM, "split: out of memory");
    }
    for (int i = 0; i < n; i++)
        perm[i] = i;
    lpnas_rng r;
    lpnas_rng_derive(&r, seed, 0x5b117, 0);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)lpnas_rng_below(&r, (uint64_t)i + 1);
        int t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    memcpy(*val, perm, (size_t)nv * sizeof *perm);
    memcpy(*train, perm + nv, (size_t)(n - nv) * sizeof *perm);
    free(perm);
    *ntrain = n - nv, *nval = nv;
    return LPNAS_OK;
}

lpnas_status lpnas_dataset_channel_stats(const lpnas_dataset *d, const int *idx, int n, float *mean, float *std)
{
    if (n < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "channel stats: no tiles");
    size_t plane = (size_t)d->h * d->w;
    for (int c = 0; c < d->channels; c++) {
        double s = 0, q = 0;
        for (int i = 0; i < n; i++) {
            const float *x = lpnas_dataset_image(d, idx[i]) + (size_t)c * plane;
            for (size_t k = 0; k < plane; k++)
                s += x[k], q += (double)x[k] * x[k];
        }
        double cnt = (double)n * plane, m = s / cnt, v = q / cnt - m * m;
        mean[c] = (float)m;
        std[c] = (float)sqrt(v > 1e-12 ? v : 1e-12);
    }
    return LPNAS_OK;
}

/* One row of panels into rgb (row stride W pixels), starting at pixel row y0. */
static void overlay_row(uint8_t *rgb, int W, int y0, const float *image, int C, int h, int w, float scale,
                        const uint8_t *const *masks, int count, int up)
{
    size_t plane = (size_t)h * w;
    int pw = w * up;
    for (int y = 0; y < h * up; y++)
        for (int x = 0; x < w * up; x++) {
            size_t at = (size_t)(y / up) * w + (size_t)(x / up);
            uint8_t px[3];
            for (int k = 0; k < 3; k++) {
                float v = image[(C == 3 ? k : 0) * plane + at] * 255.0f / scale;
                px[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
            for (int p = 0; p <= count; p++) {
                uint8_t *o = rgb + ((size_t)(y0 + y) * W + (size_t)p * (pw + 4) + x) * 3;
                uint8_t c3[3] = {px[0], px[1], px[2]};
                if (p > 0) {
                    for (int k = 0; k < 3; k++)
                        c3[k] = (uint8_t)(c3[k] / 2);
                    bool t = masks[0][at] != 0, m = masks[p - 1][at] != 0;
                    if (p == 1 && t)
                        c3[0] = 255, c3[1] = 220, c3[2] = 0; /* truth: yellow */
                    else if (p > 1 && m)
                        c3[0] = t ? 0 : 255, c3[1] = t ? 230 : 40, c3[2] = t ? 60 : 40; /* right green, wrong red */
                }
                memcpy(o, c3, 3);
            }
        }
}

lpnas_status lpnas_write_overlay_grid_png(const char *path, const float *const *images, const uint8_t *const *masks,
                                          int rows, int count, int C, int h, int w, float scale, int up)
{
    if (up < 1 || up > 16 || count < 1 || count > 8 || rows < 1 || rows > 64 || C < 1 || h < 1 || w < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "overlay: bad sizes");
    int pw = w * up, W = pw * (count + 1) + 4 * count, rh = h * up + 4, H = rh * rows - 4;
    uint8_t *rgb = calloc((size_t)W * H * 3, 1);
    if (!rgb)
        return lpnas_fail(LPNAS_ERR_NOMEM, "overlay: out of memory");
    for (int r = 0; r < rows; r++)
        overlay_row(rgb, W, r * rh, images[r], C, h, w, scale, masks + (size_t)r * count, count, up);
    lpnas_status st = lpnas_png_write_rgb(path, rgb, W, H);
    free(rgb);
    return st;
}

lpnas_status lpnas_write_overlay_png(const char *path, const float *image, int C, int h, int w, float scale,
                                     const uint8_t *const *masks, int count, int up)
{
    return lpnas_write_overlay_grid_png(path, &image, masks, 1, count, C, h, w, scale, up);
}
