/* MLP from an example's inputs to n_outputs outputs.
 *
 * Token inputs (sequences t_1..t_L over a vocabulary of V values):
 *   onehot:       x = onehot(t_1) ⊕ ... ⊕ onehot(t_L)   (L·V)   Gromov 2023
 *   embed_add:    x = E[t_1] + ... + E[t_L]             (d)     Liu et al. 2022
 *   embed_concat: x = E[t_1] ⊕ ... ⊕ E[t_L]             (L·d)
 * Dense inputs (feature vectors of dimension D):
 *   dense:        x = the features                      (D)     Omnigrok, Fan et al.
 * then h1 = f(W1 x + b1), h_k = f(W_k h_{k-1} + b_k), outputs = W_out h_depth + b_out.
 *
 * A token position takes only V values, so for token inputs the first layer
 * is computed once per (position, token value): W1 x = Σ_t A_t[t_t] with
 * per-position tables A_t (V, N) (for embed_add all positions share
 * A = E W1ᵀ; for onehot they are columns of W1). That costs V·d·N instead
 * of n·d·N flops and changes results only at float round-off. */
#ifndef GROKSWEEP_MLP_H
#define GROKSWEEP_MLP_H

#include <stddef.h>

#include "examples.h"
#include "model_config.h"
#include "params.h"
#include "real.h"

#define MLP_MAX_DEPTH 16

typedef struct {
    ModelConfig cfg;
    ExampleShape shape;
    int max_batch, in_dim, n_outputs;
    /* parameter offsets into the contiguous buffer (NO_PARAM if absent) */
    size_t embed;                                     /* (V, d) */
    size_t weight[MLP_MAX_DEPTH], bias[MLP_MAX_DEPTH]; /* (N, in) (N) */
    size_t out_weight, out_bias;                      /* (n_outputs, N) (n_outputs) */
    /* workspace, one allocation */
    real *work;
    real *tables, *dtables;    /* (positions, V, N) first-layer contributions of token values, or NULL (dense) */
    long table_stride;         /* elements from one position's table to the next; 0 when shared (embed_add) */
    real *pre[MLP_MAX_DEPTH];  /* (max_batch, N) pre-activations */
    real *post[MLP_MAX_DEPTH]; /* (max_batch, N) activations */
    real *dhidden;             /* (2, max_batch, N) gradient scratch */
} Mlp;

/* Append the MLP's parameters to table and allocate its workspace for up to
 * max_batch examples of this shape. Returns 0, or -1 if memory runs out. */
int mlp_create(Mlp *mlp, ParamTable *table, const ModelConfig *cfg, const ExampleShape *shape, int max_batch);
void mlp_free(Mlp *mlp);

/* outputs (n, n_outputs) for the batch's n <= max_batch examples. Leaves
 * every hidden layer's activations in mlp->post (n, N). */
void mlp_forward(Mlp *mlp, const real *params, const Examples *batch, real *outputs);

/* Accumulate parameter gradients into grads given doutputs (n, n_outputs);
 * must follow mlp_forward on the same batch. */
void mlp_backward(Mlp *mlp, const real *params, real *grads, const real *doutputs, const Examples *batch);

#endif
