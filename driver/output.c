#include "output.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "check.h"
#include "hdf5_error.h"
#include "rng.h"

/* Chunking: per-point variables in blocks of about POINT_CHUNK points,
 * curves in blocks of about CURVE_CHUNK points (fewer when a curve is long,
 * so a chunk stays within HDF5's 1 MiB default chunk cache), always the full
 * eval_step extent. Points are written roughly in index order, so blocks are
 * taken from the last (fastest) axes first.
 *
 * Only the curves are compressed (shuffle + deflate): every flush deflates
 * each dirty chunk again, and each deflate costs ~0.3 ms of zlib set-up
 * whatever the chunk's size, while the per-point variables are small. */
#define POINT_CHUNK 256
#define CURVE_CHUNK 64
#define CURVE_CHUNK_BYTES (512 * 1024)
#define DEFLATE_LEVEL 1

_Static_assert(N_ACC_LEVELS == 4, "variable names below spell out the four accuracy levels");
_Static_assert(CURVE_SERIES == 5, "curve names below spell out the five series");

typedef enum { T_INT8, T_INT32, T_FLOAT32 } VarType;

/* The per-point variables, in file order. status comes first in the file but
 * is written last for each point. */
typedef enum {
    V_STATUS,
    V_PHASE,
    V_TRAIN_ACC_STEP,                      /* N_ACC_LEVELS of them */
    V_TEST_ACC_STEP = V_TRAIN_ACC_STEP + N_ACC_LEVELS,
    V_FINAL_TRAIN_LOSS = V_TEST_ACC_STEP + N_ACC_LEVELS,
    V_FINAL_TEST_LOSS,
    V_FINAL_TRAIN_ACC,
    V_FINAL_TEST_ACC,
    V_FINAL_WEIGHT_NORM,
    V_STEPS_RUN,
    V_WALL_SECONDS,
    V_DELAY,                               /* N_ACC_LEVELS of them */
    N_VARS = V_DELAY + N_ACC_LEVELS
} VarIndex;

#define CROSSING_COMMENT "missing (-1): never reached, or the point was not run (status says which)"
#define DELAY_COMMENT "missing: one of the two accuracies never reached the level, or the point was not run"
/* netCDF's default fill for int: a delay can be any other value */
#define DELAY_FILL (-2147483647)

typedef struct {
    const char *name;
    VarType type;
    double fill;
    int fill_attribute;    /* declare _FillValue (not for categories where 0 is a real value) */
    const char *long_name;
    const char *units;     /* NULL: none */
    const char *comment;   /* NULL: none */
} VarSpec;

static const VarSpec VARS[N_VARS] = {
    {"status", T_INT8, 0, 0, "run status", NULL,
     "inferred (4): never trained; phase is that of its refinement cell, whose trained corners all agree; every "
     "other variable is missing"},
    {"phase", T_INT8, 0, 0, "phase of the run", NULL, NULL},
    {"train_acc_step_50", T_INT32, -1, 1, "first evaluation step with train accuracy >= 0.5", "1",
     CROSSING_COMMENT},
    {"train_acc_step_90", T_INT32, -1, 1, "first evaluation step with train accuracy >= 0.9", "1",
     CROSSING_COMMENT},
    {"train_acc_step_95", T_INT32, -1, 1, "first evaluation step with train accuracy >= 0.95", "1",
     CROSSING_COMMENT},
    {"train_acc_step_99", T_INT32, -1, 1, "first evaluation step with train accuracy >= 0.99", "1",
     CROSSING_COMMENT},
    {"test_acc_step_50", T_INT32, -1, 1, "first evaluation step with test accuracy >= 0.5", "1",
     CROSSING_COMMENT},
    {"test_acc_step_90", T_INT32, -1, 1, "first evaluation step with test accuracy >= 0.9", "1",
     CROSSING_COMMENT},
    {"test_acc_step_95", T_INT32, -1, 1, "first evaluation step with test accuracy >= 0.95", "1",
     CROSSING_COMMENT},
    {"test_acc_step_99", T_INT32, -1, 1, "first evaluation step with test accuracy >= 0.99", "1",
     CROSSING_COMMENT},
    {"final_train_loss", T_FLOAT32, NAN, 1, "train loss at the last evaluation", "1", NULL},
    {"final_test_loss", T_FLOAT32, NAN, 1, "test loss at the last evaluation", "1", NULL},
    {"final_train_acc", T_FLOAT32, NAN, 1, "train accuracy at the last evaluation", "1", NULL},
    {"final_test_acc", T_FLOAT32, NAN, 1, "test accuracy at the last evaluation", "1", NULL},
    {"final_weight_norm", T_FLOAT32, NAN, 1, "L2 norm of the parameters at the last evaluation", "1", NULL},
    {"steps_run", T_INT32, -1, 1, "number of optimizer steps run", "1", NULL},
    /* "s", not "seconds": xarray decodes "seconds" into timedelta64. */
    {"wall_seconds", T_FLOAT32, NAN, 1, "wall-clock time of the run", "s", NULL},
    {"grokking_delay_50", T_INT32, DELAY_FILL, 1,
     "grokking delay at accuracy 0.5: test_acc_step_50 minus train_acc_step_50", "1", DELAY_COMMENT},
    {"grokking_delay_90", T_INT32, DELAY_FILL, 1,
     "grokking delay at accuracy 0.9: test_acc_step_90 minus train_acc_step_90", "1", DELAY_COMMENT},
    {"grokking_delay_95", T_INT32, DELAY_FILL, 1,
     "grokking delay at accuracy 0.95: test_acc_step_95 minus train_acc_step_95", "1", DELAY_COMMENT},
    {"grokking_delay_99", T_INT32, DELAY_FILL, 1,
     "grokking delay at accuracy 0.99: test_acc_step_99 minus train_acc_step_99", "1", DELAY_COMMENT},
};

static const int8_t STATUS_FLAGS[] = {POINT_NOT_RUN, POINT_DONE, POINT_DIVERGED, POINT_FAILED, POINT_INFERRED};
static const int8_t PHASE_FLAGS[] = {PHASE_NONE, PHASE_COMPREHENSION, PHASE_GROKKING, PHASE_MEMORIZATION,
                                     PHASE_CONFUSION};

/* In the order of PointResult.curve's series. */
static const char *const CURVE_NAMES[CURVE_SERIES] = {"curve_train_loss", "curve_test_loss", "curve_train_acc",
                                                       "curve_test_acc", "curve_weight_norm"};
