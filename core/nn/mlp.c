#include "mlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers.h"
#include "loss.h"
#include "vector_clones.h"

int mlp_create(Mlp *mlp, ParamTable *table, const ModelConfig *cfg, const ExampleShape *shape, int max_batch) {
    ASSERT(cfg->kind == MODEL_MLP && cfg->depth >= 1 && cfg->depth <= MLP_MAX_DEPTH);
    ASSERT((cfg->input == INPUT_DENSE) == !shape_has_tokens(shape));
    memset(mlp, 0, sizeof *mlp);
    mlp->cfg = *cfg;
    mlp->shape = *shape;
    mlp->max_batch = max_batch;
    mlp->n_outputs = shape->n_outputs;
    int width = cfg->width, d = cfg->embed_dim, positions = shape->seq_len, vocab = shape->vocab;
    mlp->embed = NO_PARAM;
    if (cfg->input == INPUT_EMBED_ADD || cfg->input == INPUT_EMBED_CONCAT)
        mlp->embed = param_table_add(table, "embed.weight", vocab, d, PARAM_EMBEDDING, d);
    switch (cfg->input) {
    case INPUT_ONEHOT: mlp->in_dim = positions * vocab; break;
    case INPUT_EMBED_ADD: mlp->in_dim = d; break;
    case INPUT_EMBED_CONCAT: mlp->in_dim = positions * d; break;
    case INPUT_DENSE: mlp->in_dim = shape->dim; break;
    }
    for (int l = 0; l < cfg->depth; l++) {
        char name[48];
        int fan_in = l == 0 ? mlp->in_dim : width;
        snprintf(name, sizeof name, "layers.%d.weight", l);
        mlp->weight[l] = param_table_add(table, name, width, fan_in, PARAM_LINEAR_WEIGHT, fan_in);
        snprintf(name, sizeof name, "layers.%d.bias", l);
        mlp->bias[l] = cfg->bias ? param_table_add(table, name, 1, width, PARAM_LINEAR_BIAS, fan_in) : NO_PARAM;
    }
    mlp->out_weight = param_table_add(table, "out.weight", mlp->n_outputs, width, PARAM_LINEAR_WEIGHT, width);
    mlp->out_bias =
        cfg->bias ? param_table_add(table, "out.bias", 1, mlp->n_outputs, PARAM_LINEAR_BIAS, width) : NO_PARAM;

    size_t table_size = 0;
    if (cfg->input != INPUT_DENSE) {
        int tables = cfg->input == INPUT_EMBED_ADD ? 1 : positions;
        mlp->table_stride = cfg->input == INPUT_EMBED_ADD ? 0 : (long)vocab * width;
        table_size = (size_t)tables * vocab * width;
    }
    size_t batch_size = (size_t)max_batch * width;
    /* rows per block of mlp_loss_gradient: its activations, their gradients
     * and its outputs about MLP_BLOCK_BYTES, a multiple of 16 rows */
    bool relu = cfg->activation == ACT_RELU;
    size_t row_bytes = sizeof(real) * ((size_t)width * ((relu ? 1 : 2) * (size_t)cfg->depth + 2) + 2 * (size_t)mlp->n_outputs);
    int block_rows = (int)(MLP_BLOCK_BYTES / row_bytes) / 16 * 16;
    if (block_rows < 16) block_rows = 16;
    mlp->block_rows = block_rows < max_batch ? block_rows : max_batch;
    size_t block_size = (size_t)mlp->block_rows * width, block_outputs = (size_t)mlp->block_rows * mlp->n_outputs;
    size_t total = 2 * table_size + batch_size * (2 * (size_t)cfg->depth + 2) +
                   block_size * ((relu ? 1 : 2) * (size_t)cfg->depth + 2) + 2 * block_outputs;
    mlp->work = malloc(sizeof(real) * total);
    if (!mlp->work) return -1;
    real *cursor = mlp->work;
    if (table_size) {
        mlp->tables = cursor, cursor += table_size;
        mlp->dtables = cursor, cursor += table_size;
    }
    for (int l = 0; l < cfg->depth; l++) {
        mlp->pre[l] = cursor, cursor += batch_size;
        mlp->post[l] = cursor, cursor += batch_size;
    }
    mlp->dhidden = cursor, cursor += 2 * batch_size;
    for (int l = 0; l < cfg->depth; l++) {
        mlp->block_post[l] = cursor, cursor += block_size;
        if (relu) /* in place: relu's backward reads the same from its output */
            mlp->block_pre[l] = mlp->block_post[l];
        else
            mlp->block_pre[l] = cursor, cursor += block_size;
    }
    mlp->block_dhidden = cursor, cursor += 2 * block_size;
    mlp->block_outputs = cursor, cursor += block_outputs;
    mlp->block_doutputs = cursor, cursor += block_outputs;
    ASSERT(cursor == mlp->work + total);
    return 0;
}

