/* Internal: a minimal protocol-buffers encoder (writer only), enough for
 * ONNX files. The wire format needs two things here: base-128 varints
 * (wire type 0: integers, enums) and length-delimited fields (wire type 2:
 * strings, bytes, nested messages); floats inside attributes are fixed32
 * (wire type 5). A nested message is built in its own buffer, then appended
 * with its length in front (protobuf has no end marker).
 *
 * Errors are sticky: after an allocation failure every call is a no-op and
 * `oom` stays set, so a writer checks once at the end. */
#ifndef LPNAS_LIB_PROTOBUF_H
#define LPNAS_LIB_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len, cap;
    bool oom;
} lpnas_pb;

void lpnas_pb_init(lpnas_pb *b);
void lpnas_pb_free(lpnas_pb *b);

/* Raw base-128 varint: 7 bits per byte, least significant group first, the
 * top bit of each byte set while more follow (a negative int64 takes 10 bytes,
 * as protobuf encodes int64 in two's complement). */
void lpnas_pb_varint(lpnas_pb *b, uint64_t v);
/* field number << 3 | wire type */
void lpnas_pb_tag(lpnas_pb *b, int field, int wire_type);

void lpnas_pb_uint_field(lpnas_pb *b, int field, uint64_t v);
void lpnas_pb_int_field(lpnas_pb *b, int field, int64_t v);
/* IEEE binary32, little-endian, wire type 5 */
void lpnas_pb_float_field(lpnas_pb *b, int field, float v);
void lpnas_pb_bytes_field(lpnas_pb *b, int field, const void *p, size_t n);
void lpnas_pb_string_field(lpnas_pb *b, int field, const char *s);
/* Appends the bytes of `src` as they are (fields already encoded). */
void lpnas_pb_append(lpnas_pb *b, const lpnas_pb *src);
/* Appends `sub` as a length-delimited field and frees it (sub's error is inherited). */
void lpnas_pb_message_field(lpnas_pb *b, int field, lpnas_pb *sub);

#endif
