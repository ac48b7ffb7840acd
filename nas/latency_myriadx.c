/* The analytic Myriad X (NCS2) latency model. Every constant and the fit
 * that produced it is in docs/latency.md; the structure follows the
 * compiler's own behaviour as published in shared/reference/myriadx.md:
 *   - dense convs on the NCE: the compiler's relative cost per output-
 *     channel tile, (Cin_aligned / in_per_block) * kx * ky + mode_cost, times
 *     output pixels and tiles, in the cheapest of its five modes;
 *     plus the DDR traffic of tensors that do not stay in CMX and the weights;
 *   - depthwise: emulated with block-diagonal dense convs: a fitted cost per
 *     pixel x channel, growing with the kernel size, wherever its tensors live;
 *   - dilated convs, resampling, eltwise add, standalone BN/ReLU and pooling
 *     on the SHAVE cores: memory bound (or MAC bound for convs);
 *   - transposed conv: zero insertion on the SHAVEs + a stride-1 conv on the
 *     enlarged map; grouped convs: one conv per group; concat: free;
 *   - SSD's DetectionOutput: its DDR scratch traffic (detection_output_ms). */
#include <math.h>
#include <stdint.h>

#include "base/error.h"
#include "nas/latency_internal.h"

void lpnas_myriadx_constants_default(lpnas_myriadx_constants *k)
{
    k->nce_ms_per_unit = 1.0077e-6;
    k->conv_floor_ms = 0.076;
    k->ddr_bytes_per_ms = 1.3503e6;
    k->weight_bytes_per_ms = 3.2573e6;
    k->cmx_bytes = 2.412e6;
    k->dw_fixed_ms = 0.014;
    k->dw_fixed_per_k_ms = 0.002;
    k->dw_ms_per_unit = 1.223e-6;
    k->dw_k_offset = -0.2716;
    k->shave_fixed_ms = 0.010;
    k->shave_bytes_per_ms = 4.0e6;
    k->shave_macs_per_ms = 6.1e6;
    k->fc_floor_ms = 0.055;
    k->fc_fixed_ms = 0.0157;
    k->fc_bytes_per_ms = 9.6e6;
    k->fused_pool_factor = 1.072;
    k->nce_tile_units = 59.794;
    lpnas_myriadx_prepare(k);
}

void lpnas_myriadx_prepare(lpnas_myriadx_constants *k)
{
    /* a zero rate from a LUT means "infinitely slow": the reciprocal is +inf
     * only if the rate is 0, which the LUT loader rejects for rates */
    k->inv_ddr = 1.0 / k->ddr_bytes_per_ms;
    k->inv_weight = 1.0 / k->weight_bytes_per_ms;
    k->inv_shave_bytes = 1.0 / k->shave_bytes_per_ms;
    k->inv_shave_macs = 1.0 / k->shave_macs_per_ms;
    k->inv_fc_bytes = 1.0 / k->fc_bytes_per_ms;
    k->tile_units_i = k->nce_tile_units < 1e9 ? (int64_t)llround(k->nce_tile_units) : (int64_t)1e9;
}

/* The compiler's NCE modes: input channels per block, output channels per
 * block (256 MACs per cycle in every mode) and the mode's fixed cost. */
static const int MODE_COST[5] = {0, 5, 11, 19, 31};

/* Mode m takes 2^m input channels per block and 2^(8-m) output channels
 * per tile: ceilings by shifts (this runs millions of times per second). */
static inline double nce_units(double px, int ci, int co, int kk, int64_t tile_units)
{
    /* integers: ci, co <= 2^20 and kk <= 2^20 (kernel <= 1024), so a
     * product stays below 2^61; one conversion at the end */
    int64_t best = INT64_MAX;
    for (int m = 0; m < 5; m++) { /* unrolled by the compiler: constant trip count */
        int64_t tiles = (co + (1 << (8 - m)) - 1) >> (8 - m);
        int64_t u = tiles * ((int64_t)((ci + (1 << m) - 1) >> m) * kk + MODE_COST[m] + tile_units);
        best = u < best ? u : best;
    }
    return px * (double)best;
}

