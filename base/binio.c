#include "base/binio.h"

#include <string.h>

uint32_t lpnas_crc32(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *s = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= s[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void lpnas_binio_init(lpnas_binio *b, FILE *f)
{
    b->f = f;
    b->failed = false;
    b->crc = 0;
}

void lpnas_binio_bytes_w(lpnas_binio *b, const void *p, size_t n)
{
    if (b->failed) return;
    if (fwrite(p, 1, n, b->f) != n) {
        b->failed = true;
        return;
    }
    b->crc = lpnas_crc32(b->crc, p, n);
}

void lpnas_binio_bytes_r(lpnas_binio *b, void *p, size_t n)
{
    if (b->failed || fread(p, 1, n, b->f) != n) {
        b->failed = true;
        memset(p, 0, n);
        return;
    }
    b->crc = lpnas_crc32(b->crc, p, n);
}

void lpnas_binio_u64_w(lpnas_binio *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
    lpnas_binio_bytes_w(b, x, 8);
}

uint64_t lpnas_binio_u64_r(lpnas_binio *b)
{
    unsigned char x[8];
    lpnas_binio_bytes_r(b, x, 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)x[i] << (8 * i);
    return v;
}

void lpnas_binio_u32_w(lpnas_binio *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++) x[i] = (unsigned char)(v >> (8 * i));
    lpnas_binio_bytes_w(b, x, 4);
}

uint32_t lpnas_binio_u32_r(lpnas_binio *b)
{
    unsigned char x[4];
    lpnas_binio_bytes_r(b, x, 4);
    return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

void lpnas_binio_i32_w(lpnas_binio *b, int32_t v) { lpnas_binio_u32_w(b, (uint32_t)v); }
int32_t lpnas_binio_i32_r(lpnas_binio *b) { return (int32_t)lpnas_binio_u32_r(b); }

void lpnas_binio_f64_w(lpnas_binio *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    lpnas_binio_u64_w(b, u);
}

double lpnas_binio_f64_r(lpnas_binio *b)
{
    uint64_t u = lpnas_binio_u64_r(b);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
