/* FP32 depthwise conv (one input channel per output channel), forward and
 * backward, tap-major: for each tap (ky, kx) the output columns whose input
 * column is inside the image form one range [lo, hi), and the inner loops
 * run over it (contiguous when the stride is 1).
 *
 *   forward   out[oy][ox]  += k[tap] * in[iy][ix]        (an axpy per row)
 *   backward  din[iy][ix]  += k[tap] * dout[oy][ox]      (an axpy per row)
 *             dk[tap]      += sum dout[oy][ox] * in[iy][ix]
 *
 * The weight-gradient sum runs in 8 fixed partial sums (lane l takes the
 * columns lo + l, lo + l + 8, ...), added in a fixed order at the end of
 * each tap: the compiler can keep the partial sums in one vector register
 * without reassociating anything, and every code path gives the same bits.
 *
 * The tap-major loops define the results; they pass over the whole plane
 * once per tap, read-modify-writing it (2 loads + 1 store per multiply-add,
 * a scalar tail on every row). The AVX2 and AVX-512 paths run row-major
 * code below that gives the same bits: each output pixel (din pixel) is
 * summed in registers over all its taps, in the same order (ky, kx) and
 * from the same start (+0, or din's value), 8 pixels per vector and 4
 * vectors in flight, from a zero-padded copy of the plane split by column
 * phase when strided, so every load is contiguous and in bounds; the taps
 * outside the image add exactly nothing (sum_row_padded says when, else a
 * select skips them). The weight gradient keeps the tap-major partial sums
 * and visits them one kernel row at a time.
 *
 * One body, compiled three times: the baseline (portable), with AVX2 and
 * with AVX-512 target attributes (per function, so the library still runs on
 * any x86-64); chosen by lpnas_cpu_isa(). -ffp-contract=off applies to all
 * three, so none fuses a multiply-add: the paths are bit-identical, and the
 * tests check it. */
#include "kernels/conv2d.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Valid output columns for input column ix = ox * stride + off, 0 <= ix < W. */
static inline __attribute__((always_inline)) void col_range(int off, int stride, int W, int OW, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = W - 1 - off < 0 ? 0 : (W - 1 - off) / stride + 1;
    *lo = l < OW ? l : OW;
    *hi = h < OW ? h : OW;
    if (*hi < *lo)
        *hi = *lo;
}

static inline __attribute__((always_inline)) void fwd_body(float *out, const float *in, const float *w, lpnas_shape s,
                                                          lpnas_shape o, const lpnas_conv_params *p)
{
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *plane = in + lpnas_shape_at(s, n, c, 0, 0);
            const float *k = w + (size_t)c * p->kh * p->kw;
            float *dst = out + lpnas_shape_at(o, n, c, 0, 0);
            memset(dst, 0, (size_t)o.h * o.w * sizeof *dst);
            for (int ky = 0; ky < p->kh; ky++)
                for (int kx = 0; kx < p->kw; kx++) {
                    float kv = k[ky * p->kw + kx];
                    int off = kx * p->dil_w - p->pad_w, lo, hi; /* ix = ox * stride + off */
                    col_range(off, p->stride_w, s.w, o.w, &lo, &hi);
                    for (int oy = 0; oy < o.h; oy++) {
                        int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                        if (iy < 0 || iy >= s.h)
                            continue;
                        const float *src = plane + (size_t)iy * s.w;
                        float *d = dst + (size_t)oy * o.w;
                        if (p->stride_w == 1)
                            for (int ox = lo; ox < hi; ox++)
                                d[ox] += kv * src[ox + off];
                        else
                            for (int ox = lo; ox < hi; ox++)
                                d[ox] += kv * src[ox * p->stride_w + off];
                    }
                }
        }
}

