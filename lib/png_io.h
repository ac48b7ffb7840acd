/* Internal: PNG reading and writing through libpng, errors caught. */
#ifndef LPNAS_LIB_PNG_IO_H
#define LPNAS_LIB_PNG_IO_H

#include <stdint.h>

#include "lpnas/core.h"

/* Reads any PNG (gray/gray+alpha/RGB/RGBA/palette, 1..16 bits, interlaced)
 * into planes: *channels 1 (gray) or 3 (colour), alpha dropped, values on the
 * file's scale (8-bit 0..255, 16-bit 0..65535). *out is malloc'ed C x H x W. */
lpnas_status lpnas_png_read(const char *path, float **out, int *channels, int *h, int *w);

/* The header only (no pixels decoded): what lpnas_png_read would return as
 * *channels, *h, *w. */
lpnas_status lpnas_png_info(const char *path, int *channels, int *h, int *w);

#endif
