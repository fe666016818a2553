/* Layer primitives: each a *_forward / *_backward pair over plain arrays.
 *
 * Conventions (llm.c style): matrices are row-major; n is the number of rows
 * (examples or example-positions). Parameter gradients are always
 * ACCUMULATED (+=) into zeroed buffers. Activation gradients are WRITTEN
 * unless the function says it accumulates. Dense math goes through cblas. */
#ifndef GROKSWEEP_LAYERS_H
#define GROKSWEEP_LAYERS_H

#include <stdbool.h>

#include "real.h"

typedef enum { ACT_RELU, ACT_QUADRATIC, ACT_GELU, ACT_TANH, ACTIVATION_COUNT } Activation;

/* JSON name of an activation ("relu", "quadratic", "gelu", "tanh"). */
const char *activation_name(Activation act);

/* out = in · weightᵀ + bias.
 * out (n, out_dim) row stride out_dim; in (n, in_dim) row stride in_stride
 * (>= in_dim; lets a layer read one position of a (n, T, d) tensor);
 * weight (out_dim, in_dim); bias (out_dim) or NULL. */
void linear_forward(real *out, const real *in, int in_stride, const real *weight, const real *bias,
                    int n, int in_dim, int out_dim);

/* Backward of linear_forward.
 * din (n, in_dim) row stride in_stride, written, or accumulated if
 * accumulate_din, or skipped if NULL; dweight (out_dim, in_dim) +=;
 * dbias (out_dim) += or NULL; dout (n, out_dim); in, weight as forward. */
void linear_backward(real *din, bool accumulate_din, real *dweight, real *dbias, const real *dout,
                     const real *in, int in_stride, const real *weight, int n, int in_dim, int out_dim);

/* out = f(in) elementwise. out (count), in (count). out may equal in only
 * for relu: relu(x) > 0 exactly when x > 0, so its backward given out for
 * in is the same; the others need their input kept. */
void activation_forward(real *out, const real *in, long count, Activation act);

/* din = f'(in) ⊙ dout, written. din may alias dout. din, dout, in (count);
 * out (count) = f(in) as activation_forward wrote it (tanh's derivative is
 * taken from it, 1 - out², rather than from a second tanh). */
void activation_backward(real *din, const real *dout, const real *in, const real *out, long count, Activation act);

/* LayerNorm over the last dimension, eps 1e-5, biased variance (PyTorch).
 * out (n, c); mean, rstd (n) saved for backward; in (n, c); gain, bias (c). */
void layernorm_forward(real *out, real *mean, real *rstd, const real *in, const real *gain,
                       const real *bias, int n, int c);

/* Backward of layernorm_forward. din (n, c) ACCUMULATED (it is a residual
 * stream); dgain, dbias (c) +=; dout (n, c); in, gain, mean, rstd as forward. */
void layernorm_backward(real *din, real *dgain, real *dbias, const real *dout, const real *in,
                        const real *gain, const real *mean, const real *rstd, int n, int c);

#endif