static inline __attribute__((always_inline)) void bwd_body(float *din, float *dw, const float *dout, const float *in,
                                                          const float *w, lpnas_shape s, lpnas_shape o,
                                                          const lpnas_conv_params *p)
{
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *plane = in + lpnas_shape_at(s, n, c, 0, 0);
            float *dplane = din ? din + lpnas_shape_at(s, n, c, 0, 0) : NULL;
            const float *k = w + (size_t)c * p->kh * p->kw;
            float *dk = dw + (size_t)c * p->kh * p->kw;
            const float *g = dout + lpnas_shape_at(o, n, c, 0, 0);
            for (int ky = 0; ky < p->kh; ky++)
                for (int kx = 0; kx < p->kw; kx++) {
                    float kv = k[ky * p->kw + kx];
                    int off = kx * p->dil_w - p->pad_w, lo, hi;
                    col_range(off, p->stride_w, s.w, o.w, &lo, &hi);
                    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                    float tail = 0;
                    for (int oy = 0; oy < o.h; oy++) {
                        int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                        if (iy < 0 || iy >= s.h)
                            continue;
                        const float *src = plane + (size_t)iy * s.w;
                        const float *gr = g + (size_t)oy * o.w;
                        int ox = lo;
                        if (p->stride_w == 1) {
                            for (; ox + 8 <= hi; ox += 8)
                                for (int l = 0; l < 8; l++)
                                    part[l] += gr[ox + l] * src[ox + l + off];
                            for (; ox < hi; ox++)
                                tail += gr[ox] * src[ox + off];
                            if (dplane) {
                                float *dr = dplane + (size_t)iy * s.w;
                                for (ox = lo; ox < hi; ox++)
                                    dr[ox + off] += gr[ox] * kv;
                            }
                        } else {
                            int st = p->stride_w;
                            for (; ox + 8 <= hi; ox += 8)
                                for (int l = 0; l < 8; l++)
                                    part[l] += gr[ox + l] * src[(ox + l) * st + off];
                            for (; ox < hi; ox++)
                                tail += gr[ox] * src[ox * st + off];
                            if (dplane) {
                                float *dr = dplane + (size_t)iy * s.w;
                                for (ox = lo; ox < hi; ox++)
                                    dr[ox * st + off] += gr[ox] * kv;
                            }
                        }
                    }
                    float sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
                    dk[ky * p->kw + kx] += sum + tail;
                }
        }
}

/* ---- row-major forward, din and weight gradient --------------------------- */

/* 8 lanes in GNU C vectors: one ymm register with AVX2 or AVX-512F. */
typedef float v8f __attribute__((vector_size(32)));
/* gcc and clang note that passing a v8f changes the ABI without AVX: the
 * helpers below are always inlined, so no call ever passes one. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef int v8i __attribute__((vector_size(32)));
#define NB 4            /* vectors in flight: 4 independent chains hide the add latency */
#define MAX_TAPS_ROW 16 /* kh and kw of the row-major code; larger kernels take the tap-major loops */

#define AI static inline __attribute__((always_inline))

