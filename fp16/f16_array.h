/* Internal: the array conversion paths behind lpnas_f16_*_array. */
#ifndef LPNAS_FP16_ARRAY_INTERNAL_H
#define LPNAS_FP16_ARRAY_INTERNAL_H

#include "fp16/f16_internal.h"

bool lpnas_f16_cpu_has_f16c(void);   /* F16C + AVX2, and the OS saves ymm state */
bool lpnas_f16_cpu_has_avx512(void); /* AVX-512F, and the OS saves zmm state */

void lpnas_f16_from_f32_portable(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm);
void lpnas_f16_to_f32_portable(float *dst, const lpnas_f16 *src, size_t n);
/* These fall back to the portable path on a CPU or compiler without them. */
void lpnas_f16_from_f32_f16c(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm);
void lpnas_f16_to_f32_f16c(float *dst, const lpnas_f16 *src, size_t n);
void lpnas_f16_from_f32_avx512(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm);
void lpnas_f16_to_f32_avx512(float *dst, const lpnas_f16 *src, size_t n);

#endif
