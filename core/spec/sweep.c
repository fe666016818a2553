/* Sweep files: reading the grid's axes, validating every value and every
 * grid point through config_parse(), and mapping point indices to configs.
 *
 * Parsing runs in phases, so that a bad file costs little: the base config;
 * each axis's name and form and its length (no values yet); the required
 * axes and the size of the grid; each axis value alone on top of the base;
 * and last every grid point. */
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "error.h"
#include "rng.h"

#define COUNT_OF(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* Values quoted in messages are cut to this many bytes. */
#define VALUE_TEXT_CAPACITY 96
/* Room for a config_parse message that is rewritten to name the grid. */
#define MESSAGE_CAPACITY 1024
/* Room for a point's label in messages. */
#define LABEL_CAPACITY 512

/* The axes with short names: the data axis (data_fraction for the
 * arithmetic task, train_size for the others), then the axes every sweep
 * has. */
static const char *const short_names[] = {"data_fraction", "train_size", "weight_decay", "init_scale", "seed"};
static const char *const short_paths[] = {"task.data_fraction", "task.train_size", "optimizer.weight_decay",
                                          "model.init_scale", "train.seed"};
_Static_assert(sizeof short_names == sizeof short_paths, "one path per short axis name");
#define FIRST_COMMON_AXIS 2 /* short_names[2..] are required in every sweep */

/* Keys that cannot be axes: the evaluation schedule, which every point
 * shares, and the task kind, which decides the data axis, and the feature
 * ranks recorded, which decide the file's layout. */
static const char *const schedule_paths[] = {"train.steps", "train.eval_every"};
static const char *const fixed_paths[] = {"task.kind", "train.feature_rank"};

#define AXIS_FORMS "a non-empty array of values, {\"linspace\": [a, b, n]} or {\"logspace\": [a, b, n]}"

/* How an axis gives its values. */
typedef enum {
    FORM_LIST,     /* a JSON array of values */
    FORM_LINSPACE, /* n evenly spaced numbers from a to b */
    FORM_LOGSPACE, /* 10^x for x in linspace(a, b, n) */
    FORM_COUNT     /* seed count n: 0 .. n-1 */
} FormKind;

/* One grid member while it is read: its name as written and its form. */
typedef struct {
    const char *written;
    FormKind form;
    const cJSON *list; /* FORM_LIST: the array */
    double a, b, n;    /* FORM_LINSPACE / FORM_LOGSPACE: a, b, n; FORM_COUNT: n */
} AxisInput;

/* Turn every number under item into raw JSON text that reads back as the
 * same double (cJSON prints only 15 digits when they come within
 * DBL_EPSILON); out-of-range numbers, parsed as infinities, print as
 * 1e999 or -1e999. Returns false when memory runs out. */
static bool make_numbers_exact(cJSON *item) {
    if (cJSON_IsNumber(item)) {
        char text[32];
        if (isfinite(item->valuedouble))
            config_format_real(item->valuedouble, text, sizeof text);
        else
            snprintf(text, sizeof text, "%s1e999", item->valuedouble < 0 ? "-" : "");
        cJSON *raw = cJSON_CreateRaw(text);
        if (!raw) return false;
        item->type = cJSON_Raw;
        item->valuestring = raw->valuestring; /* allocated by cJSON, freed with item */
        raw->valuestring = NULL;
        cJSON_Delete(raw);
        return true;
    }
    for (cJSON *child = item->child; child; child = child->next)
        if (!make_numbers_exact(child)) return false;
    return true;
}

/* Compact JSON text of item with exact numbers, newly malloc'd; NULL when
 * memory runs out. */
static char *exact_json(const cJSON *item) {
    cJSON *copy = cJSON_Duplicate(item, true);
    char *text = copy && make_numbers_exact(copy) ? cJSON_PrintUnformatted(copy) : NULL;
    cJSON_Delete(copy);
    return text;
}

/* exact_json() of item for a message, cut with "..." to fit buf (size >= 4). */
static void format_value(const cJSON *item, char *buf, size_t size) { error_fit_value(buf, size, exact_json(item)); }

/* Format a count of values or points: exact while it is, else %.3g. */
static void format_count(double count, char *buf, size_t size) {
    snprintf(buf, size, count < 1e15 ? "%.0f" : "%.3g", count);
}

/* A config_parse message without its origin ("--set: " or "<source>: "),
 * so that it can be put behind the grid position it came from. */
static const char *strip_origin(const char *message, const char *source) {
    static const char set_origin[] = "--set: ";
    size_t n = strlen(source);
    if (strncmp(message, set_origin, sizeof set_origin - 1) == 0) return message + sizeof set_origin - 1;
    if (strncmp(message, source, n) == 0 && strncmp(message + n, ": ", 2) == 0) return message + n + 2;
    return message;
}

