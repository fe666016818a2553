/* Tests of the run configuration: defaults, parsing, every class of error,
 * --set overrides, the JSON round trip and the key reference. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_equal.h"
#include "test_util.h"

static const char *const example_json =
    "{\n"
    "  \"task\":      {\"op\": \"x+y\", \"p\": 59, \"data_fraction\": 0.3},\n"
    "  \"model\":     {\"kind\": \"mlp\", \"input\": \"onehot\", \"width\": 256, \"depth\": 1, "
    "\"activation\": \"quadratic\",\n"
    "                \"bias\": false, \"init\": {\"kind\": \"normal\", \"std\": 0.0397}, \"init_scale\": 1.0},\n"
    "  \"loss\":      \"mse\",\n"
    "  \"optimizer\": {\"kind\": \"adamw\", \"lr\": 0.01, \"weight_decay\": 1.0, \"betas\": [0.9, 0.98], "
    "\"eps\": 1e-8,\n"
    "                \"warmup_steps\": 0},\n"
    "  \"train\":     {\"steps\": 3000, \"batch_size\": 0, \"eval_every\": 10, \"seed\": 0,\n"
    "                \"early_stop\": {\"test_acc\": 0.99, \"patience\": 5}},\n"
    "  \"phase\":     {\"threshold\": 0.9, \"delay_steps\": 1000}\n"
    "}\n";

static int parse(RunConfig *cfg, const char *json, const char *const *overrides, int n_overrides, char *err,
                 size_t errlen) {
    return config_parse(cfg, json, "run.json", overrides, n_overrides, err, errlen);
}

/* Parse json with overrides, expecting success. */
static void expect_ok(RunConfig *cfg, const char *json, const char *const *overrides, int n_overrides) {
    char err[512] = "";
    int rc = parse(cfg, json, overrides, n_overrides, err, sizeof err);
    CHECK(rc == 0, "%s: unexpected error: %s", json, err);
}

/* Parse json with overrides, expecting -1, a one-line message that contains
 * every non-NULL needle, and *cfg left untouched. */
static void expect_error_with(const char *json, const char *const *overrides, int n_overrides, const char *needle1,
                              const char *needle2, const char *needle3) {
    RunConfig cfg, before;
    config_defaults(&cfg);
    cfg.train.steps = 12345;
    before = cfg;
    char err[512] = "";
    int rc = parse(&cfg, json, overrides, n_overrides, err, sizeof err);
    CHECK(rc == -1, "%s: expected an error, got rc %d", json, rc);
    CHECK(strchr(err, '\n') == NULL && err[0] != '\0', "%s: message must be one non-empty line: [%s]", json, err);
    const char *needles[] = {needle1, needle2, needle3};
    for (int i = 0; i < 3; i++)
        if (needles[i]) CHECK(strstr(err, needles[i]) != NULL, "message [%s] lacks [%s]", err, needles[i]);
    CHECK(configs_equal(&cfg, &before), "%s: config modified on error", json);
}

static void expect_error(const char *json, const char *needle1, const char *needle2, const char *needle3) {
    expect_error_with(json, NULL, 0, needle1, needle2, needle3);
}

static void test_defaults(void) {
    RunConfig cfg;
    config_defaults(&cfg);
    CHECK(cfg.task.arithmetic.op == OP_ADD && cfg.task.arithmetic.p == 59, "task defaults");
    CHECK(cfg.task.arithmetic.data_fraction == 0.3, "data_fraction default %g", cfg.task.arithmetic.data_fraction);
    CHECK(cfg.model.kind == MODEL_MLP && cfg.model.input == INPUT_ONEHOT, "model kind/input defaults");
    CHECK(cfg.model.width == 256 && cfg.model.depth == 1 && cfg.model.embed_dim == 128, "mlp size defaults");
    CHECK(cfg.model.n_layers == 1 && cfg.model.d_model == 128 && cfg.model.n_heads == 4 && cfg.model.d_mlp == 512,
          "transformer size defaults");
    CHECK(!cfg.model.layernorm, "layernorm default");
    CHECK(cfg.model.activation == ACT_QUADRATIC && !cfg.model.bias, "mlp activation/bias defaults");
    CHECK(cfg.model.init_kind == INIT_NORMAL, "init kind default");
    /* Gromov: sigma = sqrt(0.25) / (2N)^(1/3); 0.5 / 8 for N = 256. */
    CHECK_CLOSE(cfg.model.init_std, 0.5 / cbrt(512.0), 1e-15, "mlp init_std default");
    CHECK_CLOSE(cfg.model.init_std, 0.0625, 1e-12, "mlp init_std default for width 256");
    CHECK(cfg.model.init_scale == 1.0 && cfg.loss == LOSS_MSE, "init_scale/loss defaults");
    CHECK(cfg.optimizer.kind == OPT_ADAMW && cfg.optimizer.lr == 0.01 && cfg.optimizer.weight_decay == 1.0,
          "optimizer defaults");
    CHECK(cfg.optimizer.beta1 == 0.9 && cfg.optimizer.beta2 == 0.98 && cfg.optimizer.eps == 1e-8, "adam defaults");
    CHECK(cfg.optimizer.warmup_steps == 0 && cfg.optimizer.momentum == 0.9, "warmup/momentum defaults");
    CHECK(cfg.train.steps == 3000 && cfg.train.batch_size == 0 && cfg.train.eval_every == 10 && cfg.train.seed == 0,
          "train defaults");
    CHECK(cfg.train.early_stop_test_acc == 0.99 && cfg.train.early_stop_patience == 0, "early stop defaults");
    CHECK(cfg.phase.threshold == 0.9 && cfg.phase.delay_steps == 1000, "phase defaults");

    RunConfig empty;
    expect_ok(&empty, "{}", NULL, 0);
    CHECK(configs_equal(&empty, &cfg), "{} must parse to the defaults");
    expect_ok(&empty, " \n{ } \n", NULL, 0);
    CHECK(configs_equal(&empty, &cfg), "whitespace around {} is fine");
}

