/* Tests of sweep files: axis forms and kinds, point indices, labels and
 * configs, the hash, loading from a file, and every class of error. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep.h"
#include "sweep_embed.h"
#include "config_equal.h"
#include "test_util.h"

/* The required axes with one value each. */
#define REQUIRED "\"data_fraction\": [0.3], \"weight_decay\": [1], \"init_scale\": [1], \"seed\": 1"
/* A small base for the error cases. */
#define SMALL_BASE "\"task\": {\"p\": 13}, \"train\": {\"steps\": 10}"

static const char *const valid_json =
    "{\n"
    "  \"task\":      {\"op\": \"x+y\", \"p\": 23, \"data_fraction\": 0.4},\n"
    "  \"model\":     {\"width\": 128, \"init\": {\"kind\": \"normal\", \"std\": 0.05}},\n"
    "  \"optimizer\": {\"lr\": 0.003},\n"
    "  \"train\":     {\"steps\": 95, \"eval_every\": 10},\n"
    "  \"grid\": {\n"
    "    \"data_fraction\": [0.2, 0.30000000000000004, 0.5],\n"
    "    \"weight_decay\":  {\"logspace\": [-2, 0, 3]},\n"
    "    \"init_scale\":    {\"linspace\": [1, 2, 3]},\n"
    "    \"seed\":          2,\n"
    "    \"model.activation\": [\"relu\", \"quadratic\"],\n"
    "    \"model.width\":   {\"linspace\": [64, 256, 4]},\n"
    "    \"model.bias\":    [false, true]\n"
    "  }\n"
    "}\n";

/* valid_json without whitespace. */
static const char *const compact_json =
    "{\"task\":{\"op\":\"x+y\",\"p\":23,\"data_fraction\":0.4},\"model\":{\"width\":128,\"init\":{\"kind\":"
    "\"normal\",\"std\":0.05}},\"optimizer\":{\"lr\":0.003},\"train\":{\"steps\":95,\"eval_every\":10},"
    "\"grid\":{\"data_fraction\":[0.2,0.30000000000000004,0.5],\"weight_decay\":{\"logspace\":[-2,0,3]},"
    "\"init_scale\":{\"linspace\":[1,2,3]},\"seed\":2,\"model.activation\":[\"relu\",\"quadratic\"],"
    "\"model.width\":{\"linspace\":[64,256,4]},\"model.bias\":[false,true]}}";

/* Close to within a few ulps, for values computed with pow(). */
static bool near(double a, double b) { return fabs(a - b) <= 4e-16 * fabs(b); }

/* Parse text as "sweep.json", expecting success. */
static bool parse_ok(Sweep *sweep, const char *text) {
    char err[1024] = "";
    int rc = sweep_parse(sweep, text, "sweep.json", err, sizeof err);
    CHECK(rc == 0, "%s: unexpected error: %s", text, err);
    return rc == 0;
}

/* Parse text, expecting -1, one line that contains every non-NULL needle,
 * and an empty sweep. */
static void expect_error(const char *text, const char *needle1, const char *needle2, const char *needle3) {
    Sweep sweep;
    char err[1024] = "";
    int rc = sweep_parse(&sweep, text, "sweep.json", err, sizeof err);
    CHECK(rc == -1, "%s: expected an error, got rc %d", text, rc);
    if (rc == 0) {
        sweep_free(&sweep);
        return;
    }
    CHECK(strchr(err, '\n') == NULL && err[0] != '\0', "%s: message must be one non-empty line: [%s]", text, err);
    const char *needles[] = {needle1, needle2, needle3};
    for (int i = 0; i < 3; i++)
        if (needles[i]) CHECK(strstr(err, needles[i]) != NULL, "message [%s] lacks [%s]", err, needles[i]);
    CHECK(sweep.n_axes == 0 && sweep.text == NULL && sweep.base_json == NULL && sweep.eval_steps == NULL,
          "%s: a failed parse leaves an empty sweep", text);
}

/* Expect exactly this message. */
static void expect_message(const char *text, const char *message) {
    Sweep sweep;
    char err[1024] = "";
    int rc = sweep_parse(&sweep, text, "sweep.json", err, sizeof err);
    CHECK(rc == -1 && strcmp(err, message) == 0, "%s:\n  got      [%s]\n  expected [%s]", text, err, message);
    if (rc == 0) sweep_free(&sweep);
}

/* A sweep text from base members (may be "") and grid members, in buf. */
static const char *sweep_text(char *buf, size_t size, const char *base, const char *grid) {
    snprintf(buf, size, "{%s%s\"grid\": {%s}}", base, *base ? ", " : "", grid);
    return buf;
}

