#include "base/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void lpnas_rng_seed(lpnas_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    /* xoshiro must not start from the all-zero state; splitmix64 never
     * yields four zeros in a row, but keep the invariant explicit. */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

void lpnas_rng_derive(lpnas_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
    /* Mix each component through splitmix64 so that nearby (a, b) pairs give
     * unrelated streams. */
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ a;
    h = splitmix64(&x);
    x = h ^ b;
    lpnas_rng_seed(r, splitmix64(&x));
}

uint64_t lpnas_rng_u64(lpnas_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t lpnas_rng_u32(lpnas_rng *r) { return (uint32_t)(lpnas_rng_u64(r) >> 32); }

uint64_t lpnas_rng_below(lpnas_rng *r, uint64_t n)
{
    /* Rejection: accept only draws below the largest multiple of n. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = lpnas_rng_u64(r); while (x >= limit);
    return x % n;
}

float lpnas_rng_uniform(lpnas_rng *r)
{
    return (float)(lpnas_rng_u64(r) >> 40) * 0x1p-24f;
}

double lpnas_rng_uniform_f64(lpnas_rng *r)
{
    return (double)(lpnas_rng_u64(r) >> 11) * 0x1p-53;
}

double lpnas_rng_normal(lpnas_rng *r)
{
    double u1 = 1.0 - lpnas_rng_uniform_f64(r); /* (0, 1]: log is finite */
    double u2 = lpnas_rng_uniform_f64(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