static void test_example(void) {
    RunConfig cfg;
    expect_ok(&cfg, example_json, NULL, 0);
    CHECK(cfg.task.arithmetic.op == OP_ADD && cfg.task.arithmetic.p == 59 && cfg.task.arithmetic.data_fraction == 0.3, "example task");
    CHECK(cfg.model.kind == MODEL_MLP && cfg.model.input == INPUT_ONEHOT && cfg.model.width == 256 &&
              cfg.model.depth == 1,
          "example model");
    CHECK(cfg.model.activation == ACT_QUADRATIC && !cfg.model.bias && cfg.model.init_kind == INIT_NORMAL,
          "example activation/bias/init");
    CHECK(cfg.model.init_std == 0.0397 && cfg.model.init_scale == 1.0, "example init std %g", cfg.model.init_std);
    CHECK(cfg.loss == LOSS_MSE && cfg.optimizer.kind == OPT_ADAMW && cfg.optimizer.lr == 0.01, "example loss/opt");
    CHECK(cfg.optimizer.weight_decay == 1.0 && cfg.optimizer.beta1 == 0.9 && cfg.optimizer.beta2 == 0.98 &&
              cfg.optimizer.eps == 1e-8 && cfg.optimizer.warmup_steps == 0,
          "example optimizer details");
    CHECK(cfg.train.steps == 3000 && cfg.train.batch_size == 0 && cfg.train.eval_every == 10 && cfg.train.seed == 0,
          "example train");
    CHECK(cfg.train.early_stop_test_acc == 0.99 && cfg.train.early_stop_patience == 5, "example early stop");
    CHECK(cfg.phase.threshold == 0.9 && cfg.phase.delay_steps == 1000, "example phase");
}

static void test_kind_defaults(void) {
    RunConfig cfg;
    expect_ok(&cfg, "{\"model\": {\"kind\": \"transformer\"}}", NULL, 0);
    CHECK(cfg.model.kind == MODEL_TRANSFORMER, "transformer kind");
    CHECK(cfg.model.activation == ACT_RELU, "transformer activation default relu");
    CHECK(cfg.model.bias, "transformer bias default true");
    CHECK(cfg.model.init_kind == INIT_NORMAL && cfg.model.init_std == 0.02, "transformer init std default 0.02");
    CHECK(cfg.model.n_layers == 1 && cfg.model.d_model == 128 && cfg.model.n_heads == 4 && cfg.model.d_mlp == 512 &&
              !cfg.model.layernorm,
          "transformer sizes");

    expect_ok(&cfg,
              "{\"model\": {\"kind\": \"transformer\", \"activation\": \"gelu\", \"bias\": false, "
              "\"init\": {\"std\": 0.1}, \"d_model\": 96, \"n_heads\": 3, \"layernorm\": true}}",
              NULL, 0);
    CHECK(cfg.model.activation == ACT_GELU && !cfg.model.bias && cfg.model.init_std == 0.1, "explicit values win");
    CHECK(cfg.model.d_model == 96 && cfg.model.n_heads == 3 && cfg.model.layernorm, "explicit transformer sizes");
    CHECK(cfg.model.layernorm == LAYERNORM_PRE && cfg.model.final_layernorm, "layernorm true is pre-LN with final LN");
    CHECK(cfg.model.positions == POSITIONS_LEARNED && !cfg.model.attention_bias, "transformer option defaults");
    expect_ok(&cfg, "{\"model\": {\"kind\": \"transformer\", \"layernorm\": false}}", NULL, 0);
    CHECK(cfg.model.layernorm == LAYERNORM_NONE && !cfg.model.final_layernorm, "layernorm false is no LN anywhere");
    expect_ok(&cfg, "{\"model\": {\"kind\": \"transformer\", \"layernorm\": \"post\"}}", NULL, 0);
    CHECK(cfg.model.layernorm == LAYERNORM_POST && !cfg.model.final_layernorm, "post-LN: no final LN by default");
    expect_ok(&cfg,
              "{\"model\": {\"kind\": \"transformer\", \"layernorm\": \"pre\", \"final_layernorm\": false, "
              "\"positions\": \"sinusoidal\", \"attention_bias\": true}}",
              NULL, 0);
    CHECK(cfg.model.layernorm == LAYERNORM_PRE && !cfg.model.final_layernorm &&
              cfg.model.positions == POSITIONS_SINUSOIDAL && cfg.model.attention_bias,
          "explicit transformer options");
    char *text = config_to_json(&cfg);
    CHECK(text && strstr(text, "\"layernorm\":\"pre\"") && strstr(text, "\"positions\":\"sinusoidal\""),
          "config_to_json writes the layernorm and positions names: %s", text ? text : "(null)");
    RunConfig again;
    char err[512];
    CHECK(text && config_parse(&again, text, "again", NULL, 0, err, sizeof err) == 0 && configs_equal(&cfg, &again),
          "transformer options survive config_to_json");
    free(text);

    expect_ok(&cfg, "{\"model\": {\"width\": 4}}", NULL, 0);
    CHECK_CLOSE(cfg.model.init_std, 0.25, 1e-15, "mlp init_std follows width: 0.5/cbrt(8)");

    expect_ok(&cfg, "{\"model\": {\"input\": \"embed_concat\", \"embed_dim\": 32}}", NULL, 0);
    CHECK(cfg.model.input == INPUT_EMBED_CONCAT && cfg.model.embed_dim == 32, "embed_dim with embed_concat");

    expect_ok(&cfg, "{\"model\": {\"init\": {\"kind\": \"pytorch\"}}}", NULL, 0);
    CHECK(cfg.model.init_kind == INIT_PYTORCH && cfg.model.init_std > 0, "pytorch init keeps a resolved std");

    expect_ok(&cfg, "{\"optimizer\": {\"kind\": \"sgd\", \"momentum\": 0.5}}", NULL, 0);
    CHECK(cfg.optimizer.kind == OPT_SGD && cfg.optimizer.momentum == 0.5, "sgd momentum");
}

