/* Initialization statistics, losses, optimizers, the phase rule, and the
 * training loop's outcomes (determinism, divergence, early stop). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feature_rank.h"
#include "loss.h"
#include "metrics.h"
#include "model.h"
#include "optimizer.h"
#include "test_util.h"
#include "train.h"

static RunConfig parse(const char *json) {
    RunConfig cfg;
    char err[512];
    if (config_parse(&cfg, json, "test", NULL, 0, err, sizeof err) != 0) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
    return cfg;
}

/* Mean and standard deviation of one parameter tensor. */
static void tensor_stats(const Model *m, const char *name, double *mean, double *std, double *max_abs) {
    const ParamView *v = param_table_find(&m->table, name);
    if (!v) {
        fprintf(stderr, "no tensor %s\n", name);
        exit(1);
    }
    size_t count = (size_t)v->rows * v->cols;
    double sum = 0, sq = 0, biggest = 0;
    for (size_t i = 0; i < count; i++) {
        double x = m->params[v->offset + i];
        sum += x;
        sq += x * x;
        if (fabs(x) > biggest) biggest = fabs(x);
    }
    *mean = sum / count;
    *std = sqrt(sq / count - *mean * *mean);
    *max_abs = biggest;
}

/* The token shape of the arithmetic task "a b" mod p. */
static ExampleShape pair_shape(int p) {
    return (ExampleShape){.seq_len = 2, .vocab = p, .target = TARGET_CLASS, .n_outputs = p};
}

