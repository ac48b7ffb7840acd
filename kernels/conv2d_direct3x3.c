/* FP32 direct convolution for the most common layer of our networks: 3x3,
 * stride 1, padding 1, dilation 1, one group (NCHW, any channel counts and
 * sizes). Replaces im2col + sgemm (+ col2im in backward), which for the
 * small channel counts we have spends about half its time copying: im2col
 * writes 9x the input, sgemm packs its operands again, col2im reads 9x the
 * input gradient.
 *
 *   forward   out[o][y][x]  = sum_{ci, ky, kx} w[o][ci][ky][kx] * xp[ci][y+ky][x+kx]
 *   din       din[c][y][x] += sum_{o, ky, kx}  w[o][c][2-ky][2-kx] * gp[o][y+ky][x+kx]
 *   dweight   dw[o][c][ky][kx] += sum_{y, x} g[o][y][x] * xp[c][y+ky][x+kx]
 *
 * xp and gp are copies of the input and of the output gradient with a
 * one-pixel zero border (one pass over each, in the workspace, rows
 * 64-byte aligned): the inner loops then have no padding tests. din is the forward kernel run on gp
 * with the weights transposed (ci <-> o) and flipped, adding into din.
 *
 * Register blocking: 4 output channels x 16 output pixels (8 vectors of 8
 * lanes) per step of the (ci, ky, kx) loop: 2 loads of the input row, 4
 * weight broadcasts, 8 multiplies and 8 adds. The weight gradient keeps 4
 * output channels x 3 kx taps x 16 lanes (2 x 3 x 2 vectors; 8 x 3 with
 * AVX-512) per (ci, ky) over all pixels.
 *
 * Summation order, the same on every path: each output sums its products in
 * the order ci, ky, kx, starting from +0 (acc = acc + w * x, the product
 * rounded, then the sum rounded: no fused multiply-add). A vector lane does
 * exactly the scalar operations of its output, so the vector blocks and the
 * scalar tails agree bit for bit. The weight gradient sums, per (o, c, ky,
 * kx) and per sample, 16 fixed lane partial sums (lane L takes columns
 * x = L (mod 16) of every row, rows in order), added in a fixed tree, then
 * the scalar tail columns, then into dw (see dw_block).
 *
 * One body written with GCC vector extensions (8 floats), compiled three
 * times: baseline (portable: two SSE2 halves), AVX2 and AVX-512 (the same 8
 * lanes, EVEX-encoded) by per-function target attributes;
 * -ffp-contract=off keeps all three free of fma, so they give the same bits
 * (tested). On AMD Zen separate multiply and add cost no throughput: they
 * issue to different pipes. */
#include <stdint.h>
#include <string.h>

#include "kernels/conv2d.h"

#define AI inline __attribute__((always_inline))

/* The helpers below pass 32-byte vectors by value; they are always inlined,
 * so the ABI note gcc gives for the baseline build (no AVX) does not apply. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64))); /* the AVX-512 forward only */
typedef int v16i __attribute__((vector_size(64)));

static AI v8 ld8(const float *p)
{
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static AI void st8(float *p, v8 v)
{
    memcpy(p, &v, sizeof v);
}

/* *p in every lane, as a shuffle of lane 0 (the other lanes are never
 * read): compilers turn it into one broadcast load, where an initializer
 * list {x, x, ...} became chains of lane inserts in gcc 12. */
static AI v8 splat8(const float *p)
{
    v8 v = {0.0f};
    memcpy(&v, p, sizeof *p);
#ifdef __clang__
    return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0);
#else
    const v8i zero = {0, 0, 0, 0, 0, 0, 0, 0};
    return __builtin_shuffle(v, zero);
#endif
}

