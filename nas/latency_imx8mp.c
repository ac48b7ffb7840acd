/* The built-in NXP i.MX 8M Plus NPU model (include/lpnas/latency.h,
 * docs/latency.md "i.MX 8M Plus"). UNCALIBRATED: no published per-layer or
 * per-network measurements of this NPU were found for a fit, so every
 * constant comes from the data sheet's peak figures and an assumed
 * utilization; a LUT measured on a board (lpnas_lut_load) overrides it.
 *
 * Per layer: t = fixed + max(compute, traffic), a roofline with a dispatch
 * cost. compute = MACs / (peak MAC rate x utilization of the layer's kind);
 * traffic = (int8 input + int8 output + weights at their bit width) / DDR
 * bandwidth. 4-bit weights are unpacked to int8 before the MAC array (the
 * NPU has no 4-bit multipliers), so they save memory and weight traffic,
 * never MAC time; 16-bit weights run at a quarter of the int8 rate. */
#include <stdio.h>

#include "base/error.h"
#include "nas/latency_internal.h"

/* 2.3 TOPS INT8 (NXP i.MX 8M Plus fact sheet) = 1.15e12 MAC/s. */
#define PEAK_MACS_PER_MS 1.15e9
#define UTIL_DENSE 0.35     /* assumed: dense convs keep about a third of the array busy */
#define UTIL_POINTWISE 0.25 /* 1x1: less reuse per weight fetch */
#define UTIL_DEPTHWISE 0.04 /* one input channel per filter: most MAC lanes idle */
#define DDR_BYTES_PER_MS 6.0e6 /* LPDDR4-4000 x32 peaks at 16 GB/s; the NPU sees ~6 */
#define FIXED_MS 0.015      /* per executed layer: command-buffer dispatch */
#define OVERHEAD_MS 0.4     /* per inference: TFLite VX delegate invoke and sync */

void lpnas_imx8mp_options_default(lpnas_imx8mp_options *o)
{
    o->overhead_ms = OVERHEAD_MS;
}

lpnas_status lpnas_latency_model_imx8mp(const lpnas_imx8mp_options *o, lpnas_latency_model **out)
{
    lpnas_imx8mp_options def;
    if (!o) {
        lpnas_imx8mp_options_default(&def);
        o = &def;
    }
    if (!(o->overhead_ms >= 0 && o->overhead_ms < 1e6))
        return lpnas_fail(LPNAS_ERR_ARG, "imx8mp model: overhead %g ms must be in [0, 1e6)", o->overhead_ms);
    lpnas_status st = lpnas_latency_model_new(out);
    if (st)
        return st;
    lpnas_latency_model *m = *out;
    snprintf(m->device, sizeof m->device, "NXP i.MX 8M Plus NPU (VeriSilicon VIP8000, INT8)");
    snprintf(m->toolchain, sizeof m->toolchain, "TFLite + VX delegate (assumed)");
    snprintf(m->date, sizeof m->date, "2026-12-01");
    snprintf(m->method, sizeof m->method, "UNCALIBRATED roofline from data-sheet peaks, see docs/latency.md");
    snprintf(m->source, sizeof m->source,
             "built-in i.MX 8M Plus model (UNCALIBRATED: data-sheet peaks and assumed utilization, no published "
             "measurements fitted; pass a measured LUT to override)");
    m->has_analytic = false; /* the Myriad X formulas do not apply */
    m->analytic_imx8mp = true;
    m->fusions = LPNAS_FUSE_FOLD;
    m->overhead_ms = o->overhead_ms;
    return LPNAS_OK;
}

static double layer_ms(const lpnas_layer *y, int wbits)
{
    int oh, ow;
    lpnas_layer_out_hw(y, &oh, &ow);
    double out_px = (double)oh * ow, in_px = (double)y->in_h * y->in_w;
    double in_b = in_px * y->in_c, out_b = out_px * y->out_c; /* int8 activations: one byte each */
    int bits = wbits > 0 ? wbits : 8;
    double macs = 0, w_bytes = 0, util = 1;
    switch (y->op) {
    case LPNAS_OP_CONV:
    case LPNAS_OP_DECONV:
    case LPNAS_OP_FC: {
        double w = (double)y->out_c * (y->in_c / (y->groups > 0 ? y->groups : 1)) * y->kernel * y->kernel;
        w_bytes = w * bits / 8.0 + 4.0 * y->out_c; /* int32 bias */
        /* a deconv's MACs are per input pixel */
        macs = w * (y->op == LPNAS_OP_DECONV ? in_px : out_px);
        lpnas_latency_kind k = lpnas_latency_kind_of(y);
        util = k == LPNAS_LATKIND_DEPTHWISE ? UTIL_DEPTHWISE : k == LPNAS_LATKIND_POINTWISE ? UTIL_POINTWISE
                                                                                            : UTIL_DENSE;
        if (bits > 8)
            util /= 4; /* 16-bit operands: a quarter of the int8 MAC rate */
        break;
    }
    case LPNAS_OP_ADD: in_b *= 2; break; /* two inputs */
    default: break;                     /* pools, resampling, concat, standalone BN: data movement */
    }
    double compute = macs / (PEAK_MACS_PER_MS * util);
    double traffic = (in_b + out_b + w_bytes) / DDR_BYTES_PER_MS;
    return FIXED_MS + (compute > traffic ? compute : traffic);
}

lpnas_status lpnas_imx8mp_estimate(const lpnas_latency_model *m, const lpnas_layer_list *list, const int *wbits,
                                   double *per_layer, double *total_ms)
{
    double total = 0;
    bool prev_anchor = false;
    for (size_t i = 0; i < list->count; i++) {
        const lpnas_layer *y = &list->layers[i];
        double t;
        if (lpnas_op_folds(y->op) && prev_anchor) {
            t = 0; /* BN/ReLU folded into the conv before it */
        } else {
            const lpnas_lut_entry *e = NULL;
            if (m->count) { /* measured entries win over the roofline */
                lpnas_lut_key key = lpnas_lut_key_of(y, false);
                e = lpnas_latency_model_find(m, &key);
            }
            t = e ? e->mean_ms : layer_ms(y, wbits ? wbits[i] : 0);
            prev_anchor = lpnas_op_anchors_folds(y->op);
        }
        if (per_layer)
            per_layer[i] = t;
        total += t;
    }
    *total_ms = total + m->overhead_ms;
    return LPNAS_OK;
}

lpnas_status lpnas_latency_estimate_wbits(const lpnas_latency_model *m, const lpnas_layer_list *list,
                                          const int *wbits, double *per_layer, double *total_ms)
{
    if (!m || !list || !total_ms)
        return lpnas_fail(LPNAS_ERR_ARG, "latency estimate: NULL model, list or total");
    if (m->analytic_imx8mp)
        return lpnas_imx8mp_estimate(m, list, wbits, per_layer, total_ms);
    /* Myriad X and LUT models have one weight format (binary16): bits do not change the cost */
    return lpnas_latency_estimate(m, list, per_layer, total_ms);
}