AI v8f load8(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* acc + prod in the lanes whose column i0 + lane is in [lo, hi), acc
 * elsewhere (the tap is skipped there). */
AI v8f add_masked(v8f acc, v8f prod, int i0, int lo, int hi)
{
    const v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
    v8i i = lane + i0;
    v8i m = (i >= lo) & (i < hi);
    v8i sum = (v8i)(acc + prod);
    return (v8f)((sum & m) | ((v8i)acc & ~m));
}

/* The taps of a kernel row that a row sum adds, in order: tap t uses the
 * weight kx[t] of the row, reads column x + col[t] of the row's padded data
 * and counts for lo[t] <= x < hi[t] (outside, the tap-major loops skip it). */
typedef struct {
    int n;
    int kx[MAX_TAPS_ROW], col[MAX_TAPS_ROW], lo[MAX_TAPS_ROW], hi[MAX_TAPS_ROW];
} tap_row;

/* One vector at x of a row sum, each tap added within its limits only. */
AI v8f sum_vec_masked(const float *start, const float *const *rows, const float *k, int kh, int kw, const tap_row *tr,
                      int x)
{
    v8f acc = start ? load8(start + x) : (v8f){0};
    for (int r = 0; r < kh; r++) {
        if (!rows[r])
            continue;
        for (int t = 0; t < tr->n; t++) {
            v8f prod = k[r * kw + tr->kx[t]] * load8(rows[r] + x + tr->col[t]);
            acc = add_masked(acc, prod, x, tr->lo[t], tr->hi[t]);
        }
    }
    return acc;
}

/* NB vectors from x: acc[b] += every tap, in order. */
AI void sum_block(v8f *acc, const float *const *rows, const float *k, int kh, int kw, const tap_row *tr, int x)
{
    for (int r = 0; r < kh; r++) {
        if (!rows[r])
            continue;
        for (int t = 0; t < tr->n; t++) {
            float kv = k[r * kw + tr->kx[t]];
            const float *src = rows[r] + x + tr->col[t];
            for (int b = 0; b < NB; b++)
                acc[b] = acc[b] + kv * load8(src + 8 * b);
        }
    }
}

/* One row of sums over the taps of one channel, the forward and din alike:
 * out[x] = start[x] + the sum over the kernel rows r (rows[r] == NULL: that
 * row is skipped) and the taps t of tr, in that order, of k[r * kw +
 * kx[t]] * rows[r][x + col[t]] (start == NULL: from +0), for 0 <= x < n;
 * out may be start. rows[] are zero-padded to at least n rounded up to 8 *
 * NB, plus the largest col.
 *
 * sum_row_padded adds every tap, also where it falls outside the image
 * (there it reads a padded 0), in blocks of NB vectors, the last one
 * through a buffer. That is the tap-major loops' skipping, bit for bit,
 * when each such k * 0 = +-0 leaves its sum unchanged: acc + +-0 == acc for
 * every acc except -0 (-0 + +0 = +0), and k * 0 is NaN for an inf or NaN
 * k. So the callers take it when every weight is finite and no sum can be
 * -0 where a tap is outside: the forward's sums start at +0, and a sum of
 * additions from anything but -0 is never -0 (a + b = -0 needs a = b =
 * -0); din's sums start at din's values, which are checked at the row's
 * edge pixels (row_edges_plain; NaNs there too, to keep them out of the
 * argument).
 *
 * sum_row_masked adds a tap only within its limits (the select of
 * add_masked): exact for any data. */
AI void sum_row_padded(float *out, const float *start, const float *const *rows, const float *k, int kh, int kw,
                       const tap_row *tr, int n)
{
    int x = 0;
    for (; x + 8 * NB <= n; x += 8 * NB) {
        v8f acc[NB];
        for (int b = 0; b < NB; b++)
            acc[b] = start ? load8(start + x + 8 * b) : (v8f){0};
        sum_block(acc, rows, k, kh, kw, tr, x);
        for (int b = 0; b < NB; b++)
            memcpy(out + x + 8 * b, &acc[b], sizeof acc[b]);
    }
    if (x < n) {
        float buf[8 * NB] = {0};
        v8f acc[NB];
        if (start)
            memcpy(buf, start + x, (size_t)(n - x) * sizeof *buf);
        for (int b = 0; b < NB; b++)
            acc[b] = load8(buf + 8 * b);
        sum_block(acc, rows, k, kh, kw, tr, x);
        for (int b = 0; b < NB; b++)
            memcpy(buf + 8 * b, &acc[b], sizeof acc[b]);
        memcpy(out + x, buf, (size_t)(n - x) * sizeof *buf);
    }
}

AI void sum_row_masked(float *out, const float *start, const float *const *rows, const float *k, int kh, int kw,
                       const tap_row *tr, int n)
{
    int x = 0;
    for (; x + 8 <= n; x += 8) {
        v8f v = sum_vec_masked(start, rows, k, kh, kw, tr, x);
        memcpy(out + x, &v, sizeof v);
    }
    for (; x < n; x++) {
        float acc = start ? start[x] : 0.0f;
        for (int r = 0; r < kh; r++) {
            if (!rows[r])
                continue;
            for (int t = 0; t < tr->n; t++)
                if (x >= tr->lo[t] && x < tr->hi[t])
                    acc += k[r * kw + tr->kx[t]] * rows[r][x + tr->col[t]];
        }
        out[x] = acc;
    }
}

/* No -0 and no NaN among v[x] where some tap is outside its limits: then
 * sum_row_padded is exact for a row starting at v. */
static bool row_edges_plain(const float *v, int n, const tap_row *tr)
{
    int in_lo = 0, in_hi = n;
    for (int t = 0; t < tr->n; t++) {
        in_lo = tr->lo[t] > in_lo ? tr->lo[t] : in_lo;
        in_hi = tr->hi[t] < in_hi ? tr->hi[t] : in_hi;
    }
    for (int x = 0; x < n; x++) {
        if (x == in_lo && in_hi > x)
            x = in_hi;
        if (x < n && (v[x] != v[x] || (v[x] == 0 && signbit(v[x]))))
            return false;
    }
    return true;
}

static bool all_finite(const float *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(w[i]))
            return false;
    return true;
}

