/* PNG through libpng. libpng reports errors by longjmp: every call that can
 * fail runs after setjmp, and our error callback records the message
 * instead of printing it. Dimensions are checked before any allocation. */
#include "lib/png_io.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/fault.h"
#include "lpnas/data.h"

#define MAX_SIDE 16384

typedef struct {
    jmp_buf jmp;
    char msg[200];
} png_err;

static void on_error(png_structp p, png_const_charp msg)
{
    png_err *e = png_get_error_ptr(p);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    longjmp(e->jmp, 1);
}

static void on_warning(png_structp p, png_const_charp msg)
{
    (void)p, (void)msg; /* libpng warnings are not errors; stay quiet */
}

/* Opens path, checks the PNG signature and starts a libpng reader whose
 * errors land in *e (the caller's setjmp buffer). */
static lpnas_status open_reader(const char *path, png_err *e, FILE **fp, png_structp *pp, png_infop *ip)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8)) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: not a PNG file", path);
    }
    e->msg[0] = 0;
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, e, on_error, on_warning);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    if (!p || !info) {
        png_destroy_read_struct(&p, &info, NULL);
        fclose(f);
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: libpng could not start", path);
    }
    *fp = f, *pp = p, *ip = info;
    return LPNAS_OK;
}

lpnas_status lpnas_png_read(const char *path, float **out, int *channels, int *h, int *w)
{
    *out = NULL;
    png_err e;
    FILE *f;
    png_structp p;
    png_infop info;
    lpnas_status os = open_reader(path, &e, &f, &p, &info);
    if (os)
        return os;
    /* volatile: modified between setjmp and a possible longjmp */
    float *volatile data = NULL;
    png_bytep *volatile rows = NULL;
    unsigned char *volatile pixels = NULL;
    if (setjmp(e.jmp)) {
        png_destroy_read_struct(&p, &info, NULL);
        fclose(f);
        free(data), free(rows), free(pixels);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: corrupt PNG: %s", path, e.msg);
    }
    png_init_io(p, f);
    png_set_sig_bytes(p, 8);
    png_set_user_limits(p, MAX_SIDE, MAX_SIDE);
    png_read_info(p, info);
    png_uint_32 W = png_get_image_width(p, info), H = png_get_image_height(p, info);
    int type = png_get_color_type(p, info), depth = png_get_bit_depth(p, info);
    /* to 8 or 16 bits per sample, gray or RGB, no alpha */
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(p);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(p);
    if (type & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(p);
    if (png_get_valid(p, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(p), png_set_strip_alpha(p);
    png_set_interlace_handling(p);
    png_read_update_info(p, info);
    int C = (int)png_get_channels(p, info), bytes = png_get_bit_depth(p, info) == 16 ? 2 : 1;
    size_t rowbytes = png_get_rowbytes(p, info);
    if (C != 1 && C != 3)
        png_error(p, "unexpected channel count after conversion");
    pixels = malloc(rowbytes * H);
    rows = malloc(H * sizeof *rows);
    data = malloc((size_t)C * W * H * sizeof(float));
    if (!pixels || !rows || !data)
        png_error(p, "out of memory");
    for (png_uint_32 y = 0; y < H; y++)
        rows[y] = pixels + y * rowbytes;
    png_read_image(p, rows);
    png_read_end(p, NULL);
    for (png_uint_32 y = 0; y < H; y++)
        for (png_uint_32 x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                const unsigned char *s = rows[y] + ((size_t)x * C + (size_t)c) * (size_t)bytes;
                float v = bytes == 2 ? (float)((s[0] << 8) | s[1]) : (float)s[0]; /* PNG is big-endian */
                data[((size_t)c * H + y) * W + x] = v;
            }
    png_destroy_read_struct(&p, &info, NULL);
    fclose(f);
    free(rows);
    free(pixels);
    *out = data;
    *channels = C;
    *h = (int)H;
    *w = (int)W;
    return LPNAS_OK;
}

lpnas_status lpnas_png_info(const char *path, int *channels, int *h, int *w)
{
    png_err e;
    FILE *f;
    png_structp p;
    png_infop info;
    lpnas_status os = open_reader(path, &e, &f, &p, &info);
    if (os)
        return os;
    if (setjmp(e.jmp)) {
        png_destroy_read_struct(&p, &info, NULL);
        fclose(f);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: corrupt PNG: %s", path, e.msg);
    }
    png_init_io(p, f);
    png_set_sig_bytes(p, 8);
    png_set_user_limits(p, MAX_SIDE, MAX_SIDE);
    png_read_info(p, info); /* the chunks before the pixels only: IHDR and friends */
    int type = png_get_color_type(p, info);
    *channels = (type & PNG_COLOR_MASK_COLOR) ? 3 : 1;
    *w = (int)png_get_image_width(p, info);
    *h = (int)png_get_image_height(p, info);
    png_destroy_read_struct(&p, &info, NULL);
    fclose(f);
    return LPNAS_OK;
}

lpnas_status lpnas_png_write_rgb(const char *path, const uint8_t *rgb, int w, int h)
{
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE)
        return lpnas_fail(LPNAS_ERR_ARG, "%s: PNG size %dx%d out of range", path, w, h);
    if (lpnas_fault_write(path))
        return lpnas_fail(LPNAS_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    FILE *f = fopen(path, "wb");
    if (!f)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    png_err e;
    e.msg[0] = 0;
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    if (!p || !info) {
        png_destroy_write_struct(&p, &info);
        fclose(f);
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: libpng could not start", path);
    }
    if (setjmp(e.jmp)) {
        png_destroy_write_struct(&p, &info);
        fclose(f);
        return lpnas_fail(LPNAS_ERR_IO, "%s: writing PNG failed: %s", path, e.msg);
    }
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    for (int y = 0; y < h; y++)
        png_write_row(p, (png_const_bytep)(rgb + (size_t)y * w * 3));
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    if (fclose(f))
        return lpnas_fail(LPNAS_ERR_IO, "%s: write failed", path);
    return LPNAS_OK;
}