static void test_init(void) {
    RunConfig cfg = parse("{\"model\": {\"input\": \"embed_add\", \"embed_dim\": 64, \"width\": 400, \"bias\": true,"
                          " \"activation\": \"relu\", \"init\": {\"kind\": \"pytorch\"}}}");
    ExampleShape shape = pair_shape(59);
    Model m;
    CHECK(model_create(&m, &cfg.model, &shape, 8) == 0, "create");
    model_init(&m, 1);
    double mean, std, max_abs;
    /* U(±1/sqrt(fan_in)): std = bound / sqrt(3) */
    tensor_stats(&m, "layers.0.weight", &mean, &std, &max_abs);
    double bound = 1 / sqrt(64.0);
    CHECK(max_abs <= bound, "uniform bound %g exceeds %g", max_abs, bound);
    CHECK_CLOSE(std, bound / sqrt(3.0), 0.02 * bound, "layers.0.weight std");
    CHECK_CLOSE(mean, 0, 0.02 * bound, "layers.0.weight mean");
    tensor_stats(&m, "out.weight", &mean, &std, &max_abs);
    CHECK_CLOSE(std, 1 / sqrt(400.0) / sqrt(3.0), 0.02 / sqrt(400.0), "out.weight std");
    tensor_stats(&m, "embed.weight", &mean, &std, &max_abs);
    CHECK_CLOSE(std, 1.0, 0.05, "embedding N(0, 1) std");
    tensor_stats(&m, "out.bias", &mean, &std, &max_abs);
    CHECK(max_abs <= 1 / sqrt(400.0) && max_abs > 0, "bias U(±1/sqrt(fan_in)), max %g", max_abs);

    /* init_scale multiplies every parameter of the same draw */
    real *base = malloc(sizeof(real) * m.table.total);
    memcpy(base, m.params, sizeof(real) * m.table.total);
    Model scaled;
    cfg.model.init_scale = 4;
    CHECK(model_create(&scaled, &cfg.model, &shape, 8) == 0, "create");
    model_init(&scaled, 1);
    size_t mismatched = 0;
    for (size_t i = 0; i < m.table.total; i++) mismatched += scaled.params[i] != (real)(4 * base[i]);
    CHECK(mismatched == 0, "%zu parameters not multiplied by the init scale", mismatched);
    CHECK_CLOSE(model_weight_norm(&scaled), 4 * model_weight_norm(&m), 1e-3 * model_weight_norm(&scaled),
                "weight norm scales with alpha");
    free(base);
    model_free(&scaled);
    model_free(&m);

    /* Gromov's normal init; a transformer's LayerNorm gains are alpha */
    cfg = parse("{\"model\": {\"width\": 256, \"init\": {\"kind\": \"normal\", \"std\": 0.05}}}");
    CHECK(model_create(&m, &cfg.model, &shape, 8) == 0, "create");
    model_init(&m, 2);
    tensor_stats(&m, "layers.0.weight", &mean, &std, &max_abs);
    CHECK_CLOSE(std, 0.05, 0.002, "normal std");
    CHECK(param_table_find(&m.table, "layers.0.bias") == NULL, "no bias when bias is false");
    model_free(&m);
    cfg = parse("{\"model\": {\"kind\": \"transformer\", \"layernorm\": true, \"d_model\": 32, \"d_mlp\": 64,"
                " \"init\": {\"kind\": \"pytorch\"}, \"init_scale\": 0.5}}");
    ExampleShape equals = {.seq_len = 3, .vocab = 14, .target = TARGET_CLASS, .n_outputs = 13};
    CHECK(model_create(&m, &cfg.model, &equals, 8) == 0, "create");
    model_init(&m, 3);
    tensor_stats(&m, "blocks.0.ln1.weight", &mean, &std, &max_abs);
    CHECK(mean == 0.5 && std < 1e-6, "LayerNorm gain is alpha * 1, got mean %g", mean);
    tensor_stats(&m, "pos_embed.weight", &mean, &std, &max_abs);
    CHECK_CLOSE(std, 0.5, 0.15, "positional embedding alpha * N(0, 1)");
    const ParamView *embed = param_table_find(&m.table, "embed.weight"), *unembed = param_table_find(&m.table, "unembed.weight");
    CHECK(embed && embed->rows == 14 && unembed && unembed->rows == 13, "vocabulary p + 1 in, p classes out");
    model_free(&m);

    /* the dense MLP of Omnigrok: PyTorch's Linear init, biases, every parameter times alpha */
    cfg = parse("{\"task\": {\"kind\": \"carvalho\"}, \"model\": {\"width\": 200, \"depth\": 12,"
                " \"init_scale\": 8}}");
    CHECK(cfg.model.input == INPUT_DENSE && cfg.model.init_kind == INIT_PYTORCH && cfg.model.bias &&
              cfg.model.activation == ACT_RELU,
          "dense tasks default to PyTorch's MLP: dense input, pytorch init, biases, relu");
    ExampleShape dense = {.dim = 117, .target = TARGET_CLASS, .n_outputs = 4};
    CHECK(model_create(&m, &cfg.model, &dense, 8) == 0, "create");
    model_init(&m, 4);
    tensor_stats(&m, "layers.0.weight", &mean, &std, &max_abs);
    CHECK(max_abs <= 8 / sqrt(117.0) && fabs(std - 8 / sqrt(117.0) / sqrt(3.0)) < 0.03 * 8 / sqrt(117.0),
          "first layer 8 * U(±1/sqrt(117)): std %g", std);
    tensor_stats(&m, "layers.11.bias", &mean, &std, &max_abs);
    CHECK(max_abs <= 8 / sqrt(200.0) && max_abs > 4 / sqrt(200.0), "deep bias 8 * U(±1/sqrt(200)): max %g", max_abs);
    const ParamView *out = param_table_find(&m.table, "out.weight");
    CHECK(out && out->rows == 4 && out->cols == 200 && param_table_find(&m.table, "layers.12.weight") == NULL,
          "12 hidden layers, 4 outputs");
    model_free(&m);
}

