/* Scene-wise splits from a data folder's manifest.csv, and value ranges
 * (include/lpnas/data.h). Neighbouring tiles of one satellite scene share
 * sea state, haze and often the same ships: a tile-wise split puts near
 * copies on both sides and measures memory, not generalization. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "lib/dataset_internal.h"

#define MAX_SCENES 1024
#define LINE 8192

/* Splits one CSV line in place (RFC 4180 quotes, "" inside quotes); returns the field count. */
static int csv_fields(char *line, char **f, int max)
{
    int n = 0;
    char *p = line, *w;
    line[strcspn(line, "\r\n")] = 0;
    while (n < max) {
        f[n++] = w = p;
        if (*p == '"') {
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"')
                    p++;
                *w++ = *p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',')
                *w++ = *p++;
        }
        char *next = *p == ',' ? p + 1 : NULL;
        *w = 0;
        if (!next)
            break;
        p = next;
    }
    return n;
}

/* Scene id of each tile (0..nscenes) from dir/manifest.csv. Returns 1 and a
 * column name if the manifest names scenes, 0 if there is none (no file or
 * no column), or -1 on an error (message set). */
static int read_scenes(const lpnas_dataset *d, const char *dir, int *scene, char (*names)[64], int *nscenes,
                       char *column, size_t colsize)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char *line = malloc(LINE), *f[64];
    int rc = 0, ci = -1, cs = -1, nf, row = 0;
    if (!line) {
        fclose(fp);
        lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", path);
        return -1;
    }
    if (!fgets(line, LINE, fp))
        goto out;
    nf = csv_fields(line, f, 64);
    for (int k = 0; k < nf; k++) {
        if (!strcmp(f[k], "idx"))
            ci = k;
        if (!strcmp(f[k], "source_image") || (cs < 0 && !strcmp(f[k], "port")))
            cs = k;
    }
    if (cs < 0)
        goto out;
    snprintf(column, colsize, "%s", f[cs]);
    for (int i = 0; i < d->count; i++)
        scene[i] = -1;
    *nscenes = 0;
    rc = 1;
    while (fgets(line, LINE, fp)) {
        row++;
        nf = csv_fields(line, f, 64);
        if (nf == 1 && !*f[0])
            continue;
        if (nf <= cs || (ci >= 0 && nf <= ci)) {
            rc = -1;
            lpnas_fail(LPNAS_ERR_FORMAT, "%s: row %d: %d fields, the header has column '%s' at %d", path, row + 1, nf,
                       column, cs + 1);
            break;
        }
        int t = -1; /* the tile: by idx against the file names, else by row order */
        if (ci >= 0) {
            for (int i = 0; i < d->count && t < 0; i++)
                if (!strcmp(d->names[i], f[ci]))
                    t = i;
        } else if (row - 1 < d->count) {
            t = row - 1;
        }
        if (t < 0)
            continue; /* a manifest row for a tile not in the folder */
        int s = 0;
        while (s < *nscenes && strcmp(names[s], f[cs]))
            s++;
        if (s == *nscenes) {
            if (s == MAX_SCENES) {
                rc = -1;
                lpnas_fail(LPNAS_ERR_FORMAT, "%s: more than %d scenes in column '%s'", path, MAX_SCENES, column);
                break;
            }
            snprintf(names[s], 64, "%s", f[cs]);
            (*nscenes)++;
        }
        scene[t] = s;
    }
    for (int i = 0; rc == 1 && i < d->count; i++)
        if (scene[i] < 0) {
            rc = -1;
            lpnas_fail(LPNAS_ERR_FORMAT, "%s: no row for tile '%s' (column idx)", path, d->names[i]);
        }
out:
    free(line);
    fclose(fp);
    return rc;
}

