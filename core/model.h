/* A model of either family behind one interface: a parameter table over
 * contiguous parameter and gradient buffers, forward to logits, backward
 * into accumulated gradients. */
#ifndef GROKSWEEP_MODEL_H
#define GROKSWEEP_MODEL_H

#include <stdint.h>

#include "config.h"
#include "mlp.h"
#include "params.h"
#include "real.h"
#include "transformer.h"

typedef struct {
    ModelConfig cfg;
    int p, max_batch;
    ParamTable table;
    real *params;  /* (table.total) */
    real *grads;   /* (table.total) same layout */
    real *logits;  /* (max_batch, p) output of the last forward */
    union {
        Mlp mlp;
        Transformer transformer;
    } net;
} Model;

/* Build the parameter table and allocate buffers for batches of up to
 * max_batch examples. Parameters are left uninitialized. Returns 0, or -1
 * if memory runs out (the model is then safe to model_free). */
int model_create(Model *model, const ModelConfig *cfg, int p, int max_batch);
void model_free(Model *model);

/* Draw every tensor from its layer's default (PyTorch or N(0, std²), see
 * params.h) using a stream seeded with init_seed, in table order, then
 * multiply every parameter by cfg->init_scale. */
void model_init(Model *model, uint64_t init_seed);

/* logits (n, p) into model->logits for examples a, b (n,), n <= max_batch. */
void model_forward(Model *model, const int *a, const int *b, int n);

/* Accumulate gradients into model->grads from dlogits (n, p); must follow
 * model_forward on the same examples. */
void model_backward(Model *model, const real *dlogits, const int *a, const int *b, int n);

void model_zero_grad(Model *model);

/* Euclidean norm of all parameters, accumulated in double. */
double model_weight_norm(const Model *model);

#endif
