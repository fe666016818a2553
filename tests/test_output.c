/* The sweep's HDF5 output: write a few points of a hand-built sweep, reopen
 * the file with the HDF5 C API and check values, fill values, attributes,
 * dimension scales and storage properties.
 *
 * usage: test_output FILE.h5   (left in place for tests/output_readers.py,
 * which checks the same file from h5py and xarray; keep the two in step) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "output.h"
#include "test_util.h"

#define N_EVAL 4

static double data_fraction[] = {0.2, 0.3, 0.5};
static double weight_decay[] = {0.1, 1.0};
static double init_scale[] = {1.0, 2.0};
static double seed[] = {0, 1};
static double bias[] = {0, 1};
static char *activation[] = {"relu", "gelu"};
static int eval_steps[N_EVAL] = {0, 10, 20, 30};
static char sweep_text[] = "{\"task\": {\"op\": \"x+y\", \"p\": 59},\n"
                           " \"grid\": {\"data_fraction\": [0.2, 0.3, 0.5], \"weight_decay\": [0.1, 1],\n"
                           "          \"init_scale\": [1, 2], \"seed\": 2, \"model.bias\": [false, true],\n"
                           "          \"model.activation\": [\"relu\", \"gelu\"]}}";

/* Axes: data_fraction 3, weight_decay 2, init_scale 2, seed 2, bias 2, activation 2: 96 points. */
enum { P_DONE = 0, P_NEVER = 5, P_DIVERGED = 37, P_INFERRED = 40, P_FAILED = 63 };
static const long UNWRITTEN[] = {1, 36, 64, 80, 95}; /* 64..95: data_fraction 0.5, a curve chunk never written */

static void set_axis(SweepAxis *a, const char *name, const char *path, AxisKind kind, int length, double *numbers,
                     char **strings) {
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->path, sizeof a->path, "%s", path);
    a->kind = kind;
    a->length = length;
    a->numbers = numbers;
    a->strings = strings;
}

static void build_sweep(Sweep *s) {
    memset(s, 0, sizeof *s);
    s->text = sweep_text;
    config_defaults(&s->base); /* x+y mod 59, as sweep_text says */
    s->n_axes = 6;
    set_axis(&s->axes[0], "data_fraction", "task.data_fraction", AXIS_REAL, 3, data_fraction, NULL);
    set_axis(&s->axes[1], "weight_decay", "optimizer.weight_decay", AXIS_REAL, 2, weight_decay, NULL);
    set_axis(&s->axes[2], "init_scale", "model.init_scale", AXIS_REAL, 2, init_scale, NULL);
    set_axis(&s->axes[3], "seed", "train.seed", AXIS_INT, 2, seed, NULL);
    set_axis(&s->axes[4], "bias", "model.bias", AXIS_BOOL, 2, bias, NULL);
    set_axis(&s->axes[5], "activation", "model.activation", AXIS_STRING, 2, NULL, activation);
    s->n_points = 96;
    s->n_eval = N_EVAL;
    s->eval_steps = eval_steps;
}

static const OutputProvenance PROVENANCE = {"0.1.0", "OpenBLAS 0.3.21 NO_AFFINITY Haswell MAX_THREADS=64",
                                            "Haswell", 3, "2026-11-23T09:30:05Z", "4242",
                                            "groksweep run sweep.json -o 'out file.h5'"};

/* Curve value of series s at evaluation k of a point (distinct everywhere). */
static float curve_value(long point, int s, int k) { return (float)(point * 100 + s * 10 + k) + 0.5f; }

static void fill_done(PointResult *r, long point) {
    point_result_clear(r);
    r->status = POINT_DONE;
    r->phase = PHASE_GROKKING;
    int train[] = {10, 10, 20, 20}, test[] = {450, 540, 570, 610};
    for (int k = 0; k < N_ACC_LEVELS; k++) {
        r->train_acc_step[k] = train[k];
        r->test_acc_step[k] = test[k];
    }
    r->final_train_loss = 5e-4f;
    r->final_test_loss = 1.1e-2f;
    r->final_train_acc = 1.0f;
    r->final_test_acc = 0.995f;
    r->final_weight_norm = 44.147f;
    r->steps_run = 650;
    r->wall_seconds = 1.5f;
    for (int s = 0; s < CURVE_SERIES; s++)
        for (int k = 0; k < N_EVAL; k++) r->curve[s * N_EVAL + k] = curve_value(point, s, k);
}