/* Resolve the grid member `written` to its config path and kind, and check
 * it against the axes before it (indices 0 .. n_axes-1 of sweep->axes and
 * inputs). Fills axis name, path and kind. Returns 0 or -1. */
static int resolve_axis(Sweep *sweep, const AxisInput *inputs, const cJSON *member, const char *source, char *err,
                        size_t errlen) {
    const char *written = member->string;
    SweepAxis *axis = &sweep->axes[sweep->n_axes];
    const char *path = written;
    for (int i = 0; i < COUNT_OF(short_names); i++)
        if (strcmp(written, short_names[i]) == 0) path = short_paths[i];
    ConfigKeyType type = config_key_type(path);
    if (type == CONFIG_KEY_NONE) {
        char value[VALUE_TEXT_CAPACITY], hint[64];
        format_value(member, value, sizeof value);
        config_suggest_key(written, short_names, COUNT_OF(short_names), hint, sizeof hint);
        if (*hint) return error_format(err, errlen, "%s: unknown axis grid.%s = %s (did you mean %s?)", source, written,
                               value, hint);
        return error_format(err, errlen,
                    "%s: unknown axis grid.%s = %s (an axis is data_fraction, train_size, weight_decay, init_scale, "
                    "seed or the dotted path of a scalar config key; see groksweep train --help)",
                    source, written, value);
    }
    if (type == CONFIG_KEY_ARRAY)
        return error_format(err, errlen, "%s: grid.%s: %s holds an array and cannot be an axis; set it in the base config",
                    source, written, path);
    for (int i = 0; i < COUNT_OF(schedule_paths); i++)
        if (strcmp(path, schedule_paths[i]) == 0)
            return error_format(err, errlen,
                        "%s: grid.%s: %s cannot be an axis: every grid point shares one evaluation schedule (the "
                        "curves' eval_step coordinate); set it in the base config",
                        source, written, path);
    for (int i = 0; i < COUNT_OF(fixed_paths); i++)
        if (strcmp(path, fixed_paths[i]) == 0)
            return error_format(err, errlen, "%s: grid.%s: %s cannot be an axis: it decides the layout of the sweep "
                                "and its file; set it in the base config (one sweep per value)",
                                source, written, path);
    const char *dot = strrchr(path, '.');
    const char *name = dot ? dot + 1 : path;
    ASSERT(strlen(path) < sizeof axis->path);
    for (int i = 0; i < sweep->n_axes; i++) {
        if (strcmp(sweep->axes[i].path, path) == 0)
            return error_format(err, errlen, "%s: grid.%s: duplicate axis: grid.%s already varies %s", source, written,
                        inputs[i].written, path);
        if (strcmp(sweep->axes[i].name, name) == 0)
            return error_format(err, errlen,
                        "%s: grid.%s: the coordinate name \"%s\" is already that of grid.%s (an axis is named by "
                        "the last component of its path)",
                        source, written, name, inputs[i].written);
    }
    snprintf(axis->path, sizeof axis->path, "%s", path);
    snprintf(axis->name, sizeof axis->name, "%s", name);
    axis->kind = type == CONFIG_KEY_REAL ? AXIS_REAL
                 : type == CONFIG_KEY_INT ? AXIS_INT
                 : type == CONFIG_KEY_BOOL ? AXIS_BOOL
                                          : AXIS_STRING;
    return 0;
}

/* Report that `item`, the value of grid member `written`, is no axis form
 * (`seed` also takes a count). Returns -1. */
static int reject_form(const char *written, const cJSON *item, bool seed, const char *source, char *err,
                       size_t errlen) {
    char value[VALUE_TEXT_CAPACITY];
    format_value(item, value, sizeof value);
    return error_format(err, errlen, "%s: grid.%s = %s: must be %s%s", source, written, value, AXIS_FORMS,
                seed ? ", or a count of seeds k >= 1 (meaning 0 .. k-1)" : "");
}

/* Read the form of the axis value `item` (of the axis at `path`, named
 * `written`) into *in, and its number of values into *length (a double: it
 * may be far too large for an int). Returns 0 or -1. */
