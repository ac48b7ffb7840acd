/* Architecture strings: a compact, canonical, human-readable description of
 * an encoder-decoder segmentation network (grammar: docs/arch.md).
 *
 *   in3-c16x2k3-c32x2k3-c48x2k3/down=conv,up=nearest,skip=concat,dec=1,act=relu
 *
 * Parsing accepts only the canonical spelling, so printing a parsed string
 * gives it back unchanged; the string is the identity of a candidate. */
#ifndef LPNAS_ARCH_H
#define LPNAS_ARCH_H

#include "lpnas/core.h"
#include "lpnas/layers.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LPNAS_ARCH_MAX_STAGES 6

/* Append-only enums (the search's genome and model files use the values). */
typedef enum { LPNAS_BLOCK_PLAIN, LPNAS_BLOCK_SEPARABLE, LPNAS_BLOCK_INVERTED } lpnas_block_type;
typedef enum { LPNAS_DOWN_CONV, LPNAS_DOWN_POOL } lpnas_down_kind;
typedef enum { LPNAS_UP_NEAREST, LPNAS_UP_BILINEAR, LPNAS_UP_DECONV } lpnas_up_kind;
typedef enum { LPNAS_SKIP_CONCAT, LPNAS_SKIP_ADD, LPNAS_SKIP_NONE } lpnas_skip_kind;
typedef enum { LPNAS_ARCH_RELU, LPNAS_ARCH_RELU6 } lpnas_arch_act;
/* A stage's weight format, named abstractly; a device maps it to one of its
 * number formats (docs/arch.md). DEFAULT: the policy's own format, the only
 * spelling before precision genes existed, so old strings keep their meaning. */
typedef enum { LPNAS_WFMT_DEFAULT, LPNAS_WFMT_F16, LPNAS_WFMT_W8, LPNAS_WFMT_W4 } lpnas_wfmt;
#define LPNAS_WFMT_COUNT 4

typedef struct {
    lpnas_block_type type; /* c, s, r */
    int width;             /* 1..1024 */
    int blocks;            /* 1..8 */
    int kernel;            /* 1, 3, 5, 7 */
    int expansion;         /* inverted residual only: 1..8; 0 otherwise */
    lpnas_wfmt wfmt;       /* weight format of the stage's convs (":w8" in the string) */
} lpnas_stage;

/* A plain struct, so the search's genome maps onto it directly. */
typedef struct {
    int in_channels; /* 1..16 */
    int stages;      /* 1..6: stage i > 0 runs at 1/2^i resolution */
    lpnas_stage stage[LPNAS_ARCH_MAX_STAGES];
    lpnas_down_kind down;
    lpnas_up_kind up;
    lpnas_skip_kind skip;
    int dec_blocks; /* 1..4 plain 3x3 conv-BN-act blocks per decoder level */
    lpnas_arch_act act;
} lpnas_arch;

/* Parse errors: LPNAS_ERR_FORMAT, "arch: position P: expected ..., found '...'". */
lpnas_status lpnas_arch_parse(const char *text, lpnas_arch *out);
/* Validates bounds; the message names the field. */
lpnas_status lpnas_arch_check(const lpnas_arch *a);
/* The canonical string (returns the length, snprintf style). */
int lpnas_arch_format(const lpnas_arch *a, char *buf, size_t size);

/* Named presets: "paper96k", "unet-peer", "tiny", "mobile". NULL past the end. */
const char *lpnas_arch_preset_name(size_t i);
lpnas_status lpnas_arch_preset(const char *name, lpnas_arch *out);

typedef struct {
    long long params;          /* trainable parameters incl. BN gamma/beta (PyTorch's count) */
    long long macs;            /* multiply-adds for one h x w image */
    long long peak_act_bytes;  /* largest live activation set, batch 1, fp32 */
    long long peak_act_bytes_device; /* the same in binary16 */
} lpnas_arch_stats;

/* "" (default), "f16", "w8", "w4"; NULL for a bad value. */
const char *lpnas_wfmt_name(lpnas_wfmt f);
/* Bits of one weight: 16, 8, 4, or default_bits for LPNAS_WFMT_DEFAULT. */
int lpnas_wfmt_bits(lpnas_wfmt f, int default_bits);
/* Model size on the device in bytes: for every conv/deconv, its weights at
 * the stage's format (bytes rounded up per layer) plus one bias per output
 * channel (BN folds into it) at 4 bytes (int32 for integer formats, fp32 for
 * float ones: the bias is never the part that decides). Decoder and head
 * convs use default_bits (4, 8, 16 or 32). */
lpnas_status lpnas_arch_weight_bytes(const lpnas_arch *a, int default_bits, long long *bytes);

/* Sizes without building: h and w must be divisible by 2^(stages-1). */
lpnas_status lpnas_arch_stats_compute(const lpnas_arch *a, int h, int w, lpnas_arch_stats *out);
/* Per row of lpnas_arch_layers' list (n rows): the conv/deconv weight bits a
 * precision gene chose (16, 8, 4), 0 for the device default and other rows. */
lpnas_status lpnas_arch_layer_wbits(const lpnas_arch *a, int h, int w, int *wbits, size_t n);
/* The network's layer list (one conv row per conv with its fused act; BN is
 * folded on the device and gets no row; add/concat/upsample/deconv/maxpool rows). */
lpnas_status lpnas_arch_layers(const lpnas_arch *a, int h, int w, lpnas_layer_list *out);

#ifdef __cplusplus
}
#endif
#endif
