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
 * weight broadcasts (loads), 8 multiplies and 8 adds; the weights packed
 * per block first (pack_weights) so that one pointer walks them. The tap
 * loop stays rolled: gcc 12 unrolled it into a schedule that loaded all 36
 * weights of an input channel up front and spilled the accumulators. The
 * weight gradient keeps 4 output channels x 3 kx taps (12 accumulators, 3
 * input vectors and the gradient's: all 16 AVX2 registers; 3 loads of the
 * input, 4 of the gradient per 12 multiplies and 12 adds; 1.07x over 3
 * channels) per (ci, ky) over a band of rows, once for lanes 0..7 of its 16
 * lane partial sums and once for lanes 8..15; with AVX-512 8 output
 * channels x 3 taps x 16 lanes (24 of its 32 registers), each output
 * gradient vector loaded once into a register: left to itself gcc 12 folded
 * it into the 3 multiplies as a memory operand, 3 loads where 1 does, and
 * the loads bounded the loop (1.1-1.2x for the whole backward in a
 * same-process A/B; on AVX2 keeping it in a register gave nothing).
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

/* gcc 12 folds a vector used by several multiplies into each as a memory
 * operand (a load per use); an empty asm that "changes" it keeps it in a
 * register. clang checks the constraint against the enclosing function's
 * own target (not the AVX-512 caller it is inlined into) and rejects it; it
 * does not fold such loads to begin with (checked with clang 14). Only when
 * optimizing: at -O0 the portable instances keep the (dead) AVX-512 calls,
 * where the constraint cannot be met. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#define IN_REGISTER(v) __asm__("" : "+v"(v))
#else
#define IN_REGISTER(v) ((void)0)
#endif

/* The helpers below pass 32-byte vectors by value; they are always inlined,
 * so the ABI note gcc and clang give for the baseline build (no AVX) does
 * not apply. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64))); /* the AVX-512 forward only */

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

/* 8 floats at p in the low lanes, zeros in the high ones: one 32-byte load
 * (a VEX/EVEX load clears the upper lanes) where a memcpy into a zeroed
 * v16 went through the stack in gcc 12. */
