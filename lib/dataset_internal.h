/* Internal: the data set object shared by the PNG loader and the generator. */
#ifndef LPNAS_LIB_DATASET_INTERNAL_H
#define LPNAS_LIB_DATASET_INTERNAL_H

#include "lpnas/data.h"

struct lpnas_dataset {
    int count, channels, h, w;
    float *images;   /* count x C x H x W */
    uint8_t *masks;  /* count x H x W */
    char **names;    /* count names, each malloc'ed (no length limit) */
};

/* Networks take tiles of at most this side (lib/graph.c). */
#define LPNAS_DATASET_MAX_SIDE 8192

/* Tile i's name: the first len bytes of name, copied. */
lpnas_status lpnas_dataset_set_name(lpnas_dataset *d, int i, const char *name, size_t len);

lpnas_status lpnas_dataset_alloc(int count, int channels, int h, int w, lpnas_dataset **out);

#endif
