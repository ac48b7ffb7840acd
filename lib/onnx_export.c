/* ONNX export (include/lpnas/onnx.h, docs/deploy.md). One walk over the
 * node graph the engine runs, with the engine's own fusion decisions (a BN
 * right after a conv is folded into it: lpnas_net_bn_is_folded) and the
 * engine's folded weights (lpnas_net_fold), so the file cannot describe a
 * different network than lpnas_net_infer computes.
 *
 * ONNX is protobuf (onnx/onnx.proto, proto2 syntax); the field numbers used
 * here are listed beside each message writer. Repeated scalars are written
 * unpacked, which every proto2 parser reads. */
#include "lpnas/onnx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "kernels/conv2d.h"
#include "kernels/deconv2d.h"
#include "lib/net_internal.h"
#include "lib/protobuf.h"
#include "lpnas/policy.h"
#include "lpnas/qnet.h"

/* TensorProto.DataType */
enum { ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT8 = 3, ONNX_INT32 = 6, ONNX_FLOAT16 = 10 };
/* AttributeProto.AttributeType */
enum { ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS = 7 };

#define NAME_LEN 32

typedef struct {
    lpnas_pb g;                 /* the GraphProto, nodes and initializers appended as they come */
    int elem;                   /* element type of the network's tensors */
    const lpnas_policy *wpol;   /* float16: how folded weights become binary16 bits (exact: already rounded) */
    int nodes;                  /* for unique node names */
    bool relu6_consts;          /* Clip's min/max initializers written */
    uint64_t scales;            /* bit f: Resize's scales for factor f written */
    bool qdq;                   /* integer policy: QuantizeLinear/DequantizeLinear form (lib/onnx_qdq.c) */
    bool qdq_u8;                /* activations as uint8 codes, zero point + 128 (the ONNX Runtime rule) */
} exporter;



void lpnas_onnx_options_default(lpnas_onnx_options *o)
{
    memset(o, 0, sizeof *o);
    o->precision = LPNAS_ONNX_FLOAT32;
    o->opset = LPNAS_ONNX_OPSET_MIN;
    o->normalization = true;
}

/* ---- small message writers ---------------------------------------------- */

/* AttributeProto: name 1, f 2, i 3, s 4, ints 8, type 20. Appended to a NodeProto as field 5. */
static void attr_int(lpnas_pb *node, const char *name, int64_t v)
{
    lpnas_pb a;
    lpnas_pb_init(&a);
    lpnas_pb_string_field(&a, 1, name);
    lpnas_pb_uint_field(&a, 20, ATTR_INT);
    lpnas_pb_int_field(&a, 3, v);
    lpnas_pb_message_field(node, 5, &a);
}

static void attr_ints(lpnas_pb *node, const char *name, const int64_t *v, int n)
{
    lpnas_pb a;
    lpnas_pb_init(&a);
    lpnas_pb_string_field(&a, 1, name);
    lpnas_pb_uint_field(&a, 20, ATTR_INTS);
    for (int k = 0; k < n; k++)
        lpnas_pb_int_field(&a, 8, v[k]);
    lpnas_pb_message_field(node, 5, &a);
}

static void attr_string(lpnas_pb *node, const char *name, const char *s)
{
    lpnas_pb a;
    lpnas_pb_init(&a);
    lpnas_pb_string_field(&a, 1, name);
    lpnas_pb_uint_field(&a, 20, ATTR_STRING);
    lpnas_pb_string_field(&a, 4, s);
    lpnas_pb_message_field(node, 5, &a);
}

static void attr_pair(lpnas_pb *node, const char *name, int a, int b)
{
    int64_t v[2] = {a, b};
    attr_ints(node, name, v, 2);
}

/* NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. The caller
 * has put the attributes into *attrs (or left it empty); it is consumed. */
