/* MLP on a pair of tokens (a, b) with p classes out.
 *
 *   onehot:       x = onehot(a) ⊕ onehot(b)       (2p)   Gromov 2023
 *   embed_add:    x = E[a] + E[b]                 (d)    Liu et al. 2022
 *   embed_concat: x = E[a] ⊕ E[b]                 (2d)
 *   h1 = f(W1 x + b1), h_k = f(W_k h_{k-1} + b_k), logits = W_out h_L + b_out
 *
 * Each input takes only p values per position, so the first layer is
 * computed once per token value: W1 x = A[a] + B[b] with per-token tables
 * A, B (p, N) (for embed_add A = B = E W1ᵀ; for onehot they are columns of
 * W1). That costs p·d·N instead of n·d·N flops and changes results only at
 * float round-off. */
#ifndef GROKSWEEP_MLP_H
#define GROKSWEEP_MLP_H

#include <stddef.h>

#include "config.h"
#include "params.h"
#include "real.h"

#define MLP_MAX_DEPTH 16

typedef struct {
    ModelConfig cfg;
    int p, max_batch, in_dim;
    /* parameter offsets into the contiguous buffer (NO_PARAM if absent) */
    size_t embed;                                     /* (p, d) */
    size_t weight[MLP_MAX_DEPTH], bias[MLP_MAX_DEPTH]; /* (N, in) (N) */
    size_t out_weight, out_bias;                      /* (p, N) (p) */
    /* workspace, one allocation */
    real *work;
    real *table_a, *table_b;   /* (p, N) first-layer contributions of a and b */
    real *dtable_a, *dtable_b; /* (p, N) */
    real *pre[MLP_MAX_DEPTH];  /* (max_batch, N) pre-activations */
    real *post[MLP_MAX_DEPTH]; /* (max_batch, N) activations */
    real *dhidden;             /* (max_batch, N) gradient scratch */
} Mlp;

/* Append the MLP's parameters to table and allocate its workspace for up to
 * max_batch examples. Returns 0, or -1 if memory runs out. */
int mlp_create(Mlp *mlp, ParamTable *table, const ModelConfig *cfg, int p, int max_batch);
void mlp_free(Mlp *mlp);

/* logits (n, p) for examples a, b (n,), n <= max_batch. */
void mlp_forward(Mlp *mlp, const real *params, const int *a, const int *b, int n, real *logits);

/* Accumulate parameter gradients into grads given dlogits (n, p); must
 * follow mlp_forward on the same examples. */
void mlp_backward(Mlp *mlp, const real *params, real *grads, const real *dlogits, const int *a,
                  const int *b, int n);

#endif