/* ---- reading back ---------------------------------------------------------------------------- */

/* One element of a per-point variable (or curve entry k when k >= 0). */
static int read_at(hid_t file, const char *name, long point, int k, hid_t mtype, void *value) {
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t space = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[8], start[8], count[8];
    H5Sget_simple_extent_dims(space, dims, NULL);
    int n_axes = k >= 0 ? rank - 1 : rank;
    long rest = point;
    for (int i = n_axes - 1; i >= 0; i--) {
        start[i] = (hsize_t)rest % dims[i];
        rest /= (long)dims[i];
        count[i] = 1;
    }
    if (k >= 0) {
        start[rank - 1] = (hsize_t)k;
        count[rank - 1] = 1;
    }
    hsize_t one = 1;
    hid_t mem = H5Screate_simple(1, &one, NULL);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
    herr_t rc = H5Dread(ds, mtype, mem, space, H5P_DEFAULT, value);
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(ds);
    return rc < 0 ? -1 : 0;
}

static int read_i8(hid_t f, const char *name, long point) {
    int8_t v = 99;
    return read_at(f, name, point, -1, H5T_NATIVE_INT8, &v) < 0 ? -100 : v;
}

static long read_i32(hid_t f, const char *name, long point) {
    int32_t v = 99;
    return read_at(f, name, point, -1, H5T_NATIVE_INT32, &v) < 0 ? -100 : v;
}

static float read_f32(hid_t f, const char *name, long point) {
    float v = 99;
    return read_at(f, name, point, -1, H5T_NATIVE_FLOAT, &v) < 0 ? -100.0f : v;
}

static float read_curve(hid_t f, const char *name, long point, int k) {
    float v = 99;
    return read_at(f, name, point, k, H5T_NATIVE_FLOAT, &v) < 0 ? -100.0f : v;
}

/* A text attribute into buf ("" if missing, or not fixed-length UTF-8
 * text: variable-length strings are what Octave and netCDF classic cannot
 * read). */
static void attr_string(hid_t obj, const char *name, char *buf, size_t size) {
    buf[0] = 0;
    if (H5Aexists(obj, name) <= 0) return;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    size_t length = H5Tget_size(t);
    if (H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0 && H5Tget_cset(t) == H5T_CSET_UTF8 &&
        length < size) {
        hid_t mem = H5Tcopy(t);
        H5Tset_size(mem, length + 1);
        H5Tset_strpad(mem, H5T_STR_NULLTERM);
        if (H5Aread(a, mem, buf) < 0) buf[0] = 0;
        H5Tclose(mem);
    }
    H5Tclose(t);
    H5Aclose(a);
}

/* A numeric attribute: its file type must equal `ftype`; up to n values read as double. Returns the count, or -1. */
static int attr_numbers(hid_t obj, const char *name, hid_t ftype, double *values, int n) {
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a), space = H5Aget_space(a);
    int count = (int)H5Sget_simple_extent_npoints(space);
    int ok = H5Tequal(t, ftype) > 0 && count <= n && H5Aread(a, H5T_NATIVE_DOUBLE, values) >= 0;
    H5Sclose(space);
    H5Tclose(t);
    H5Aclose(a);
    return ok ? count : -1;
}

static int has_attr(hid_t obj, const char *name) { return H5Aexists(obj, name) > 0; }