static const char *const CURVE_LONG_NAMES[CURVE_SERIES] = {"train loss", "test loss", "train accuracy",
                                                            "test accuracy", "L2 norm of the parameters"};

#define EVAL_STEP_NAME "eval_step"
#define HIDDEN_LAYER_NAME "hidden_layer"
#define FEATURE_RANK_NAME "curve_feature_rank"

/* A buffered point: its index and its slot in the pending arrays. */
typedef struct {
    long point, slot;
} PendingSlot;

/* Buffered points with consecutive indices along the last axis, written
 * with one selection: sorted[first .. first + length). */
typedef struct {
    long first, length;
} PendingRun;

/* Memory the buffered points may take, values and curves. */
#define PENDING_BYTES (32L << 20)

struct OutputFile {
    char *path;
    hid_t file;
    int n_axes;
    long n_points;
    int n_eval;
    hsize_t dims[SWEEP_MAX_AXES + 1];  /* the axes' lengths, then n_eval */
    hid_t coords[SWEEP_MAX_AXES + 1];  /* the axes' coordinates, then eval_step */
    hid_t vars[N_VARS];
    hid_t curves[CURVE_SERIES];
    hid_t point_space, curve_space;    /* file dataspaces, selections set per write */
    /* train.feature_rank: curve_feature_rank (axes..., hidden_layer, eval_step) */
    int n_rank_layers;                 /* 0: no such variable */
    hid_t hidden_layer, feature_rank;  /* the hidden_layer coordinate and the variable */
    hid_t rank_space;                  /* its file dataspace */
    /* points written but not yet in the file (output_write_point buffers, output_flush writes) */
    long pending_capacity, n_pending;
    PendingSlot *pending;              /* (pending_capacity) in arrival order */
    uint32_t *pending_values;          /* (pending_capacity, N_VARS) each variable's value in 4 bytes */
    float *pending_curves;             /* (pending_capacity, CURVE_SERIES + n_rank_layers, n_eval) */
    PendingRun *runs;                  /* (pending_capacity) scratch of write_pending */
    void *run_buffer;                  /* (pending_capacity * max(n_rank_layers, 1) * n_eval floats) scratch */
};

/* ---- the library ----------------------------------------------------------------------------- */

/* An HDF5 file failed to close: the library still holds it, and shutting
 * the library down would crash on it (HDF5 1.10 after a write error). */
static bool library_damaged = false;

bool output_library_damaged(void) { return library_damaged; }

/* ---- errors ---------------------------------------------------------------------------------- */

/* Closes a dataset id if open; returns the result of H5Dclose (0 if not open). */
static herr_t close_dataset(hid_t *id) {
    herr_t rc = 0;
    if (*id >= 0) {
        rc = H5Dclose(*id);
        *id = H5I_INVALID_HID;
    }
    return rc;
}

/* ---- types and attributes -------------------------------------------------------------------- */

static hid_t file_type(VarType t) {
    return t == T_INT8 ? H5T_STD_I8LE : t == T_INT32 ? H5T_STD_I32LE : H5T_IEEE_F32LE;
}

static hid_t memory_type(VarType t) {
    return t == T_INT8 ? H5T_NATIVE_INT8 : t == T_INT32 ? H5T_NATIVE_INT32 : H5T_NATIVE_FLOAT;
}

/* A fixed-length UTF-8 text type of `length` bytes, padded with NULs
 * (caller closes): netCDF reads it as char text, which Octave, nccopy's
 * classic formats and R read too; variable-length strings they drop. */
static hid_t fixed_text_type(size_t length) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, length ? length : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* A variable-length UTF-8 string type (caller closes), for the values of
 * string axes. */
static hid_t utf8_string_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static int attr_string(hid_t obj, const char *name, const char *value, const char *what, const char *path,
                       char *err, size_t errlen) {
    hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    size_t length = strlen(value);
    TRY_H5(type = fixed_text_type(length), "making a string type for attribute %s of %s", name, what);
    TRY_H5(space = H5Screate(H5S_SCALAR), "making a dataspace for attribute %s of %s", name, what);
    TRY_H5(attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), "creating attribute %s of %s",
            name, what);
    TRY_H5(H5Awrite(attr, type, length ? value : "\0"), "writing attribute %s of %s", name, what);
    TRY_H5(H5Aclose(attr), "closing attribute %s of %s", name, what);
    H5Sclose(space);
    H5Tclose(type);
    return 0;
fail:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return -1;
}

/* A numeric attribute: a scalar when n == 1, else a 1-D array. */
static int attr_numbers(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hsize_t n, const void *values,
                        const char *what, const char *path, char *err, size_t errlen) {
    hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    TRY_H5(space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL),
            "making a dataspace for attribute %s of %s", name, what);
    TRY_H5(attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT), "creating attribute %s of %s",
            name, what);
    TRY_H5(H5Awrite(attr, mtype, values), "writing attribute %s of %s", name, what);
    TRY_H5(H5Aclose(attr), "closing attribute %s of %s", name, what);
    H5Sclose(space);
    return 0;
fail:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return -1;
}

static int attr_int32(hid_t obj, const char *name, int32_t value, const char *what, const char *path, char *err,
                      size_t errlen) {
    return attr_numbers(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &value, what, path, err, errlen);
}

/* ---- creation -------------------------------------------------------------------------------- */

static int valid_name(const char *name) {
    if (!((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    return 1;
}

static int reserved_name(const char *name) {
    if (strcmp(name, EVAL_STEP_NAME) == 0 || strcmp(name, HIDDEN_LAYER_NAME) == 0 ||
        strcmp(name, FEATURE_RANK_NAME) == 0)
        return 1;
    for (int v = 0; v < N_VARS; v++)
        if (strcmp(name, VARS[v].name) == 0) return 1;
    for (int s = 0; s < CURVE_SERIES; s++)
        if (strcmp(name, CURVE_NAMES[s]) == 0) return 1;
    return 0;
}

/* Axis names become dataset names: they must be netCDF names, distinct, and
 * not those of the file's variables. */
static int check_axis_names(const Sweep *sweep, const char *path, char *err, size_t errlen) {
    for (int i = 0; i < sweep->n_axes; i++) {
        const char *name = sweep->axes[i].name;
        if (!valid_name(name)) {
            snprintf(err, errlen, "%s: axis name \"%s\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)",
                     path, name);
            return -1;
        }
        if (reserved_name(name)) {
            snprintf(err, errlen, "%s: axis name \"%s\" is the name of an output variable", path, name);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(name, sweep->axes[j].name) == 0) {
                snprintf(err, errlen, "%s: two axes are named \"%s\"", path, name);
                return -1;
            }
    }
    return 0;
}

/* Chunk dimensions over the sweep axes for about `points` points, filled
 * from the last axis backwards. */
static void chunk_over_axes(const hsize_t *dims, int n_axes, hsize_t points, hsize_t *chunk) {
    hsize_t left = points;
    for (int i = n_axes - 1; i >= 0; i--) {
        hsize_t c = dims[i] < left ? dims[i] : left;
        if (c < 1) c = 1;
        chunk[i] = c;
        left /= c;
    }
}

static int deflate_available(void) {
    unsigned config = 0;
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) return 0;
    if (H5Zget_filter_info(H5Z_FILTER_DEFLATE, &config) < 0) return 0;
    return (config & H5Z_FILTER_CONFIG_ENCODE_ENABLED) != 0;
}

/* Dataset creation properties that every dataset gets: attribute creation
 * order tracked and indexed (netCDF-4 requires it). */
static hid_t base_dcpl(void) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0) return dcpl;
    if (H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) {
        H5Pclose(dcpl);
        return H5I_INVALID_HID;
    }
    return dcpl;
}

