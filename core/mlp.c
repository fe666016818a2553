#include "mlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers.h"

int mlp_create(Mlp *mlp, ParamTable *table, const ModelConfig *cfg, int p, int max_batch) {
    ASSERT(cfg->kind == MODEL_MLP && cfg->depth >= 1 && cfg->depth <= MLP_MAX_DEPTH);
    memset(mlp, 0, sizeof *mlp);
    mlp->cfg = *cfg;
    mlp->p = p;
    mlp->max_batch = max_batch;
    int width = cfg->width, d = cfg->embed_dim;
    mlp->embed = NO_PARAM;
    if (cfg->input != INPUT_ONEHOT) mlp->embed = param_table_add(table, "embed.weight", p, d, PARAM_EMBEDDING, d);
    mlp->in_dim = cfg->input == INPUT_ONEHOT ? 2 * p : cfg->input == INPUT_EMBED_ADD ? d : 2 * d;
    for (int l = 0; l < cfg->depth; l++) {
        char name[48];
        int fan_in = l == 0 ? mlp->in_dim : width;
        snprintf(name, sizeof name, "layers.%d.weight", l);
        mlp->weight[l] = param_table_add(table, name, width, fan_in, PARAM_LINEAR_WEIGHT, fan_in);
        snprintf(name, sizeof name, "layers.%d.bias", l);
        mlp->bias[l] = cfg->bias ? param_table_add(table, name, 1, width, PARAM_LINEAR_BIAS, fan_in) : NO_PARAM;
    }
    mlp->out_weight = param_table_add(table, "out.weight", p, width, PARAM_LINEAR_WEIGHT, width);
    mlp->out_bias = cfg->bias ? param_table_add(table, "out.bias", 1, p, PARAM_LINEAR_BIAS, width) : NO_PARAM;

    bool shared_table = cfg->input == INPUT_EMBED_ADD;
    size_t table_size = (size_t)p * width, batch_size = (size_t)max_batch * width;
    size_t total = table_size * (shared_table ? 2 : 4) + batch_size * (2 * (size_t)cfg->depth + 2);
    mlp->work = malloc(sizeof(real) * total);
    if (!mlp->work) return -1;
    real *cursor = mlp->work;
    mlp->table_a = cursor, cursor += table_size;
    mlp->dtable_a = cursor, cursor += table_size;
    if (shared_table) {
        mlp->table_b = mlp->table_a;
        mlp->dtable_b = mlp->dtable_a;
    } else {
        mlp->table_b = cursor, cursor += table_size;
        mlp->dtable_b = cursor, cursor += table_size;
    }
    for (int l = 0; l < cfg->depth; l++) {
        mlp->pre[l] = cursor, cursor += batch_size;
        mlp->post[l] = cursor, cursor += batch_size;
    }
    mlp->dhidden = cursor, cursor += 2 * batch_size;
    ASSERT(cursor == mlp->work + total);
    return 0;
}

void mlp_free(Mlp *mlp) {
    free(mlp->work);
    mlp->work = NULL;
}

/* Fill table_a, table_b (p, N): the first layer's pre-activation
 * contribution of each token value in position a and in position b. */
static void first_layer_tables(Mlp *mlp, const real *params) {
    int p = mlp->p, width = mlp->cfg.width, d = mlp->cfg.embed_dim;
    const real *weight = params + mlp->weight[0]; /* (N, in_dim) */
    switch (mlp->cfg.input) {
    case INPUT_ONEHOT:
        for (int j = 0; j < width; j++)
            for (int v = 0; v < p; v++) {
                mlp->table_a[(long)v * width + j] = weight[(long)j * 2 * p + v];
                mlp->table_b[(long)v * width + j] = weight[(long)j * 2 * p + p + v];
            }
        break;
    case INPUT_EMBED_ADD: /* A = B = E (p, d) · W1ᵀ (d, N) */
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, p, width, d, 1, params + mlp->embed, d,
                   weight, d, 0, mlp->table_a, width);
        break;
    case INPUT_EMBED_CONCAT: /* A = E · W1[:, :d]ᵀ, B = E · W1[:, d:]ᵀ */
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, p, width, d, 1, params + mlp->embed, d,
                   weight, 2 * d, 0, mlp->table_a, width);
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, p, width, d, 1, params + mlp->embed, d,
                   weight + d, 2 * d, 0, mlp->table_b, width);
        break;
    }
}

/* Backward of first_layer_tables: accumulate dtable_a, dtable_b (p, N) into
 * the first layer's weight and the embedding gradients. */