void mlp_free(Mlp *mlp) {
    free(mlp->work);
    mlp->work = NULL;
}

/* Fill the tables (positions, V, N): the first layer's pre-activation
 * contribution of each token value at each position. */
static void first_layer_tables(Mlp *mlp, const real *params) {
    int vocab = mlp->shape.vocab, positions = mlp->shape.seq_len, width = mlp->cfg.width, d = mlp->cfg.embed_dim;
    const real *weight = params + mlp->weight[0]; /* (N, in_dim) */
    switch (mlp->cfg.input) {
    case INPUT_ONEHOT: /* A_t[v] = W1[:, t·V + v] */
        for (int t = 0; t < positions; t++) {
            real *table = mlp->tables + t * mlp->table_stride;
            for (int j = 0; j < width; j++)
                for (int v = 0; v < vocab; v++)
                    table[(long)v * width + j] = weight[(long)j * mlp->in_dim + (long)t * vocab + v];
        }
        break;
    case INPUT_EMBED_ADD: /* A = E (V, d) · W1ᵀ (d, N) */
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, vocab, width, d, 1, params + mlp->embed, d, weight, d,
                   0, mlp->tables, width);
        break;
    case INPUT_EMBED_CONCAT: /* A_t = E · W1[:, t·d : (t+1)·d]ᵀ */
        for (int t = 0; t < positions; t++)
            cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, vocab, width, d, 1, params + mlp->embed, d,
                       weight + (long)t * d, mlp->in_dim, 0, mlp->tables + t * mlp->table_stride, width);
        break;
    case INPUT_DENSE: ASSERT(!"dense inputs have no tables"); break;
    }
}

/* Backward of first_layer_tables: accumulate dtables (positions, V, N)
 * into the first layer's weight and the embedding gradients. */
static void first_layer_tables_backward(Mlp *mlp, const real *params, real *grads) {
    ASSERT(params && grads);
    int vocab = mlp->shape.vocab, positions = mlp->shape.seq_len, width = mlp->cfg.width, d = mlp->cfg.embed_dim;
    const real *weight = params + mlp->weight[0], *embed = params + mlp->embed;
    real *dweight = grads + mlp->weight[0], *dembed = grads + mlp->embed;
    switch (mlp->cfg.input) {
    case INPUT_ONEHOT:
        for (int t = 0; t < positions; t++) {
            const real *dtable = mlp->dtables + t * mlp->table_stride;
            for (int j = 0; j < width; j++)
                for (int v = 0; v < vocab; v++)
                    dweight[(long)j * mlp->in_dim + (long)t * vocab + v] += dtable[(long)v * width + j];
        }
        break;
    case INPUT_EMBED_ADD: /* dW1 (N, d) += dAᵀ · E; dE (V, d) += dA · W1 */
        cblas_gemm(CblasRowMajor, CblasTrans, CblasNoTrans, width, d, vocab, 1, mlp->dtables, width, embed, d, 1,
                   dweight, d);
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, vocab, d, width, 1, mlp->dtables, width, weight, d, 1,
                   dembed, d);
        break;
    case INPUT_EMBED_CONCAT:
        for (int t = 0; t < positions; t++)
            cblas_gemm(CblasRowMajor, CblasTrans, CblasNoTrans, width, d, vocab, 1,
                       mlp->dtables + t * mlp->table_stride, width, embed, d, 1, dweight + (long)t * d, mlp->in_dim);
        for (int t = 0; t < positions; t++)
            cblas_gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, vocab, d, width, 1,
                       mlp->dtables + t * mlp->table_stride, width, weight + (long)t * d, mlp->in_dim, 1, dembed, d);
        break;
    case INPUT_DENSE: ASSERT(!"dense inputs have no tables"); break;
    }
}

/* The first layer's pre-activations pre (n, N) of a batch of n token
 * inputs: the sum of each position's table row, plus the bias. The tables
 * must be filled (first_layer_tables). */
VECTOR_CLONES static void first_layer_from_tables(const Mlp *mlp, const real *params, const Examples *batch, real *pre) {
    int width = mlp->cfg.width, positions = mlp->shape.seq_len;
    const real *bias0 = mlp->bias[0] == NO_PARAM ? NULL : params + mlp->bias[0];
    for (int i = 0; i < batch->n; i++) {
        real *z = pre + (long)i * width;
        const int *tokens = batch->tokens + (long)i * positions;
        const real *row = mlp->tables + (long)tokens[0] * width;
        for (int j = 0; j < width; j++) z[j] = row[j];
        for (int t = 1; t < positions; t++) {
            row = mlp->tables + t * mlp->table_stride + (long)tokens[t] * width;
            for (int j = 0; j < width; j++) z[j] += row[j];
        }
        if (bias0)
            for (int j = 0; j < width; j++) z[j] += bias0[j];
    }
}

