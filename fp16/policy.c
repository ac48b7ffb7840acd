/* Device number policies: presets as data, and the rounding passes the
 * kernels and the engine call. */
#include "fp16/policy.h"

#include <string.h>

#include "base/error.h"
#include "fp16/f16_array.h"
#include "fp16/myriadx.h"

static const struct lpnas_policy presets[] = {
    {"fp32", "the FP32 reference: nothing is rounded", LPNAS_STORAGE_F32, LPNAS_RNE, false, false,
     LPNAS_ACCUM_F32, false, LPNAS_HOSTCONV_IEEE, {0}},
    {"ieee-fp16",
     "IEEE binary16: nearest-even, subnormals kept, overflow to inf, fp32 accumulation, BN folded",
     LPNAS_STORAGE_F16, LPNAS_RNE, false, false, LPNAS_ACCUM_F32, true, LPNAS_HOSTCONV_IEEE, {0}},
    {"myriadx",
     "Myriad X (OpenVINO MYRIAD plugin): host conversion f32tof16 (ties away, flush below 2^-15, "
     "saturate), op outputs binary16 nearest-even with subnormals flushed, fp32 accumulation, BN folded",
     LPNAS_STORAGE_F16, LPNAS_RNE, true, false, LPNAS_ACCUM_F32, true, LPNAS_HOSTCONV_MYRIADX, {0}},
    {"myriadx-fp16acc",
     "Myriad X, pessimistic: as myriadx, but every partial sum of a dot product rounded to binary16",
     LPNAS_STORAGE_F16, LPNAS_RNE, true, false, LPNAS_ACCUM_F16, true, LPNAS_HOSTCONV_MYRIADX, {0}},
    /* Integer policies (docs/numerics.md "Integer policies"): the float
     * fields say how the FP32 master values are held on the host (not
     * rounded); the integer format says what the device computes. */
    {"int8",
     "INT8 (TFLite / NNAPI / i.MX 8M Plus NPU): weights int8 symmetric per output channel, activations int8 "
     "asymmetric per tensor, bias int32, int32 accumulation, TFLite fixed-point requantization, BN folded",
     LPNAS_STORAGE_INT, LPNAS_RNE, false, false, LPNAS_ACCUM_F32, true, LPNAS_HOSTCONV_IEEE,
     {8, true, 8, false, false, LPNAS_REQUANT_TFLITE}},
    {"int8-pow2",
     "INT8 with power-of-two scales (fixed-point DSPs): as int8, every scale 2^k, requantization a rounding shift",
     LPNAS_STORAGE_INT, LPNAS_RNE, false, false, LPNAS_ACCUM_F32, true, LPNAS_HOSTCONV_IEEE,
     {8, true, 8, false, true, LPNAS_REQUANT_SHIFT}},
    {"w4a8",
     "4-bit weights symmetric per output channel, int8 asymmetric activations, int32 bias and accumulation, "
     "TFLite requantization, BN folded",
     LPNAS_STORAGE_INT, LPNAS_RNE, false, false, LPNAS_ACCUM_F32, true, LPNAS_HOSTCONV_IEEE,
     {4, true, 8, false, false, LPNAS_REQUANT_TFLITE}},
    {"int8-ort",
     "as int8, requantized as ONNX Runtime does (float scale, round to nearest even)",
     LPNAS_STORAGE_INT, LPNAS_RNE, false, false, LPNAS_ACCUM_F32, true, LPNAS_HOSTCONV_IEEE,
     {8, true, 8, false, false, LPNAS_REQUANT_ORT}},
};
#define NPRESETS (sizeof presets / sizeof presets[0])

const lpnas_policy *lpnas_policy_at(size_t i)
{
    return i < NPRESETS ? &presets[i] : NULL;
}