/* A 1-D coordinate: dataset `name` made a dimension scale, with long_name
 * and, if given, units. */
static hid_t create_coordinate(hid_t file, const char *name, hid_t ftype, hid_t mtype, hsize_t length,
                               const void *values, const char *long_name, const char *units, const char *path,
                               char *err, size_t errlen) {
    hid_t dcpl = H5I_INVALID_HID, space = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    TRY_H5(dcpl = base_dcpl(), "making creation properties for coordinate %s", name);
    TRY_H5(space = H5Screate_simple(1, &length, NULL), "making a dataspace for coordinate %s", name);
    TRY_H5(ds = H5Dcreate2(file, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "creating coordinate %s",
            name);
    TRY_H5(H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), "writing coordinate %s", name);
    TRY_H5(H5DSset_scale(ds, name), "making coordinate %s a dimension scale", name);
    if (attr_string(ds, "long_name", long_name, name, path, err, errlen) < 0) goto fail;
    if (units && attr_string(ds, "units", units, name, path, err, errlen) < 0) goto fail;
    H5Sclose(space);
    H5Pclose(dcpl);
    return ds;
fail:
    if (ds >= 0) H5Dclose(ds);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    return H5I_INVALID_HID;
}

/* Numeric axes are dimensionless (counts of steps too: UDUNITS has no
 * "steps"). */
static const char *axis_units(const SweepAxis *axis) {
    (void)axis;
    return "1";
}

/* What an axis is, in words, for its long_name; NULL for keys without a
 * description here (their long_name is the config key). */
static const char *axis_description(const char *config_path) {
    static const char *const described[][2] = {
        {"task.data_fraction", "fraction of all input pairs in the training set"},
        {"task.train_size", "number of training examples"},
        {"optimizer.weight_decay", "weight decay"},
        {"model.init_scale", "initialization scale (alpha, multiplying the initial weights)"},
        {"train.seed", "random seed (initialization, split, batches)"},
        {"optimizer.lr", "learning rate"},
        {"model.width", "hidden width"},
        {"model.depth", "number of hidden layers"},
        {"task.p", "modulus p"},
        {"task.imbalance", "class imbalance of the training set"},
    };
    for (size_t k = 0; k < sizeof described / sizeof described[0]; k++)
        if (strcmp(config_path, described[k][0]) == 0) return described[k][1];
    return NULL;
}

static int create_axis(OutputFile *out, int i, const SweepAxis *axis, char *err, size_t errlen) {
    const char *path = out->path;
    const char *description = axis_description(axis->path);
    const char *long_name = description ? description : axis->path[0] ? axis->path : axis->name;
    hsize_t n = (hsize_t)axis->length;
    void *buffer = NULL;
    hid_t type = H5I_INVALID_HID;
    hid_t ds = H5I_INVALID_HID;
    switch (axis->kind) {
    case AXIS_REAL:
        ASSERT(axis->numbers != NULL);
        ds = create_coordinate(out->file, axis->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, axis->numbers,
                               long_name, axis_units(axis), path, err, errlen);
        break;
    case AXIS_INT: {
        ASSERT(axis->numbers != NULL);
        int32_t *v = buffer = malloc(sizeof(int32_t) * n);
        if (!v) goto no_memory;
        for (hsize_t k = 0; k < n; k++) {
            ASSERT(axis->numbers[k] >= INT32_MIN && axis->numbers[k] <= INT32_MAX);
            v[k] = (int32_t)axis->numbers[k];
        }
        ds = create_coordinate(out->file, axis->name, H5T_STD_I32LE, H5T_NATIVE_INT32, n, v, long_name,
                               axis_units(axis), path, err, errlen);
        break;
    }
    case AXIS_BOOL: {
        ASSERT(axis->numbers != NULL);
        int8_t *v = buffer = malloc(sizeof(int8_t) * n);
        if (!v) goto no_memory;
        for (hsize_t k = 0; k < n; k++) v[k] = axis->numbers[k] != 0;
        ds = create_coordinate(out->file, axis->name, H5T_STD_I8LE, H5T_NATIVE_INT8, n, v, long_name, NULL, path,
                               err, errlen);
        if (ds >= 0) {
            static const int8_t flags[] = {0, 1};
            if (attr_numbers(ds, "flag_values", H5T_STD_I8LE, H5T_NATIVE_INT8, 2, flags, axis->name, path, err,
                             errlen) < 0 ||
                attr_string(ds, "flag_meanings", "false true", axis->name, path, err, errlen) < 0)
                goto fail;
        }
        break;
    }
    case AXIS_STRING:
        ASSERT(axis->strings != NULL);
        TRY_H5(type = utf8_string_type(), "making a string type for coordinate %s", axis->name);
        ds = create_coordinate(out->file, axis->name, type, type, n, axis->strings, long_name, NULL, path, err,
                               errlen);
        break;
    }
    if (ds < 0) goto fail;
    out->coords[i] = ds;
    if (axis->path[0] && attr_string(ds, "config_key", axis->path, axis->name, path, err, errlen) < 0) goto fail;
    if (type >= 0) H5Tclose(type);
    free(buffer);
    return 0;
no_memory:
    snprintf(err, errlen, "%s: out of memory for coordinate %s", path, axis->name);
fail:
    if (ds >= 0) H5Dclose(ds);
    if (type >= 0) H5Tclose(type);
    free(buffer);
    return -1;
}