static void test_axes(void) {
    Sweep sweep;
    if (!parse_ok(&sweep, valid_json)) return;
    CHECK(sweep.n_axes == 7, "n_axes %d", sweep.n_axes);
    CHECK(sweep.n_points == 3 * 3 * 3 * 2 * 2 * 4 * 2, "n_points %ld", sweep.n_points);
    static const char *const names[] = {"data_fraction", "weight_decay", "init_scale", "seed",
                                        "activation",    "width",        "bias"};
    static const char *const paths[] = {"task.data_fraction", "optimizer.weight_decay", "model.init_scale",
                                        "train.seed",         "model.activation",       "model.width",
                                        "model.bias"};
    static const AxisKind kinds[] = {AXIS_REAL, AXIS_REAL, AXIS_REAL, AXIS_INT, AXIS_STRING, AXIS_INT, AXIS_BOOL};
    static const int lengths[] = {3, 3, 3, 2, 2, 4, 2};
    for (int a = 0; a < 7 && a < sweep.n_axes; a++) {
        const SweepAxis *axis = &sweep.axes[a];
        CHECK(strcmp(axis->name, names[a]) == 0, "axis %d name %s", a, axis->name);
        CHECK(strcmp(axis->path, paths[a]) == 0, "axis %d path %s", a, axis->path);
        CHECK(axis->kind == kinds[a], "axis %d kind %d", a, (int)axis->kind);
        CHECK(axis->length == lengths[a], "axis %d length %d", a, axis->length);
        CHECK((axis->strings != NULL) == (kinds[a] == AXIS_STRING) &&
                  (axis->numbers != NULL) == (kinds[a] != AXIS_STRING),
              "axis %d: numbers or strings by kind", a);
    }
    const SweepAxis *ax = sweep.axes;
    CHECK(ax[0].numbers[0] == 0.2 && ax[0].numbers[1] == 0.30000000000000004 && ax[0].numbers[2] == 0.5,
          "data_fraction values");
    CHECK(near(ax[1].numbers[0], 0.01) && near(ax[1].numbers[1], 0.1) && ax[1].numbers[2] == 1,
          "weight_decay logspace: %.17g %.17g %.17g", ax[1].numbers[0], ax[1].numbers[1], ax[1].numbers[2]);
    CHECK(ax[2].numbers[0] == 1 && ax[2].numbers[1] == 1.5 && ax[2].numbers[2] == 2, "init_scale linspace");
    CHECK(ax[3].numbers[0] == 0 && ax[3].numbers[1] == 1, "seed count");
    CHECK(strcmp(ax[4].strings[0], "relu") == 0 && strcmp(ax[4].strings[1], "quadratic") == 0, "activation values");
    CHECK(ax[5].numbers[0] == 64 && ax[5].numbers[1] == 128 && ax[5].numbers[2] == 192 && ax[5].numbers[3] == 256,
          "width linspace on an int key");
    CHECK(ax[6].numbers[0] == 0 && ax[6].numbers[1] == 1, "bias values");

    CHECK(strcmp(ax[0].overrides[1], "task.data_fraction=0.30000000000000004") == 0,
          "a real override reads back exactly: %s", ax[0].overrides[1]);
    CHECK(strcmp(ax[1].overrides[2], "optimizer.weight_decay=1") == 0, "logspace override %s", ax[1].overrides[2]);
    CHECK(strcmp(ax[2].overrides[1], "model.init_scale=1.5") == 0, "linspace override %s", ax[2].overrides[1]);
    CHECK(strcmp(ax[3].overrides[1], "train.seed=1") == 0, "seed override %s", ax[3].overrides[1]);
    CHECK(strcmp(ax[4].overrides[0], "model.activation=\"relu\"") == 0, "string override %s", ax[4].overrides[0]);
    CHECK(strcmp(ax[5].overrides[3], "model.width=256") == 0, "int override %s", ax[5].overrides[3]);
    CHECK(strcmp(ax[6].overrides[0], "model.bias=false") == 0, "bool override %s", ax[6].overrides[0]);
    for (int a = 0; a < sweep.n_axes; a++) {
        const SweepAxis *axis = &sweep.axes[a];
        const char *text = axis->overrides[axis->length / 2];
        double v = axis->kind == AXIS_STRING ? 0 : axis->numbers[axis->length / 2];
        RunConfig cfg;
        char err[512];
        CHECK(config_parse(&cfg, sweep.base_json, "base", &text, 1, err, sizeof err) == 0, "%s: %s", text, err);
        if (axis->kind == AXIS_REAL && strcmp(axis->path, "optimizer.weight_decay") == 0)
            CHECK(cfg.optimizer.weight_decay == v, "logspace value survives its override text exactly");
    }

    CHECK(sweep.n_eval == 11, "n_eval %d", sweep.n_eval);
    CHECK(sweep.eval_steps[0] == 0 && sweep.eval_steps[1] == 10 && sweep.eval_steps[9] == 90 &&
              sweep.eval_steps[10] == 95,
          "eval schedule ends at steps");
    CHECK(strcmp(sweep.text, valid_json) == 0, "text is the file as read");
    CHECK(strstr(sweep.base_json, "grid") == NULL && strchr(sweep.base_json, ' ') == NULL &&
              strstr(sweep.base_json, "\"lr\":0.003") != NULL,
          "base_json is the compact file without grid: %s", sweep.base_json);
    CHECK(sweep.base.task.arithmetic.p == 23 && sweep.base.task.arithmetic.data_fraction == 0.4 && sweep.base.model.width == 128 &&
              sweep.base.optimizer.lr == 0.003 && sweep.base.train.steps == 95,
          "base config parsed");
    sweep_free(&sweep);
    sweep_free(&sweep); /* an emptied sweep may be freed again */
}