static AI v16 ld16(const float *p)
{
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static AI void st16(float *p, v16 v)
{
    memcpy(p, &v, sizeof v);
}

static AI v16 splat16(const float *p)
{
    v16 v = {0.0f};
    memcpy(&v, p, sizeof *p);
#ifdef __clang__
    return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
#else
    const v16i zero = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    return __builtin_shuffle(v, zero);
#endif
}

static AI v8 zero8(void)
{
    v8 v = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    return v;
}

/* Fixed tree over the lanes. */
static AI float hsum8(v8 v)
{
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

bool lpnas_conv2d_direct3x3_applies(lpnas_shape in, int out_c, const lpnas_conv_params *p)
{
    (void)in, (void)out_c;
    return p->kh == 3 && p->kw == 3 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 1 && p->pad_w == 1 &&
           p->dil_h == 1 && p->dil_w == 1 && p->groups == 1;
}

/* The padded planes: H + 2 rows of row_stride(W) floats, a multiple of 16;
 * padded column 0 (the left zero) at float 15 of the row, so the image's
 * columns start on a 64-byte boundary when the workspace does (the tap
 * kx = 1 loads aligned vectors); pad_planes gets and the kernels use the
 * pointer to padded column 0 of row 0 (xp + 15). */
static AI size_t row_stride(int W)
{
    return ((size_t)W + 17 + 15) & ~(size_t)15;
}

/* Floats of the weight gradient's partial sums for C input channels (see dw_sample). */
#define DW_NB_MAX 8
#define DW_STATE(C) ((size_t)(C) * 3 * DW_NB_MAX * 3 * 17)

size_t lpnas_conv2d_direct3x3_workspace(lpnas_shape in, int out_c)
{
    size_t plane = (size_t)(in.h + 2) * row_stride(in.w);
    /* xp, gp, transposed weights, the weight gradient's partial sums */
    return (size_t)in.c * plane + (size_t)out_c * plane + (size_t)in.c * (size_t)out_c * 9 + DW_STATE(in.c) + 16;
}

/* One sample's C planes of H x W into H + 2 rows of W + 2 with a zero border. */
static AI void pad_planes(float *xp, const float *x, int C, int H, int W)
{
    size_t Wp = row_stride(W);
    for (int c = 0; c < C; c++) {
        float *d = xp + (size_t)c * (H + 2) * Wp;
        const float *s = x + (size_t)c * H * W;
        memset(d, 0, ((size_t)W + 2) * sizeof *d);
        for (int y = 0; y < H; y++) {
            float *r = d + (size_t)(y + 1) * Wp;
            r[0] = 0.0f;
            memcpy(r + 1, s + (size_t)y * W, (size_t)W * sizeof *r);
            r[W + 1] = 0.0f;
        }
        memset(d + (size_t)(H + 1) * Wp, 0, ((size_t)W + 2) * sizeof *d);
    }
}

/* NB output channels (w points at the first one's [ci = 0][0][0]; wstride
 * floats between channels) x PV vectors of 8 pixels at row y, column x. */
static AI void fwd_block(float *out, size_t ostride, const float *xp, size_t plane, size_t Wp, const float *w,
                         size_t wstride, int C, int NB, int PV, bool add)
{
    v8 acc[8][2];
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++)
            acc[j][v] = zero8();
    for (int ci = 0; ci < C; ci++) {
        const float *x0 = xp + (size_t)ci * plane;
        const float *wc = w + (size_t)ci * 9;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                const float *xr = x0 + (size_t)ky * Wp + kx;
                v8 xv[2];
                for (int v = 0; v < PV; v++)
                    xv[v] = ld8(xr + 8 * v);
                for (int j = 0; j < NB; j++) {
                    v8 wv = splat8(&wc[(size_t)j * wstride + ky * 3 + kx]);
                    for (int v = 0; v < PV; v++)
                        acc[j][v] = acc[j][v] + wv * xv[v];
                }
            }
    }
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++) {
            float *d = out + (size_t)j * ostride + 8 * v;
            st8(d, add ? ld8(d) + acc[j][v] : acc[j][v]);
        }
}

/* The same in 16 lanes (AVX-512 only): per lane the same operations, so
 * the same bits as fwd_block and fwd_pixel. */
