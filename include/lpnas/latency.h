/* Latency models (DESIGN §6): estimate a network's inference time from its
 * layer list, with the built-in Myriad X model, a LUT file measured on some
 * device, or the host profiler that writes such a LUT for this CPU.
 *
 * A model is a table of measured entries (keyed by the layer's canonical
 * signature) plus, optionally, the constants of the analytic Myriad X model
 * for layers the table lacks, a set of fusion rules and a per-inference
 * overhead. An estimate never allocates; a layer neither in the table nor
 * covered by analytic constants is an error (LPNAS_ERR_UNSUPPORTED naming
 * the layer), never a silent zero. Formats: docs/formats.md; constants and
 * calibration: docs/latency.md. */
#ifndef LPNAS_LATENCY_H
#define LPNAS_LATENCY_H

#include "lpnas/core.h"
#include "lpnas/layers.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LPNAS_LATENCY_MODEL_DECLARED
#define LPNAS_LATENCY_MODEL_DECLARED
typedef struct lpnas_latency_model lpnas_latency_model;
#endif

typedef struct {
    double overhead_ms; /* per inference: USB transfer and host calls; default 2.0 */
} lpnas_myriadx_options;

void lpnas_myriadx_options_default(lpnas_myriadx_options *o);
/* The built-in, calibrated Myriad X (NCS2) model. */
lpnas_status lpnas_latency_model_myriadx(const lpnas_myriadx_options *o, lpnas_latency_model **out);
void lpnas_latency_model_free(lpnas_latency_model *m);

/* LUT files: text, versioned ("# lpnas lut v1"); load validates every line
 * and reports file:line: what. */
lpnas_status lpnas_lut_load(const char *path, lpnas_latency_model **out);
lpnas_status lpnas_lut_save(const lpnas_latency_model *m, const char *path);

/* The per-inference overhead added to every total (ms). */
double lpnas_latency_overhead(const lpnas_latency_model *m);
void lpnas_latency_set_overhead(lpnas_latency_model *m, double overhead_ms);
const char *lpnas_latency_device(const lpnas_latency_model *m);
size_t lpnas_latency_entry_count(const lpnas_latency_model *m);

/* per_layer_ms (may be NULL) receives list->count values: a layer fused into
 * the one before it (BN/ReLU after a conv, a pool fused by the device) costs 0.
 * total_ms = sum + overhead. */
lpnas_status lpnas_latency_estimate(const lpnas_latency_model *m, const lpnas_layer_list *list, double *per_layer_ms,
                                    double *total_ms);

/* The canonical signature of a layer as LUT files spell it:
 * op:HxWxC>OC:kK:sS:gG:dD:act[:fused]. Returns the length (snprintf style). */
int lpnas_layer_signature(const lpnas_layer *layer, char *buf, size_t size);

/* ---- host profiler ----------------------------------------------------- */
typedef struct {
    int warmup;          /* untimed runs per layer, default 2 */
    int repetitions;     /* timed runs per layer (median, std recorded), default 7 */
    const char *policy;  /* numeric path timed: "fp32" (default) or a device policy */
    void (*progress)(void *user, size_t done, size_t total);
    void *user;
} lpnas_profile_options;

void lpnas_profile_options_default(lpnas_profile_options *o);
/* Times the library's kernels for every distinct layer of `list` on this CPU
 * (single thread) and returns a model holding those entries (no analytic
 * fallback, overhead 0). */
lpnas_status lpnas_latency_profile_host(const lpnas_layer_list *list, const lpnas_profile_options *o,
                                        lpnas_latency_model **out);
/* Runs the whole list back to back (repetitions, median) and reports the
 * end-to-end time and the sum of the per-layer estimates of `m`:
 * the additivity error is |sum - measured| / measured. */
lpnas_status lpnas_latency_additivity(const lpnas_latency_model *m, const lpnas_layer_list *list,
                                      const lpnas_profile_options *o, double *measured_ms, double *sum_ms);

#ifdef __cplusplus
}
#endif
#endif