static void test_points(void) {
    Sweep sweep;
    if (!parse_ok(&sweep, valid_json)) return;
    int indices[SWEEP_MAX_AXES];
    sweep_point_indices(&sweep, 0, indices);
    bool zero = true;
    for (int a = 0; a < sweep.n_axes; a++) zero = zero && indices[a] == 0;
    CHECK(zero, "point 0 is the first value of every axis");
    sweep_point_indices(&sweep, sweep.n_points - 1, indices);
    bool last = true;
    for (int a = 0; a < sweep.n_axes; a++) last = last && indices[a] == sweep.axes[a].length - 1;
    CHECK(last, "the last point is the last value of every axis");
    sweep_point_indices(&sweep, 1, indices);
    CHECK(indices[6] == 1 && indices[5] == 0, "the last axis varies fastest");
    bool row_major = true;
    for (long p = 0; p < sweep.n_points; p++) {
        sweep_point_indices(&sweep, p, indices);
        long q = 0;
        for (int a = 0; a < sweep.n_axes; a++) {
            row_major = row_major && indices[a] >= 0 && indices[a] < sweep.axes[a].length;
            q = q * sweep.axes[a].length + indices[a];
        }
        row_major = row_major && q == p;
    }
    CHECK(row_major, "indices are row-major, last axis fastest");

    char label[512];
    sweep_point_label(&sweep, 0, label, sizeof label);
    CHECK(strcmp(label, "data_fraction=0.2 weight_decay=0.01 init_scale=1 seed=0 activation=relu width=64 "
                        "bias=false") == 0,
          "label of point 0: %s", label);
    /* data_fraction 1, weight_decay 2, init_scale 1, seed 1, activation 1, width 3, bias 1 */
    long point = ((((((1L * 3 + 2) * 3 + 1) * 2 + 1) * 2 + 1) * 4 + 3) * 2 + 1);
    sweep_point_label(&sweep, point, label, sizeof label);
    CHECK(strcmp(label, "data_fraction=0.3 weight_decay=1 init_scale=1.5 seed=1 activation=quadratic width=256 "
                        "bias=true") == 0,
          "label of point %ld: %s", point, label);
    char small[16];
    sweep_point_label(&sweep, point, small, sizeof small);
    CHECK(strcmp(small, "data_fraction=0") == 0, "a label is cut to its buffer: %s", small);

    RunConfig cfg, rest;
    char err[512] = "";
    CHECK(sweep_point_config(&sweep, point, &cfg, err, sizeof err) == 0, "point config: %s", err);
    CHECK(cfg.task.arithmetic.data_fraction == 0.30000000000000004 && cfg.optimizer.weight_decay == 1 &&
              cfg.model.init_scale == 1.5 && cfg.train.seed == 1 && cfg.model.activation == ACT_QUADRATIC &&
              cfg.model.width == 256 && cfg.model.bias,
          "the point's axis values");
    rest = cfg;
    rest.task.arithmetic.data_fraction = sweep.base.task.arithmetic.data_fraction;
    rest.optimizer.weight_decay = sweep.base.optimizer.weight_decay;
    rest.model.init_scale = sweep.base.model.init_scale;
    rest.train.seed = sweep.base.train.seed;
    rest.model.activation = sweep.base.model.activation;
    rest.model.width = sweep.base.model.width;
    rest.model.bias = sweep.base.model.bias;
    CHECK(configs_equal(&rest, &sweep.base), "every other key is the base's");
    CHECK(sweep_point_config(&sweep, 0, &cfg, err, sizeof err) == 0, "point 0 config: %s", err);
    CHECK(cfg.task.arithmetic.data_fraction == 0.2 && near(cfg.optimizer.weight_decay, 0.01) && cfg.model.init_scale == 1 &&
              cfg.train.seed == 0 && cfg.model.activation == ACT_RELU && cfg.model.width == 64 && !cfg.model.bias,
          "point 0's axis values");
    CHECK(cfg.task.arithmetic.p == 23 && cfg.optimizer.lr == 0.003 && cfg.model.init_std == 0.05 && cfg.train.steps == 95,
          "point 0 keeps the base");
    sweep_free(&sweep);

    /* An axis may switch a kind: the base's keys for the old kind are dropped. */
    char text[1024];
    if (!parse_ok(&sweep, sweep_text(text, sizeof text, "\"model\": {\"width\": 64}, " SMALL_BASE,
                                     REQUIRED ", \"model.kind\": [\"mlp\", \"transformer\"]")))
        return;
    CHECK(sweep.n_points == 2, "kind sweep n_points %ld", sweep.n_points);
    CHECK(sweep_point_config(&sweep, 1, &cfg, err, sizeof err) == 0 && cfg.model.kind == MODEL_TRANSFORMER,
          "transformer point: %s", err);
    CHECK(sweep_point_config(&sweep, 0, &cfg, err, sizeof err) == 0 && cfg.model.kind == MODEL_MLP &&
              cfg.model.width == 64,
          "mlp point: %s", err);
    sweep_free(&sweep);

    /* Axes named by full paths; the required axes may be, too. */
    if (!parse_ok(&sweep, sweep_text(text, sizeof text, SMALL_BASE,
                                     "\"task.data_fraction\": [0.5], \"optimizer.weight_decay\": [0, 0.5], "
                                     "\"model.init_scale\": {\"linspace\": [2, 2, 1]}, \"train.seed\": [7], "
                                     "\"optimizer.lr\": {\"logspace\": [-3, -1, 3]}, \"task.op\": [\"x-y\", \"x/y\"]")))
        return;
    CHECK(sweep.n_axes == 6 && sweep.n_points == 12, "full-path axes: %d axes, %ld points", sweep.n_axes,
          sweep.n_points);
    CHECK(strcmp(sweep.axes[4].name, "lr") == 0 && strcmp(sweep.axes[5].name, "op") == 0 &&
              sweep.axes[5].kind == AXIS_STRING && strcmp(sweep.axes[5].strings[1], "x/y") == 0,
          "coordinate names are the last path component");
    CHECK(sweep.axes[2].numbers[0] == 2 && sweep.axes[3].numbers[0] == 7, "linspace n = 1 gives a");
    sweep_point_label(&sweep, 11, label, sizeof label);
    CHECK(strcmp(label, "data_fraction=0.5 weight_decay=0.5 init_scale=2 seed=7 lr=0.1 op=x/y") == 0, "label %s",
          label);
    sweep_free(&sweep);
}

static void test_hash(void) {
    Sweep a, b, c, d;
    if (!parse_ok(&a, valid_json)) return;
    if (parse_ok(&b, compact_json)) {
        CHECK(a.hash == b.hash, "whitespace does not change the hash");
        CHECK(strcmp(a.base_json, b.base_json) == 0, "nor the base JSON");
        sweep_free(&b);
    }
    char *changed = strdup(valid_json);
    char *at = strstr(changed, "0.5]");
    at[2] = '6';
    if (parse_ok(&c, changed)) {
        CHECK(a.hash != c.hash, "a grid value changes the hash");
        sweep_free(&c);
    }
    /* 0.30000000000000004 -> 0.3: one ulp, printed alike by cJSON's %.15g */
    free(changed);
    changed = strdup(valid_json);
    at = strstr(changed, "0.30000000000000004");
    memmove(at + 3, at + 19, strlen(at + 19) + 1);
    if (parse_ok(&d, changed)) {
        CHECK(a.hash != d.hash, "a one-ulp change changes the hash");
        sweep_free(&d);
    }
    free(changed);
    changed = strdup(valid_json);
    at = strstr(changed, "0.003");
    at[4] = '4';
    if (parse_ok(&c, changed)) {
        CHECK(a.hash != c.hash, "a base value changes the hash");
        sweep_free(&c);
    }
    free(changed);
    sweep_free(&a);
}