static void test_losses(void) {
    real logits[2 * 4] = {0, 0, 0, 0, 1, 2, 3, 4}, grad[8];
    int labels[2] = {1, 3}, correct;
    Examples batch = {.shape = {.seq_len = 1, .vocab = 1, .target = TARGET_CLASS, .n_outputs = 4}, .n = 2,
                      .labels = labels};
    double ce = loss_sum(LOSS_CROSS_ENTROPY, 0, logits, &batch, grad, &correct);
    double expected = log(4.0) + (log(exp(1) + exp(2) + exp(3) + exp(4)) - 4);
    CHECK_CLOSE(ce, expected, 1e-6, "cross-entropy sum");
    CHECK(correct == 1, "argmax of a tie is the first: row 0 predicts 0; row 1 predicts 3");
    CHECK_CLOSE(grad[1], (0.25 - 1) / 2, 1e-7, "dCE/dlogit of the label, mean over 2 rows");
    double mse = loss_sum(LOSS_MSE, 0, logits, &batch, grad, &correct);
    CHECK_CLOSE(mse, 1.0 / 4 + (1 + 4 + 9 + 9) / 4.0, 1e-6, "MSE sum of per-row means");
    CHECK_CLOSE(grad[7], 2 * 3.0 / 8, 1e-7, "dMSE/dlogit = 2 diff / (n p)");

    /* vector targets: per-row MSE, correct when below the tolerance */
    real outputs[3 * 2] = {1, 2, 0.5f, 0.5f, 3, 3}, targets[3 * 2] = {1, 2.02f, 0.5f, 0.5f, 0, 0};
    Examples regression = {.shape = {.dim = 1, .target = TARGET_VECTOR, .n_outputs = 2}, .n = 3, .targets = targets};
    double sum = loss_sum(LOSS_MSE, 1e-3, outputs, &regression, grad, &correct);
    CHECK_CLOSE(sum, 0.02 * 0.02 / 2 + 0 + 9, 1e-6, "MSE sum against vector targets");
    CHECK(correct == 2, "rows with MSE 2e-4 and 0 are within 1e-3, the row with 9 is not: %d", correct);
    CHECK_CLOSE(grad[1], 2 * -0.02 / 6, 1e-7, "dMSE/doutput = 2 diff / (n d)");
    loss_sum(LOSS_MSE, 1e-4, outputs, &regression, NULL, &correct);
    CHECK(correct == 1, "a tighter tolerance counts only the exact row: %d", correct);
}

/* Norm projection and feature rank, the two measurements of the Omnigrok
 * and Deep Grokking modes. */
static void test_norm_and_rank(void) {
    real w[3] = {3, 0, 4};
    CHECK_CLOSE(params_norm(w, 3), 5, 1e-12, "norm of (3, 0, 4)");
    params_rescale_to_norm(w, 3, 10);
    CHECK(w[0] == 6 && w[1] == 0 && w[2] == 8, "rescaled to norm 10: %g %g %g", w[0], w[1], w[2]);
    real zero[2] = {0, 0};
    params_rescale_to_norm(zero, 2, 1);
    CHECK(zero[0] == 0 && zero[1] == 0, "a zero vector stays zero");

    /* 50 samples of 6 features spanning 3 directions: covariance rank 3 */
    enum { SAMPLES = 50, WIDTH = 6 };
    real features[SAMPLES * WIDTH];
    for (int i = 0; i < SAMPLES; i++) {
        double a = sin(1.3 * i), b = cos(0.7 * i * i), c = (i % 7) - 3.0;
        double row[WIDTH] = {a, b, c, a + b, 2 * c - a, 5};
        for (int j = 0; j < WIDTH; j++) features[i * WIDTH + j] = (real)row[j];
    }
    FeatureRank fr;
    CHECK(feature_rank_create(&fr, SAMPLES, WIDTH) == 0, "create");
    CHECK(feature_rank_compute(&fr, features, SAMPLES) == 3, "rank 3 (a constant column adds nothing), got %d",
          feature_rank_compute(&fr, features, SAMPLES));
    CHECK(feature_rank_compute(&fr, features, 3) == 2, "3 samples span at most 2 directions around their mean");
    features[7] = NAN;
    CHECK(feature_rank_compute(&fr, features, SAMPLES) == -1, "a NaN activation gives -1");
    feature_rank_free(&fr);
}

