/* Conv forward with every partial sum rounded to binary16 (the
 * myriadx-fp16acc policy), bit-exact with a sequential loop of
 * lpnas_f16_fma in the order of conv2d.h: bias, then ci, ky, kx.
 *
 * Paths, by lpnas_cpu_isa() (LPNAS_ISA caps it), all giving the same bits:
 *   AVX2 + FMA + F16C: conv2d_f16acc_avx2.c -- each step in binary32 lanes,
 *     rounded to odd (the odd one of the sum rounded down and rounded up;
 *     MXCSR.RC = round down in the block loops) and then to binary16 by the
 *     CPU's conversion, which is one correct rounding; no branch on the
 *     data; 8 adjacent output pixels per vector, 12 chains in flight, for
 *     every dense, grouped and depthwise conv;
 *   AVX-512F: the same with 16 pixels per vector, 16 chains, the directed
 *     roundings embedded in the fmas;
 *   AVX512-FP16: the chain itself in binary16 arithmetic (vfmadd231ph is
 *     one step, RN16(w * x + acc)), 32 pixels per vector, 16 chains;
 *   portable, and chains that could overflow binary16 (the kernel's bound
 *     test fails): the scalar lpnas_f16_fma loop below. */
#include "kernels/conv2d.h"

#include <string.h>

#include "fp16/f16_array.h"

static inline uint16_t h_of(float v)
{
    return lpnas_f16_from_f32(v, LPNAS_RNE, NULL).bits;
}

static void scalar_path(float *out, const float *in, const float *weight, const float *bias, lpnas_shape s,
                        lpnas_shape o, const lpnas_conv_params *p)
{
    int cg = s.c / p->groups, og = o.c / p->groups;
    for (int n = 0; n < s.n; n++)
        for (int oc = 0; oc < o.c; oc++) {
            int g = oc / og;
            const float *wk = weight + (size_t)oc * cg * p->kh * p->kw;
            lpnas_f16 b = {h_of(bias ? bias[oc] : 0.0f)};
            for (int oy = 0; oy < o.h; oy++)
                for (int ox = 0; ox < o.w; ox++) {
                    lpnas_f16 acc = b;
                    for (int ci = 0; ci < cg; ci++) {
                        const float *plane = in + lpnas_shape_at(s, n, g * cg + ci, 0, 0);
                        for (int ky = 0; ky < p->kh; ky++) {
                            int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                            if (iy < 0 || iy >= s.h)
                                continue;
                            for (int kx = 0; kx < p->kw; kx++) {
                                int ix = ox * p->stride_w - p->pad_w + kx * p->dil_w;
                                if (ix < 0 || ix >= s.w)
                                    continue;
                                lpnas_f16 w = {h_of(wk[(ci * p->kh + ky) * p->kw + kx])};
                                lpnas_f16 x = {h_of(plane[(size_t)iy * s.w + ix])};
                                acc = lpnas_f16_fma(w, x, acc, LPNAS_RNE, NULL);
                            }
                        }
                    }
                    out[lpnas_shape_at(o, n, oc, oy, ox)] = lpnas_f16_to_f32(acc);
                }
        }
}

void lpnas_conv2d_forward_f16acc_isa(float *out, const float *in, const float *weight, const float *bias,
                                     lpnas_shape s, int out_c, const lpnas_conv_params *p, lpnas_act act,
                                     const lpnas_policy *policy, float *ws, lpnas_isa isa)
{
    lpnas_shape o = {0, 0, 0, 0};
    lpnas_conv2d_check(s, out_c, p, &o);
    bool done = false;
    isa = lpnas_cpu_isa_clamp(isa);
    if (!done && isa >= LPNAS_ISA_AVX2)
        done = lpnas_conv2d_f16acc_avx2(out, in, weight, bias, s, o, p, ws, isa);
    if (!done)
        scalar_path(out, in, weight, bias, s, o, p);
    size_t P = (size_t)o.h * o.w;
    for (int n = 0; n < o.n; n++)
        for (int c = 0; c < o.c; c++)
            lpnas_act_apply_array(act, out + lpnas_shape_at(o, n, c, 0, 0), P);
    lpnas_policy_round(policy, out, lpnas_shape_numel(o)); /* flush rule; values are already binary16 */
}

void lpnas_conv2d_forward_f16acc(float *out, const float *in, const float *weight, const float *bias,
                                 lpnas_shape s, int out_c, const lpnas_conv_params *p, lpnas_act act,
                                 const lpnas_policy *policy, float *ws)
{
    lpnas_conv2d_forward_f16acc_isa(out, in, weight, bias, s, out_c, p, act, policy, ws, lpnas_cpu_isa());
}
