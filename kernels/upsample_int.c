/* Integer x2 upsampling. Nearest copies codes. Bilinear with half-pixel
 * centres and edge clamping (the float kernel's taps): for factor 2 each
 * axis weight is 0, 1/4 or 3/4, so with (x - zp) and weights in quarters
 * the interpolated value times 16 is an exact integer sum S, divided by 16
 * rounding half away from zero (RoundingDivideByPOT). Scale and zero point
 * are the input's, as TFLite's ResizeBilinear keeps them.
 *
 * ONNX Runtime rule: ONNX Runtime does NOT run a linear Resize on the
 * codes -- its QDQ transformer leaves DequantizeLinear -> Resize ->
 * QuantizeLinear in float (only nearest Resize drops the pair), and in the
 * NHWC graph its layout transformer makes, the kernel is
 * NhwcUpsampleBilinear<float> (onnxruntime/core/providers/cpu/tensor/
 * upsample.h), in binary32:
 *   X = float(q - zp) * s                                  (DequantizeLinear)
 *   src = (d + 0.5) / 2 - 0.5 clamped to [0, n - 1]; i1 = (int)src,
 *   i2 = min(i1 + 1, n - 1); d1 = |src - i1|, d2 = |src - i2|, both 0.5
 *   when i1 == i2 (the last row/column)
 *   y = ((dx2 dy2 * X11 + dx1 dy2 * X21) + dx2 dy1 * X12) + dx1 dy1 * X22
 *   (the four weights are products formed first; every * and + rounds)
 *   code = QuantizeLinear(y) = nearbyint(y / s) + zp, clamped.
 * Measured bit-exact against ONNX Runtime 1.30 on a DQ -> Resize -> Q model
 * (docs/numerics.md). Its integer Resize (on uint8, used only when the
 * graph has no DQ/Q around it) truncates instead; we never export that. */
#include <math.h>

#include "kernels/int_ops.h"

/* Source rows/columns and the upper one's weight in quarters for output d. */
static void tap(int d, int in_size, int *i0, int *i1, int *w1)
{
    /* src = (d + 0.5) / 2 - 0.5 = d/2 - 1/4, clamped at 0 */
    int q4 = 2 * d - 1; /* src in quarters */
    if (q4 < 0)
        q4 = 0;
    int lo = q4 / 4;
    if (lo > in_size - 1)
        lo = in_size - 1;
    *i0 = lo;
    *i1 = lo + 1 < in_size ? lo + 1 : in_size - 1;
    *w1 = q4 - 4 * lo;
}

/* ONNX Runtime's SetupUpsampleBilinear for half_pixel, factor 2, in binary32. */
static void tap_ort(int d, int in_size, int *i1, int *i2, float *d1, float *d2)
{
    float v = ((float)d + 0.5f) / 2.0f - 0.5f;
    v = fmaxf(0.0f, fminf(v, (float)(in_size - 1)));
    *i1 = (int)v < in_size - 1 ? (int)v : in_size - 1;
    *i2 = *i1 + 1 < in_size ? *i1 + 1 : in_size - 1;
    *d1 = fabsf(v - (float)*i1);
    *d2 = fabsf(v - (float)*i2);
    if (*i1 == *i2)
        *d1 = *d2 = 0.5f;
}

static void bilinear_ort(int8_t *y, const int8_t *x, float s, int32_t zp, int h, int w)
{
    int oh = 2 * h, ow = 2 * w;
    for (int oy = 0; oy < oh; oy++) {
        int y1, y2;
        float dy1, dy2;
        tap_ort(oy, h, &y1, &y2, &dy1, &dy2);
        for (int ox = 0; ox < ow; ox++) {
            int x1, x2;
            float dx1, dx2;
            tap_ort(ox, w, &x1, &x2, &dx1, &dx2);
            float c11 = dx2 * dy2, c21 = dx1 * dy2, c12 = dx2 * dy1, c22 = dx1 * dy1;
            float a = (float)(x[(size_t)y1 * w + x1] - zp) * s, b = (float)(x[(size_t)y1 * w + x2] - zp) * s;
            float c = (float)(x[(size_t)y2 * w + x1] - zp) * s, d = (float)(x[(size_t)y2 * w + x2] - zp) * s;
            float v = ((c11 * a + c21 * b) + c12 * c) + c22 * d;
            y[(size_t)oy * ow + ox] = (int8_t)lpnas_quantize1(v, s, zp, -128, 127);
        }
    }
}

void lpnas_upsample_int_forward(int8_t *out, const int8_t *in, float s, int32_t zp, lpnas_shape sh, int bilinear,
                                lpnas_requant_rule rule)
{
    int oh = 2 * sh.h, ow = 2 * sh.w;
    for (int n = 0; n < sh.n; n++)
        for (int c = 0; c < sh.c; c++) {
            const int8_t *x = in + lpnas_shape_at(sh, n, c, 0, 0);
            int8_t *y = out + ((size_t)n * sh.c + c) * (size_t)oh * ow;
            if (bilinear && rule == LPNAS_REQUANT_ORT) {
                bilinear_ort(y, x, s, zp, sh.h, sh.w);
                continue;
            }
            for (int oy = 0; oy < oh; oy++) {
                int y0, y1, wy;
                tap(oy, sh.h, &y0, &y1, &wy);
                for (int ox = 0; ox < ow; ox++) {
                    if (!bilinear) {
                        y[(size_t)oy * ow + ox] = x[(size_t)(oy / 2) * sh.w + ox / 2];
                        continue;
                    }
                    int x0, x1, wx;
                    tap(ox, sh.w, &x0, &x1, &wx);
                    int32_t a = x[(size_t)y0 * sh.w + x0] - zp, b = x[(size_t)y0 * sh.w + x1] - zp;
                    int32_t cc = x[(size_t)y1 * sh.w + x0] - zp, d = x[(size_t)y1 * sh.w + x1] - zp;
                    int32_t v = (4 - wy) * ((4 - wx) * a + wx * b) + wy * ((4 - wx) * cc + wx * d);
                    int32_t q = lpnas_rdbpot(v, 4) + zp;
                    y[(size_t)oy * ow + ox] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
                }
            }
        }
}
