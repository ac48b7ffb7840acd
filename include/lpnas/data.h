/* Data sets of image tiles with vessel masks: PNG folders (images/ and
 * masks/ with matching names) and the built-in synthetic vessel generator.
 * Images keep their raw scale (8-bit PNG: 0..255, 16-bit: 0..65535) because
 * input normalization is part of the model; masks are 0/1 (nonzero = vessel). */
#ifndef LPNAS_DATA_H
#define LPNAS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "lpnas/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lpnas_dataset lpnas_dataset;

typedef enum { LPNAS_SYNTH_OPTICAL, LPNAS_SYNTH_SAR } lpnas_synth_mode;

typedef struct {
    int count;          /* tiles; default 512 */
    int size;           /* square tiles; default 64 */
    lpnas_synth_mode mode; /* optical: 3 channels like Sentinel-2 RGB; SAR: 1 channel with speckle */
    uint64_t seed;      /* tile i depends only on (seed, i) */
    float vessel_prob;  /* share of tiles with at least one vessel; default 0.75 */
    int min_len, max_len; /* vessel length in pixels; default 3..40 */
} lpnas_synth_options;

void lpnas_synth_options_default(lpnas_synth_options *o);
lpnas_status lpnas_dataset_synthetic(const lpnas_synth_options *o, lpnas_dataset **out);
/* dir/images/NAME.png with dir/masks/NAME.png; files sorted by name; masks
 * without an image are ignored. The first tile sets the channel count: gray
 * tiles in a colour folder are replicated to 3 channels, a colour tile in a
 * gray folder is an error. All tiles share one size. */
lpnas_status lpnas_dataset_load_png_dir(const char *dir, lpnas_dataset **out);
void lpnas_dataset_free(lpnas_dataset *d);

int lpnas_dataset_count(const lpnas_dataset *d);
int lpnas_dataset_channels(const lpnas_dataset *d);
int lpnas_dataset_height(const lpnas_dataset *d);
int lpnas_dataset_width(const lpnas_dataset *d);
const float *lpnas_dataset_image(const lpnas_dataset *d, int i);  /* C x H x W */
const uint8_t *lpnas_dataset_mask(const lpnas_dataset *d, int i); /* H x W, 0/1 */
const char *lpnas_dataset_name(const lpnas_dataset *d, int i);
/* Seeded shuffle, then the first round(val_frac * count) tiles are validation.
 * Both arrays are malloc'ed (free them). */
lpnas_status lpnas_dataset_split(const lpnas_dataset *d, double val_frac, uint64_t seed, int **train, int *ntrain,
                                 int **val, int *nval);
/* Scene-wise split: when dir/manifest.csv names a scene per tile (column
 * source_image, else port; rows matched to tiles by column idx = file name
 * without .png, else by order), whole scenes go to validation (shuffled by
 * seed, each taken if it brings the share closer to val_frac; at least one,
 * never all), so neighbouring tiles of a scene never sit on both sides.
 * Without such a manifest (or dir NULL): lpnas_dataset_split. `how` (may be
 * NULL) receives one line saying how it split. A manifest that misses a
 * tile or has short rows: LPNAS_ERR_FORMAT naming the file and row. */
lpnas_status lpnas_dataset_split_scenes(const lpnas_dataset *d, const char *dir, double val_frac, uint64_t seed,
                                        int **train, int *ntrain, int **val, int *nval, char *how, size_t how_size);
/* Smallest and largest value over all channels of the listed tiles. */
lpnas_status lpnas_dataset_value_range(const lpnas_dataset *d, const int *idx, int n, float *lo, float *hi);
/* Per-channel mean and standard deviation over the listed tiles. */
lpnas_status lpnas_dataset_channel_stats(const lpnas_dataset *d, const int *idx, int n, float *mean, float *std);

/* The whole data set as one malloc'ed buffer (free it) and back, e.g. to
 * broadcast it to the ranks of a distributed search. Native layout: only
 * between processes of the same build. */
lpnas_status lpnas_dataset_pack(const lpnas_dataset *d, void **buf, size_t *n);
lpnas_status lpnas_dataset_unpack(const void *buf, size_t n, lpnas_dataset **out);

/* PNG output for people to look at. */
lpnas_status lpnas_png_write_rgb(const char *path, const uint8_t *rgb, int w, int h);
/* Panels side by side, each `upscale` times larger: the image (scaled by
 * 255/image_scale, gray or RGB), then one panel per mask in `masks`
 * (count of them: truth, predictions...) drawn over a dimmed image: vessel
 * pixels of the truth in yellow, of predictions green where right, red where wrong. */
lpnas_status lpnas_write_overlay_png(const char *path, const float *image, int channels, int h, int w,
                                     float image_scale, const uint8_t *const *masks, int count, int upscale);

/* Several tiles, one row each: images[r] with masks[r * count .. r * count + count). */
lpnas_status lpnas_write_overlay_grid_png(const char *path, const float *const *images, const uint8_t *const *masks,
                                          int rows, int count, int channels, int h, int w, float image_scale,
                                          int upscale);

#ifdef __cplusplus
}
#endif
#endif