static void test_key_errors(void) {
    expect_error("{\"model\": {\"widht\": 256}}", "unknown key model.widht", "256", "did you mean model.width?");
    expect_error("{\"optimiser\": {\"lr\": 0.1}}", "unknown key optimiser", "did you mean optimizer?", NULL);
    expect_error("{\"Task\": {}}", "unknown key Task", "did you mean task?", NULL);
    expect_error("{\"model\": {\"init\": {\"sdt\": 0.1}}}", "model.init.sdt", "did you mean model.init.std?", NULL);
    expect_error("{\"model\": {\"zzzzzzzzzz\": 1}}", "unknown key model.zzzzzzzzzz = 1", "valid keys in model:",
                 "width");
    expect_error("{\"xyzzy\": true}", "unknown key xyzzy = true", "valid top-level keys: task, model, loss", NULL);
    expect_error("{\"task.p\": 59}", "unknown key task.p = 59", NULL, NULL);
    expect_error("{\"task\": {\"p\": {\"x\": 1}}}", "task.p = {\"x\":1}", "must be an integer in [2, 2000]", NULL);
    expect_error("{\"optimizer\": {\"lr\": 0.1, \"lr\": 0.2}}", "duplicate key optimizer.lr", NULL, NULL);
    expect_error("{\"task\": {}, \"task\": {}}", "duplicate key task", NULL, NULL);
    expect_error("{\"a\nb\": 1}", "unknown key a b", NULL, NULL);
}

static void test_type_errors(void) {
    expect_error("{\"train\": {\"steps\": 1.5}}", "train.steps = 1.5", "must be an integer in [1, 1000000000]",
                 NULL);
    expect_error("{\"train\": {\"steps\": \"100\"}}", "train.steps = \"100\"", "must be an integer in [1, 1000000000]",
                 NULL);
    expect_error("{\"train\": {\"steps\": null}}", "train.steps = null", "integer", NULL);
    expect_error("{\"optimizer\": {\"lr\": \"fast\"}}", "optimizer.lr = \"fast\"", "must be a number > 0", NULL);
    expect_error("{\"optimizer\": {\"lr\": [0.1]}}", "optimizer.lr = [0.1]", "must be a number > 0", NULL);
    expect_error("{\"model\": {\"bias\": 1}}", "model.bias = 1", "must be true or false", NULL);
    expect_error("{\"model\": {\"bias\": \"true\"}}", "model.bias = \"true\"", "must be true or false", NULL);
    expect_error("{\"model\": {\"activation\": \"sigmoid\"}}", "model.activation = \"sigmoid\"",
                 "must be one of \"relu\", \"quadratic\", \"gelu\", \"tanh\"", NULL);
    expect_error("{\"model\": {\"kind\": 1}}", "model.kind = 1", "one of \"mlp\", \"transformer\"", NULL);
    expect_error("{\"model\": {\"kind\": \"MLP\"}}", "model.kind = \"MLP\"", "one of \"mlp\", \"transformer\"", NULL);
    expect_error("{\"task\": {\"op\": \"x%y\"}}", "task.op = \"x%y\"", "\"x/y\"", "\"x^3+xy^2+y\"");
    expect_error("{\"loss\": \"hinge\"}", "loss = \"hinge\"", "\"cross_entropy\", \"mse\"", NULL);
    expect_error("{\"task\": 5}", "task = 5", "must be a JSON object", NULL);
    expect_error("{\"model\": {\"init\": \"normal\"}}", "model.init = \"normal\"", "must be a JSON object", NULL);
    expect_error("{\"train\": {\"early_stop\": []}}", "train.early_stop = []", "must be a JSON object", NULL);
    expect_error("{\"optimizer\": {\"betas\": [0.9]}}", "optimizer.betas = [0.9]",
                 "must be an array of 2 numbers, each in [0, 1)", NULL);
    expect_error("{\"optimizer\": {\"betas\": [0.9, 0.98, 0.999]}}", "optimizer.betas = [0.9,0.98,0.999]", "array",
                 NULL);
    expect_error("{\"optimizer\": {\"betas\": [0.9, \"x\"]}}", "optimizer.betas = [0.9,\"x\"]", "array", NULL);
    expect_error("{\"optimizer\": {\"betas\": {\"a\": 0.9, \"b\": 0.9}}}", "optimizer.betas = {", "array", NULL);
    expect_error("{\"optimizer\": {\"betas\": 0.9}}", "optimizer.betas = 0.9", "array", NULL);
}

