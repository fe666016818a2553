/* Per-step speed of groksweep's training step, for the comparison with
 * PyTorch in bench/step_speed.py.
 *
 * usage: step_bench CONFIG.json STEPS OUT.bin
 *        step_bench --sgemm-peak
 *
 * The run is set up exactly as `groksweep train` sets it up (config_load,
 * run_setup, optimizer_create), then trained for STEPS updates, each
 * exactly as worker/train.c does one: gather the minibatch (when
 * train.batch_size is below the training set), forward, loss and its
 * gradient, zero grad, backward, optimizer step (and the norm projection
 * of train.fixed_norm). With a batch size B the minibatch of step t
 * (from 0) is the training examples (t·B + i) mod n, i < B: consecutive
 * slices of the exported training set, so that torch_step.py can take the
 * very same batches (worker/train.c draws them from a seeded reshuffle
 * instead, at the same cost). Each step is timed with
 * CLOCK_MONOTONIC (and CLOCK_PROCESS_CPUTIME_ID, for machines whose cores
 * are shared).
 *
 * OUT.bin is the export of worker/run_export.h, whose header also holds
 *   "steps": STEPS, "blas_core": openblas_get_corename(),
 *   "blas_config": openblas_get_config(),
 *   "step_cost_flops": step_cost_flops() of worker/point.h, the FLOPs of
 *   the step's matrix products,
 *   "rss_setup_kib", "rss_steps_kib": peak RSS (ru_maxrss) after setup and
 *   after the steps,
 * followed by
 *   float64 loss[STEPS]               mean loss of each step's batch before its update
 *   float64 seconds[STEPS]            wall time of each whole step
 *   float64 cpu_seconds[STEPS]        CPU time of the process in each step
 *   float64 minor_faults[STEPS]       minor page faults in each step
 *
 * --sgemm-peak prints one JSON line with the best single-thread OpenBLAS
 * sgemm rate over square matrices of 1024 to 2048 rows, in GFLOP/s. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "optimizer.h"
#include "point.h"
#include "run_export.h"
#include "train.h"

#define MAX_STEPS 1000000

/* Seconds on a clock, or NAN if it cannot be read. */
static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return NAN;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* Peak resident set size of this process so far in KiB, or -1. */
static long peak_rss_kib(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
    return usage.ru_maxrss;
}

/* Minor page faults of this process so far, or NAN. */
static double minor_faults(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return NAN;
    return (double)usage.ru_minflt;
}

typedef struct {
    RunConfig cfg;
    TaskLayout layout;
    RunSetup setup;
    Optimizer optimizer;
    double target_norm; /* of train.fixed_norm, or 0 */
    int batch_size;     /* examples per step: train.batch_size, or the training set */
    Examples batch;     /* (batch_size) the step's minibatch, empty for full batch */
    int *rows;          /* (batch_size) the training examples of the step's minibatch */
    real *doutputs;     /* (n, n_outputs) */
    real *init_params;  /* (total) parameters before the first update */
    int steps;
    double *loss;         /* (steps) */
    double *seconds;      /* (steps) wall time */
    double *cpu_seconds;  /* (steps) process CPU time */
    double *faults;       /* (steps) minor page faults */
    long rss_setup_kib, rss_steps_kib;
} Bench;

/* Release everything bench_setup allocated (safe on a partial setup). */
static void bench_free(Bench *bench) {
    run_setup_free(&bench->setup);
    examples_free(&bench->batch);
    free(bench->rows);
    optimizer_free(&bench->optimizer);
    free(bench->doutputs);
    free(bench->init_params);
    free(bench->loss);
    free(bench->seconds);
    free(bench->cpu_seconds);
    free(bench->faults);
}

/* Set up the run of config_path as `groksweep train` does.
 * Returns 0; 2 for bad input and 1 for an environment failure, with a
 * message on stderr. bench must be zeroed; free it with bench_free. */
