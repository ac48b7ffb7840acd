/* Device number policies (DESIGN §4.2): how a value is stored and rounded
 * on the target device, as data. Presets: "fp32", "ieee-fp16", "myriadx",
 * "myriadx-fp16acc". Policies are immutable and live for the whole program. */
#ifndef LPNAS_POLICY_H
#define LPNAS_POLICY_H

#include "lpnas/fp16.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lpnas_policy lpnas_policy;

/* Unknown name: LPNAS_ERR_NOT_FOUND with a message listing the known ones. */
lpnas_status lpnas_policy_get(const char *name, const lpnas_policy **out);
/* The presets in a fixed order, for listing: NULL past the end. */
const lpnas_policy *lpnas_policy_at(size_t i);
const char *lpnas_policy_name(const lpnas_policy *p);
const char *lpnas_policy_description(const lpnas_policy *p);
/* True for "fp32": nothing is rounded. */
bool lpnas_policy_is_fp32(const lpnas_policy *p);

/* Host -> device bits: how the host converts FP32 weights and network
 * inputs before they go to the device (for myriadx: the OpenVINO plugin's
 * f32tof16, bit for bit). For "fp32", IEEE round-to-nearest-even. */
void lpnas_policy_to_device(const lpnas_policy *p, lpnas_f16 *dst, const float *src, size_t n);
/* In place: the value the host conversion above produces, as a float. */
void lpnas_policy_round_host(const lpnas_policy *p, float *x, size_t n);
/* In place: the nearest value the device holds, as the device rounds the
 * result of an operation (op outputs, activation gradients). No-op for fp32. */
void lpnas_policy_round(const lpnas_policy *p, float *x, size_t n);

#ifdef __cplusplus
}
#endif
#endif
