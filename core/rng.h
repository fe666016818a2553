/* Random numbers: xoshiro256** seeded through splitmix64, and FNV-1a
 * hashing of text keys so that every random stream of a run is a function of
 * its parameters and seed alone. */
#ifndef GROKSWEEP_RNG_H
#define GROKSWEEP_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} Rng;

/* 64-bit FNV-1a hash of a NUL-terminated string, finished with splitmix64
 * so nearby keys give unrelated seeds. */
uint64_t hash_string(const char *text);

void rng_seed(Rng *rng, uint64_t seed);
uint64_t rng_next(Rng *rng);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(Rng *rng);
/* Uniform integer in [0, n), without modulo bias. n > 0. */
uint64_t rng_below(Rng *rng, uint64_t n);
/* Standard normal deviate (Box-Muller, no cached second value). */
double rng_normal(Rng *rng);
/* Fisher-Yates shuffle of n ints. */
void rng_shuffle(Rng *rng, int *values, int n);

#endif
