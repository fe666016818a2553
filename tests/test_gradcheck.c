/* Finite-difference gradient check in double precision.
 *
 * Linked against the float64 build of the core library, so the forward and
 * backward code under test is the training code itself. For every config
 * below, every parameter element is perturbed by ±h and the central
 * difference of the mean loss is compared with the analytic gradient. The
 * configs together exercise every layer: the three MLP input stages,
 * hidden and output Linear layers with and without biases, all four
 * activations, the transformer's embeddings, LayerNorms, attention over all
 * positions (inner blocks) and over the last position (last block), MLP
 * blocks and unembedding, and both losses. Each tensor is reported by name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "loss.h"
#include "model.h"
#include "real.h"
#include "rng.h"
#include "task.h"
#include "test_util.h"

_Static_assert(sizeof(real) == sizeof(double), "the gradient check needs the float64 core");

#define STEP 1e-6
#define RELATIVE_TOLERANCE 1e-6
#define ABSOLUTE_TOLERANCE 1e-9

static double mean_loss(Model *m, const Examples *ex, LossKind loss, real *dlogits) {
    int hits;
    model_forward(m, ex->a, ex->b, ex->n);
    return loss_sum(loss, m->logits, ex->label, ex->n, m->p, dlogits, &hits) / ex->n;
}

static void gradcheck(const char *label, const char *json) {
    RunConfig cfg;
    char err[512];
    if (config_parse(&cfg, json, label, NULL, 0, err, sizeof err) != 0) {
        CHECK(0, "%s: config rejected: %s", label, err);
        return;
    }
    Dataset ds;
    Model m;
    if (dataset_create(&ds, &cfg.task, 11) != 0 || model_create(&m, &cfg.model, cfg.task.p, ds.train.n) != 0) {
        CHECK(0, "%s: out of memory", label);
        return;
    }
    model_init(&m, 5);
    real *dlogits = malloc(sizeof(real) * (size_t)ds.train.n * cfg.task.p);
    mean_loss(&m, &ds.train, cfg.loss, dlogits);
    model_zero_grad(&m);
    model_backward(&m, dlogits, ds.train.a, ds.train.b, ds.train.n);

    for (int t = 0; t < m.table.count; t++) {
        const ParamView *v = &m.table.views[t];
        size_t count = (size_t)v->rows * v->cols;
        double max_err = 0, max_grad = 0;
        for (size_t i = 0; i < count; i++) {
            real *w = &m.params[v->offset + i], saved = *w;
            *w = saved + STEP;
            double up = mean_loss(&m, &ds.train, cfg.loss, NULL);
            *w = saved - STEP;
            double down = mean_loss(&m, &ds.train, cfg.loss, NULL);
            *w = saved;
            double numeric = (up - down) / (2 * STEP), analytic = m.grads[v->offset + i];
            if (fabs(numeric - analytic) > max_err) max_err = fabs(numeric - analytic);
            if (fabs(analytic) > max_grad) max_grad = fabs(analytic);
        }
        double tolerance = ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * max_grad;
        CHECK(max_err <= tolerance && max_grad > 0, "%s: %s: max |numeric - analytic| = %.3g (tolerance %.3g, max |grad| %.3g)",
              label, v->name, max_err, tolerance, max_grad);
        printf("%-28s %-28s max|grad| %.3e  max err %.3e\n", label, v->name, max_grad, max_err);
    }
    free(dlogits);
    model_free(&m);
    dataset_free(&ds);
}

int main(void) {
    openblas_set_num_threads(1);
    const char *task = "\"task\": {\"op\": \"x-y\", \"p\": 7, \"data_fraction\": 0.4}";
    struct {
        const char *label, *model, *loss;
    } cases[] = {
        {"mlp onehot quadratic", "\"kind\": \"mlp\", \"input\": \"onehot\", \"width\": 6, \"depth\": 2, \"activation\": \"quadratic\", \"bias\": true", "mse"},
        {"mlp onehot relu", "\"kind\": \"mlp\", \"input\": \"onehot\", \"width\": 6, \"activation\": \"relu\", \"bias\": false", "cross_entropy"},
        {"mlp embed_add gelu", "\"kind\": \"mlp\", \"input\": \"embed_add\", \"embed_dim\": 5, \"width\": 6, \"depth\": 2, \"activation\": \"gelu\", \"bias\": true", "cross_entropy"},
        {"mlp embed_concat tanh", "\"kind\": \"mlp\", \"input\": \"embed_concat\", \"embed_dim\": 5, \"width\": 6, \"activation\": \"tanh\", \"bias\": true", "mse"},
        {"transformer 1 layer", "\"kind\": \"transformer\", \"n_layers\": 1, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": false, \"activation\": \"relu\"", "cross_entropy"},
        {"transformer 2 layers LN", "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": true, \"activation\": \"gelu\"", "mse"},
        {"transformer 2 layers", "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 4, \"d_mlp\": 12, \"layernorm\": false, \"bias\": false, \"activation\": \"tanh\"", "cross_entropy"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char json[1024];
        snprintf(json, sizeof json, "{%s, \"model\": {%s, \"init\": {\"kind\": \"pytorch\"}}, \"loss\": \"%s\"}", task,
                 cases[k].model, cases[k].loss);
        gradcheck(cases[k].label, json);
    }
    return test_finish();
}