static void test_load(void) {
    Sweep sweep;
    char err[512] = "";
    CHECK(sweep_load(&sweep, "/nonexistent/sweep.json", err, sizeof err) == -1 &&
              strcmp(err, "/nonexistent/sweep.json: cannot read: No such file or directory") == 0,
          "unreadable file: %s", err);
    char path[] = "/tmp/test_sweep_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
    if (fd < 0) return;
    FILE *file = fdopen(fd, "w");
    fputs(valid_json, file);
    fclose(file);
    CHECK(sweep_load(&sweep, path, err, sizeof err) == 0, "load: %s", err);
    if (sweep.text) {
        CHECK(strcmp(sweep.text, valid_json) == 0 && sweep.n_points == 864, "loaded sweep");
        sweep_free(&sweep);
    }
    file = fopen(path, "w");
    fputs("{\"grid\": 1, \"x\": [1, 2]", file);
    fclose(file);
    CHECK(sweep_load(&sweep, path, err, sizeof err) == -1 && strncmp(err, path, strlen(path)) == 0 &&
              strstr(err, "invalid JSON near line 1") != NULL,
          "the path names the file in messages: %s", err);
    unlink(path);
}

static void test_structure_errors(void) {
    char text[2048];
    expect_error("{\"grid\": ", "sweep.json: invalid JSON near line 1, column", NULL, NULL);
    expect_error("[1, 2]", "sweep.json: top level = [1,2]: must be a JSON object", NULL, NULL);
    expect_error("{\"task\": {\"p\": 13}}", "sweep.json: no grid", "\"grid\" object", NULL);
    expect_message(sweep_text(text, sizeof text, "\"grid\": {}", REQUIRED), "sweep.json: duplicate key grid");
    expect_message(sweep_text(text, sizeof text, "\"optimizer\": {\"lr\": -1}", REQUIRED),
                   "sweep.json: optimizer.lr = -1: must be a number > 0");
    expect_message(sweep_text(text, sizeof text, "\"task\": {}, \"task\": {}", REQUIRED),
                   "sweep.json: duplicate key task");
    expect_message(sweep_text(text, sizeof text, "\"model\": {\"widht\": 3}", REQUIRED),
                   "sweep.json: unknown key model.widht = 3 (did you mean model.width?)");
    expect_message("{\"grid\": [1]}", "sweep.json: grid = [1]: must be a JSON object of axes");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": [0.3], \"weight_decay\": [1], \"seed\": 1"),
                   "sweep.json: grid: missing axis init_scale (required axes for task.kind \"arithmetic\": "
                   "data_fraction, weight_decay, init_scale, seed)");
    expect_message("{\"task\": {\"kind\": \"teacher_student\"}, \"grid\": {\"data_fraction\": [0.3], "
                   "\"weight_decay\": [1], \"init_scale\": [1], \"seed\": 1}}",
                   "sweep.json: grid: missing axis train_size (required axes for task.kind \"teacher_student\": "
                   "train_size, weight_decay, init_scale, seed)");
    expect_message("{\"task\": {\"kind\": \"carvalho\"}, \"grid\": {\"train_size\": [100, 400], "
                   "\"weight_decay\": [1], \"init_scale\": [1], \"seed\": 1, \"task.kind\": [\"images\"]}}",
                   "sweep.json: grid.task.kind: task.kind cannot be an axis: it decides the layout of the sweep and "
                   "its file; set it in the base config (one sweep per value)");
    expect_message("{\"task\": {\"kind\": \"carvalho\"}, \"grid\": {\"train_size\": [100, 400000], "
                   "\"weight_decay\": [1], \"init_scale\": [1], \"seed\": 1}}",
                   "sweep.json: grid.train_size[1]: task.train_size = 400000: with task.imbalance = 1 the largest "
                   "subclass share is 50000, more than its training pool of 6000 samples; at most 48000 is allowed");
}

static void test_name_errors(void) {
    char text[2048];
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": [0.3], \"weight_decy\": [1], \"init_scale\": [1], \"seed\": 1"),
                   "sweep.json: unknown axis grid.weight_decy = [1] (did you mean weight_decay?)");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lrr\": [1]"),
                 "unknown axis grid.optimizer.lrr", "did you mean optimizer.lr?", NULL);
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"lr\": [1]"), "unknown axis grid.lr = [1]",
                 "did you mean optimizer.lr?", NULL);
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"model.init.sdt\": [1]"),
                 "did you mean model.init.std?", NULL, NULL);
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"zzzzzzzzzzzz\": [1]"),
                 "unknown axis grid.zzzzzzzzzzzz", "the dotted path of a scalar config key", NULL);
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"model\": [1]"), "unknown axis grid.model",
                 NULL, NULL);
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.betas\": [[0.9, 0.98]]"),
                   "sweep.json: grid.optimizer.betas: optimizer.betas holds an array and cannot be an axis; set it "
                   "in the base config");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"train.steps\": [10, 20]"),
                   "sweep.json: grid.train.steps: train.steps cannot be an axis: every grid point shares one "
                   "evaluation schedule (the curves' eval_step coordinate); set it in the base config");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"train.eval_every\": [1]"),
                 "train.eval_every cannot be an axis", "evaluation schedule", NULL);
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"train.seed\": [3]"),
                   "sweep.json: grid.train.seed: duplicate axis: grid.seed already varies train.seed");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"seed\": [3]"),
                   "sweep.json: duplicate key grid.seed");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              REQUIRED ", \"model.kind\": [\"mlp\"], \"optimizer.kind\": [\"adamw\"]"),
                   "sweep.json: grid.optimizer.kind: the coordinate name \"kind\" is already that of "
                   "grid.model.kind (an axis is named by the last component of its path)");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE,
                            REQUIRED ", \"model.width\": [8], \"model.depth\": [1], \"model.init.std\": [0.1], "
                                     "\"optimizer.lr\": [0.01], \"optimizer.eps\": [1e-8], "
                                     "\"optimizer.warmup_steps\": [0], \"train.batch_size\": [0], "
                                     "\"train.early_stop.test_acc\": [0.99], \"train.early_stop.patience\": [0], "
                                     "\"phase.threshold\": [0.9], \"phase.delay_steps\": [10], \"task.p\": [13], "
                                     "\"task.op\": [\"x+y\"]"),
                 "grid.task.op: a grid has at most 16 axes", NULL, NULL);
    expect_error("{\"grid\": {\"a\\nb\": [1]}}", "unknown axis grid.a b", NULL, NULL);
}