/* A variable over the sweep axes (and eval_step when `curve`): chunked,
 * filled with `fill`, every dimension's scale attached. */
static hid_t create_variable(OutputFile *out, const char *name, VarType t, double fill, int curve, int compress,
                             char *err, size_t errlen) {
    const char *path = out->path;
    int rank = out->n_axes + (curve ? 1 : 0);
    hsize_t chunk[SWEEP_MAX_AXES + 1];
    if (curve) {
        hsize_t per_point = (hsize_t)out->n_eval * sizeof(float);
        hsize_t points = CURVE_CHUNK_BYTES / per_point;
        if (points > CURVE_CHUNK) points = CURVE_CHUNK;
        chunk_over_axes(out->dims, out->n_axes, points, chunk);
        chunk[out->n_axes] = (hsize_t)out->n_eval;
    } else {
        chunk_over_axes(out->dims, out->n_axes, POINT_CHUNK, chunk);
    }
    int8_t fill8 = (int8_t)fill;
    int32_t fill32 = (int32_t)fill;
    float fillf = (float)fill;
    const void *fill_value = t == T_INT8 ? (const void *)&fill8 : t == T_INT32 ? (const void *)&fill32 : &fillf;

    hid_t dcpl = H5I_INVALID_HID, space = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    TRY_H5(dcpl = base_dcpl(), "making creation properties for %s", name);
    TRY_H5(H5Pset_chunk(dcpl, rank, chunk), "setting the chunks of %s", name);
    if (compress) {
        TRY_H5(H5Pset_shuffle(dcpl), "setting the shuffle filter of %s", name);
        TRY_H5(H5Pset_deflate(dcpl, DEFLATE_LEVEL), "setting the deflate filter of %s", name);
    }
    TRY_H5(H5Pset_fill_value(dcpl, memory_type(t), fill_value), "setting the fill value of %s", name);
    TRY_H5(space = H5Screate_simple(rank, out->dims, NULL), "making a dataspace for %s", name);
    TRY_H5(ds = H5Dcreate2(out->file, name, file_type(t), space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "creating %s",
            name);
    for (int d = 0; d < rank; d++) {
        hid_t scale = d < out->n_axes ? out->coords[d] : out->coords[out->n_axes];
        TRY_H5(H5DSattach_scale(ds, scale, (unsigned)d), "attaching dimension %d of %s to its coordinate", d, name);
    }
    H5Sclose(space);
    H5Pclose(dcpl);
    return ds;
fail:
    if (ds >= 0) H5Dclose(ds);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    return H5I_INVALID_HID;
}

static int create_point_variables(OutputFile *out, int compress, char *err, size_t errlen) {
    const char *path = out->path;
    for (int v = 0; v < N_VARS; v++) {
        const VarSpec *s = &VARS[v];
        hid_t ds = out->vars[v] = create_variable(out, s->name, s->type, s->fill, 0, compress, err, errlen);
        if (ds < 0) return -1;
        if (attr_string(ds, "long_name", s->long_name, s->name, path, err, errlen) < 0) return -1;
        if (s->units && attr_string(ds, "units", s->units, s->name, path, err, errlen) < 0) return -1;
        if (s->fill_attribute) {
            ASSERT(s->type != T_INT8);
            int32_t fill32 = (int32_t)s->fill;
            float fillf = (float)s->fill;
            int rc = s->type == T_INT32 ? attr_numbers(ds, "_FillValue", H5T_STD_I32LE, H5T_NATIVE_INT32, 1,
                                                       &fill32, s->name, path, err, errlen)
                                        : attr_numbers(ds, "_FillValue", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1,
                                                       &fillf, s->name, path, err, errlen);
            if (rc < 0) return -1;
        }
        if (s->comment && attr_string(ds, "comment", s->comment, s->name, path, err, errlen) < 0) return -1;
    }
    hid_t status = out->vars[V_STATUS], phase = out->vars[V_PHASE];
    if (attr_numbers(status, "flag_values", H5T_STD_I8LE, H5T_NATIVE_INT8, 5, STATUS_FLAGS, "status", path, err,
                     errlen) < 0 ||
        attr_string(status, "flag_meanings", "not_run done diverged failed inferred", "status", path, err, errlen) <
            0 ||
        attr_numbers(phase, "flag_values", H5T_STD_I8LE, H5T_NATIVE_INT8, 5, PHASE_FLAGS, "phase", path, err,
                     errlen) < 0 ||
        attr_string(phase, "flag_meanings", "none comprehension grokking memorization confusion", "phase", path,
                    err, errlen) < 0)
        return -1;
    return 0;
}

static int create_curves(OutputFile *out, int compress, char *err, size_t errlen) {
    const char *path = out->path;
    static const char *const units[CURVE_SERIES] = {"1", "1", "1", "1", "1"};
    for (int s = 0; s < CURVE_SERIES; s++) {
        hid_t ds = out->curves[s] = create_variable(out, CURVE_NAMES[s], T_FLOAT32, NAN, 1, compress, err, errlen);
        float nan = NAN;
        if (ds < 0) return -1;
        if (attr_string(ds, "long_name", CURVE_LONG_NAMES[s], CURVE_NAMES[s], path, err, errlen) < 0 ||
            attr_string(ds, "units", units[s], CURVE_NAMES[s], path, err, errlen) < 0 ||
            attr_numbers(ds, "_FillValue", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &nan, CURVE_NAMES[s], path, err,
                         errlen) < 0)
            return -1;
    }
    return 0;
}

/* curve_feature_rank (axes..., hidden_layer, eval_step) and its
 * hidden_layer coordinate 1 .. n_rank_layers; one point per chunk. */
static int create_feature_rank(OutputFile *out, int compress, char *err, size_t errlen) {
    const char *path = out->path;
    int n = out->n_rank_layers, rank = out->n_axes + 2;
    int32_t layers[MAX_RANK_LAYERS];
    for (int l = 0; l < n; l++) layers[l] = l + 1;
    out->hidden_layer = create_coordinate(out->file, HIDDEN_LAYER_NAME, H5T_STD_I32LE, H5T_NATIVE_INT32, (hsize_t)n,
                                          layers, "hidden layer of the MLP, from the input", "1", path, err, errlen);
    if (out->hidden_layer < 0) return -1;
    hsize_t dims[SWEEP_MAX_AXES + 2], chunk[SWEEP_MAX_AXES + 2];
    for (int i = 0; i < out->n_axes; i++) dims[i] = out->dims[i], chunk[i] = 1;
    dims[out->n_axes] = chunk[out->n_axes] = (hsize_t)n;
    dims[out->n_axes + 1] = chunk[out->n_axes + 1] = (hsize_t)out->n_eval;
    float nan = NAN;
    hid_t dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    TRY_H5(dcpl = base_dcpl(), "making creation properties for %s", FEATURE_RANK_NAME);
    TRY_H5(H5Pset_chunk(dcpl, rank, chunk), "setting the chunks of %s", FEATURE_RANK_NAME);
    if (compress) {
        TRY_H5(H5Pset_shuffle(dcpl), "setting the shuffle filter of %s", FEATURE_RANK_NAME);
        TRY_H5(H5Pset_deflate(dcpl, DEFLATE_LEVEL), "setting the deflate filter of %s", FEATURE_RANK_NAME);
    }
    TRY_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &nan), "setting the fill value of %s", FEATURE_RANK_NAME);
    TRY_H5(out->rank_space = H5Screate_simple(rank, dims, NULL), "making a dataspace for %s", FEATURE_RANK_NAME);
    TRY_H5(ds = out->feature_rank = H5Dcreate2(out->file, FEATURE_RANK_NAME, H5T_IEEE_F32LE, out->rank_space,
                                              H5P_DEFAULT, dcpl, H5P_DEFAULT),
           "creating %s", FEATURE_RANK_NAME);
    for (int d = 0; d < rank; d++) {
        hid_t scale = d < out->n_axes ? out->coords[d] : d == out->n_axes ? out->hidden_layer : out->coords[out->n_axes];
        TRY_H5(H5DSattach_scale(ds, scale, (unsigned)d), "attaching dimension %d of %s to its coordinate", d,
               FEATURE_RANK_NAME);
    }
    H5Pclose(dcpl);
    if (attr_string(ds, "long_name", "rank of the covariance of the hidden layer's activations on the test set",
                    FEATURE_RANK_NAME, path, err, errlen) < 0 ||
        attr_string(ds, "units", "1", FEATURE_RANK_NAME, path, err, errlen) < 0 ||
        attr_numbers(ds, "_FillValue", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &nan, FEATURE_RANK_NAME, path, err,
                     errlen) < 0 ||
        attr_string(ds, "comment", "NaN: not evaluated, or a layer the point's model does not have",
                    FEATURE_RANK_NAME, path, err, errlen) < 0)
        return -1;
    return 0;