static int bench_setup(Bench *bench, const char *config_path, int steps) {
    char err[1024];
    if (config_load(&bench->cfg, config_path, NULL, 0, err, sizeof err) != 0 ||
        task_check(&bench->cfg.task, err, sizeof err) != 0) {
        fprintf(stderr, "step_bench: %s\n", err);
        return 2;
    }
    blas_use_one_thread();
    if (task_layout(&bench->cfg.task, &bench->layout, err, sizeof err) != 0) {
        fprintf(stderr, "step_bench: %s\n", err);
        return 1;
    }
    int n_train = bench->layout.n_train, asked = bench->cfg.train.batch_size;
    bench->batch_size = asked == 0 || asked >= n_train ? n_train : asked;
    bool minibatch = bench->batch_size < n_train;
    if (run_setup(&bench->setup, &bench->cfg, minibatch ? bench->batch_size : 0, err, sizeof err) != 0) {
        fprintf(stderr, "step_bench: %s\n", err);
        return 1;
    }
    if (minibatch) {
        bench->rows = malloc(sizeof(int) * (size_t)bench->batch_size);
        if (!bench->rows || examples_alloc(&bench->batch, &bench->setup.data.train.shape, bench->batch_size) != 0)
            goto out_of_memory;
    }
    Model *model = &bench->setup.model;
    size_t total = model->table.total;
    if (optimizer_create(&bench->optimizer, &bench->cfg.optimizer, total) != 0) goto out_of_memory;
    bench->target_norm = bench->cfg.train.fixed_norm ? model_weight_norm(model) : 0;
    bench->steps = steps;
    bench->doutputs = malloc(sizeof(real) * (size_t)bench->batch_size * (size_t)model->n_outputs);
    bench->init_params = malloc(sizeof(real) * total);
    bench->loss = calloc((size_t)steps, sizeof(double));
    bench->seconds = calloc((size_t)steps, sizeof(double));
    bench->cpu_seconds = calloc((size_t)steps, sizeof(double));
    bench->faults = calloc((size_t)steps, sizeof(double));
    if (!bench->doutputs || !bench->init_params || !bench->loss || !bench->seconds || !bench->cpu_seconds ||
        !bench->faults)
        goto out_of_memory;
    memcpy(bench->init_params, model->params, sizeof(real) * total);
    bench->rss_setup_kib = peak_rss_kib();
    return 0;

out_of_memory:
    fprintf(stderr, "step_bench: out of memory while setting up %s\n", config_path);
    return 1;
}

/* Training step `step` (from 0), as worker/train.c does one; returns the
 * mean loss of its batch before the update. */
static double train_step(Bench *bench, int step) {
    int hits;
    const Examples *train = &bench->setup.data.train, *batch = train;
    if (bench->rows) {
        for (int i = 0; i < bench->batch_size; i++)
            bench->rows[i] = (int)(((long)step * bench->batch_size + i) % train->n);
        examples_gather(&bench->batch, train, bench->rows, bench->batch_size);
        batch = &bench->batch;
    }
    double loss = batch_gradient(&bench->setup.model, bench->cfg.loss, task_tolerance(&bench->cfg.task), batch,
                                 bench->doutputs, &hits);
    update_step(&bench->optimizer, &bench->setup.model, bench->target_norm);
    return loss;
}

/* Run and time every step. */
static void bench_run(Bench *bench) {
    for (int step = 0; step < bench->steps; step++) {
        double faults = minor_faults(), cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID), start = now_seconds();
        bench->loss[step] = train_step(bench, step);
        bench->seconds[step] = now_seconds() - start;
        bench->cpu_seconds[step] = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
        bench->faults[step] = minor_faults() - faults;
    }
    bench->rss_steps_kib = peak_rss_kib();
}

/* text as a JSON string literal (quotes and backslashes escaped, control
 * characters dropped). */
static void write_json_string(FILE *out, const char *text) {
    fputc('"', out);
    for (const char *c = text; *c; c++) {
        if (*c == '"' || *c == '\\') fputc('\\', out);
        if ((unsigned char)*c >= 0x20) fputc(*c, out);
    }
    fputc('"', out);
}

