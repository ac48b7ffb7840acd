/* Integer channel concat: each input requantized to the output's scale
 * and zero point: a copy when they are equal, else exactly what
 * DequantizeLinear -> Concat -> QuantizeLinear computes in ONNX Runtime:
 * v = float(q - z_in) * s_in, then nearbyint(v / s_out) + z_out, clamped
 * (two binary32 roundings; TFLite's reference multiplies by the ratio
 * s_in / s_out instead, which can differ by one code near ties). */
#include <math.h>
#include <string.h>

#include "kernels/int_ops.h"

static void part(int8_t *dst, const int8_t *src, size_t m, float s, int32_t z, float so, lpnas_qrange r)
{
    if (s == so && z == r.zp) {
        memcpy(dst, src, m);
        return;
    }
    for (size_t i = 0; i < m; i++)
        dst[i] = (int8_t)lpnas_quantize1((float)((int32_t)src[i] - z) * s, so, r.zp, r.lo, r.hi);
}

void lpnas_concat_int_forward(int8_t *out, const int8_t *a, float sa, int32_t za, lpnas_shape as, const int8_t *b,
                              float sb, int32_t zb, lpnas_shape bs, float so, lpnas_qrange r)
{
    size_t pa = (size_t)as.c * as.h * as.w, pb = (size_t)bs.c * bs.h * bs.w;
    for (int n = 0; n < as.n; n++) {
        part(out + (size_t)n * (pa + pb), a + (size_t)n * pa, pa, sa, za, so, r);
        part(out + (size_t)n * (pa + pb) + pa, b + (size_t)n * pb, pb, sb, zb, so, r);
    }
}
