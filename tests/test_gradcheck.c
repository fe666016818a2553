/* Finite-difference gradient check in double precision.
 *
 * Linked against the float64 build of the core library, so the forward and
 * backward code under test is the training code itself. For every config
 * below, every parameter element is perturbed by ±h and the central
 * difference of the mean loss is compared with the analytic gradient. The
 * configs together exercise every layer: the four MLP input stages (on
 * "a b", "a b =" and dense features), hidden and output Linear layers with
 * and without biases, all four activations, the transformer's embeddings,
 * LayerNorms, attention over all positions (inner blocks) and over the last
 * position (last block) of 2- and 3-token sequences, MLP blocks and
 * unembedding, and both losses, on class and vector targets. Each tensor is
 * reported by name. The analytic gradient is the training step's
 * (model_loss_gradient: for an MLP in row blocks of 4), which must also
 * equal the unblocked forward/loss/backward path to double round-off. */
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

static double mean_loss(Model *m, const Examples *ex, LossKind loss, real *doutputs) {
    int hits;
    model_forward(m, ex);
    return loss_sum(loss, 1e-3, m->outputs, ex, doutputs, &hits) / ex->n;
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
    if (task_dataset(&ds, &cfg.task, 11, err, sizeof err) != 0 ||
        model_create(&m, &cfg.model, &ds.train.shape, ds.train.n) != 0) {
        CHECK(0, "%s: %s", label, err);
        return;
    }
    model_init(&m, 5);
    real *doutputs = malloc(sizeof(real) * (size_t)ds.train.n * (size_t)m.n_outputs);
    real *unblocked = malloc(sizeof(real) * m.table.total);
    /* the unblocked path: forward, loss, backward over the whole batch */
    double unblocked_loss = mean_loss(&m, &ds.train, cfg.loss, doutputs);
    model_zero_grad(&m);
    model_backward(&m, doutputs, &ds.train);
    memcpy(unblocked, m.grads, sizeof(real) * m.table.total);
    /* the training step's path, which an MLP takes in row blocks: 4 rows
     * here, so that a batch of ~20 rows takes several, the last one short */
    if (m.cfg.kind == MODEL_MLP) m.net.mlp.block_rows = 4;
    int hits;
    double step_loss = model_loss_gradient(&m, cfg.loss, 1e-3, &ds.train, doutputs, &hits) / ds.train.n;
    double max_gap = 0, max_unblocked = 0;
    for (size_t i = 0; i < m.table.total; i++) {
        if (fabs(m.grads[i] - unblocked[i]) > max_gap) max_gap = fabs(m.grads[i] - unblocked[i]);
        if (fabs(unblocked[i]) > max_unblocked) max_unblocked = fabs(unblocked[i]);
    }
    CHECK(fabs(step_loss - unblocked_loss) <= 1e-12 * fabs(unblocked_loss) && max_gap <= 1e-12 * max_unblocked,
          "%s: training step's loss %.17g and gradients (max gap %.3g) against the unblocked path's (loss %.17g)",
          label, step_loss, max_gap, unblocked_loss);
    free(unblocked);

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
        /* an attention key bias shifts all of a query's scores alike, which
         * the softmax cancels: its gradient is 0, numerically as well */
        bool zero_gradient = strstr(v->name, "attn.k.bias") != NULL;
        CHECK(max_err <= tolerance && (max_grad > 0) != zero_gradient,
              "%s: %s: max |numeric - analytic| = %.3g (tolerance %.3g, max |grad| %.3g)", label, v->name, max_err,
              tolerance, max_grad);
        printf("%-28s %-28s max|grad| %.3e  max err %.3e\n", label, v->name, max_grad, max_err);
    }
    free(doutputs);
    model_free(&m);
    dataset_free(&ds);
}

