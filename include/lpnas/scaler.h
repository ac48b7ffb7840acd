/* Dynamic loss scaling for device-precision fine-tuning (DESIGN §4.4),
 * with PyTorch GradScaler defaults. */
#ifndef LPNAS_SCALER_H
#define LPNAS_SCALER_H

#include <stdio.h>
#include "lpnas/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    float init_scale;         /* 65536 */
    float growth_factor;      /* 2 */
    float backoff_factor;     /* 0.5 */
    uint32_t growth_interval; /* 2000 clean steps; short fine-tunes want less */
    float min_scale;          /* 1 */
    float max_scale;          /* 2^24 */
} lpnas_scaler_options;

/* The whole state, a plain struct so that checkpoints can embed it. */
typedef struct {
    lpnas_scaler_options opt;
    float scale;
    uint32_t clean_steps;     /* consecutive applied steps since the last change */
    uint64_t applied;
    uint64_t skipped;
} lpnas_scaler;

void lpnas_scaler_options_default(lpnas_scaler_options *o);
/* Validates the options (finite, factors on the right side of 1, min <= init <= max). */
lpnas_status lpnas_scaler_init(lpnas_scaler *s, const lpnas_scaler_options *o);
/* After computing scaled gradients: found_nonfinite says whether any was
 * inf/NaN. Returns true if the step is to be applied (gradients divided by
 * the scale that was used), false if skipped. Updates the scale. */
bool lpnas_scaler_update(lpnas_scaler *s, bool found_nonfinite);
/* Fast scan: true if any element is inf or NaN. */
bool lpnas_any_nonfinite(const float *x, size_t n);

/* Binary state file fragment with magic and version; load validates it. */
lpnas_status lpnas_scaler_save(const lpnas_scaler *s, FILE *f);
lpnas_status lpnas_scaler_load(lpnas_scaler *s, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