static void node(exporter *e, const char *op, const char *const *in, int nin, const char *out, lpnas_pb *attrs)
{
    lpnas_pb n;
    lpnas_pb_init(&n);
    for (int k = 0; k < nin; k++)
        lpnas_pb_string_field(&n, 1, in[k]);
    lpnas_pb_string_field(&n, 2, out);
    char name[NAME_LEN + 16];
    snprintf(name, sizeof name, "%s_%d", op, e->nodes++);
    lpnas_pb_string_field(&n, 3, name);
    lpnas_pb_string_field(&n, 4, op);
    if (attrs) { /* already encoded as fields 5 of a NodeProto */
        lpnas_pb_append(&n, attrs);
        lpnas_pb_free(attrs);
    }
    lpnas_pb_message_field(&e->g, 1, &n);
}

static void node1(exporter *e, const char *op, const char *in, const char *out)
{
    node(e, op, &in, 1, out, NULL);
}

/* Little-endian bytes of floats or of their binary16 bits. */
static lpnas_status tensor_bytes(const exporter *e, int elem, const float *x, size_t n, uint8_t **out, size_t *len)
{
    size_t es = elem == ONNX_FLOAT16 ? 2 : 4;
    uint8_t *p = malloc(n * es + 1);
    lpnas_f16 *h = elem == ONNX_FLOAT16 ? malloc(n * sizeof *h + 1) : NULL;
    if (!p || (elem == ONNX_FLOAT16 && !h)) {
        free(p), free(h);
        return lpnas_fail(LPNAS_ERR_NOMEM, "onnx export: out of memory for a tensor of %zu values", n);
    }
    if (elem == ONNX_FLOAT16) {
        lpnas_policy_to_device(e->wpol, h, x, n);
        for (size_t k = 0; k < n; k++)
            p[2 * k] = (uint8_t)h[k].bits, p[2 * k + 1] = (uint8_t)(h[k].bits >> 8);
    } else {
        for (size_t k = 0; k < n; k++) {
            uint32_t u;
            memcpy(&u, &x[k], 4);
            for (int b = 0; b < 4; b++)
                p[4 * k + (size_t)b] = (uint8_t)(u >> (8 * b));
        }
    }
    free(h);
    *out = p, *len = n * es;
    return LPNAS_OK;
}

/* TensorProto as a graph initializer (GraphProto field 5): dims 1,
 * data_type 2, name 8, raw_data 9. */
static lpnas_status initializer(exporter *e, const char *name, int elem, const int64_t *dims, int nd, const float *x)
{
    size_t n = 1;
    for (int k = 0; k < nd; k++)
        n *= (size_t)dims[k];
    uint8_t *raw;
    size_t len;
    lpnas_status st = tensor_bytes(e, elem, x, n, &raw, &len);
    if (st)
        return st;
    lpnas_pb t;
    lpnas_pb_init(&t);
    for (int k = 0; k < nd; k++)
        lpnas_pb_int_field(&t, 1, dims[k]);
    lpnas_pb_int_field(&t, 2, elem);
    lpnas_pb_string_field(&t, 8, name);
    lpnas_pb_bytes_field(&t, 9, raw, len);
    free(raw);
    lpnas_pb_message_field(&e->g, 5, &t);
    return LPNAS_OK;
}

/* ValueInfoProto {name 1, type 2: TypeProto {tensor_type 1: {elem_type 1,
 * shape 2: TensorShapeProto {dim 1: {dim_value 1 | dim_param 2}}}}}.
 * dims[0] < 0 is the symbolic batch "N". */
static void value_info(lpnas_pb *graph, int field, const char *name, int elem, const int *dims)
{
    lpnas_pb shape, tensor, type, vi;
    lpnas_pb_init(&shape);
    for (int k = 0; k < 4; k++) {
        lpnas_pb d;
        lpnas_pb_init(&d);
        if (dims[k] < 0)
            lpnas_pb_string_field(&d, 2, "N");
        else
            lpnas_pb_int_field(&d, 1, dims[k]);
        lpnas_pb_message_field(&shape, 1, &d);
    }
    lpnas_pb_init(&tensor);
    lpnas_pb_int_field(&tensor, 1, elem);
    lpnas_pb_message_field(&tensor, 2, &shape);
    lpnas_pb_init(&type);
    lpnas_pb_message_field(&type, 1, &tensor);
    lpnas_pb_init(&vi);
    lpnas_pb_string_field(&vi, 1, name);
    lpnas_pb_message_field(&vi, 2, &type);
    lpnas_pb_message_field(graph, field, &vi);
}