fail:
    if (dcpl >= 0) H5Pclose(dcpl);
    return -1;
}

/* The file's title: the task and the grid's axes, e.g. "grokking phase
 * diagram of x+y mod 59 over data_fraction x weight_decay x init_scale x
 * seed". */
static void describe_sweep(const Sweep *sweep, char *buf, size_t size) {
    const TaskConfig *task = &sweep->base.task;
    char described[160];
    task_describe(task, described, sizeof described);
    int used = task_is_algebraic(task->kind)
                   ? snprintf(buf, size, "grokking phase diagram of %s over ", described)
                   : snprintf(buf, size, "grokking phase diagram of task %s over ", task_kind_name(task->kind));
    for (int a = 0; a < sweep->n_axes && used >= 0 && (size_t)used < size; a++)
        used += snprintf(buf + used, size - (size_t)used, "%s%s", a ? " x " : "", sweep->axes[a].name);
}

static int write_provenance(OutputFile *out, const Sweep *sweep, const OutputProvenance *p, char *err,
                            size_t errlen) {
    const char *path = out->path;
    hid_t f = out->file;
    char title[512], history[4096], source[128];
    describe_sweep(sweep, title, sizeof title);
    snprintf(history, sizeof history, "%s: %s", p->created, p->command_line ? p->command_line : "groksweep run");
    snprintf(source, sizeof source, "groksweep %s", p->groksweep_version);
    if (attr_string(f, "Conventions", "CF-1.8", "the file", path, err, errlen) < 0 ||
        attr_string(f, "title", title, "the file", path, err, errlen) < 0 ||
        attr_string(f, "history", history, "the file", path, err, errlen) < 0 ||
        attr_string(f, "source", source, "the file", path, err, errlen) < 0 ||
        attr_string(f, "date_created", p->created, "the file", path, err, errlen) < 0 ||
        attr_string(f, "format", "groksweep-sweep", "the file", path, err, errlen) < 0 ||
        attr_int32(f, "format_version", OUTPUT_FORMAT_VERSION, "the file", path, err, errlen) < 0 ||
        attr_string(f, "groksweep_version", p->groksweep_version, "the file", path, err, errlen) < 0 ||
        attr_string(f, "created", p->created, "the file", path, err, errlen) < 0 ||
        attr_int32(f, "mpi_ranks", p->mpi_ranks, "the file", path, err, errlen) < 0 ||
        (p->slurm_job_id && attr_string(f, "slurm_job_id", p->slurm_job_id, "the file", path, err, errlen) < 0) ||
        attr_string(f, "blas_config", p->blas_config, "the file", path, err, errlen) < 0 ||
        attr_string(f, "blas_core", p->blas_core, "the file", path, err, errlen) < 0 ||
        attr_string(f, "sweep", sweep->text, "the file", path, err, errlen) < 0)
        return -1;
    return 0;
}

/* Closes every id (the file last); returns 0 or -1 with the first failure in err. */
static int close_all(OutputFile *out, char *err, size_t errlen) {
    int rc = 0;
    for (int v = 0; v < N_VARS; v++)
        if (close_dataset(&out->vars[v]) < 0 && rc == 0) {
            hdf5_error_format(err, errlen, out->path, "closing %s", VARS[v].name);
            rc = -1;
        }
    for (int s = 0; s < CURVE_SERIES; s++)
        if (close_dataset(&out->curves[s]) < 0 && rc == 0) {
            hdf5_error_format(err, errlen, out->path, "closing %s", CURVE_NAMES[s]);
            rc = -1;
        }
    if ((close_dataset(&out->feature_rank) < 0 || close_dataset(&out->hidden_layer) < 0) && rc == 0) {
        hdf5_error_format(err, errlen, out->path, "closing %s", FEATURE_RANK_NAME);
        rc = -1;
    }
    for (int i = 0; i <= out->n_axes; i++)
        if (close_dataset(&out->coords[i]) < 0 && rc == 0) {
            hdf5_error_format(err, errlen, out->path, "closing a coordinate");
            rc = -1;
        }
    hid_t *spaces[] = {&out->point_space, &out->curve_space, &out->rank_space};
    for (size_t k = 0; k < sizeof spaces / sizeof spaces[0]; k++)
        if (*spaces[k] >= 0) {
            if (H5Sclose(*spaces[k]) < 0 && rc == 0) {
                hdf5_error_format(err, errlen, out->path, "closing a dataspace");
                rc = -1;
            }
            *spaces[k] = H5I_INVALID_HID;
        }
    if (out->file >= 0) {
        if (H5Fclose(out->file) < 0) {
            library_damaged = true;
            if (rc == 0) hdf5_error_format(err, errlen, out->path, "closing the file");
            rc = -1;
        }
        out->file = H5I_INVALID_HID;
    }
    return rc;
}

