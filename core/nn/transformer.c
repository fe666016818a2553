#include "transformer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "layers.h"

static size_t add_param(ParamTable *table, const char *prefix, const char *name, int rows, int cols,
                        ParamRole role, int fan_in) {
    char full[48];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return param_table_add(table, full, rows, cols, role, fan_in);
}

static void add_block_params(TransformerBlock *blk, ParamTable *table, const ModelConfig *cfg, int index) {
    char prefix[24];
    snprintf(prefix, sizeof prefix, "blocks.%d.", index);
    int d = cfg->d_model, f = cfg->d_mlp;
    bool ln = cfg->layernorm != LAYERNORM_NONE, attention_bias = cfg->attention_bias;
    blk->ln1_gain = blk->ln1_bias = blk->ln2_gain = blk->ln2_bias = NO_PARAM;
    if (ln) {
        blk->ln1_gain = add_param(table, prefix, "ln1.weight", 1, d, PARAM_NORM_GAIN, d);
        blk->ln1_bias = add_param(table, prefix, "ln1.bias", 1, d, PARAM_NORM_BIAS, d);
    }
    size_t *weights[4] = {&blk->q_weight, &blk->k_weight, &blk->v_weight, &blk->o_weight};
    size_t *biases[4] = {&blk->q_bias, &blk->k_bias, &blk->v_bias, &blk->o_bias};
    const char *projections[4] = {"q", "k", "v", "o"};
    for (int j = 0; j < 4; j++) {
        char name[24];
        snprintf(name, sizeof name, "attn.%s.weight", projections[j]);
        *weights[j] = add_param(table, prefix, name, d, d, PARAM_LINEAR_WEIGHT, d);
        snprintf(name, sizeof name, "attn.%s.bias", projections[j]);
        *biases[j] = attention_bias ? add_param(table, prefix, name, 1, d, PARAM_LINEAR_BIAS, d) : NO_PARAM;
    }
    if (ln) {
        blk->ln2_gain = add_param(table, prefix, "ln2.weight", 1, d, PARAM_NORM_GAIN, d);
        blk->ln2_bias = add_param(table, prefix, "ln2.bias", 1, d, PARAM_NORM_BIAS, d);
    }
    blk->fc_weight = add_param(table, prefix, "mlp.fc.weight", f, d, PARAM_LINEAR_WEIGHT, d);
    blk->fc_bias = cfg->bias ? add_param(table, prefix, "mlp.fc.bias", 1, f, PARAM_LINEAR_BIAS, d) : NO_PARAM;
    blk->proj_weight = add_param(table, prefix, "mlp.proj.weight", d, f, PARAM_LINEAR_WEIGHT, f);
    blk->proj_bias = cfg->bias ? add_param(table, prefix, "mlp.proj.bias", 1, d, PARAM_LINEAR_BIAS, f) : NO_PARAM;
}

/* Number the distinct (position, token) pairs of the batch as table rows,
 * in (position, token) order, and note where the first block's query
 * positions begin. */
static void number_table_rows(Transformer *tf, const Examples *batch) {
    int seq = tf->seq, vocab = tf->vocab;
    for (long k = 0; k < (long)seq * vocab; k++) tf->row_of[k] = -1;
    for (long k = 0; k < (long)batch->n * seq; k++) {
        int token = batch->tokens[k];
        ASSERT(token >= 0 && token < vocab);
        tf->row_of[(k % seq) * vocab + token] = 0;
    }
    int rows = 0;
    tf->q_first_row = -1;
    for (int t = 0; t < seq; t++) {
        if (t == tf->blocks[0].q_start) tf->q_first_row = rows;
        for (int token = 0; token < vocab; token++) {
            long k = (long)t * vocab + token;
            if (tf->row_of[k] < 0) continue;
            tf->row_of[k] = rows;
            tf->row_position[rows] = t;
            tf->row_token[rows] = token;
            rows++;
        }
    }
    tf->n_rows = rows;
}

/* The table row of token `token` at position t. */
static long table_row(const Transformer *tf, int t, int token) { return tf->row_of[(long)t * tf->vocab + token]; }