#include "lib/onnx_qdq.inc"

/* ---- the graph ------------------------------------------------------------ */

/* image -> the network's input tensor "input": as lpnas_net's load_input,
 * the host conversion of the raw values (float16: to binary16 and back),
 * then (x - mean) * (1/std) in float32 -- the same two float32 operations
 * with the same constants, so the same bits -- then the device rounding. */
static lpnas_status emit_input(exporter *e, lpnas_net *net, bool normalization)
{
    const lpnas_graph *g = lpnas_net_graph(net);
    int c = g->node[0].c;
    const char *x = "image";
    lpnas_pb a;
    if (normalization) {
        float mean[16], std[16], inv[16];
        lpnas_net_get_normalization(net, mean, std);
        for (int k = 0; k < c; k++)
            inv[k] = 1.0f / std[k]; /* the engine multiplies by this float, not divides */
        int64_t dims[4] = {1, c, 1, 1};
        lpnas_status st = initializer(e, "norm_mean", ONNX_FLOAT, dims, 4, mean);
        if (!st)
            st = initializer(e, "norm_inv_std", ONNX_FLOAT, dims, 4, inv);
        if (st)
            return st;
        if (e->elem == ONNX_FLOAT16) {
            lpnas_pb_init(&a);
            attr_int(&a, "to", ONNX_FLOAT16);
            node(e, "Cast", &x, 1, "image_f16", &a);
            lpnas_pb_init(&a);
            attr_int(&a, "to", ONNX_FLOAT);
            x = "image_f16";
            node(e, "Cast", &x, 1, "image_host", &a);
            x = "image_host";
        }
        const char *sub[2] = {x, "norm_mean"}, *mul[2] = {"image_centered", "norm_inv_std"};
        node(e, "Sub", sub, 2, "image_centered", NULL);
        node(e, "Mul", mul, 2, e->elem == ONNX_FLOAT16 ? "image_normalized" : "input", NULL);
        x = "image_normalized";
    }
    if (e->elem == ONNX_FLOAT16) {
        lpnas_pb_init(&a);
        attr_int(&a, "to", ONNX_FLOAT16);
        node(e, "Cast", &x, 1, "input", &a);
    } else if (!normalization) {
        node1(e, "Identity", x, "input");
    }
    return LPNAS_OK;
}

