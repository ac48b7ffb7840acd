/* The protobuf encoder of lib/protobuf.h. */
#include "lib/protobuf.h"

#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

void lpnas_pb_init(lpnas_pb *b)
{
    memset(b, 0, sizeof *b);
}

void lpnas_pb_free(lpnas_pb *b)
{
    free(b->data);
    lpnas_pb_init(b);
}

static void put(lpnas_pb *b, const void *p, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        uint8_t *q = realloc(b->data, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->data = q, b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void lpnas_pb_varint(lpnas_pb *b, uint64_t v)
{
    uint8_t out[10];
    size_t n = 0;
    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        out[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
    } while (v);
    put(b, out, n);
}

void lpnas_pb_tag(lpnas_pb *b, int field, int wire_type)
{
    lpnas_pb_varint(b, ((uint64_t)(unsigned)field << 3) | (unsigned)wire_type);
}

void lpnas_pb_uint_field(lpnas_pb *b, int field, uint64_t v)
{
    lpnas_pb_tag(b, field, WIRE_VARINT);
    lpnas_pb_varint(b, v);
}

void lpnas_pb_int_field(lpnas_pb *b, int field, int64_t v)
{
    /* int32/int64 fields carry two's complement in 64 bits (not zigzag) */
    lpnas_pb_uint_field(b, field, (uint64_t)v);
}

void lpnas_pb_float_field(lpnas_pb *b, int field, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    lpnas_pb_tag(b, field, WIRE_FIXED32);
    put(b, le, 4);
}

void lpnas_pb_bytes_field(lpnas_pb *b, int field, const void *p, size_t n)
{
    lpnas_pb_tag(b, field, WIRE_LEN);
    lpnas_pb_varint(b, n);
    put(b, p, n);
}

void lpnas_pb_string_field(lpnas_pb *b, int field, const char *s)
{
    lpnas_pb_bytes_field(b, field, s, strlen(s));
}

void lpnas_pb_message_field(lpnas_pb *b, int field, lpnas_pb *sub)
{
    if (sub->oom)
        b->oom = true;
    lpnas_pb_bytes_field(b, field, sub->data, sub->len);
    lpnas_pb_free(sub);
}

void lpnas_pb_append(lpnas_pb *b, const lpnas_pb *src)
{
    if (src->oom)
        b->oom = true;
    put(b, src->data, src->len);
}