lpnas_status lpnas_dataset_split_scenes(const lpnas_dataset *d, const char *dir, double val_frac, uint64_t seed,
                                        int **train, int *ntrain, int **val, int *nval, char *how, size_t how_size)
{
    if (!(val_frac > 0 && val_frac < 1))
        return lpnas_fail(LPNAS_ERR_ARG, "scene split: validation fraction %g (need (0, 1))", val_frac);
    int *scene = malloc((size_t)d->count * sizeof *scene);
    char(*names)[64] = malloc(MAX_SCENES * sizeof *names);
    if (!scene || !names) {
        free(scene), free(names);
        return lpnas_fail(LPNAS_ERR_NOMEM, "scene split: out of memory");
    }
    char column[64] = "";
    int ns = 0, got = dir ? read_scenes(d, dir, scene, names, &ns, column, sizeof column) : 0;
    lpnas_status st = LPNAS_OK;
    if (got < 0) {
        st = LPNAS_ERR_FORMAT;
        goto out;
    }
    if (got == 0 || ns < 2) { /* nothing to keep apart: tiles at random */
        if ((st = lpnas_dataset_split(d, val_frac, seed, train, ntrain, val, nval)))
            goto out;
        if (how)
            snprintf(how, how_size, "random tile split (%s), %d validation tiles",
                     got == 0 ? "no manifest.csv with a source_image or port column" : "the manifest names one scene",
                     *nval);
        goto out;
    }
    int size[MAX_SCENES] = {0}, order[MAX_SCENES];
    bool inval[MAX_SCENES] = {false};
    for (int i = 0; i < d->count; i++)
        size[scene[i]]++;
    for (int s = 0; s < ns; s++)
        order[s] = s;
    lpnas_rng r;
    lpnas_rng_derive(&r, seed, 0x5ce9e, 0);
    for (int s = ns - 1; s > 0; s--) {
        int j = (int)lpnas_rng_below(&r, (uint64_t)s + 1), t = order[s];
        order[s] = order[j], order[j] = t;
    }
    /* whole scenes in shuffled order, each taken if it brings the
     * validation share closer to the target; one scene at least, never all */
    double target = val_frac * d->count;
    int nv = 0, taken = 0;
    for (int k = 0; k < ns && taken < ns - 1; k++) {
        int s = order[k];
        if (nv == 0 || fabs(nv + size[s] - target) < fabs(nv - target))
            inval[s] = true, nv += size[s], taken++;
    }
    *train = malloc((size_t)(d->count - nv) * sizeof **train);
    *val = malloc((size_t)nv * sizeof **val);
    if (!*train || !*val) {
        free(*train), free(*val);
        *train = *val = NULL;
        st = lpnas_fail(LPNAS_ERR_NOMEM, "scene split: out of memory");
        goto out;
    }
    *ntrain = *nval = 0;
    for (int i = 0; i < d->count; i++) {
        if (inval[scene[i]])
            (*val)[(*nval)++] = i;
        else
            (*train)[(*ntrain)++] = i;
    }
    if (how) {
        int at = snprintf(how, how_size, "scene-wise split by manifest column '%s': validation", column);
        for (int s = 0; s < ns; s++)
            if (inval[s] && at >= 0 && (size_t)at < how_size)
                at += snprintf(how + at, how_size - (size_t)at, " %s", names[s]);
        if (at >= 0 && (size_t)at < how_size)
            snprintf(how + at, how_size - (size_t)at, " (%d tiles), training the other %d scenes (%d tiles)", *nval,
                     ns - taken, *ntrain);
    }
out:
    free(scene), free(names);
    return st;
}

lpnas_status lpnas_dataset_value_range(const lpnas_dataset *d, const int *idx, int n, float *lo, float *hi)
{
    if (n < 1 || !idx)
        return lpnas_fail(LPNAS_ERR_ARG, "value range: no tiles");
    size_t per = (size_t)d->channels * d->h * d->w;
    float a = INFINITY, b = -INFINITY;
    for (int k = 0; k < n; k++) {
        if (idx[k] < 0 || idx[k] >= d->count)
            return lpnas_fail(LPNAS_ERR_ARG, "value range: tile index %d out of range", idx[k]);
        const float *x = d->images + (size_t)idx[k] * per;
        for (size_t i = 0; i < per; i++)
            a = fminf(a, x[i]), b = fmaxf(b, x[i]);
    }
    *lo = a, *hi = b;
    return LPNAS_OK;
}
