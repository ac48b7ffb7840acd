/* Integer 2x2 stride-2 max pooling: quantization is monotone and the
 * output keeps the input's scale and zero point, so the max of the codes
 * is exactly the code of the float max; the first maximum wins ties (the
 * float kernel's argmax rule, which the straight-through backward reuses). */
#include "kernels/int_ops.h"

void lpnas_maxpool_int_forward(int8_t *out, int32_t *argmax, const int8_t *in, lpnas_shape s)
{
    int oh = s.h / 2, ow = s.w / 2;
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const int8_t *x = in + lpnas_shape_at(s, n, c, 0, 0);
            size_t o = ((size_t)n * s.c + c) * (size_t)oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    int at = 2 * oy * s.w + 2 * ox, best = at;
                    const int taps[3] = {at + 1, at + s.w, at + s.w + 1};
                    for (int t = 0; t < 3; t++)
                        if (x[taps[t]] > x[best])
                            best = taps[t];
                    out[o] = x[best];
                    argmax[o++] = best;
                }
        }
}
