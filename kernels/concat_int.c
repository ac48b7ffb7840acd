/* Integer channel concat: each input requantized to the output's scale
 * and zero point (TFLite's reference concatenation: a copy when they are
 * equal, else round(ratio * (q - z_in)) + z_out with the ratio in binary32;
 * we round to nearest even, as ONNX QuantizeLinear after a float Concat). */
#include <math.h>
#include <string.h>

#include "kernels/int_ops.h"

static void part(int8_t *dst, const int8_t *src, size_t m, float s, int32_t z, float so, lpnas_qrange r)
{
    if (s == so && z == r.zp) {
        memcpy(dst, src, m);
        return;
    }
    float ratio = s / so;
    for (size_t i = 0; i < m; i++) {
        float c = nearbyintf(ratio * (float)((int32_t)src[i] - z)) + (float)r.zp;
        dst[i] = (int8_t)(c < (float)r.lo ? r.lo : c > (float)r.hi ? r.hi : (int32_t)c);
    }
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
