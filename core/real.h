/* The floating-point type of the model code.
 *
 * Training runs in float32. The core library is also compiled a second time
 * with GROKSWEEP_REAL_DOUBLE defined, so that the gradient-check tests can
 * compare analytic gradients against finite differences in double precision
 * with exactly the same forward and backward code. */
#ifndef GROKSWEEP_REAL_H
#define GROKSWEEP_REAL_H

#include <cblas.h>

#ifdef GROKSWEEP_REAL_DOUBLE
typedef double real;
#define cblas_gemm cblas_dgemm
#define cblas_gemv cblas_dgemv
#define REAL_NAME "float64"
#else
typedef float real;
#define cblas_gemm cblas_sgemm
#define cblas_gemv cblas_sgemv
#define REAL_NAME "float32"
#endif

#endif