/* Check that key=value (as JSON inside its section) is accepted or rejected;
 * a rejection must quote the key and the value as compact JSON. */
static void expect_range(const char *section, const char *key, const char *value, bool accepted) {
    char json[256], needle[128];
    snprintf(json, sizeof json, "{\"%s\": {\"%s\": %s}}", section, key, value);
    int len = snprintf(needle, sizeof needle, "%s.%s = ", section, key);
    for (const char *c = value; *c; c++)
        if (*c != ' ') needle[len++] = *c;
    needle[len] = '\0';
    if (accepted) {
        RunConfig cfg;
        expect_ok(&cfg, json, NULL, 0);
    } else {
        expect_error(json, needle, "must be", NULL);
    }
}

static void test_ranges(void) {
    expect_range("task", "p", "1", false);
    expect_range("task", "p", "2", true);
    expect_range("task", "p", "2000", true);
    expect_range("task", "p", "2001", false);
    expect_range("task", "data_fraction", "0", false);
    expect_range("task", "data_fraction", "1", false);
    expect_range("task", "data_fraction", "1.5", false);
    expect_range("task", "data_fraction", "-0.3", false);
    expect_range("task", "data_fraction", "0.5", true);
    expect_error("{\"task\": {\"data_fraction\": 1.5}}", "run.json: task.data_fraction = 1.5: must be a number in (0, 1)",
                 NULL, NULL);
    expect_range("model", "width", "0", false);
    expect_range("model", "width", "1", true);
    expect_range("model", "width", "65536", true);
    expect_range("model", "width", "65537", false);
    expect_range("model", "depth", "16", true);
    expect_range("model", "depth", "17", false);
    expect_range("model", "init_scale", "0", false);
    expect_range("model", "init_scale", "-1", false);
    expect_range("model", "init_scale", "1e-6", true);
    expect_error("{\"model\": {\"init\": {\"std\": 0}}}", "model.init.std = 0", "must be a number > 0", NULL);
    expect_error("{\"model\": {\"init\": {\"std\": -0.1}}}", "model.init.std = -0.1", "> 0", NULL);
    expect_range("optimizer", "lr", "0", false);
    expect_range("optimizer", "lr", "1e-300", true);
    expect_error("{\"optimizer\": {\"lr\": 1e999}}", "optimizer.lr = inf", "must be a number > 0", NULL);
    expect_range("optimizer", "weight_decay", "-1", false);
    expect_error("{\"optimizer\": {\"weight_decay\": -1}}", "run.json: optimizer.weight_decay = -1: must be a number >= 0",
                 NULL, NULL);
    expect_range("optimizer", "weight_decay", "0", true);
    expect_range("optimizer", "eps", "0", false);
    expect_range("optimizer", "betas", "[0, 0.999]", true);
    expect_range("optimizer", "betas", "[0.9, 1]", false);
    expect_range("optimizer", "betas", "[-0.1, 0.9]", false);
    expect_range("optimizer", "warmup_steps", "-1", false);
    expect_range("optimizer", "warmup_steps", "1000000000", true);
    expect_range("optimizer", "warmup_steps", "1000000001", false);
    expect_error("{\"optimizer\": {\"kind\": \"sgd\", \"momentum\": 1}}", "optimizer.momentum = 1",
                 "must be a number in [0, 1)", NULL);
    RunConfig cfg;
    expect_ok(&cfg, "{\"optimizer\": {\"kind\": \"sgd\", \"momentum\": 0}}", NULL, 0);
    expect_range("train", "steps", "0", false);
    expect_range("train", "steps", "1", true);
    expect_range("train", "batch_size", "-1", false);
    expect_range("train", "batch_size", "0", true);
    expect_range("train", "eval_every", "0", false);
    expect_range("train", "seed", "-1", false);
    expect_range("train", "seed", "2147483647", true);
    expect_range("train", "seed", "2147483648", false);
    expect_error("{\"train\": {\"seed\": 1e300}}", "train.seed = 1e+300", "[0, 2147483647]", NULL);
    expect_error("{\"train\": {\"early_stop\": {\"test_acc\": 0}}}", "train.early_stop.test_acc = 0",
                 "must be a number in (0, 1]", NULL);
    expect_ok(&cfg, "{\"train\": {\"early_stop\": {\"test_acc\": 1}}}", NULL, 0);
    expect_error("{\"train\": {\"early_stop\": {\"test_acc\": 1.01}}}", "train.early_stop.test_acc = 1.01", "(0, 1]",
                 NULL);
    expect_error("{\"train\": {\"early_stop\": {\"patience\": -1}}}", "train.early_stop.patience = -1",
                 "[0, 1000000000]", NULL);
    expect_range("phase", "threshold", "0", false);
    expect_range("phase", "threshold", "1", true);
    expect_range("phase", "delay_steps", "-1", false);
    expect_range("phase", "delay_steps", "0", true);
}

