/* Internal: a requantization prepared once per channel (the multiplier
 * decomposed as the rule needs it), applied per accumulator in the kernels. */
#ifndef LPNAS_FP16_REQUANT_H
#define LPNAS_FP16_REQUANT_H

#include "lpnas/quant.h"

typedef struct {
    lpnas_requant_rule rule;
    int32_t q;    /* TFLITE: Q0.31 multiplier */
    int shift;    /* TFLITE: its exponent; SHIFT: right shift k (m = 2^-k, negative: left) */
    float mf;     /* ORT: the scale as binary32 */
} lpnas_rq;

/* m = s_in * s_w / s_out > 0 (SHIFT: rounded to the nearest power of two
 * is the caller's job; here m's exponent is taken). */
lpnas_rq lpnas_rq_make(lpnas_requant_rule r, double m);
/* clamp(rule(acc) + zp, lo, hi), exactly lpnas_requant(r, acc, m, zp, lo, hi). */
int32_t lpnas_rq_apply(const lpnas_rq *rq, int32_t acc, int32_t zp, int32_t lo, int32_t hi);

#endif
