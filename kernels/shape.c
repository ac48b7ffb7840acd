#include "kernels/shape.h"

#include "base/error.h"

lpnas_status lpnas_shape_check(lpnas_shape s, const char *what)
{
    const int dims[4] = {s.n, s.c, s.h, s.w};
    const char *names[4] = {"batch", "channels", "height", "width"};
    for (int i = 0; i < 4; i++) {
        if (dims[i] < 1 || dims[i] > (1 << 24))
            return lpnas_fail(LPNAS_ERR_ARG, "%s: %s is %d (must be 1..%d)", what, names[i], dims[i],
                              1 << 24);
    }
    if ((double)s.n * s.c * s.h * s.w >= 0x1p40)
        return lpnas_fail(LPNAS_ERR_ARG, "%s: %dx%dx%dx%d elements is too large", what, s.n, s.c, s.h,
                          s.w);
    return LPNAS_OK;
}

void lpnas_bias_grad_add(float *dbias, const float *dout, lpnas_shape o)
{
    size_t P = (size_t)o.h * o.w;
    for (int n = 0; n < o.n; n++)
        for (int c = 0; c < o.c; c++) {
            const float *g = dout + lpnas_shape_at(o, n, c, 0, 0);
            double acc = 0;
            for (size_t i = 0; i < P; i++)
                acc += g[i];
            dbias[c] += (float)acc;
        }
}