static lpnas_status emit_conv(exporter *e, lpnas_net *net, int i, const char *in, const char *out)
{
    const lpnas_node *nd = &lpnas_net_graph(net)->node[i];
    const float *w, *b;
    lpnas_net_folded(net, i, &w, &b);
    char wn[NAME_LEN], bn[NAME_LEN];
    snprintf(wn, sizeof wn, "w%d", i);
    snprintf(bn, sizeof bn, "b%d", i);
    lpnas_pb a;
    lpnas_pb_init(&a);
    lpnas_status st;
    if (nd->kind == LPNAS_NODE_CONV) {
        /* the kernel's own parameters: padding, dilation and stride as conv2d runs them */
        lpnas_conv_params p = lpnas_conv_params_make(nd->kernel, nd->stride, nd->groups);
        int64_t wd[4] = {nd->c, nd->in_c / p.groups, p.kh, p.kw}, pads[4] = {p.pad_h, p.pad_w, p.pad_h, p.pad_w};
        st = e->qdq ? qdq_weights(e, net, i, wd, 0, wn, bn) : initializer(e, wn, e->elem, wd, 4, w);
        attr_pair(&a, "kernel_shape", p.kh, p.kw);
        attr_pair(&a, "strides", p.stride_h, p.stride_w);
        attr_ints(&a, "pads", pads, 4);
        attr_pair(&a, "dilations", p.dil_h, p.dil_w);
        attr_int(&a, "group", p.groups);
    } else {
        /* ConvTranspose weight is [C][OC/group][k][k], the layout deconv2d keeps */
        lpnas_deconv_params p = lpnas_deconv_params_make(nd->kernel, nd->stride);
        const lpnas_conv_params *c = &p.conv;
        int64_t wd[4] = {nd->in_c, nd->c / c->groups, c->kh, c->kw}, pads[4] = {c->pad_h, c->pad_w, c->pad_h, c->pad_w};
        st = e->qdq ? qdq_weights(e, net, i, wd, 1, wn, bn) : initializer(e, wn, e->elem, wd, 4, w);
        attr_pair(&a, "kernel_shape", c->kh, c->kw);
        attr_pair(&a, "strides", c->stride_h, c->stride_w);
        attr_ints(&a, "pads", pads, 4);
        attr_pair(&a, "output_padding", p.out_pad_h, p.out_pad_w);
        attr_pair(&a, "dilations", c->dil_h, c->dil_w);
        attr_int(&a, "group", c->groups);
    }
    int64_t bd[1] = {nd->c};
    if (!st && !e->qdq)
        st = initializer(e, bn, e->elem, bd, 1, b);
    if (st) {
        lpnas_pb_free(&a);
        return st;
    }
    const char *ins[3] = {in, wn, bn};
    node(e, nd->kind == LPNAS_NODE_CONV ? "Conv" : "ConvTranspose", ins, 3, out, &a);
    return LPNAS_OK;
}

static lpnas_status emit_node(exporter *e, lpnas_net *net, int i, const char *in0, const char *in1, const char *out)
{
    const lpnas_node *nd = &lpnas_net_graph(net)->node[i];
    lpnas_pb a;
    switch (nd->kind) {
    case LPNAS_NODE_CONV:
    case LPNAS_NODE_DECONV:
        return emit_conv(e, net, i, in0, out);
    case LPNAS_NODE_ACT:
        if (nd->act == 0) {
            node1(e, "Relu", in0, out);
        } else { /* ReLU6 = Clip(x, 0, 6): 0 and 6 are exact in binary16 and clipping commutes with rounding */
            if (!e->relu6_consts) {
                float lo = 0, hi = 6;
                lpnas_status st = initializer(e, "relu6_min", e->elem, NULL, 0, &lo);
                if (!st)
                    st = initializer(e, "relu6_max", e->elem, NULL, 0, &hi);
                if (st)
                    return st;
                e->relu6_consts = true;
            }
            const char *ins[3] = {in0, "relu6_min", "relu6_max"};
            node(e, "Clip", ins, 3, out, NULL);
        }
        return LPNAS_OK;
    case LPNAS_NODE_MAXPOOL: {
        int64_t pads[4] = {0, 0, 0, 0}; /* the engine pools with padding 0 */
        lpnas_pb_init(&a);
        attr_pair(&a, "kernel_shape", nd->kernel, nd->kernel);
        attr_pair(&a, "strides", nd->stride, nd->stride);
        attr_ints(&a, "pads", pads, 4);
        node(e, "MaxPool", &in0, 1, out, &a);
        return LPNAS_OK;
    }
    case LPNAS_NODE_UPSAMPLE: {
        /* kernels/upsample.c: nearest reads source oy / f (floor), i.e. ONNX
         * "asymmetric" + "floor"; bilinear samples at (d + 0.5) / f - 0.5
         * clamped to [0, size - 1], i.e. ONNX "half_pixel" (ORT clamps the
         * same way). Verified against ONNX Runtime by test/test_onnx.c. */
        char sn[NAME_LEN];
        snprintf(sn, sizeof sn, "scales_x%d", nd->stride);
        float sc[4] = {1, 1, (float)nd->stride, (float)nd->stride};
        int64_t sd[1] = {4};
        if (nd->stride < 1 || nd->stride > 63)
            return lpnas_fail(LPNAS_ERR_UNSUPPORTED, "onnx export: node %d: upsampling factor %d", i, nd->stride);
        if (!(e->scales >> nd->stride & 1)) { /* one initializer per factor: names are unique */
            lpnas_status st = initializer(e, sn, ONNX_FLOAT, sd, 1, sc);
            if (st)
                return st;
            e->scales |= 1ull << nd->stride;
        }
        lpnas_pb_init(&a);
        if (nd->act) {
            attr_string(&a, "mode", "linear");
            attr_string(&a, "coordinate_transformation_mode", "half_pixel");
        } else {
            attr_string(&a, "mode", "nearest");
            attr_string(&a, "coordinate_transformation_mode", "asymmetric");
            attr_string(&a, "nearest_mode", "floor");
        }
        const char *ins[3] = {in0, "", sn};
        node(e, "Resize", ins, 3, out, &a);
        return LPNAS_OK;
    }
    case LPNAS_NODE_ADD: {
        const char *ins[2] = {in0, in1};
        node(e, "Add", ins, 2, out, NULL);
        return LPNAS_OK;
    }
    case LPNAS_NODE_CONCAT: {
        const char *ins[2] = {in0, in1};
        lpnas_pb_init(&a);
        attr_int(&a, "axis", 1);
        node(e, "Concat", ins, 2, out, &a);
        return LPNAS_OK;
    }
    case LPNAS_NODE_BN: /* folded ones never get here */
        return lpnas_fail(LPNAS_ERR_UNSUPPORTED,
                          "onnx export: node %d: batch norm not right after a conv cannot be folded; not exported", i);
    case LPNAS_NODE_INPUT:
        break;
    }
    return lpnas_fail(LPNAS_ERR_UNSUPPORTED, "onnx export: node %d: kind %d has no ONNX mapping", i, (int)nd->kind);
}