static double dense_ms(const lpnas_myriadx_constants *k, double px, int ci, int co, int kk, double io_ms,
                       double pool_factor)
{
    double compute = nce_units(px, ci, co, kk * kk, k->tile_units_i) * k->nce_ms_per_unit * pool_factor;
    double weights = (double)ci * co * kk * kk * 2.0 * k->inv_weight;
    double t = compute + io_ms + weights;
    return t > k->conv_floor_ms ? t : k->conv_floor_ms;
}

/* "same" padding output size; strides 1 and 2 (nearly every layer) without
 * an integer division, which costs more than the rest of a layer's estimate */
void lpnas_myriadx_out_hw(const lpnas_layer *y, int *oh, int *ow)
{
    if (y->stride == 1 && y->op != LPNAS_OP_GLOBAL_AVGPOOL && y->op != LPNAS_OP_FC &&
        y->op != LPNAS_OP_DETECTION_OUTPUT) {
        *oh = y->in_h, *ow = y->in_w;
    } else if (y->stride == 2 && (y->op == LPNAS_OP_CONV || y->op == LPNAS_OP_MAXPOOL || y->op == LPNAS_OP_AVGPOOL)) {
        *oh = (y->in_h + 1) >> 1, *ow = (y->in_w + 1) >> 1;
    } else {
        lpnas_layer_out_hw(y, oh, ow);
    }
}

/* SSD's DetectionOutput on the SHAVEs, priced by the memory it must move.
 * The plugin's stage (OpenVINO MYRIAD graph transformer, stages/
 * detection_output.cpp, [C]) allocates one DDR scratch buffer sized by
 * classes x priors: decoded boxes (4 x int16), a score buffer and an index
 * buffer (int32 each), reordered scores and box sizes (int16 each), 20 bytes
 * per (class, prior), plus (priors + 8) x 5 int16 per SHAVE of the stream
 * (7 by default, [C]). At 91 classes x 1917 priors that is 3.6 MB, far over
 * the CMX, so it goes through DDR: written once and read once at the DDR
 * rate of the conv stages (ddr_bytes_per_ms, fitted on the calibration set
 * only), plus the scores, box deltas and priors read once. The compare/sort/
 * NMS work is not counted (with a confidence threshold most candidates drop
 * at the first compare): this is a lower bound from the data layout, not a
 * constant fitted to any network that has the layer. */
static double detection_output_ms(const lpnas_myriadx_constants *k, const lpnas_layer *y)
{
    enum { STREAM_SHAVES = 7 };
    double priors = y->in_h, cp = priors * y->in_c;
    double scratch = 20.0 * cp + 2.0 * STREAM_SHAVES * (priors + 8) * 5;
    double inputs = 2.0 * (cp + 4 * priors + 2 * 4 * priors); /* scores, box deltas, priors + variances */
    double output = 2.0 * 7 * y->out_c;                         /* 7 values per detection */
    return k->shave_fixed_ms + (2 * scratch + inputs + output) * k->inv_ddr;
}