static int read_form(AxisInput *in, double *length, const cJSON *item, const char *path, const char *source,
                     char *err, size_t errlen) {
    const char *written = in->written;
    bool seed = strcmp(path, "train.seed") == 0;
    if (cJSON_IsArray(item) && cJSON_GetArraySize(item) > 0) {
        in->form = FORM_LIST;
        in->list = item;
        *length = cJSON_GetArraySize(item);
        return 0;
    }
    if (seed && cJSON_IsNumber(item) && isfinite(item->valuedouble) && item->valuedouble >= 1 &&
        item->valuedouble == floor(item->valuedouble)) {
        in->form = FORM_COUNT;
        *length = in->n = item->valuedouble;
        return 0;
    }
    if (!cJSON_IsObject(item)) return reject_form(written, item, seed, source, err, errlen);
    for (const cJSON *member = item->child; member; member = member->next)
        for (const cJSON *earlier = item->child; earlier != member; earlier = earlier->next)
            if (strcmp(earlier->string, member->string) == 0)
                return error_format(err, errlen, "%s: duplicate key grid.%s.%s", source, written, member->string);
    const cJSON *spec = item->child;
    if (!spec || spec->next) return reject_form(written, item, seed, source, err, errlen);
    if (strcmp(spec->string, "linspace") == 0)
        in->form = FORM_LINSPACE;
    else if (strcmp(spec->string, "logspace") == 0)
        in->form = FORM_LOGSPACE;
    else
        return error_format(err, errlen, "%s: grid.%s: unknown form \"%s\" (an axis object is {\"linspace\": [a, b, n]} "
                    "or {\"logspace\": [a, b, n]})", source, written, spec->string);
    const cJSON *a = cJSON_GetArrayItem(spec, 0), *b = cJSON_GetArrayItem(spec, 1), *n = cJSON_GetArrayItem(spec, 2);
    if (!cJSON_IsArray(spec) || cJSON_GetArraySize(spec) != 3 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
        !cJSON_IsNumber(n) || !isfinite(a->valuedouble) || !isfinite(b->valuedouble) || !(n->valuedouble >= 1) ||
        n->valuedouble != floor(n->valuedouble) || isinf(n->valuedouble)) {
        char value[VALUE_TEXT_CAPACITY];
        format_value(spec, value, sizeof value);
        return error_format(err, errlen, "%s: grid.%s.%s = %s: must be [a, b, n]: numbers a and b and a count n >= 1",
                    source, written, spec->string, value);
    }
    in->a = a->valuedouble;
    in->b = b->valuedouble;
    *length = in->n = n->valuedouble;
    return 0;
}

/* Value i of a linspace / logspace / count axis. */
static double generated_value(const AxisInput *in, int i) {
    if (in->form == FORM_COUNT) return i;
    double x = in->n == 1 ? in->a : i == (int)in->n - 1 ? in->b : in->a + (in->b - in->a) * i / (in->n - 1);
    return in->form == FORM_LOGSPACE ? pow(10, x) : x;
}

/* Build, validate (alone on top of the base) and store value i of axis a:
 * the JSON item of a list, or the generated number when item is NULL.
 * Returns 0 or -1. */
static int add_value(Sweep *sweep, int a, int i, const AxisInput *in, const cJSON *item, const char *source,
                     char *err, size_t errlen) {
    SweepAxis *axis = &sweep->axes[a];
    double number = item ? (cJSON_IsNumber(item) ? item->valuedouble : 0) : generated_value(in, i);
    char value[VALUE_TEXT_CAPACITY];
    if (item && (cJSON_IsArray(item) || cJSON_IsObject(item))) {
        format_value(item, value, sizeof value);
        return error_format(err, errlen, "%s: grid.%s[%d] = %s: must be a single value (a number, string or boolean)",
                    source, in->written, i, value);
    }
    if ((!item || cJSON_IsNumber(item)) && !isfinite(number)) {
        if (item) format_value(item, value, sizeof value);
        return error_format(err, errlen, "%s: grid.%s[%d] = %s: must be a finite number", source, in->written, i,
                    item ? value : number > 0 ? "inf" : "-inf");
    }
    char *text = NULL;
    if (item) {
        text = exact_json(item);
    } else {
        char number_text[32];
        config_format_real(number, number_text, sizeof number_text);
        text = strdup(number_text);
    }
    size_t size = text ? strlen(axis->path) + 1 + strlen(text) + 1 : 0;
    axis->overrides[i] = text ? malloc(size) : NULL;
    if (!axis->overrides[i]) {
        free(text);
        return error_format(err, errlen, "%s: out of memory reading grid.%s", source, in->written);
    }
    snprintf(axis->overrides[i], size, "%s=%s", axis->path, text);
    free(text);
    RunConfig cfg;
    char message[MESSAGE_CAPACITY];
    const char *override = axis->overrides[i];
    if (config_parse(&cfg, sweep->base_json, source, &override, 1, message, sizeof message) != 0)
        return error_format(err, errlen, "%s: grid.%s[%d]: %s", source, in->written, i, strip_origin(message, source));
    switch (axis->kind) {
    case AXIS_REAL:
    case AXIS_INT: axis->numbers[i] = number; break;
    case AXIS_BOOL: axis->numbers[i] = cJSON_IsTrue(item); break;
    case AXIS_STRING:
        /* config_parse accepted it for a string key; model.layernorm also
         * reads false and true, recorded by the names they stand for */
        ASSERT(item && (cJSON_IsString(item) || cJSON_IsBool(item)));
        axis->strings[i] = strdup(cJSON_IsString(item) ? item->valuestring : config_enum_value_name(&cfg, axis->path));
        if (!axis->strings[i]) return error_format(err, errlen, "%s: out of memory reading grid.%s", source, in->written);
        break;
    }
    return 0;
}

