/* Export a run's initial weights, data and first AdamW steps for the PyTorch
 * cross-check (tests/torch_crosscheck.py).
 *
 * usage: export_reference CONFIG.json OUT.bin [--set key=value ...]
 *
 * The run is set up exactly as `groksweep train` sets it up (same seeds,
 * split and initialization), then trained full batch for STEPS updates.
 * OUT.bin is one JSON header line followed by little-endian raw arrays:
 *   header: {"config": {...resolved config...}, "p": p, "n": n_train,
 *            "steps": STEPS, "params": [{"name", "shape": [rows, cols]}...],
 *            "total": total parameter count}
 *   int32   a[n], b[n], label[n]      the training set, in order
 *   float32 params[total]             initial parameters (table order)
 *   per step s = 1..STEPS:
 *     float64 loss                    mean training loss before update s
 *     float32 grads[total]            its gradient
 *     float32 params[total]           parameters after update s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "loss.h"
#include "model.h"
#include "optimizer.h"
#include "task.h"
#include "train.h"

#define STEPS 3

static int write_all(FILE *out, const void *data, size_t size, size_t count) {
    return fwrite(data, size, count, out) == count ? 0 : -1;
}

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
    if (config_load(&cfg, argv[1], overrides, n_overrides, err, sizeof err) != 0) {
        fprintf(stderr, "export_reference: %s\n", err);
        return 2;
    }
    blas_use_one_thread();
    RunSeeds seeds;
    run_seeds(&cfg, &seeds);
    Dataset ds;
    Model model;
    Optimizer opt;
    int p = cfg.task.p;
    if (dataset_create(&ds, &cfg.task, seeds.split) != 0) return 1;
    int n = ds.train.n;
    if (model_create(&model, &cfg.model, p, n) != 0 ||
        optimizer_create(&opt, &cfg.optimizer, model.table.total) != 0) {
        fprintf(stderr, "export_reference: out of memory\n");
        return 1;
    }
    model_init(&model, seeds.init);
    real *dlogits = malloc(sizeof(real) * (size_t)n * (size_t)p);
    FILE *out = fopen(argv[2], "wb");
    if (!dlogits || !out) {
        fprintf(stderr, "export_reference: cannot open %s\n", argv[2]);
        return 1;
    }

    char *config_json = config_to_json(&cfg);
    fprintf(out, "{\"config\": %s, \"p\": %d, \"n\": %d, \"steps\": %d, \"total\": %zu, \"params\": [", config_json,
            p, n, STEPS, model.table.total);
    free(config_json);
    for (int t = 0; t < model.table.count; t++) {
        const ParamView *v = &model.table.views[t];
        fprintf(out, "%s{\"name\": \"%s\", \"shape\": [%d, %d]}", t ? ", " : "", v->name, v->rows, v->cols);
    }
    fprintf(out, "]}\n");
    int status = write_all(out, ds.train.a, sizeof(int), (size_t)n) | write_all(out, ds.train.b, sizeof(int), (size_t)n) |
                 write_all(out, ds.train.label, sizeof(int), (size_t)n) |
                 write_all(out, model.params, sizeof(real), model.table.total);
    for (int step = 1; step <= STEPS; step++) {
        int hits;
        double loss = batch_gradient(&model, cfg.loss, &ds.train, dlogits, &hits);
        optimizer_step(&opt, model.params, model.grads);
        status |= write_all(out, &loss, sizeof loss, 1) | write_all(out, model.grads, sizeof(real), model.table.total) |
                  write_all(out, model.params, sizeof(real), model.table.total);
    }
    if (fclose(out) != 0 || status != 0) {
        fprintf(stderr, "export_reference: write to %s failed\n", argv[2]);
        return 1;
    }
    free(dlogits);
    optimizer_free(&opt);
    model_free(&model);
    dataset_free(&ds);
    return 0;
}
