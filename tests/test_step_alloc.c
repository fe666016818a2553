/* No allocation in the training loop: groksweep's own code allocates while a
 * run is set up and evaluated, never per training step. The test links with
 * --wrap for malloc, calloc and realloc, counts the calls train_run makes,
 * and compares a run with a short and one with a ten times longer budget
 * but the same number of evaluations: the counts must be equal. OpenBLAS's
 * internal buffers are outside its reach (it allocates them once, at its
 * first call). Both model families, full batch and minibatches. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "test_util.h"
#include "train.h"

static long allocations;

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *pointer, size_t size);

void *__wrap_malloc(size_t size) {
    allocations++;
    return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size) {
    allocations++;
    return __real_calloc(count, size);
}

void *__wrap_realloc(void *pointer, size_t size) {
    allocations++;
    return __real_realloc(pointer, size);
}

/* Allocations made by one train_run of the configuration JSON with `steps`
 * steps of batch_size examples (0: full batch), evaluated every 5 steps; -1
 * if the run fails. */
static long run_allocations(const char *json, int batch_size, int steps) {
    char steps_set[64], eval_set[64], batch_set[64], err[512];
    snprintf(steps_set, sizeof steps_set, "train.steps=%d", steps);
    snprintf(eval_set, sizeof eval_set, "train.eval_every=%d", 5); /* evaluations must not allocate either */
    snprintf(batch_set, sizeof batch_set, "train.batch_size=%d", batch_size);
    const char *overrides[] = {steps_set, eval_set, batch_set};
    RunConfig cfg;
    if (config_parse(&cfg, json, "alloc.json", overrides, 3, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    RunResult result;
    long before = allocations;
    if (train_run(&cfg, &result, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    long made = allocations - before;
    CHECK(result.steps_run == steps, "%d steps run, expected %d", result.steps_run, steps);
    run_result_free(&result);
    return made;
}

static void check_steps_allocate_nothing(const char *what, const char *json, int batch_size) {
    long short_run = run_allocations(json, batch_size, 5), long_run = run_allocations(json, batch_size, 50);
    CHECK(short_run > 0, "%s: the wrapper counts allocations (%ld in a 5-step run)", what, short_run);
    CHECK(long_run == short_run, "%s: %ld allocations in 50 steps, %ld in 5: the step allocates", what, long_run,
          short_run);
}

int main(void) {
    blas_use_one_thread();
    const char *mlp = "{\"task\": {\"op\": \"x+y\", \"p\": 23, \"data_fraction\": 0.5},"
                      " \"model\": {\"kind\": \"mlp\", \"input\": \"embed_add\", \"width\": 32}}";
    const char *transformer = "{\"task\": {\"op\": \"x-y\", \"p\": 17, \"data_fraction\": 0.5},"
                              " \"model\": {\"kind\": \"transformer\", \"n_layers\": 2, \"d_model\": 16,"
                              " \"n_heads\": 2, \"d_mlp\": 32, \"layernorm\": true}}";
    check_steps_allocate_nothing("mlp, full batch", mlp, 0);
    check_steps_allocate_nothing("mlp, minibatches of 16", mlp, 16);
    check_steps_allocate_nothing("transformer, full batch", transformer, 0);
    check_steps_allocate_nothing("transformer, minibatches of 16", transformer, 16);
    const char *dense = "{\"task\": {\"kind\": \"carvalho\", \"train_size\": 64, \"test_size\": 40,"
                        " \"imbalance\": 0.2}, \"model\": {\"width\": 16, \"depth\": 3},"
                        " \"train\": {\"fixed_norm\": true, \"feature_rank\": true, \"feature_rank_samples\": 30}}";
    const char *regression = "{\"task\": {\"kind\": \"teacher_student\", \"train_size\": 32, \"test_size\": 8},"
                             " \"model\": {\"width\": 16, \"activation\": \"tanh\"}}";
    check_steps_allocate_nothing("dense mlp, fixed norm and feature ranks, full batch", dense, 0);
    check_steps_allocate_nothing("dense mlp, fixed norm and feature ranks, minibatches of 16", dense, 16);
    check_steps_allocate_nothing("regression, minibatches of 8", regression, 8);
    return test_finish();
}