/* Hand out every activation and scratch array from one arena. */
static void layout_workspace(Transformer *tf, Arena *arena) {
    const ModelConfig *cfg = &tf->cfg;
    size_t n = (size_t)tf->max_batch, d = (size_t)cfg->d_model, f = (size_t)cfg->d_mlp;
    size_t heads = (size_t)cfg->n_heads, seq = (size_t)tf->seq, rows = seq * (size_t)tf->vocab;
    bool ln = cfg->layernorm != LAYERNORM_NONE, post = cfg->layernorm == LAYERNORM_POST;
    tf->sinusoid = cfg->positions == POSITIONS_SINUSOIDAL ? arena_take(arena, seq * d) : NULL;
    tf->x0 = arena_take(arena, n * seq * d);
    real **tables[] = {&tf->table_x, &tf->table_q, &tf->table_k, &tf->table_v, &tf->dtable_x,
                       &tf->dtable_normed, &tf->dtable_q, &tf->dtable_k, &tf->dtable_v};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) *tables[t] = arena_take(arena, rows * d);
    for (int l = 0; l < cfg->n_layers; l++) {
        TransformerBlock *blk = &tf->blocks[l];
        size_t seq_q = seq - (size_t)blk->q_start, ln1_rows = post ? n * seq_q : l == 0 ? rows : n * seq;
        blk->ln1 = ln ? arena_take(arena, ln1_rows * d) : NULL;
        blk->ln1_mean = ln ? arena_take(arena, ln1_rows) : NULL;
        blk->ln1_rstd = ln ? arena_take(arena, ln1_rows) : NULL;
        blk->q = arena_take(arena, n * seq_q * d);
        blk->k = arena_take(arena, n * seq * d);
        blk->v = arena_take(arena, n * seq * d);
        blk->probs = arena_take(arena, n * heads * seq_q * seq);
        blk->attn = arena_take(arena, n * seq_q * d);
        blk->mid = arena_take(arena, n * seq_q * d);
        blk->ln2 = ln ? arena_take(arena, n * seq_q * d) : NULL;
        blk->ln2_mean = ln ? arena_take(arena, n * seq_q) : NULL;
        blk->ln2_rstd = ln ? arena_take(arena, n * seq_q) : NULL;
        blk->fc_pre = arena_take(arena, n * seq_q * f);
        blk->fc_post = arena_take(arena, n * seq_q * f);
        blk->out = arena_take(arena, n * seq_q * d);
        blk->output = post ? blk->ln2 : blk->out;
    }
    tf->lnf = cfg->final_layernorm ? arena_take(arena, n * d) : NULL;
    tf->lnf_mean = cfg->final_layernorm ? arena_take(arena, n) : NULL;
    tf->lnf_rstd = cfg->final_layernorm ? arena_take(arena, n) : NULL;
    tf->dresid[0] = arena_take(arena, n * seq * d);
    tf->dresid[1] = arena_take(arena, n * seq * d);
    tf->dmid = arena_take(arena, n * seq * d);
    tf->dln = arena_take(arena, n * seq * d);
    tf->dattn = arena_take(arena, n * seq * d);
    tf->dq = arena_take(arena, n * seq * d);
    tf->dk = arena_take(arena, n * seq * d);
    tf->dv = arena_take(arena, n * seq * d);
    tf->dfc = arena_take(arena, n * seq * f);
    tf->dfinal = arena_take(arena, n * d);
    tf->dsum = post ? arena_take(arena, n * seq * d) : NULL;
}

/* The fixed positional table of Vaswani et al., as openai/grok computes it:
 * P[t][i] = sin(t / 10000^(i/d)) for even i, cos(t / 10000^((i-1)/d)) for
 * odd i (sin and cos of a pair share one frequency), in double precision.
 * table (seq, d). */
static void fill_sinusoid(real *table, int seq, int d) {
    for (int t = 0; t < seq; t++)
        for (int i = 0; i < d; i++) {
            double angle = t / pow(10000.0, (double)(i - i % 2) / d);
            table[(long)t * d + i] = (real)(i % 2 == 0 ? sin(angle) : cos(angle));
        }
}