/* Allocate the value arrays of axis a for `length` values and fill them
 * from its form, validating each value. Returns 0 or -1. */
static int expand_axis(Sweep *sweep, int a, const AxisInput *in, int length, const char *source, char *err,
                       size_t errlen) {
    SweepAxis *axis = &sweep->axes[a];
    axis->length = length;
    axis->overrides = calloc((size_t)length, sizeof *axis->overrides);
    if (axis->kind == AXIS_STRING)
        axis->strings = calloc((size_t)length, sizeof *axis->strings);
    else
        axis->numbers = calloc((size_t)length, sizeof *axis->numbers);
    if (!axis->overrides || (!axis->strings && !axis->numbers))
        return error_format(err, errlen, "%s: out of memory reading grid.%s", source, in->written);
    const cJSON *item = in->form == FORM_LIST ? in->list->child : NULL;
    for (int i = 0; i < length; i++, item = item ? item->next : NULL) {
        if (add_value(sweep, a, i, in, item, source, err, errlen)) return -1;
        ASSERT(axis->overrides[i]);
        for (int k = 0; k < i; k++) {
            bool same = axis->kind == AXIS_STRING ? strcmp(axis->strings[k], axis->strings[i]) == 0
                                                  : axis->numbers[k] == axis->numbers[i];
            if (same)
                return error_format(err, errlen,
                                    "%s: grid.%s[%d] = %s: the same value as grid.%s[%d]; the values of an axis must "
                                    "be distinct (each is a coordinate of the output)",
                                    source, in->written, i, strchr(axis->overrides[i], '=') + 1, in->written, k);
        }
    }
    return 0;
}

/* The overrides of a point (sweep->n_axes of them) into overrides. */
static void point_overrides(const Sweep *sweep, long point, const char **overrides) {
    int indices[SWEEP_MAX_AXES];
    sweep_point_indices(sweep, point, indices);
    for (int a = 0; a < sweep->n_axes; a++) overrides[a] = sweep->axes[a].overrides[indices[a]];
}

/* Read the base config and every axis value once (sweep->base_template,
 * axis->read_overrides), so that a point's config costs no JSON parsing.
 * Leaves base_template NULL when something could not be read that way: the
 * points are then parsed from text. */
static void read_once(Sweep *sweep, const char *source) {
    sweep->base_template = config_template_new(sweep->base_json, source);
    for (int a = 0; a < sweep->n_axes && sweep->base_template; a++) {
        SweepAxis *axis = &sweep->axes[a];
        axis->read_overrides = calloc((size_t)axis->length, sizeof *axis->read_overrides);
        bool ok = axis->read_overrides != NULL;
        for (int i = 0; ok && i < axis->length; i++)
            ok = (axis->read_overrides[i] = config_override_new(axis->overrides[i])) != NULL;
        if (!ok) {
            config_template_free(sweep->base_template);
            sweep->base_template = NULL;
        }
    }
}

/* A point's config from the values read once: 0, or -1 (without a message)
 * when they were not read or the point is invalid. */
static int point_config_fast(const Sweep *sweep, long point, RunConfig *cfg) {
    if (!sweep->base_template) return -1;
    int indices[SWEEP_MAX_AXES];
    const ConfigOverride *overrides[SWEEP_MAX_AXES];
    sweep_point_indices(sweep, point, indices);
    for (int a = 0; a < sweep->n_axes; a++) overrides[a] = sweep->axes[a].read_overrides[indices[a]];
    return config_template_apply(sweep->base_template, overrides, sweep->n_axes, cfg);
}

/* Read the grid object's axes into sweep, check the grid's size, then
 * validate every value and every point. Needs sweep->base_json. Returns 0
 * or -1. */
