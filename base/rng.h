/* Internal: explicit-state random numbers (no rand(), no hidden state).
 * xoshiro256** seeded through splitmix64. Streams for a candidate derive
 * from (seed, id, purpose) with lpnas_rng_derive so results never depend on
 * which thread ran first. State is four words: save it, load it, done. */
#ifndef LPNAS_BASE_RNG_H
#define LPNAS_BASE_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; } lpnas_rng;

void     lpnas_rng_seed(lpnas_rng *r, uint64_t seed);
/* A stream fully determined by (seed, a, b): e.g. (search seed, candidate id, purpose). */
void     lpnas_rng_derive(lpnas_rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t lpnas_rng_u64(lpnas_rng *r);
uint32_t lpnas_rng_u32(lpnas_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t lpnas_rng_below(lpnas_rng *r, uint64_t n);
/* Uniform float in [0, 1) with 24 random bits; double with 53. */
float    lpnas_rng_uniform(lpnas_rng *r);
double   lpnas_rng_uniform_f64(lpnas_rng *r);
/* Standard normal (Box–Muller in double, no cached second value so the
 * state stays four words). */
double   lpnas_rng_normal(lpnas_rng *r);

#endif
