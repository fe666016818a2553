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

/* The table row of token `token` at position t. */
static long table_row(const Transformer *tf, int t, int token) { return tf->row_of[(long)t * tf->vocab + token]; }

/* Number the distinct (position, token) pairs of the batch as table rows,
 * in (position, token) order, fill tf->token_row, and note where the first
 * block's query positions begin. */
static void number_table_rows(Transformer *tf, const Examples *batch) {
    int seq = tf->seq, vocab = tf->vocab;
    long tokens = (long)batch->n * seq;
    for (long k = 0; k < (long)seq * vocab; k++) tf->row_of[k] = -1;
    for (long k = 0; k < tokens; k++) {
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
    for (long k = 0; k < tokens; k++) tf->token_row[k] = (int)table_row(tf, (int)(k % seq), batch->tokens[k]);
}

/* The tf->prefix_map slot of example i's prefix ending at t: its prefix at
 * t - 1 (0 at t = 0), numbered within its position, and the token at t.
 * Needs tf->prefix_of up to t - 1. */
static long prefix_slot(const Transformer *tf, const Examples *batch, int i, int t) {
    long at = (long)i * tf->seq + t;
    long parent = t == 0 ? 0 : tf->prefix_of[at - 1] - tf->prefix_first[t - 1];
    return parent * tf->vocab + batch->tokens[at];
}

/* Number the distinct prefixes tokens[0..t] of the batch as prefix rows,
 * position by position, each position's in order of first appearance; a
 * prefix is found by its (shorter prefix, token) slot. Fills tf->prefix_of,
 * prefix_example, prefix_position and prefix_first; leaves prefix_map all -1. */
static void number_prefixes(Transformer *tf, const Examples *batch) {
    int n = batch->n, seq = tf->seq, rows = 0;
    for (int t = 0; t < seq; t++) {
        tf->prefix_first[t] = rows;
        for (int i = 0; i < n; i++) {
            int *slot = tf->prefix_map + prefix_slot(tf, batch, i, t);
            if (*slot < 0) {
                *slot = rows;
                tf->prefix_example[rows] = i;
                tf->prefix_position[rows] = t;
                rows++;
            }
            tf->prefix_of[(long)i * seq + t] = *slot;
        }
        for (int i = 0; i < n; i++) tf->prefix_map[prefix_slot(tf, batch, i, t)] = -1;
    }
    tf->prefix_first[seq] = rows;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Hand out every activation and scratch array from one arena. */
static void layout_workspace(Transformer *tf, Arena *arena) {
    const ModelConfig *cfg = &tf->cfg;
    size_t n = (size_t)tf->max_batch, d = (size_t)cfg->d_model, f = (size_t)cfg->d_mlp;
    size_t heads = (size_t)cfg->n_heads, seq = (size_t)tf->seq;
    size_t table_rows = min_size(seq * (size_t)tf->vocab, n * seq), prefix_rows = n * seq;
    bool pre = cfg->layernorm == LAYERNORM_PRE, post = cfg->layernorm == LAYERNORM_POST;
    tf->sinusoid = cfg->positions == POSITIONS_SINUSOIDAL ? arena_take(arena, seq * d) : NULL;
    tf->table_x = arena_take(arena, table_rows * d);
    tf->dtable_x = arena_take(arena, table_rows * d);
    for (int l = 0; l < cfg->n_layers; l++) {
        TransformerBlock *blk = &tf->blocks[l];
        size_t seq_q = seq - (size_t)blk->q_start, in_rows = l == 0 ? table_rows : prefix_rows;
        size_t out_rows = n * seq_q, q_rows = min_size(in_rows, n * seq_q);
        size_t ln1_rows = pre ? in_rows : post ? out_rows : 0;
        blk->ln1 = ln1_rows ? arena_take(arena, ln1_rows * d) : NULL;
        blk->ln1_mean = ln1_rows ? arena_take(arena, ln1_rows) : NULL;
        blk->ln1_rstd = ln1_rows ? arena_take(arena, ln1_rows) : NULL;
        blk->q = arena_take(arena, q_rows * d);
        blk->k = arena_take(arena, in_rows * d);
        blk->v = arena_take(arena, in_rows * d);
        blk->probs = arena_take(arena, out_rows * heads * seq);
        blk->attn = arena_take(arena, out_rows * d);
        blk->mid = arena_take(arena, out_rows * d);
        blk->ln2 = pre || post ? arena_take(arena, out_rows * d) : NULL;
        blk->ln2_mean = pre || post ? arena_take(arena, out_rows) : NULL;
        blk->ln2_rstd = pre || post ? arena_take(arena, out_rows) : NULL;
        blk->fc_pre = arena_take(arena, out_rows * f);
        blk->fc_post = arena_take(arena, out_rows * f);
        blk->out = arena_take(arena, out_rows * d);
        blk->output = post ? blk->ln2 : blk->out;
    }
    tf->final = arena_take(arena, n * d);
    tf->lnf = cfg->final_layernorm ? arena_take(arena, n * d) : NULL;
    tf->lnf_mean = cfg->final_layernorm ? arena_take(arena, n) : NULL;
    tf->lnf_rstd = cfg->final_layernorm ? arena_take(arena, n) : NULL;
    real **scratch[] = {&tf->dresid[0], &tf->dresid[1], &tf->dmid, &tf->dln, &tf->dattn, &tf->dq, &tf->dk, &tf->dv};
    for (size_t s = 0; s < sizeof scratch / sizeof scratch[0]; s++) *scratch[s] = arena_take(arena, prefix_rows * d);
    tf->dfc = arena_take(arena, prefix_rows * f);
    tf->dfinal = arena_take(arena, n * d);
    tf->dlnf = arena_take(arena, n * d);
    tf->dsum = post ? arena_take(arena, prefix_rows * d) : NULL;
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
    size_t pairs = (size_t)tf->seq * (size_t)tf->vocab, positions = (size_t)max_batch * (size_t)tf->seq;
    size_t slots = (size_t)max_batch * (size_t)tf->vocab;
    tf->work = malloc(sizeof(real) * arena.used);
    tf->row_of = malloc(sizeof(int) * (3 * pairs + 4 * positions + slots + (size_t)tf->seq + 1));
    if (!tf->work || !tf->row_of) return -1;
    tf->row_position = tf->row_of + pairs;
    tf->row_token = tf->row_position + pairs;
    tf->token_row = tf->row_token + pairs;
    tf->prefix_of = tf->token_row + positions;
    tf->prefix_example = tf->prefix_of + positions;
    tf->prefix_position = tf->prefix_example + positions;
    tf->prefix_map = tf->prefix_position + positions;
    tf->prefix_first = tf->prefix_map + slots;
    for (size_t k = 0; k < slots; k++) tf->prefix_map[k] = -1;
    arena = (Arena){tf->work, 0};
    layout_workspace(tf, &arena);
    if (tf->sinusoid) fill_sinusoid(tf->sinusoid, tf->seq, d);
    return 0;
}

void transformer_free(Transformer *tf) {
    free(tf->work);
    free(tf->row_of); /* holds every int array */
    tf->work = NULL;
    tf->row_of = tf->row_position = tf->row_token = tf->token_row = NULL;
    tf->prefix_of = tf->prefix_example = tf->prefix_position = tf->prefix_first = tf->prefix_map = NULL;
}

static const real *param_or_null(const real *buffer, size_t offset) {
    return offset == NO_PARAM ? NULL : buffer + offset;
}

static real *grad_or_null(real *buffer, size_t offset) { return offset == NO_PARAM ? NULL : buffer + offset; }

/* A block's rows. Its input has a row per (position, token) pair of the
 * table (first block) or per prefix (later blocks); map (n, seq) gives each
 * example's input row at each position, and the query rows are the input
 * rows [q_first, in_rows). Its output rows are the prefix rows
 * [out_first, out_first + out_rows), the prefixes ending at its query
 * positions (the last block's: the distinct whole sequences); they are the
 * next block's input rows. */
typedef struct {
    const int *map;
    int in_rows, q_first, out_first, out_rows;
} BlockRows;

static BlockRows block_rows(const Transformer *tf, const TransformerBlock *blk, bool first) {
    int prefixes = tf->prefix_first[tf->seq];
    BlockRows rows = {first ? tf->token_row : tf->prefix_of, first ? tf->n_rows : prefixes,
                      first ? tf->q_first_row : tf->prefix_first[blk->q_start], tf->prefix_first[blk->q_start], 0};
    rows.out_rows = prefixes - rows.out_first;
    return rows;
}

/* The input row at the last position of output row r's prefix (r counted
 * from out_first): its residual, and its query at q[input_row - q_first]. */
static long input_row(const Transformer *tf, const BlockRows *rows, long r) {
    long prefix = rows->out_first + r;
    return rows->map[(long)tf->prefix_example[prefix] * tf->seq + tf->prefix_position[prefix]];
}

/* Causal multi-head attention at the block's output rows: output row r, a prefix ending at t held by
 * example e, attends with its query over the keys and values of the input
 * rows map[e][0..t]. Writes blk->attn (out rows, d) and blk->probs
 * (out rows, heads, seq), 0 after t; reads blk->q (query rows, d), blk->k,
 * blk->v (input rows, d). Scores are q·k / sqrt(d/heads). */
static void row_attention_forward(const Transformer *tf, TransformerBlock *blk, const BlockRows *rows) {
    int d = tf->cfg.d_model, heads = tf->cfg.n_heads, hd = d / heads, seq = tf->seq;
    double scale = 1.0 / sqrt((double)hd);
    ASSERT(seq <= 64);
    for (long r = 0; r < rows->out_rows; r++) {
        long prefix = rows->out_first + r;
        int t = tf->prefix_position[prefix];
        ASSERT(t >= 0 && t < seq);
        const int *inputs = rows->map + (long)tf->prefix_example[prefix] * seq;
        const real *q = blk->q + (input_row(tf, rows, r) - rows->q_first) * d;
        for (int h = 0; h < heads; h++) {
            const real *qv = q + h * hd;
            real *prob = blk->probs + (r * heads + h) * seq;
            double max_score = -INFINITY, score[64], total = 0;
            for (int j = 0; j <= t; j++) {
                const real *kv = blk->k + (long)inputs[j] * d + h * hd;
                double s = 0;
                for (int e = 0; e < hd; e++) s += (double)qv[e] * kv[e];
                score[j] = s * scale;
                if (score[j] > max_score) max_score = score[j];
            }
            for (int j = 0; j <= t; j++) {
                score[j] = exp(score[j] - max_score);
                total += score[j];
            }
            for (int j = 0; j <= t; j++) prob[j] = (real)(score[j] / total);
            for (int j = t + 1; j < seq; j++) prob[j] = 0;
            real *o = blk->attn + r * d + h * hd;
            for (int e = 0; e < hd; e++) o[e] = 0;
            for (int j = 0; j <= t; j++) {
                const real *vv = blk->v + (long)inputs[j] * d + h * hd;
                for (int e = 0; e < hd; e++) o[e] += prob[j] * vv[e];
            }
        }
    }
}

/* Backward of row_attention_forward from tf->dattn (out rows, d): tf->dq
 * (query rows, d), tf->dk, tf->dv (input rows, d) written, each input row's
 * gradient summed over the output rows that read it. */
static void row_attention_backward(Transformer *tf, const TransformerBlock *blk, const BlockRows *rows) {
    int d = tf->cfg.d_model, heads = tf->cfg.n_heads, hd = d / heads, seq = tf->seq;
    real scale = (real)(1.0 / sqrt((double)hd));
    memset(tf->dq, 0, sizeof(real) * (size_t)(rows->in_rows - rows->q_first) * (size_t)d);
    memset(tf->dk, 0, sizeof(real) * (size_t)rows->in_rows * (size_t)d);
    memset(tf->dv, 0, sizeof(real) * (size_t)rows->in_rows * (size_t)d);
    for (long r = 0; r < rows->out_rows; r++) {
        long prefix = rows->out_first + r, q_row = input_row(tf, rows, r) - rows->q_first;
        int t = tf->prefix_position[prefix];
        const int *inputs = rows->map + (long)tf->prefix_example[prefix] * seq;
        for (int h = 0; h < heads; h++) {
            const real *qv = blk->q + q_row * d + h * hd, *dov = tf->dattn + r * d + h * hd;
            const real *prob = blk->probs + (r * heads + h) * seq;
            real *dqv = tf->dq + q_row * d + h * hd;
            double dprob[64], weighted = 0;
            for (int j = 0; j <= t; j++) {
                const real *vv = blk->v + (long)inputs[j] * d + h * hd;
                real *dvv = tf->dv + (long)inputs[j] * d + h * hd;
                double s = 0;
                for (int e = 0; e < hd; e++) {
                    s += (double)dov[e] * vv[e];
                    dvv[e] += prob[j] * dov[e];
                }
                dprob[j] = s;
                weighted += s * prob[j];
            }
            for (int j = 0; j <= t; j++) {
                real dscore = (real)(prob[j] * (dprob[j] - weighted)) * scale;
                const real *kv = blk->k + (long)inputs[j] * d + h * hd;
                real *dkv = tf->dk + (long)inputs[j] * d + h * hd;
                for (int e = 0; e < hd; e++) {
                    dqv[e] += dscore * kv[e];
                    dkv[e] += dscore * qv[e];
                }
            }
        }
    }
}

/* One block: in (input rows, d) → blk->output (output rows, d); the first
 * block (first true) reads the table rows, the others the prefix rows. */
static void block_forward(Transformer *tf, TransformerBlock *blk, const real *params, const real *in, bool first) {
    const ModelConfig *cfg = &tf->cfg;
    int d = cfg->d_model, f = cfg->d_mlp;
    BlockRows br = block_rows(tf, blk, first);
    long rows = br.out_rows;
    bool pre = cfg->layernorm == LAYERNORM_PRE, post = cfg->layernorm == LAYERNORM_POST;
    const real *normed = in;
    if (pre) {
        layernorm_forward(blk->ln1, blk->ln1_mean, blk->ln1_rstd, in, params + blk->ln1_gain,
                          params + blk->ln1_bias, br.in_rows, d);
        normed = blk->ln1;
    }
    linear_forward(blk->q, normed + (long)br.q_first * d, d, params + blk->q_weight,
                   param_or_null(params, blk->q_bias), br.in_rows - br.q_first, d, d);
    linear_forward(blk->k, normed, d, params + blk->k_weight, param_or_null(params, blk->k_bias), br.in_rows, d, d);
    linear_forward(blk->v, normed, d, params + blk->v_weight, param_or_null(params, blk->v_bias), br.in_rows, d, d);
    row_attention_forward(tf, blk, &br);
    linear_forward(blk->mid, blk->attn, d, params + blk->o_weight, param_or_null(params, blk->o_bias), (int)rows, d,
                   d);
    for (long r = 0; r < rows; r++) {
        real *mid = blk->mid + r * d;
        const real *resid = in + input_row(tf, &br, r) * d;
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

/* Backward of block_forward. dout (output rows, d), the gradient of
 * blk->output → din (input rows, d) written; dout must not alias din.
 * The key bias gets no gradient: it adds q·b_k to all of a query's scores
 * alike, which the softmax cancels, so its gradient is exactly 0 (computed,
 * it would be float32 round-off); it only decays. */
static void block_backward(Transformer *tf, const TransformerBlock *blk, const real *params, real *grads,
                           const real *in, const real *dout, real *din, bool first) {
    const ModelConfig *cfg = &tf->cfg;
    int d = cfg->d_model, f = cfg->d_mlp;
    BlockRows br = block_rows(tf, blk, first);
    long rows = br.out_rows;
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

    /* residual: each output row's dmid to its input row */
    memset(din, 0, sizeof(real) * (size_t)br.in_rows * (size_t)d);
    for (long r = 0; r < rows; r++) {
        real *dst = din + input_row(tf, &br, r) * d;
        const real *src = tf->dmid + r * d;
        for (int e = 0; e < d; e++) dst[e] += src[e];
    }

    /* attention branch */
    linear_backward(tf->dattn, false, grads + blk->o_weight, grad_or_null(grads, blk->o_bias), tf->dmid, blk->attn, d,
                    params + blk->o_weight, (int)rows, d, d);
    row_attention_backward(tf, blk, &br);
    const real *normed = pre ? blk->ln1 : in;
    real *dnormed = pre ? tf->dln : din;
    linear_backward(dnormed, !pre, grads + blk->k_weight, NULL, tf->dk, normed, d, params + blk->k_weight, br.in_rows,
                    d, d);
    linear_backward(dnormed, true, grads + blk->v_weight, grad_or_null(grads, blk->v_bias), tf->dv, normed, d,
                    params + blk->v_weight, br.in_rows, d, d);
    linear_backward(dnormed + (long)br.q_first * d, true, grads + blk->q_weight, grad_or_null(grads, blk->q_bias),
                    tf->dq, normed + (long)br.q_first * d, d, params + blk->q_weight, br.in_rows - br.q_first, d, d);
    if (pre)
        layernorm_backward(din, grads + blk->ln1_gain, grads + blk->ln1_bias, tf->dln, in, params + blk->ln1_gain,
                           blk->ln1_mean, blk->ln1_rstd, br.in_rows, d);
}

void transformer_forward(Transformer *tf, const real *params, const Examples *batch, real *outputs) {
    int n = batch->n;
    ASSERT(n >= 1 && n <= tf->max_batch && batch->shape.seq_len == tf->seq);
    const ModelConfig *cfg = &tf->cfg;
    int d = cfg->d_model, seq = tf->seq;
    const real *embed = params + tf->embed, *pos = tf->sinusoid ? tf->sinusoid : params + tf->pos_embed;
    number_table_rows(tf, batch);
    number_prefixes(tf, batch);
    for (int row = 0; row < tf->n_rows; row++) {
        real *x = tf->table_x + (long)row * d;
        const real *e = embed + (long)tf->row_token[row] * d, *pe = pos + (long)tf->row_position[row] * d;
        for (int j = 0; j < d; j++) x[j] = e[j] + pe[j];
    }
    const real *x = tf->table_x;
    for (int l = 0; l < cfg->n_layers; l++) {
        block_forward(tf, &tf->blocks[l], params, x, l == 0);
        x = tf->blocks[l].output;
    }
    /* x holds a row per distinct sequence; each example reads its own */
    long last_first = tf->prefix_first[seq - 1];
    for (int i = 0; i < n; i++)
        memcpy(tf->final + (long)i * d, x + (tf->prefix_of[(long)i * seq + seq - 1] - last_first) * d,
               sizeof(real) * (size_t)d);
    x = tf->final;
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
    if (cfg->final_layernorm) {
        linear_backward(tf->dlnf, false, grads + tf->unembed, NULL, doutputs, tf->lnf, d, params + tf->unembed, n, d,
                        tf->n_outputs);
        memset(tf->dfinal, 0, sizeof(real) * (size_t)n * d);
        layernorm_backward(tf->dfinal, grads + tf->lnf_gain, grads + tf->lnf_bias, tf->dlnf, tf->final,
                           params + tf->lnf_gain, tf->lnf_mean, tf->lnf_rstd, n, d);
    } else {
        linear_backward(tf->dfinal, false, grads + tf->unembed, NULL, doutputs, tf->final, d, params + tf->unembed, n,
                        d, tf->n_outputs);
    }
    /* the examples' gradients summed per distinct sequence */
    long last_first = tf->prefix_first[seq - 1];
    real *dresid = tf->dresid[0];
    memset(dresid, 0, sizeof(real) * (size_t)(tf->prefix_first[seq] - last_first) * (size_t)d);
    for (int i = 0; i < n; i++) {
        real *dst = dresid + (tf->prefix_of[(long)i * seq + seq - 1] - last_first) * d;
        const real *src = tf->dfinal + (long)i * d;
        for (int j = 0; j < d; j++) dst[j] += src[j];
    }
    for (int l = last; l >= 0; l--) {
        const real *in = l == 0 ? tf->table_x : tf->blocks[l - 1].output;
        real *din = l == 0 ? tf->dtable_x : tf->dresid[(last - l + 1) % 2];
        block_backward(tf, &tf->blocks[l], params, grads, in, dresid, din, l == 0);
        dresid = din;
    }
    /* the table rows; sinusoidal positions have no gradient */
    real *dembed = grads + tf->embed, *dpos = grad_or_null(grads, tf->pos_embed);
    for (int row = 0; row < tf->n_rows; row++) {
        const real *dx = tf->dtable_x + (long)row * d;
        real *de = dembed + (long)tf->row_token[row] * d;
        for (int j = 0; j < d; j++) de[j] += dx[j];
        if (!dpos) continue;
        real *dp = dpos + (long)tf->row_position[row] * d;
        for (int j = 0; j < d; j++) dp[j] += dx[j];
    }
}
