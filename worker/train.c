#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "loss.h"
#include "model.h"
#include "optimizer.h"
#include "rng.h"
#include "task.h"

#define EVAL_CHUNK 4096 /* evaluation batch when training in small minibatches */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void blas_use_one_thread(void) { openblas_set_num_threads(1); }
const char *blas_config(void) { return openblas_get_config(); }
const char *blas_core_name(void) { return openblas_get_corename(); }

const char *blas_kernel_hint_for(const char *core, const char *coretype, bool cpu_has_avx512) {
    bool avx2_kernel = strcmp(core, "Haswell") == 0 || strcmp(core, "Zen") == 0;
    if ((coretype && coretype[0]) || !avx2_kernel || !cpu_has_avx512) return NULL;
    return "this CPU has AVX-512 but OpenBLAS chose its AVX2 kernel; OPENBLAS_CORETYPE=SkylakeX in the environment "
           "of every rank selects its AVX-512 kernel, 1.4-1.9x faster per step where measured (bench/README.md)";
}

const char *blas_kernel_hint(void) {
    bool avx512 = false;
#if defined(__x86_64__) && defined(__GNUC__)
    avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
    return blas_kernel_hint_for(blas_core_name(), getenv("OPENBLAS_CORETYPE"), avx512);
}

/* The fields that decide the model's parameter shapes, as text. */
static void model_structure_key(const ModelConfig *m, int p, char *key, size_t size) {
    if (m->kind == MODEL_MLP)
        snprintf(key, size, "mlp p=%d input=%s width=%d depth=%d embed_dim=%d bias=%d", p,
                 input_kind_name(m->input), m->width, m->depth, m->embed_dim, m->bias);
    else
        snprintf(key, size, "transformer p=%d n_layers=%d d_model=%d n_heads=%d d_mlp=%d layernorm=%d bias=%d",
                 p, m->n_layers, m->d_model, m->n_heads, m->d_mlp, m->layernorm, m->bias);
}

int run_seeds(const RunConfig *cfg, RunSeeds *seeds) {
    char key[512], structure[256];
    snprintf(key, sizeof key, "split op=%s p=%d seed=%d", operation_name(cfg->task.op), cfg->task.p,
             cfg->train.seed);
    seeds->split = hash_string(key);
    model_structure_key(&cfg->model, cfg->task.p, structure, sizeof structure);
    snprintf(key, sizeof key, "init %s seed=%d", structure, cfg->train.seed);
    seeds->init = hash_string(key);
    snprintf(key, sizeof key, "batches split=%016llx data_fraction=%.17g batch_size=%d seed=%d",
             (unsigned long long)seeds->split, cfg->task.data_fraction, cfg->train.batch_size, cfg->train.seed);
    seeds->batches = hash_string(key);
    return 0;
}

/* Mean loss and accuracy of the model over a whole example set, in chunks
 * of the model's max_batch. */
static void evaluate(Model *model, const Examples *ex, LossKind loss, double *mean_loss, double *accuracy) {
    double total = 0;
    long correct = 0;
    for (int start = 0; start < ex->n; start += model->max_batch) {
        int n = ex->n - start < model->max_batch ? ex->n - start : model->max_batch;
        int hits;
        model_forward(model, ex->a + start, ex->b + start, n);
        total += loss_sum(loss, model->logits, ex->label + start, n, model->p, NULL, &hits);
        correct += hits;
    }
    *mean_loss = total / ex->n;
    *accuracy = (double)correct / ex->n;
}

/* Next minibatch from a permutation of the training set, reshuffled at the
 * start of every epoch; the last batch of an epoch may be smaller. */
typedef struct {
    Rng rng;
    int *order; /* (n_train) */
    int cursor;
} BatchStream;

static int next_batch(BatchStream *stream, const Examples *train, int batch, Examples *out) {
    if (stream->cursor >= train->n) {
        rng_shuffle(&stream->rng, stream->order, train->n);
        stream->cursor = 0;
    }
    int n = train->n - stream->cursor < batch ? train->n - stream->cursor : batch;
    for (int i = 0; i < n; i++) {
        int k = stream->order[stream->cursor + i];
        out->a[i] = train->a[k];
        out->b[i] = train->b[k];
        out->label[i] = train->label[k];
    }
    stream->cursor += n;
    out->n = n;
    return n;
}

typedef struct {
    Dataset data;
    Model model;
    Optimizer optimizer;
    real *dlogits;
    BatchStream stream;
    Examples batch;
} RunState;

static void run_state_free(RunState *s) {
    dataset_free(&s->data);
    model_free(&s->model);
    optimizer_free(&s->optimizer);
    free(s->dlogits);
    free(s->stream.order);
    free(s->batch.a);
    free(s->batch.b);
    free(s->batch.label);
}

double batch_gradient(Model *model, LossKind loss, const Examples *batch, real *dlogits, int *hits) {
    model_forward(model, batch->a, batch->b, batch->n);
    double mean = loss_sum(loss, model->logits, batch->label, batch->n, model->p, dlogits, hits) / batch->n;
    if (isfinite(mean)) {
        model_zero_grad(model);
        model_backward(model, dlogits, batch->a, batch->b, batch->n);
    }
    return mean;
}