static AI v16 ld8z16(const float *p)
{
#if defined(__clang__) || __GNUC__ >= 12
    return __builtin_shufflevector(ld8(p), zero8(), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#else
    v16 v = {0.0f};
    memcpy(&v, p, 8 * sizeof *p);
    return v;
#endif
}

bool lpnas_conv2d_direct3x3_applies(lpnas_shape in, int out_c, const lpnas_conv_params *p)
{
    (void)in, (void)out_c;
    return p->kh == 3 && p->kw == 3 && p->stride_h == p->stride_w && (p->stride_h == 1 || p->stride_h == 2) &&
           p->pad_h == 1 && p->pad_w == 1 && p->dil_h == 1 && p->dil_w == 1 && p->groups == 1;
}

/* ---- layouts ------------------------------------------------------------
 * A padded plane: rows of rs floats, rs a multiple of 16, column 0 of a row
 * at float 15 (so column 1, the image's first, starts a 64-byte line when
 * the workspace does); the kernels get the pointer to column 0 of row 0.
 *
 * Stride 1: the input (and, for din, the output gradient) with a one-pixel
 * zero border: H + 2 rows of W + 2 columns, row_stride(W + 2).
 * Stride 2: the padded input split by column parity (polyphase), so that
 * every tap reads contiguous columns: per channel H + 2 rows of the even
 * columns 0, 2, ... (OW + 1 of them) and then H + 2 rows of the odd columns
 * 1, 3, ... (OW): output column x, tap kx = 0, 1, 2 reads even[x], odd[x],
 * even[x + 1]. */
static AI size_t row_stride(int cols)
{
    return ((size_t)cols + 15 + 15) & ~(size_t)15;
}

static AI int out_size(int in, int stride)
{
    return stride == 1 ? in : (in - 1) / 2 + 1;
}

/* Floats of one channel's padded plane(s). */
static AI size_t plane_floats(int H, int W, int stride)
{
    if (stride == 1)
        return (size_t)(H + 2) * row_stride(W + 2);
    return 2 * (size_t)(H + 2) * row_stride(out_size(W, 2) + 1);
}

/* Floats of the weight gradient's partial sums for C input channels (see dw_sample). */
#define DW_NB_MAX 8
#define DW_STATE(C) ((size_t)(C) * 3 * DW_NB_MAX * 3 * 17)

size_t lpnas_conv2d_direct3x3_workspace(lpnas_shape in, int out_c, int stride)
{
    int OH = out_size(in.h, stride), OW = out_size(in.w, stride);
    size_t xp = (size_t)in.c * plane_floats(in.h, in.w, stride);
    /* the output gradient padded for din: stride 1 as the input; stride 2
     * with one zero row and column before and after */
    size_t gp = (size_t)out_c * (size_t)(OH + 2) * row_stride(OW + 2);
    /* stride 2: din's four phase planes, (H + 3) / 2 x (W + 3) / 2 each */
    size_t ph = stride == 2 ? (size_t)in.c * 4 * (size_t)((in.h + 3) / 2) * (size_t)((in.w + 3) / 2) : 0;
    return xp + gp + ph + (size_t)in.c * (size_t)out_c * 9 + DW_STATE(in.c) + 16;
}

/* The workspace rounded up to 64 bytes (the 16 floats of slack). */
static AI float *align64(float *p)
{
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* Padded value (r, c) of an H x W plane, border zero. */
static AI float padded_at(const float *x, int H, int W, int r, int c)
{
    return r >= 1 && r <= H && c >= 1 && c <= W ? x[(size_t)(r - 1) * W + (c - 1)] : 0.0f;
}

/* One sample's C planes of H x W into the stride-1 layout (dst: column 0 of row 0). */
static AI void pad_planes(float *dst, const float *x, int C, int H, int W)
{
    size_t rs = row_stride(W + 2);
    for (int c = 0; c < C; c++) {
        float *d = dst + (size_t)c * (H + 2) * rs;
        const float *s = x + (size_t)c * H * W;
        memset(d, 0, ((size_t)W + 2) * sizeof *d);
        for (int y = 0; y < H; y++) {
            float *r = d + (size_t)(y + 1) * rs;
            r[0] = 0.0f;
            memcpy(r + 1, s + (size_t)y * W, (size_t)W * sizeof *r);
            r[W + 1] = 0.0f;
        }
        memset(d + (size_t)(H + 1) * rs, 0, ((size_t)W + 2) * sizeof *d);
    }
}

/* ... and into the stride-2 polyphase layout. */
static AI void split_planes(float *dst, const float *x, int C, int H, int W)
{
    int OW = out_size(W, 2);
    size_t rs = row_stride(OW + 1), half = (size_t)(H + 2) * rs;
    for (int c = 0; c < C; c++) {
        float *e = dst + (size_t)c * 2 * half, *o = e + half;
        const float *s = x + (size_t)c * H * W;
        for (int r = 0; r < H + 2; r++) {
            for (int j = 0; j <= OW; j++)
                e[(size_t)r * rs + j] = padded_at(s, H, W, r, 2 * j);
            for (int j = 0; j < OW; j++)
                o[(size_t)r * rs + j] = padded_at(s, H, W, r, 2 * j + 1);
        }
    }
}

/* ---- the forward kernel -----------------------------------------------------
 * A list of taps: for tap t, the input value of output pixel x is at
 * row + off[t] + x in each input channel's plane, its weight at wi[t].
 * A regular list (the forward and the stride-1 din) has the 9 taps of a
 * 3x3 kernel in the order ky, kx with weights wi[t] = t: the blocks then
 * step the weight pointer instead of reading wi[] (same taps, same order). */
typedef struct {
    ptrdiff_t off[9];
    int wi[9];
    int n;
    bool regular;
} tap_list;

/* The weights packed per block of NB output channels (oc_block: 8 with
 * AVX-512, then 4, then 1): the block of channels o..o+NB-1 at
 * wp + o * C * 9, holding for each input channel ci and tap t (= ky * 3 +
 * kx) the NB weights side by side, wp[o * C * 9 + (ci * 9 + t) * NB + j]
 * = w(o + j, ci, t). One pointer then reaches every weight of a block by a
 * constant displacement (the unpacked weights, NB channels C * 9 floats
 * apart, took gcc 12 a register or a stack slot per channel and tap).
 * Packing only moves floats: the same products and sums as before. src(o,
 * ci, t) is the weight at src[o * os + ci * cs + (flip ? 8 - t : t)]: the
 * forward's w[o][ci][t] (os = C * 9, cs = 9), or din's transposed and
 * flipped weights (output channel o of din's conv is input channel o of the
 * layer: os = 9, cs = C_layer * 9). */
/* The output-channel block starting at o of O: the one rule of
 * pack_weights and fwd_conv. */
static AI int oc_block(int o, int O, bool wide)
{
    return wide && o + 8 <= O ? 8 : o + 4 <= O ? 4 : 1;
}

static AI void pack_weights(float *wp, const float *src, size_t os, size_t cs, bool flip, int O, int C, bool wide)
{
    int o = 0;
    while (o < O) {
        int NB = oc_block(o, O, wide);
        float *d = wp + (size_t)o * C * 9;
        for (int ci = 0; ci < C; ci++)
            for (int t = 0; t < 9; t++)
                for (int j = 0; j < NB; j++)
                    d[((size_t)ci * 9 + t) * NB + j] = src[(size_t)(o + j) * os + (size_t)ci * cs + (flip ? 8 - t : t)];
        o += NB;
    }
}

/* One tap of a block: PV vectors of input pixels at xr, the NB weights of
 * the tap at w; acc = acc + w * x, each product rounded and then the sum.
 * The weight multiplies as a scalar (vector op scalar): compilers load it
 * with one broadcast from memory, where a shuffle of a lane-0 vector became
 * a scalar load, a move and a register broadcast (gcc 12). The lanes get
 * the same product either way. */
static AI void fwd_tap(v8 acc[8][2], const float *xr, const float *w, int NB, int PV)
{
    v8 xv[2];
    for (int v = 0; v < PV; v++)
        xv[v] = ld8(xr + 8 * v);
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++)
            acc[j][v] = acc[j][v] + w[j] * xv[v];
}

static AI void fwd_tap16(v16 acc[8][2], const float *xr, const float *w, int NB, int PV)
{
    v16 xv[2];
    for (int v = 0; v < PV; v++)
        xv[v] = ld16(xr + 16 * v);
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++)
            acc[j][v] = acc[j][v] + w[j] * xv[v];
}