static void first_layer_tables_backward(Mlp *mlp, const real *params, real *grads) {
    int p = mlp->p, width = mlp->cfg.width, d = mlp->cfg.embed_dim;
    const real *weight = params + mlp->weight[0], *embed = params + mlp->embed;
    real *dweight = grads + mlp->weight[0], *dembed = grads + mlp->embed;
    switch (mlp->cfg.input) {
    case INPUT_ONEHOT:
        for (int j = 0; j < width; j++)
            for (int v = 0; v < p; v++) {
                dweight[(long)j * 2 * p + v] += mlp->dtable_a[(long)v * width + j];
                dweight[(long)j * 2 * p + p + v] += mlp->dtable_b[(long)v * width + j];
            }
        break;
    case INPUT_EMBED_ADD: /* dW1 (N, d) += dAᵀ · E; dE (p, d) += dA · W1 */
        cblas_gemm(CblasRowMajor, CblasTrans, CblasNoTrans, width, d, p, 1, mlp->dtable_a, width, embed,
                   d, 1, dweight, d);
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, d, width, 1, mlp->dtable_a, width,
                   weight, d, 1, dembed, d);
        break;
    case INPUT_EMBED_CONCAT:
        cblas_gemm(CblasRowMajor, CblasTrans, CblasNoTrans, width, d, p, 1, mlp->dtable_a, width, embed,
                   d, 1, dweight, 2 * d);
        cblas_gemm(CblasRowMajor, CblasTrans, CblasNoTrans, width, d, p, 1, mlp->dtable_b, width, embed,
                   d, 1, dweight + d, 2 * d);
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, d, width, 1, mlp->dtable_a, width,
                   weight, 2 * d, 1, dembed, d);
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, d, width, 1, mlp->dtable_b, width,
                   weight + d, 2 * d, 1, dembed, d);
        break;
    }
}

void mlp_forward(Mlp *mlp, const real *params, const int *a, const int *b, int n, real *logits) {
    ASSERT(n >= 1 && n <= mlp->max_batch);
    int width = mlp->cfg.width, depth = mlp->cfg.depth;
    first_layer_tables(mlp, params);
    const real *bias0 = mlp->bias[0] == NO_PARAM ? NULL : params + mlp->bias[0];
    for (int i = 0; i < n; i++) {
        real *z = mlp->pre[0] + (long)i * width;
        const real *ta = mlp->table_a + (long)a[i] * width, *tb = mlp->table_b + (long)b[i] * width;
        for (int j = 0; j < width; j++) z[j] = ta[j] + tb[j];
        if (bias0)
            for (int j = 0; j < width; j++) z[j] += bias0[j];
    }
    activation_forward(mlp->post[0], mlp->pre[0], (long)n * width, mlp->cfg.activation);
    for (int l = 1; l < depth; l++) {
        linear_forward(mlp->pre[l], mlp->post[l - 1], width, params + mlp->weight[l],
                       mlp->bias[l] == NO_PARAM ? NULL : params + mlp->bias[l], n, width, width);
        activation_forward(mlp->post[l], mlp->pre[l], (long)n * width, mlp->cfg.activation);
    }
    linear_forward(logits, mlp->post[depth - 1], width, params + mlp->out_weight,
                   mlp->out_bias == NO_PARAM ? NULL : params + mlp->out_bias, n, width, mlp->p);
}

void mlp_backward(Mlp *mlp, const real *params, real *grads, const real *dlogits, const int *a,
                  const int *b, int n) {
    ASSERT(n >= 1 && n <= mlp->max_batch);
    int width = mlp->cfg.width, depth = mlp->cfg.depth, p = mlp->p;
    long batch_size = (long)mlp->max_batch * width;
    real *dcur = mlp->dhidden, *dnext = mlp->dhidden + batch_size;
    linear_backward(dcur, false, grads + mlp->out_weight,
                    mlp->out_bias == NO_PARAM ? NULL : grads + mlp->out_bias, dlogits,
                    mlp->post[depth - 1], width, params + mlp->out_weight, n, width, p);
    for (int l = depth - 1; l >= 1; l--) {
        activation_backward(dcur, dcur, mlp->pre[l], (long)n * width, mlp->cfg.activation);
        linear_backward(dnext, false, grads + mlp->weight[l],
                        mlp->bias[l] == NO_PARAM ? NULL : grads + mlp->bias[l], dcur, mlp->post[l - 1],
                        width, params + mlp->weight[l], n, width, width);
        real *swap = dcur;
        dcur = dnext;
        dnext = swap;
    }
    activation_backward(dcur, dcur, mlp->pre[0], (long)n * width, mlp->cfg.activation);
    /* dcur is now the first layer's pre-activation gradient (n, N) */
    size_t table_bytes = sizeof(real) * (size_t)p * width;
    memset(mlp->dtable_a, 0, table_bytes);
    if (mlp->dtable_b != mlp->dtable_a) memset(mlp->dtable_b, 0, table_bytes);
    real *dbias0 = mlp->bias[0] == NO_PARAM ? NULL : grads + mlp->bias[0];
    for (int i = 0; i < n; i++) {
        const real *dz = dcur + (long)i * width;
        real *da = mlp->dtable_a + (long)a[i] * width, *db = mlp->dtable_b + (long)b[i] * width;
        for (int j = 0; j < width; j++) da[j] += dz[j];
        for (int j = 0; j < width; j++) db[j] += dz[j];
        if (dbias0)
            for (int j = 0; j < width; j++) dbias0[j] += dz[j];
    }
    first_layer_tables_backward(mlp, params, grads);
}
