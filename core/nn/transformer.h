/* Decoder-only transformer over token sequences of a fixed length T
 * (the arithmetic tasks: `a b =`, T = 3, vocabulary p+1, '=' is token p),
 * outputs (the classes) read at the last position.
 *
 *   x = E[token] + P[position]      (P learned, or the fixed sinusoidal table)
 *   per block, pre-LN:  x = x + Attn(LN1(x)); x = x + MLP(LN2(x))
 *              post-LN: x = LN1(x + Attn(x)); x = LN2(x + MLP(x))
 *              none:    x = x + Attn(x);      x = x + MLP(x)
 *   outputs = U · LN_f(x[last])     (LN_f optional, the identity when off)
 *
 * Without LayerNorm the model is the one of Nanda et al. 2023; post-LN
 * without final LN, biases and learned positions is Power et al.'s.
 * Attention is causal and multi-head, with optional biases on its Q, K, V
 * and O projections; the MLP is Linear → activation → Linear with optional
 * biases; the unembedding has no bias. Only the last position reaches the
 * outputs, so the last block computes keys and values at every position but
 * queries, attention output, MLP and its LayerNorms only at the last one
 * (LayerNorm acts per position).
 *
 * The first block's attention input at a position depends only on the token
 * there, so its (pre-LN) LayerNorm and Q, K, V projections run once over a
 * table of the distinct (position, token) pairs of the batch (for `a b =`:
 * at most 2p + 1 rows, since position 2 is always '='). Causal attention
 * makes every block's output at position t a function of the prefix
 * tokens[0..t] alone, so the blocks compute their outputs once per distinct
 * prefix of the batch (prefix rows; for `<bos> a op b =` positions 0 to 2
 * have 1 and at most |G| and |G| of them), the next block projects keys,
 * values and queries from those rows, and attention reads a prefix's keys
 * and values from the rows of its prefixes (itself included). In backward the gradients are
 * summed per prefix row (and per table row) before the projections'
 * backward. The last block's rows are the distinct whole sequences; each
 * example reads its own for the outputs. */
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
    size_t ln1_gain, ln1_bias, q_weight, q_bias, k_weight, k_bias, v_weight, v_bias, o_weight, o_bias;
    size_t ln2_gain, ln2_bias, fc_weight, fc_bias, proj_weight, proj_bias;
    int q_start;     /* first query position this block computes: 0, or seq - 1 in the last block */
    /* activations. Input rows: the first block's table rows, or the prefix
     * rows; output rows: the prefix rows from position q_start on; query
     * rows: the input rows from position q_start on */
    real *ln1;       /* pre-LN: (input rows, d) LN1(input); post-LN: (output rows, d) LN1(mid); or NULL */
    real *ln1_mean, *ln1_rstd; /* (input rows) pre-LN, (output rows) post-LN */
    real *q;         /* (query rows, d) */
    real *k, *v;     /* (input rows, d) */
    real *probs;     /* (output rows, heads, seq) */
    real *attn;      /* (output rows, d) attention output before the O projection */
    real *mid;       /* (output rows, d) residual after attention */
    real *ln2;       /* (output rows, d): pre-LN LN2(mid), post-LN LN2(out), the block's output; or NULL */
    real *ln2_mean, *ln2_rstd; /* (output rows) */
    real *fc_pre, *fc_post;    /* (output rows, d_mlp) */
    real *out;       /* (output rows, d) residual after the MLP (post-LN: before LN2) */
    real *output;    /* the block's output: out, or ln2 for post-LN */
} TransformerBlock;

typedef struct {
    ModelConfig cfg;
    int seq, vocab, n_outputs, max_batch;
    size_t embed, pos_embed, lnf_gain, lnf_bias, unembed; /* pos_embed NO_PARAM for sinusoidal positions */
    real *sinusoid;             /* (seq, d) fixed positional table, or NULL for learned positions */
    TransformerBlock blocks[TRANSFORMER_MAX_LAYERS];
    real *work;
    /* the first block's table of the batch's distinct (position, token) pairs,
     * in (position, token) order; at most min(seq * vocab, n * seq) rows */
    int *row_of;                /* (seq, vocab) table row of a pair, -1 when absent from the batch */
    int *row_position, *row_token; /* (rows) */
    int *token_row;             /* (n, seq) table row of each example's token at each position */
    int n_rows;                 /* rows of the current batch */
    int q_first_row;            /* first row whose position the first block queries */
    real *table_x;              /* (rows, d) embeddings E[token] + P[position] */
    real *dtable_x;             /* (rows, d) gradient of table_x */
    /* the batch's distinct prefixes tokens[0..t], in order of position, then
     * of first appearance; at most n * seq rows */
    int *prefix_of;             /* (n, seq) prefix row of each example's prefix ending at each position */
    int *prefix_example, *prefix_position; /* (prefix rows) first example holding the prefix; its last position */
    int *prefix_first;          /* (seq + 1) first prefix row of each position, then the number of rows */
    int *prefix_map;            /* (max_batch, vocab) numbering scratch, all -1 between calls */
    real *final;                /* (n, d) each example's row of the last block's output */
    real *lnf, *lnf_mean, *lnf_rstd; /* (n, d) (n) (n) or NULL */
    /* gradient scratch shared by all blocks */
    real *dresid[2];            /* (n * seq, d) gradients of the prefix rows' outputs */
    real *dmid, *dln, *dattn, *dq, *dk, *dv; /* (n * seq, d) */
    real *dfc;                  /* (n * seq, d_mlp) */
    real *dfinal, *dlnf;        /* (n, d) gradients of final and of lnf */
    real *dsum;                 /* (n * seq, d) post-LN: gradient of a sum before its LayerNorm */
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