static void test_consistency_errors(void) {
    expect_error("{\"task\": {\"op\": \"x/y\", \"p\": 60}}", "task.p = 60", "\"x/y\"", "prime");
    expect_error("{\"task\": {\"op\": \"x/y if y odd else x-y\", \"p\": 9}}", "task.p = 9", "prime", NULL);
    RunConfig cfg;
    expect_ok(&cfg, "{\"task\": {\"op\": \"x+y\", \"p\": 60}}", NULL, 0);
    CHECK(cfg.task.arithmetic.p == 60, "composite p is fine for x+y");
    expect_ok(&cfg, "{\"task\": {\"op\": \"x/y\", \"p\": 97}}", NULL, 0);
    CHECK(cfg.task.arithmetic.op == OP_DIV && cfg.task.arithmetic.p == 97, "x/y with prime p");

    /* 4 pairs: floor(0.1 * 4) = 0 training examples. */
    expect_error("{\"task\": {\"p\": 2, \"data_fraction\": 0.1}}", "task.data_fraction = 0.1", "0 training", "4 test");
    /* x/y has p(p-1) pairs: 6 for p = 3, floor(0.15 * 6) = 0. */
    expect_error("{\"task\": {\"op\": \"x/y\", \"p\": 3, \"data_fraction\": 0.15}}", "task.data_fraction = 0.15",
                 "6 pairs", "0 training and 6 test");
    /* floor(f * n) < n for every double f < 1, so the largest fraction
     * still leaves one test example. */
    expect_ok(&cfg, "{\"task\": {\"p\": 2000, \"data_fraction\": 0.99999999999999989}}", NULL, 0);
    CHECK(arithmetic_pair_count(&cfg.task.arithmetic) - arithmetic_train_count(&cfg.task.arithmetic) == 1, "largest fraction leaves 1 test example");
    expect_ok(&cfg, "{\"task\": {\"p\": 2, \"data_fraction\": 0.9}}", NULL, 0);

    expect_error("{\"model\": {\"kind\": \"transformer\", \"d_model\": 130, \"n_heads\": 4}}", "model.d_model = 130",
                 "model.n_heads = 4", "divisible");
    expect_error("{\"model\": {\"kind\": \"transformer\", \"n_heads\": 3}}", "model.d_model = 128", "model.n_heads = 3",
                 NULL);

    expect_error("{\"model\": {\"kind\": \"transformer\", \"width\": 256}}",
                 "run.json: model.width = 256: applies only when model.kind is \"mlp\" (model.kind is \"transformer\")",
                 NULL, NULL);
    expect_error("{\"model\": {\"n_heads\": 8}}", "model.n_heads = 8", "model.kind is \"transformer\"",
                 "(model.kind is \"mlp\")");
    /* the message quotes the value as stored: true stands for "pre" */
    expect_error("{\"model\": {\"layernorm\": true}}", "model.layernorm = \"pre\"", "model.kind is \"transformer\"",
                 NULL);
    expect_error("{\"model\": {\"positions\": \"sinusoidal\"}}", "model.positions = \"sinusoidal\"",
                 "model.kind is \"transformer\"", NULL);
    expect_error("{\"model\": {\"attention_bias\": true}}", "model.attention_bias = true",
                 "model.kind is \"transformer\"", NULL);
    expect_error("{\"model\": {\"final_layernorm\": false}}", "model.final_layernorm = false",
                 "model.kind is \"transformer\"", NULL);
    expect_error("{\"model\": {\"kind\": \"transformer\", \"positions\": \"rotary\"}}",
                 "model.positions = \"rotary\"", "must be one of \"learned\", \"sinusoidal\"", NULL);
    expect_error("{\"model\": {\"kind\": \"transformer\", \"layernorm\": \"sandwich\"}}",
                 "model.layernorm = \"sandwich\"",
                 "must be one of \"none\", \"pre\", \"post\", or false (\"none\") or true (\"pre\")", NULL);
    expect_error("{\"model\": {\"kind\": \"transformer\", \"layernorm\": 1}}", "model.layernorm = 1", "\"post\"",
                 NULL);
    expect_error("{\"model\": {\"embed_dim\": 64}}", "model.embed_dim = 64",
                 "model.input is \"embed_add\" or \"embed_concat\"", "(model.input is \"onehot\")");
    expect_error("{\"model\": {\"kind\": \"transformer\", \"embed_dim\": 64}}", "model.embed_dim = 64",
                 "model.kind is \"mlp\"", NULL);
    expect_error("{\"optimizer\": {\"kind\": \"sgd\", \"betas\": [0.9, 0.99]}}", "optimizer.betas = [0.9,0.99]",
                 "optimizer.kind is \"adamw\"", "(optimizer.kind is \"sgd\")");
    expect_error("{\"optimizer\": {\"kind\": \"sgd\", \"eps\": 1e-6}}", "optimizer.eps = 1e-06", "adamw", NULL);
    expect_error("{\"optimizer\": {\"momentum\": 0.9}}", "optimizer.momentum = 0.9", "optimizer.kind is \"sgd\"",
                 NULL);
    expect_error("{\"model\": {\"init\": {\"kind\": \"pytorch\", \"std\": 0.1}}}", "model.init.std = 0.1",
                 "model.init.kind is \"normal\"", "(model.init.kind is \"pytorch\")");
}