/* NB output channels (wp: their packed weights) x PV vectors of 8 pixels. */
static AI void fwd_block(float *out, size_t ostride, const float *row, size_t plane, const tap_list *tl,
                         const float *wp, int C, int NB, int PV, bool add)
{
    v8 acc[8][2];
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++)
            acc[j][v] = zero8();
    for (int ci = 0; ci < C; ci++) {
        const float *x0 = row + (size_t)ci * plane;
        const float *wc = wp + (size_t)ci * 9 * NB;
        if (tl->regular) {
#pragma GCC unroll 1
            for (int t = 0; t < 9; t++)
                fwd_tap(acc, x0 + tl->off[t], wc + t * NB, NB, PV);
        } else {
            for (int t = 0; t < tl->n; t++)
                fwd_tap(acc, x0 + tl->off[t], wc + tl->wi[t] * NB, NB, PV);
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
static AI void fwd_block16(float *out, size_t ostride, const float *row, size_t plane, const tap_list *tl,
                           const float *wp, int C, int NB, int PV, bool add)
{
    v16 acc[8][2];
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++)
            acc[j][v] = (v16){0.0f};
    for (int ci = 0; ci < C; ci++) {
        const float *x0 = row + (size_t)ci * plane;
        const float *wc = wp + (size_t)ci * 9 * NB;
        if (tl->regular) {
#pragma GCC unroll 1
            for (int t = 0; t < 9; t++)
                fwd_tap16(acc, x0 + tl->off[t], wc + t * NB, NB, PV);
        } else {
            for (int t = 0; t < tl->n; t++)
                fwd_tap16(acc, x0 + tl->off[t], wc + tl->wi[t] * NB, NB, PV);
        }
    }
    for (int j = 0; j < NB; j++)
        for (int v = 0; v < PV; v++) {
            float *d = out + (size_t)j * ostride + 16 * v;
            st16(d, add ? ld16(d) + acc[j][v] : acc[j][v]);
        }
}

/* One pixel: the scalar operations of one vector lane. */
static AI void fwd_pixel(float *out, size_t ostride, const float *row, size_t plane, const tap_list *tl,
                         const float *wp, int C, int NB, bool add)
{
    float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int ci = 0; ci < C; ci++) {
        const float *x0 = row + (size_t)ci * plane;
        const float *wc = wp + (size_t)ci * 9 * NB;
        for (int t = 0; t < tl->n; t++) {
            float xv = x0[tl->off[t]];
            for (int j = 0; j < NB; j++)
                acc[j] = acc[j] + wc[tl->wi[t] * NB + j] * xv;
        }
    }
    for (int j = 0; j < NB; j++)
        out[(size_t)j * ostride] = add ? out[(size_t)j * ostride] + acc[j] : acc[j];
}

