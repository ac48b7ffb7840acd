/* Model files (docs/formats.md):
 *   "LPNASMDL" | u32 version | u32 payload bytes | u32 compressed bytes | u32 CRC-32 of the payload
 *   | zlib(payload)
 *   payload: str arch | str policy | u32 C | C x f32 mean | C x f32 std | u32 h | u32 w
 *            | u64 n | n x f32 parameters | u64 m | m x f32 BN statistics
 *            version 2 only: | u32 K | K x (f32 lo, f32 hi, f32 scale, i32 zero point)
 *            | u64 W | W x f32 weight scales
 * K is 0 (not calibrated) or the graph's node count; W is 0 or the output
 * channels of every conv and deconv (the per-channel weight scales of the
 * saved policy). All integers little-endian; strings are u32 length + bytes.
 * Version 1 files (no calibration) load as before. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/error.h"
#include "base/fault.h"
#include "lib/net_internal.h"
#include "lpnas/model.h"
#include "lpnas/qnet.h"

#define MAGIC "LPNASMDL"
#define VERSION 2u /* writes 2, reads 1 and 2 */
#define MAX_PAYLOAD (256u << 20)

typedef struct {
    unsigned char *p;
    size_t len, cap;
    bool oom;
} wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(wbuf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(wbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32s(wbuf *b, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        put_u32(b, u);
    }
}

static void put_str(wbuf *b, const char *s)
{
    put_u32(b, (uint32_t)strlen(s));
    put(b, s, strlen(s));
}

lpnas_status lpnas_model_save(lpnas_net *net, const char *policy, const char *path)
{
    wbuf b = {0};
    char arch[512];
    lpnas_arch_format(lpnas_net_arch(net), arch, sizeof arch);
    put_str(&b, arch);
    put_str(&b, policy ? policy : "fp32");
    int C = lpnas_net_arch(net)->in_channels, batch, h, w;
    float mean[16], std[16];
    lpnas_net_get_normalization(net, mean, std);
    lpnas_net_size(net, &batch, &h, &w);
    put_u32(&b, (uint32_t)C);
    put_f32s(&b, mean, (size_t)C);
    put_f32s(&b, std, (size_t)C);
    put_u32(&b, (uint32_t)h);
    put_u32(&b, (uint32_t)w);
    size_t np = lpnas_net_param_count(net), nb;
    float *buf = lpnas_net_buffers(net, &nb);
    put_u64(&b, np);
    put_f32s(&b, lpnas_net_params(net), np);
    put_u64(&b, nb);
    put_f32s(&b, buf, nb);
    /* the calibration: ranges, scales, zero points, and the weight scales of
     * the saved policy (a reload then exports without recalibrating) */
    const lpnas_graph *g = lpnas_net_graph(net);
    bool cal = lpnas_net_is_calibrated(net);
    put_u32(&b, cal ? (uint32_t)g->count : 0u);
    for (int i = 0; cal && i < g->count; i++) {
        float v[3];
        int32_t zp;
        lpnas_net_calib_get(net, i, &v[0], &v[1], &v[2], &zp);
        put_f32s(&b, v, 3);
        put_u32(&b, (uint32_t)zp);
    }
    const lpnas_policy *pol = NULL;
    float *ws = NULL;
    size_t nws = 0;
    if (cal && policy && lpnas_policy_get(policy, &pol) == LPNAS_OK && lpnas_policy_is_integer(pol)) {
        lpnas_net_fold(net, pol);
        nws = lpnas_net_weight_scales(net, NULL);
        ws = malloc((nws + 1) * sizeof *ws);
        if (ws)
            lpnas_net_weight_scales(net, ws);
        else
            b.oom = true;
    }
    put_u64(&b, nws);
    if (ws)
        put_f32s(&b, ws, nws);
    free(ws);
    if (b.oom) {
        free(b.p);
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory serializing the model", path);
    }
    uLongf clen = compressBound((uLong)b.len);
    unsigned char *z = malloc(clen);
    if (!z || compress2(z, &clen, b.p, (uLong)b.len, 6) != Z_OK) {
        free(b.p), free(z);
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: compression failed", path);
    }
    uint32_t crc = (uint32_t)crc32(0L, b.p, (uInt)b.len);
    wbuf hdr = {0};
    put(&hdr, MAGIC, 8);
    put_u32(&hdr, VERSION);
    put_u32(&hdr, (uint32_t)b.len);
    put_u32(&hdr, (uint32_t)clen);
    put_u32(&hdr, crc);
    /* write to a temporary file, then rename: a crash never leaves half a model */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    lpnas_status st = LPNAS_OK;
    if (!f) {
        st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    } else {
        bool ok = !hdr.oom && lpnas_fwrite(hdr.p, hdr.len, f, tmp) == hdr.len && fwrite(z, 1, clen, f) == clen &&
                  fflush(f) == 0;
        int err = errno;
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, path)) {
            err = ok ? errno : err;
            remove(tmp);
            st = lpnas_fail(LPNAS_ERR_IO, "%s: write failed: %s", path, strerror(err));
        }
    }
    free(b.p), free(z), free(hdr.p);
    return st;
}