/* The node walk: tensor names follow the engine's aliases (a folded BN has
 * no tensor of its own; it reads as its conv's output). */
static lpnas_status emit_graph(exporter *e, lpnas_net *net, bool normalization)
{
    const lpnas_graph *g = lpnas_net_graph(net);
    char(*name)[NAME_LEN] = calloc((size_t)g->count, NAME_LEN);
    if (!name)
        return lpnas_fail(LPNAS_ERR_NOMEM, "onnx export: out of memory");
    int last = g->count - 1;
    int out_node = lpnas_net_bn_is_folded(net, last) ? last - 1 : last;
    snprintf(name[0], NAME_LEN, "input");
    lpnas_status st = emit_input(e, net, normalization);
    if (!st && e->qdq)
        st = qdq_tensor(e, net, 0, "input", name[0]);
    for (int i = 1; i < g->count && !st; i++) {
        const lpnas_node *nd = &g->node[i];
        if (lpnas_net_bn_is_folded(net, i)) {
            memcpy(name[i], name[i - 1], NAME_LEN);
            continue;
        }
        if (i == out_node)
            snprintf(name[i], NAME_LEN, "%s", e->elem == ONNX_FLOAT16 ? "logits_f16" : "logits");
        else
            snprintf(name[i], NAME_LEN, "t%d", i);
        bool quantize = e->qdq && qdq_final(net, i);
        char final[NAME_LEN];
        if (quantize) { /* the float op writes f<i>; Q/DQ make name[i] */
            memcpy(final, name[i], NAME_LEN);
            snprintf(name[i], NAME_LEN, "f%d", i);
        }
        if (nd->in[0] < 0 || nd->in[0] >= i || (nd->in[1] >= i) ||
            ((nd->kind == LPNAS_NODE_ADD || nd->kind == LPNAS_NODE_CONCAT) && nd->in[1] < 0)) {
            st = lpnas_fail(LPNAS_ERR_UNSUPPORTED, "onnx export: node %d: inputs %d, %d are not earlier nodes", i,
                            nd->in[0], nd->in[1]);
            break;
        }
        st = emit_node(e, net, i, name[nd->in[0]], nd->in[1] >= 0 ? name[nd->in[1]] : NULL, name[i]);
        if (!st && quantize) {
            st = qdq_tensor(e, net, i, name[i], final);
            memcpy(name[i], final, NAME_LEN);
        }
    }
    free(name);
    if (st)
        return st;
    lpnas_pb a;
    if (e->elem == ONNX_FLOAT16) { /* the engine computes the sigmoid in fp32 from device-format logits */
        lpnas_pb_init(&a);
        attr_int(&a, "to", ONNX_FLOAT);
        const char *x = "logits_f16";
        node(e, "Cast", &x, 1, "logits", &a);
    }
    node1(e, "Sigmoid", "logits", "probability");
    const lpnas_node *in = &g->node[0], *o = &g->node[last];
    int di[4] = {-1, in->c, in->h, in->w}, dout[4] = {-1, o->c, o->h, o->w};
    value_info(&e->g, 11, "image", ONNX_FLOAT, di);
    value_info(&e->g, 12, "logits", ONNX_FLOAT, dout);
    value_info(&e->g, 12, "probability", ONNX_FLOAT, dout);
    lpnas_pb_string_field(&e->g, 2, "lpnas");
    return LPNAS_OK;
}