static void test_form_errors(void) {
    char text[2048];
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": [], \"weight_decay\": [1], \"init_scale\": [1], \"seed\": 1"),
                   "sweep.json: grid.data_fraction = []: must be a non-empty array of values, "
                   "{\"linspace\": [a, b, n]} or {\"logspace\": [a, b, n]}");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lr\": 0.1"),
                 "grid.optimizer.lr = 0.1: must be a non-empty array", NULL, NULL);
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lr\": \"0.1\""),
                 "grid.optimizer.lr = \"0.1\": must be", NULL, NULL);
    static const char *const bad_counts[] = {"0", "-1", "2.5", "true", "1e999"};
    for (int i = 0; i < 5; i++) {
        char grid[256];
        snprintf(grid, sizeof grid, "\"data_fraction\": [0.3], \"weight_decay\": [1], \"init_scale\": [1], "
                                    "\"seed\": %s", bad_counts[i]);
        expect_error(sweep_text(text, sizeof text, SMALL_BASE, grid), "grid.seed = ",
                     "or a count of seeds k >= 1 (meaning 0 .. k-1)", NULL);
    }
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lr\": [[0.1]]"),
                   "sweep.json: grid.optimizer.lr[0] = [0.1]: must be a single value (a number, string or boolean)");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lr\": [0.1, {\"a\": 1}]"),
                 "grid.optimizer.lr[1] = {\"a\":1}: must be a single value", NULL, NULL);
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lr\": {\"linspace\": [1, 2, 0]}"),
                   "sweep.json: grid.optimizer.lr.linspace = [1,2,0]: must be [a, b, n]: numbers a and b and a "
                   "count n >= 1");
    static const char *const bad_specs[] = {"[1, 2, 2.5]", "[1, 2]", "[1, 2, 3, 4]", "[1, \"2\", 3]",
                                            "[1, 1e999, 3]", "3",  "{\"a\": 1}", "[1, 2, 1e999]"};
    for (int i = 0; i < 8; i++) {
        char grid[256];
        snprintf(grid, sizeof grid, REQUIRED ", \"optimizer.lr\": {\"logspace\": %s}", bad_specs[i]);
        expect_error(sweep_text(text, sizeof text, SMALL_BASE, grid), "grid.optimizer.lr.logspace = ",
                     "must be [a, b, n]", NULL);
    }
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lr\": {\"linspce\": [1, 2, 3]}"),
                   "sweep.json: grid.optimizer.lr: unknown form \"linspce\" (an axis object is "
                   "{\"linspace\": [a, b, n]} or {\"logspace\": [a, b, n]})");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE,
                            REQUIRED ", \"optimizer.lr\": {\"linspace\": [1, 2, 3], \"logspace\": [1, 2, 3]}"),
                 "grid.optimizer.lr = {\"linspace\":[1,2,3],\"logspace\":[1,2,3]}: must be", NULL, NULL);
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lr\": {}"),
                 "grid.optimizer.lr = {}: must be", NULL, NULL);
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              REQUIRED ", \"optimizer.lr\": {\"linspace\": [1, 2, 3], \"linspace\": [1, 2, 3]}"),
                   "sweep.json: duplicate key grid.optimizer.lr.linspace");
}

static void test_value_errors(void) {
    char text[2048];
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": [0.3], \"weight_decay\": [1, 0.5, -1], \"init_scale\": [1], "
                              "\"seed\": 1"),
                   "sweep.json: grid.weight_decay[2]: optimizer.weight_decay = -1: must be a number >= 0");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": [0.3], \"weight_decay\": [\"big\"], \"init_scale\": [1], "
                              "\"seed\": 1"),
                   "sweep.json: grid.weight_decay[0]: optimizer.weight_decay = \"big\": must be a number >= 0");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"model.activation\": [\"relu\", \"swish\"]"),
                   "sweep.json: grid.model.activation[1]: model.activation = \"swish\": must be one of \"relu\", "
                   "\"quadratic\", \"gelu\", \"tanh\"");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"model.bias\": [true, 1]"),
                 "grid.model.bias[1]: model.bias = 1: must be true or false", NULL, NULL);
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"model.bias\": {\"linspace\": [0, 1, 2]}"),
                 "grid.model.bias[0]: model.bias = 0: must be true or false", NULL, NULL);
    expect_error(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"optimizer.lr\": [null]"),
                 "grid.optimizer.lr[0]: optimizer.lr = null: must be a number > 0", NULL, NULL);
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"model.width\": {\"linspace\": [1, 2, 3]}"),
                   "sweep.json: grid.model.width[1]: model.width = 1.5: must be an integer in [1, 65536]");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": {\"logspace\": [-2, 0, 3]}, \"weight_decay\": [1], "
                              "\"init_scale\": [1], \"seed\": 1"),
                   "sweep.json: grid.data_fraction[2]: task.data_fraction = 1: must be a number in (0, 1)");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": [0.3, 1e999], \"weight_decay\": [1], \"init_scale\": [1], "
                              "\"seed\": 1"),
                   "sweep.json: grid.data_fraction[1] = 1e999: must be a finite number");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": [0.3], \"weight_decay\": {\"logspace\": [0, 400, 3]}, "
                              "\"init_scale\": [1], \"seed\": 1"),
                   "sweep.json: grid.weight_decay[2] = inf: must be a finite number");
    expect_message(sweep_text(text, sizeof text, SMALL_BASE, REQUIRED ", \"model.n_layers\": [1, 2]"),
                   "sweep.json: grid.model.n_layers[0]: model.n_layers = 1: applies only when model.kind is "
                   "\"transformer\" (model.kind is \"mlp\")");
    expect_message(sweep_text(text, sizeof text, "\"task\": {\"p\": 12}",
                              REQUIRED ", \"task.op\": [\"x+y\", \"x/y\"]"),
                   "sweep.json: grid.task.op[1]: task.p = 12: must be prime, since task.op \"x/y\" needs a prime");
}

