/* The architecture search (DESIGN §5): a search space of encoder-decoder
 * segmentation networks and their training hyper-parameters. */
#ifndef LPNAS_SEARCH_H
#define LPNAS_SEARCH_H

#include "lpnas/arch.h"
#include "lpnas/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds of the search space. Widths are multiples of 8 (the device pads
 * channels to 8). */
typedef struct {
    int in_channels;      /* 3 */
    int min_stages, max_stages;  /* 2..4 */
    int widths[16];       /* allowed widths; default 8, 16, ..., 64 */
    int n_widths;
    int max_blocks;       /* 1..3 */
    int kernels[4];       /* allowed kernel sizes; default 3, 5 */
    int n_kernels;
    bool allow_separable, allow_inverted; /* block types besides plain convs; default true */
    int max_expansion;    /* inverted residual expansion 1..max; default 4 */
    int max_dec_blocks;   /* 1..2 */
    double lrs[8];        /* learning rates searched; default 1e-3, 2e-3, 3e-3, 5e-3 */
    int n_lrs;
} lpnas_space_options;

/* Training hyper-parameters searched alongside the architecture. */
typedef struct {
    double lr;
    lpnas_optimizer optimizer;
    lpnas_schedule schedule;
} lpnas_hparams;

void lpnas_space_options_default(lpnas_space_options *o);

#ifdef __cplusplus
}
#endif
#endif