int transformer_create(Transformer *tf, ParamTable *table, const ModelConfig *cfg, const ExampleShape *shape,
                       int max_batch) {
    ASSERT(cfg->kind == MODEL_TRANSFORMER && cfg->n_layers >= 1 && cfg->n_layers <= TRANSFORMER_MAX_LAYERS);
    ASSERT(cfg->d_model % cfg->n_heads == 0 && shape_has_tokens(shape) && shape->target == TARGET_CLASS);
    memset(tf, 0, sizeof *tf);
    tf->cfg = *cfg;
    tf->seq = shape->seq_len;
    tf->vocab = shape->vocab;
    tf->n_outputs = shape->n_outputs;
    tf->max_batch = max_batch;
    int d = cfg->d_model;
    tf->embed = param_table_add(table, "embed.weight", tf->vocab, d, PARAM_EMBEDDING, d);
    tf->pos_embed = cfg->positions == POSITIONS_LEARNED
                        ? param_table_add(table, "pos_embed.weight", tf->seq, d, PARAM_EMBEDDING, d)
                        : NO_PARAM;
    for (int l = 0; l < cfg->n_layers; l++) {
        add_block_params(&tf->blocks[l], table, cfg, l);
        tf->blocks[l].q_start = l == cfg->n_layers - 1 ? tf->seq - 1 : 0;
    }
    tf->lnf_gain = tf->lnf_bias = NO_PARAM;
    if (cfg->final_layernorm) {
        tf->lnf_gain = param_table_add(table, "ln_f.weight", 1, d, PARAM_NORM_GAIN, d);
        tf->lnf_bias = param_table_add(table, "ln_f.bias", 1, d, PARAM_NORM_BIAS, d);
    }
    tf->unembed = param_table_add(table, "unembed.weight", tf->n_outputs, d, PARAM_LINEAR_WEIGHT, d);

    Arena arena = {NULL, 0};
    layout_workspace(tf, &arena);
    size_t pairs = (size_t)tf->seq * (size_t)tf->vocab;
    tf->work = malloc(sizeof(real) * arena.used);
    tf->row_of = malloc(sizeof(int) * 3 * pairs);
    if (!tf->work || !tf->row_of) return -1;
    tf->row_position = tf->row_of + pairs;
    tf->row_token = tf->row_position + pairs;
    arena = (Arena){tf->work, 0};
    layout_workspace(tf, &arena);
    if (tf->sinusoid) fill_sinusoid(tf->sinusoid, tf->seq, d);
    return 0;
}

void transformer_free(Transformer *tf) {
    free(tf->work);
    free(tf->row_of);
    tf->work = NULL;
    tf->row_of = tf->row_position = tf->row_token = NULL;
}

static const real *param_or_null(const real *buffer, size_t offset) {
    return offset == NO_PARAM ? NULL : buffer + offset;
}

static real *grad_or_null(real *buffer, size_t offset) { return offset == NO_PARAM ? NULL : buffer + offset; }

/* Rows of the query positions [q_start, seq) inside a (n, seq, d) tensor:
 * either all n*seq rows (stride d) or one row per example (stride seq*d). */
static void query_rows(int n, int seq, int q_start, int d, int *rows, int *stride) {
    ASSERT(q_start == 0 || q_start == seq - 1);
    *rows = q_start == 0 ? n * seq : n;
    *stride = q_start == 0 ? d : seq * d;
}

/* A block's queries, keys and values from its input in (n, seq, d):
 * blk->q (n, seq_q, d), blk->k, blk->v (n, seq, d). */
static void qkv_forward(Transformer *tf, TransformerBlock *blk, const real *params, const real *in, int n) {
    int d = tf->cfg.d_model, seq = tf->seq, q_rows, q_stride;
    long all_rows = (long)n * seq;
    const real *normed = in;
    if (tf->cfg.layernorm == LAYERNORM_PRE) {
        layernorm_forward(blk->ln1, blk->ln1_mean, blk->ln1_rstd, in, params + blk->ln1_gain,
                          params + blk->ln1_bias, (int)all_rows, d);
        normed = blk->ln1;
    }
    query_rows(n, seq, blk->q_start, d, &q_rows, &q_stride);
    linear_forward(blk->q, normed + (long)blk->q_start * d, q_stride, params + blk->q_weight,
                   param_or_null(params, blk->q_bias), q_rows, d, d);
    linear_forward(blk->k, normed, d, params + blk->k_weight, param_or_null(params, blk->k_bias), (int)all_rows, d,
                   d);
    linear_forward(blk->v, normed, d, params + blk->v_weight, param_or_null(params, blk->v_bias), (int)all_rows, d,
                   d);
}

/* The first block's queries, keys and values, as qkv_forward, computed over
 * the table (tf->table_x must hold it) and gathered for the batch. */
