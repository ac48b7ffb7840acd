/* Internal: little-endian binary fields for state and checkpoint files.
 * A writer/reader remembers the first failure, so a sequence of calls is
 * checked once at the end; the reader never reads past what the file has. */
#ifndef LPNAS_BASE_BINIO_H
#define LPNAS_BASE_BINIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    bool failed;   /* a short read/write happened */
    uint32_t crc;  /* running CRC-32 (IEEE) of every byte passed */
} lpnas_binio;

void lpnas_binio_init(lpnas_binio *b, FILE *f);
void lpnas_binio_bytes_w(lpnas_binio *b, const void *p, size_t n);
void lpnas_binio_bytes_r(lpnas_binio *b, void *p, size_t n);
void lpnas_binio_u32_w(lpnas_binio *b, uint32_t v);
void lpnas_binio_u64_w(lpnas_binio *b, uint64_t v);
void lpnas_binio_f64_w(lpnas_binio *b, double v);
void lpnas_binio_i32_w(lpnas_binio *b, int32_t v);
uint32_t lpnas_binio_u32_r(lpnas_binio *b);
uint64_t lpnas_binio_u64_r(lpnas_binio *b);
double lpnas_binio_f64_r(lpnas_binio *b);
int32_t lpnas_binio_i32_r(lpnas_binio *b);

/* CRC-32 (IEEE 802.3, the one zlib and PNG use) of a buffer, continuing `crc`
 * (start with 0). Bitwise table-free form: state files are small. */
uint32_t lpnas_crc32(uint32_t crc, const void *p, size_t n);

#endif