static const char *const AXES[] = {"data_fraction", "weight_decay", "init_scale", "seed", "bias", "activation"};
static const char *const POINT_VARS[] = {
    "status", "phase", "train_acc_step_50", "train_acc_step_90", "train_acc_step_95", "train_acc_step_99",
    "test_acc_step_50", "test_acc_step_90", "test_acc_step_95", "test_acc_step_99", "final_train_loss",
    "final_test_loss", "final_train_acc", "final_test_acc", "final_weight_norm", "steps_run", "wall_seconds",
    "grokking_delay_50", "grokking_delay_90", "grokking_delay_95", "grokking_delay_99"};
static const char *const CURVES[] = {"curve_train_loss", "curve_test_loss", "curve_train_acc", "curve_test_acc",
                                     "curve_weight_norm"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Every dimension of var has exactly one scale, the expected coordinate. */
static void check_dimensions(hid_t file, const char *var, int curve) {
    hid_t ds = H5Dopen2(file, var, H5P_DEFAULT);
    CHECK(ds >= 0, "%s exists", var);
    if (ds < 0) return;
    hid_t space = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(space);
    H5Sclose(space);
    CHECK(rank == COUNT(AXES) + curve, "%s has rank %d", var, rank);
    for (int d = 0; d < rank && d < COUNT(AXES) + 1; d++) {
        const char *expected = d < COUNT(AXES) ? AXES[d] : "eval_step";
        hid_t scale = H5Dopen2(file, expected, H5P_DEFAULT);
        CHECK(H5DSget_num_scales(ds, (unsigned)d) == 1, "%s dimension %d has one scale", var, d);
        CHECK(H5DSis_attached(ds, scale, (unsigned)d) > 0, "%s dimension %d is attached to %s", var, d, expected);
        H5Dclose(scale);
    }
    hid_t dcpl = H5Dget_create_plist(ds);
    unsigned order = 0;
    H5Pget_attr_creation_order(dcpl, &order);
    CHECK(order == (H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "%s tracks attribute creation order", var);
    CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED, "%s is chunked", var);
    if (curve) {
        hsize_t chunk[8];
        int n = H5Pget_chunk(dcpl, 8, chunk);
        CHECK(n == rank && chunk[rank - 1] == N_EVAL, "%s chunks hold whole curves", var);
        if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0)
            CHECK(H5Pget_nfilters(dcpl) == 2, "%s is shuffled and deflated", var);
    }
    H5Pclose(dcpl);
    H5Dclose(ds);
}