static AI void fwd_block16(float *out, size_t ostride, const float *xp, size_t plane, size_t Wp, const float *w,
                           size_t wstride, int C, int NB, int PV, bool add)
{
    v16 acc[8][2];
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++)
            acc[j][v] = (v16){0.0f};
    for (int ci = 0; ci < C; ci++) {
        const float *x0 = xp + (size_t)ci * plane;
        const float *wc = w + (size_t)ci * 9;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                const float *xr = x0 + (size_t)ky * Wp + kx;
                v16 xv[2];
                for (int v = 0; v < PV; v++)
                    xv[v] = ld16(xr + 16 * v);
                for (int j = 0; j < NB; j++) {
                    v16 wv = splat16(&wc[(size_t)j * wstride + ky * 3 + kx]);
                    for (int v = 0; v < PV; v++)
                        acc[j][v] = acc[j][v] + wv * xv[v];
                }
            }
    }
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++) {
            float *d = out + (size_t)j * ostride + 16 * v;
            st16(d, add ? ld16(d) + acc[j][v] : acc[j][v]);
        }
}

/* The same for one pixel: the scalar operations of one vector lane. */
static AI void fwd_pixel(float *out, size_t ostride, const float *xp, size_t plane, size_t Wp, const float *w,
                         size_t wstride, int C, int NB, bool add)
{
    float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int ci = 0; ci < C; ci++) {
        const float *x0 = xp + (size_t)ci * plane;
        const float *wc = w + (size_t)ci * 9;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                float xv = x0[(size_t)ky * Wp + kx];
                for (int j = 0; j < NB; j++)
                    acc[j] = acc[j] + wc[(size_t)j * wstride + ky * 3 + kx] * xv;
            }
    }
    for (int j = 0; j < NB; j++)
        out[(size_t)j * ostride] = add ? out[(size_t)j * ostride] + acc[j] : acc[j];
}

/* One row of NB output channels. */
static AI void fwd_row(float *out, size_t ostride, const float *xrow, size_t plane, size_t Wp, const float *w,
                       size_t wstride, int C, int W, int NB, bool add, bool wide)
{
    int x = 0;
    if (wide) {
        for (; x + 32 <= W; x += 32)
            fwd_block16(out + x, ostride, xrow + x, plane, Wp, w, wstride, C, NB, 2, add);
        for (; x + 16 <= W; x += 16)
            fwd_block16(out + x, ostride, xrow + x, plane, Wp, w, wstride, C, NB, 1, add);
    }
    for (; x + 16 <= W; x += 16)
        fwd_block(out + x, ostride, xrow + x, plane, Wp, w, wstride, C, NB, 2, add);
    for (; x + 8 <= W; x += 8)
        fwd_block(out + x, ostride, xrow + x, plane, Wp, w, wstride, C, NB, 1, add);
    for (; x < W; x++)
        fwd_pixel(out + x, ostride, xrow + x, plane, Wp, w, wstride, C, NB, add);
}

/* out[O][H][W] (= or +=) the conv of the padded planes xp[C] with w[O][C][3][3]. */
/* wide (AVX-512): 16-lane blocks of 8 output channels, 32 registers. */
static AI void fwd_sample(float *out, const float *xp, const float *w, int C, int O, int H, int W, bool add,
                          bool wide)
{
    size_t Wp = row_stride(W), plane = (size_t)(H + 2) * Wp, P = (size_t)H * W, ws = (size_t)C * 9;
    for (int y = 0; y < H; y++) {
        const float *xrow = xp + (size_t)y * Wp;
        int o = 0;
        if (wide)
            for (; o + 8 <= O; o += 8)
                fwd_row(out + (size_t)o * P + (size_t)y * W, P, xrow, plane, Wp, w + (size_t)o * ws, ws, C, W, 8,
                        add, true);
        for (; o + 4 <= O; o += 4)
            fwd_row(out + (size_t)o * P + (size_t)y * W, P, xrow, plane, Wp, w + (size_t)o * ws, ws, C, W, 4, add,
                    wide);
        for (; o < O; o++)
            fwd_row(out + (size_t)o * P + (size_t)y * W, P, xrow, plane, Wp, w + (size_t)o * ws, ws, C, W, 1, add,
                    wide);
    }
}