static AI void fwd_row(float *out, size_t ostride, const float *row, size_t plane, const tap_list *tl,
                       const float *wp, int C, int W, int NB, bool add, bool wide)
{
    int x = 0;
    if (wide) {
        for (; x + 32 <= W; x += 32)
            fwd_block16(out + x, ostride, row + x, plane, tl, wp, C, NB, 2, add);
        for (; x + 16 <= W; x += 16)
            fwd_block16(out + x, ostride, row + x, plane, tl, wp, C, NB, 1, add);
    }
    for (; x + 16 <= W; x += 16)
        fwd_block(out + x, ostride, row + x, plane, tl, wp, C, NB, 2, add);
    for (; x + 8 <= W; x += 8)
        fwd_block(out + x, ostride, row + x, plane, tl, wp, C, NB, 1, add);
    for (; x < W; x++)
        fwd_pixel(out + x, ostride, row + x, plane, tl, wp, C, NB, add);
}

/* out[O][OH][OW] (= or +=) sum over C input planes (plane floats apart;
 * output row y at in + y * rowstep) and the taps; wp: the weights packed
 * by pack_weights with the same wide. wide (AVX-512): 16-lane blocks of 8
 * output channels, 32 registers. */
static AI void fwd_conv(float *out, int O, int OH, int OW, const float *in, size_t rowstep, size_t plane, int C,
                        const tap_list *tl, const float *wp, bool add, bool wide)
{
    size_t P = (size_t)OH * OW, WB = (size_t)C * 9;
    for (int y = 0; y < OH; y++) {
        const float *row = in + (size_t)y * rowstep;
        float *dst = out + (size_t)y * OW;
        for (int o = 0, NB; o < O; o += NB) { /* NB a constant in each call below */
            NB = oc_block(o, O, wide);
            float *d = dst + (size_t)o * P;
            if (NB == 8)
                fwd_row(d, P, row, plane, tl, wp + o * WB, C, OW, 8, add, true);
            else if (NB == 4)
                fwd_row(d, P, row, plane, tl, wp + o * WB, C, OW, 4, add, wide);
            else
                fwd_row(d, P, row, plane, tl, wp + o * WB, C, OW, 1, add, wide);
        }
    }
}

/* The 9 taps in the order ky, kx, weights w[ky][kx]. */
static AI tap_list taps_s1(size_t rs)
{
    tap_list t;
    t.n = 9, t.regular = true;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            t.off[ky * 3 + kx] = (ptrdiff_t)(ky * rs + kx), t.wi[ky * 3 + kx] = ky * 3 + kx;
    return t;
}

static AI tap_list taps_s2(size_t rs, size_t half)
{
    tap_list t;
    t.n = 9, t.regular = true;
    for (int ky = 0; ky < 3; ky++) {
        t.off[ky * 3 + 0] = (ptrdiff_t)(ky * rs);
        t.off[ky * 3 + 1] = (ptrdiff_t)(half + ky * rs);
        t.off[ky * 3 + 2] = (ptrdiff_t)(ky * rs + 1);
        for (int kx = 0; kx < 3; kx++)
            t.wi[ky * 3 + kx] = ky * 3 + kx;
    }
    return t;
}

/* ---- the weight gradient ----------------------------------------------------
 * Per (o, c, ky, kx) and per sample, 16 lane partial sums: lane L takes the
 * output columns x = L (mod 16) below W8 = OW & ~7, rows in order; the
 * columns from W8 on go to one scalar sum; at the end
 * dw += (tree(lanes 0..7) + tree(lanes 8..15)) + scalar.
 *
 * The rows are walked in bands (about 512 pixels), and all (c, ky) of an
 * output-channel block within a band, so that the band of the output
 * gradient stays in L1; the partial sums live in st (16 floats per (j, kx)
 * of each (c, ky)) and sst between bands. That changes no order: each lane
 * still adds its columns row after row.
 *
 * dw_band walks the band twice, for lanes L = 0..7 and then L = 8..15: the
 * two halves never meet before the final tree, and 9 accumulators leave
 * registers for the operands (two halves at once spilled or re-read the
 * input from memory). dw_band16 keeps the 16 lanes in one AVX-512 register,
 * and adds the last 8-column block (when W8 is 8 mod 16) into the low lanes
 * with +-0 in the high ones, which changes no partial sum (none is ever
 * -0): the same bits. The scalar tail (dw_tail) is a pass of its own, which
 * keeps the vector loops' registers free.
 * Tap kx of output pixel (y, x) reads xc[y * rowstep + off[kx] + x]. */