typedef struct {
    const unsigned char *p;
    size_t len, at;
    bool bad;
} rbuf;

static uint32_t get_u32(rbuf *r)
{
    if (r->at + 4 > r->len) {
        r->bad = true;
        return 0;
    }
    const unsigned char *x = r->p + r->at;
    r->at += 4;
    return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

static uint64_t get_u64(rbuf *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

static void get_f32s(rbuf *r, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(r);
        memcpy(&x[i], &u, 4);
    }
}

static void get_str(rbuf *r, char *s, size_t cap)
{
    uint32_t n = get_u32(r);
    if (r->bad || n >= cap || r->at + n > r->len) {
        r->bad = true;
        s[0] = 0;
        return;
    }
    memcpy(s, r->p + r->at, n);
    s[n] = 0;
    r->at += n;
}

/* Largest activation set a loaded model may ask for (batch x peak, fp32):
 * the project's networks run on tiles of at most a few hundred pixels. */
#define MAX_ACT_BYTES (1024.0 * 1024 * 1024)

/* The payload left must hold u64 n | n x f32 | u64 m | m x f32 with n at
 * least the architecture's trainable count (BN statistics come on top),
 * and nothing else in version 1 (version 2: the calibration follows, at
 * least u32 K and u64 W): read without moving the cursor. */
static bool params_fit(const rbuf *r, const lpnas_arch_stats *as, uint32_t version)
{
    size_t left = r->len - r->at;
    if (left < 16)
        return false;
    rbuf t = *r;
    uint64_t np = get_u64(&t);
    if (np > (left - 16) / 4 || np < (uint64_t)as->params)
        return false;
    t.at += (size_t)np * 4;
    uint64_t m = get_u64(&t);
    size_t tail = version >= 2 ? 12 : 0;
    return !t.bad && m <= (left - 16 - (size_t)np * 4) / 4 &&
           (version >= 2 ? 16 + 4 * (np + m) + tail <= left : 16 + 4 * (np + m) == left);
}

/* Version 2: the calibration section; checked value by value, applied to net. */
static lpnas_status read_calibration(rbuf *r, lpnas_net *net, const char *pol_name, const char *path)
{
    const lpnas_graph *g = lpnas_net_graph(net);
    uint32_t K = get_u32(r);
    if (r->bad)
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: truncated calibration", path);
    if (K != 0 && K != (uint32_t)g->count)
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: calibration of %u nodes for a graph of %d", path, K, g->count);
    float lo[LPNAS_GRAPH_MAX_NODES], hi[LPNAS_GRAPH_MAX_NODES], s[LPNAS_GRAPH_MAX_NODES];
    int32_t zp[LPNAS_GRAPH_MAX_NODES];
    for (uint32_t i = 0; i < K; i++) {
        get_f32s(r, &lo[i], 1), get_f32s(r, &hi[i], 1), get_f32s(r, &s[i], 1);
        zp[i] = (int32_t)get_u32(r);
        if (r->bad)
            return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: truncated calibration", path);
        /* ranges of nodes folded into a conv stay unset (+inf..-inf) */
        if (!(s[i] > 0) || !isfinite(s[i]) || zp[i] < -128 || zp[i] > 127 || isnan(lo[i]) || isnan(hi[i]))
            return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: calibration of node %u: scale %g, zero point %d, range %g..%g",
                              path, i, (double)s[i], (int)zp[i], (double)lo[i], (double)hi[i]);
    }
    uint64_t W = get_u64(r);
    if (r->bad)
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: truncated calibration", path);
    if (K == 0 && W == 0)
        return LPNAS_OK;
    const lpnas_policy *pol = NULL;
    if (lpnas_policy_get(pol_name, &pol) != LPNAS_OK || !lpnas_policy_is_integer(pol))
        pol = NULL; /* ranges kept; scales recomputed for the policy of the next use */
    lpnas_status st = K ? lpnas_net_calib_restore(net, lo, hi, s, zp, pol) : LPNAS_OK;
    if (st)
        return st;
    if (W == 0)
        return LPNAS_OK;
    if (!K || !pol)
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: weight scales without a calibration in an integer policy ('%s')",
                          path, pol_name);
    /* the weight scales follow from the weights: the fold must give the
     * saved ones, else the file's weights and scales disagree */
    lpnas_net_fold(net, pol);
    size_t nws = lpnas_net_weight_scales(net, NULL);
    if (W != nws || W > (r->len - r->at) / 4)
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: %llu weight scales, the architecture has %zu output channels", path,
                          (unsigned long long)W, nws);
    float *ws = malloc((nws + 1) * sizeof *ws);
    if (!ws)
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", path);
    lpnas_net_weight_scales(net, ws);
    for (size_t k = 0; k < nws && !st; k++) {
        float v;
        get_f32s(r, &v, 1);
        uint32_t a, b;
        memcpy(&a, &v, 4), memcpy(&b, &ws[k], 4);
        if (a != b)
            st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: weight scale %zu is %g in the file, %g from the weights", path, k,
                            (double)v, (double)ws[k]);
    }
    free(ws);
    return st;
}