static void test_input_errors(void) {
    expect_error("{\n  \"task\": {\n    \"p\": ,\n  }\n}", "run.json: invalid JSON near line 3, column 10", NULL, NULL);
    expect_error("", "run.json: invalid JSON near line 1, column 1", NULL, NULL);
    expect_error("{\"task\": {}} x", "invalid JSON near line 1, column", NULL, NULL);
    expect_error("{\"task\": {\"p\": 59}", "invalid JSON", NULL, NULL);
    expect_error("[1, 2]", "top level = [1,2]", "must be a JSON object", NULL);

    RunConfig cfg, before;
    config_defaults(&cfg);
    before = cfg;
    char err[512] = "";
    int rc = config_load(&cfg, "/nonexistent-dir/run.json", NULL, 0, err, sizeof err);
    CHECK(rc == -1, "unreadable file must fail");
    CHECK(strcmp(err, "/nonexistent-dir/run.json: cannot read: No such file or directory") == 0, "got [%s]", err);
    rc = config_load(&cfg, "/", NULL, 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "/: cannot read: ") == err, "reading a directory: [%s]", err);
    CHECK(configs_equal(&cfg, &before), "config untouched after load errors");

    /* A long message is cut to errlen and stays NUL-terminated. */
    char small[16];
    memset(small, 'x', sizeof small);
    rc = parse(&cfg, "{\"model\": {\"widht\": 256}}", NULL, 0, small, sizeof small);
    CHECK(rc == -1 && strlen(small) == sizeof small - 1 && strncmp(small, "run.json: unkno", 15) == 0,
          "truncated message [%s]", small);
    CHECK(parse(&cfg, "{\"model\": {\"widht\": 256}}", NULL, 0, NULL, 0) == -1, "errlen 0 still reports failure");
}

static void test_load_file(void) {
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
    if (fd < 0) return;
    FILE *file = fdopen(fd, "w");
    fputs(example_json, file);
    fclose(file);

    RunConfig loaded, parsed;
    char err[512] = "";
    const char *overrides[] = {"train.steps=10"};
    CHECK(config_load(&loaded, path, overrides, 1, err, sizeof err) == 0, "load: %s", err);
    expect_ok(&parsed, example_json, overrides, 1);
    CHECK(configs_equal(&loaded, &parsed) && loaded.train.steps == 10, "config_load equals config_parse");

    const char *bad[] = {"optimizer.lr=-1"};
    CHECK(config_load(&loaded, path, bad, 1, err, sizeof err) == -1, "bad override through load");
    CHECK(strstr(err, "--set: optimizer.lr = -1: must be a number > 0") == err, "an override's error names --set, got [%s]",
          err);

    file = fopen(path, "w");
    fputs("{\"task\": {\"p\": 59}\n}", file);
    fputc('\0', file);
    fputs("garbage", file);
    fclose(file);
    CHECK(config_load(&loaded, path, NULL, 0, err, sizeof err) == -1 && strstr(err, "invalid JSON near line 2"),
          "NUL byte in file: [%s]", err);
    unlink(path);
}