static void free_output(OutputFile *out) {
    free(out->pending);
    free(out->pending_values);
    free(out->pending_curves);
    free(out->runs);
    free(out->run_buffer);
    free(out->path);
    free(out);
}

static int alloc_pending(OutputFile *out);

OutputFile *output_create(const char *path, const Sweep *sweep, const OutputProvenance *provenance, char *err,
                          size_t errlen) {
    ASSERT(path && sweep && provenance && sweep->text);
    ASSERT(provenance->groksweep_version && provenance->blas_config && provenance->blas_core &&
           provenance->created);
    ASSERT(sweep->n_axes >= 1 && sweep->n_axes <= SWEEP_MAX_AXES);
    ASSERT(sweep->n_eval >= 1 && sweep->eval_steps);
    long n_points = 1;
    for (int i = 0; i < sweep->n_axes; i++) {
        ASSERT(sweep->axes[i].length >= 1);
        n_points *= sweep->axes[i].length;
    }
    ASSERT(n_points == sweep->n_points);
    if (check_axis_names(sweep, path, err, errlen) < 0) return NULL;

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    OutputFile *out = calloc(1, sizeof *out);
    if (!out || !(out->path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(out);
        return NULL;
    }
    out->file = out->point_space = out->curve_space = H5I_INVALID_HID;
    out->hidden_layer = out->feature_rank = out->rank_space = H5I_INVALID_HID;
    out->n_rank_layers = sweep->n_rank_layers;
    for (int i = 0; i <= SWEEP_MAX_AXES; i++) out->coords[i] = H5I_INVALID_HID;
    for (int v = 0; v < N_VARS; v++) out->vars[v] = H5I_INVALID_HID;
    for (int s = 0; s < CURVE_SERIES; s++) out->curves[s] = H5I_INVALID_HID;
    out->n_axes = sweep->n_axes;
    out->n_points = n_points;
    out->n_eval = sweep->n_eval;
    for (int i = 0; i < sweep->n_axes; i++) out->dims[i] = (hsize_t)sweep->axes[i].length;
    out->dims[sweep->n_axes] = (hsize_t)sweep->n_eval;
    int created = 0;

    /* netCDF-4: creation order tracked and indexed, 1.8-compatible formats at the least. */
    hid_t fcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID;
    TRY_H5(fcpl = H5Pcreate(H5P_FILE_CREATE), "making file creation properties");
    TRY_H5(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
            "setting link creation order");
    TRY_H5(H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
            "setting attribute creation order");
    TRY_H5(fapl = H5Pcreate(H5P_FILE_ACCESS), "making file access properties");
    TRY_H5(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST), "setting format version bounds");
    /* No HDF5 lock on the file, so that h5py, xarray and ncdump open it
     * while the sweep runs without HDF5_USE_FILE_LOCKING=FALSE (the run
     * keeps its own lock on OUT.h5.lock). */
    TRY_H5(H5Pset_file_locking(fapl, 0, 1), "turning HDF5 file locking off");
    TRY_H5(out->file = H5Fcreate(path, H5F_ACC_EXCL, fcpl, fapl), "creating the file");
    created = 1;
    H5Pclose(fapl);
    H5Pclose(fcpl);
    fapl = fcpl = H5I_INVALID_HID;

    if (write_provenance(out, sweep, provenance, err, errlen) < 0) goto fail;
    for (int i = 0; i < sweep->n_axes; i++)
        if (create_axis(out, i, &sweep->axes[i], err, errlen) < 0) goto fail;
    {
        int32_t *steps = malloc(sizeof(int32_t) * (size_t)sweep->n_eval);
        if (!steps) {
            snprintf(err, errlen, "%s: out of memory for coordinate %s", path, EVAL_STEP_NAME);
            goto fail;
        }
        for (int k = 0; k < sweep->n_eval; k++) steps[k] = sweep->eval_steps[k];
        out->coords[sweep->n_axes] =
            create_coordinate(out->file, EVAL_STEP_NAME, H5T_STD_I32LE, H5T_NATIVE_INT32, (hsize_t)sweep->n_eval,
                              steps, "optimizer step of the evaluation", "1", path, err, errlen);
        free(steps);
        if (out->coords[sweep->n_axes] < 0) goto fail;
    }
    int compress = deflate_available();
    if (create_point_variables(out, 0, err, errlen) < 0) goto fail;
    if (create_curves(out, compress, err, errlen) < 0) goto fail;
    if (out->n_rank_layers > 0 && create_feature_rank(out, compress, err, errlen) < 0) goto fail;

    TRY_H5(out->point_space = H5Screate_simple(out->n_axes, out->dims, NULL), "making the points' dataspace");
    TRY_H5(out->curve_space = H5Screate_simple(out->n_axes + 1, out->dims, NULL), "making the curves' dataspace");
    if (alloc_pending(out) != 0) {
        snprintf(err, errlen, "%s: out of memory for the buffer of points to write", path);
        goto fail;
    }
    TRY_H5(H5Fflush(out->file, H5F_SCOPE_GLOBAL), "flushing the new file");
    return out;

fail:
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    {
        char ignored[8];
        close_all(out, ignored, sizeof ignored);
    }
    if (created) remove(path); /* half a file would read as a sweep with missing variables */
    free_output(out);
    return NULL;
}

