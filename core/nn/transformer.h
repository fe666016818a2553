/* Decoder-only transformer over token sequences of a fixed length T
 * (the arithmetic tasks: `a b =`, T = 3, vocabulary p+1, '=' is token p),
 * outputs (the classes) read at the last position.
 *
 *   x = E[token] + P[position]
 *   per block: x = x + Attn(LN1(x)); x = x + MLP(LN2(x))     (pre-LN)
 *   outputs = U · LN_f(x[last])
 *
 * LayerNorm is optional (off: LN is the identity and has no parameters, as in
 * Nanda et al. 2023). Attention is causal, multi-head, without biases; the
 * MLP is Linear → activation → Linear with optional biases; unembedding has
 * no bias. Only the last position reaches the outputs, so the last block
 * computes keys and values at every position but queries, attention output
 * and MLP only at the last one.
 *
 * The first block's input at a position depends only on the token there, so
 * its LayerNorm and Q, K, V projections run once over a table of the
 * distinct (position, token) pairs of the batch (for `a b =`: at most 2p + 1
 * rows, since position 2 is always '='), and each example gathers its rows;
 * in backward the examples' gradients are summed per table row before the
 * projections' backward. */
#ifndef GROKSWEEP_TRANSFORMER_H
#define GROKSWEEP_TRANSFORMER_H

#include <stddef.h>

#include "examples.h"
#include "model_config.h"
#include "params.h"
#include "real.h"

#define TRANSFORMER_MAX_LAYERS 16

typedef struct {
    /* parameter offsets (NO_PARAM if absent) */
    size_t ln1_gain, ln1_bias, q_weight, k_weight, v_weight, o_weight;
    size_t ln2_gain, ln2_bias, fc_weight, fc_bias, proj_weight, proj_bias;
    int q_start;     /* first query position this block computes: 0, or seq - 1 in the last block */
    /* activations; n rows of seq (inputs, keys, values) or seq_q queries */
    real *ln1;       /* (n, seq, d), first block (rows, d), or NULL without LayerNorm */
    real *ln1_mean, *ln1_rstd; /* (n, seq), first block (rows) */
    real *q;         /* (n, seq_q, d) */
    real *k, *v;     /* (n, seq, d) */
    real *probs;     /* (n, heads, seq_q, seq) */
    real *attn;      /* (n, seq_q, d) attention output before the O projection */
    real *mid;       /* (n, seq_q, d) residual after attention */
    real *ln2;       /* (n, seq_q, d) or NULL */
    real *ln2_mean, *ln2_rstd; /* (n, seq_q) */
    real *fc_pre, *fc_post;    /* (n, seq_q, d_mlp) */
    real *out;       /* (n, seq_q, d) residual after the MLP */
} TransformerBlock;

typedef struct {
    ModelConfig cfg;
    int seq, vocab, n_outputs, max_batch;
    size_t embed, pos_embed, lnf_gain, lnf_bias, unembed;
    TransformerBlock blocks[TRANSFORMER_MAX_LAYERS];
    real *work;
    real *x0;                   /* (n, seq, d) embeddings */
    /* the first block's table of the batch's distinct (position, token) pairs,
     * in (position, token) order; at most seq * vocab rows */
    int *row_of;                /* (seq, vocab) table row of a pair, -1 when absent from the batch */
    int *row_position, *row_token; /* (rows) */
    int n_rows;                 /* rows of the current batch */
    int q_first_row;            /* first row whose position the first block queries */
    real *table_x;              /* (rows, d) embeddings E[token] + P[position] */
    real *table_q, *table_k, *table_v; /* (rows, d); table_q from the first query position's rows on */
    real *dtable_x, *dtable_normed, *dtable_q, *dtable_k, *dtable_v; /* (rows, d) gradient scratch */
    real *lnf, *lnf_mean, *lnf_rstd; /* (n, d) (n) (n) or NULL */
    /* gradient scratch shared by all blocks */
    real *dresid[2];            /* (n, seq, d) */
    real *dmid, *dln, *dattn, *dq, *dk, *dv; /* (n, seq, d) */
    real *dfc;                  /* (n, seq, d_mlp) */
    real *dfinal;               /* (n, d) */
} Transformer;

/* Append the parameters to table and allocate the workspace for up to
 * max_batch examples. Returns 0, or -1 if memory runs out. */
int transformer_create(Transformer *tf, ParamTable *table, const ModelConfig *cfg, const ExampleShape *shape,
                       int max_batch);
void transformer_free(Transformer *tf);

/* outputs (n, n_outputs) for the batch's n <= max_batch token sequences. */
void transformer_forward(Transformer *tf, const real *params, const Examples *batch, real *outputs);

/* Accumulate parameter gradients into grads given doutputs (n, n_outputs);
 * must follow transformer_forward on the same batch. */
void transformer_backward(Transformer *tf, const real *params, real *grads, const real *doutputs,
                          const Examples *batch);

#endif