static void first_qkv_forward(Transformer *tf, TransformerBlock *blk, const real *params, const Examples *batch) {
    int d = tf->cfg.d_model, seq = tf->seq, rows = tf->n_rows, seq_q = seq - blk->q_start;
    long q_first = tf->q_first_row;
    size_t row_bytes = sizeof(real) * (size_t)d;
    const real *normed = tf->table_x;
    if (tf->cfg.layernorm == LAYERNORM_PRE) {
        layernorm_forward(blk->ln1, blk->ln1_mean, blk->ln1_rstd, tf->table_x, params + blk->ln1_gain,
                          params + blk->ln1_bias, rows, d);
        normed = blk->ln1;
    }
    linear_forward(tf->table_q, normed + q_first * d, d, params + blk->q_weight, param_or_null(params, blk->q_bias),
                   rows - (int)q_first, d, d);
    linear_forward(tf->table_k, normed, d, params + blk->k_weight, param_or_null(params, blk->k_bias), rows, d, d);
    linear_forward(tf->table_v, normed, d, params + blk->v_weight, param_or_null(params, blk->v_bias), rows, d, d);
    for (int i = 0; i < batch->n; i++) {
        const int *tokens = batch->tokens + (long)i * seq;
        for (int t = 0; t < seq; t++) {
            long row = table_row(tf, t, tokens[t]), at = (long)i * seq + t;
            memcpy(blk->k + at * d, tf->table_k + row * d, row_bytes);
            memcpy(blk->v + at * d, tf->table_v + row * d, row_bytes);
            if (t >= blk->q_start)
                memcpy(blk->q + ((long)i * seq_q + t - blk->q_start) * d, tf->table_q + (row - q_first) * d,
                       row_bytes);
        }
    }
}

/* One block. in (n, seq, d) → blk->output (n, seq - q_start, d); the first
 * block (first true) reads its table and the batch's tokens instead. */
static void block_forward(Transformer *tf, TransformerBlock *blk, const real *params, const real *in, bool first,
                          const Examples *batch) {
    const ModelConfig *cfg = &tf->cfg;
    int n = batch->n, d = cfg->d_model, f = cfg->d_mlp, seq = tf->seq, seq_q = seq - blk->q_start;
    long rows = (long)n * seq_q;
    bool pre = cfg->layernorm == LAYERNORM_PRE, post = cfg->layernorm == LAYERNORM_POST;
    if (first)
        first_qkv_forward(tf, blk, params, batch);
    else
        qkv_forward(tf, blk, params, in, n);
    attention_forward(blk->attn, blk->probs, blk->q, blk->k, blk->v, n, seq, blk->q_start, d, cfg->n_heads);
    linear_forward(blk->mid, blk->attn, d, params + blk->o_weight, param_or_null(params, blk->o_bias), (int)rows, d,
                   d);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < seq_q; t++) {
            real *mid = blk->mid + ((long)i * seq_q + t) * d;
            const real *resid = in + ((long)i * seq + blk->q_start + t) * d;
            for (int e = 0; e < d; e++) mid[e] += resid[e];
        }
    /* the residual stream after attention, and the MLP's input */
    const real *stream = blk->mid, *mlp_in = blk->mid;
    if (post) {
        layernorm_forward(blk->ln1, blk->ln1_mean, blk->ln1_rstd, blk->mid, params + blk->ln1_gain,
                          params + blk->ln1_bias, (int)rows, d);
        stream = mlp_in = blk->ln1;
    }
    if (pre) {
        layernorm_forward(blk->ln2, blk->ln2_mean, blk->ln2_rstd, blk->mid, params + blk->ln2_gain,
                          params + blk->ln2_bias, (int)rows, d);
        mlp_in = blk->ln2;
    }
    linear_forward(blk->fc_pre, mlp_in, d, params + blk->fc_weight, param_or_null(params, blk->fc_bias), (int)rows,
                   d, f);
    activation_forward(blk->fc_post, blk->fc_pre, rows * f, cfg->activation);
    linear_forward(blk->out, blk->fc_post, f, params + blk->proj_weight, param_or_null(params, blk->proj_bias),
                   (int)rows, f, d);
    for (long r = 0; r < rows * d; r++) blk->out[r] += stream[r];
    if (post)
        layernorm_forward(blk->ln2, blk->ln2_mean, blk->ln2_rstd, blk->out, params + blk->ln2_gain,
                          params + blk->ln2_bias, (int)rows, d);
}