void output_time_now(char *buf, size_t size) {
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

/* ---- writing --------------------------------------------------------------------------------- */

/* The value of variable v for a point; delays (computed) come from delays[]. */
static const void *point_value(const PointResult *r, const int32_t *delays, int v) {
    if (v >= V_DELAY && v < V_DELAY + N_ACC_LEVELS) return &delays[v - V_DELAY];
    if (v == V_STATUS) return &r->status;
    if (v == V_PHASE) return &r->phase;
    if (v >= V_TRAIN_ACC_STEP && v < V_TRAIN_ACC_STEP + N_ACC_LEVELS) return &r->train_acc_step[v - V_TRAIN_ACC_STEP];
    if (v >= V_TEST_ACC_STEP && v < V_TEST_ACC_STEP + N_ACC_LEVELS) return &r->test_acc_step[v - V_TEST_ACC_STEP];
    switch (v) {
    case V_FINAL_TRAIN_LOSS: return &r->final_train_loss;
    case V_FINAL_TEST_LOSS: return &r->final_test_loss;
    case V_FINAL_TRAIN_ACC: return &r->final_train_acc;
    case V_FINAL_TEST_ACC: return &r->final_test_acc;
    case V_FINAL_WEIGHT_NORM: return &r->final_weight_norm;
    case V_STEPS_RUN: return &r->steps_run;
    case V_WALL_SECONDS: return &r->wall_seconds;
    }
    ASSERT(0);
    return NULL;
}

double output_size_bound(const Sweep *sweep) {
    double curve = 4.0 * (CURVE_SERIES + sweep->n_rank_layers) * sweep->n_eval;
    return 256.0 * 1024 + (double)sweep->n_points * (N_VARS * 4.0 + curve);
}

int output_temp_path(const char *out_path, char *buf, size_t size) {
    const char *slash = strrchr(out_path, '/');
    size_t dir_len = slash ? (size_t)(slash - out_path) + 1 : 0;
    uint64_t hash = hash_string(out_path + dir_len);
    int len = snprintf(buf, size, "%.*s.groksweep-%016llx.tmp", (int)dir_len, out_path, (unsigned long long)hash);
    return len >= 0 && (size_t)len < size ? 0 : -1;
}

int output_move(OutputFile *out, const char *path, char *err, size_t errlen) {
    char *copy = strdup(path);
    if (!copy) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (rename(out->path, path) != 0) {
        snprintf(err, errlen, "cannot move %s to %s: %s", out->path, path, strerror(errno));
        free(copy);
        return -1;
    }
    free(out->path);
    out->path = copy;
    return 0;
}

/* Allocate the buffer of points not yet written: as many points as fit in
 * PENDING_BYTES, at least 16, at most the sweep's. Returns 0 or -1. */
static int alloc_pending(OutputFile *out) {
    size_t series = (size_t)CURVE_SERIES + (size_t)out->n_rank_layers;
    size_t per_point = N_VARS * 4 + series * (size_t)out->n_eval * sizeof(float) * 2;
    long capacity = PENDING_BYTES / (long)per_point;
    if (capacity < 16) capacity = 16;
    if (capacity > out->n_points) capacity = out->n_points;
    size_t widest = (size_t)(out->n_rank_layers > 1 ? out->n_rank_layers : 1) * (size_t)out->n_eval * sizeof(float);
    if (widest < 4) widest = 4;
    out->pending_capacity = capacity;
    out->pending = malloc(sizeof *out->pending * (size_t)capacity);
    out->pending_values = malloc(sizeof *out->pending_values * N_VARS * (size_t)capacity);
    out->pending_curves = malloc(sizeof *out->pending_curves * series * (size_t)out->n_eval * (size_t)capacity);
    out->runs = malloc(sizeof *out->runs * (size_t)capacity);
    out->run_buffer = malloc(widest * (size_t)capacity);
    return out->pending && out->pending_values && out->pending_curves && out->runs && out->run_buffer ? 0 : -1;
}

static int by_point_then_slot(const void *a, const void *b) {
    const PendingSlot *x = a, *y = b;
    if (x->point != y->point) return (x->point > y->point) - (x->point < y->point);
    return (x->slot > y->slot) - (x->slot < y->slot);
}

/* Select in file_space the run's points (and, for a curve, its extra
 * dimensions of lengths extra[0..n_extra)). */
static herr_t select_run(const OutputFile *out, hid_t file_space, long first_point, long length, const hsize_t *extra,
                         int n_extra) {
    int k = out->n_axes;
    hsize_t start[SWEEP_MAX_AXES + 2], count[SWEEP_MAX_AXES + 2];
    hsize_t rest = (hsize_t)first_point;
    for (int i = k - 1; i >= 0; i--) {
        start[i] = rest % out->dims[i];
        rest /= out->dims[i];
        count[i] = 1;
    }
    count[k - 1] = (hsize_t)length;
    for (int e = 0; e < n_extra; e++) {
        start[k + e] = 0;
        count[k + e] = extra[e];
    }
    return H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, count, NULL);
}

/* Write data (memory type mem_type, contiguous, of dimensions dims[0..rank))
 * to ds at the selection of file_space. Dimensions of the selection's shape
 * let HDF5 map the block to each chunk at once rather than element by
 * element. */
static herr_t write_block(hid_t ds, hid_t mem_type, hid_t file_space, int rank, const hsize_t *dims,
                          const void *data) {
    hid_t mem = H5Screate_simple(rank, dims, NULL);
    if (mem < 0) return -1;
    herr_t rc = H5Dwrite(ds, mem_type, mem, file_space, H5P_DEFAULT, data);
    H5Sclose(mem);
    return rc;
}

/* Variable v of the run's points, gathered into out->run_buffer. */
static const void *gather_variable(OutputFile *out, const PendingRun *run, int v) {
    int8_t *narrow = out->run_buffer;
    uint32_t *wide = out->run_buffer;
    for (long i = 0; i < run->length; i++) {
        uint32_t value = out->pending_values[(size_t)out->pending[run->first + i].slot * N_VARS + (size_t)v];
        if (VARS[v].type == T_INT8)
            narrow[i] = (int8_t)(int32_t)value;
        else
            wide[i] = value;
    }
    return out->run_buffer;
}

/* Curve series s (count series from s on: the feature ranks) of the run's
 * points, gathered into out->run_buffer. */
static const float *gather_curves(OutputFile *out, const PendingRun *run, int s, int count) {
    size_t series = (size_t)CURVE_SERIES + (size_t)out->n_rank_layers, n_eval = (size_t)out->n_eval;
    float *buffer = out->run_buffer;
    for (long i = 0; i < run->length; i++) {
        const float *curves = out->pending_curves + (size_t)out->pending[run->first + i].slot * series * n_eval;
        memcpy(buffer + (size_t)i * (size_t)count * n_eval, curves + (size_t)s * n_eval,
               sizeof *buffer * (size_t)count * n_eval);
    }
    return buffer;
}

/* Write every buffered point to the file (not flushed): sorted by index,
 * the last write of a point winning, in runs along the last axis; every
 * variable but status first, then status, so that a point whose status
 * reads "not run" may hold anything else. Empties the buffer. Returns 0, or
 * -1 with a message. */