static void test_optimizers(void) {
    OptimizerConfig adamw = {OPT_ADAMW, 0.1, 0.5, 0.9, 0.98, 1e-8, 0, 0};
    Optimizer opt;
    real w[1] = {2}, g[1] = {0.5};
    optimizer_create(&opt, &adamw, 1);
    optimizer_step(&opt, w, g);
    /* t = 1: decay 2 * (1 - 0.05) = 1.9; m̂ = g, v̂ = g², step = lr * g / (|g| + eps) */
    CHECK_CLOSE(w[0], 1.9 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-6, "AdamW first step");
    optimizer_step(&opt, w, g);
    double m = 0.1 * 0.5 * 0.9 + 0.1 * 0.5, v = 0.02 * 0.25 * 0.98 + 0.02 * 0.25;
    double expected = (1.9 - 0.1 * 0.5 / (0.5 + 1e-8)) * 0.95 - 0.1 / (1 - 0.81) * m / (sqrt(v / (1 - 0.98 * 0.98)) + 1e-8);
    CHECK_CLOSE(w[0], expected, 1e-6, "AdamW second step");
    optimizer_free(&opt);

    OptimizerConfig warm = adamw;
    warm.warmup_steps = 4;
    CHECK_CLOSE(optimizer_lr(&warm, 1), 0.025, 1e-12, "warmup step 1");
    CHECK_CLOSE(optimizer_lr(&warm, 4), 0.1, 1e-12, "warmup done at step 4");
    CHECK_CLOSE(optimizer_lr(&warm, 9), 0.1, 1e-12, "after warmup");

    OptimizerConfig sgd = {OPT_SGD, 0.1, 0.5, 0, 0, 0, 0, 0.9};
    real ws[1] = {2};
    optimizer_create(&opt, &sgd, 1);
    optimizer_step(&opt, ws, g); /* d = 0.5 + 1 = 1.5; buf = 1.5; w = 2 - 0.15 */
    CHECK_CLOSE(ws[0], 1.85, 1e-6, "SGD first step");
    optimizer_step(&opt, ws, g); /* d = 0.5 + 0.925 = 1.425; buf = 1.35 + 1.425 */
    CHECK_CLOSE(ws[0], 1.85 - 0.1 * (0.9 * 1.5 + 1.425), 1e-6, "SGD momentum step");
    optimizer_free(&opt);
}

static void test_phase_rule(void) {
    CHECK(phase_classify(-1, -1, 1000) == PHASE_CONFUSION, "nothing fit");
    CHECK(phase_classify(100, -1, 1000) == PHASE_MEMORIZATION, "train only");
    CHECK(phase_classify(100, 500, 1000) == PHASE_COMPREHENSION, "fast generalization");
    CHECK(phase_classify(100, 1100, 1000) == PHASE_GROKKING, "delay of exactly the threshold is grokking");
    Crossings c;
    crossings_init(&c);
    crossings_update(&c, 0, 0.1, 0.0, 0.9);
    crossings_update(&c, 10, 0.95, 0.2, 0.9);
    crossings_update(&c, 20, 0.2, 0.99, 0.9);
    CHECK(c.train_step[0] == 10 && c.train_step[2] == 10 && c.train_step[3] == -1, "train crossings");
    CHECK(c.test_step[3] == 20 && c.test_phase_step == 20 && c.train_phase_step == 10, "test crossings");
}

/* should_stop hook: true from the 26th call on. */
static bool stop_after_25(void *context) { return ++*(int *)context > 25; }