/* The weight gradient sums, per (o, c, ky, kx) and per sample, 16 lane
 * partial sums: lane L takes the columns x = L (mod 16) below W8 = W & ~7,
 * rows in order; the columns from W8 on go to one scalar sum; at the end
 * dw += (tree(lanes 0..7) + tree(lanes 8..15)) + scalar.
 *
 * The rows are walked in bands (about 512 pixels), and all (c, ky) of an
 * output-channel block within a band, so that the band of the output
 * gradient stays in L1; the partial sums live in st (16 floats per (j, kx)
 * of each (c, ky)) and sst between bands. That changes no order: each lane
 * still adds its columns row after row.
 *
 * dw_band keeps the 16 sums as two 8-lane halves (lo: L = 0..7, hi: L =
 * 8..15); dw_band16 in one AVX-512 register, and adds the last 8-column
 * block (when W8 is 8 mod 16) into the low lanes with +-0 in the high ones,
 * which changes no partial sum (none is ever -0): the same bits. */
static AI void dw_band(float *st, float *sst, const float *g, size_t P, const float *xc, size_t Wp, int y0, int y1,
                       int W, int ky, int NB)
{
    v8 lo[4][3], hi[4][3];
    float sacc[4][3];
    for (int j = 0; j < NB; j++)
        for (int kx = 0; kx < 3; kx++) {
            lo[j][kx] = ld8(st + (j * 3 + kx) * 16), hi[j][kx] = ld8(st + (j * 3 + kx) * 16 + 8);
            sacc[j][kx] = sst[j * 3 + kx];
        }
    int W8 = W & ~7;
    for (int y = y0; y < y1; y++) {
        const float *xr = xc + (size_t)(y + ky) * Wp;
        const float *gr = g + (size_t)y * W;
        int x = 0;
        for (; x + 16 <= W8; x += 16) {
            v8 xv[3] = {ld8(xr + x), ld8(xr + x + 1), ld8(xr + x + 2)};
            for (int j = 0; j < NB; j++) {
                v8 gv = ld8(gr + (size_t)j * P + x);
                for (int kx = 0; kx < 3; kx++)
                    lo[j][kx] = lo[j][kx] + gv * xv[kx];
            }
            v8 xw[3] = {ld8(xr + x + 8), ld8(xr + x + 9), ld8(xr + x + 10)};
            for (int j = 0; j < NB; j++) {
                v8 gv = ld8(gr + (size_t)j * P + x + 8);
                for (int kx = 0; kx < 3; kx++)
                    hi[j][kx] = hi[j][kx] + gv * xw[kx];
            }
        }
        if (x < W8) {
            v8 xv[3] = {ld8(xr + x), ld8(xr + x + 1), ld8(xr + x + 2)};
            for (int j = 0; j < NB; j++) {
                v8 gv = ld8(gr + (size_t)j * P + x);
                for (int kx = 0; kx < 3; kx++)
                    lo[j][kx] = lo[j][kx] + gv * xv[kx];
            }
        }
        for (x = W8; x < W; x++)
            for (int j = 0; j < NB; j++)
                for (int kx = 0; kx < 3; kx++)
                    sacc[j][kx] = sacc[j][kx] + gr[(size_t)j * P + x] * xr[x + kx];
    }
    for (int j = 0; j < NB; j++)
        for (int kx = 0; kx < 3; kx++) {
            st8(st + (j * 3 + kx) * 16, lo[j][kx]), st8(st + (j * 3 + kx) * 16 + 8, hi[j][kx]);
            sst[j * 3 + kx] = sacc[j][kx];
        }
}

/* 8 floats at p in the low lanes, zeros in the high ones. */
static AI v16 ld8z16(const float *p)
{
    v16 v = {0.0f};
    memcpy(&v, p, 8 * sizeof *p);
    return v;
}

