/* Integer device policies (issue 17): the integer format a policy names,
 * the presets "int8", "int8-pow2", "w4a8", policies from a text file, and
 * the two requantization rules of real runtimes, bit for bit
 * (docs/numerics.md "Integer policies"). A policy with an integer format is
 * an ordinary lpnas_policy: lpnas_policy_get knows the presets, and every
 * function taking a policy accepts one. */
#ifndef LPNAS_QUANT_H
#define LPNAS_QUANT_H

#include <stdint.h>

#include "lpnas/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How an int32 accumulator becomes an output code. Append-only (model files). */
typedef enum {
    LPNAS_REQUANT_TFLITE = 0, /* int32 multiplier + shift: SaturatingRoundingDoublingHighMul, RoundingDivideByPOT */
    LPNAS_REQUANT_ORT = 1,    /* ONNX Runtime (MLAS): float(acc) * float scale, nearbyint (ties to even), + zp, clamp */
    LPNAS_REQUANT_SHIFT = 2   /* power-of-two scales: rounding right shift (round half up, as gemmlowp), + zp, clamp */
} lpnas_requant_rule;

/* What an integer policy says. Bits are 2..8; weights always symmetric
 * (zero point 0, codes in [-(2^(b-1)-1), 2^(b-1)-1]), activations asymmetric
 * per tensor in [-2^(b-1), 2^(b-1)-1] unless act_symmetric; bias int32 in the
 * scale s_in * s_w[c]; accumulation int32. */
typedef struct {
    int weight_bits;          /* 8 for int8, 4 for w4a8 */
    bool weight_per_channel;  /* one scale per output channel (else per tensor) */
    int act_bits;             /* 8 */
    bool act_symmetric;       /* zero point 0 */
    bool pow2_scales;         /* every scale a power of two (int8-pow2) */
    lpnas_requant_rule requant;
} lpnas_int_format;

/* True for a policy with an integer format. */
bool lpnas_policy_is_integer(const lpnas_policy *p);
/* The integer format of p; LPNAS_ERR_ARG naming the policy if it has none. */
lpnas_status lpnas_policy_int_format(const lpnas_policy *p, lpnas_int_format *out);
/* A new integer policy from a format (checked: bits 2..8, known rule).
 * name is copied (at most 31 characters). The policy lives until the end
 * of the program, like the presets (issue 18's per-layer bit-widths make
 * policies this way). LPNAS_ERR_ARG naming the field and value if bad. */
lpnas_status lpnas_policy_make_int(const char *name, const lpnas_int_format *f, const lpnas_policy **out);
/* A policy from a text file (docs/numerics.md "Policy files"): lines
 * `key = value`, '#' comments; keys name, base (a preset name), weight_bits,
 * weight_granularity (per-channel | per-tensor), act_bits, act_symmetric
 * (yes | no), scales (float | pow2), requant (tflite | ort | shift).
 * Errors name the file, line and key. lpnas_policy_get(NAME) also accepts
 * "file:PATH". */
lpnas_status lpnas_policy_load(const char *path, const lpnas_policy **out);

/* ---- the requantization arithmetic, exposed for tests and exporters ---- */

/* TFLite QuantizeMultiplier: m = q * 2^shift with q in [2^30, 2^31) as a
 * Q0.31 int32 (q = round(frac(m) * 2^31), frexp), shift in [-31, 30];
 * m == 0 gives q = 0, shift 0. LPNAS_ERR_ARG for m < 0, NaN or inf. */
lpnas_status lpnas_quantize_multiplier(double m, int32_t *q, int *shift);
/* gemmlowp SaturatingRoundingDoublingHighMul: (a*b + 2^30 (or 1-2^30 if
 * a*b < 0)) / 2^31 truncated toward zero, i.e. a*b/2^31 rounded to nearest
 * with ties toward +inf; INT32_MIN*INT32_MIN gives INT32_MAX. */
int32_t lpnas_srdhm(int32_t a, int32_t b);
/* gemmlowp RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero (e in 0..31). */
int32_t lpnas_rdbpot(int32_t x, int e);
/* TFLite MultiplyByQuantizedMultiplier: left shift max(shift,0) then
 * SRDHM then RDBPOT by max(-shift,0). */
int32_t lpnas_mbqm(int32_t acc, int32_t q, int shift);
/* One accumulator to an output code by rule r: scale m = s_in*s_w/s_out as
 * given (for TFLITE via lpnas_quantize_multiplier, for ORT as a float, for
 * SHIFT m must be 2^-k), + zero point, clamped to [lo, hi]. */
int32_t lpnas_requant(lpnas_requant_rule r, int32_t acc, double m, int32_t zp, int32_t lo, int32_t hi);

/* Quantization of a float (for inputs and fake quantization):
 * clamp(nearbyint(x / s) + zp, lo, hi), division in binary32 and ties to
 * even, as ONNX QuantizeLinear and TFLite's reference quantize do. */
int32_t lpnas_quantize1(float x, float s, int32_t zp, int32_t lo, int32_t hi);

/* Activation calibration (issue 17): how a tensor's range is chosen. */
typedef enum { LPNAS_CALIB_MINMAX = 0, LPNAS_CALIB_PERCENTILE = 1, LPNAS_CALIB_MSE = 2 } lpnas_calib_method;
/* Parses "minmax" | "percentile" | "mse". */
lpnas_status lpnas_calib_method_parse(const char *s, lpnas_calib_method *out);

#ifdef __cplusplus
}
#endif
#endif