static void test_grid_errors(void) {
    char text[2048];
    /* Each value is fine on the base (p = 59, data_fraction 0.3); one pair is not. */
    expect_message(sweep_text(text, sizeof text, "\"train\": {\"steps\": 10}",
                              "\"data_fraction\": [0.3, 0.001], \"weight_decay\": [1], \"init_scale\": [1], "
                              "\"seed\": 1, \"task.p\": [59, 13]"),
                   "sweep.json: grid point data_fraction=0.001 weight_decay=1 init_scale=1 seed=0 p=13: "
                   "task.data_fraction = 0.001: the split of 169 pairs (task.p = 13) leaves 0 training and 169 test "
                   "examples; need at least 1 of each");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE,
                            REQUIRED ", \"model.kind\": [\"mlp\", \"transformer\"], \"model.width\": [8]"),
                 "sweep.json: grid point data_fraction=0.3 weight_decay=1 init_scale=1 seed=0 kind=transformer "
                 "width=8: model.width = 8: applies only when model.kind is \"mlp\"",
                 NULL, NULL);
    expect_message(sweep_text(text, sizeof text, SMALL_BASE,
                              "\"data_fraction\": {\"linspace\": [0.1, 0.9, 1000000]}, \"weight_decay\": "
                              "{\"logspace\": [-2, 0, 100]}, \"init_scale\": [1], \"seed\": 1"),
                   "sweep.json: grid: 1000000 x 100 x 1 x 1 = 100000000 points, more than the limit of 10000000");
    expect_error(sweep_text(text, sizeof text, SMALL_BASE,
                            "\"data_fraction\": [0.3], \"weight_decay\": [1], \"init_scale\": [1], \"seed\": 1e300"),
                 "grid: 1 x 1 x 1 x 1e+300 = 1e+300 points, more than the limit of 10000000", NULL, NULL);
}

/* A sweep with a 5 x 9 x 3 x 2 x 3 x 2 grid and the given refine member, in buf. */
static const char *refine_text(char *buf, size_t size, const char *refine) {
    snprintf(buf, size,
             "{" SMALL_BASE ", %s, \"grid\": {\"data_fraction\": {\"linspace\": [0.2, 0.6, 5]}, "
             "\"weight_decay\": {\"logspace\": [-2, 0, 9]}, \"init_scale\": [1, 2, 3], \"seed\": 2, "
             "\"model.activation\": [\"relu\", \"quadratic\", \"tanh\"], \"model.bias\": [false, true]}}",
             refine);
    return buf;
}

/* The refine section: axes by coordinate name or path, the stride, the
 * base config and hash, and every class of error. */
