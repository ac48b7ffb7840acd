/* Integer forward kernels of the integer policies (docs/numerics.md
 * "Integer inference"): int8 codes in and out (any width <= 8 bits fits),
 * int32 accumulation, requantization by the policy's rule (fp16/requant.h).
 * One op per file: conv2d_int.c, deconv2d_int.c, maxpool_int.c,
 * upsample_int.c, add_int.c, concat_int.c, sigmoid_int.c. Layouts are the
 * float kernels' (NCHW; conv weights [OC][C/g][k][k], deconv [C][OC][k][k]). */
#ifndef LPNAS_KERNELS_INT_OPS_H
#define LPNAS_KERNELS_INT_OPS_H

#include <stdint.h>

#include "fp16/requant.h"
#include "kernels/conv2d.h"
#include "kernels/deconv2d.h"

/* An output tensor's zero point and code range; a fused ReLU raises lo to
 * the zero point and ReLU6 lowers hi to zp + round(6 / scale), as TFLite
 * fuses activations into the requantization clamp. */
typedef struct {
    int32_t zp, lo, hi;
} lpnas_qrange;

/* acc = bias[c] + sum (x - zp_in) * w over the window (padding contributes
 * 0: it holds the zero point), then rq[c]. plane: oh*ow int32 scratch. */
void lpnas_conv2d_int_forward(int8_t *out, const int8_t *in, int32_t zp_in, const int8_t *w, const int32_t *bias,
                              const lpnas_rq *rq, lpnas_qrange r, lpnas_shape in_shape, int out_c,
                              const lpnas_conv_params *p, int32_t *plane);
/* Transposed conv, kernel == stride (no overlapping taps: one product sum per output). */
void lpnas_deconv2d_int_forward(int8_t *out, const int8_t *in, int32_t zp_in, const int8_t *w, const int32_t *bias,
                                const lpnas_rq *rq, lpnas_qrange r, lpnas_shape in_shape, int out_c,
                                const lpnas_deconv_params *p);
/* 2x2 stride-2 max pooling on codes (monotone: the max of codes is the code
 * of the max); argmax as lpnas_maxpool_forward writes it (first maximum). */
void lpnas_maxpool_int_forward(int8_t *out, int32_t *argmax, const int8_t *in, lpnas_shape s);
/* x2 upsampling, scale s and zero point kept. Bilinear (half-pixel,
 * edge-clamped, as the float kernel): TFLITE, SHIFT: taps 1/4 and 3/4 per
 * axis, so the sum of (x - zp) times weights in sixteenths is exact;
 * divided by 16 rounding half away from zero. ORT: ONNX Runtime's
 * DequantizeLinear -> float NHWC bilinear -> QuantizeLinear, in binary32
 * (upsample_int.c gives the formula). */
void lpnas_upsample_int_forward(int8_t *out, const int8_t *in, float s, int32_t zp, lpnas_shape sh, int bilinear,
                                lpnas_requant_rule rule);
/* a + b with rescaling. TFLITE: the TFLite reference int8 Add (inputs
 * shifted left by 20, each scaled by s_i / (2 max s) with a Q0.31
 * multiplier, summed, then scaled by 2 max s / (2^20 s_out)); ORT: ONNX
 * Runtime's QLinearAdd (MLAS, AVX2) on uint8 codes, see add_int.c; SHIFT:
 * DequantizeLinear -> Add -> QuantizeLinear in binary32:
 * float(a - za) * sa + float(b - zb) * sb, divided by s_out, nearest even. */
void lpnas_add_int_forward(int8_t *out, const int8_t *a, float sa, int32_t za, const int8_t *b, float sb, int32_t zb,
                           float so, lpnas_qrange r, lpnas_requant_rule rule, size_t n);
/* Channel concat of a then b with each requantized to the output scale:
 * equal scale and zero point copy; else nearbyint(float(q - z_in) * s_in / s_out) + z_out in binary32. */
void lpnas_concat_int_forward(int8_t *out, const int8_t *a, float sa, int32_t za, lpnas_shape as, const int8_t *b,
                              float sb, int32_t zb, lpnas_shape bs, float so, lpnas_qrange r);
/* int8 logistic as TFLite's int8 LUT kernel: a table over the 256 input
 * codes, out = clamp(round(256 sigmoid(s (q - zp))) - 128), output scale 1/256, zero point -128. */
void lpnas_sigmoid_int_table(int8_t table[256], float s_in, int32_t zp_in);
void lpnas_sigmoid_int_forward(int8_t *out, const int8_t *in, const int8_t table[256], size_t n);

#endif