/* Backward of qkv_forward from tf->dq, dk, dv: din (n, seq, d) +=.
 * The key bias gets no gradient: it adds q·b_k to all of a query's scores
 * alike, which the softmax cancels, so its gradient is exactly 0 (computed,
 * it would be float32 round-off); it only decays. */
static void qkv_backward(Transformer *tf, const TransformerBlock *blk, const real *params, real *grads,
                         const real *in, real *din, int n) {
    int d = tf->cfg.d_model, seq = tf->seq, q_rows, q_stride;
    long all_rows = (long)n * seq;
    bool ln = tf->cfg.layernorm == LAYERNORM_PRE;
    const real *normed = ln ? blk->ln1 : in;
    real *dnormed = ln ? tf->dln : din;
    linear_backward(dnormed, !ln, grads + blk->k_weight, NULL, tf->dk, normed, d,
                    params + blk->k_weight, (int)all_rows, d, d);
    linear_backward(dnormed, true, grads + blk->v_weight, grad_or_null(grads, blk->v_bias), tf->dv, normed, d,
                    params + blk->v_weight, (int)all_rows, d, d);
    query_rows(n, seq, blk->q_start, d, &q_rows, &q_stride);
    linear_backward(dnormed + (long)blk->q_start * d, true, grads + blk->q_weight, grad_or_null(grads, blk->q_bias),
                    tf->dq, normed + (long)blk->q_start * d, q_stride, params + blk->q_weight, q_rows, d, d);
    if (ln)
        layernorm_backward(din, grads + blk->ln1_gain, grads + blk->ln1_bias, tf->dln, in,
                           params + blk->ln1_gain, blk->ln1_mean, blk->ln1_rstd, (int)all_rows, d);
}

/* Backward of first_qkv_forward from tf->dq, dk, dv: the examples'
 * gradients summed per table row, then the projections' (and pre-LN
 * LayerNorm's) backward over the table into tf->dtable_x (rows, d), written.
 * The key bias gets no gradient, as in qkv_backward. */
static void first_qkv_backward(Transformer *tf, const TransformerBlock *blk, const real *params, real *grads,
                               const Examples *batch) {
    int d = tf->cfg.d_model, seq = tf->seq, rows = tf->n_rows, seq_q = seq - blk->q_start;
    long q_first = tf->q_first_row;
    size_t table_bytes = sizeof(real) * (size_t)rows * (size_t)d;
    bool ln = tf->cfg.layernorm == LAYERNORM_PRE;
    memset(tf->dtable_q, 0, table_bytes);
    memset(tf->dtable_k, 0, table_bytes);
    memset(tf->dtable_v, 0, table_bytes);
    for (int i = 0; i < batch->n; i++) {
        const int *tokens = batch->tokens + (long)i * seq;
        for (int t = 0; t < seq; t++) {
            long row = table_row(tf, t, tokens[t]), at = (long)i * seq + t;
            real *dk = tf->dtable_k + row * d, *dv = tf->dtable_v + row * d;
            const real *dk_example = tf->dk + at * d, *dv_example = tf->dv + at * d;
            for (int e = 0; e < d; e++) {
                dk[e] += dk_example[e];
                dv[e] += dv_example[e];
            }
            if (t >= blk->q_start) {
                real *dq = tf->dtable_q + (row - q_first) * d;
                const real *dq_example = tf->dq + ((long)i * seq_q + t - blk->q_start) * d;
                for (int e = 0; e < d; e++) dq[e] += dq_example[e];
            }
        }
    }
    const real *normed = ln ? blk->ln1 : tf->table_x;
    real *dnormed = ln ? tf->dtable_normed : tf->dtable_x;
    linear_backward(dnormed, false, grads + blk->k_weight, NULL, tf->dtable_k, normed, d,
                    params + blk->k_weight, rows, d, d);
    linear_backward(dnormed, true, grads + blk->v_weight, grad_or_null(grads, blk->v_bias), tf->dtable_v, normed, d,
                    params + blk->v_weight, rows, d, d);
    linear_backward(dnormed + q_first * d, true, grads + blk->q_weight, grad_or_null(grads, blk->q_bias),
                    tf->dtable_q, normed + q_first * d, d, params + blk->q_weight, rows - (int)q_first, d, d);
    if (ln) {
        memset(tf->dtable_x, 0, table_bytes);
        layernorm_backward(tf->dtable_x, grads + blk->ln1_gain, grads + blk->ln1_bias, tf->dtable_normed,
                           tf->table_x, params + blk->ln1_gain, blk->ln1_mean, blk->ln1_rstd, rows, d);
    }
}