void mlp_forward(Mlp *mlp, const real *params, const Examples *batch, real *outputs) {
    int n = batch->n, width = mlp->cfg.width, depth = mlp->cfg.depth;
    ASSERT(n >= 1 && n <= mlp->max_batch);
    if (mlp->cfg.input == INPUT_DENSE)
        linear_forward(mlp->pre[0], batch->features, mlp->in_dim, params + mlp->weight[0],
                       mlp->bias[0] == NO_PARAM ? NULL : params + mlp->bias[0], n, mlp->in_dim, width);
    else {
        first_layer_tables(mlp, params);
        first_layer_from_tables(mlp, params, batch, mlp->pre[0]);
    }
    activation_forward(mlp->post[0], mlp->pre[0], (long)n * width, mlp->cfg.activation);
    for (int l = 1; l < depth; l++) {
        linear_forward(mlp->pre[l], mlp->post[l - 1], width, params + mlp->weight[l],
                       mlp->bias[l] == NO_PARAM ? NULL : params + mlp->bias[l], n, width, width);
        activation_forward(mlp->post[l], mlp->pre[l], (long)n * width, mlp->cfg.activation);
    }
    linear_forward(outputs, mlp->post[depth - 1], width, params + mlp->out_weight,
                   mlp->out_bias == NO_PARAM ? NULL : params + mlp->out_bias, n, width, mlp->n_outputs);
}

/* Zero the table gradients dtables. */
static void clear_dtables(Mlp *mlp) {
    int tables = mlp->table_stride ? mlp->shape.seq_len : 1;
    memset(mlp->dtables, 0, sizeof(real) * (size_t)tables * mlp->shape.vocab * mlp->cfg.width);
}

/* Backward of first_layer_from_tables from dz (n, N), the first layer's
 * pre-activation gradient of the batch's n rows: accumulated into the
 * table gradients dtables and the first bias's gradient. */
VECTOR_CLONES static void first_layer_from_tables_backward(Mlp *mlp, real *grads, const real *dz, const Examples *batch) {
    int width = mlp->cfg.width, positions = mlp->shape.seq_len;
    real *dbias0 = mlp->bias[0] == NO_PARAM ? NULL : grads + mlp->bias[0];
    for (int i = 0; i < batch->n; i++) {
        const real *dz_row = dz + (long)i * width;
        const int *tokens = batch->tokens + (long)i * positions;
        for (int t = 0; t < positions; t++) {
            real *drow = mlp->dtables + t * mlp->table_stride + (long)tokens[t] * width;
            for (int j = 0; j < width; j++) drow[j] += dz_row[j];
        }
        if (dbias0)
            for (int j = 0; j < width; j++) dbias0[j] += dz_row[j];
    }
}

void mlp_backward(Mlp *mlp, const real *params, real *grads, const real *doutputs, const Examples *batch) {
    int n = batch->n, width = mlp->cfg.width, depth = mlp->cfg.depth;
    ASSERT(n >= 1 && n <= mlp->max_batch);
    long batch_size = (long)mlp->max_batch * width;
    real *dcur = mlp->dhidden, *dnext = mlp->dhidden + batch_size;
    linear_backward(dcur, false, grads + mlp->out_weight, mlp->out_bias == NO_PARAM ? NULL : grads + mlp->out_bias,
                    doutputs, mlp->post[depth - 1], width, params + mlp->out_weight, n, width, mlp->n_outputs);
    for (int l = depth - 1; l >= 1; l--) {
        activation_backward(dcur, dcur, mlp->pre[l], mlp->post[l], (long)n * width, mlp->cfg.activation);
        linear_backward(dnext, false, grads + mlp->weight[l], mlp->bias[l] == NO_PARAM ? NULL : grads + mlp->bias[l],
                        dcur, mlp->post[l - 1], width, params + mlp->weight[l], n, width, width);
        real *swap = dcur;
        dcur = dnext;
        dnext = swap;
    }
    activation_backward(dcur, dcur, mlp->pre[0], mlp->post[0], (long)n * width, mlp->cfg.activation);
    /* dcur is now the first layer's pre-activation gradient (n, N) */
    if (mlp->cfg.input == INPUT_DENSE)
        linear_backward(NULL, false, grads + mlp->weight[0], mlp->bias[0] == NO_PARAM ? NULL : grads + mlp->bias[0],
                        dcur, batch->features, mlp->in_dim, params + mlp->weight[0], n, mlp->in_dim, width);
    else {
        clear_dtables(mlp);
        first_layer_from_tables_backward(mlp, grads, dcur, batch);
        first_layer_tables_backward(mlp, params, grads);
    }
}

