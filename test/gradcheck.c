#include "gradcheck.h"

#include <math.h>
#include <stdio.h>

lpnas_gradcheck_options lpnas_gradcheck_defaults(void)
{
    lpnas_gradcheck_options o = {1e-2, 2e-2, 1e-3, 0};
    return o;
}

size_t lpnas_gradcheck(const char *what, lpnas_loss_fn loss, void *ctx, float *x, const float *analytic,
                       size_t n, const lpnas_gradcheck_options *opt)
{
    lpnas_gradcheck_options o = opt ? *opt : lpnas_gradcheck_defaults();
    size_t stride = (o.max_checked && n > o.max_checked) ? n / o.max_checked : 1;
    size_t bad = 0;
    for (size_t i = 0; i < n; i += stride) {
        float saved = x[i];
        /* Step by an amount representable exactly around x so that
         * (x+h) - (x-h) is exactly 2h in float. */
        float hp = (float)(saved + o.h), hm = (float)(saved - o.h);
        x[i] = hp;
        double lp = loss(ctx);
        x[i] = hm;
        double lm = loss(ctx);
        x[i] = saved;
        double numeric = (lp - lm) / ((double)hp - (double)hm);
        double diff = fabs(numeric - (double)analytic[i]);
        if (diff > o.atol + o.rtol * fabs(numeric)) {
            if (bad < 10)
                fprintf(stderr, "%s: gradient[%zu]: analytic %.8g, finite difference %.8g\n", what, i,
                        (double)analytic[i], numeric);
            bad++;
        }
    }
    return bad;
}
