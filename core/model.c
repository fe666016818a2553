#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"

int model_create(Model *model, const ModelConfig *cfg, int p, int max_batch) {
    ASSERT(p >= 2 && max_batch >= 1);
    memset(model, 0, sizeof *model);
    model->cfg = *cfg;
    model->p = p;
    model->max_batch = max_batch;
    int status = cfg->kind == MODEL_MLP
                     ? mlp_create(&model->net.mlp, &model->table, cfg, p, max_batch)
                     : transformer_create(&model->net.transformer, &model->table, cfg, p, max_batch);
    if (status != 0) return -1;
    model->params = malloc(sizeof(real) * model->table.total);
    model->grads = calloc(model->table.total, sizeof(real));
    model->logits = malloc(sizeof(real) * (size_t)max_batch * (size_t)p);
    return (model->params && model->grads && model->logits) ? 0 : -1;
}

void model_free(Model *model) {
    if (model->cfg.kind == MODEL_MLP)
        mlp_free(&model->net.mlp);
    else
        transformer_free(&model->net.transformer);
    free(model->params);
    free(model->grads);
    free(model->logits);
    model->params = model->grads = model->logits = NULL;
}

void model_init(Model *model, uint64_t init_seed) {
    Rng rng;
    rng_seed(&rng, init_seed);
    bool pytorch = model->cfg.init_kind == INIT_PYTORCH;
    double std = model->cfg.init_std, alpha = model->cfg.init_scale;
    for (int t = 0; t < model->table.count; t++) {
        const ParamView *view = &model->table.views[t];
        real *values = model->params + view->offset;
        size_t count = (size_t)view->rows * (size_t)view->cols;
        double bound = 1.0 / sqrt((double)view->fan_in);
        for (size_t i = 0; i < count; i++) {
            double x;
            switch (view->role) {
            case PARAM_LINEAR_WEIGHT:
                x = pytorch ? bound * (2 * rng_uniform(&rng) - 1) : std * rng_normal(&rng);
                break;
            case PARAM_LINEAR_BIAS: x = pytorch ? bound * (2 * rng_uniform(&rng) - 1) : 0; break;
            case PARAM_EMBEDDING: x = (pytorch ? 1.0 : std) * rng_normal(&rng); break;
            case PARAM_NORM_GAIN: x = 1; break;
            default: x = 0; break;
            }
            values[i] = (real)(alpha * x);
        }
    }
}

void model_forward(Model *model, const int *a, const int *b, int n) {
    if (model->cfg.kind == MODEL_MLP)
        mlp_forward(&model->net.mlp, model->params, a, b, n, model->logits);
    else
        transformer_forward(&model->net.transformer, model->params, a, b, n, model->logits);
}

void model_backward(Model *model, const real *dlogits, const int *a, const int *b, int n) {
    if (model->cfg.kind == MODEL_MLP)
        mlp_backward(&model->net.mlp, model->params, model->grads, dlogits, a, b, n);
    else
        transformer_backward(&model->net.transformer, model->params, model->grads, dlogits, a, b, n);
}

void model_zero_grad(Model *model) { memset(model->grads, 0, sizeof(real) * model->table.total); }

double model_weight_norm(const Model *model) {
    double sum = 0;
    for (size_t i = 0; i < model->table.total; i++) sum += (double)model->params[i] * model->params[i];
    return sqrt(sum);
}