/* Forward and backward of one block of rows (part, n <= block_rows) in the
 * block workspace; the loss of its rows is returned, with their gradient
 * taken of the mean over mean_over rows. Token inputs accumulate into
 * dtables, which the caller turns into weight gradients. */
static double block_loss_gradient(Mlp *mlp, const real *params, real *grads, LossKind loss, double tolerance,
                                  const Examples *part, int mean_over, int *hits) {
    int n = part->n, width = mlp->cfg.width, depth = mlp->cfg.depth;
    Activation act = mlp->cfg.activation;
    const real *bias0 = mlp->bias[0] == NO_PARAM ? NULL : params + mlp->bias[0];
    if (mlp->cfg.input == INPUT_DENSE)
        linear_forward(mlp->block_pre[0], part->features, mlp->in_dim, params + mlp->weight[0], bias0, n, mlp->in_dim,
                       width);
    else
        first_layer_from_tables(mlp, params, part, mlp->block_pre[0]);
    activation_forward(mlp->block_post[0], mlp->block_pre[0], (long)n * width, act);
    for (int l = 1; l < depth; l++) {
        linear_forward(mlp->block_pre[l], mlp->block_post[l - 1], width, params + mlp->weight[l],
                       mlp->bias[l] == NO_PARAM ? NULL : params + mlp->bias[l], n, width, width);
        activation_forward(mlp->block_post[l], mlp->block_pre[l], (long)n * width, act);
    }
    linear_forward(mlp->block_outputs, mlp->block_post[depth - 1], width, params + mlp->out_weight,
                   mlp->out_bias == NO_PARAM ? NULL : params + mlp->out_bias, n, width, mlp->n_outputs);
    double total = loss_sum_part(loss, tolerance, mlp->block_outputs, part, mean_over, mlp->block_doutputs, hits);

    real *dcur = mlp->block_dhidden, *dnext = mlp->block_dhidden + (long)mlp->block_rows * width;
    linear_backward(dcur, false, grads + mlp->out_weight, mlp->out_bias == NO_PARAM ? NULL : grads + mlp->out_bias,
                    mlp->block_doutputs, mlp->block_post[depth - 1], width, params + mlp->out_weight, n, width,
                    mlp->n_outputs);
    for (int l = depth - 1; l >= 1; l--) {
        activation_backward(dcur, dcur, mlp->block_pre[l], mlp->block_post[l], (long)n * width, act);
        linear_backward(dnext, false, grads + mlp->weight[l], mlp->bias[l] == NO_PARAM ? NULL : grads + mlp->bias[l],
                        dcur, mlp->block_post[l - 1], width, params + mlp->weight[l], n, width, width);
        real *swap = dcur;
        dcur = dnext;
        dnext = swap;
    }
    activation_backward(dcur, dcur, mlp->block_pre[0], mlp->block_post[0], (long)n * width, act);
    if (mlp->cfg.input == INPUT_DENSE)
        linear_backward(NULL, false, grads + mlp->weight[0], mlp->bias[0] == NO_PARAM ? NULL : grads + mlp->bias[0],
                        dcur, part->features, mlp->in_dim, params + mlp->weight[0], n, mlp->in_dim, width);
    else
        first_layer_from_tables_backward(mlp, grads, dcur, part);
    return total;
}

double mlp_loss_gradient(Mlp *mlp, const real *params, real *grads, LossKind loss, double tolerance,
                         const Examples *batch, int *hits) {
    ASSERT(batch->n >= 1 && batch->n <= mlp->max_batch && mlp->block_rows >= 1);
    bool tokens = mlp->cfg.input != INPUT_DENSE;
    if (tokens) {
        first_layer_tables(mlp, params);
        clear_dtables(mlp);
    }
    double total = 0;
    *hits = 0;
    for (int start = 0; start < batch->n; start += mlp->block_rows) {
        int rows = batch->n - start < mlp->block_rows ? batch->n - start : mlp->block_rows, block_hits;
        Examples part = examples_slice(batch, start, rows);
        total += block_loss_gradient(mlp, params, grads, loss, tolerance, &part, batch->n, &block_hits);
        *hits += block_hits;
    }
    if (tokens) first_layer_tables_backward(mlp, params, grads);
    return total;
}