static int parse_grid(Sweep *sweep, const cJSON *grid, const char *source, char *err, size_t errlen) {
    if (!cJSON_IsObject(grid)) {
        char value[VALUE_TEXT_CAPACITY];
        format_value(grid, value, sizeof value);
        return error_format(err, errlen, "%s: grid = %s: must be a JSON object of axes", source, value);
    }
    AxisInput inputs[SWEEP_MAX_AXES];
    double lengths[SWEEP_MAX_AXES], n_points = 1;
    for (const cJSON *member = grid->child; member; member = member->next) {
        for (const cJSON *earlier = grid->child; earlier != member; earlier = earlier->next)
            if (strcmp(earlier->string, member->string) == 0)
                return error_format(err, errlen, "%s: duplicate key grid.%s", source, member->string);
        int a = sweep->n_axes;
        if (a == SWEEP_MAX_AXES)
            return error_format(err, errlen, "%s: grid.%s: a grid has at most %d axes", source, member->string,
                        SWEEP_MAX_AXES);
        inputs[a] = (AxisInput){.written = member->string};
        if (resolve_axis(sweep, inputs, member, source, err, errlen) ||
            read_form(&inputs[a], &lengths[a], member, sweep->axes[a].path, source, err, errlen))
            return -1;
        n_points *= lengths[a];
        sweep->n_axes++;
    }
    int data_axis = task_is_algebraic(sweep->base.task.kind) ? 0 : 1;
    for (int r = 0; r < COUNT_OF(short_names); r++) {
        if (r < FIRST_COMMON_AXIS && r != data_axis) continue;
        bool found = false;
        for (int a = 0; a < sweep->n_axes; a++) found = found || strcmp(sweep->axes[a].path, short_paths[r]) == 0;
        if (!found)
            return error_format(err, errlen, "%s: grid: missing axis %s (required axes for task.kind \"%s\": %s, "
                                "weight_decay, init_scale, seed)", source, short_names[r],
                                task_kind_name(sweep->base.task.kind), short_names[data_axis]);
    }
    if (n_points > SWEEP_MAX_POINTS) {
        char sizes[LABEL_CAPACITY] = "", count[32];
        size_t used = 0;
        for (int a = 0; a < sweep->n_axes && used < sizeof sizes; a++) {
            format_count(lengths[a], count, sizeof count);
            used += (size_t)snprintf(sizes + used, sizeof sizes - used, "%s%s", a ? " x " : "", count);
        }
        format_count(n_points, count, sizeof count);
        return error_format(err, errlen, "%s: grid: %s = %s points, more than the limit of %ld", source, sizes, count,
                    SWEEP_MAX_POINTS);
    }
    sweep->n_points = (long)n_points;
    for (int a = 0; a < sweep->n_axes; a++)
        if (expand_axis(sweep, a, &inputs[a], (int)lengths[a], source, err, errlen)) return -1;
    read_once(sweep, source);
    const char *overrides[SWEEP_MAX_AXES];
    for (long p = 0; p < sweep->n_points; p++) {
        RunConfig cfg;
        if (point_config_fast(sweep, p, &cfg) == 0) continue;
        char message[MESSAGE_CAPACITY], label[LABEL_CAPACITY];
        point_overrides(sweep, p, overrides);
        if (config_parse(&cfg, sweep->base_json, source, overrides, sweep->n_axes, message, sizeof message) != 0) {
            sweep_point_label(sweep, p, label, sizeof label);
            return error_format(err, errlen, "%s: grid point %s: %s", source, label, strip_origin(message, source));
        }
    }
    return 0;
}

#define REFINE_FORM "{\"axes\": [names of grid axes], \"coarse_stride\": a power of two >= 2}"
#define MAX_COARSE_STRIDE (1 << 30)

/* The numeric grid axes other than seed, "a, b, c", into buf: the axes
 * refine.axes may name. */
static void refinable_axes(const Sweep *sweep, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int a = 0; a < sweep->n_axes && used < size; a++) {
        const SweepAxis *axis = &sweep->axes[a];
        if ((axis->kind != AXIS_REAL && axis->kind != AXIS_INT) || strcmp(axis->path, "train.seed") == 0) continue;
        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", axis->name);
    }
}

/* Read refine.coarse_stride (item) into sweep->coarse_stride. Returns 0 or -1. */
static int parse_coarse_stride(Sweep *sweep, const cJSON *item, const char *source, char *err, size_t errlen) {
    double v = cJSON_IsNumber(item) ? item->valuedouble : 0;
    if (!(v >= 2 && v <= MAX_COARSE_STRIDE && v == floor(v) && ((long)v & ((long)v - 1)) == 0)) {
        char value[VALUE_TEXT_CAPACITY];
        format_value(item, value, sizeof value);
        return error_format(err, errlen, "%s: refine.coarse_stride = %s: must be an integer power of two >= 2 (2, 4, "
                            "8, ..., %d)", source, value, MAX_COARSE_STRIDE);
    }
    sweep->coarse_stride = (int)v;
    return 0;
}