static AI void dw_band16(float *st, float *sst, const float *g, size_t P, const float *xc, size_t Wp, int y0, int y1,
                         int W, int ky, int NB)
{
    v16 acc[8][3];
    float sacc[8][3];
    for (int j = 0; j < NB; j++)
        for (int kx = 0; kx < 3; kx++)
            acc[j][kx] = ld16(st + (j * 3 + kx) * 16), sacc[j][kx] = sst[j * 3 + kx];
    int W8 = W & ~7;
    for (int y = y0; y < y1; y++) {
        const float *xr = xc + (size_t)(y + ky) * Wp;
        const float *gr = g + (size_t)y * W;
        int x = 0;
        for (; x + 16 <= W8; x += 16) {
            v16 xv[3] = {ld16(xr + x), ld16(xr + x + 1), ld16(xr + x + 2)};
            for (int j = 0; j < NB; j++) {
                v16 gv = ld16(gr + (size_t)j * P + x);
                for (int kx = 0; kx < 3; kx++)
                    acc[j][kx] = acc[j][kx] + gv * xv[kx];
            }
        }
        if (x < W8) {
            v16 xv[3] = {ld8z16(xr + x), ld8z16(xr + x + 1), ld8z16(xr + x + 2)};
            for (int j = 0; j < NB; j++) {
                v16 gv = ld8z16(gr + (size_t)j * P + x);
                for (int kx = 0; kx < 3; kx++)
                    acc[j][kx] = acc[j][kx] + gv * xv[kx];
            }
        }
        for (x = W8; x < W; x++)
            for (int j = 0; j < NB; j++)
                for (int kx = 0; kx < 3; kx++)
                    sacc[j][kx] = sacc[j][kx] + gr[(size_t)j * P + x] * xr[x + kx];
    }
    for (int j = 0; j < NB; j++)
        for (int kx = 0; kx < 3; kx++)
            st16(st + (j * 3 + kx) * 16, acc[j][kx]), sst[j * 3 + kx] = sacc[j][kx];
}

/* Blocks of output channels: 8 (wide) or 2, then one at a time. st: the
 * partial sums of one block, C * 3 * NB * 3 * 16 floats, then
 * C * 3 * NB * 3 scalar sums (DW_STATE floats at most). */
static AI void dw_sample(float *dw, const float *g, const float *xp, int C, int O, int H, int W, float *st, bool wide)
{
    size_t Wp = row_stride(W), plane = (size_t)(H + 2) * Wp, P = (size_t)H * W, ws = (size_t)C * 9;
    int band = W >= 512 ? 1 : 512 / W;
    int o = 0;
#define DW_BLOCKS(NB, FN)                                                                                             \
    for (; o + NB <= O; o += NB) {                                                                                    \
        size_t per = (size_t)NB * 3 * 16, nv = (size_t)C * 3 * per;                                                   \
        float *sst = st + nv;                                                                                         \
        memset(st, 0, (nv + (size_t)C * 3 * NB * 3) * sizeof *st);                                                    \
        for (int y0 = 0; y0 < H; y0 += band) {                                                                        \
            int y1 = y0 + band < H ? y0 + band : H;                                                                   \
            for (int c = 0; c < C; c++)                                                                               \
                for (int ky = 0; ky < 3; ky++)                                                                        \
                    FN(st + (size_t)(c * 3 + ky) * per, sst + (size_t)(c * 3 + ky) * NB * 3, g + (size_t)o * P, P,    \
                       xp + (size_t)c * plane, Wp, y0, y1, W, ky, NB);                                                \
        }                                                                                                             \
        for (int c = 0; c < C; c++)                                                                                   \
            for (int ky = 0; ky < 3; ky++)                                                                            \
                for (int j = 0; j < NB; j++)                                                                          \
                    for (int kx = 0; kx < 3; kx++) {                                                                  \
                        const float *l = st + (size_t)(c * 3 + ky) * per + (size_t)(j * 3 + kx) * 16;                 \
                        dw[(size_t)(o + j) * ws + (size_t)c * 9 + ky * 3 + kx] +=                                     \
                            (hsum8(ld8(l)) + hsum8(ld8(l + 8))) + sst[(size_t)(c * 3 + ky) * NB * 3 + j * 3 + kx];    \
                    }                                                                                                 \
    }
    if (wide) {
        DW_BLOCKS(8, dw_band16)
        DW_BLOCKS(1, dw_band16)
    } else {
        DW_BLOCKS(2, dw_band)
        DW_BLOCKS(1, dw_band)
    }
#undef DW_BLOCKS
}

