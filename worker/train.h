/* Training one grid point: data split, model, optimizer, the training loop
 * with periodic full-set evaluation, early stop, divergence detection, and
 * the record of the outcome. */
#ifndef GROKSWEEP_TRAIN_H
#define GROKSWEEP_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"
#include "model.h"
#include "optimizer.h"
#include "task.h"

/* Hidden layers whose feature rank a run can record. */
#define MAX_RANK_LAYERS MLP_MAX_DEPTH

/* Metrics over the full training and test sets at one step (parameters
 * after `step` updates). */
typedef struct {
    int step;
    double train_loss, test_loss, train_acc, test_acc, weight_norm;
    int n_ranks;                        /* hidden layers ranked (train.feature_rank), else 0 */
    int feature_rank[MAX_RANK_LAYERS];  /* (n_ranks) per hidden layer, on the test set; -1 if it failed */
} EvalPoint;

typedef enum { RUN_DONE, RUN_DIVERGED, RUN_INTERRUPTED } RunStatus;

/* Seeds of the run's random streams, each a hash of the parameters that
 * stream depends on and train.seed (never of a rank or process). */
typedef struct {
    uint64_t split;   /* the task's split, subset or draw: task op, p (or the task's own keys), seed */
    uint64_t init;    /* parameter table (names, shapes), seed */
    uint64_t batches; /* split seed, training-set size, batch size, seed */
} RunSeeds;

typedef struct {
    RunStatus status;
    Phase phase;
    Crossings crossings;
    EvalPoint final;
    int steps_run;        /* optimizer updates performed */
    bool early_stopped;
    double wall_seconds;  /* whole run, including setup and evaluation */
    double ms_per_step;   /* training updates only (forward, backward, update) */
    int n_train, n_test;
    size_t n_params;
    RunSeeds seeds;
    EvalPoint *curve;     /* (curve_len) every evaluation, in step order */
    int curve_len;
} RunResult;

/* Optional observers of a run. on_eval is called after every evaluation;
 * should_stop before every training step: returning true abandons the run
 * (status RUN_INTERRUPTED, to be run again later). It is called often, so
 * it must be cheap. */
typedef struct {
    void (*on_eval)(const EvalPoint *point, void *context);
    bool (*should_stop)(void *context);
    void *context;
} RunHooks;

/* Seeds for a configuration whose examples have this shape. */
void run_seeds(const RunConfig *cfg, const ExampleShape *shape, RunSeeds *seeds);

/* What a run needs besides its config: the data, set up as the run sets
 * it up (seeds, split), and a model built for it with max_batch rows. */
typedef struct {
    RunSeeds seeds;
    Dataset data;
    Model model;
} RunSetup;

/* Build the data and the initialized model of a run as train_run does, the
 * model for batches of up to max_batch examples (0: the whole training
 * set). Returns 0, or -1 with a message (memory, unreadable data). */
int run_setup(RunSetup *setup, const RunConfig *cfg, int max_batch, char *err, size_t errlen);
void run_setup_free(RunSetup *setup);

/* Train one configuration (already validated by config_parse and
 * task_check). On success returns 0 and fills *result (free with
 * run_result_free). A diverged run is a success with status RUN_DIVERGED.
 * Returns -1 with a message in err only for environment failures (out of
 * memory, a data file that cannot be read). hooks may be NULL. */
int train_run(const RunConfig *cfg, RunResult *result, const RunHooks *hooks, char *err, size_t errlen);

void run_result_free(RunResult *result);

/* Length of the text of a model's structure (RunWeights.structure). */
#define MODEL_STRUCTURE_CAPACITY 320

/* A run's parameters before its first update and after its last, laid out
 * by the model's parameter table. */
typedef struct {
    char structure[MODEL_STRUCTURE_CAPACITY]; /* the fields that decide the parameter shapes, as text */
    ParamTable table;
    real *initial; /* (table.total) */
    real *final;   /* (table.total) */
} RunWeights;

/* train_run that, when it returns 0 for a run not interrupted, also fills
 * *weights (free with run_weights_free; zeroed otherwise). A ticket run's
 * initial parameters are the ticket's (masked, or norm-matched). */
int train_run_keep_weights(const RunConfig *cfg, RunResult *result, const RunHooks *hooks, RunWeights *weights,
                           char *err, size_t errlen);

void run_weights_free(RunWeights *weights);

/* For a config whose ticket reads its dense run from ticket.weights: 0 when
 * that file is a weights file of this config's model, else -1 with the
 * message weights_file_read gives. 0 for any other config. */
int ticket_check_source(const RunConfig *cfg, char *err, size_t errlen);

/* The parameter table and structure text of the model cfg trains, without
 * its data or training (fills weights' table and structure, no buffers).
 * Returns 0, or -1 with a message (memory, the task's files). */
int run_param_table(const RunConfig *cfg, RunWeights *weights, char *err, size_t errlen);

/* The gradient part of a training step on `batch`: model_loss_gradient,
 * then the mask applied to the gradients. doutputs (batch->n, n_outputs) is
 * scratch; tolerance as loss_sum takes it. Returns the mean loss over the
 * batch; *hits receives the number of correct predictions. When the mean
 * is not finite the run has diverged and the gradients mean nothing. The
 * optimizer update is the caller's. */
double batch_gradient(Model *model, LossKind loss, double tolerance, const Examples *batch, real *doutputs,
                      int *hits);

/* One optimizer update, then the norm projection of train.fixed_norm when
 * target_norm > 0. */
void update_step(Optimizer *opt, Model *model, double target_norm);

/* Limit OpenBLAS to one thread (one rank, one core). */
void blas_use_one_thread(void);

/* OpenBLAS build configuration and the CPU kernel it selected. */
const char *blas_config(void);
const char *blas_core_name(void);

/* A one-line suggestion when OpenBLAS runs a narrower kernel than the CPU
 * supports (0.3.21 does not recognize every AVX-512 CPU and falls back to
 * its AVX2 kernel) and OPENBLAS_CORETYPE is unset; NULL otherwise. OpenBLAS
 * reads that variable when it loads, so only the user can change the
 * kernel, and a sweep must keep one kernel throughout. */
const char *blas_kernel_hint(void);

/* The rule behind blas_kernel_hint: the kernel OpenBLAS chose, the value of
 * OPENBLAS_CORETYPE (NULL if unset) and whether the CPU has AVX-512 F, BW,
 * DQ and VL. */
const char *blas_kernel_hint_for(const char *core, const char *coretype, bool cpu_has_avx512);

#endif