lpnas_status lpnas_model_load(const char *path, int batch, lpnas_net **out, char *policy, size_t policy_cap)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char hdr[24];
    size_t got = fread(hdr, 1, 24, f);
    if (got < 8 || memcmp(hdr, MAGIC, 8)) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: not an lpnas model file (bad magic)", path);
    }
    if (got < 24) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: truncated header", path);
    }
    rbuf h = {hdr, 24, 8, false};
    uint32_t version = get_u32(&h), plen = get_u32(&h), clen = get_u32(&h), crc = get_u32(&h);
    if (version < 1 || version > VERSION) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_FORMAT, "%s: model file version %u, this build reads 1..%u", path, version,
                          VERSION);
    }
    if (plen > MAX_PAYLOAD || clen > MAX_PAYLOAD || clen == 0) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: implausible sizes (%u, %u bytes)", path, plen, clen);
    }
    /* Sizes from the header are checked against the file's real length before
     * anything is allocated: the compressed bytes must be exactly what follows
     * the header, and zlib never inflates by more than 1032:1, so a payload
     * claim beyond that is a lie (a 119-byte file must not ask for gigabytes). */
    long here = ftell(f);
    long fsize = here >= 0 && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (fsize < 0 || fseek(f, here, SEEK_SET) != 0) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_IO, "%s: cannot determine the file size", path);
    }
    if ((uint64_t)fsize != 24u + (uint64_t)clen) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: the header says %u compressed bytes, the file holds %ld", path, clen,
                          fsize - 24);
    }
    if ((uint64_t)plen > (uint64_t)clen * 1032u + 64u) {
        fclose(f);
        return lpnas_fail(LPNAS_ERR_CORRUPT, "%s: payload of %u bytes cannot come from %u compressed bytes", path, plen,
                          clen);
    }
    unsigned char *z = malloc(clen), *p = malloc(plen ? plen : 1);
    if (!z || !p) {
        fclose(f), free(z), free(p);
        return lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory", path);
    }
    got = fread(z, 1, clen, f);
    int extra = fgetc(f);
    fclose(f);
    uLongf dlen = plen;
    lpnas_status st = LPNAS_OK;
    if (got != clen)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: truncated (%zu of %u compressed bytes)", path, got, clen);
    else if (extra != EOF)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: trailing bytes after the model", path);
    else if (uncompress(p, &dlen, z, clen) != Z_OK || dlen != plen)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: corrupt compressed data", path);
    else if ((uint32_t)crc32(0L, p, (uInt)plen) != crc)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: checksum mismatch", path);
    free(z);
    if (st) {
        free(p);
        return st;
    }
    rbuf r = {p, plen, 0, false};
    char arch_s[512], pol[64];
    get_str(&r, arch_s, sizeof arch_s);
    get_str(&r, pol, sizeof pol);
    uint32_t C = get_u32(&r);
    float mean[16] = {0}, stdv[16] = {0};
    if (C < 1 || C > 16)
        r.bad = true;
    for (uint32_t i = 0; i < C && i < 16; i++) {
        uint32_t u = get_u32(&r);
        memcpy(&mean[i], &u, 4);
    }
    for (uint32_t i = 0; i < C && i < 16; i++) {
        uint32_t u = get_u32(&r);
        memcpy(&stdv[i], &u, 4);
    }
    uint32_t th = get_u32(&r), tw = get_u32(&r);
    lpnas_arch a;
    lpnas_arch_stats as;
    lpnas_net *net = NULL;
    if (r.bad)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: malformed header fields", path);
    else if ((st = lpnas_arch_parse(arch_s, &a)))
        lpnas_error_prefix("%s: ", path);
    else if (th < 1 || tw < 1 || th > 8192 || tw > 8192)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: tile size %ux%u out of range (1..8192)", path, tw, th);
    else if ((st = lpnas_arch_stats_compute(&a, (int)th, (int)tw, &as)))
        lpnas_error_prefix("%s: ", path);
    else if (!params_fit(&r, &as, version)) {
        /* checked before the net is built: building allocates activations
         * for the tile size, which a corrupt file must not get to choose */
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: %lld parameters of '%s' do not match the %zu payload bytes left", path,
                        as.params, arch_s, r.len - r.at);
    } else if ((double)as.peak_act_bytes * (batch > 0 ? batch : 1) > MAX_ACT_BYTES)
        st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: %ux%u tiles need %.0f MB of activations at batch %d (limit %.0f MB)", path,
                        tw, th, (double)as.peak_act_bytes * batch / 1e6, batch, MAX_ACT_BYTES / 1e6);
    else {
        lpnas_net_options o = {batch, (int)th, (int)tw, 1};
        if ((st = lpnas_net_create(&a, &o, &net)))
            lpnas_error_prefix("%s: ", path);
    }
    if (!st) {
        uint64_t np = get_u64(&r);
        size_t nb;
        float *buf = lpnas_net_buffers(net, &nb);
        if (np != lpnas_net_param_count(net)) {
            st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: %llu parameters for an architecture of %zu", path,
                            (unsigned long long)np, lpnas_net_param_count(net));
        } else {
            get_f32s(&r, lpnas_net_params(net), (size_t)np);
            uint64_t m = get_u64(&r);
            if (m != nb)
                st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: %llu BN statistics, expected %zu", path, (unsigned long long)m, nb);
            else
                get_f32s(&r, buf, nb);
        }
        if (!st && (st = lpnas_net_set_normalization(net, mean, stdv)))
            lpnas_error_prefix("%s: ", path);
        if (!st && version >= 2)
            st = read_calibration(&r, net, pol, path);
        if (!st && (r.bad || r.at != r.len))
            st = lpnas_fail(LPNAS_ERR_CORRUPT, "%s: payload size does not match its contents", path);
    }
    free(p);
    if (st) {
        lpnas_net_free(net);
        return st;
    }
    if (policy && policy_cap)
        snprintf(policy, policy_cap, "%s", pol);
    *out = net;
    return LPNAS_OK;
}
