/* VECTOR_CLONES before a function with element-wise loops compiles it for
 * AVX-512 and AVX2 as well as the x86-64 baseline (SSE2); the loader picks
 * the widest the CPU runs (GCC function multi-versioning). The loops that
 * carry it are element-wise or sum in fixed lanes, and fp-contract is off,
 * so every clone gives the same bits. Left out under sanitizers and on
 * other compilers and CPUs, where the baseline build runs. */
#ifndef GROKSWEEP_VECTOR_CLONES_H
#define GROKSWEEP_VECTOR_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

#endif