/* Inlined into the estimate below (same file): the search's inner loop. */
static inline double myriadx_cost(const lpnas_myriadx_constants *k, const lpnas_layer *y, const lpnas_myriadx_geom *g,
                                  bool fused_pool, bool in_ddr, bool out_ddr)
{
    double in_bytes = g->in_bytes, out_bytes = g->out_bytes, px = g->px;
    /* DDR traffic (NCE stages) and SHAVE traffic, computed where used */
#define IO_MS (((in_ddr ? in_bytes : 0) + (out_ddr ? out_bytes : 0)) * k->inv_ddr)
    double shave_io = (in_bytes + out_bytes) * k->inv_shave_bytes;
    switch (y->op) {
    case LPNAS_OP_CONV: {
        bool nce = y->dilation == 1 && y->stride <= 8 && y->kernel <= 15;
        bool depthwise = y->groups > 1 && y->groups == y->in_c && y->out_c == y->in_c;
        if (!nce) { /* SHAVE conv: the slower of its MACs and its memory traffic */
            double macs = px * y->out_c * (double)(y->in_c / y->groups) * y->kernel * y->kernel;
            double c = macs * k->inv_shave_macs;
            return k->shave_fixed_ms + (c > shave_io ? c : shave_io);
        }
        if (depthwise) {
            /* Fitted on single-layer runs (ANNETTE, tensors through DDR) and
             * charged in full wherever the tensors live. Until 2026-12-02 the
             * DDR traffic a CMX-resident tensor saves was subtracted here at
             * ddr_bytes_per_ms; that took 0.87 ms off the 32x16x512 layers,
             * more than the whole measured k1 run of the same tensors
             * (0.273 ms), so most depthwise layers of a network cost their
             * floor (0.02 ms). The runs themselves bound the traffic: time
             * grows linearly in k from k1 to k7 (0.273/0.925/1.793/2.402 ms)
             * with a near-zero intercept, so nearly all of it is per-tap work
             * that a CMX-resident tensor does not avoid. */
            double fixed = k->dw_fixed_ms + k->dw_fixed_per_k_ms * y->kernel;
            double t = fixed + k->dw_ms_per_unit * px * y->in_c * (y->kernel + k->dw_k_offset);
            return t > fixed ? t : fixed;
        }
        double pf = fused_pool ? k->fused_pool_factor : 1.0, io_ms = IO_MS;
        int ng = y->groups;
        if (ng == 1)
            return dense_ms(k, px, y->in_c, y->out_c, y->kernel, io_ms, pf);
        return ng * dense_ms(k, px, y->in_c / ng, y->out_c / ng, y->kernel, io_ms / ng, pf);
    }
    case LPNAS_OP_DECONV: {
        /* zero insertion to (H*s) x (W*s) on the SHAVEs, then a stride-1 conv */
        double big = in_bytes * y->stride * y->stride;
        double zi = k->shave_fixed_ms + (in_bytes + big) * k->inv_shave_bytes, io_ms = IO_MS;
        int ng = y->groups;
        return zi + ng * dense_ms(k, px, y->in_c / ng, y->out_c / ng, y->kernel, io_ms / ng, 1.0);
    }
    case LPNAS_OP_FC: {
        double t = k->fc_fixed_ms + 2.0 * y->in_c * y->out_c * k->inv_fc_bytes;
        return t > k->fc_floor_ms ? t : k->fc_floor_ms;
    }
    case LPNAS_OP_MAXPOOL:
    case LPNAS_OP_AVGPOOL:
    case LPNAS_OP_UPSAMPLE_NEAREST:
    case LPNAS_OP_BN:
    case LPNAS_OP_RELU:
        return k->shave_fixed_ms + shave_io;
    case LPNAS_OP_UPSAMPLE_BILINEAR: /* reads each output's neighbourhood: twice the output traffic */
        return k->shave_fixed_ms + (in_bytes + 2 * out_bytes) * k->inv_shave_bytes;
    case LPNAS_OP_GLOBAL_AVGPOOL:
        return k->shave_fixed_ms + in_bytes * k->inv_shave_bytes;
    case LPNAS_OP_ADD: /* two inputs, one output */
        return k->shave_fixed_ms + 3 * in_bytes * k->inv_shave_bytes;
    case LPNAS_OP_CONCAT:
        return 0; /* zero-copy on the device */
    case LPNAS_OP_DETECTION_OUTPUT:
        return detection_output_ms(k, y);
    default:
        return -1;
    }
#undef IO_MS
}

