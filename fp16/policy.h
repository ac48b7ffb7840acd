/* Internal: the policy as plain data, for kernels that branch on it. */
#ifndef LPNAS_FP16_POLICY_INTERNAL_H
#define LPNAS_FP16_POLICY_INTERNAL_H

#include "lpnas/policy.h"
#include "lpnas/quant.h"

/* Append-only enums: their values are written to model files. */
typedef enum { LPNAS_STORAGE_F32 = 0, LPNAS_STORAGE_F16 = 1, LPNAS_STORAGE_INT = 2 } lpnas_storage;
typedef enum { LPNAS_ACCUM_F32 = 0, LPNAS_ACCUM_F16 = 1 } lpnas_accum;
typedef enum {
    LPNAS_HOSTCONV_IEEE = 0,    /* IEEE conversion in `rounding`, with the flags below */
    LPNAS_HOSTCONV_MYRIADX = 1  /* OpenVINO MYRIAD PrecisionUtils::f32tof16 */
} lpnas_host_convert;

struct lpnas_policy {
    const char *name;
    const char *description;
    lpnas_storage storage;
    lpnas_round rounding;          /* rounding of op outputs on the device */
    bool flush_subnormals;         /* op outputs: subnormal results become ±0 */
    bool saturate;                 /* op outputs: overflow gives ±65504, not ±inf */
    lpnas_accum accumulate;        /* dot products: fp32, or every partial sum in fp16 */
    bool fold_bn;                  /* fold batch norm into conv before conversion */
    lpnas_host_convert host_convert; /* weights and network input */
    lpnas_int_format integer;      /* LPNAS_STORAGE_INT: the integer format (fp16/quant.c) */
};

/* Rounds one float as an op output of policy p (scalar form of lpnas_policy_round). */
float lpnas_policy_round1(const lpnas_policy *p, float x);

#endif