/* Read refine.axes (item) into sweep->refine_axes; needs the grid's axes and
 * sweep->coarse_stride. Returns 0 or -1. */
static int parse_refine_axes(Sweep *sweep, const cJSON *item, const char *source, char *err, size_t errlen) {
    char value[VALUE_TEXT_CAPACITY], allowed[LABEL_CAPACITY];
    refinable_axes(sweep, allowed, sizeof allowed);
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) == 0) {
        format_value(item, value, sizeof value);
        return error_format(err, errlen, "%s: refine.axes = %s: must be a non-empty array of grid axis names (%s)",
                            source, value, allowed);
    }
    int i = 0, stride = sweep->coarse_stride;
    for (const cJSON *element = item->child; element; element = element->next, i++) {
        format_value(element, value, sizeof value);
        int found = -1;
        for (int a = 0; a < sweep->n_axes && cJSON_IsString(element); a++)
            if (strcmp(element->valuestring, sweep->axes[a].name) == 0 ||
                strcmp(element->valuestring, sweep->axes[a].path) == 0)
                found = a;
        if (found < 0)
            return error_format(err, errlen, "%s: refine.axes[%d] = %s: must name a numeric axis of the grid (%s)",
                                source, i, value, allowed);
        const SweepAxis *axis = &sweep->axes[found];
        if (strcmp(axis->path, "train.seed") == 0)
            return error_format(err, errlen, "%s: refine.axes[%d] = %s: seed cannot be refined: every coordinate is "
                                "trained for all seeds or none (refinable axes: %s)", source, i, value, allowed);
        if (axis->kind != AXIS_REAL && axis->kind != AXIS_INT)
            return error_format(err, errlen, "%s: refine.axes[%d] = %s: the axis %s holds %s; only numeric axes can be "
                                "refined (%s)", source, i, value, axis->name,
                                axis->kind == AXIS_BOOL ? "booleans" : "strings", allowed);
        for (int k = 0; k < sweep->n_refine_axes; k++)
            if (sweep->refine_axes[k] == found)
                return error_format(err, errlen, "%s: refine.axes[%d] = %s: the same axis as refine.axes[%d]", source,
                                    i, value, k);
        if (axis->length < stride + 1 || (axis->length - 1) % stride != 0) {
            int below = (axis->length - 1) / stride * stride + 1, above = below + stride;
            char lengths[64];
            if (below > stride)
                snprintf(lengths, sizeof lengths, "%d or %d values", below, above);
            else
                snprintf(lengths, sizeof lengths, "at least %d values", above);
            return error_format(err, errlen, "%s: refine.coarse_stride = %d: the refined axis %s has %d values; it "
                                "needs a multiple of %d plus one (%s)", source, stride, axis->name, axis->length,
                                stride, lengths);
        }
        sweep->refine_axes[sweep->n_refine_axes++] = found;
    }
    return 0;
}

/* Read the refine object into sweep (coarse_stride, refine_axes); needs the
 * grid's axes. Returns 0 or -1. */
static int parse_refine(Sweep *sweep, const cJSON *refine, const char *source, char *err, size_t errlen) {
    char value[VALUE_TEXT_CAPACITY];
    if (!cJSON_IsObject(refine)) {
        format_value(refine, value, sizeof value);
        return error_format(err, errlen, "%s: refine = %s: must be an object %s", source, value, REFINE_FORM);
    }
    static const char *const keys[] = {"axes", "coarse_stride"};
    for (const cJSON *member = refine->child; member; member = member->next) {
        for (const cJSON *earlier = refine->child; earlier != member; earlier = earlier->next)
            if (strcmp(earlier->string, member->string) == 0)
                return error_format(err, errlen, "%s: duplicate key refine.%s", source, member->string);
        if (strcmp(member->string, keys[0]) == 0 || strcmp(member->string, keys[1]) == 0) continue;
        char hint[64];
        format_value(member, value, sizeof value);
        config_suggest_key(member->string, keys, COUNT_OF(keys), hint, sizeof hint);
        bool refine_key = strcmp(hint, keys[0]) == 0 || strcmp(hint, keys[1]) == 0;
        return error_format(err, errlen, "%s: unknown key refine.%s = %s (%s%s%s)", source, member->string, value,
                            refine_key ? "did you mean " : "refine is ", refine_key ? hint : REFINE_FORM,
                            refine_key ? "?" : "");
    }
    const cJSON *axes = cJSON_GetObjectItemCaseSensitive(refine, "axes");
    const cJSON *stride = cJSON_GetObjectItemCaseSensitive(refine, "coarse_stride");
    if (!axes || !stride)
        return error_format(err, errlen, "%s: refine: missing %s (refine is %s)", source,
                            axes ? "coarse_stride" : "axes", REFINE_FORM);
    if (parse_coarse_stride(sweep, stride, source, err, errlen) != 0) return -1;
    return parse_refine_axes(sweep, axes, source, err, errlen);
}

