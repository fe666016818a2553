#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "optimizer.h"
#include "rng.h"

static const char *const model_kind_names[] = {[MODEL_MLP] = "mlp", [MODEL_TRANSFORMER] = "transformer"};
static const char *const input_kind_names[] = {[INPUT_ONEHOT] = "onehot", [INPUT_EMBED_ADD] = "embed_add",
                                               [INPUT_EMBED_CONCAT] = "embed_concat", [INPUT_DENSE] = "dense"};
static const char *const init_kind_names[] = {[INIT_PYTORCH] = "pytorch", [INIT_NORMAL] = "normal"};
static const char *const layernorm_placement_names[] = {[LAYERNORM_NONE] = "none", [LAYERNORM_PRE] = "pre",
                                                        [LAYERNORM_POST] = "post"};
static const char *const position_kind_names[] = {[POSITIONS_LEARNED] = "learned",
                                                  [POSITIONS_SINUSOIDAL] = "sinusoidal"};

const char *model_kind_name(ModelKind kind) {
    ASSERT((unsigned)kind <= MODEL_TRANSFORMER);
    return model_kind_names[kind];
}

const char *input_kind_name(InputKind kind) {
    ASSERT((unsigned)kind <= INPUT_DENSE);
    return input_kind_names[kind];
}

const char *init_kind_name(InitKind kind) {
    ASSERT((unsigned)kind <= INIT_NORMAL);
    return init_kind_names[kind];
}

const char *layernorm_placement_name(LayerNormPlacement placement) {
    ASSERT((unsigned)placement < LAYERNORM_PLACEMENT_COUNT);
    return layernorm_placement_names[placement];
}

const char *position_kind_name(PositionKind kind) {
    ASSERT((unsigned)kind < POSITION_KIND_COUNT);
    return position_kind_names[kind];
}

int model_create(Model *model, const ModelConfig *cfg, const ExampleShape *shape, int max_batch) {
    ASSERT(shape->n_outputs >= 1 && max_batch >= 1);
    memset(model, 0, sizeof *model);
    model->cfg = *cfg;
    model->shape = *shape;
    model->n_outputs = shape->n_outputs;
    model->max_batch = max_batch;
    int status = cfg->kind == MODEL_MLP
                     ? mlp_create(&model->net.mlp, &model->table, cfg, shape, max_batch)
                     : transformer_create(&model->net.transformer, &model->table, cfg, shape, max_batch);
    if (status != 0) return -1;
    model->params = malloc(sizeof(real) * model->table.total);
    model->grads = calloc(model->table.total, sizeof(real));
    model->outputs = malloc(sizeof(real) * (size_t)max_batch * (size_t)model->n_outputs);
    return (model->params && model->grads && model->outputs) ? 0 : -1;
}

void model_free(Model *model) {
    if (model->cfg.kind == MODEL_MLP)
        mlp_free(&model->net.mlp);
    else
        transformer_free(&model->net.transformer);
    free(model->params);
    free(model->grads);
    free(model->outputs);
    free(model->mask);
    model->params = model->grads = model->outputs = NULL;
    model->mask = NULL;
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

void model_forward(Model *model, const Examples *batch) {
    if (model->cfg.kind == MODEL_MLP)
        mlp_forward(&model->net.mlp, model->params, batch, model->outputs);
    else
        transformer_forward(&model->net.transformer, model->params, batch, model->outputs);
}

void model_backward(Model *model, const real *doutputs, const Examples *batch) {
    if (model->cfg.kind == MODEL_MLP)
        mlp_backward(&model->net.mlp, model->params, model->grads, doutputs, batch);
    else
        transformer_backward(&model->net.transformer, model->params, model->grads, doutputs, batch);
}

void model_zero_grad(Model *model) { memset(model->grads, 0, sizeof(real) * model->table.total); }

double model_loss_gradient(Model *model, LossKind loss, double tolerance, const Examples *batch, real *doutputs,
                           int *hits) {
    model_zero_grad(model);
    if (model->cfg.kind == MODEL_MLP)
        return mlp_loss_gradient(&model->net.mlp, model->params, model->grads, loss, tolerance, batch, hits);
    model_forward(model, batch);
    double total = loss_sum(loss, tolerance, model->outputs, batch, doutputs, hits);
    model_backward(model, doutputs, batch);
    return total;
}

int model_add_mask(Model *model) {
    ASSERT(!model->mask);
    model->mask = malloc(model->table.total);
    if (!model->mask) return -1;
    memset(model->mask, 1, model->table.total);
    return 0;
}

/* values (count) set to 0 where mask (count) is 0 */
static void mask_values(real *values, const unsigned char *mask, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (!mask[i]) values[i] = 0;
}

void model_mask_params(Model *model) {
    if (model->mask) mask_values(model->params, model->mask, model->table.total);
}

void model_mask_grads(Model *model) {
    if (model->mask) mask_values(model->grads, model->mask, model->table.total);
}

double model_weight_norm(const Model *model) { return params_norm(model->params, model->table.total); }

int model_hidden_layers(const Model *model) { return model->cfg.kind == MODEL_MLP ? model->cfg.depth : 0; }

const real *model_hidden(const Model *model, int layer, int *width) {
    ASSERT(layer >= 0 && layer < model_hidden_layers(model));
    *width = model->cfg.width;
    return model->net.mlp.post[layer];
}
