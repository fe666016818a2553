#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#include "check.h"
#include "error.h"
#include "feature_rank.h"
#include "loss.h"
#include "model.h"
#include "optimizer.h"
#include "rng.h"
#include "task.h"
#include "ticket.h"
#include "weights_file.h"

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

/* The fields that decide the model's parameter shapes, as text. The token
 * MLP on "a b" and the transformer on "a b =" keep the key they had when
 * they were the only models, so their initial weights stay the same; the
 * transformer's later options (post-LN, final LayerNorm, positions,
 * attention biases) are appended only when they differ from the model
 * before them (pre-LN with final LN, or no LN at all; learned positions; no
 * attention biases). */
static void model_structure_key(const ModelConfig *m, const ExampleShape *shape, char *key, size_t size) {
    int p = shape->n_outputs;
    bool pair = shape->seq_len == 2 && shape->vocab == p, equals = shape->seq_len == 3 && shape->vocab == p + 1;
    if (m->kind == MODEL_MLP && m->input != INPUT_DENSE && pair)
        snprintf(key, size, "mlp p=%d input=%s width=%d depth=%d embed_dim=%d bias=%d", p, input_kind_name(m->input),
                 m->width, m->depth, m->embed_dim, m->bias);
    else if (m->kind == MODEL_MLP)
        snprintf(key, size, "mlp seq_len=%d vocab=%d dim=%d outputs=%d input=%s width=%d depth=%d embed_dim=%d bias=%d",
                 shape->seq_len, shape->vocab, shape->dim, p, input_kind_name(m->input), m->width, m->depth,
                 m->embed_dim, m->bias);
    else if (equals)
        snprintf(key, size, "transformer p=%d n_layers=%d d_model=%d n_heads=%d d_mlp=%d layernorm=%d bias=%d", p,
                 m->n_layers, m->d_model, m->n_heads, m->d_mlp, m->layernorm != LAYERNORM_NONE, m->bias);
    else
        snprintf(key, size,
                 "transformer seq_len=%d vocab=%d outputs=%d n_layers=%d d_model=%d n_heads=%d d_mlp=%d layernorm=%d "
                 "bias=%d",
                 shape->seq_len, shape->vocab, p, m->n_layers, m->d_model, m->n_heads, m->d_mlp,
                 m->layernorm != LAYERNORM_NONE, m->bias);
    if (m->kind != MODEL_TRANSFORMER) return;
    size_t used = strlen(key);
    if (m->layernorm == LAYERNORM_POST && used < size) used += (size_t)snprintf(key + used, size - used, " post_ln=1");
    if (m->final_layernorm != (m->layernorm == LAYERNORM_PRE) && used < size)
        used += (size_t)snprintf(key + used, size - used, " final_layernorm=%d", m->final_layernorm);
    if (m->positions != POSITIONS_LEARNED && used < size)
        used += (size_t)snprintf(key + used, size - used, " positions=%s", position_kind_name(m->positions));
    if (m->attention_bias && used < size) snprintf(key + used, size - used, " attention_bias=1");
}

/* The key of the task's split, subset or draw: what its examples depend on
 * besides the training-set size. */
static void split_key(const TaskConfig *task, int seed, char *key, size_t size) {
    switch (task->kind) {
    case TASK_ARITHMETIC:
    case TASK_S5: /* S5's operations have names of their own, so its keys differ from every x op y mod p */
        snprintf(key, size, "split op=%s p=%d seed=%d", operation_name(task->arithmetic.op), task->arithmetic.p, seed);
        return;
    case TASK_IMAGES: snprintf(key, size, "split images seed=%d", seed); return;
    case TASK_TEACHER_STUDENT:
        snprintf(key, size, "split teacher_student input_dim=%d seed=%d", task->teacher.input_dim, seed);
        return;
    case TASK_CARVALHO: snprintf(key, size, "split carvalho dataset=%d seed=%d", task->carvalho.dataset, seed); return;
    case TASK_KIND_COUNT: break;
    }
    ASSERT(!"unknown task kind");
}