/* The evaluation schedule of the base config: 0, e, 2e, ... and the last
 * step. Returns 0 or -1. */
static int fill_eval_steps(Sweep *sweep, const char *source, char *err, size_t errlen) {
    int steps = sweep->base.train.steps, every = sweep->base.train.eval_every;
    sweep->n_eval = steps / every + 1 + (steps % every != 0);
    sweep->eval_steps = malloc(sizeof *sweep->eval_steps * (size_t)sweep->n_eval);
    if (!sweep->eval_steps)
        return error_format(err, errlen, "%s: out of memory for %d evaluation steps", source, sweep->n_eval);
    for (int k = 0; k < sweep->n_eval; k++) sweep->eval_steps[k] = k * every < steps ? k * every : steps;
    return 0;
}

/* The feature-rank series every record holds: the largest model.depth
 * of the grid when train.feature_rank is on (it cannot be an axis), else 0. */
static int rank_layers(const Sweep *sweep) {
    if (!sweep->base.train.feature_rank) return 0;
    int depth = sweep->base.model.depth;
    for (int a = 0; a < sweep->n_axes; a++)
        if (strcmp(sweep->axes[a].path, "model.depth") == 0)
            for (int i = 0; i < sweep->axes[a].length; i++)
                if (sweep->axes[a].numbers[i] > depth) depth = (int)sweep->axes[a].numbers[i];
    return depth;
}

/* Parse the sweep whose JSON tree (an object) is root: every step but the
 * JSON syntax. Detaches "grid" and "refine" from root. Returns 0 or -1. */
static int parse_tree(Sweep *sweep, cJSON *root, const char *text, const char *source, char *err, size_t errlen) {
    cJSON *grid = NULL, *refine = NULL;
    for (cJSON *member = root->child; member; member = member->next) {
        cJSON **slot = strcmp(member->string, "grid") == 0 ? &grid : strcmp(member->string, "refine") == 0 ? &refine
                                                                                                          : NULL;
        if (!slot) continue;
        if (*slot) return error_format(err, errlen, "%s: duplicate key %s", source, member->string);
        *slot = member;
    }
    if (!grid)
        return error_format(err, errlen,
                    "%s: no grid: a sweep file is a run config plus a \"grid\" object of axes (see groksweep "
                    "validate --help)",
                    source);
    char *canonical = exact_json(root);
    sweep->text = strdup(text);
    if (!canonical || !sweep->text) {
        free(canonical);
        return error_format(err, errlen, "%s: out of memory", source);
    }
    sweep->hash = hash_string(canonical);
    free(canonical);
    cJSON_DetachItemViaPointer(root, grid);
    if (refine) cJSON_DetachItemViaPointer(root, refine);
    sweep->base_json = exact_json(root);
    int rc = -1;
    if (!sweep->base_json)
        error_format(err, errlen, "%s: out of memory", source);
    else if (config_parse(&sweep->base, sweep->base_json, source, NULL, 0, err, errlen) == 0 &&
             parse_grid(sweep, grid, source, err, errlen) == 0 &&
             (!refine || parse_refine(sweep, refine, source, err, errlen) == 0))
        rc = fill_eval_steps(sweep, source, err, errlen);
    if (rc == 0) sweep->n_rank_layers = rank_layers(sweep);
    cJSON_Delete(grid);
    cJSON_Delete(refine);
    return rc;
}

int sweep_parse(Sweep *sweep, const char *text, const char *source, char *err, size_t errlen) {
    ASSERT(sweep && text && source && (err || errlen == 0));
    memset(sweep, 0, sizeof *sweep);
    snprintf(sweep->source, sizeof sweep->source, "%s", source);
    if (config_check_text(text, source, err, errlen) != 0) return -1;
    cJSON *root = cJSON_ParseWithOpts(text, NULL, true);
    int rc;
    if (cJSON_IsObject(root)) {
        rc = parse_tree(sweep, root, text, source, err, errlen);
    } else {
        /* Not JSON, or not an object: config_parse words the error (line
         * and column, or the top-level value) as for a run config. */
        RunConfig unused;
        rc = config_parse(&unused, text, source, NULL, 0, err, errlen);
        ASSERT(rc != 0);
    }
    cJSON_Delete(root);
    if (rc) sweep_free(sweep);
    return rc;
}

int sweep_load(Sweep *sweep, const char *path, char *err, size_t errlen) {
    char *text = config_read_file(path, err, errlen);
    if (!text) {
        memset(sweep, 0, sizeof *sweep);
        return -1;
    }
    int rc = sweep_parse(sweep, text, path, err, errlen);
    free(text);
    return rc;
}

