#include "point.h"

#include <stdio.h>

#include "task.h"

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

/* Forward flops for one example. */
static double forward_flops(const ModelConfig *m, int p) {
    if (m->kind == MODEL_MLP) {
        double width = m->width;
        return 2.0 * (m->depth - 1) * width * width + 2.0 * width * p + 4.0 * width;
    }
    double d = m->d_model, f = m->d_mlp;
    double block = 2.0 * 3 * 3 * d * d + 2.0 * 2 * d * d + 2.0 * 2 * d * f; /* K,V,Q over 3 positions; O; MLP */
    return m->n_layers * block + 2.0 * d * p;
}

double step_cost_flops(const RunConfig *cfg) {
    int n_train = task_train_count(&cfg->task);
    int batch = cfg->train.batch_size == 0 || cfg->train.batch_size > n_train ? n_train : cfg->train.batch_size;
    return 3.0 * forward_flops(&cfg->model, cfg->task.p) * batch;
}

double run_cost_flops(const RunConfig *cfg) {
    int pairs = task_pair_count(&cfg->task);
    double per_example = forward_flops(&cfg->model, cfg->task.p);
    double training = step_cost_flops(cfg) * cfg->train.steps;
    double evaluation = per_example * pairs * ((double)cfg->train.steps / cfg->train.eval_every + 1);
    return training + evaluation;
}