/* Backward of block_forward. dout (n, seq_q, d), the gradient of
 * blk->output → din (n, seq, d) written;
 * for the first block (first true) only the residual's share, the rest goes
 * to tf->dtable_x. dout must not alias din. */
static void block_backward(Transformer *tf, const TransformerBlock *blk, const real *params, real *grads,
                           const real *in, const real *dout, real *din, bool first, const Examples *batch) {
    const ModelConfig *cfg = &tf->cfg;
    int n = batch->n, d = cfg->d_model, f = cfg->d_mlp, seq = tf->seq, seq_q = seq - blk->q_start;
    long rows = (long)n * seq_q;
    size_t bytes = sizeof(real) * (size_t)(rows * d);
    bool pre = cfg->layernorm == LAYERNORM_PRE, post = cfg->layernorm == LAYERNORM_POST;

    /* post-LN: dsum, the gradient of out (before LN2) */
    const real *dsum = dout;
    if (post) {
        memset(tf->dsum, 0, bytes);
        layernorm_backward(tf->dsum, grads + blk->ln2_gain, grads + blk->ln2_bias, dout, blk->out,
                           params + blk->ln2_gain, blk->ln2_mean, blk->ln2_rstd, (int)rows, d);
        dsum = tf->dsum;
    }
    /* MLP branch: dstream = dsum + d(MLP(mlp_in))/dstream, stream being the
     * residual after attention (mid, or post-LN LN1(mid)) */
    real *dstream = post ? tf->dln : tf->dmid;
    const real *mlp_in = pre ? blk->ln2 : post ? blk->ln1 : blk->mid;
    memcpy(dstream, dsum, bytes);
    linear_backward(tf->dfc, false, grads + blk->proj_weight, grad_or_null(grads, blk->proj_bias), dsum,
                    blk->fc_post, f, params + blk->proj_weight, (int)rows, f, d);
    activation_backward(tf->dfc, tf->dfc, blk->fc_pre, blk->fc_post, rows * f, cfg->activation);
    linear_backward(pre ? tf->dln : dstream, !pre, grads + blk->fc_weight, grad_or_null(grads, blk->fc_bias),
                    tf->dfc, mlp_in, d, params + blk->fc_weight, (int)rows, d, f);
    if (pre)
        layernorm_backward(tf->dmid, grads + blk->ln2_gain, grads + blk->ln2_bias, tf->dln, blk->mid,
                           params + blk->ln2_gain, blk->ln2_mean, blk->ln2_rstd, (int)rows, d);
    if (post) {
        memset(tf->dmid, 0, bytes);
        layernorm_backward(tf->dmid, grads + blk->ln1_gain, grads + blk->ln1_bias, dstream, blk->mid,
                           params + blk->ln1_gain, blk->ln1_mean, blk->ln1_rstd, (int)rows, d);
    }

    /* residual: din = dmid at the query positions, 0 before them */
    for (int i = 0; i < n; i++)
        for (int t = 0; t < seq; t++) {
            real *dst = din + ((long)i * seq + t) * d;
            if (t < blk->q_start)
                memset(dst, 0, sizeof(real) * (size_t)d);
            else
                memcpy(dst, tf->dmid + ((long)i * seq_q + t - blk->q_start) * d, sizeof(real) * (size_t)d);
        }

    /* attention branch */
    linear_backward(tf->dattn, false, grads + blk->o_weight, grad_or_null(grads, blk->o_bias), tf->dmid, blk->attn, d,
                    params + blk->o_weight, (int)rows, d, d);
    attention_backward(tf->dq, tf->dk, tf->dv, tf->dattn, blk->probs, blk->q, blk->k, blk->v, n, seq,
                       blk->q_start, d, cfg->n_heads);
    if (first)
        first_qkv_backward(tf, blk, params, grads, batch);
    else
        qkv_backward(tf, blk, params, grads, in, din, n);
}