/* ModelProto.metadata_props (field 14): StringStringEntryProto {key 1, value 2}. */
static void meta(lpnas_pb *m, const char *key, const char *value)
{
    lpnas_pb kv;
    lpnas_pb_init(&kv);
    lpnas_pb_string_field(&kv, 1, key);
    lpnas_pb_string_field(&kv, 2, value);
    lpnas_pb_message_field(m, 14, &kv);
}

/* The IR version of the ONNX release that introduced each opset (onnx/helper.py's
 * table): a runtime reads a file whose IR version it knows. */
static int ir_version(int opset)
{
    return opset <= 13 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

static void model_metadata(lpnas_pb *m, lpnas_net *net, const lpnas_onnx_options *o, const lpnas_policy *wpol)
{
    char buf[1024];
    lpnas_arch_format(lpnas_net_arch(net), buf, sizeof buf);
    meta(m, "lpnas.arch", buf);
    meta(m, "lpnas.policy", o->policy ? lpnas_policy_name(o->policy) : "fp32");
    meta(m, "lpnas.weights", o->precision == LPNAS_ONNX_FLOAT16 ? "float16" : "float32");
    snprintf(buf, sizeof buf, "BN folded, host conversion of %s", lpnas_policy_name(wpol));
    meta(m, "lpnas.weight_conversion", buf);
    int batch, h, w;
    lpnas_net_size(net, &batch, &h, &w);
    snprintf(buf, sizeof buf, "%dx%d", h, w);
    meta(m, "lpnas.tile", buf);
    if (o->normalization) {
        float mean[16], std[16];
        int c = lpnas_net_arch(net)->in_channels;
        size_t n = 0;
        lpnas_net_get_normalization(net, mean, std);
        for (int k = 0; k < c && n < sizeof buf; k++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%smean=%.9g std=%.9g", k ? "; " : "", (double)mean[k],
                                  (double)std[k]);
        meta(m, "lpnas.normalization", buf);
    } else {
        meta(m, "lpnas.normalization", "none: the input is already normalized");
    }
    meta(m, "lpnas.mask", "vessel where probability > 0.5 (logits > 0)");
    meta(m, "lpnas.version", lpnas_version());
    if (o->provenance && *o->provenance)
        meta(m, "lpnas.provenance", o->provenance);
}

static lpnas_status write_file(const char *path, const lpnas_pb *m)
{
    /* a temporary name in the same directory, then rename: never a partial file at `path` */
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return lpnas_fail(LPNAS_ERR_NOMEM, "onnx export: out of memory");
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        lpnas_status st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot create (as %s first): %s", path, tmp, strerror(errno));
        free(tmp);
        return st;
    }
    bool ok = fwrite(m->data, 1, m->len, f) == m->len;
    ok = (fclose(f) == 0) && ok;
    int err = errno;
    if (!ok || rename(tmp, path)) {
        if (ok)
            err = errno;
        remove(tmp);
        lpnas_status st = lpnas_fail(LPNAS_ERR_IO, "%s: cannot write: %s", ok ? path : tmp, strerror(err));
        free(tmp);
        return st;
    }
    free(tmp);
    return LPNAS_OK;
}