static void test_overrides(void) {
    RunConfig cfg;
    const char *numbers[] = {"train.steps=500", "optimizer.lr=0.003", "model.bias=true", "optimizer.betas=[0.9,0.99]",
                             "model.activation=relu", "task.op=x/y", "task.p=97"};
    expect_ok(&cfg, example_json, numbers, 7);
    CHECK(cfg.train.steps == 500, "int override");
    CHECK(cfg.optimizer.lr == 0.003, "real override");
    CHECK(cfg.model.bias, "bool override");
    CHECK(cfg.optimizer.beta1 == 0.9 && cfg.optimizer.beta2 == 0.99, "array override");
    CHECK(cfg.model.activation == ACT_RELU, "bare string override");
    CHECK(cfg.task.arithmetic.op == OP_DIV && cfg.task.arithmetic.p == 97, "string with a slash");
    CHECK(cfg.train.early_stop_patience == 5, "untouched keys keep the file's values");

    const char *quoted[] = {"task.op=\"x-y\"", "loss=cross_entropy"};
    expect_ok(&cfg, "{}", quoted, 2);
    CHECK(cfg.task.arithmetic.op == OP_SUB && cfg.loss == LOSS_CROSS_ENTROPY, "JSON string override and top-level leaf");

    const char *create[] = {"train.early_stop.patience=7", "model.init.std=0.125"};
    expect_ok(&cfg, "{\"task\": {}}", create, 2);
    CHECK(cfg.train.early_stop_patience == 7 && cfg.model.init_std == 0.125, "override creates missing sections");

    const char *later_wins[] = {"optimizer.lr=0.2", "optimizer.lr=0.3"};
    expect_ok(&cfg, "{\"optimizer\": {\"lr\": 0.1}}", later_wins, 2);
    CHECK(cfg.optimizer.lr == 0.3, "the last override wins, got %g", cfg.optimizer.lr);

    const char *whole_section[] = {"model.init={\"kind\":\"pytorch\"}"};
    expect_ok(&cfg, example_json, whole_section, 1);
    CHECK(cfg.model.init_kind == INIT_PYTORCH, "override replaces a section");

    const char *to_transformer[] = {"model.kind=transformer"};
    expect_ok(&cfg, "{}", to_transformer, 1);
    CHECK(cfg.model.kind == MODEL_TRANSFORMER && cfg.model.activation == ACT_RELU, "kind override");

    const char *no_equals[] = {"optimizer.lr"};
    expect_error_with("{}", no_equals, 1, "--set optimizer.lr: expected dotted.key=value, got \"optimizer.lr\"", NULL,
                      NULL);
    const char *empty_name[] = {"optimizer..lr=1"};
    expect_error_with("{}", empty_name, 1, "--set optimizer..lr=1: expected dotted.key=value", NULL, NULL);
    const char *empty_path[] = {"=1"};
    expect_error_with("{}", empty_path, 1, "--set =1: expected dotted.key=value", NULL, NULL);

    const char *unknown[] = {"model.widht=256"};
    expect_error_with("{}", unknown, 1, "run.json: unknown key model.widht = 256", "did you mean model.width?", NULL);
    const char *unknown_section[] = {"modle.width=256"};
    expect_error_with("{}", unknown_section, 1, "unknown key modle", "256", "did you mean model?");
    const char *out_of_range[] = {"optimizer.weight_decay=-1"};
    expect_error_with(example_json, out_of_range, 1, "--set: optimizer.weight_decay = -1: must be a number >= 0",
                      NULL, NULL);
    const char *bad_int[] = {"train.steps=1.5"};
    expect_error_with("{}", bad_int, 1, "train.steps = 1.5", "integer", NULL);
    const char *bad_enum[] = {"model.activation=sigmoid"};
    expect_error_with("{}", bad_enum, 1, "model.activation = \"sigmoid\"", "one of", NULL);
    const char *section_scalar[] = {"task=5"};
    expect_error_with("{}", section_scalar, 1, "task = 5", "must be a JSON object", NULL);
    const char *wrong_kind[] = {"model.kind=transformer", "model.width=64"};
    expect_error_with("{}", wrong_kind, 2, "--set: model.width = 64", "(model.kind is \"transformer\")", NULL);

    /* Switching kind by --set drops the file's keys for the old kind. */
    const char *switch_kind[] = {"model.kind=transformer"};
    RunConfig switched;
    expect_ok(&switched, "{\"model\": {\"width\": 64, \"init\": {\"kind\": \"normal\", \"std\": 0.1}}}", switch_kind, 1);
    CHECK(switched.model.kind == MODEL_TRANSFORMER && switched.model.d_model == 128, "kind switched by --set");
    const char *switch_init[] = {"model.init.kind=pytorch"};
    expect_ok(&switched, "{\"model\": {\"init\": {\"kind\": \"normal\", \"std\": 0.1}}}", switch_init, 1);
    CHECK(switched.model.init_kind == INIT_PYTORCH, "init kind switched by --set");
}

/* config_to_json must parse back to the same config and the same text. */
static void check_round_trip(const RunConfig *cfg, const char *what) {
    char *json = config_to_json(cfg);
    CHECK(json != NULL, "%s: config_to_json failed", what);
    if (!json) return;
    RunConfig back;
    char err[512] = "";
    int rc = config_parse(&back, json, "round trip", NULL, 0, err, sizeof err);
    CHECK(rc == 0, "%s: %s does not parse: %s", what, json, err);
    CHECK(rc == 0 && configs_equal(cfg, &back), "%s: round trip changed the config: %s", what, json);
    char *again = rc == 0 ? config_to_json(&back) : NULL;
    CHECK(again && strcmp(json, again) == 0, "%s: second serialisation differs", what);
    free(again);
    free(json);
}