void transformer_forward(Transformer *tf, const real *params, const Examples *batch, real *outputs) {
    int n = batch->n;
    ASSERT(n >= 1 && n <= tf->max_batch && batch->shape.seq_len == tf->seq);
    const ModelConfig *cfg = &tf->cfg;
    int d = cfg->d_model, seq = tf->seq;
    const real *embed = params + tf->embed, *pos = tf->sinusoid ? tf->sinusoid : params + tf->pos_embed;
    number_table_rows(tf, batch);
    for (int row = 0; row < tf->n_rows; row++) {
        real *x = tf->table_x + (long)row * d;
        const real *e = embed + (long)tf->row_token[row] * d, *pe = pos + (long)tf->row_position[row] * d;
        for (int j = 0; j < d; j++) x[j] = e[j] + pe[j];
    }
    for (int i = 0; i < n; i++) {
        const int *tokens = batch->tokens + (long)i * seq;
        for (int t = 0; t < seq; t++)
            memcpy(tf->x0 + ((long)i * seq + t) * d, tf->table_x + table_row(tf, t, tokens[t]) * d,
                   sizeof(real) * (size_t)d);
    }
    const real *x = tf->x0;
    for (int l = 0; l < cfg->n_layers; l++) {
        block_forward(tf, &tf->blocks[l], params, x, l == 0, batch);
        x = tf->blocks[l].output;
    }
    /* the last block produced only the last position: x is (n, d) */
    if (cfg->final_layernorm) {
        layernorm_forward(tf->lnf, tf->lnf_mean, tf->lnf_rstd, x, params + tf->lnf_gain, params + tf->lnf_bias,
                          n, d);
        x = tf->lnf;
    }
    linear_forward(outputs, x, d, params + tf->unembed, NULL, n, d, tf->n_outputs);
}

void transformer_backward(Transformer *tf, const real *params, real *grads, const real *doutputs,
                          const Examples *batch) {
    int n = batch->n;
    ASSERT(n >= 1 && n <= tf->max_batch);
    const ModelConfig *cfg = &tf->cfg;
    int d = cfg->d_model, seq = tf->seq, last = cfg->n_layers - 1;
    const real *final_resid = tf->blocks[last].output;
    real *dresid = tf->dresid[0];
    if (cfg->final_layernorm) {
        linear_backward(tf->dfinal, false, grads + tf->unembed, NULL, doutputs, tf->lnf, d, params + tf->unembed, n,
                        d, tf->n_outputs);
        memset(dresid, 0, sizeof(real) * (size_t)n * d);
        layernorm_backward(dresid, grads + tf->lnf_gain, grads + tf->lnf_bias, tf->dfinal, final_resid,
                           params + tf->lnf_gain, tf->lnf_mean, tf->lnf_rstd, n, d);
    } else {
        linear_backward(dresid, false, grads + tf->unembed, NULL, doutputs, final_resid, d, params + tf->unembed, n,
                        d, tf->n_outputs);
    }
    for (int l = last; l >= 0; l--) {
        const real *in = l == 0 ? tf->x0 : tf->blocks[l - 1].output;
        real *din = tf->dresid[(last - l + 1) % 2];
        block_backward(tf, &tf->blocks[l], params, grads, in, dresid, din, l == 0, batch);
        dresid = din;
    }
    /* the first block's table rows, then every example's residual share;
     * sinusoidal positions have no gradient */
    real *dembed = grads + tf->embed, *dpos = grad_or_null(grads, tf->pos_embed);
    for (int row = 0; row < tf->n_rows; row++) {
        const real *dx = tf->dtable_x + (long)row * d;
        real *de = dembed + (long)tf->row_token[row] * d;
        for (int j = 0; j < d; j++) de[j] += dx[j];
        if (!dpos) continue;
        real *dp = dpos + (long)tf->row_position[row] * d;
        for (int j = 0; j < d; j++) dp[j] += dx[j];
    }
    /* the first block's residual reaches only its query positions: din is 0 before them */
    for (int i = 0; i < n; i++) {
        const int *tokens = batch->tokens + (long)i * seq;
        for (int t = tf->blocks[0].q_start; t < seq; t++) {
            const real *dx = dresid + ((long)i * seq + t) * d;
            real *de = dembed + (long)tokens[t] * d;
            for (int j = 0; j < d; j++) de[j] += dx[j];
            if (!dpos) continue;
            real *dp = dpos + (long)t * d;
            for (int j = 0; j < d; j++) dp[j] += dx[j];
        }
    }
}