lpnas_status lpnas_model_export_onnx(lpnas_net *net, const lpnas_onnx_options *o, const char *path)
{
    lpnas_onnx_options def;
    if (!o) {
        lpnas_onnx_options_default(&def);
        o = &def;
    }
    if (!net || !path || !*path)
        return lpnas_fail(LPNAS_ERR_ARG, "onnx export: %s", !net ? "NULL net" : "no output path");
    if (o->opset < LPNAS_ONNX_OPSET_MIN || o->opset > LPNAS_ONNX_OPSET_MAX)
        return lpnas_fail(LPNAS_ERR_ARG, "onnx export: opset %d (supported %d..%d)", o->opset, LPNAS_ONNX_OPSET_MIN,
                          LPNAS_ONNX_OPSET_MAX);
    if (o->precision != LPNAS_ONNX_FLOAT32 && o->precision != LPNAS_ONNX_FLOAT16)
        return lpnas_fail(LPNAS_ERR_ARG, "onnx export: precision %d (0 float32, 1 float16)", (int)o->precision);
    exporter e;
    memset(&e, 0, sizeof e);
    lpnas_pb_init(&e.g);
    e.elem = o->precision == LPNAS_ONNX_FLOAT16 ? ONNX_FLOAT16 : ONNX_FLOAT;
    /* float16 weights need a conversion: the policy's, or ieee-fp16's when
     * the model is fp32 -- the policy lpnas_net_infer must then be given to
     * compute with these very weights */
    e.wpol = o->policy;
    if (o->precision == LPNAS_ONNX_FLOAT16 && lpnas_policy_is_fp32(e.wpol)) {
        lpnas_status st = lpnas_policy_get("ieee-fp16", &e.wpol);
        if (st)
            return st;
    }
    if (!e.wpol)
        lpnas_policy_get("fp32", &e.wpol);
    if (lpnas_policy_is_integer(e.wpol)) {
        if (o->precision != LPNAS_ONNX_FLOAT32)
            return lpnas_fail(LPNAS_ERR_ARG, "onnx export: policy '%s' is an integer policy: QDQ form only "
                                             "(precision float32)", lpnas_policy_name(e.wpol));
        if (!lpnas_net_is_calibrated(net))
            return lpnas_fail(LPNAS_ERR_ARG, "onnx export: policy '%s': calibrate the network first",
                              lpnas_policy_name(e.wpol));
        e.qdq = true;
        lpnas_int_format f;
        lpnas_policy_int_format(e.wpol, &f);
        e.qdq_u8 = f.requant == LPNAS_REQUANT_ORT;
    }
    lpnas_net_fold(net, e.wpol);
    lpnas_status st = emit_graph(&e, net, o->normalization);
    if (st) {
        lpnas_pb_free(&e.g);
        return st;
    }
    lpnas_pb m, opset;
    lpnas_pb_init(&m);
    lpnas_pb_int_field(&m, 1, ir_version(o->opset));
    lpnas_pb_init(&opset); /* OperatorSetIdProto {domain 1 (default ""), version 2} */
    lpnas_pb_string_field(&opset, 1, "");
    lpnas_pb_int_field(&opset, 2, o->opset);
    lpnas_pb_message_field(&m, 8, &opset);
    lpnas_pb_string_field(&m, 2, "liblpnas");
    lpnas_pb_string_field(&m, 3, lpnas_version());
    lpnas_pb_string_field(&m, 6, "Vessel segmentation network exported by liblpnas (docs/deploy.md)");
    lpnas_pb_message_field(&m, 7, &e.g);
    model_metadata(&m, net, o, e.wpol);
    if (m.oom) {
        lpnas_pb_free(&m);
        return lpnas_fail(LPNAS_ERR_NOMEM, "onnx export: out of memory encoding %s", path);
    }
    st = write_file(path, &m);
    lpnas_pb_free(&m);
    return st;
}