int main(void) {
    openblas_set_num_threads(1);
    const char *arithmetic = "{\"op\": \"x-y\", \"p\": 7, \"data_fraction\": 0.4}";
    const char *equals = "{\"op\": \"x-y\", \"p\": 7, \"data_fraction\": 0.4, \"sequence\": \"a b =\"}";
    const char *pair = "{\"op\": \"x-y\", \"p\": 7, \"data_fraction\": 0.4, \"sequence\": \"a b\"}";
    const char *regression = "{\"kind\": \"teacher_student\", \"input_dim\": 4, \"output_dim\": 3, \"teacher_width\": 5,"
                             " \"train_size\": 6, \"test_size\": 2}";
    const char *gaussian = "{\"kind\": \"carvalho\", \"train_size\": 8, \"test_size\": 8, \"imbalance\": 0.5}";
    struct {
        const char *label, *task, *model, *loss;
    } cases[] = {
        {"mlp onehot quadratic", arithmetic, "\"kind\": \"mlp\", \"input\": \"onehot\", \"width\": 6, \"depth\": 2, \"activation\": \"quadratic\", \"bias\": true", "mse"},
        {"mlp onehot relu", arithmetic, "\"kind\": \"mlp\", \"input\": \"onehot\", \"width\": 6, \"activation\": \"relu\", \"bias\": false", "cross_entropy"},
        {"mlp embed_add gelu", arithmetic, "\"kind\": \"mlp\", \"input\": \"embed_add\", \"embed_dim\": 5, \"width\": 6, \"depth\": 2, \"activation\": \"gelu\", \"bias\": true", "cross_entropy"},
        {"mlp embed_concat tanh", arithmetic, "\"kind\": \"mlp\", \"input\": \"embed_concat\", \"embed_dim\": 5, \"width\": 6, \"activation\": \"tanh\", \"bias\": true", "mse"},
        {"mlp onehot a b =", equals, "\"kind\": \"mlp\", \"input\": \"onehot\", \"width\": 6, \"activation\": \"tanh\", \"bias\": true", "cross_entropy"},
        {"mlp embed_concat a b =", equals, "\"kind\": \"mlp\", \"input\": \"embed_concat\", \"embed_dim\": 3, \"width\": 6, \"activation\": \"gelu\", \"bias\": false", "mse"},
        {"mlp dense regression", regression, "\"kind\": \"mlp\", \"width\": 6, \"depth\": 3, \"activation\": \"tanh\"", "mse"},
        {"mlp dense gaussian", gaussian, "\"kind\": \"mlp\", \"width\": 4, \"depth\": 2, \"activation\": \"gelu\"", "cross_entropy"},
        {"transformer 1 layer", arithmetic, "\"kind\": \"transformer\", \"n_layers\": 1, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": false, \"activation\": \"relu\"", "cross_entropy"},
        {"transformer 2 layers LN", arithmetic, "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": true, \"activation\": \"gelu\"", "mse"},
        {"transformer 2 layers", arithmetic, "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 4, \"d_mlp\": 12, \"layernorm\": false, \"bias\": false, \"activation\": \"tanh\"", "cross_entropy"},
        {"transformer a b", pair, "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": true, \"activation\": \"relu\"", "cross_entropy"},
        {"transformer post-LN", arithmetic, "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": \"post\", \"activation\": \"gelu\"", "cross_entropy"},
        {"transformer post-LN final LN attention biases", arithmetic, "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": \"post\", \"final_layernorm\": true, \"attention_bias\": true, \"activation\": \"relu\"", "mse"},
        {"transformer post-LN 1 layer sinusoidal", pair, "\"kind\": \"transformer\", \"n_layers\": 1, \"d_model\": 8, \"n_heads\": 4, \"d_mlp\": 12, \"layernorm\": \"post\", \"positions\": \"sinusoidal\", \"bias\": false, \"activation\": \"tanh\"", "cross_entropy"},
        {"transformer none final LN sinusoidal attention biases", arithmetic, "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": \"none\", \"final_layernorm\": true, \"positions\": \"sinusoidal\", \"attention_bias\": true, \"activation\": \"gelu\"", "cross_entropy"},
        {"transformer pre-LN no final LN", equals, "\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 8, \"n_heads\": 2, \"d_mlp\": 12, \"layernorm\": \"pre\", \"final_layernorm\": false, \"attention_bias\": true, \"activation\": \"relu\"", "mse"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char json[1024];
        snprintf(json, sizeof json, "{\"task\": %s, \"model\": {%s, \"init\": {\"kind\": \"pytorch\"}}, \"loss\": \"%s\"}",
                 cases[k].task, cases[k].model, cases[k].loss);
        gradcheck(cases[k].label, json);
    }
    return test_finish();
}