lpnas_status lpnas_policy_get(const char *name, const lpnas_policy **out)
{
    if (!out)
        return lpnas_fail(LPNAS_ERR_ARG, "policy: NULL output pointer");
    *out = NULL;
    if (name && strncmp(name, "file:", 5) == 0)
        return lpnas_policy_load(name + 5, out);
    for (size_t i = 0; name && i < NPRESETS; i++) {
        if (strcmp(name, presets[i].name) == 0) {
            *out = &presets[i];
            return LPNAS_OK;
        }
    }
    return lpnas_fail(LPNAS_ERR_NOT_FOUND,
                      "policy '%s': unknown; known policies: fp32, ieee-fp16, myriadx, myriadx-fp16acc, int8, int8-pow2, "
                      "w4a8, int8-ort, or file:PATH",
                      name ? name : "(null)");
}

const char *lpnas_policy_name(const lpnas_policy *p) { return p ? p->name : "fp32"; }
const char *lpnas_policy_description(const lpnas_policy *p) { return p ? p->description : presets[0].description; }
bool lpnas_policy_is_fp32(const lpnas_policy *p) { return !p || p->storage == LPNAS_STORAGE_F32; }

/* Applies the policy's flush and saturation to binary16 results in place.
 * Subnormal: exponent field 0 with a nonzero mantissa -> signed zero.
 * Saturation: an inf that came from a finite input -> +-65504. */
static void flush_saturate(const lpnas_policy *p, lpnas_f16 *h, const float *src, size_t n)
{
    if (p->flush_subnormals) {
        /* select, not branch: the loop vectorizes */
        for (size_t i = 0; i < n; i++) {
            uint16_t b = h[i].bits;
            h[i].bits = (b & LPNAS_F16_EXP) ? b : (uint16_t)(b & LPNAS_F16_SIGN);
        }
    }
    if (p->saturate) {
        for (size_t i = 0; i < n; i++)
            if ((h[i].bits & 0x7FFF) == LPNAS_F16_INF && src[i] - src[i] == 0) /* finite src */
                h[i].bits = (uint16_t)((h[i].bits & LPNAS_F16_SIGN) | LPNAS_F16_MAX);
    }
}

/* Op outputs on the device: IEEE conversion in the policy's mode, then the
 * flush and saturation rules. */
static void to_device_output(const lpnas_policy *p, lpnas_f16 *dst, const float *src, size_t n)
{
    lpnas_f16_from_f32_array(dst, src, n, p->rounding);
    flush_saturate(p, dst, src, n);
}

void lpnas_policy_to_device(const lpnas_policy *p, lpnas_f16 *dst, const float *src, size_t n)
{
    if (p && p->host_convert == LPNAS_HOSTCONV_MYRIADX) {
        for (size_t i = 0; i < n; i++)
            dst[i].bits = lpnas_myriadx_f32tof16(src[i]);
        return;
    }
    if (lpnas_policy_is_fp32(p) || p->storage == LPNAS_STORAGE_INT) {
        lpnas_f16_from_f32_array(dst, src, n, LPNAS_RNE);
        return;
    }
    to_device_output(p, dst, src, n);
}

/* Round trips through binary16 in chunks that stay in L1: `convert` is the
 * host conversion or the op-output rounding. */
#define CHUNK 1024

static void round_trip(const lpnas_policy *p, float *x, size_t n,
                       void (*convert)(const lpnas_policy *, lpnas_f16 *, const float *, size_t))
{
    /* integer policies quantize in their own kernels, never through binary16 */
    if (lpnas_policy_is_fp32(p) || p->storage == LPNAS_STORAGE_INT)
        return;
    lpnas_f16 buf[CHUNK];
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        convert(p, buf, x + i, m);
        lpnas_f16_to_f32_array(x + i, buf, m);
    }
}

void lpnas_policy_round_host(const lpnas_policy *p, float *x, size_t n)
{
    round_trip(p, x, n, lpnas_policy_to_device);
}

void lpnas_policy_round(const lpnas_policy *p, float *x, size_t n)
{
    round_trip(p, x, n, to_device_output);
}

float lpnas_policy_round1(const lpnas_policy *p, float x)
{
    if (lpnas_policy_is_fp32(p) || p->storage == LPNAS_STORAGE_INT)
        return x;
    lpnas_f16 h = lpnas_f16_from_f32(x, p->rounding, NULL);
    flush_saturate(p, &h, &x, 1);
    return lpnas_f16_to_f32(h);
}
