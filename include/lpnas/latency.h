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

#include <stdbool.h>

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

typedef struct {
    double overhead_ms; /* per inference: delegate invoke and sync; default 0.4 */
} lpnas_imx8mp_options;

void lpnas_imx8mp_options_default(lpnas_imx8mp_options *o);
/* The built-in NXP i.MX 8M Plus NPU model (INT8): UNCALIBRATED, from
 * data-sheet peaks (docs/latency.md); a measured LUT overrides it. */
lpnas_status lpnas_latency_model_imx8mp(const lpnas_imx8mp_options *o, lpnas_latency_model **out);

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

/* The same with each row's weight bits (lpnas_arch_layer_wbits; NULL: the
 * device default). Only the i.MX 8M Plus model prices bits (weight traffic);
 * Myriad X and LUT models give lpnas_latency_estimate's result. */
lpnas_status lpnas_latency_estimate_wbits(const lpnas_latency_model *m, const lpnas_layer_list *list,
                                          const int *wbits, double *per_layer, double *total_ms);

/* The canonical signature of a layer as LUT files spell it:
 * op:HxWxC>OC:kK:sS:gG:dD:act[:fused]. Returns the length (snprintf style). */
int lpnas_layer_signature(const lpnas_layer *layer, char *buf, size_t size);

/* ---- LUTs from a real device: OpenVINO performance counters ------------- */
typedef struct {
    const char *device;     /* provenance; NULL: "Intel Movidius Myriad X (MYRIAD)" */
    const char *toolchain;  /* NULL: "OpenVINO benchmark_app performance counters" */
    bool analytic_fallback; /* layers missing from the table use the built-in Myriad X formulas */
    double overhead_ms;     /* per inference; < 0 (default): the time of report entries no row took */
} lpnas_openvino_import_options;

void lpnas_openvino_import_options_default(lpnas_openvino_import_options *o);
/* Reads a benchmark_app -report_type detailed_counters (or average_counters)
 * CSV report and matches its executed layers to the rows of `list` (format
 * and matching rules: docs/formats.md). *log (may be NULL) receives a
 * malloc'ed text naming every unmatched row and report entry and a summary
 * line; the caller frees it. Errors name the file and line. */
lpnas_status lpnas_lut_import_openvino(const char *report_csv, const lpnas_layer_list *list,
                                       const lpnas_openvino_import_options *o, lpnas_latency_model **out,
                                       char **log);

/* One line saying where the model's numbers come from (built-in analytic
 * model, LUT file, import, host profile) and how far to trust them. */
const char *lpnas_latency_source(const lpnas_latency_model *m);

/* Latency by op kind: what a layer costs as, on the device. */
typedef enum {
    LPNAS_LATKIND_CONV,      /* dense conv, kernel > 1 */
    LPNAS_LATKIND_POINTWISE, /* dense 1x1 conv */
    LPNAS_LATKIND_DEPTHWISE,
    LPNAS_LATKIND_DILATED,   /* dilated convs: SHAVE cores */
    LPNAS_LATKIND_DECONV,
    LPNAS_LATKIND_POOL,
    LPNAS_LATKIND_ADD,
    LPNAS_LATKIND_CONCAT,
    LPNAS_LATKIND_RESAMPLE,
    LPNAS_LATKIND_FC,
    LPNAS_LATKIND_OTHER,     /* standalone BN / ReLU, detection_output */
    LPNAS_LATKIND_OVERHEAD,  /* per inference */
    LPNAS_LATKIND_COUNT_
} lpnas_latency_kind;

const char *lpnas_latency_kind_name(lpnas_latency_kind k); /* "depthwise" */
lpnas_latency_kind lpnas_latency_kind_of(const lpnas_layer *layer);
/* ms_by_kind[LPNAS_LATKIND_COUNT_]: the estimate split by kind (the
 * overhead in LPNAS_LATKIND_OVERHEAD); sums to *total_ms. Allocates. */
lpnas_status lpnas_latency_breakdown(const lpnas_latency_model *m, const lpnas_layer_list *list,
                                     double ms_by_kind[LPNAS_LATKIND_COUNT_], double *total_ms);

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