/* The workspace rounded up to 64 bytes (the 16 floats of slack). */
static AI float *align64(float *p)
{
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

static AI void fwd_body(float *out, const float *in, const float *w, lpnas_shape s, int O, float *ws, bool wide)
{
    size_t P = (size_t)s.h * s.w;
    float *xp = align64(ws) + 15;
    for (int n = 0; n < s.n; n++) {
        pad_planes(xp, in + (size_t)n * s.c * P, s.c, s.h, s.w);
        fwd_sample(out + (size_t)n * O * P, xp, w, s.c, O, s.h, s.w, false, wide);
    }
}

static AI void bwd_body(float *din, float *dw, const float *dout, const float *in, const float *w, lpnas_shape s,
                        int O, float *ws, bool wide)
{
    size_t P = (size_t)s.h * s.w, plane = (size_t)(s.h + 2) * row_stride(s.w);
    float *xp = align64(ws), *gp = xp + (size_t)s.c * plane, *wt = gp + (size_t)O * plane;
    float *st = wt + (size_t)s.c * O * 9;
    if (din) /* wt[c][o][t] = w[o][c][8 - t]: din is the forward conv of gp with wt */
        for (int o = 0; o < O; o++)
            for (int c = 0; c < s.c; c++)
                for (int t = 0; t < 9; t++)
                    wt[((size_t)c * O + o) * 9 + t] = w[((size_t)o * s.c + c) * 9 + 8 - t];
    for (int n = 0; n < s.n; n++) {
        const float *g = dout + (size_t)n * O * P;
        pad_planes(xp + 15, in + (size_t)n * s.c * P, s.c, s.h, s.w);
        dw_sample(dw, g, xp + 15, s.c, O, s.h, s.w, st, wide);
        if (din) {
            pad_planes(gp + 15, g, O, s.h, s.w);
            fwd_sample(din + (size_t)n * s.c * P, gp + 15, wt, O, s.c, s.h, s.w, true, wide);
        }
    }
}

static void fwd_portable(float *out, const float *in, const float *w, lpnas_shape s, int O, float *ws)
{
    fwd_body(out, in, w, s, O, ws, false);
}

static void bwd_portable(float *din, float *dw, const float *dout, const float *in, const float *w, lpnas_shape s,
                         int O, float *ws)
{
    bwd_body(din, dw, dout, in, w, s, O, ws, false);
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define HAVE_X86_PATHS 1
__attribute__((target("avx2,fma"))) static void fwd_avx2(float *out, const float *in, const float *w, lpnas_shape s,
                                                         int O, float *ws)
{
    fwd_body(out, in, w, s, O, ws, false);
}

__attribute__((target("avx2,fma"))) static void bwd_avx2(float *din, float *dw, const float *dout, const float *in,
                                                         const float *w, lpnas_shape s, int O, float *ws)
{
    bwd_body(din, dw, dout, in, w, s, O, ws, false);
}

__attribute__((target("avx512f,avx2,fma"))) static void fwd_avx512(float *out, const float *in,
                                                                            const float *w, lpnas_shape s, int O,
                                                                            float *ws)
{
    fwd_body(out, in, w, s, O, ws, true);
}

__attribute__((target("avx512f,avx2,fma"))) static void bwd_avx512(float *din, float *dw,
                                                                            const float *dout, const float *in,
                                                                            const float *w, lpnas_shape s, int O,
                                                                            float *ws)
{
    bwd_body(din, dw, dout, in, w, s, O, ws, true);
}
#endif

void lpnas_conv2d_direct3x3_forward_isa(float *out, const float *in, const float *w, lpnas_shape s, int out_c,
                                        float *ws, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa == LPNAS_ISA_AVX512) {
        fwd_avx512(out, in, w, s, out_c, ws);
        return;
    }
    if (isa == LPNAS_ISA_AVX2) {
        fwd_avx2(out, in, w, s, out_c, ws);
        return;
    }
#endif
    fwd_portable(out, in, w, s, out_c, ws);
}

void lpnas_conv2d_direct3x3_backward_isa(float *din, float *dw, const float *dout, const float *in, const float *w,
                                         lpnas_shape s, int out_c, float *ws, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa == LPNAS_ISA_AVX512) {
        bwd_avx512(din, dw, dout, in, w, s, out_c, ws);
        return;
    }
    if (isa == LPNAS_ISA_AVX2) {
        bwd_avx2(din, dw, dout, in, w, s, out_c, ws);
        return;
    }
#endif
    bwd_portable(din, dw, dout, in, w, s, out_c, ws);
}