static void test_refine(void) {
    char text[2048];
    Sweep sweep, plain;
    if (parse_ok(&sweep, refine_text(text, sizeof text,
                                     "\"refine\": {\"axes\": [\"optimizer.weight_decay\", \"data_fraction\"], "
                                     "\"coarse_stride\": 4}"))) {
        CHECK(sweep.coarse_stride == 4 && sweep.n_refine_axes == 2 && sweep.refine_axes[0] == 1 &&
                  sweep.refine_axes[1] == 0,
              "refine: stride %d, %d axes %d %d", sweep.coarse_stride, sweep.n_refine_axes, sweep.refine_axes[0],
              sweep.refine_axes[1]);
        CHECK(strstr(sweep.base_json, "refine") == NULL, "refine is not part of the base config: %s",
              sweep.base_json);
        if (parse_ok(&plain, refine_text(text, sizeof text, "\"model\": {}"))) {
            CHECK(plain.coarse_stride == 0 && plain.n_refine_axes == 0, "no refine section: no refinement");
            CHECK(plain.hash != sweep.hash, "the refine section is part of the hash");
            sweep_free(&plain);
        }
        sweep_free(&sweep);
    }
    if (parse_ok(&sweep,
                 refine_text(text, sizeof text, "\"refine\": {\"coarse_stride\": 2, \"axes\": [\"init_scale\"]}"))) {
        CHECK(sweep.coarse_stride == 2 && sweep.n_refine_axes == 1 && sweep.refine_axes[0] == 2,
              "a 3-value axis with stride 2");
        sweep_free(&sweep);
    }
    static const char *const allowed = "(data_fraction, weight_decay, init_scale)";
    expect_message(refine_text(text, sizeof text, "\"refine\": [1]"),
                   "sweep.json: refine = [1]: must be an object {\"axes\": [names of grid axes], \"coarse_stride\": "
                   "a power of two >= 2}");
    expect_message(refine_text(text, sizeof text, "\"refine\": {}, \"refine\": {}"),
                   "sweep.json: duplicate key refine");
    expect_message(refine_text(text, sizeof text, "\"refine\": {\"axes\": [\"init_scale\"], \"axes\": []}"),
                   "sweep.json: duplicate key refine.axes");
    expect_message(refine_text(text, sizeof text, "\"refine\": {\"axis\": [\"init_scale\"], \"coarse_stride\": 2}"),
                   "sweep.json: unknown key refine.axis = [\"init_scale\"] (did you mean axes?)");
    expect_error(refine_text(text, sizeof text, "\"refine\": {\"axes\": [\"init_scale\"], \"zzzzzzzz\": 2}"),
                 "sweep.json: unknown key refine.zzzzzzzz = 2 (refine is {\"axes\"", NULL, NULL);
    expect_error(refine_text(text, sizeof text, "\"refine\": {\"axes\": [\"init_scale\"]}"),
                 "sweep.json: refine: missing coarse_stride (refine is {", NULL, NULL);
    expect_error(refine_text(text, sizeof text, "\"refine\": {\"coarse_stride\": 2}"),
                 "sweep.json: refine: missing axes", NULL, NULL);
    static const char *const strides[] = {"3", "1", "0", "-4", "2.5", "\"4\"", "2147483648", "true"};
    for (size_t i = 0; i < sizeof strides / sizeof *strides; i++) {
        char refine[128], message[256];
        snprintf(refine, sizeof refine, "\"refine\": {\"axes\": [\"init_scale\"], \"coarse_stride\": %s}", strides[i]);
        snprintf(message, sizeof message, "sweep.json: refine.coarse_stride = %s: must be an integer power of two >= 2 "
                 "(2, 4, 8, ..., 1073741824)", strides[i]);
        expect_message(refine_text(text, sizeof text, refine), message);
    }
    expect_message(refine_text(text, sizeof text, "\"refine\": {\"axes\": [], \"coarse_stride\": 2}"),
                   "sweep.json: refine.axes = []: must be a non-empty array of grid axis names "
                   "(data_fraction, weight_decay, init_scale)");
    expect_error(refine_text(text, sizeof text, "\"refine\": {\"axes\": \"init_scale\", \"coarse_stride\": 2}"),
                 "sweep.json: refine.axes = \"init_scale\": must be a non-empty array", allowed, NULL);
    expect_message(refine_text(text, sizeof text,
                               "\"refine\": {\"axes\": [\"init_scale\", \"lr\"], \"coarse_stride\": 2}"),
                   "sweep.json: refine.axes[1] = \"lr\": must name a numeric axis of the grid "
                   "(data_fraction, weight_decay, init_scale)");
    expect_error(refine_text(text, sizeof text, "\"refine\": {\"axes\": [3], \"coarse_stride\": 2}"),
                 "sweep.json: refine.axes[0] = 3: must name a numeric axis of the grid", allowed, NULL);
    expect_message(refine_text(text, sizeof text, "\"refine\": {\"axes\": [\"seed\"], \"coarse_stride\": 2}"),
                   "sweep.json: refine.axes[0] = \"seed\": seed cannot be refined: every coordinate is trained for "
                   "all seeds or none (refinable axes: data_fraction, weight_decay, init_scale)");
    expect_error(refine_text(text, sizeof text, "\"refine\": {\"axes\": [\"train.seed\"], \"coarse_stride\": 2}"),
                 "refine.axes[0] = \"train.seed\": seed cannot be refined", NULL, NULL);
    expect_message(refine_text(text, sizeof text,
                               "\"refine\": {\"axes\": [\"model.activation\"], \"coarse_stride\": 2}"),
                   "sweep.json: refine.axes[0] = \"model.activation\": the axis activation holds strings; only "
                   "numeric axes can be refined (data_fraction, weight_decay, init_scale)");
    expect_error(refine_text(text, sizeof text, "\"refine\": {\"axes\": [\"bias\"], \"coarse_stride\": 2}"),
                 "refine.axes[0] = \"bias\": the axis bias holds booleans; only numeric axes", NULL, NULL);
    expect_message(refine_text(text, sizeof text,
                               "\"refine\": {\"axes\": [\"weight_decay\", \"optimizer.weight_decay\"], "
                               "\"coarse_stride\": 2}"),
                   "sweep.json: refine.axes[1] = \"optimizer.weight_decay\": the same axis as refine.axes[0]");
    if (parse_ok(&sweep, refine_text(text, sizeof text,
                                     "\"refine\": {\"axes\": [\"weight_decay\"], \"coarse_stride\": 8}"))) {
        CHECK(sweep.coarse_stride == 8 && sweep.n_refine_axes == 1, "9 values take a stride of 8");
        sweep_free(&sweep);
    }
    expect_message(refine_text(text, sizeof text,
                               "\"refine\": {\"axes\": [\"data_fraction\", \"weight_decay\"], \"coarse_stride\": 8}"),
                   "sweep.json: refine.coarse_stride = 8: the refined axis data_fraction has 5 values; it needs a "
                   "multiple of 8 plus one (at least 9 values)");
    expect_message(refine_text(text, sizeof text, "\"refine\": {\"axes\": [\"init_scale\"], \"coarse_stride\": 4}"),
                   "sweep.json: refine.coarse_stride = 4: the refined axis init_scale has 3 values; it needs a "
                   "multiple of 4 plus one (at least 5 values)");
    snprintf(text, sizeof text,
             "{" SMALL_BASE ", \"refine\": {\"axes\": [\"weight_decay\"], \"coarse_stride\": 4}, \"grid\": "
             "{\"data_fraction\": [0.3], \"weight_decay\": {\"logspace\": [-2, 0, 15]}, \"init_scale\": [1], "
             "\"seed\": 1}}");
    expect_message(text, "sweep.json: refine.coarse_stride = 4: the refined axis weight_decay has 15 values; it needs "
                         "a multiple of 4 plus one (13 or 17 values)");
}

/* A sweep over data_fraction values `fractions` and 3 seeds with the given
 * refine member ("" for none), in buf. */
static const char *extend_text(char *buf, size_t size, const char *fractions, const char *refine) {
    snprintf(buf, size,
             "{" SMALL_BASE "%s, \"grid\": {\"data_fraction\": %s, \"weight_decay\": {\"logspace\": [-2, 0, 5]}, "
             "\"init_scale\": [1], \"seed\": 3}}",
             refine, fractions);
    return buf;
}

/* A sweep that differs from another only by a finer grid and a refine
 * section, or by another refine section, extends it (sweep_embed). */
