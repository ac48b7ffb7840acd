/* Integer x2 upsampling. Nearest copies codes. Bilinear with half-pixel
 * centres and edge clamping (the float kernel's taps): for factor 2 each
 * axis weight is 0, 1/4 or 3/4, so with (x - zp) and weights in quarters
 * the interpolated value times 16 is an exact integer sum, divided by 16
 * rounding half away from zero (RoundingDivideByPOT). Scale and zero point
 * are the input's, as TFLite's ResizeBilinear keeps them. */
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

void lpnas_upsample_int_forward(int8_t *out, const int8_t *in, int32_t zp, lpnas_shape s, int bilinear)
{
    int oh = 2 * s.h, ow = 2 * s.w;
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const int8_t *x = in + lpnas_shape_at(s, n, c, 0, 0);
            int8_t *y = out + ((size_t)n * s.c + c) * (size_t)oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                int y0, y1, wy;
                tap(oy, s.h, &y0, &y1, &wy);
                for (int ox = 0; ox < ow; ox++) {
                    if (!bilinear) {
                        y[(size_t)oy * ow + ox] = x[(size_t)(oy / 2) * s.w + ox / 2];
                        continue;
                    }
                    int x0, x1, wx;
                    tap(ox, s.w, &x0, &x1, &wx);
                    int32_t a = x[(size_t)y0 * s.w + x0] - zp, b = x[(size_t)y0 * s.w + x1] - zp;
                    int32_t cc = x[(size_t)y1 * s.w + x0] - zp, d = x[(size_t)y1 * s.w + x1] - zp;
                    int32_t v = (4 - wy) * ((4 - wx) * a + wx * b) + wy * ((4 - wx) * cc + wx * d);
                    int32_t q = lpnas_rdbpot(v, 4) + zp;
                    y[(size_t)oy * ow + ox] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
                }
            }
        }
}
