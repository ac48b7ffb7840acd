/* Integer transposed conv with kernel == stride and no padding (the
 * engine's 2x2 stride-2 deconv): every output pixel receives exactly one
 * tap per input channel, so the accumulator is one exact int32 sum. */
#include "kernels/int_ops.h"

void lpnas_deconv2d_int_forward(int8_t *out, const int8_t *in, int32_t zp_in, const int8_t *w, const int32_t *bias,
                                const lpnas_rq *rq, lpnas_qrange r, lpnas_shape s, int out_c,
                                const lpnas_deconv_params *p)
{
    int k = p->conv.kh, oh = s.h * k, ow = s.w * k;
    size_t hw = (size_t)s.h * s.w;
    for (int n = 0; n < s.n; n++)
        for (int oc = 0; oc < out_c; oc++) {
            int8_t *y = out + ((size_t)n * out_c + oc) * (size_t)oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    int iy = oy / k, ix = ox / k, ky = oy % k, kx = ox % k;
                    int32_t acc = bias ? bias[oc] : 0;
                    for (int ci = 0; ci < s.c; ci++)
                        acc += ((int32_t)in[((size_t)n * s.c + ci) * hw + (size_t)iy * s.w + ix] - zp_in) *
                               w[(((size_t)ci * out_c + oc) * k + ky) * k + kx];
                    y[(size_t)oy * ow + ox] = (int8_t)lpnas_rq_apply(&rq[oc], acc, r.zp, r.lo, r.hi);
                }
        }
}