static void test_training_outcomes(void) {
    const char *small = "{\"task\": {\"p\": 23, \"data_fraction\": 0.5}, \"model\": {\"width\": 64},"
                        " \"train\": {\"steps\": 60, \"eval_every\": 10}}";
    RunConfig cfg = parse(small);
    RunResult r1, r2;
    char err[256];
    CHECK(train_run(&cfg, &r1, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(train_run(&cfg, &r2, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(r1.curve_len == 7 && r1.steps_run == 60 && r1.status == RUN_DONE, "7 evaluations, 60 steps");
    int differ = 0;
    for (int i = 0; i < r1.curve_len; i++)
        differ += memcmp(&r1.curve[i], &r2.curve[i], sizeof(EvalPoint)) != 0;
    CHECK(differ == 0, "two runs of one config differ at %d evaluations", differ);
    CHECK(r1.n_train == 264 && r1.n_test == 265, "split sizes %d %d", r1.n_train, r1.n_test);
    run_result_free(&r1);
    run_result_free(&r2);

    /* minibatches: deterministic too, and the final eval is at the last step */
    cfg.train.batch_size = 50;
    CHECK(train_run(&cfg, &r1, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(train_run(&cfg, &r2, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(r1.final.step == 60 && r1.final.train_loss == r2.final.train_loss && r1.final.test_acc == r2.final.test_acc,
          "minibatch runs repeat exactly");
    run_result_free(&r1);
    run_result_free(&r2);

    /* an absurd learning rate diverges: a recorded outcome, not a failure */
    cfg = parse(small);
    cfg.optimizer.kind = OPT_SGD;
    cfg.optimizer.lr = 1e30;
    cfg.optimizer.momentum = 0;
    CHECK(train_run(&cfg, &r1, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(r1.status == RUN_DIVERGED && r1.phase == PHASE_NONE, "status %d phase %d", r1.status, r1.phase);
    CHECK(r1.steps_run < 60 && !isfinite(r1.final.train_loss), "stopped at step %d", r1.steps_run);
    run_result_free(&r1);

    /* early stop: patience 2 at accuracy 0 stops at the second evaluation */
    cfg = parse(small);
    cfg.train.early_stop_test_acc = 0;
    cfg.train.early_stop_patience = 2;
    CHECK(train_run(&cfg, &r1, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(r1.early_stopped && r1.steps_run == 10 && r1.curve_len == 2, "early stop after %d steps", r1.steps_run);
    run_result_free(&r1);

    /* an interrupted run says so and stops at once */
    cfg = parse(small);
    int calls = 0;
    RunHooks hooks = {.should_stop = stop_after_25, .context = &calls};
    CHECK(train_run(&cfg, &r1, &hooks, err, sizeof err) == 0, "%s", err);
    CHECK(r1.status == RUN_INTERRUPTED && r1.steps_run == 25 && r1.phase == PHASE_NONE,
          "interrupted: status %d after %d steps", r1.status, r1.steps_run);
    run_result_free(&r1);
}

/* The OPENBLAS_CORETYPE suggestion: only for an AVX2 kernel on an AVX-512
 * CPU, and never when the user has chosen a kernel. */
static void test_blas_kernel_hint(void) {
    const char *hint = blas_kernel_hint_for("Haswell", NULL, true);
    CHECK(hint && strstr(hint, "OPENBLAS_CORETYPE=SkylakeX"), "Haswell on AVX-512: %s", hint ? hint : "none");
    CHECK(blas_kernel_hint_for("Zen", "", true) != NULL, "Zen on AVX-512, empty OPENBLAS_CORETYPE");
    CHECK(blas_kernel_hint_for("Haswell", "Haswell", true) == NULL, "kernel chosen by the user");
    CHECK(blas_kernel_hint_for("Haswell", NULL, false) == NULL, "no AVX-512");
    CHECK(blas_kernel_hint_for("SkylakeX", NULL, true) == NULL, "already the AVX-512 kernel");
    CHECK(blas_kernel_hint_for("Cooperlake", NULL, true) == NULL, "already an AVX-512 kernel");
}

int main(void) {
    blas_use_one_thread();
    test_blas_kernel_hint();
    test_init();
    test_losses();
    test_norm_and_rank();
    test_optimizers();
    test_phase_rule();
    test_training_outcomes();
    return test_finish();
}
