/* A model of either family behind one interface: a parameter table over
 * contiguous parameter and gradient buffers, forward from a batch of
 * examples to outputs, backward into accumulated gradients. */
#ifndef GROKSWEEP_MODEL_H
#define GROKSWEEP_MODEL_H

#include <stdint.h>

#include "examples.h"
#include "loss.h"
#include "mlp.h"
#include "model_config.h"
#include "params.h"
#include "real.h"
#include "transformer.h"

typedef struct {
    ModelConfig cfg;
    ExampleShape shape;  /* of the examples it reads */
    int n_outputs, max_batch;
    ParamTable table;
    real *params;  /* (table.total) */
    real *grads;   /* (table.total) same layout */
    unsigned char *mask; /* (table.total) same layout, or NULL: 0 holds a parameter and its gradient at zero */
    real *outputs; /* (max_batch, n_outputs) output of the last forward */
    union {
        Mlp mlp;
        Transformer transformer;
    } net;
} Model;

/* Build the parameter table and allocate buffers for batches of up to
 * max_batch examples of this shape (which the config must fit: token
 * inputs for a transformer or a token-input MLP, dense inputs for a dense
 * MLP). Parameters are left uninitialized. Returns 0, or -1 if memory runs
 * out (the model is then safe to model_free). */
int model_create(Model *model, const ModelConfig *cfg, const ExampleShape *shape, int max_batch);
void model_free(Model *model);

/* Draw every tensor from its layer's default (PyTorch or N(0, std²), see
 * params.h) using a stream seeded with init_seed, in table order, then
 * multiply every parameter by cfg->init_scale. */
void model_init(Model *model, uint64_t init_seed);

/* outputs (n, n_outputs) into model->outputs for the batch's n <= max_batch
 * examples. */
void model_forward(Model *model, const Examples *batch);

/* Accumulate gradients into model->grads from doutputs (n, n_outputs); must
 * follow model_forward on the same batch. */
void model_backward(Model *model, const real *doutputs, const Examples *batch);

void model_zero_grad(Model *model);

/* The gradient part of a training step: model->grads zeroed, then filled
 * with the gradient of the mean loss over batch (n <= max_batch); returns
 * the summed loss (loss_sum) and the number of correct rows in *hits.
 * doutputs (n, n_outputs) is scratch. The MLP takes the batch in row
 * blocks (mlp_loss_gradient), leaving model->outputs and the hidden
 * activations undefined; the transformer runs model_forward, loss_sum and
 * model_backward, whose outputs stay. When the loss is not finite the
 * gradients are whatever the arithmetic gave. */
double model_loss_gradient(Model *model, LossKind loss, double tolerance, const Examples *batch, real *doutputs,
                           int *hits);

/* Give the model a mask (every entry 1: nothing held yet), freed by
 * model_free. Returns 0, or -1 if memory runs out. */
int model_add_mask(Model *model);

/* Set to zero the parameters (model_mask_params) or the gradients
 * (model_mask_grads) whose mask entry is 0; nothing without a mask. A
 * masked entry becomes exactly 0 whatever it held (NaN included). */
void model_mask_params(Model *model);
void model_mask_grads(Model *model);

/* Euclidean norm of all parameters, accumulated in double. */
double model_weight_norm(const Model *model);

/* Hidden layers whose activations model_hidden exposes: the MLP's depth, 0
 * for a transformer. */
int model_hidden_layers(const Model *model);

/* Activations (n, *width) of hidden layer `layer` after the last forward
 * over n examples. */
const real *model_hidden(const Model *model, int layer, int *width);

#endif