/* The columns from W8 on, into the scalar sums: rows in order, then columns. */
static AI void dw_tail(float *sst, const float *g, size_t P, int W, int W8, const float *xc, size_t rowstep,
                       const ptrdiff_t *off, int y0, int y1, int NB)
{
    if (W8 == W)
        return;
    float sacc[DW_NB_MAX][3];
    for (int j = 0; j < NB; j++)
        for (int kx = 0; kx < 3; kx++)
            sacc[j][kx] = sst[j * 3 + kx];
    for (int y = y0; y < y1; y++) {
        const float *xr = xc + (size_t)y * rowstep;
        const float *gr = g + (size_t)y * W;
        for (int x = W8; x < W; x++)
            for (int j = 0; j < NB; j++)
                for (int kx = 0; kx < 3; kx++)
                    sacc[j][kx] = sacc[j][kx] + gr[(size_t)j * P + x] * xr[off[kx] + x];
    }
    for (int j = 0; j < NB; j++)
        for (int kx = 0; kx < 3; kx++)
            sst[j * 3 + kx] = sacc[j][kx];
}

static AI void dw_band(float *st, float *sst, const float *g, size_t P, int W, const float *xc, size_t rowstep,
                       const ptrdiff_t *off, int y0, int y1, int NB)
{
    int W8 = W & ~7;
    /* h = 0: lanes 0..7 (columns 16 k .. 16 k + 7); h = 8: lanes 8..15 */
    for (int h = 0; h < 16 && h < W8; h += 8) {
        v8 acc[DW_NB_MAX][3];
        for (int j = 0; j < NB; j++)
            for (int kx = 0; kx < 3; kx++)
                acc[j][kx] = ld8(st + (j * 3 + kx) * 16 + h);
        for (int y = y0; y < y1; y++) {
            const float *xr = xc + (size_t)y * rowstep;
            const float *gr = g + (size_t)y * W;
            for (int x = h; x + 8 <= W8; x += 16) {
                v8 xv[3] = {ld8(xr + off[0] + x), ld8(xr + off[1] + x), ld8(xr + off[2] + x)};
                for (int j = 0; j < NB; j++) {
                    v8 gv = ld8(gr + (size_t)j * P + x);
                    for (int kx = 0; kx < 3; kx++)
                        acc[j][kx] = acc[j][kx] + gv * xv[kx];
                }
            }
        }
        for (int j = 0; j < NB; j++)
            for (int kx = 0; kx < 3; kx++)
                st8(st + (j * 3 + kx) * 16 + h, acc[j][kx]);
    }
    dw_tail(sst, g, P, W, W8, xc, rowstep, off, y0, y1, NB);
}

static AI void dw_band16(float *st, float *sst, const float *g, size_t P, int W, const float *xc, size_t rowstep,
                         const ptrdiff_t *off, int y0, int y1, int NB)
{
    int W8 = W & ~7, W16 = W & ~15;
    v16 acc[DW_NB_MAX][3];
    for (int j = 0; j < NB; j++)
        for (int kx = 0; kx < 3; kx++)
            acc[j][kx] = ld16(st + (j * 3 + kx) * 16);
    for (int y = y0; y < y1; y++) {
        const float *xr = xc + (size_t)y * rowstep;
        const float *gr = g + (size_t)y * W;
        for (int x = 0; x < W16; x += 16) {
            v16 xv[3] = {ld16(xr + off[0] + x), ld16(xr + off[1] + x), ld16(xr + off[2] + x)};
            for (int j = 0; j < NB; j++) {
                v16 gv = ld16(gr + (size_t)j * P + x);
                IN_REGISTER(gv);
                for (int kx = 0; kx < 3; kx++)
                    acc[j][kx] = acc[j][kx] + gv * xv[kx];
            }
        }
        if (W16 < W8) {
            v16 xv[3] = {ld8z16(xr + off[0] + W16), ld8z16(xr + off[1] + W16), ld8z16(xr + off[2] + W16)};
            for (int j = 0; j < NB; j++) {
                v16 gv = ld8z16(gr + (size_t)j * P + W16);
                for (int kx = 0; kx < 3; kx++)
                    acc[j][kx] = acc[j][kx] + gv * xv[kx];
            }
        }
    }
    for (int j = 0; j < NB; j++)
        for (int kx = 0; kx < 3; kx++)
            st16(st + (j * 3 + kx) * 16, acc[j][kx]);
    dw_tail(sst, g, P, W, W8, xc, rowstep, off, y0, y1, NB);
}