double lpnas_myriadx_layer_ms(const lpnas_myriadx_constants *k, const lpnas_layer *y, bool fused_pool, bool in_ddr,
                              bool out_ddr)
{
    lpnas_myriadx_geom g;
    lpnas_myriadx_geom_of(y, fused_pool, &g);
    return myriadx_cost(k, y, &g, fused_pool, in_ddr, out_ddr);
}

/* Whether a layer's input and output fit in the CMX an inference stream
 * owns (both are resident while the stage runs); otherwise they stream
 * through DDR. */
static inline bool fits_cmx(const lpnas_myriadx_constants *k, const lpnas_myriadx_geom *g)
{
    return g->in_bytes + g->out_bytes <= k->cmx_bytes;
}

/* One pass, no allocation: the search estimates millions of lists a second.
 * BN/ReLU rows after a conv/deconv/fc are folded (prev_anchor tracks the
 * last row that is neither); a tensor stays in CMX only if both the stage
 * that writes it and the one that reads it fit there (rows are taken as a
 * chain: a branch's real producer may be further back). */
enum { OPF_ANCHOR = 1, OPF_FOLD = 2, OPF_CONCAT = 4 };
static const unsigned char OPF[LPNAS_OP_COUNT_] = {
    [LPNAS_OP_CONV] = OPF_ANCHOR, [LPNAS_OP_DECONV] = OPF_ANCHOR, [LPNAS_OP_FC] = OPF_ANCHOR,
    [LPNAS_OP_BN] = OPF_FOLD,     [LPNAS_OP_RELU] = OPF_FOLD,     [LPNAS_OP_CONCAT] = OPF_CONCAT};

/* The built-in model's path (no table, Myriad X fusions, analytic): the
 * same rules as the general loop below with its table and fallback tests
 * taken out; the search calls this millions of times a second. */
static double estimate_analytic(const lpnas_myriadx_constants *k, const lpnas_layer *L, size_t n, double *per_layer)
{
    double total = 0;
    size_t fused_pool_at = (size_t)-1, gn_at = (size_t)-1;
    bool prev_anchor = false, prev_fits = false;
    lpnas_myriadx_geom g, gn = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const lpnas_layer *y = &L[i];
        unsigned f = (unsigned)y->op < LPNAS_OP_COUNT_ ? OPF[y->op] : 0;
        double t = 0;
        if ((f & OPF_FOLD) && prev_anchor) {
            /* folded into the conv before it */
        } else if (i == fused_pool_at || (f & OPF_CONCAT)) {
            prev_anchor = false;
        } else {
            bool anchor = f & OPF_ANCHOR;
            size_t next = i + 1;
            if (anchor)
                while (next < n && (OPF[L[next].op] & OPF_FOLD))
                    next++;
            bool fused_pool = y->op == LPNAS_OP_CONV && y->kernel == 3 && next < n && lpnas_pool_fuses(y, &L[next]);
            if (fused_pool)
                fused_pool_at = next;
            if (gn_at == i && !fused_pool)
                g = gn;
            else
                lpnas_myriadx_geom_of(y, fused_pool, &g);
            bool fits = fits_cmx(k, &g), next_fits = false;
            size_t after = fused_pool ? next + 1 : next;
            if (after < n) {
                lpnas_myriadx_geom_of(&L[after], false, &gn);
                gn_at = after;
                next_fits = fits_cmx(k, &gn);
            }
            t = myriadx_cost(k, y, &g, fused_pool, i == 0 || !fits || !prev_fits, !fits || !next_fits);
            if (t < 0)
                return -1; /* an op no formula covers: the general loop names it */
            prev_anchor = anchor;
            prev_fits = fits;
        }
        if (per_layer)
            per_layer[i] = t;
        total += t;
    }
    return total;
}

