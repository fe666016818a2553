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
#include "layers.h"
#include "loss.h"
#include "model_config.h"
#include "params.h"
#include "real.h"

#define MLP_MAX_DEPTH 16
/* Bytes of activations, gradients and outputs a row block of
 * mlp_loss_gradient holds: with the weights and their gradients it stays in
 * a core's L2 cache (1–2 MiB on current x86 server cores). */
#define MLP_BLOCK_BYTES (1024 * 1024)

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
    /* row-block workspace of mlp_loss_gradient; block_rows may be lowered
     * after mlp_create (tests take several blocks of a small batch) */
    int block_rows;
    real *block_pre[MLP_MAX_DEPTH];  /* (block_rows, N); the same buffer as block_post for relu */
    real *block_post[MLP_MAX_DEPTH]; /* (block_rows, N) */
    real *block_dhidden;             /* (2, block_rows, N) */
    real *block_outputs, *block_doutputs; /* (block_rows, n_outputs) */
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

/* The loss summed over the batch's n <= max_batch rows, as loss_sum gives
 * it, with the gradient of its mean over the n rows ACCUMULATED into grads
 * and the number of correct rows in *hits: forward, loss and backward of
 * mlp_forward, loss_sum and mlp_backward, but taken block_rows rows at a
 * time, so that a block's activations, outputs and their gradients stay in
 * cache from its forward pass to its weight gradients. Equal to the
 * unblocked path up to float round-off (weight gradients are summed block
 * by block). Leaves mlp->post and the model's outputs alone. */
double mlp_loss_gradient(Mlp *mlp, const real *params, real *grads, LossKind loss, double tolerance,
                         const Examples *batch, int *hits);

#endif
