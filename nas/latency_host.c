/* The host profiler: times the library's own kernels for the layers of a
 * layer list on this CPU (one thread) and fills a latency table, so the
 * search can target the machine it runs on. Also the additivity check:
 * does the sum of per-layer times predict the whole list run back to back? */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "kernels/activation.h"
#include "kernels/batchnorm.h"
#include "kernels/blas.h"
#include "kernels/conv2d.h"
#include "kernels/deconv2d.h"
#include "kernels/eltwise.h"
#include "kernels/pool.h"
#include "kernels/upsample.h"
#include "lpnas/policy.h"
#include "nas/latency_internal.h"

#if defined(__clang__)
#define LPNAS_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define LPNAS_COMPILER "gcc " __VERSION__
#else
#define LPNAS_COMPILER "unknown compiler"
#endif

void lpnas_profile_options_default(lpnas_profile_options *o)
{
    memset(o, 0, sizeof *o);
    o->warmup = 2;
    o->repetitions = 7;
    o->policy = "fp32";
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Buffers big enough for every layer of the list (one allocation each). */
typedef struct {
    float *in, *in2, *out, *w, *bias, *ws, *stats;
    int32_t *idx;
    size_t n_in, n_out, n_w, n_ws, n_c;
    const lpnas_policy *policy;
} bufs;

static lpnas_conv_params conv_params(const lpnas_layer *y)
{
    lpnas_conv_params p = lpnas_conv_params_make(y->kernel, y->stride, y->groups);
    p.dil_h = p.dil_w = y->dilation;
    p.pad_h = p.pad_w = y->dilation * (y->kernel - 1) / 2;
    return p;
}

static lpnas_deconv_params deconv_params(const lpnas_layer *y)
{
    lpnas_deconv_params p = lpnas_deconv_params_make(y->kernel, y->stride);
    p.conv.groups = y->groups;
    return p;
}

static lpnas_pool_params pool_params(const lpnas_layer *y)
{
    lpnas_pool_params p = {y->kernel, y->stride, (y->kernel - 1) / 2};
    return p;
}

/* Sizes a layer needs; validates it against the kernels' own checks. */
static lpnas_status layer_sizes(const lpnas_layer *y, size_t *n_in, size_t *n_out, size_t *n_w, size_t *n_ws)
{
    lpnas_shape s = {1, y->in_c, y->in_h, y->in_w}, o = s;
    *n_w = *n_ws = 0;
    lpnas_status st = LPNAS_OK;
    switch (y->op) {
    case LPNAS_OP_CONV: {
        lpnas_conv_params p = conv_params(y);
        st = lpnas_conv2d_check(s, y->out_c, &p, &o);
        *n_w = (size_t)y->out_c * (y->in_c / y->groups) * y->kernel * y->kernel;
        *n_ws = lpnas_conv2d_workspace(s, y->out_c, &p);
        break;
    }
    case LPNAS_OP_DECONV: {
        lpnas_deconv_params p = deconv_params(y);
        st = lpnas_deconv2d_check(s, y->out_c, &p, &o);
        *n_w = (size_t)y->in_c * (y->out_c / y->groups) * y->kernel * y->kernel;
        *n_ws = lpnas_deconv2d_workspace(s, y->out_c, &p);
        break;
    }
    case LPNAS_OP_MAXPOOL:
    case LPNAS_OP_AVGPOOL: {
        lpnas_pool_params p = pool_params(y);
        st = lpnas_pool_check(s, &p, &o);
        break;
    }
    case LPNAS_OP_GLOBAL_AVGPOOL:
        o.h = o.w = 1;
        break;
    case LPNAS_OP_FC:
        o = (lpnas_shape){1, y->out_c, 1, 1};
        s = (lpnas_shape){1, y->in_c * y->in_h * y->in_w, 1, 1};
        *n_w = (size_t)s.c * y->out_c;
        break;
    case LPNAS_OP_UPSAMPLE_NEAREST:
    case LPNAS_OP_UPSAMPLE_BILINEAR:
        st = lpnas_upsample_check(s, y->stride, &o);
        break;
    case LPNAS_OP_CONCAT:
        /* profiled as two halves of in_c joined: each half needs a channel,
         * else the output (2 channels) overruns a 1-channel buffer */
        if (y->in_c < 2)
            st = lpnas_fail(LPNAS_ERR_ARG, "concat row with %d input channel(s): the profiler needs at least 2",
                            y->in_c);
        break;
    case LPNAS_OP_DETECTION_OUTPUT:
        st = lpnas_fail(LPNAS_ERR_UNSUPPORTED, "no host kernel for detection_output (device post-processing); "
                                             "time it on the device (--import-openvino-counters)");
        break;
    default:
        break;
    }
    if (st)
        return st;
    *n_in = lpnas_shape_numel(s);
    *n_out = lpnas_shape_numel(o);
    return LPNAS_OK;
}

static void run_layer(const lpnas_layer *y, bufs *b)
{
    lpnas_shape s = {1, y->in_c, y->in_h, y->in_w};
    lpnas_act act = (lpnas_act)y->act; /* the same numbering: none, relu, relu6 */
    size_t n = lpnas_shape_numel(s);
    switch (y->op) {
    case LPNAS_OP_CONV: {
        lpnas_conv_params p = conv_params(y);
        lpnas_conv2d_forward(b->out, b->in, b->w, b->bias, s, y->out_c, &p, act, b->policy, b->ws);
        break;
    }
    case LPNAS_OP_DECONV: {
        lpnas_deconv_params p = deconv_params(y);
        lpnas_deconv2d_forward(b->out, b->in, b->w, b->bias, s, y->out_c, &p, act, b->policy, b->ws);
        break;
    }
    case LPNAS_OP_MAXPOOL: {
        lpnas_pool_params p = pool_params(y);
        lpnas_maxpool_forward(b->out, b->idx, b->in, s, &p, b->policy);
        break;
    }
    case LPNAS_OP_AVGPOOL: {
        lpnas_pool_params p = pool_params(y);
        lpnas_avgpool_forward(b->out, b->in, s, &p, b->policy);
        break;
    }
    case LPNAS_OP_GLOBAL_AVGPOOL:
        lpnas_global_avgpool_forward(b->out, b->in, s, b->policy);
        break;
    case LPNAS_OP_FC:
        lpnas_sgemm(false, false, 1, y->out_c, (int)n, 1.0f, b->in, (int)n, b->w, y->out_c, 0.0f, b->out, y->out_c);
        lpnas_policy_round(b->policy, b->out, (size_t)y->out_c);
        break;
    case LPNAS_OP_ADD:
        lpnas_add_forward(b->out, b->in, b->in2, n, b->policy);
        break;
    case LPNAS_OP_CONCAT: {
        lpnas_shape a = s, c = s;
        a.c = y->in_c / 2 > 0 ? y->in_c / 2 : 1;
        c.c = y->in_c - a.c > 0 ? y->in_c - a.c : 1;
        lpnas_concat_forward(b->out, b->in, b->in2, a, c);
        break;
    }
    case LPNAS_OP_UPSAMPLE_NEAREST:
    case LPNAS_OP_UPSAMPLE_BILINEAR:
        lpnas_upsample_forward(b->out, b->in, s, y->stride,
                               y->op == LPNAS_OP_UPSAMPLE_NEAREST ? LPNAS_UPSAMPLE_NEAREST : LPNAS_UPSAMPLE_BILINEAR,
                               b->policy);
        break;
    case LPNAS_OP_BN: {
        lpnas_bn_params p = lpnas_bn_params_default();
        float *c = b->stats;
        lpnas_bn_forward_infer(b->out, b->in, c, c + y->in_c, c + 2 * (size_t)y->in_c, c + 3 * (size_t)y->in_c, s, &p,
                               b->policy);
        break;
    }
    case LPNAS_OP_RELU:
        lpnas_activation_forward(b->out, b->in, n, LPNAS_ACTFN_RELU, b->policy);
        break;
    default:
        break;
    }
}

static void bufs_free(bufs *b)
{
    free(b->in), free(b->in2), free(b->out), free(b->w), free(b->bias), free(b->ws), free(b->stats), free(b->idx);
}

static lpnas_status bufs_alloc(const lpnas_layer_list *list, const char *policy, bufs *b)
{
    memset(b, 0, sizeof *b);
    lpnas_status st = lpnas_policy_get(policy ? policy : "fp32", &b->policy);
    if (st)
        return st;
    for (size_t i = 0; i < list->count; i++) {
        const lpnas_layer *y = &list->layers[i];
        size_t ni, no, nw, nws;
        if ((st = layer_sizes(y, &ni, &no, &nw, &nws))) {
            lpnas_error_prefix("host profiler: layer %zu (%s): ", i + 1, lpnas_layer_op_name(y->op));
            return st;
        }
        b->n_in = ni > b->n_in ? ni : b->n_in;
        b->n_out = no > b->n_out ? no : b->n_out;
        b->n_w = nw > b->n_w ? nw : b->n_w;
        b->n_ws = nws > b->n_ws ? nws : b->n_ws;
        size_t c = (size_t)(y->in_c > y->out_c ? y->in_c : y->out_c);
        b->n_c = c > b->n_c ? c : b->n_c;
    }
    b->in = malloc(b->n_in * 4), b->in2 = malloc(b->n_in * 4), b->out = malloc(b->n_out * 4);
    b->w = malloc((b->n_w + 1) * 4), b->bias = malloc(b->n_c * 4), b->ws = malloc((b->n_ws + 1) * 4);
    b->stats = malloc(4 * b->n_c * 4), b->idx = malloc(b->n_out * sizeof *b->idx);
    if (!b->in || !b->in2 || !b->out || !b->w || !b->bias || !b->ws || !b->stats || !b->idx) {
        bufs_free(b);
        return lpnas_fail(LPNAS_ERR_NOMEM, "host profiler: out of memory for buffers");
    }
    /* values of an activation's scale; device values under a policy */
    for (size_t i = 0; i < b->n_in; i++)
        b->in[i] = b->in2[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (size_t i = 0; i < b->n_w; i++)
        b->w[i] = (float)((i * 40503u) % 1000) / 10000.0f - 0.05f;
    for (size_t i = 0; i < b->n_c; i++)
        b->bias[i] = 0.01f;
    for (size_t i = 0; i < 4 * b->n_c; i++)
        b->stats[i] = 1.0f;
    lpnas_policy_round_host(b->policy, b->in, b->n_in);
    lpnas_policy_round_host(b->policy, b->in2, b->n_in);
    lpnas_policy_round_host(b->policy, b->w, b->n_w);
    return LPNAS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void median_std(double *t, int n, double *med, double *sd)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    *med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    double mean = 0, v = 0;
    for (int i = 0; i < n; i++)
        mean += t[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        v += (t[i] - mean) * (t[i] - mean);
    *sd = n > 1 ? sqrt(v / (n - 1)) : 0;
}

/* The caller's options or the defaults, validated. */
static lpnas_status resolve_options(const lpnas_profile_options *opt, lpnas_profile_options *o)
{
    if (opt)
        *o = *opt;
    else
        lpnas_profile_options_default(o);
    if (o->warmup < 0 || o->warmup > 1000 || o->repetitions < 1 || o->repetitions > 100000)
        return lpnas_fail(LPNAS_ERR_ARG, "host profiler: warmup %d (0..1000), repetitions %d (1..100000)", o->warmup,
                          o->repetitions);
    return LPNAS_OK;
}

lpnas_status lpnas_latency_profile_host(const lpnas_layer_list *list, const lpnas_profile_options *opt,
                                        lpnas_latency_model **out)
{
    lpnas_profile_options o;
    *out = NULL;
    lpnas_status st = resolve_options(opt, &o);
    if (st)
        return st;
    bufs b;
    if ((st = bufs_alloc(list, o.policy, &b)))
        return st;
    lpnas_latency_model *m;
    if ((st = lpnas_latency_model_new(&m))) {
        bufs_free(&b);
        return st;
    }
    lpnas_blas_single_thread();
    m->fusions = LPNAS_FUSE_FOLD;
    snprintf(m->device, sizeof m->device, "host CPU (policy %s)", lpnas_policy_name(b.policy));
    snprintf(m->toolchain, sizeof m->toolchain, "liblpnas %s kernels, " LPNAS_COMPILER, lpnas_version());
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(m->date, sizeof m->date, "%Y-%m-%d", &tmv);
    snprintf(m->method, sizeof m->method, "median of %d runs after %d warm-up runs, batch 1, one thread",
             o.repetitions, o.warmup);
    snprintf(m->source, sizeof m->source, "host profile of this CPU (%s, measured per layer)", m->device);
    double *t = malloc((size_t)o.repetitions * sizeof *t);
    if (!t) {
        bufs_free(&b);
        lpnas_latency_model_free(m);
        return lpnas_fail(LPNAS_ERR_NOMEM, "host profiler: out of memory");
    }
    for (size_t i = 0; i < list->count && !st; i++) {
        const lpnas_layer *y = &list->layers[i];
        if (lpnas_layer_folded(list, i))
            continue;
        lpnas_lut_key key = lpnas_lut_key_of(y, false);
        if (lpnas_latency_model_find(m, &key))
            continue;
        for (int r = 0; r < o.warmup; r++)
            run_layer(y, &b);
        for (int r = 0; r < o.repetitions; r++) {
            double t0 = now_ms();
            run_layer(y, &b);
            t[r] = now_ms() - t0;
        }
        double med, sd;
        median_std(t, o.repetitions, &med, &sd);
        st = lpnas_latency_model_put(m, &key, med, sd, (uint32_t)o.repetitions);
        if (o.progress)
            o.progress(o.user, i + 1, list->count);
    }
    free(t);
    bufs_free(&b);
    if (st) {
        lpnas_latency_model_free(m);
        return st;
    }
    *out = m;
    return LPNAS_OK;
}

lpnas_status lpnas_latency_additivity(const lpnas_latency_model *m, const lpnas_layer_list *list,
                                      const lpnas_profile_options *opt, double *measured_ms, double *sum_ms)
{
    lpnas_profile_options o;
    lpnas_status st = resolve_options(opt, &o);
    if (st)
        return st;
    double total;
    if ((st = lpnas_latency_estimate(m, list, NULL, &total)))
        return st;
    *sum_ms = total - m->overhead_ms;
    bufs b;
    if ((st = bufs_alloc(list, o.policy, &b)))
        return st;
    double *t = malloc((size_t)o.repetitions * sizeof *t);
    if (!t) {
        bufs_free(&b);
        return lpnas_fail(LPNAS_ERR_NOMEM, "additivity: out of memory");
    }
    for (int r = -o.warmup; r < o.repetitions; r++) {
        double t0 = now_ms();
        for (size_t i = 0; i < list->count; i++)
            if (!lpnas_layer_folded(list, i))
                run_layer(&list->layers[i], &b);
        if (r >= 0)
            t[r] = now_ms() - t0;
    }
    double med, sd;
    median_std(t, o.repetitions, &med, &sd);
    *measured_ms = med;
    free(t);
    bufs_free(&b);
    return LPNAS_OK;
}