/* Write OUT.bin (format above). Returns 0, or 1 with a message on stderr. */
static int bench_write(Bench *bench, const char *path) {
    FILE *out = fopen(path, "wb");
    if (!out) {
        fprintf(stderr, "step_bench: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t steps = (size_t)bench->steps;
    int status = run_export_header(out, &bench->cfg, &bench->setup);
    fprintf(out, ", \"steps\": %d, \"blas_core\": ", bench->steps);
    write_json_string(out, openblas_get_corename());
    fprintf(out, ", \"blas_config\": ");
    write_json_string(out, openblas_get_config());
    fprintf(out, ", \"step_cost_flops\": %.17g, \"rss_setup_kib\": %ld, \"rss_steps_kib\": %ld}\n",
            step_cost_flops(&bench->cfg, &bench->layout), bench->rss_setup_kib, bench->rss_steps_kib);
    /* the export's parameters are the initial ones */
    real *trained = bench->setup.model.params;
    bench->setup.model.params = bench->init_params;
    status |= run_export_data(out, &bench->setup);
    bench->setup.model.params = trained;
    status |= run_export_array(out, bench->loss, sizeof(double), steps) |
              run_export_array(out, bench->seconds, sizeof(double), steps) |
              run_export_array(out, bench->cpu_seconds, sizeof(double), steps) |
              run_export_array(out, bench->faults, sizeof(double), steps);
    if (ferror(out)) status = -1;
    if (fclose(out) != 0) status = -1;
    if (status != 0) {
        fprintf(stderr, "step_bench: write to %s failed\n", path);
        return 1;
    }
    return 0;
}

/* Best time of `repeats` products C = A·B of (size, size) matrices, or NAN. */
static double best_sgemm_seconds(const float *a, const float *b, float *c, int size, int repeats) {
    double best = INFINITY;
    for (int r = 0; r < repeats; r++) {
        double start = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, size, size, size, 1, a, size, b, size, 0, c, size);
        double elapsed = now_seconds() - start;
        if (!(elapsed >= best)) best = elapsed;
    }
    return best;
}

/* Print the best single-thread sgemm rate as one JSON line. Returns 0, or 1
 * if memory runs out. */
static int sgemm_peak(void) {
    enum { MAX_SIZE = 2048, REPEATS = 3 };
    static const int sizes[] = {1024, 1536, 2048};
    size_t count = (size_t)MAX_SIZE * MAX_SIZE;
    float *a = malloc(sizeof(float) * count), *b = malloc(sizeof(float) * count), *c = malloc(sizeof(float) * count);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        fprintf(stderr, "step_bench: out of memory for the sgemm matrices\n");
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        a[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
        b[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
    }
    blas_use_one_thread();
    double best_gflops = 0;
    int best_size = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        double seconds = best_sgemm_seconds(a, b, c, sizes[s], REPEATS);
        double gflops = 2.0 * sizes[s] * sizes[s] * sizes[s] / seconds * 1e-9;
        if (gflops > best_gflops) best_gflops = gflops, best_size = sizes[s];
    }
    free(a), free(b), free(c);
    printf("{\"sgemm_peak_gflops\": %.6g, \"size\": %d, \"repeats\": %d, \"blas_core\": ", best_gflops, best_size,
           REPEATS);
    write_json_string(stdout, openblas_get_corename());
    printf(", \"blas_config\": ");
    write_json_string(stdout, openblas_get_config());
    printf("}\n");
    return fflush(stdout) == 0 ? 0 : 1;
}

/* STEPS as an integer in [1, MAX_STEPS], or -1. */
static int parse_steps(const char *text) {
    char *end;
    errno = 0;
    long steps = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || steps < 1 || steps > MAX_STEPS) return -1;
    return (int)steps;
}

static int usage(void) {
    fprintf(stderr, "usage: step_bench CONFIG.json STEPS OUT.bin\n"
                    "       step_bench --sgemm-peak\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--sgemm-peak") == 0) return sgemm_peak();
    if (argc != 4) return usage();
    int steps = parse_steps(argv[2]);
    if (steps < 0) {
        fprintf(stderr, "step_bench: STEPS = %s: must be an integer from 1 to %d\n", argv[2], MAX_STEPS);
        return 2;
    }
    Bench bench;
    memset(&bench, 0, sizeof bench);
    int status = bench_setup(&bench, argv[1], steps);
    if (status == 0) {
        bench_run(&bench);
        status = bench_write(&bench, argv[3]);
    }
    if (status == 0) {
        double total = 0;
        for (int s = 0; s < steps; s++) total += bench.seconds[s];
        printf("step_bench: %s: %d steps, %.3f ms/step mean, %.3g GFLOP/step, core %s, peak RSS %ld KiB\n", argv[1],
               steps, 1e3 * total / steps, 1e-9 * step_cost_flops(&bench.cfg, &bench.layout),
               openblas_get_corename(), bench.rss_steps_kib);
    }
    bench_free(&bench);
    return status;
}
