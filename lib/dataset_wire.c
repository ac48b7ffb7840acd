/* A data set as one byte buffer, to send it to the other ranks of a
 * distributed search (include/lpnas/data.h):
 *   "LPDS" | u32 count, channels, h, w | images (f32, native) | masks
 *   | per tile: u32 name length, name bytes
 * Native byte order and float layout: every rank runs the same build. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lib/dataset_internal.h"

static const char wire_magic[4] = {'L', 'P', 'D', 'S'};

lpnas_status lpnas_dataset_pack(const lpnas_dataset *d, void **buf, size_t *n)
{
    *buf = NULL;
    *n = 0;
    size_t px = (size_t)d->count * d->channels * d->h * d->w, mk = (size_t)d->count * d->h * d->w;
    size_t len = 4 + 16 + px * sizeof(float) + mk;
    for (int i = 0; i < d->count; i++)
        len += 4 + strlen(lpnas_dataset_name(d, i));
    char *b = malloc(len);
    if (!b)
        return lpnas_fail(LPNAS_ERR_NOMEM, "data set: out of memory packing %zu bytes", len);
    char *p = b;
    uint32_t hdr[4] = {(uint32_t)d->count, (uint32_t)d->channels, (uint32_t)d->h, (uint32_t)d->w};
    memcpy(p, wire_magic, 4), p += 4;
    memcpy(p, hdr, sizeof hdr), p += sizeof hdr;
    memcpy(p, d->images, px * sizeof(float)), p += px * sizeof(float);
    memcpy(p, d->masks, mk), p += mk;
    for (int i = 0; i < d->count; i++) {
        const char *name = lpnas_dataset_name(d, i);
        uint32_t l = (uint32_t)strlen(name);
        memcpy(p, &l, 4), p += 4;
        memcpy(p, name, l), p += l;
    }
    *buf = b;
    *n = len;
    return LPNAS_OK;
}

lpnas_status lpnas_dataset_unpack(const void *buf, size_t n, lpnas_dataset **out)
{
    *out = NULL;
    const char *p = buf, *end = p + n;
    uint32_t hdr[4];
    if (n < 20 || memcmp(p, wire_magic, 4) != 0)
        return lpnas_fail(LPNAS_ERR_FORMAT, "data set message: %zu bytes without the LPDS header", n);
    memcpy(hdr, p + 4, sizeof hdr);
    p += 20;
    lpnas_dataset *d;
    lpnas_status st = lpnas_dataset_alloc((int)hdr[0], (int)hdr[1], (int)hdr[2], (int)hdr[3], &d);
    if (st)
        return st;
    size_t px = (size_t)d->count * d->channels * d->h * d->w, mk = (size_t)d->count * d->h * d->w;
    if ((size_t)(end - p) < px * sizeof(float) + mk) {
        lpnas_dataset_free(d);
        return lpnas_fail(LPNAS_ERR_CORRUPT, "data set message: %zu bytes, too short for %d tiles of %dx%dx%d", n,
                          (int)hdr[0], (int)hdr[1], (int)hdr[2], (int)hdr[3]);
    }
    memcpy(d->images, p, px * sizeof(float)), p += px * sizeof(float);
    memcpy(d->masks, p, mk), p += mk;
    for (int i = 0; i < d->count && !st; i++) {
        uint32_t l;
        if (end - p < 4 || (memcpy(&l, p, 4), (size_t)(end - p - 4) < l)) {
            st = lpnas_fail(LPNAS_ERR_CORRUPT, "data set message: cut short in the name of tile %d", i);
            break;
        }
        st = lpnas_dataset_set_name(d, i, p + 4, l);
        p += 4 + l;
    }
    if (st) {
        lpnas_dataset_free(d);
        return st;
    }
    *out = d;
    return LPNAS_OK;
}