int train_run(const RunConfig *cfg, RunResult *result, const RunHooks *hooks, char *err, size_t errlen) {
    double start_time = now_seconds();
    memset(result, 0, sizeof *result);
    crossings_init(&result->crossings);
    run_seeds(cfg, &result->seeds);
    RunState s;
    memset(&s, 0, sizeof s);
    const TrainConfig *tc = &cfg->train;
    int p = cfg->task.p;

    if (dataset_create(&s.data, &cfg->task, result->seeds.split) != 0) goto out_of_memory;
    const Examples *train = &s.data.train, *test = &s.data.test;
    ASSERT(train->n >= 1 && test->n >= 1);
    int batch = (tc->batch_size == 0 || tc->batch_size >= train->n) ? train->n : tc->batch_size;
    bool full_batch = batch == train->n;
    int total = train->n + test->n;
    int max_batch = full_batch ? batch : (batch > EVAL_CHUNK ? batch : (total < EVAL_CHUNK ? total : EVAL_CHUNK));
    if (model_create(&s.model, &cfg->model, p, max_batch) != 0) goto out_of_memory;
    model_init(&s.model, result->seeds.init);
    if (optimizer_create(&s.optimizer, &cfg->optimizer, s.model.table.total) != 0) goto out_of_memory;
    s.dlogits = malloc(sizeof(real) * (size_t)max_batch * (size_t)p);
    int curve_capacity = tc->steps / tc->eval_every + 2;
    result->curve = malloc(sizeof(EvalPoint) * (size_t)curve_capacity);
    if (!s.dlogits || !result->curve) goto out_of_memory;
    if (!full_batch) {
        s.stream.order = malloc(sizeof(int) * (size_t)train->n);
        s.batch.a = malloc(sizeof(int) * (size_t)batch);
        s.batch.b = malloc(sizeof(int) * (size_t)batch);
        s.batch.label = malloc(sizeof(int) * (size_t)batch);
        if (!s.stream.order || !s.batch.a || !s.batch.b || !s.batch.label) goto out_of_memory;
        for (int i = 0; i < train->n; i++) s.stream.order[i] = i;
        rng_seed(&s.stream.rng, result->seeds.batches);
        s.stream.cursor = train->n;
    }
    result->n_train = train->n;
    result->n_test = test->n;
    result->n_params = s.model.table.total;

    double train_seconds = 0;
    int streak = 0;
    bool diverged = false, stop = false, interrupted = false;
    for (int step = 0;; step++) {
        if (hooks && hooks->should_stop && hooks->should_stop(hooks->context)) {
            interrupted = true;
            break;
        }
        bool last = step == tc->steps;
        bool eval_now = last || step % tc->eval_every == 0;
        EvalPoint point = {.step = step};
        bool have_train_metrics = false;
        if (!last) {
            double t0 = now_seconds();
            const Examples *ex = full_batch ? train : &s.batch;
            if (!full_batch) next_batch(&s.stream, train, batch, &s.batch);
            int hits;
            double loss = batch_gradient(&s.model, cfg->loss, ex, s.dlogits, &hits);
            diverged = !isfinite(loss);
            train_seconds += now_seconds() - t0;
            if (full_batch) { /* the step's forward pass is the training-set evaluation */
                point.train_loss = loss;
                point.train_acc = (double)hits / ex->n;
                have_train_metrics = true;
            }
        }
        if (eval_now || diverged) {
            if (!have_train_metrics) evaluate(&s.model, train, cfg->loss, &point.train_loss, &point.train_acc);
            evaluate(&s.model, test, cfg->loss, &point.test_loss, &point.test_acc);
            point.weight_norm = model_weight_norm(&s.model);
            ASSERT(result->curve_len < curve_capacity);
            result->curve[result->curve_len++] = point;
            if (!diverged) {
                crossings_update(&result->crossings, step, point.train_acc, point.test_acc, cfg->phase.threshold);
                streak = point.test_acc >= tc->early_stop_test_acc ? streak + 1 : 0;
                if (tc->early_stop_patience > 0 && streak >= tc->early_stop_patience) {
                    result->early_stopped = true;
                    stop = true;
                }
                if (hooks && hooks->on_eval) hooks->on_eval(&point, hooks->context);
            }
        }
        if (diverged || last || stop) break;
        double t1 = now_seconds();
        optimizer_step(&s.optimizer, s.model.params, s.model.grads);
        train_seconds += now_seconds() - t1;
        result->steps_run++;
    }

    result->status = interrupted ? RUN_INTERRUPTED : diverged ? RUN_DIVERGED : RUN_DONE;
    if (result->curve_len > 0) result->final = result->curve[result->curve_len - 1];
    result->phase = diverged || interrupted ? PHASE_NONE
                             : phase_classify(result->crossings.train_phase_step,
                                              result->crossings.test_phase_step, cfg->phase.delay_steps);
    result->ms_per_step = result->steps_run > 0 ? 1e3 * train_seconds / result->steps_run : 0;
    run_state_free(&s);
    result->wall_seconds = now_seconds() - start_time;
    return 0;

out_of_memory:
    run_state_free(&s);
    run_result_free(result);
    snprintf(err, errlen, "out of memory while setting up the run (p = %d, model.kind = %s)", p,
             model_kind_name(cfg->model.kind));
    return -1;
}

void run_result_free(RunResult *result) {
    free(result->curve);
    result->curve = NULL;
    result->curve_len = 0;
}