void run_seeds(const RunConfig *cfg, const ExampleShape *shape, RunSeeds *seeds) {
    char key[512], structure[320];
    split_key(&cfg->task, cfg->train.seed, key, sizeof key);
    seeds->split = hash_string(key);
    model_structure_key(&cfg->model, shape, structure, sizeof structure);
    snprintf(key, sizeof key, "init %s seed=%d", structure, cfg->train.seed);
    seeds->init = hash_string(key);
    if (task_is_algebraic(cfg->task.kind))
        snprintf(key, sizeof key, "batches split=%016llx data_fraction=%.17g batch_size=%d seed=%d",
                 (unsigned long long)seeds->split, cfg->task.arithmetic.data_fraction, cfg->train.batch_size,
                 cfg->train.seed);
    else
        snprintf(key, sizeof key, "batches split=%016llx train_size=%d batch_size=%d seed=%d",
                 (unsigned long long)seeds->split, cfg->task.train_size, cfg->train.batch_size, cfg->train.seed);
    seeds->batches = hash_string(key);
}

int run_setup(RunSetup *setup, const RunConfig *cfg, int max_batch, char *err, size_t errlen) {
    memset(setup, 0, sizeof *setup);
    TaskLayout layout;
    if (task_layout(&cfg->task, &layout, err, errlen) != 0) return -1;
    run_seeds(cfg, &layout.shape, &setup->seeds);
    if (task_dataset(&setup->data, &cfg->task, setup->seeds.split, err, errlen) != 0) return -1;
    ASSERT(setup->data.train.n >= 1 && setup->data.test.n >= 1);
    if (model_create(&setup->model, &cfg->model, &setup->data.train.shape,
                     max_batch > 0 ? max_batch : setup->data.train.n) != 0) {
        run_setup_free(setup);
        return error_format(err, errlen, "out of memory for the model (model.kind = %s, %d training examples)",
                            model_kind_name(cfg->model.kind), layout.n_train);
    }
    model_init(&setup->model, setup->seeds.init);
    return 0;
}

void run_setup_free(RunSetup *setup) {
    dataset_free(&setup->data);
    model_free(&setup->model);
}

/* Feature ranks of the model's hidden layers over the first n examples of
 * its last forward pass, into point. */
static void rank_features(FeatureRank *ranker, const Model *model, int n, EvalPoint *point) {
    point->n_ranks = model_hidden_layers(model);
    for (int l = 0; l < point->n_ranks; l++) {
        int width;
        const real *hidden = model_hidden(model, l, &width);
        point->feature_rank[l] = feature_rank_compute(ranker, hidden, n);
    }
}

/* Mean loss and accuracy of the model over a whole example set, in chunks
 * of the model's max_batch. When ranker is non-NULL the first chunk's first
 * ranker->max_samples examples (or fewer) are also feature-ranked into
 * point. */