static int floor_div(int a, int b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int round_up_block(int n)
{
    return (n + 8 * NB - 1) / (8 * NB) * (8 * NB);
}

/* Zero-padded planes, split by column phase: input column c of row y goes
 * to phase q = (c + pw) % sw, element m = (c + pw) / sw, at dst[(y * sw +
 * q) * wph + m]; the rest is 0. With sw = 1 just padded rows. */
static void split_plane(float *dst, const float *src, int h, int w, int pw, int sw, size_t wph)
{
    for (int y = 0; y < h; y++) {
        const float *row = src + (size_t)y * w;
        float *d = dst + (size_t)y * sw * wph;
        if (sw == 1) {
            memset(d, 0, (size_t)pw * sizeof *d);
            memcpy(d + pw, row, (size_t)w * sizeof *row);
            memset(d + pw + w, 0, (wph - (size_t)pw - (size_t)w) * sizeof *d);
            continue;
        }
        memset(d, 0, (size_t)sw * wph * sizeof *d);
        for (int q = 0; q < sw; q++) {
            int c = ((q - pw) % sw + sw) % sw; /* the first column of phase q */
            float *dq = d + (size_t)q * wph + (c + pw) / sw;
            for (; c < w; c += sw)
                *dq++ = row[c];
        }
    }
}

/* The forward's taps (also the weight gradient's reads): output column ox,
 * tap kx reads input column ox*sw + kx*dw - pw, padded column ox*sw +
 * kx*dw: phase kx*dw % sw, element ox + kx*dw / sw. */
static void fwd_taps(tap_row *tr, lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p, size_t wph)
{
    int sw = p->stride_w;
    tr->n = p->kw;
    for (int kx = 0; kx < p->kw; kx++) {
        int j = kx * p->dil_w;
        tr->kx[kx] = kx;
        tr->col[kx] = (int)((size_t)(j % sw) * wph) + j / sw;
        col_range(j - p->pad_w, sw, s.w, o.w, &tr->lo[kx], &tr->hi[kx]); /* the tap-major loops' own limits */
    }
}

static size_t fwd_phase_width(lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p)
{
    int sw = p->stride_w, reach = (p->kw - 1) * p->dil_w;
    size_t need = (size_t)round_up_block(o.w) + (size_t)(reach / sw) + 1, image = (size_t)((s.w + p->pad_w) / sw) + 1;
    return need > image ? need : image;
}

/* Forward, out[oy][ox] = the sum over (ky, kx) of k * in[iy][ox*sw + kx*dw
 * - pw] (fwd_taps). False (nothing written) when it does not apply. */
AI bool fwd_rows(float *out, const float *in, const float *w, lpnas_shape s, lpnas_shape o,
                 const lpnas_conv_params *p)
{
    if (p->kh > MAX_TAPS_ROW || p->kw > MAX_TAPS_ROW)
        return false;
    size_t wph = fwd_phase_width(s, o, p), stride = (size_t)p->stride_w * wph;
    float *plane = malloc((size_t)s.h * stride * sizeof *plane);
    if (!plane)
        return false;
    bool padded = all_finite(w, (size_t)s.c * p->kh * p->kw);
    tap_row tr;
    fwd_taps(&tr, s, o, p, wph);
    const float *rows[MAX_TAPS_ROW];
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            split_plane(plane, in + lpnas_shape_at(s, n, c, 0, 0), s.h, s.w, p->pad_w, p->stride_w, wph);
            const float *k = w + (size_t)c * p->kh * p->kw;
            for (int oy = 0; oy < o.h; oy++) {
                for (int ky = 0; ky < p->kh; ky++) {
                    int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                    rows[ky] = iy >= 0 && iy < s.h ? plane + (size_t)iy * stride : NULL;
                }
                float *orow = out + lpnas_shape_at(o, n, c, oy, 0);
                if (padded)
                    sum_row_padded(orow, NULL, rows, k, p->kh, p->kw, &tr, o.w);
                else
                    sum_row_masked(orow, NULL, rows, k, p->kh, p->kw, &tr, o.w);
            }
        }
    free(plane);
    return true;
}

