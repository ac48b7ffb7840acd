/* Integer logistic: as TFLite's int8 kernel, a 256-entry table over the
 * input codes; output scale 1/256 and zero point -128, so the code is
 * round(256 sigmoid(x)) - 128 clamped to 127 (sigmoid -> 1 saturates). */
#include <math.h>

#include "kernels/int_ops.h"

void lpnas_sigmoid_int_table(int8_t table[256], float s_in, int32_t zp_in)
{
    for (int q = -128; q < 128; q++) {
        double x = (double)s_in * (q - zp_in);
        double v = nearbyint(256.0 / (1.0 + exp(-x))) - 128;
        table[q + 128] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
    }
}

void lpnas_sigmoid_int_forward(int8_t *out, const int8_t *in, const int8_t table[256], size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = table[(int)in[i] + 128];
}
