#include "point.h"

#include <stdio.h>


bool train_point(const Sweep *sweep, long point, const RunHooks *hooks, PointResult *result) {
    RunConfig cfg;
    RunResult run;
    char err[1024];
    if (sweep_point_config(sweep, point, &cfg, err, sizeof err) != 0 ||
        train_run(&cfg, &run, hooks, err, sizeof err) != 0) {
        char label[512];
        sweep_point_label(sweep, point, label, sizeof label);
        fprintf(stderr, "groksweep: point %ld (%s) failed: %s\n", point, label, err);
        point_result_failed(result);
        return true;
    }
    bool final = run.status != RUN_INTERRUPTED;
    if (final) point_result_from_run(result, &run, sweep->eval_steps);
    run_result_free(&run);
    return final;
}

/* Floating-point operations of the matrix products of a forward pass:
 * 2·m·k·c for each (m, k)·(k, c) product, split into the part computed once
 * per batch (the first layers' per-token tables) and the part computed per
 * example. This is the work the model needs: a one-hot or embedding first
 * layer is a table lookup, the transformer's first block projects its 2p + 1
 * (position, token) rows once, and the last block computes only the last
 * position. Elementwise work (activations, softmax, loss, AdamW) is left
 * out. */
typedef struct {
    double per_batch, per_example;
} ForwardFlops;

static ForwardFlops forward_flops(const ModelConfig *m, const ExampleShape *shape) {
    ForwardFlops flops = {0, 0};
    double outputs = shape->n_outputs, vocab = shape->vocab, positions = shape->seq_len;
    if (m->kind == MODEL_MLP) {
        double width = m->width, embed = m->embed_dim;
        if (m->input == INPUT_EMBED_ADD) flops.per_batch = 2.0 * vocab * embed * width;
        if (m->input == INPUT_EMBED_CONCAT) flops.per_batch = 2.0 * positions * vocab * embed * width;
        if (m->input == INPUT_DENSE) flops.per_example = 2.0 * shape->dim * width;
        flops.per_example += 2.0 * (m->depth - 1) * width * width + 2.0 * width * outputs;
        return flops;
    }
    /* the first block's table: at most every (position, token) pair; for
     * "a b =" the last position holds only '=' */
    double d = m->d_model, f = m->d_mlp, seq = positions;
    double rows = shape->vocab == shape->n_outputs + 1 ? (seq - 1) * outputs + 1 : seq * vocab;
    double query_rows = m->n_layers == 1 ? 1 : rows;
    flops.per_batch = 2.0 * d * d * (2 * rows + query_rows); /* first block: K, V over the table, Q */
    for (int l = 0; l < m->n_layers; l++) {
        bool last = l == m->n_layers - 1;
        double queries = last ? 1 : seq, pairs = last ? seq : seq * (seq + 1) / 2; /* causal */
        if (l > 0) flops.per_example += 2.0 * d * d * (2 * seq + queries);          /* K, V, Q */
        flops.per_example += 2.0 * 2 * pairs * d + 2.0 * d * d * queries + 2.0 * 2 * d * f * queries;
    }
    flops.per_example += 2.0 * d * outputs; /* unembedding */
    return flops;
}

/* A step's backward pass costs twice its forward (weight and input gradients). */
double step_cost_flops(const RunConfig *cfg, const TaskLayout *layout) {
    int n_train = layout->n_train;
    int batch = cfg->train.batch_size == 0 || cfg->train.batch_size > n_train ? n_train : cfg->train.batch_size;
    ForwardFlops flops = forward_flops(&cfg->model, &layout->shape);
    return 3.0 * (flops.per_batch + flops.per_example * batch);
}

/* Evaluation is a forward pass over the training and the test set. */
double run_cost_flops(const RunConfig *cfg, const TaskLayout *layout) {
    ForwardFlops flops = forward_flops(&cfg->model, &layout->shape);
    double training = step_cost_flops(cfg, layout) * cfg->train.steps;
    double evaluation = (2 * flops.per_batch + flops.per_example * (layout->n_train + layout->n_test)) *
                        ((double)cfg->train.steps / cfg->train.eval_every + 1);
    return training + evaluation;
}