/* Frees everything sweep_parse allocated, also in a sweep it left half
 * built, and leaves *sweep empty. */
void sweep_free(Sweep *sweep) {
    for (int a = 0; a < sweep->n_axes; a++) {
        SweepAxis *axis = &sweep->axes[a];
        for (int i = 0; i < axis->length; i++) {
            if (axis->overrides) free(axis->overrides[i]);
            if (axis->read_overrides) config_override_free(axis->read_overrides[i]);
            if (axis->strings) free(axis->strings[i]);
        }
        free(axis->overrides);
        free(axis->read_overrides);
        free(axis->strings);
        free(axis->numbers);
    }
    config_template_free(sweep->base_template);
    free(sweep->text);
    free(sweep->base_json);
    free(sweep->eval_steps);
    memset(sweep, 0, sizeof *sweep);
}

/* The image files a sweep's points read, each checked once. */
typedef struct {
    ImagesConfig files;
    ImagesInfo info;
} CheckedImages;

#define MAX_IMAGE_FILE_SETS 16

int sweep_check_data(const Sweep *sweep, char *err, size_t errlen) {
    if (sweep->base.task.kind != TASK_IMAGES) return 0; /* the other tasks' rules need no files */
    CheckedImages checked[MAX_IMAGE_FILE_SETS];
    int n_checked = 0;
    for (long p = 0; p < sweep->n_points; p++) {
        RunConfig cfg;
        char message[MESSAGE_CAPACITY], label[LABEL_CAPACITY];
        if (sweep_point_config(sweep, p, &cfg, message, sizeof message) != 0)
            return error_format(err, errlen, "%s", message);
        const TaskConfig *task = &cfg.task;
        int found = -1;
        for (int i = 0; i < n_checked && found < 0; i++)
            if (memcmp(&checked[i].files, &task->images, sizeof task->images) == 0) found = i;
        int rc = 0;
        if (found < 0 && n_checked == MAX_IMAGE_FILE_SETS) {
            rc = task_check(task, message, sizeof message);
        } else if (found < 0) {
            memcpy(&checked[n_checked].files, &task->images, sizeof task->images);
            rc = images_check(&task->images, 1, 0, &checked[n_checked].info, message, sizeof message);
            found = n_checked++;
        }
        if (rc == 0 && found >= 0)
            rc = images_check_sizes(&task->images, &checked[found].info, task->train_size, task->test_size, message,
                                    sizeof message);
        if (rc != 0) {
            sweep_point_label(sweep, p, label, sizeof label);
            return error_format(err, errlen, "%s: grid point %s: %s", sweep->source, label, message);
        }
    }
    return 0;
}

void sweep_point_indices(const Sweep *sweep, long point, int *indices) {
    ASSERT(point >= 0 && point < sweep->n_points);
    for (int a = sweep->n_axes - 1; a >= 0; a--) {
        indices[a] = (int)(point % sweep->axes[a].length);
        point /= sweep->axes[a].length;
    }
}

int sweep_point_config(const Sweep *sweep, long point, RunConfig *cfg, char *err, size_t errlen) {
    if (point_config_fast(sweep, point, cfg) == 0) return 0;
    const char *overrides[SWEEP_MAX_AXES];
    char source[LABEL_CAPACITY + 16], label[LABEL_CAPACITY];
    point_overrides(sweep, point, overrides);
    sweep_point_label(sweep, point, label, sizeof label);
    snprintf(source, sizeof source, "grid point %s", label);
    return config_parse(cfg, sweep->base_json, source, overrides, sweep->n_axes, err, errlen);
}

void sweep_point_label(const Sweep *sweep, long point, char *buf, size_t size) {
    int indices[SWEEP_MAX_AXES] = {0};
    sweep_point_indices(sweep, point, indices);
    size_t used = 0;
    if (size > 0) buf[0] = '\0';
    for (int a = 0; a < sweep->n_axes && used < size; a++) {
        const SweepAxis *axis = &sweep->axes[a];
        int i = indices[a];
        char value[VALUE_TEXT_CAPACITY];
        if (axis->kind == AXIS_STRING)
            snprintf(value, sizeof value, "%s", axis->strings[i]);
        else if (axis->kind == AXIS_BOOL)
            snprintf(value, sizeof value, "%s", axis->numbers[i] != 0 ? "true" : "false");
        else if (axis->kind == AXIS_INT)
            snprintf(value, sizeof value, "%.0f", axis->numbers[i]);
        else
            snprintf(value, sizeof value, "%.6g", axis->numbers[i]);
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", a ? " " : "", axis->name, value);
    }
}