static void test_to_json(void) {
    RunConfig cfg;
    config_defaults(&cfg);
    check_round_trip(&cfg, "defaults");
    char *json = config_to_json(&cfg);
    if (!json) {
        CHECK(0, "config_to_json returned NULL");
        return;
    }
    const char *start = "{\"task\":{\"kind\":\"arithmetic\",\"op\":\"x+y\",\"p\":59,\"data_fraction\":0.3,"
                        "\"sequence\":\"a b\",\"concealed_bits\":0,\"draws\":0},\"model\":{\"kind\":\"mlp\"";
    CHECK(strncmp(json, start, strlen(start)) == 0, "schema order: %s", json);
    CHECK(!strstr(json, "train_size") && !strstr(json, "train_images") && !strstr(json, "imbalance"),
          "the arithmetic task's JSON leaves out the other tasks' keys: %s", json);
    CHECK(strstr(json, "\"init\":{\"kind\":\"normal\",\"std\":0.0625}"), "init section: %s", json);
    CHECK(!strstr(json, "n_heads") && !strstr(json, "momentum") && !strstr(json, "embed_dim"),
          "mlp/adamw JSON leaves out keys that do not apply: %s", json);
    free(json);

    expect_ok(&cfg, example_json, NULL, 0);
    check_round_trip(&cfg, "example mlp");

    /* Awkward doubles need 17 significant digits. */
    const char *awkward[] = {"optimizer.lr=0.30000000000000004", "model.init_scale=0.3333333333333333",
                             "model.init.std=1e-300", "optimizer.betas=[0.1,0.8999999999999999]",
                             "model.input=embed_add", "model.embed_dim=17"};
    expect_ok(&cfg, "{}", awkward, 6);
    CHECK(cfg.optimizer.lr == 0.1 + 0.2, "0.1 + 0.2 parsed exactly");
    check_round_trip(&cfg, "mlp with awkward numbers");
    json = config_to_json(&cfg);
    CHECK(json && strstr(json, "\"embed_dim\":17"), "embed_dim present for embed inputs: %s", json);
    free(json);

    const char *transformer[] = {"model.kind=transformer", "model.n_layers=2", "model.d_model=96", "model.n_heads=6",
                                 "model.d_mlp=384", "model.layernorm=true", "model.init.std=0.015625",
                                 "optimizer.kind=sgd", "optimizer.momentum=0.95", "loss=cross_entropy",
                                 "train.batch_size=512", "train.seed=2147483647", "task.op=x^3+xy",
                                 "task.data_fraction=0.45"};
    expect_ok(&cfg, "{}", transformer, 14);
    check_round_trip(&cfg, "transformer sgd");
    json = config_to_json(&cfg);
    CHECK(json && !strstr(json, "width") && !strstr(json, "input") && !strstr(json, "betas") &&
              strstr(json, "\"momentum\":0.95") && strstr(json, "\"n_heads\":6"),
          "transformer/sgd JSON keeps only applicable keys: %s", json);
    free(json);

    const char *pytorch[] = {"model.kind=transformer", "model.init.kind=pytorch"};
    expect_ok(&cfg, "{}", pytorch, 2);
    check_round_trip(&cfg, "transformer pytorch init");
    json = config_to_json(&cfg);
    CHECK(json && strstr(json, "\"init\":{\"kind\":\"pytorch\"}"), "pytorch init leaves out std: %s", json);
    free(json);
}

static void test_names_and_help(void) {
    CHECK(strcmp(model_kind_name(MODEL_TRANSFORMER), "transformer") == 0, "model_kind_name");
    CHECK(strcmp(input_kind_name(INPUT_EMBED_CONCAT), "embed_concat") == 0, "input_kind_name");
    CHECK(strcmp(activation_name(ACT_QUADRATIC), "quadratic") == 0, "activation_name");
    CHECK(strcmp(loss_name(LOSS_CROSS_ENTROPY), "cross_entropy") == 0, "loss_name");
    CHECK(strcmp(optimizer_name(OPT_SGD), "sgd") == 0, "optimizer_name");

    FILE *out = tmpfile();
    CHECK(out != NULL, "tmpfile");
    if (!out) return;
    config_help(out);
    long size = ftell(out);
    char *text = calloc(1, (size_t)size + 1);
    rewind(out);
    CHECK(text && fread(text, 1, (size_t)size, out) == (size_t)size, "read help back");
    fclose(out);
    if (!text) return;
    const char *expected[] = {"task.op", "task.data_fraction", "model.embed_dim", "model.init.std",
                              "0.5/cbrt(2*width)", "optimizer.betas", "[0.9,0.98]", "train.early_stop.patience",
                              "phase.delay_steps", "only when model.kind is \"transformer\"", "full batch"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) CHECK(strstr(text, expected[i]) != NULL, "help lacks [%s]", expected[i]);
    free(text);
}

int main(void) {
    test_defaults();
    test_example();
    test_kind_defaults();
    test_key_errors();
    test_type_errors();
    test_ranges();
    test_consistency_errors();
    test_input_errors();
    test_load_file();
    test_overrides();
    test_to_json();
    test_names_and_help();
    return test_finish();
}
