/* Internal: the latency model behind include/lpnas/latency.h. */
#ifndef LPNAS_NAS_LATENCY_INTERNAL_H
#define LPNAS_NAS_LATENCY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lpnas/latency.h"

/* The analytic Myriad X model's constants (docs/latency.md gives each one's
 * source). Written to and read from LUT files by these names. */
typedef struct {
    double nce_ms_per_unit;     /* one NCE cost unit (compiler's cost model) */
    double conv_floor_ms;       /* smallest dense conv */
    double ddr_bytes_per_ms;    /* activations that go through DDR */
    double weight_bytes_per_ms; /* weights streamed to the NCE */
    double cmx_bytes;           /* tensors larger than this go through DDR */
    double dw_fixed_ms, dw_fixed_per_k_ms, dw_ms_per_unit, dw_k_offset; /* depthwise */
    double shave_fixed_ms, shave_bytes_per_ms, shave_macs_per_ms;      /* SHAVE stages */
    double fc_floor_ms, fc_fixed_ms, fc_bytes_per_ms;                  /* fully connected */
    double fused_pool_factor;   /* conv3x3+maxpool2x2 fused: slower compute rate */
    double nce_tile_units;      /* fixed NCE cost per output pixel and channel tile, in cost units */
    /* Derived by lpnas_myriadx_prepare (not in LUT files): reciprocals, so
     * an estimate multiplies instead of divides (it runs ~10^8 times/s). */
    double inv_ddr, inv_weight, inv_shave_bytes, inv_shave_macs, inv_fc_bytes;
    int64_t tile_units_i; /* nce_tile_units rounded to a whole unit: the mode search runs in integers */
} lpnas_myriadx_constants;

/* Fusion rules applied while estimating. Append-only (written to LUTs). */
typedef enum {
    LPNAS_FUSE_FOLD = 0,    /* BN/ReLU rows after a conv/deconv/fc cost 0 (host and device) */
    LPNAS_FUSE_MYRIADX = 1  /* + conv3x3 s1 + maxpool 2x2 s2 fused, concat free */
} lpnas_fusion_rules;

typedef struct {
    int32_t v[11]; /* op, in_h, in_w, in_c, out_c, kernel, stride, groups, dilation, act, fused_pool */
} lpnas_lut_key;

typedef struct {
    lpnas_lut_key key;
    double mean_ms, std_ms;
    uint32_t count;
} lpnas_lut_entry;

struct lpnas_latency_model {
    char device[128], toolchain[128], date[32], method[256];
    char source[320]; /* where the model came from: "built-in ..." or "LUT file PATH" */
    bool has_analytic;
    bool analytic_imx8mp; /* the built-in i.MX 8M Plus roofline (nas/latency_imx8mp.c) instead */
    lpnas_myriadx_constants k;
    lpnas_fusion_rules fusions;
    double overhead_ms;
    lpnas_lut_entry *entries;
    size_t count, capacity;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    size_t nslots;
};

lpnas_status lpnas_latency_model_new(lpnas_latency_model **out);
void lpnas_myriadx_constants_default(lpnas_myriadx_constants *k);
/* Fills the derived fields; call after changing any constant. */
void lpnas_myriadx_prepare(lpnas_myriadx_constants *k);
lpnas_lut_key lpnas_lut_key_of(const lpnas_layer *y, bool fused_pool);
/* Adds or replaces; rebuilds the hash as it grows. */
lpnas_status lpnas_latency_model_put(lpnas_latency_model *m, const lpnas_lut_key *key, double mean, double std,
                                     uint32_t count);
const lpnas_lut_entry *lpnas_latency_model_find(const lpnas_latency_model *m, const lpnas_lut_key *key);
/* Signature text of a key (op:HxWxC>OC:kK:sS:gG:dD:act[:pool]). */
int lpnas_lut_key_format(const lpnas_lut_key *k, char *buf, size_t size);
/* The fusion rules, shared by the estimate and the counters import. */
static inline bool lpnas_op_anchors_folds(lpnas_layer_op op) /* BN/ReLU after it fold into it */
{
    return op == LPNAS_OP_CONV || op == LPNAS_OP_DECONV || op == LPNAS_OP_FC;
}

static inline bool lpnas_op_folds(lpnas_layer_op op)
{
    return op == LPNAS_OP_BN || op == LPNAS_OP_RELU;
}

/* The device fuses conv 3x3 stride 1 with a following 2x2 stride-2 max pool. */
static inline bool lpnas_pool_fuses(const lpnas_layer *conv, const lpnas_layer *pool)
{
    return conv->op == LPNAS_OP_CONV && conv->kernel == 3 && conv->stride == 1 && conv->dilation == 1 &&
           pool->op == LPNAS_OP_MAXPOOL && pool->kernel == 2 && pool->stride == 2 && pool->in_c == conv->out_c;
}

/* True for a BN/ReLU row folded into the conv/deconv/fc before it. */
bool lpnas_layer_folded(const lpnas_layer_list *list, size_t i);
/* lpnas_layer_out_hw without a division for strides 1 and 2. */
void lpnas_myriadx_out_hw(const lpnas_layer *y, int *oh, int *ow);

/* A layer's geometry, computed once per layer per estimate. */
typedef struct {
    double px, in_bytes, out_bytes; /* output pixels; binary16 tensor bytes (a fused pool's output is a quarter) */
} lpnas_myriadx_geom;

static inline void lpnas_myriadx_geom_of(const lpnas_layer *y, bool fused_pool, lpnas_myriadx_geom *g)
{
    int oh, ow;
    lpnas_myriadx_out_hw(y, &oh, &ow);
    /* integer products (exact below 2^53 elements), one conversion each */
    int64_t px = (int64_t)oh * ow;
    g->px = (double)px;
    g->in_bytes = (double)(2 * (int64_t)y->in_h * y->in_w * y->in_c);
    g->out_bytes = (double)(px * y->out_c) * (fused_pool ? 0.5 : 2.0); /* a fused pool writes a quarter */
}

/* Analytic cost of one layer; in_ddr/out_ddr: whether its input/output
 * tensors go through DDR. Returns < 0 if the layer is not covered. */
double lpnas_myriadx_layer_ms(const lpnas_myriadx_constants *k, const lpnas_layer *y, bool fused_pool, bool in_ddr,
                              bool out_ddr);

/* The i.MX 8M Plus estimate; wbits (may be NULL) gives each row's weight bits. */
lpnas_status lpnas_imx8mp_estimate(const lpnas_latency_model *m, const lpnas_layer_list *list, const int *wbits,
                                   double *per_layer, double *total_ms);

#endif