static void test_refine_extends(void) {
    char text[1024];
    Sweep coarse, fine, restrided;
    if (!parse_ok(&coarse, extend_text(text, sizeof text, "[0.2, 0.4, 0.6]", ""))) return;
    if (!parse_ok(&fine, extend_text(text, sizeof text, "[0.2, 0.3, 0.4, 0.5, 0.6]",
                                     ", \"refine\": {\"axes\": [\"data_fraction\", \"weight_decay\"], "
                                     "\"coarse_stride\": 2}"))) {
        sweep_free(&coarse);
        return;
    }
    long map[3 * 5 * 3];
    char why[512] = "";
    CHECK(sweep_embed(&coarse, &fine, map, why, sizeof why) == 0, "a finer grid with refine extends: %s", why);
    /* coarse point (df 0.4, wd index 3, seed 2) -> fine (df index 2, wd 3, seed 2) */
    CHECK(map[(1 * 5 + 3) * 3 + 2] == (2 * 5 + 3) * 3 + 2, "mapped to %ld", map[(1 * 5 + 3) * 3 + 2]);
    if (parse_ok(&restrided, extend_text(text, sizeof text, "[0.2, 0.3, 0.4, 0.5, 0.6]",
                                         ", \"refine\": {\"axes\": [\"weight_decay\"], \"coarse_stride\": 4}"))) {
        long same[5 * 5 * 3];
        CHECK(restrided.hash != fine.hash, "another refine section is another sweep");
        CHECK(sweep_embed(&fine, &restrided, same, why, sizeof why) == 0, "another refine section extends: %s", why);
        bool identity = true;
        for (long p = 0; p < fine.n_points; p++) identity = identity && same[p] == p;
        CHECK(identity, "the same grid maps point to point");
        sweep_free(&restrided);
    }
    sweep_free(&fine);
    sweep_free(&coarse);
}

/* Every point's config, as sweep_point_config() builds it from the base
 * and the axis values read once, is the one config_parse() gives for the
 * base text and the point's overrides (compared as config_to_json(), which
 * holds every key). Up to about 5000 points of the grid, evenly spread. */
static void expect_points_as_parsed(const char *text, const char *what) {
    Sweep sweep;
    char err[1024] = "";
    if (sweep_parse(&sweep, text, what, err, sizeof err) != 0) {
        CHECK(0, "%s: %s", what, err);
        return;
    }
    CHECK(sweep.base_template != NULL, "%s: the base config is read once", what);
    long stride = sweep.n_points / 5000 + 1, compared = 0, differ = 0;
    for (long p = 0; p < sweep.n_points; p += stride) {
        int indices[SWEEP_MAX_AXES];
        const char *overrides[SWEEP_MAX_AXES];
        sweep_point_indices(&sweep, p, indices);
        for (int a = 0; a < sweep.n_axes; a++) overrides[a] = sweep.axes[a].overrides[indices[a]];
        RunConfig fast, parsed;
        int fast_rc = sweep_point_config(&sweep, p, &fast, err, sizeof err);
        int parsed_rc = config_parse(&parsed, sweep.base_json, what, overrides, sweep.n_axes, err, sizeof err);
        char *fast_json = fast_rc == 0 ? config_to_json(&fast) : NULL;
        char *parsed_json = parsed_rc == 0 ? config_to_json(&parsed) : NULL;
        bool same = fast_json && parsed_json && strcmp(fast_json, parsed_json) == 0;
        if (!same && differ++ == 0)
            CHECK(0, "%s: point %ld: %s\n  vs config_parse: %s", what, p, fast_json ? fast_json : "(failed)",
                  parsed_json ? parsed_json : err);
        free(fast_json);
        free(parsed_json);
        compared++;
    }
    CHECK(differ == 0, "%s: %ld of %ld points differ from config_parse", what, differ, compared);
    sweep_free(&sweep);
}

/* Reading values once gives config_parse's configs: on grids over kinds
 * (defaults that depend on model.kind, keys dropped when an axis switches
 * kind), strings, booleans, pairs and paths, and on every shipped sweep. */
static void test_read_once(void) {
    char text[4096];
    expect_points_as_parsed(valid_json, "valid_json");
    expect_points_as_parsed(sweep_text(text, sizeof text,
                                       "\"task\": {\"p\": 13}, \"model\": {\"width\": 16}, "
                                       "\"train\": {\"steps\": 10}",
                                       REQUIRED ", \"model.kind\": [\"mlp\", \"transformer\"], "
                                       "\"loss\": [\"mse\", \"cross_entropy\"], \"train.fixed_norm\": [false, true], "
                                       "\"optimizer.warmup_steps\": [0, 10]"),
                            "kinds");
    expect_points_as_parsed(sweep_text(text, sizeof text,
                                       "\"task\": {\"kind\": \"images\", \"test_size\": 100}, "
                                       "\"model\": {\"input\": \"dense\"}, \"train\": {\"steps\": 10}",
                                       "\"train_size\": [100, 200], \"weight_decay\": [0, 0.1], "
                                       "\"init_scale\": [1, 8], \"seed\": 2, "
                                       "\"task.train_images\": [\"a.idx\", \"b.idx.gz\"]"),
                            "images");
    DIR *dir = opendir(GROKSWEEP_SOURCE_DIR "/sweeps");
    CHECK(dir != NULL, "%s/sweeps: %s", GROKSWEEP_SOURCE_DIR, strerror(errno));
    int shipped = 0;
    for (struct dirent *entry; dir && (entry = readdir(dir)) != NULL;) {
        size_t len = strlen(entry->d_name);
        if (len < 5 || strcmp(entry->d_name + len - 5, ".json") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/sweeps/%s", GROKSWEEP_SOURCE_DIR, entry->d_name);
        char *file_text = config_read_file(path, text, sizeof text);
        CHECK(file_text != NULL, "%s", text);
        if (!file_text) continue;
        if (strstr(file_text, "\"grid\"")) /* not the run configs */
            expect_points_as_parsed(file_text, path);
        shipped += strstr(file_text, "\"grid\"") != NULL;
        free(file_text);
    }
    if (dir) closedir(dir);
    CHECK(shipped >= 8, "read %d shipped sweeps", shipped);
}

int main(void) {
    test_axes();
    test_points();
    test_hash();
    test_load();
    test_structure_errors();
    test_name_errors();
    test_form_errors();
    test_value_errors();
    test_grid_errors();
    test_refine();
    test_refine_extends();
    test_read_once();
    return test_finish();
}
