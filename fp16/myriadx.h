/* Internal: the Myriad X host conversion (see myriadx.c). */
#ifndef LPNAS_FP16_MYRIADX_H
#define LPNAS_FP16_MYRIADX_H

#include "fp16/f16_internal.h"

uint16_t lpnas_myriadx_f32tof16(float x);

#endif
