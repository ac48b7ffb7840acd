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
