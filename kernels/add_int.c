/* Integer elementwise add with rescaling (see int_ops.h for both rules). */
#include <math.h>

#include "kernels/int_ops.h"

void lpnas_add_int_forward(int8_t *out, const int8_t *a, float sa, int32_t za, const int8_t *b, float sb, int32_t zb,
                           float so, lpnas_qrange r, lpnas_requant_rule rule, size_t n)
{
    if (rule == LPNAS_REQUANT_TFLITE) {
        /* TFLite reference int8 Add: 20 bits of headroom keep the two
         * rescaled inputs exact enough; multipliers as QuantizeMultiplier
         * makes them (double arithmetic, as TFLite's Prepare) */
        const int left = 20;
        double twice = 2.0 * fmax(sa, sb);
        int32_t qa, qb, qo;
        int ea, eb, eo;
        lpnas_quantize_multiplier(sa / twice, &qa, &ea);
        lpnas_quantize_multiplier(sb / twice, &qb, &eb);
        lpnas_quantize_multiplier(twice / ((double)(1 << left) * so), &qo, &eo);
        for (size_t i = 0; i < n; i++) {
            int32_t xa = ((int32_t)a[i] - za) * (1 << left), xb = ((int32_t)b[i] - zb) * (1 << left);
            int32_t sum = lpnas_mbqm(xa, qa, ea) + lpnas_mbqm(xb, qb, eb);
            int32_t v = lpnas_mbqm(sum, qo, eo) + r.zp;
            out[i] = (int8_t)(v < r.lo ? r.lo : v > r.hi ? r.hi : v);
        }
        return;
    }
    if (rule == LPNAS_REQUANT_ORT) {
        /* ONNX Runtime fuses DQ -> Add -> Q into QLinearAdd, which on x86
         * runs MlasQLinearAddKernelAvx2Helper (onnxruntime/core/mlas/lib/
         * intrinsics/avx2/qladd_avx2.cpp) on the uint8 codes u = q + 128,
         * zero points Z = z + 128 (the export's uint8 form):
         *   rA = sA / sC, rB = sB / sC                         (binary32)
         *   F  = (float)ZC - (rA * ZA + rB * ZB)                (binary32, each op rounded)
         *   t  = fma(uA, rA, fma(uB, rB, F))                    (_mm256_fmadd_ps, one rounding each)
         *   out = saturate_u8(cvtps_epi32(t))                   (nearest even, then packs/packus)
         * Not the same as DequantizeLinear -> Add -> QuantizeLinear: the
         * zero points are folded into F before the codes are added and the
         * division by sC is a multiplication by the rounded ratios. */
        const float ra = sa / so, rb = sb / so;
        const float f = (float)(r.zp + 128) - (ra * (float)(za + 128) + rb * (float)(zb + 128));
        for (size_t i = 0; i < n; i++) {
            float t = fmaf((float)((int32_t)a[i] + 128), ra, fmaf((float)((int32_t)b[i] + 128), rb, f));
            float v = nearbyintf(t);
            int32_t u = v < 0.0f ? 0 : v > 255.0f ? 255 : (int32_t)v;
            int32_t code = u - 128; /* then the fused activation's clamp */
            out[i] = (int8_t)(code < r.lo ? r.lo : code > r.hi ? r.hi : code);
        }
        return;
    }
    /* DequantizeLinear -> Add -> QuantizeLinear in binary32: each input
     * float(q - z) * s, their sum, then nearbyint(sum / s_out) + z_out */
    for (size_t i = 0; i < n; i++) {
        float v = (float)((int32_t)a[i] - za) * sa + (float)((int32_t)b[i] - zb) * sb;
        out[i] = (int8_t)lpnas_quantize1(v, so, r.zp, r.lo, r.hi);
    }
}