static void evaluate(Model *model, const Examples *ex, LossKind loss, double tolerance, double *mean_loss,
                     double *accuracy, FeatureRank *ranker, EvalPoint *point) {
    double total = 0;
    long correct = 0;
    for (int start = 0; start < ex->n; start += model->max_batch) {
        int n = ex->n - start < model->max_batch ? ex->n - start : model->max_batch;
        Examples chunk = examples_slice(ex, start, n);
        int hits;
        model_forward(model, &chunk);
        total += loss_sum(loss, tolerance, model->outputs, &chunk, NULL, &hits);
        correct += hits;
        if (start == 0 && ranker) rank_features(ranker, model, n < ranker->max_samples ? n : ranker->max_samples, point);
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

static void next_batch(BatchStream *stream, const Examples *train, int batch, Examples *out) {
    if (stream->cursor >= train->n) {
        rng_shuffle(&stream->rng, stream->order, train->n);
        stream->cursor = 0;
    }
    int n = train->n - stream->cursor < batch ? train->n - stream->cursor : batch;
    examples_gather(out, train, stream->order + stream->cursor, n);
    stream->cursor += n;
}

typedef struct {
    RunSetup setup;
    Optimizer optimizer;
    real *doutputs;
    BatchStream stream;
    Examples batch;
    FeatureRank ranker;
} RunState;

static void run_state_free(RunState *s) {
    run_setup_free(&s->setup);
    optimizer_free(&s->optimizer);
    free(s->doutputs);
    free(s->stream.order);
    examples_free(&s->batch);
    feature_rank_free(&s->ranker);
}

double batch_gradient(Model *model, LossKind loss, double tolerance, const Examples *batch, real *doutputs,
                      int *hits) {
    double mean = model_loss_gradient(model, loss, tolerance, batch, doutputs, hits) / batch->n;
    model_mask_grads(model);
    return mean;
}

void update_step(Optimizer *opt, Model *model, double target_norm) {
    optimizer_step(opt, model->params, model->grads);
    if (target_norm > 0) {
        params_rescale_to_norm(model->params, model->table.total, target_norm);
        model_mask_params(model); /* a masked 0 times an overflowing factor would be NaN */
    }
}

/* The largest batch the run's model must take: the training batch, or when
 * training in minibatches the evaluation chunk (up to EVAL_CHUNK, at least
 * the feature-rank sample). */
static int model_batch_rows(const RunConfig *cfg, const TaskLayout *layout, int batch) {
    if (batch == layout->n_train) return batch;
    int total = layout->n_train + layout->n_test, chunk = total < EVAL_CHUNK ? total : EVAL_CHUNK;
    if (cfg->train.feature_rank && chunk < cfg->train.feature_rank_samples)
        chunk = total < cfg->train.feature_rank_samples ? total : cfg->train.feature_rank_samples;
    return batch > chunk ? batch : chunk;
}

/* Subnormal floats are flushed to zero while a run trains (the SSE control
 * register's FTZ and DAZ bits, per thread): once a model has fit its
 * training set, gradients of ~1e-20 put Adam's second moments below 1.2e-38,
 * where every operation on them traps into microcode and a step becomes
 * several times slower. Values that small never matter next to Adam's eps
 * (1e-8 on their square root). Returns the control word to restore. */
static unsigned flush_subnormals(void) {
#ifdef HAVE_MXCSR
    unsigned saved = _mm_getcsr();
    _mm_setcsr(saved | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
    return saved;
#else
    return 0;
#endif
}

static void restore_subnormals(unsigned saved) {
#ifdef HAVE_MXCSR
    _mm_setcsr(saved);
#else
    (void)saved;
#endif
}

void run_weights_free(RunWeights *weights) {
    free(weights->initial);
    free(weights->final);
    weights->initial = weights->final = NULL;
}

int run_param_table(const RunConfig *cfg, RunWeights *weights, char *err, size_t errlen) {
    memset(weights, 0, sizeof *weights);
    TaskLayout layout;
    if (task_layout(&cfg->task, &layout, err, errlen) != 0) return -1;
    Model model;
    int rc = model_create(&model, &cfg->model, &layout.shape, 1);
    weights->table = model.table;
    model_free(&model);
    if (rc != 0)
        return error_format(err, errlen, "out of memory for the model (model.kind = %s)",
                            model_kind_name(cfg->model.kind));
    model_structure_key(&cfg->model, &layout.shape, weights->structure, sizeof weights->structure);
    return 0;
}

/* Buffers for a run's initial and final parameters (weights->table.total
 * each). Returns 0, or -1 if memory runs out (weights then safe to free). */
static int run_weights_alloc(RunWeights *weights) {
    weights->initial = malloc(sizeof(real) * weights->table.total);
    weights->final = malloc(sizeof(real) * weights->table.total);
    return weights->initial && weights->final ? 0 : -1;
}

/* The initial and final weights of ticket.weights into new buffers of
 * dense (whose table must be set), checked against that table. Returns 0,
 * or -1 with a message and dense's buffers freed. */
static int read_source_weights(const RunConfig *cfg, RunWeights *dense, char *err, size_t errlen) {
    int rc = run_weights_alloc(dense) != 0
                 ? error_format(err, errlen, "out of memory reading %s", cfg->ticket.weights)
                 : weights_file_read(cfg->ticket.weights, &dense->table, dense->initial, dense->final, err, errlen);
    if (rc != 0) run_weights_free(dense);
    return rc;
}

int ticket_check_source(const RunConfig *cfg, char *err, size_t errlen) {
    if (!ticket_active(&cfg->ticket) || cfg->ticket.source != TICKET_SOURCE_FILE) return 0;
    RunWeights dense;
    if (run_param_table(cfg, &dense, err, errlen) != 0 || read_source_weights(cfg, &dense, err, errlen) != 0) return -1;
    run_weights_free(&dense);
    return 0;
}

static int train_run_flushed(const RunConfig *cfg, RunResult *result, const RunHooks *hooks, RunWeights *weights,
                             char *err, size_t errlen);

/* Turn the freshly initialized model of a ticket run into the ticket or
 * its control (ticket_start), from the dense run ticket.source names:
 * trained here first, stopped by hooks' should_stop (then *interrupted),
 * or read from ticket.weights. Returns 0, or -1 with a message. */
static int ticket_setup(const RunConfig *cfg, Model *model, const RunHooks *hooks, bool *interrupted, char *err,
                        size_t errlen) {
    *interrupted = false;
    RunWeights dense;
    memset(&dense, 0, sizeof dense);
    if (cfg->ticket.source == TICKET_SOURCE_TRAIN) {
        RunConfig source = *cfg;
        source.ticket.kept_fraction = 1;
        source.train.steps = cfg->ticket.source_steps;
        source.train.eval_every = cfg->ticket.source_steps; /* evaluation does not change training */
        source.train.early_stop_patience = 0;
        source.train.feature_rank = false;
        RunHooks stop_only = {.should_stop = hooks ? hooks->should_stop : NULL, .context = hooks ? hooks->context : NULL};
        RunResult run;
        if (train_run_flushed(&source, &run, &stop_only, &dense, err, errlen) != 0) return -1;
        *interrupted = run.status == RUN_INTERRUPTED;
        run_result_free(&run);
        if (*interrupted) return 0;
    } else {
        dense.table = model->table;
        if (read_source_weights(cfg, &dense, err, errlen) != 0) return -1;
    }
    ASSERT(dense.table.total == model->table.total);
    int rc = ticket_start(model, &cfg->ticket, dense.initial, dense.final);
    run_weights_free(&dense);
    if (rc != 0)
        return error_format(err, errlen, "out of memory pruning the ticket (%zu parameters)", model->table.total);
    return 0;
}

/* train_run_keep_weights with subnormals already flushed; weights may be
 * NULL. */
static int train_run_flushed(const RunConfig *cfg, RunResult *result, const RunHooks *hooks, RunWeights *weights,
                             char *err, size_t errlen) {
    double start_time = now_seconds();
    memset(result, 0, sizeof *result);
    crossings_init(&result->crossings);
    RunState s;
    memset(&s, 0, sizeof s);
    const TrainConfig *tc = &cfg->train;
    double tolerance = task_tolerance(&cfg->task);

    TaskLayout layout;
    if (task_layout(&cfg->task, &layout, err, errlen) != 0) return -1;
    int batch = (tc->batch_size == 0 || tc->batch_size >= layout.n_train) ? layout.n_train : tc->batch_size;
    bool full_batch = batch == layout.n_train;
    if (run_setup(&s.setup, cfg, model_batch_rows(cfg, &layout, batch), err, errlen) != 0) return -1;
    result->seeds = s.setup.seeds;
    Model *model = &s.setup.model;
    if (ticket_active(&cfg->ticket)) {
        bool source_interrupted;
        if (ticket_setup(cfg, model, hooks, &source_interrupted, err, errlen) != 0) {
            run_state_free(&s);
            return -1;
        }
        if (source_interrupted) {
            run_state_free(&s);
            result->status = RUN_INTERRUPTED;
            return 0;
        }
    }
    if (weights) {
        weights->table = model->table;
        model_structure_key(&cfg->model, &layout.shape, weights->structure, sizeof weights->structure);
        if (run_weights_alloc(weights) != 0) goto out_of_memory;
        memcpy(weights->initial, model->params, sizeof(real) * model->table.total);
    }
    const Examples *train = &s.setup.data.train, *test = &s.setup.data.test;
    ASSERT(train->n == layout.n_train && test->n == layout.n_test);
    if (optimizer_create(&s.optimizer, &cfg->optimizer, model->table.total) != 0) goto out_of_memory;
    s.doutputs = malloc(sizeof(real) * (size_t)model->max_batch * (size_t)model->n_outputs);
    int curve_capacity = tc->steps / tc->eval_every + 2;
    result->curve = malloc(sizeof(EvalPoint) * (size_t)curve_capacity);
    if (!s.doutputs || !result->curve) goto out_of_memory;
    if (!full_batch) {
        s.stream.order = malloc(sizeof(int) * (size_t)train->n);
        if (!s.stream.order || examples_alloc(&s.batch, &train->shape, batch) != 0) goto out_of_memory;
        for (int i = 0; i < train->n; i++) s.stream.order[i] = i;
        rng_seed(&s.stream.rng, result->seeds.batches);
        s.stream.cursor = train->n;
    }
    FeatureRank *ranker = NULL;
    if (tc->feature_rank && model_hidden_layers(model) > 0) {
        int samples = test->n < tc->feature_rank_samples ? test->n : tc->feature_rank_samples;
        if (samples >= 2) {
            if (feature_rank_create(&s.ranker, samples, model->cfg.width) != 0) goto out_of_memory;
            ranker = &s.ranker;
        }
    }
    result->n_train = train->n;
    result->n_test = test->n;
    result->n_params = model->table.total;
    double target_norm = tc->fixed_norm ? model_weight_norm(model) : 0;

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
            double loss = batch_gradient(model, cfg->loss, tolerance, ex, s.doutputs, &hits);
            diverged = !isfinite(loss);
            train_seconds += now_seconds() - t0;
            if (full_batch) { /* the step's forward pass is the training-set evaluation */
                point.train_loss = loss;
                point.train_acc = (double)hits / ex->n;
                have_train_metrics = true;
            }
        }
        if (eval_now || diverged) {
            if (!have_train_metrics)
                evaluate(model, train, cfg->loss, tolerance, &point.train_loss, &point.train_acc, NULL, NULL);
            evaluate(model, test, cfg->loss, tolerance, &point.test_loss, &point.test_acc, ranker, &point);
            point.weight_norm = model_weight_norm(model);
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
        update_step(&s.optimizer, model, target_norm);
        train_seconds += now_seconds() - t1;
        result->steps_run++;
    }

    result->status = interrupted ? RUN_INTERRUPTED : diverged ? RUN_DIVERGED : RUN_DONE;
    if (result->curve_len > 0) result->final = result->curve[result->curve_len - 1];
    result->phase = diverged || interrupted ? PHASE_NONE
                             : phase_classify(result->crossings.train_phase_step,
                                              result->crossings.test_phase_step, cfg->phase.delay_steps);
    result->ms_per_step = result->steps_run > 0 ? 1e3 * train_seconds / result->steps_run : 0;
    if (weights) memcpy(weights->final, model->params, sizeof(real) * model->table.total);
    run_state_free(&s);
    result->wall_seconds = now_seconds() - start_time;
    return 0;

out_of_memory:
    if (weights) run_weights_free(weights);
    run_state_free(&s);
    run_result_free(result);
    return error_format(err, errlen, "out of memory while setting up the run (model.kind = %s, %zu parameters)",
                        model_kind_name(cfg->model.kind), model->table.total);
}

int train_run(const RunConfig *cfg, RunResult *result, const RunHooks *hooks, char *err, size_t errlen) {
    return train_run_keep_weights(cfg, result, hooks, NULL, err, errlen);
}

int train_run_keep_weights(const RunConfig *cfg, RunResult *result, const RunHooks *hooks, RunWeights *weights,
                           char *err, size_t errlen) {
    if (weights) memset(weights, 0, sizeof *weights);
    unsigned saved_csr = flush_subnormals();
    int rc = train_run_flushed(cfg, result, hooks, weights, err, errlen);
    restore_subnormals(saved_csr);
    if (rc == 0 && weights && result->status == RUN_INTERRUPTED) run_weights_free(weights);
    return rc;
}

void run_result_free(RunResult *result) {
    free(result->curve);
    result->curve = NULL;
    result->curve_len = 0;
}