/* dw[O][C][3][3] += one sample: g[O][OH][OW], the input planes xp (plane
 * floats apart), tap (ky, kx) of output row y at xp + y * rowstep +
 * tl->off[ky * 3 + kx]. Blocks of output channels: 8, 4, 2, 1 (wide),
 * 4, 3, 2, 1 (avx2) or 2, 1 (portable: SSE2 has half the registers). st:
 * the partial sums of one block, C * 3 * NB * 3 * 16 floats, then
 * C * 3 * NB * 3 scalar sums (DW_STATE floats at most). */
static AI void dw_sample(float *dw, const float *g, int O, int OH, int OW, const float *xp, size_t rowstep,
                         size_t plane, int C, const tap_list *tl, float *st, bool wide, bool avx2)
{
    size_t P = (size_t)OH * OW, ws = (size_t)C * 9;
    int band = OW >= 512 ? 1 : 512 / OW;
    int o = 0;
#define DW_BLOCKS(NB, FN)                                                                                             \
    for (; o + NB <= O; o += NB) {                                                                                    \
        size_t per = (size_t)NB * 3 * 16, nv = (size_t)C * 3 * per;                                                   \
        float *sst = st + nv;                                                                                         \
        memset(st, 0, (nv + (size_t)C * 3 * NB * 3) * sizeof *st);                                                    \
        for (int y0 = 0; y0 < OH; y0 += band) {                                                                       \
            int y1 = y0 + band < OH ? y0 + band : OH;                                                                 \
            for (int c = 0; c < C; c++)                                                                               \
                for (int ky = 0; ky < 3; ky++)                                                                        \
                    FN(st + (size_t)(c * 3 + ky) * per, sst + (size_t)(c * 3 + ky) * NB * 3, g + (size_t)o * P, P,    \
                       OW, xp + (size_t)c * plane, rowstep, tl->off + ky * 3, y0, y1, NB);                            \
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
        DW_BLOCKS(4, dw_band16)
        DW_BLOCKS(2, dw_band16)
        DW_BLOCKS(1, dw_band16)
    } else if (avx2) {
        DW_BLOCKS(4, dw_band)
        DW_BLOCKS(3, dw_band)
        DW_BLOCKS(2, dw_band)
        DW_BLOCKS(1, dw_band)
    } else {
        DW_BLOCKS(2, dw_band)
        DW_BLOCKS(1, dw_band)
    }
#undef DW_BLOCKS
}

/* ---- forward and backward ---------------------------------------------------*/

/* Where the packed weights go in the workspace: after the padded input,
 * the padded output gradient and din's phase planes (the layout of
 * bwd_body; the forward leaves the middle parts unused). */
static AI float *packed_at(float *ws, lpnas_shape s, int O, int stride)
{
    int OH = out_size(s.h, stride), OW = out_size(s.w, stride);
    size_t gplane = (size_t)(OH + 2) * row_stride(OW + 2);
    size_t ph = stride == 2 ? (size_t)s.c * 4 * (size_t)((s.h + 3) / 2) * (size_t)((s.w + 3) / 2) : 0;
    return align64(ws) + (size_t)s.c * plane_floats(s.h, s.w, stride) + (size_t)O * gplane + ph;
}

static AI void fwd_body(float *out, const float *in, const float *w, lpnas_shape s, int O, int stride, float *ws,
                        bool wide)
{
    size_t P = (size_t)s.h * s.w, plane = plane_floats(s.h, s.w, stride);
    int OH = out_size(s.h, stride), OW = out_size(s.w, stride);
    float *xp = align64(ws) + 15, *wp = packed_at(ws, s, O, stride);
    size_t rs = stride == 1 ? row_stride(s.w + 2) : row_stride(OW + 1);
    pack_weights(wp, w, (size_t)s.c * 9, 9, false, O, s.c, wide);
    tap_list tl = stride == 1 ? taps_s1(rs) : taps_s2(rs, plane / 2);
    for (int n = 0; n < s.n; n++) {
        if (stride == 1)
            pad_planes(xp, in + (size_t)n * s.c * P, s.c, s.h, s.w);
        else
            split_planes(xp, in + (size_t)n * s.c * P, s.c, s.h, s.w);
        fwd_conv(out + (size_t)n * O * OH * OW, O, OH, OW, xp, stride * rs, plane, s.c, &tl, wp, false, wide);
    }
}

/* Stride-2 din: padded din position (r, q) = (2 oy + ky, 2 ox + kx) gets
 * w[ky][kx] * g[oy][ox]. Split r = 2 a + py, q = 2 b + px: phase (py, px)
 * takes the taps ky = py (mod 2), kx = px (mod 2), from g[a - (ky - py) / 2]
 * [b - (kx - px) / 2]; listed in the order of the reference loops (output
 * rows, then columns, ascending: ky, kx descending). g is padded with a
 * zero row and column on each side (gq: g[y][x] at row y + 1, column
 * x + 1). */
static AI tap_list taps_phase(int py, int px, size_t rs)
{
    tap_list t;
    t.n = 0, t.regular = false;
    for (int ky = 2; ky >= 0; ky--)
        for (int kx = 2; kx >= 0; kx--) {
            if ((ky & 1) != py || (kx & 1) != px)
                continue;
            int dy = (ky - py) / 2, dx = (kx - px) / 2;
            t.off[t.n] = (ptrdiff_t)((1 - dy) * rs + (1 - dx));
            t.wi[t.n] = ky * 3 + kx;
            t.n++;
        }
    return t;
}

static AI void bwd_body(float *din, bool din_add, float *dw, const float *dout, const float *in, const float *w,
                        lpnas_shape s, int O, int stride, float *ws, bool wide, bool avx2)
{
    size_t P = (size_t)s.h * s.w, plane = plane_floats(s.h, s.w, stride);
    int OH = out_size(s.h, stride), OW = out_size(s.w, stride);
    size_t OP = (size_t)OH * OW, rs = stride == 1 ? row_stride(s.w + 2) : row_stride(OW + 1);
    size_t grs = row_stride(OW + 2), gplane = (size_t)(OH + 2) * grs;
    float *xp = align64(ws), *gp = xp + (size_t)s.c * plane, *ph = gp + (size_t)O * gplane;
    int AH = (s.h + 3) / 2, BW = (s.w + 3) / 2;
    float *wt = packed_at(ws, s, O, stride), *st = wt + (size_t)s.c * O * 9;
    tap_list tl = stride == 1 ? taps_s1(rs) : taps_s2(rs, plane / 2);
    if (din) /* din is a forward conv of gp with s.c output and O input channels: weight (c, o, t) =
                w[o][c][8 - t] (stride 1), w[o][c][t] for the phase taps (stride 2) */
        pack_weights(wt, w, 9, (size_t)s.c * 9, stride == 1, s.c, O, wide);
    for (int n = 0; n < s.n; n++) {
        const float *g = dout + (size_t)n * O * OP;
        float *dx = din ? din + (size_t)n * s.c * P : NULL;
        if (stride == 1)
            pad_planes(xp + 15, in + (size_t)n * s.c * P, s.c, s.h, s.w);
        else
            split_planes(xp + 15, in + (size_t)n * s.c * P, s.c, s.h, s.w);
        dw_sample(dw, g, O, OH, OW, xp + 15, stride * rs, plane, s.c, &tl, st, wide, avx2);
        if (!dx)
            continue;
        pad_planes(gp + 15, g, O, OH, OW);
        if (stride == 1) {
            tap_list t1 = taps_s1(grs);
            fwd_conv(dx, s.c, s.h, s.w, gp + 15, grs, gplane, O, &t1, wt, din_add, wide);
            continue;
        }
        /* phase (py, px) at ph + (py * 2 + px) * C * AH * BW: a conv over the
         * output gradient (output rows a, columns b), then added into din */
        for (int py = 0; py < 2; py++)
            for (int px = 0; px < 2; px++) {
                tap_list tp = taps_phase(py, px, grs);
                float *pp = ph + (size_t)(py * 2 + px) * s.c * AH * BW;
                /* output row a, tap (dy, dx): gq row a + 1 - dy, column b + 1 - dx */
                fwd_conv(pp, s.c, AH, BW, gp + 15, grs, gplane, O, &tp, wt, false, wide);
            }
        /* din[iy][ix] += phase ((iy + 1) & 1, (ix + 1) & 1) at ((iy + 1) >> 1, (ix + 1) >> 1) */
        size_t PP = (size_t)s.c * AH * BW;
        if (!din_add)
            memset(dx, 0, (size_t)s.c * P * sizeof *dx);
        for (int c = 0; c < s.c; c++)
            for (int iy = 0; iy < s.h; iy++) {
                int r = iy + 1;
                const float *p0 = ph + (size_t)((r & 1) * 2) * PP + ((size_t)c * AH + (r >> 1)) * BW, *p1 = p0 + PP;
                float *d = dx + ((size_t)c * s.h + iy) * s.w;
                for (int ix = 0; ix < s.w; ix += 2) /* q = ix + 1 odd */
                    d[ix] += p1[(ix + 1) >> 1];
                for (int ix = 1; ix < s.w; ix += 2) /* q even */
                    d[ix] += p0[(ix + 1) >> 1];
            }
    }
}

static void fwd_portable(float *out, const float *in, const float *w, lpnas_shape s, int O, int stride, float *ws)
{
    fwd_body(out, in, w, s, O, stride, ws, false);
}

static void bwd_portable(float *din, bool din_add, float *dw, const float *dout, const float *in, const float *w,
                         lpnas_shape s, int O, int stride, float *ws)
{
    bwd_body(din, din_add, dw, dout, in, w, s, O, stride, ws, false, false);
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define HAVE_X86_PATHS 1
__attribute__((target("avx2,fma"))) static void fwd_avx2(float *out, const float *in, const float *w, lpnas_shape s,
                                                         int O, int stride, float *ws)
{
    fwd_body(out, in, w, s, O, stride, ws, false);
}

__attribute__((target("avx2,fma"))) static void bwd_avx2(float *din, bool din_add, float *dw, const float *dout,
                                                         const float *in, const float *w, lpnas_shape s, int O,
                                                         int stride, float *ws)
{
    bwd_body(din, din_add, dw, dout, in, w, s, O, stride, ws, false, true);
}

__attribute__((target("avx512f,avx2,fma"))) static void fwd_avx512(float *out, const float *in, const float *w,
                                                                   lpnas_shape s, int O, int stride, float *ws)
{
    fwd_body(out, in, w, s, O, stride, ws, true);
}

__attribute__((target("avx512f,avx2,fma"))) static void bwd_avx512(float *din, bool din_add, float *dw,
                                                                   const float *dout, const float *in, const float *w,
                                                                   lpnas_shape s, int O, int stride, float *ws)
{
    bwd_body(din, din_add, dw, dout, in, w, s, O, stride, ws, true, false);
}
#endif

void lpnas_conv2d_direct3x3_forward_isa(float *out, const float *in, const float *w, lpnas_shape s, int out_c,
                                        int stride, float *ws, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa >= LPNAS_ISA_AVX512) {
        fwd_avx512(out, in, w, s, out_c, stride, ws);
        return;
    }
    if (isa == LPNAS_ISA_AVX2) {
        fwd_avx2(out, in, w, s, out_c, stride, ws);
        return;
    }
#endif
    fwd_portable(out, in, w, s, out_c, stride, ws);
}

void lpnas_conv2d_direct3x3_backward_isa(float *din, bool din_add, float *dw, const float *dout, const float *in,
                                         const float *w,
                                         lpnas_shape s, int out_c, int stride, float *ws, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa >= LPNAS_ISA_AVX512) {
        bwd_avx512(din, din_add, dw, dout, in, w, s, out_c, stride, ws);
        return;
    }
    if (isa == LPNAS_ISA_AVX2) {
        bwd_avx2(din, din_add, dw, dout, in, w, s, out_c, stride, ws);
        return;
    }
#endif
    bwd_portable(din, din_add, dw, dout, in, w, s, out_c, stride, ws);
}