/* din[iy][ix] += the sum over (ky, kx) of k * dout[oy][ox] with oy * sh =
 * iy + ph - ky*dh and ox * sw = ix + pw - kx*dw, taps in the order of the
 * tap-major loops (which add them to din one tap at a time). By column
 * phase q of din (ix = m * sw + q), the taps with (q + pw - kx*dw) % sw ==
 * 0 reach ox = m + d, d = (q + pw - kx*dw) / sw: contiguous in m, so each
 * phase is a row sum from din's own values (gathered into a buffer when sw
 * > 1), over dout rows padded with lpad columns on the left (column ox at
 * ox + lpad). */
AI bool din_rows(float *din, const float *dout, const float *w, lpnas_shape s, lpnas_shape o,
                 const lpnas_conv_params *p)
{
    if (p->kh > MAX_TAPS_ROW || p->kw > MAX_TAPS_ROW || p->stride_w > MAX_TAPS_ROW)
        return false;
    int sw = p->stride_w, reach = (p->kw - 1) * p->dil_w, lpad = (reach + sw - 1) / sw;
    int nq_max = (s.w + sw - 1) / sw; /* din columns per phase */
    size_t wq = (size_t)round_up_block(nq_max) + (size_t)lpad + (size_t)((sw - 1 + p->pad_w) / sw) + 1;
    if (wq < (size_t)(lpad + o.w))
        wq = (size_t)(lpad + o.w);
    float *plane = malloc(((size_t)o.h * wq + (size_t)nq_max) * sizeof *plane), *phase = plane + (size_t)o.h * wq;
    if (!plane)
        return false;
    bool finite = all_finite(w, (size_t)s.c * p->kh * p->kw);
    tap_row tr[MAX_TAPS_ROW]; /* per phase */
    for (int q = 0; q < sw; q++) {
        tr[q].n = 0;
        for (int kx = 0; kx < p->kw; kx++) {
            int e = q + p->pad_w - kx * p->dil_w;
            if (((e % sw) + sw) % sw)
                continue;
            int d = floor_div(e, sw), t = tr[q].n++;
            tr[q].kx[t] = kx, tr[q].col[t] = d + lpad, tr[q].lo[t] = -d, tr[q].hi[t] = o.w - d;
        }
    }
    const float *grows[MAX_TAPS_ROW];
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            split_plane(plane, dout + lpnas_shape_at(o, n, c, 0, 0), o.h, o.w, lpad, 1, wq);
            const float *k = w + (size_t)c * p->kh * p->kw;
            for (int iy = 0; iy < s.h; iy++) {
                int any = 0;
                for (int ky = 0; ky < p->kh; ky++) {
                    int t = iy + p->pad_h - ky * p->dil_h, oy = t / p->stride_h;
                    grows[ky] = t >= 0 && t % p->stride_h == 0 && oy < o.h ? plane + (size_t)oy * wq : NULL;
                    any |= grows[ky] != NULL;
                }
                float *drow = din + lpnas_shape_at(s, n, c, iy, 0);
                for (int q = 0; q < sw && q < s.w; q++) {
                    if (!any || tr[q].n == 0)
                        continue; /* no tap reaches these pixels */
                    int nq = (s.w - q + sw - 1) / sw;
                    float *v = drow;
                    if (sw > 1) {
                        v = phase;
                        for (int m = 0; m < nq; m++)
                            v[m] = drow[m * sw + q];
                    }
                    if (finite && row_edges_plain(v, nq, &tr[q]))
                        sum_row_padded(v, v, grows, k, p->kh, p->kw, &tr[q], nq);
                    else
                        sum_row_masked(v, v, grows, k, p->kh, p->kw, &tr[q], nq);
                    if (sw > 1)
                        for (int m = 0; m < nq; m++)
                            drow[m * sw + q] = v[m];
                }
            }
        }
    free(plane);
    return true;
}