static int write_pending(OutputFile *out, char *err, size_t errlen) {
    const char *path = out->path;
    if (out->n_pending == 0) return 0;
    qsort(out->pending, (size_t)out->n_pending, sizeof *out->pending, by_point_then_slot);
    long kept = 0; /* one slot per point: the latest */
    for (long i = 0; i < out->n_pending; i++) {
        if (kept > 0 && out->pending[kept - 1].point == out->pending[i].point)
            out->pending[kept - 1] = out->pending[i];
        else
            out->pending[kept++] = out->pending[i];
    }
    long n_runs = 0;
    hsize_t last_axis = out->dims[out->n_axes - 1];
    for (long i = 0; i < kept; i++) {
        long point = out->pending[i].point;
        PendingRun *run = n_runs > 0 ? &out->runs[n_runs - 1] : NULL;
        if (run && out->pending[run->first + run->length - 1].point + 1 == point &&
            (hsize_t)point % last_axis != 0)
            run->length++;
        else
            out->runs[n_runs++] = (PendingRun){i, 1};
    }
    out->n_pending = 0;
    hsize_t n_eval = (hsize_t)out->n_eval, rank_extent[2] = {(hsize_t)out->n_rank_layers, n_eval};
    for (int pass = 0; pass < 2; pass++) {
        for (long r = 0; r < n_runs; r++) {
            const PendingRun *run = &out->runs[r];
            long first = out->pending[run->first].point, last = first + run->length - 1;
            hsize_t m = (hsize_t)run->length, curve_dims[2] = {m, n_eval}, rank_dims[3] = {m, rank_extent[0], n_eval};
            TRY_H5(select_run(out, out->point_space, first, run->length, NULL, 0), "selecting points %ld-%ld", first,
                   last);
            if (pass == 1) {
                TRY_H5(write_block(out->vars[V_STATUS], memory_type(T_INT8), out->point_space, 1, &m,
                                   gather_variable(out, run, V_STATUS)),
                       "writing status of points %ld-%ld", first, last);
                continue;
            }
            for (int v = 0; v < N_VARS; v++)
                if (v != V_STATUS)
                    TRY_H5(write_block(out->vars[v], memory_type(VARS[v].type), out->point_space, 1, &m,
                                       gather_variable(out, run, v)),
                           "writing %s of points %ld-%ld", VARS[v].name, first, last);
            TRY_H5(select_run(out, out->curve_space, first, run->length, &n_eval, 1),
                   "selecting the curves of points %ld-%ld", first, last);
            for (int s = 0; s < CURVE_SERIES; s++)
                TRY_H5(write_block(out->curves[s], H5T_NATIVE_FLOAT, out->curve_space, 2, curve_dims,
                                   gather_curves(out, run, s, 1)),
                       "writing %s of points %ld-%ld", CURVE_NAMES[s], first, last);
            if (out->n_rank_layers > 0) {
                TRY_H5(select_run(out, out->rank_space, first, run->length, rank_extent, 2),
                       "selecting the feature ranks of points %ld-%ld", first, last);
                TRY_H5(write_block(out->feature_rank, H5T_NATIVE_FLOAT, out->rank_space, 3, rank_dims,
                                   gather_curves(out, run, CURVE_SERIES, out->n_rank_layers)),
                       "writing %s of points %ld-%ld", FEATURE_RANK_NAME, first, last);
            }
        }
    }
    return 0;
fail:
    return -1;
}

int output_write_point(OutputFile *out, long point, const PointResult *result, char *err, size_t errlen) {
    ASSERT(out && result && result->curve);
    ASSERT(point >= 0 && point < out->n_points);
    ASSERT(result->n_eval == out->n_eval && result->n_rank_layers == out->n_rank_layers);
    ASSERT(result->status >= POINT_NOT_RUN && result->status <= POINT_INFERRED);
    ASSERT(result->phase >= PHASE_NONE && result->phase <= PHASE_CONFUSION);
    /* an inferred point's other values are its variables' fill values */
    ASSERT(result->status != POINT_INFERRED || (result->phase != PHASE_NONE && result->steps_run < 0));
    if (out->n_pending == out->pending_capacity && write_pending(out, err, errlen) != 0) return -1;
    long slot = out->n_pending++;
    out->pending[slot] = (PendingSlot){point, slot};
    int32_t delays[N_ACC_LEVELS];
    for (int l = 0; l < N_ACC_LEVELS; l++)
        delays[l] = result->train_acc_step[l] >= 0 && result->test_acc_step[l] >= 0
                        ? result->test_acc_step[l] - result->train_acc_step[l]
                        : DELAY_FILL;
    uint32_t *values = out->pending_values + (size_t)slot * N_VARS;
    for (int v = 0; v < N_VARS; v++) {
        const void *value = point_value(result, delays, v);
        int32_t widened = VARS[v].type == T_INT8 ? *(const int8_t *)value : 0;
        memcpy(&values[v], VARS[v].type == T_INT8 ? (const void *)&widened : value, 4);
    }
    size_t curve_floats = ((size_t)CURVE_SERIES + (size_t)out->n_rank_layers) * (size_t)out->n_eval;
    memcpy(out->pending_curves + (size_t)slot * curve_floats, result->curve, sizeof(float) * curve_floats);
    return 0;
}

int output_flush(OutputFile *out, char *err, size_t errlen) {
    ASSERT(out);
    const char *path = out->path;
    if (write_pending(out, err, errlen) != 0) return -1;
    TRY_H5(H5Fflush(out->file, H5F_SCOPE_GLOBAL), "flushing");
    return 0;
fail:
    return -1;
}

int output_close(OutputFile *out, char *err, size_t errlen) {
    if (!out) return 0;
    int rc = write_pending(out, err, errlen);
    char ignored[8];
    if (rc == 0)
        rc = close_all(out, err, errlen);
    else
        close_all(out, ignored, sizeof ignored);
    free_output(out);
    return rc;
}

void output_discard(OutputFile *out) {
    if (!out) return;
    /* Empty the file through HDF5's own descriptor first: on a full file
     * system that frees the space HDF5 needs to close it cleanly (a file
     * HDF5 failed to close crashes the library when the process exits). */
    void *handle = NULL;
    if (out->file >= 0 && H5Fget_vfd_handle(out->file, H5P_DEFAULT, &handle) >= 0 && handle) {
        int fd = *(int *)handle;
        if (ftruncate(fd, 0) != 0) { /* nothing more to free; the close below still runs */
        }
    }
    char ignored[8];
    close_all(out, ignored, sizeof ignored);
    remove(out->path);
    free_output(out);
}
