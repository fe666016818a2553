/* Export a run's initial weights, data and first AdamW steps for the PyTorch
 * cross-check (tests/torch_crosscheck.py).
 *
 * usage: export_reference CONFIG.json OUT.bin [--set key=value ...]
 *
 * The run is set up exactly as `groksweep train` sets it up (run_setup: same
 * seeds, data and initialization), then trained full batch for STEPS updates,
 * each as the trainer does one (with the norm projection of
 * train.fixed_norm). OUT.bin is the export of worker/run_export.h with the
 * header key "steps": STEPS and, with train.feature_rank, "feature_rank": the
 * rank of each hidden layer's feature covariance over the training set at
 * initialization, followed by
 *   per step s = 1..STEPS:
 *     float64 loss                    mean training loss before update s
 *     float32 grads[total]            its gradient
 *     float32 params[total]           parameters after update s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feature_rank.h"
#include "optimizer.h"
#include "run_export.h"
#include "train.h"

#define STEPS 3

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: export_reference CONFIG.json OUT.bin [--set key=value ...]\n");
        return 2;
    }
    const char *overrides[64];
    int n_overrides = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_overrides < 64) {
            overrides[n_overrides++] = argv[++i];
        } else {
            fprintf(stderr, "export_reference: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    RunConfig cfg;
    char err[1024];
    if (config_load(&cfg, argv[1], overrides, n_overrides, err, sizeof err) != 0 ||
        task_check(&cfg.task, err, sizeof err) != 0) {
        fprintf(stderr, "export_reference: %s\n", err);
        return 2;
    }
    blas_use_one_thread();
    RunSetup setup;
    Optimizer opt;
    if (run_setup(&setup, &cfg, 0, err, sizeof err) != 0) {
        fprintf(stderr, "export_reference: %s\n", err);
        return 1;
    }
    Model *model = &setup.model;
    real *doutputs = malloc(sizeof(real) * (size_t)setup.data.train.n * (size_t)model->n_outputs);
    FILE *out = fopen(argv[2], "wb");
    if (!doutputs || !out || optimizer_create(&opt, &cfg.optimizer, model->table.total) != 0) {
        fprintf(stderr, "export_reference: cannot open %s, or out of memory\n", argv[2]);
        return 1;
    }
    int status = run_export_header(out, &cfg, &setup);
    fprintf(out, ", \"steps\": %d", STEPS);
    if (cfg.train.feature_rank && model_hidden_layers(model) > 0 && setup.data.train.n >= 2) {
        FeatureRank ranker;
        if (feature_rank_create(&ranker, setup.data.train.n, model->cfg.width) != 0) {
            fprintf(stderr, "export_reference: out of memory\n");
            return 1;
        }
        model_forward(model, &setup.data.train);
        fprintf(out, ", \"feature_rank\": [");
        for (int l = 0; l < model_hidden_layers(model); l++) {
            int width;
            fprintf(out, "%s%d", l ? ", " : "", feature_rank_compute(&ranker, model_hidden(model, l, &width), setup.data.train.n));
        }
        fprintf(out, "]");
        feature_rank_free(&ranker);
    }
    fprintf(out, "}\n");
    status |= run_export_data(out, &setup);
    double target_norm = cfg.train.fixed_norm ? model_weight_norm(model) : 0;
    for (int step = 1; step <= STEPS; step++) {
        int hits;
        double loss =
            batch_gradient(model, cfg.loss, task_tolerance(&cfg.task), &setup.data.train, doutputs, &hits);
        update_step(&opt, model, target_norm);
        status |= run_export_array(out, &loss, sizeof loss, 1) |
                  run_export_array(out, model->grads, sizeof(real), model->table.total) |
                  run_export_array(out, model->params, sizeof(real), model->table.total);
    }
    if (fclose(out) != 0 || status != 0) {
        fprintf(stderr, "export_reference: write to %s failed\n", argv[2]);
        return 1;
    }
    free(doutputs);
    optimizer_free(&opt);
    run_setup_free(&setup);
    return 0;
}