/* One row of the weight gradient's partial sums for the kw taps of a kernel
 * row: tap kx adds gr[ox] * src[ox + col[kx]] into lane (ox - lo[kx]) % 8
 * of part[kx] for the full 8-column chunks of [lo[kx], hi[kx]) and into
 * tail[kx] for the rest, in column order. Each tap's sum is one chain of
 * dependent additions; the chunks of all taps are interleaved so that kw
 * chains are in flight (kw a constant at the 3x3 and 5x5 calls). */
AI void dk_row(v8f *part, float *tail, const float *gr, const float *src, const int *lo, const int *hi,
               const int *col, const int kw)
{
    v8f acc[MAX_TAPS_ROW];
    int full[MAX_TAPS_ROW], common = 1 << 30;
    for (int kx = 0; kx < kw; kx++) {
        acc[kx] = part[kx];
        full[kx] = hi[kx] > lo[kx] ? (hi[kx] - lo[kx]) / 8 : 0;
        common = full[kx] < common ? full[kx] : common;
    }
    for (int j = 0; j < common; j++)
        for (int kx = 0; kx < kw; kx++) {
            int ox = lo[kx] + 8 * j; /* src is read at ox + col >= 0 */
            acc[kx] = acc[kx] + load8(gr + ox) * load8(src + (ox + col[kx]));
        }
    for (int kx = 0; kx < kw; kx++) {
        for (int j = common; j < full[kx]; j++) {
            int ox = lo[kx] + 8 * j;
            acc[kx] = acc[kx] + load8(gr + ox) * load8(src + (ox + col[kx]));
        }
        part[kx] = acc[kx];
        for (int ox = lo[kx] + 8 * full[kx]; ox < hi[kx]; ox++)
            tail[kx] += gr[ox] * src[ox + col[kx]];
    }
}

/* The weight gradient of the tap-major loops, with the same partial sums:
 * per tap, lane l of 8 takes the columns lo + l, lo + l + 8, ... of every
 * valid row in row order, the columns after the last full 8 go to one
 * sequential tail, and dk += tree(lanes) + tail per image and channel.
 * Only the traversal changes: one pass over the rows per kernel row ky,
 * with the kw taps' partial sums side by side (kh passes instead of kh*kw,
 * and vector registers where the tap-major loops kept a float[8] in
 * memory); strided reads come from a phase-split copy of the input, as in
 * the forward. */
AI bool dk_rows(float *dw, const float *dout, const float *in, lpnas_shape s, lpnas_shape o,
                const lpnas_conv_params *p)
{
    if (p->kw > MAX_TAPS_ROW)
        return false;
    int sw = p->stride_w;
    size_t wph = fwd_phase_width(s, o, p), stride = (size_t)sw * wph;
    float *plane = NULL;
    if (sw > 1 && !(plane = malloc((size_t)s.h * stride * sizeof *plane)))
        return false;
    int col[MAX_TAPS_ROW];
    tap_row tr; /* the forward's taps: their limits are the weight gradient's columns */
    fwd_taps(&tr, s, o, p, wph);
    for (int kx = 0; kx < p->kw; kx++) /* element ox + col of the row: input column ox*sw + kx*dw - pw */
        col[kx] = sw > 1 ? tr.col[kx] : kx * p->dil_w - p->pad_w;
    for (int n = 0; n < s.n; n++)
        for (int c = 0; c < s.c; c++) {
            const float *src_plane = in + lpnas_shape_at(s, n, c, 0, 0), *g = dout + lpnas_shape_at(o, n, c, 0, 0);
            size_t rstride = (size_t)s.w;
            if (sw > 1) {
                split_plane(plane, src_plane, s.h, s.w, p->pad_w, sw, wph);
                src_plane = plane, rstride = stride;
            }
            float *dk = dw + (size_t)c * p->kh * p->kw;
            for (int ky = 0; ky < p->kh; ky++) {
                v8f part[MAX_TAPS_ROW];
                float tail[MAX_TAPS_ROW];
                for (int kx = 0; kx < p->kw; kx++)
                    part[kx] = (v8f){0}, tail[kx] = 0;
                for (int oy = 0; oy < o.h; oy++) {
                    int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                    if (iy < 0 || iy >= s.h)
                        continue;
                    const float *gr = g + (size_t)oy * o.w, *src = src_plane + (size_t)iy * rstride;
                    if (p->kw == 3)
                        dk_row(part, tail, gr, src, tr.lo, tr.hi, col, 3);
                    else if (p->kw == 5)
                        dk_row(part, tail, gr, src, tr.lo, tr.hi, col, 5);
                    else
                        dk_row(part, tail, gr, src, tr.lo, tr.hi, col, p->kw);
                }
                for (int kx = 0; kx < p->kw; kx++) {
                    v8f v = part[kx];
                    float sum = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
                    dk[ky * p->kw + kx] += sum + tail[kx];
                }
            }
        }
    free(plane);
    return true;
}

