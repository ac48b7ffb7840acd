/* Internal: the training loop's augmentation, exposed for its tests. */
#ifndef LPNAS_LIB_TRAIN_INTERNAL_H
#define LPNAS_LIB_TRAIN_INTERNAL_H

#include "lpnas/data.h"

/* Tile t of d, transformed by xf (bit 2: mirror x; bits 0-1: quarter turns,
 * only the half turn on non-square tiles), into img (C x H x W) and msk. */
void lpnas_train_put_tile(const lpnas_dataset *d, int t, int xf, float *img, uint8_t *msk);

#endif
