#include "point.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"


PointOutcome train_point(const Sweep *sweep, long point, const RunConfig *cfg, const RunHooks *hooks,
                         PointResult *result) {
    RunResult run;
    char err[1024];
    if (run_fits_in_memory(cfg, err, sizeof err) != 0 || train_run(cfg, &run, hooks, err, sizeof err) != 0) {
        char label[512];
        sweep_point_label(sweep, point, label, sizeof label);
        fprintf(stderr, "groksweep: point %ld (%s) could not be trained: %s\n", point, label, err);
        return POINT_UNTRAINED;
    }
    PointOutcome outcome = run.status == RUN_INTERRUPTED ? POINT_ABANDONED : POINT_TRAINED;
    if (outcome == POINT_TRAINED) point_result_from_run(result, &run, sweep->eval_steps);
    run_result_free(&run);
    return outcome;
}

double run_memory_bytes(const RunConfig *cfg, const TaskLayout *layout) {
    const ModelConfig *m = &cfg->model;
    const ExampleShape *shape = &layout->shape;
    int batch = cfg->train.batch_size == 0 || cfg->train.batch_size > layout->n_train ? layout->n_train
                                                                                       : cfg->train.batch_size;
    double rows = batch > 4096 ? batch : layout->n_train + layout->n_test < 4096 ? layout->n_train + layout->n_test : 4096;
    double outputs = shape->n_outputs, params, activations;
    if (m->kind == MODEL_MLP) {
        double width = m->width, in = m->input == INPUT_DENSE ? shape->dim
                                      : m->input == INPUT_ONEHOT ? (double)shape->seq_len * shape->vocab
                                      : m->input == INPUT_EMBED_ADD ? m->embed_dim
                                                                    : (double)shape->seq_len * m->embed_dim;
        params = in * width + (m->depth - 1) * width * width + width * outputs + (m->depth + 1) * width + outputs +
                 (m->input == INPUT_EMBED_ADD || m->input == INPUT_EMBED_CONCAT ? (double)shape->vocab * m->embed_dim : 0);
        activations = rows * width * (2.0 * m->depth + 2) + 2.0 * shape->seq_len * shape->vocab * width;
    } else {
        double d = m->d_model, f = m->d_mlp, seq = shape->seq_len;
        params = ((double)shape->vocab + seq + outputs) * d + m->n_layers * (4 * d * d + 2 * d * f + f + 5 * d);
        activations = rows * seq * m->n_layers * (12 * d + 2 * f + m->n_heads * seq) + 10 * seq * shape->vocab * d;
    }
    double data = (layout->n_train + layout->n_test) * (double)(shape->dim + shape->seq_len + outputs);
    /* parameters, gradients and two optimizer moments; activations, scratch and outputs; the examples */
    return sizeof(real) * (4 * params + activations + 2 * rows * outputs + data);
}

double memory_available_bytes(void) {
    FILE *meminfo = fopen("/proc/meminfo", "r");
    double kib = -1;
    char line[128];
    while (meminfo && fgets(line, sizeof line, meminfo))
        if (sscanf(line, "MemAvailable: %lf kB", &kib) == 1) break;
    if (meminfo) fclose(meminfo);
    if (kib >= 0) return kib * 1024;
    long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (double)pages * (double)page : -1;
}

int run_fits_in_memory(const RunConfig *cfg, char *err, size_t errlen) {
    TaskLayout layout;
    if (task_layout(&cfg->task, &layout, err, errlen) != 0) return -1;
    double need = run_memory_bytes(cfg, &layout), available = memory_available_bytes();
    if (available < 0 || need <= available) return 0;
    return error_format(err, errlen, "needs about %.3g GiB (model.kind = %s) and %.3g GiB of memory are available",
                        need / (1 << 30), model_kind_name(cfg->model.kind), available / (1 << 30));
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

/* Evaluation is a forward pass over the training and the test set. A
 * ticket that trains its dense run first adds that run's steps. */
double run_cost_flops(const RunConfig *cfg, const TaskLayout *layout) {
    ForwardFlops flops = forward_flops(&cfg->model, &layout->shape);
    bool source_run = ticket_active(&cfg->ticket) && cfg->ticket.source == TICKET_SOURCE_TRAIN;
    double steps = (double)cfg->train.steps + (source_run ? cfg->ticket.source_steps : 0);
    double training = step_cost_flops(cfg, layout) * steps;
    double evaluation = (2 * flops.per_batch + flops.per_example * (layout->n_train + layout->n_test)) *
                        ((double)cfg->train.steps / cfg->train.eval_every + 1);
    return training + evaluation;
}

/* The parts of a config that decide which weights file it reads and the
 * model that file must fit. */
typedef struct {
    char weights[DATA_PATH_CAPACITY];
    ModelConfig model;
    TaskConfig task;
} CheckedWeightsSource;

#define MAX_CHECKED_WEIGHTS_SOURCES 16

int sweep_check_ticket_sources(const Sweep *sweep, char *err, size_t errlen) {
    CheckedWeightsSource checked[MAX_CHECKED_WEIGHTS_SOURCES];
    int n_checked = 0;
    for (long p = 0; p < sweep->n_points; p++) {
        RunConfig cfg;
        char message[1024], label[256];
        if (sweep_point_config(sweep, p, &cfg, message, sizeof message) != 0)
            return error_format(err, errlen, "%s", message);
        if (!ticket_active(&cfg.ticket) || cfg.ticket.source != TICKET_SOURCE_FILE) continue;
        CheckedWeightsSource source;
        memset(&source, 0, sizeof source);
        snprintf(source.weights, sizeof source.weights, "%s", cfg.ticket.weights);
        source.model = cfg.model;
        source.task = cfg.task;
        bool seen = false;
        for (int i = 0; i < n_checked && !seen; i++) seen = memcmp(&checked[i], &source, sizeof source) == 0;
        if (seen) continue;
        if (ticket_check_source(&cfg, message, sizeof message) != 0) {
            sweep_point_label(sweep, p, label, sizeof label);
            return error_format(err, errlen, "%s: grid point %s: %s", sweep->source, label, message);
        }
        if (n_checked < MAX_CHECKED_WEIGHTS_SOURCES) checked[n_checked++] = source;
    }
    return 0;
}