/* The portable path keeps the tap-major loops: without AVX, gcc splits the
 * 8-lane vectors of the row-major code through the stack (10x slower). */
static void fwd_portable(float *out, const float *in, const float *w, lpnas_shape s, lpnas_shape o,
                         const lpnas_conv_params *p)
{
    fwd_body(out, in, w, s, o, p);
}

static void bwd_portable(float *din, float *dw, const float *dout, const float *in, const float *w, lpnas_shape s,
                         lpnas_shape o, const lpnas_conv_params *p)
{
    bwd_body(din, dw, dout, in, w, s, o, p);
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define HAVE_X86_PATHS 1
__attribute__((target("avx2,fma"))) static void fwd_avx2(float *out, const float *in, const float *w, lpnas_shape s,
                                                         lpnas_shape o, const lpnas_conv_params *p)
{
    if (!fwd_rows(out, in, w, s, o, p))
        fwd_body(out, in, w, s, o, p);
}

__attribute__((target("avx2,fma"))) static void bwd_avx2(float *din, float *dw, const float *dout, const float *in,
                                                         const float *w, lpnas_shape s, lpnas_shape o,
                                                         const lpnas_conv_params *p)
{
    if (din && !din_rows(din, dout, w, s, o, p))
        bwd_body(din, dw, dout, in, w, s, o, p); /* both tap-major */
    else if (!dk_rows(dw, dout, in, s, o, p))
        bwd_body(NULL, dw, dout, in, w, s, o, p);
}

__attribute__((target("avx512f,avx2,fma"))) static void fwd_avx512(float *out, const float *in, const float *w,
                                                                   lpnas_shape s, lpnas_shape o,
                                                                   const lpnas_conv_params *p)
{
    if (!fwd_rows(out, in, w, s, o, p))
        fwd_body(out, in, w, s, o, p);
}

__attribute__((target("avx512f,avx2,fma"))) static void bwd_avx512(float *din, float *dw, const float *dout,
                                                                   const float *in, const float *w, lpnas_shape s,
                                                                   lpnas_shape o, const lpnas_conv_params *p)
{
    if (din && !din_rows(din, dout, w, s, o, p))
        bwd_body(din, dw, dout, in, w, s, o, p); /* both tap-major */
    else if (!dk_rows(dw, dout, in, s, o, p))
        bwd_body(NULL, dw, dout, in, w, s, o, p);
}
#endif

void lpnas_conv2d_dw_forward_isa(float *out, const float *in, const float *w, lpnas_shape s, lpnas_shape o,
                                 const lpnas_conv_params *p, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa >= LPNAS_ISA_AVX512) {
        fwd_avx512(out, in, w, s, o, p);
        return;
    }
    if (isa == LPNAS_ISA_AVX2) {
        fwd_avx2(out, in, w, s, o, p);
        return;
    }
#endif
    fwd_portable(out, in, w, s, o, p);
}

void lpnas_conv2d_dw_backward_isa(float *din, float *dw, const float *dout, const float *in, const float *w,
                                  lpnas_shape s, lpnas_shape o, const lpnas_conv_params *p, lpnas_isa isa)
{
    isa = lpnas_cpu_isa_clamp(isa);
#ifdef HAVE_X86_PATHS
    if (isa >= LPNAS_ISA_AVX512) {
        bwd_avx512(din, dw, dout, in, w, s, o, p);
        return;
    }
    if (isa == LPNAS_ISA_AVX2) {
        bwd_avx2(din, dw, dout, in, w, s, o, p);
        return;
    }
#endif
    bwd_portable(din, dw, dout, in, w, s, o, p);
}