lpnas_status lpnas_latency_estimate(const lpnas_latency_model *m, const lpnas_layer_list *list, double *per_layer,
                                    double *total_ms)
{
    if (!m || !list || !total_ms)
        return lpnas_fail(LPNAS_ERR_ARG, "latency estimate: NULL model, list or total");
    if (m->analytic_imx8mp)
        return lpnas_imx8mp_estimate(m, list, NULL, per_layer, total_ms);
    if (!m->count && m->has_analytic && m->fusions == LPNAS_FUSE_MYRIADX) {
        double t = estimate_analytic(&m->k, list->layers, list->count, per_layer);
        if (t >= 0) {
            *total_ms = t + m->overhead_ms;
            return LPNAS_OK;
        }
    }
    const lpnas_layer *L = list->layers;
    const lpnas_myriadx_constants *k = &m->k;
    double total = 0;
    size_t n = list->count, fused_pool_at = (size_t)-1;
    bool myriad = m->fusions == LPNAS_FUSE_MYRIADX, table = m->count > 0;
    bool prev_anchor = false, prev_fits = false; /* the network input arrives in DDR */
    lpnas_myriadx_geom g, gn = {0, 0, 0};        /* this layer's geometry; the next one's, kept */
    size_t gn_at = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const lpnas_layer *y = &L[i];
        double t;
        if (lpnas_op_folds(y->op) && prev_anchor) {
            t = 0; /* folded into the conv before it */
        } else if (i == fused_pool_at || (myriad && y->op == LPNAS_OP_CONCAT)) {
            t = 0; /* fused with the conv before it, or zero-copy */
            prev_anchor = false;
        } else {
            bool anchor = lpnas_op_anchors_folds(y->op);
            size_t next = i + 1;
            if (anchor)
                while (next < n && lpnas_op_folds(L[next].op))
                    next++;
            bool fused_pool = myriad && next < n && lpnas_pool_fuses(y, &L[next]);
            if (fused_pool)
                fused_pool_at = next;
            const lpnas_lut_entry *e = NULL;
            lpnas_lut_key key;
            if (table) {
                key = lpnas_lut_key_of(y, fused_pool);
                e = lpnas_latency_model_find(m, &key);
            }
            bool fits = false;
            if (e) {
                t = e->mean_ms;
            } else if (m->has_analytic) {
                if (gn_at == i && !fused_pool)
                    g = gn;
                else
                    lpnas_myriadx_geom_of(y, fused_pool, &g);
                fits = fits_cmx(k, &g);
                size_t after = fused_pool ? next + 1 : next;
                bool next_fits = false;
                if (after < n) {
                    lpnas_myriadx_geom_of(&L[after], false, &gn);
                    gn_at = after;
                    next_fits = fits_cmx(k, &gn);
                }
                bool in_ddr = i == 0 || !fits || !prev_fits, out_ddr = !fits || !next_fits;
                t = myriadx_cost(k, y, &g, fused_pool, in_ddr, out_ddr);
            } else {
                t = -1;
            }
            if (!isfinite(t)) { /* e.g. a constant that makes a division blow up: never a silent NaN */
                char sig[128];
                if (!table)
                    key = lpnas_lut_key_of(y, fused_pool);
                lpnas_lut_key_format(&key, sig, sizeof sig);
                return lpnas_fail(LPNAS_ERR_NUMERIC, "layer %zu (%s): the latency model of '%s' gives %g ms", i + 1,
                                  sig, m->device, t);
            }
            if (t < 0) {
                char sig[128];
                if (!table)
                    key = lpnas_lut_key_of(y, fused_pool);
                lpnas_lut_key_format(&key, sig, sizeof sig);
                return lpnas_fail(LPNAS_ERR_UNSUPPORTED,
                                  "layer %zu (%s): not in the LUT of '%s' and no analytic model covers it", i + 1,
                                  sig, m->device);
            }
            prev_anchor = anchor;
            prev_fits = fits;
        }
        if (per_layer)
            per_layer[i] = t;
        total += t;
    }
    *total_ms = total + m->overhead_ms;
    return LPNAS_OK;
}