static void check_coordinates(hid_t file) {
    double *numbers[] = {data_fraction, weight_decay, init_scale, seed, bias};
    hid_t types[] = {H5T_IEEE_F64LE, H5T_IEEE_F64LE, H5T_IEEE_F64LE, H5T_STD_I32LE, H5T_STD_I8LE};
    const char *long_names[] = {"fraction of all input pairs in the training set", "weight decay",
                                "initialization scale (alpha, multiplying the initial weights)",
                                "random seed (initialization, split, batches)", "model.bias", "model.activation"};
    const char *config_keys[] = {"task.data_fraction", "optimizer.weight_decay", "model.init_scale", "train.seed",
                                 "model.bias", "model.activation"};
    char buf[256];
    for (int i = 0; i < COUNT(AXES); i++) {
        hid_t ds = H5Dopen2(file, AXES[i], H5P_DEFAULT);
        CHECK(ds >= 0, "coordinate %s exists", AXES[i]);
        if (ds < 0) continue;
        CHECK(H5DSis_scale(ds) > 0, "%s is a dimension scale", AXES[i]);
        char scale_name[64] = "";
        H5DSget_scale_name(ds, scale_name, sizeof scale_name);
        CHECK(strcmp(scale_name, AXES[i]) == 0, "%s scale name: %s", AXES[i], scale_name);
        attr_string(ds, "long_name", buf, sizeof buf);
        CHECK(strcmp(buf, long_names[i]) == 0, "%s long_name: \"%s\"", AXES[i], buf);
        attr_string(ds, "config_key", buf, sizeof buf);
        CHECK(strcmp(buf, config_keys[i]) == 0, "%s config_key: \"%s\"", AXES[i], buf);
        hid_t t = H5Dget_type(ds);
        if (i < 5) {
            CHECK(H5Tequal(t, types[i]) > 0, "%s has its dtype", AXES[i]);
            double v[3] = {-1, -1, -1};
            H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
            CHECK(v[0] == numbers[i][0] && v[1] == numbers[i][1], "%s values: %g %g", AXES[i], v[0], v[1]);
            attr_string(ds, "units", buf, sizeof buf);
            CHECK(i == 4 ? buf[0] == 0 : strcmp(buf, "1") == 0, "%s units: \"%s\"", AXES[i], buf);
        } else {
            CHECK(H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0 && H5Tget_cset(t) == H5T_CSET_UTF8,
                  "%s is a variable-length UTF-8 string", AXES[i]);
            char *v[2] = {NULL, NULL};
            hid_t space = H5Dget_space(ds);
            if (H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
                CHECK(v[0] && v[1] && strcmp(v[0], "relu") == 0 && strcmp(v[1], "gelu") == 0, "%s values", AXES[i]);
                H5Dvlen_reclaim(t, space, H5P_DEFAULT, v);
            } else {
                CHECK(0, "reading %s", AXES[i]);
            }
            H5Sclose(space);
        }
        H5Tclose(t);
        H5Dclose(ds);
    }
    hid_t ds = H5Dopen2(file, "eval_step", H5P_DEFAULT);
    CHECK(ds >= 0 && H5DSis_scale(ds) > 0, "eval_step is a dimension scale");
    if (ds >= 0) {
        hid_t t = H5Dget_type(ds);
        CHECK(H5Tequal(t, H5T_STD_I32LE) > 0, "eval_step is int32");
        H5Tclose(t);
        int v[N_EVAL] = {0};
        H5Dread(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        CHECK(memcmp(v, eval_steps, sizeof v) == 0, "eval_step values");
        attr_string(ds, "units", buf, sizeof buf);
        CHECK(strcmp(buf, "1") == 0, "eval_step units: \"%s\"", buf);
        H5Dclose(ds);
    }
}

static void check_attributes(hid_t file) {
    char buf[1024];
    double v[8];
    attr_string(file, "format", buf, sizeof buf);
    CHECK(strcmp(buf, "groksweep-sweep") == 0, "format: \"%s\"", buf);
    CHECK(attr_numbers(file, "format_version", H5T_STD_I32LE, v, 8) == 1 && v[0] == 2, "format_version is int32 2");
    CHECK(attr_numbers(file, "mpi_ranks", H5T_STD_I32LE, v, 8) == 1 && v[0] == 3, "mpi_ranks is int32 3");
    attr_string(file, "sweep", buf, sizeof buf);
    CHECK(strcmp(buf, sweep_text) == 0, "sweep text: \"%s\"", buf);
    const char *strings[][2] = {{"groksweep_version", "0.1.0"},
                                {"blas_config", PROVENANCE.blas_config},
                                {"blas_core", "Haswell"},
                                {"created", "2026-11-23T09:30:05Z"},
                                {"slurm_job_id", "4242"},
                                {"Conventions", "CF-1.8"},
                                {"title", "grokking phase diagram of x+y mod 59 over data_fraction x weight_decay x "
                                          "init_scale x seed x bias x activation"},
                                {"history", "2026-11-23T09:30:05Z: groksweep run sweep.json -o 'out file.h5'"},
                                {"source", "groksweep 0.1.0"},
                                {"date_created", "2026-11-23T09:30:05Z"}};
    for (int i = 0; i < COUNT(strings); i++) {
        attr_string(file, strings[i][0], buf, sizeof buf);
        CHECK(strcmp(buf, strings[i][1]) == 0, "%s: \"%s\"", strings[i][0], buf);
    }
    /* The file's creation list does not show it after reopening; the root group's does. */
    hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
    hid_t gcpl = H5Gget_create_plist(root);
    unsigned links = 0, attrs = 0;
    H5Pget_link_creation_order(gcpl, &links);
    H5Pget_attr_creation_order(gcpl, &attrs);
    CHECK(links == (H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) && links == attrs,
          "the root group tracks creation order: links %u, attributes %u", links, attrs);
    H5Pclose(gcpl);
    H5Gclose(root);

    hid_t status = H5Dopen2(file, "status", H5P_DEFAULT), phase = H5Dopen2(file, "phase", H5P_DEFAULT);
    CHECK(!has_attr(status, "_FillValue") && !has_attr(phase, "_FillValue"), "no _FillValue on status and phase");
    CHECK(attr_numbers(status, "flag_values", H5T_STD_I8LE, v, 8) == 5 && v[0] == 0 && v[3] == 3 && v[4] == 4,
          "status flag_values int8 0..4");
    attr_string(status, "flag_meanings", buf, sizeof buf);
    CHECK(strcmp(buf, "not_run done diverged failed inferred") == 0, "status flag_meanings: \"%s\"", buf);
    attr_string(status, "comment", buf, sizeof buf);
    CHECK(strstr(buf, "inferred (4): never trained") != NULL, "status comment: \"%s\"", buf);
    CHECK(attr_numbers(phase, "flag_values", H5T_STD_I8LE, v, 8) == 5 && v[0] == 0 && v[4] == 4,
          "phase flag_values int8 0..4");
    attr_string(phase, "flag_meanings", buf, sizeof buf);
    CHECK(strcmp(buf, "none comprehension grokking memorization confusion") == 0, "phase flag_meanings: \"%s\"", buf);
    H5Dclose(status);
    H5Dclose(phase);

    for (int i = 0; i < COUNT(POINT_VARS); i++) {
        hid_t ds = H5Dopen2(file, POINT_VARS[i], H5P_DEFAULT);
        attr_string(ds, "long_name", buf, sizeof buf);
        CHECK(buf[0] != 0, "%s has a long_name", POINT_VARS[i]);
        H5Dclose(ds);
    }
    hid_t ds = H5Dopen2(file, "train_acc_step_50", H5P_DEFAULT);
    CHECK(attr_numbers(ds, "_FillValue", H5T_STD_I32LE, v, 8) == 1 && v[0] == -1, "crossing _FillValue int32 -1");
    attr_string(ds, "comment", buf, sizeof buf);
    CHECK(strcmp(buf, "missing (-1): never reached, or the point was not run (status says which)") == 0,
          "crossing comment: \"%s\"", buf);
    attr_string(ds, "units", buf, sizeof buf);
    CHECK(strcmp(buf, "1") == 0, "crossing units: \"%s\"", buf);
    H5Dclose(ds);
    ds = H5Dopen2(file, "grokking_delay_90", H5P_DEFAULT);
    CHECK(attr_numbers(ds, "_FillValue", H5T_STD_I32LE, v, 8) == 1 && v[0] == -2147483647,
          "delay _FillValue int32 -2147483647");
    H5Dclose(ds);
    ds = H5Dopen2(file, "steps_run", H5P_DEFAULT);
    CHECK(attr_numbers(ds, "_FillValue", H5T_STD_I32LE, v, 8) == 1 && v[0] == -1, "steps_run _FillValue -1");
    H5Dclose(ds);
    const char *floats[] = {"final_test_loss", "wall_seconds", "curve_test_acc"};
    for (int i = 0; i < COUNT(floats); i++) {
        ds = H5Dopen2(file, floats[i], H5P_DEFAULT);
        CHECK(attr_numbers(ds, "_FillValue", H5T_IEEE_F32LE, v, 8) == 1 && isnan(v[0]), "%s _FillValue float32 NaN",
              floats[i]);
        hid_t t = H5Dget_type(ds);
        CHECK(H5Tequal(t, H5T_IEEE_F32LE) > 0, "%s is float32", floats[i]);
        H5Tclose(t);
        H5Dclose(ds);
    }
    ds = H5Dopen2(file, "wall_seconds", H5P_DEFAULT);
    attr_string(ds, "units", buf, sizeof buf);
    CHECK(strcmp(buf, "s") == 0, "wall_seconds units: \"%s\"", buf);
    H5Dclose(ds);
}

static void check_values(hid_t file) {
    /* A run that grokked. */
    CHECK(read_i8(file, "status", P_DONE) == POINT_DONE, "done: status");
    CHECK(read_i8(file, "phase", P_DONE) == PHASE_GROKKING, "done: phase");
    CHECK(read_i32(file, "train_acc_step_90", P_DONE) == 10, "done: train_acc_step_90");
    CHECK(read_i32(file, "test_acc_step_99", P_DONE) == 610, "done: test_acc_step_99");
    CHECK(read_i32(file, "grokking_delay_90", P_DONE) == 530 && read_i32(file, "grokking_delay_99", P_DONE) == 590,
          "done: grokking delays = test minus train crossing");
    CHECK(read_i32(file, "steps_run", P_DONE) == 650, "done: steps_run");
    CHECK(read_f32(file, "final_test_acc", P_DONE) == 0.995f, "done: final_test_acc");
    CHECK(read_f32(file, "wall_seconds", P_DONE) == 1.5f, "done: wall_seconds");
    for (int s = 0; s < COUNT(CURVES); s++)
        for (int k = 0; k < N_EVAL; k++)
            CHECK(read_curve(file, CURVES[s], P_DONE, k) == curve_value(P_DONE, s, k), "done: %s[%d]", CURVES[s], k);
    /* Memorized: test accuracy never crossed. */
    CHECK(read_i8(file, "phase", P_NEVER) == PHASE_MEMORIZATION, "never: phase");
    CHECK(read_i32(file, "test_acc_step_50", P_NEVER) == -1, "never: test_acc_step_50 is -1");
    CHECK(read_i32(file, "train_acc_step_50", P_NEVER) == 10, "never: train_acc_step_50");
    CHECK(read_i32(file, "grokking_delay_50", P_NEVER) == -2147483647, "never: no grokking delay");
    CHECK(read_curve(file, "curve_weight_norm", P_NEVER, 3) == curve_value(P_NEVER, 4, 3), "never: curve");
    /* Diverged: NaN losses, the curve NaN after the divergence. */
    CHECK(read_i8(file, "status", P_DIVERGED) == POINT_DIVERGED, "diverged: status");
    CHECK(isnan(read_f32(file, "final_train_loss", P_DIVERGED)), "diverged: final_train_loss NaN");
    CHECK(read_i32(file, "steps_run", P_DIVERGED) == 17, "diverged: steps_run");
    CHECK(read_curve(file, "curve_train_loss", P_DIVERGED, 1) == curve_value(P_DIVERGED, 0, 1), "diverged: curve");
    CHECK(isnan(read_curve(file, "curve_train_loss", P_DIVERGED, 2)), "diverged: curve NaN after divergence");
    /* Failed. */
    CHECK(read_i8(file, "status", P_FAILED) == POINT_FAILED, "failed: status");
    CHECK(read_i32(file, "test_acc_step_50", P_FAILED) == -1, "failed: test_acc_step_50");
    CHECK(isnan(read_f32(file, "final_test_acc", P_FAILED)), "failed: final_test_acc NaN");
    /* Inferred: status and phase, every other value at fill as for a point not run. */
    CHECK(read_i8(file, "status", P_INFERRED) == POINT_INFERRED, "inferred: status");
    CHECK(read_i8(file, "phase", P_INFERRED) == PHASE_COMPREHENSION, "inferred: phase");
    CHECK(read_i32(file, "train_acc_step_90", P_INFERRED) == -1 && read_i32(file, "test_acc_step_99", P_INFERRED) == -1,
          "inferred: crossings fill");
    CHECK(read_i32(file, "grokking_delay_90", P_INFERRED) == -2147483647, "inferred: no grokking delay");
    CHECK(read_i32(file, "steps_run", P_INFERRED) == -1, "inferred: steps_run fill");
    CHECK(isnan(read_f32(file, "final_test_acc", P_INFERRED)) && isnan(read_f32(file, "wall_seconds", P_INFERRED)),
          "inferred: final values and wall time NaN");
    for (int s = 0; s < COUNT(CURVES); s++)
        for (int k = 0; k < N_EVAL; k++)
            CHECK(isnan(read_curve(file, CURVES[s], P_INFERRED, k)), "inferred: %s[%d] NaN", CURVES[s], k);
    /* Not run: fill values, also in a curve chunk that was never written. */
    for (int i = 0; i < COUNT(UNWRITTEN); i++) {
        long p = UNWRITTEN[i];
        CHECK(read_i8(file, "status", p) == POINT_NOT_RUN, "point %ld: status not run", p);
        CHECK(read_i8(file, "phase", p) == PHASE_NONE, "point %ld: phase none", p);
        CHECK(read_i32(file, "train_acc_step_50", p) == -1, "point %ld: train_acc_step_50 fill", p);
        CHECK(read_i32(file, "test_acc_step_99", p) == -1, "point %ld: test_acc_step_99 fill", p);
        CHECK(read_i32(file, "grokking_delay_90", p) == -2147483647, "point %ld: grokking_delay_90 fill", p);
        CHECK(read_i32(file, "steps_run", p) == -1, "point %ld: steps_run fill", p);
        CHECK(isnan(read_f32(file, "final_weight_norm", p)), "point %ld: final_weight_norm NaN", p);
        CHECK(isnan(read_f32(file, "wall_seconds", p)), "point %ld: wall_seconds NaN", p);
        CHECK(isnan(read_curve(file, "curve_test_acc", p, 0)), "point %ld: curve NaN", p);
    }
    hid_t ds = H5Dopen2(file, "curve_test_loss", H5P_DEFAULT);
    hid_t space = H5Dget_space(ds);
    hsize_t chunks = 0;
    H5Dget_num_chunks(ds, space, &chunks);
    H5Sclose(space);
    CHECK(chunks == 1, "curve chunks allocated: %llu (the data_fraction = 0.5 chunk is never written)",
          (unsigned long long)chunks);
    H5Dclose(ds);
}

/* Errors come back as messages naming the file; nothing is left behind. */
static void check_errors(const char *path) {
    static Sweep sweep;
    build_sweep(&sweep);
    char err[512] = "";
    const char *missing = "/nonexistent-directory/out.h5";
    OutputFile *out = output_create(missing, &sweep, &PROVENANCE, err, sizeof err);
    CHECK(out == NULL && strstr(err, missing) && strstr(err, "creating the file"), "unwritable path: %s", err);
    if (out) output_close(out, err, sizeof err);

    char bad[1024];
    snprintf(bad, sizeof bad, "%s.bad.h5", path);
    snprintf(sweep.axes[1].name, sizeof sweep.axes[1].name, "status");
    err[0] = 0;
    out = output_create(bad, &sweep, &PROVENANCE, err, sizeof err);
    CHECK(out == NULL && strstr(err, "\"status\""), "axis named like a variable: %s", err);
    snprintf(sweep.axes[1].name, sizeof sweep.axes[1].name, "weight decay");
    out = output_create(bad, &sweep, &PROVENANCE, err, sizeof err);
    CHECK(out == NULL && strstr(err, "not a valid variable name"), "invalid axis name: %s", err);
    FILE *f = fopen(bad, "rb");
    CHECK(f == NULL, "no file left behind");
    if (f) fclose(f);

    /* No Slurm: no slurm_job_id attribute. */
    build_sweep(&sweep);
    OutputProvenance p = PROVENANCE;
    p.slurm_job_id = NULL;
    char small[1024];
    snprintf(small, sizeof small, "%s.noslurm.h5", path);
    out = output_create(small, &sweep, &p, err, sizeof err);
    CHECK(out != NULL, "create %s: %s", small, err);
    if (out) CHECK(output_close(out, err, sizeof err) == 0, "close: %s", err);
    hid_t file = H5Fopen(small, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file >= 0 && !has_attr(file, "slurm_job_id") && has_attr(file, "created"), "no slurm_job_id without Slurm");
    if (file >= 0) H5Fclose(file);
    remove(small);
}

/* output_create never overwrites a file, nor follows a symbolic link, at
 * its path (the caller builds the output under a fresh name). */
static void refuses_existing_files(const char *path, const Sweep *sweep) {
    char err[512], other[1024], link[1024];
    snprintf(other, sizeof other, "%s.user", path);
    snprintf(link, sizeof link, "%s.link", path);
    FILE *f = fopen(other, "w");
    if (f) fputs("a user's file", f), fclose(f);
    remove(link);
    CHECK(symlink(other, link) == 0, "make a symbolic link");
    CHECK(output_create(other, sweep, &PROVENANCE, err, sizeof err) == NULL && strstr(err, "exists"),
          "an existing file is refused: %s", err);
    CHECK(output_create(link, sweep, &PROVENANCE, err, sizeof err) == NULL, "a symbolic link is not followed");
    char text[32] = "";
    f = fopen(other, "r");
    if (f) fgets(text, sizeof text, f), fclose(f);
    CHECK(strcmp(text, "a user's file") == 0, "the file and the link's target are untouched: %s", text);
    remove(link);
    remove(other);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_output FILE.h5\n");
        return 2;
    }
    const char *path = argv[1];
    static Sweep sweep;
    build_sweep(&sweep);
    char err[512] = "";
    remove(path);
    OutputFile *out = output_create(path, &sweep, &PROVENANCE, err, sizeof err);
    CHECK(out != NULL, "output_create: %s", err);
    if (!out) return test_finish();
    refuses_existing_files(path, &sweep);

    PointResult r;
    if (point_result_init(&r, N_EVAL, 0) < 0) return 1;
    fill_done(&r, P_DONE);
    CHECK(output_write_point(out, P_DONE, &r, err, sizeof err) == 0, "write done: %s", err);

    fill_done(&r, P_NEVER);
    r.phase = PHASE_MEMORIZATION;
    for (int k = 0; k < N_ACC_LEVELS; k++) r.test_acc_step[k] = -1;
    r.final_test_acc = 0.02f;
    CHECK(output_write_point(out, P_NEVER, &r, err, sizeof err) == 0, "write never: %s", err);

    fill_done(&r, P_DIVERGED);
    r.status = POINT_DIVERGED;
    r.phase = PHASE_NONE;
    for (int k = 0; k < N_ACC_LEVELS; k++) r.train_acc_step[k] = r.test_acc_step[k] = -1;
    r.final_train_loss = r.final_test_loss = r.final_weight_norm = NAN;
    r.final_train_acc = r.final_test_acc = 0.0f;
    r.steps_run = 17;
    for (int s = 0; s < CURVE_SERIES; s++)
        for (int k = 2; k < N_EVAL; k++) r.curve[s * N_EVAL + k] = NAN;
    CHECK(output_write_point(out, P_DIVERGED, &r, err, sizeof err) == 0, "write diverged: %s", err);

    point_result_failed(&r);
    CHECK(output_write_point(out, P_FAILED, &r, err, sizeof err) == 0, "write failed: %s", err);

    point_result_inferred(&r, PHASE_COMPREHENSION);
    CHECK(!point_result_valid(&r), "an inferred record is never a valid journal or message record");
    CHECK(output_write_point(out, P_INFERRED, &r, err, sizeof err) == 0, "write inferred: %s", err);
    point_result_free(&r);
    CHECK(output_close(out, err, sizeof err) == 0, "output_close: %s", err);

    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file >= 0, "reopen %s", path);
    if (file >= 0) {
        check_coordinates(file);
        for (int i = 0; i < COUNT(POINT_VARS); i++) check_dimensions(file, POINT_VARS[i], 0);
        for (int i = 0; i < COUNT(CURVES); i++) check_dimensions(file, CURVES[i], 1);
        check_attributes(file);
        check_values(file);
        H5Fclose(file);
    }
    check_errors(path);
    return test_finish();
}
