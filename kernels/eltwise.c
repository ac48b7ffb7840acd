#include "kernels/eltwise.h"

#include <string.h>

#include "base/error.h"

void lpnas_add_forward(float *out, const float *a, const float *b, size_t n, const lpnas_policy *policy)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
    lpnas_policy_round(policy, out, n);
}

void lpnas_add_backward(float *da, float *db, const float *dout, size_t n, const lpnas_policy *policy)
{
    float *d[2] = {da, db};
    for (int k = 0; k < 2; k++) {
        if (!d[k])
            continue;
        for (size_t i = 0; i < n; i++)
            d[k][i] += dout[i];
        lpnas_policy_round(policy, d[k], n);
    }
}

lpnas_status lpnas_concat_check(lpnas_shape a, lpnas_shape b, lpnas_shape *out)
{
    lpnas_status st = lpnas_shape_check(a, "concat first input");
    if (st || (st = lpnas_shape_check(b, "concat second input")))
        return st;
    if (a.n != b.n || a.h != b.h || a.w != b.w)
        return lpnas_fail(LPNAS_ERR_ARG, "concat: inputs %dx%dx%dx%d and %dx%dx%dx%d differ outside the channels", a.n,
                          a.c, a.h, a.w, b.n, b.c, b.h, b.w);
    lpnas_shape o = {a.n, a.c + b.c, a.h, a.w};
    if (out)
        *out = o;
    return LPNAS_OK;
}

void lpnas_concat_forward(float *out, const float *a, const float *b, lpnas_shape sa, lpnas_shape sb)
{
    size_t pa = (size_t)sa.c * sa.h * sa.w, pb = (size_t)sb.c * sb.h * sb.w;
    for (int n = 0; n < sa.n; n++) {
        memcpy(out + (size_t)n * (pa + pb), a + (size_t)n * pa, pa * sizeof *out);
        memcpy(out + (size_t)n * (pa + pb) + pa, b + (size_t)n * pb, pb * sizeof *out);
    }
}

void lpnas_concat_backward(float *da, float *db, const float *dout, lpnas_shape sa, lpnas_shape sb)
{
    size_t pa = (size_t)sa.c * sa.h * sa.w, pb = (size_t)sb.c * sb.h * sb.w;
    for (int n = 0; n < sa.n; n++) {
        const float *g = dout + (size_t)n * (pa + pb);
        if (da)
            for (size_t i = 0; i < pa; i++)
                da[(size_t)n * pa + i] += g[i];
        if (db)
            for (size_t i = 0; i < pb; i++)
                db[(size_t)n * pb + i] += g[pa + i];
    }
}
