#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "commands.h"
#include "hdf5_error.h"

#define FORMAT_NAME "groksweep-sweep"
#define FORMAT_VERSION 2 /* reads 1 and 2, with or without inferred points */
#define READ_ATTEMPTS 5
#define RETRY_PAUSE_NS 200000000L /* 0.2 s between attempts on a file being written */

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
} Reader;

/* ---- errors ---------------------------------------------------------------------------------- */

/* "path: what: HDF5's innermost reason"; returns EXIT_ENVIRONMENT. */
static int hdf5_failed(Reader *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    hdf5_error_vformat(r->err, r->errlen, r->path, fmt, ap);
    va_end(ap);
    return EXIT_ENVIRONMENT;
}

/* "path: not a groksweep sweep file (why)"; returns EXIT_BAD_INPUT. */
static int not_a_sweep(Reader *r, const char *fmt, ...) {
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    H5Eclear2(H5E_DEFAULT);
    snprintf(r->err, r->errlen, "%s: not a groksweep sweep file (%s)", r->path, why);
    return EXIT_BAD_INPUT;
}

static int out_of_memory(Reader *r) {
    snprintf(r->err, r->errlen, "%s: out of memory", r->path);
    return EXIT_ENVIRONMENT;
}

static char *copy_string(const char *s) {
    size_t size = strlen(s) + 1;
    char *c = malloc(size);
    if (c) memcpy(c, s, size);
    return c;
}

/* ---- before HDF5: does the file exist and look like HDF5? ------------------------------------ */

/* The HDF5 superblock signature sits at offset 0, 512, 1024, 2048, ... */
static int check_signature(Reader *r) {
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    FILE *f = fopen(r->path, "rb");
    if (!f) {
        snprintf(r->err, r->errlen, "%s: cannot read: %s", r->path, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    int found = 0, read_error = 0;
    for (long offset = 0; !found && offset <= (1L << 40); offset = offset ? offset * 2 : 512) {
        unsigned char bytes[8];
        if (fseek(f, offset, SEEK_SET) != 0) break;
        size_t n = fread(bytes, 1, sizeof bytes, f);
        if (n < sizeof bytes) {
            if (ferror(f)) read_error = errno ? errno : EIO;
            break;
        }
        found = memcmp(bytes, signature, sizeof bytes) == 0;
    }
    fclose(f);
    if (read_error) {
        snprintf(r->err, r->errlen, "%s: cannot read: %s", r->path, strerror(read_error));
        return EXIT_BAD_INPUT;
    }
    if (!found) return not_a_sweep(r, "not an HDF5 file");
    return 0;
}

/* ---- attributes ------------------------------------------------------------------------------ */

enum { ATTR_ABSENT = 0, ATTR_FOUND = 1, ATTR_H5_ERROR = -1, ATTR_WRONG_TYPE = -2 };

/* Opens attribute NAME of OBJ when it holds one value of class WANTED: then
 * returns ATTR_FOUND with *attr and *type open, for the caller to close.
 * Otherwise returns ATTR_ABSENT, ATTR_WRONG_TYPE or ATTR_H5_ERROR with
 * nothing left open. */
static int open_scalar_attribute(hid_t obj, const char *name, H5T_class_t wanted, hid_t *attr, hid_t *type) {
    *attr = *type = H5I_INVALID_HID;
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0) return ATTR_H5_ERROR;
    if (!exists) return ATTR_ABSENT;
    int rc = ATTR_H5_ERROR;
    hid_t space = H5I_INVALID_HID;
    if ((*attr = H5Aopen(obj, name, H5P_DEFAULT)) >= 0 && (*type = H5Aget_type(*attr)) >= 0 &&
        (space = H5Aget_space(*attr)) >= 0) {
        H5T_class_t class = H5Tget_class(*type);
        hssize_t count = H5Sget_simple_extent_npoints(space);
        if (class != H5T_NO_CLASS && count >= 0) rc = class == wanted && count == 1 ? ATTR_FOUND : ATTR_WRONG_TYPE;
    }
    if (space >= 0) H5Sclose(space);
    if (rc != ATTR_FOUND) {
        if (*type >= 0) H5Tclose(*type);
        if (*attr >= 0) H5Aclose(*attr);
        *attr = *type = H5I_INVALID_HID;
    }
    return rc;
}

/* A scalar (or one-element) string attribute, variable or fixed length, into
 * a malloc'd string. */
static int read_string_attribute(hid_t obj, const char *name, char **value) {
    *value = NULL;
    hid_t attr, type, mem = H5I_INVALID_HID;
    int rc = open_scalar_attribute(obj, name, H5T_STRING, &attr, &type);
    if (rc != ATTR_FOUND) return rc;
    rc = ATTR_H5_ERROR;
    htri_t variable = H5Tis_variable_str(type);
    if (variable < 0) goto out;
    if (variable) {
        H5T_cset_t cset = H5Tget_cset(type);
        char *raw = NULL;
        if (cset < 0 || (mem = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mem, cset) < 0 || H5Aread(attr, mem, &raw) < 0)
            goto out;
        *value = copy_string(raw ? raw : "");
        H5free_memory(raw);
    } else {
        size_t size = H5Tget_size(type);
        H5T_cset_t cset = H5Tget_cset(type); /* HDF5 converts no text between character sets */
        char *buffer = calloc(size + 1, 1);
        if (size == 0 || cset < 0 || !buffer || (mem = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mem, size + 1) < 0 ||
            H5Tset_cset(mem, cset) < 0 || H5Tset_strpad(mem, H5T_STR_NULLTERM) < 0 || H5Aread(attr, mem, buffer) < 0) {
            free(buffer);
            goto out;
        }
        *value = buffer;
    }
    rc = *value ? ATTR_FOUND : ATTR_H5_ERROR;
out:
    if (mem >= 0) H5Tclose(mem);
    H5Tclose(type);
    H5Aclose(attr);
    return rc;
}

/* A scalar (or one-element) integer attribute. */
static int read_int_attribute(hid_t obj, const char *name, int *value) {
    hid_t attr, type;
    int rc = open_scalar_attribute(obj, name, H5T_INTEGER, &attr, &type);
    if (rc != ATTR_FOUND) return rc;
    if (H5Aread(attr, H5T_NATIVE_INT, value) < 0) rc = ATTR_H5_ERROR;
    H5Tclose(type);
    H5Aclose(attr);
    return rc;
}

/* An optional string attribute of the file's root. Returns 0 or an exit status. */
static int optional_root_string(Reader *r, hid_t file, const char *name, char **value) {
    int rc = read_string_attribute(file, name, value);
    if (rc == ATTR_H5_ERROR) return hdf5_failed(r, "reading root attribute %s", name);
    if (rc == ATTR_WRONG_TYPE) return not_a_sweep(r, "root attribute %s is not a string", name);
    return 0;
}

/* ---- coordinates ----------------------------------------------------------------------------- */

/* The shortest "%.Ng" (N >= 3) that tells every value apart. */
static int label_numbers(ReportAxis *axis, int integers) {
    int n = axis->length;
    char buffer[64];
    for (int precision = 3; precision <= 17; precision++) {
        for (int k = 0; k < n; k++) {
            if (integers)
                snprintf(buffer, sizeof buffer, "%.0f", axis->numbers[k]);
            else
                snprintf(buffer, sizeof buffer, "%.*g", precision, axis->numbers[k]);
            free(axis->labels[k]);
            if (!(axis->labels[k] = copy_string(buffer))) return -1;
        }
        int distinct = 1;
        for (int a = 0; a < n && distinct; a++)
            for (int b = a + 1; b < n && distinct; b++)
                if (strcmp(axis->labels[a], axis->labels[b]) == 0 && axis->numbers[a] != axis->numbers[b])
                    distinct = 0;
        if (distinct || integers) break;
    }
    return 0;
}

static int read_string_values(Reader *r, hid_t scale, hid_t type, hid_t space, ReportAxis *axis) {
    int n = axis->length, rc = 0;
    hid_t mem = H5I_INVALID_HID;
    htri_t variable = H5Tis_variable_str(type);
    if (variable < 0) return hdf5_failed(r, "reading the type of coordinate %s", axis->name);
    if (variable) {
        H5T_cset_t cset = H5Tget_cset(type);
        char **raw = calloc((size_t)n, sizeof *raw);
        if (!raw) return out_of_memory(r);
        if (cset < 0 || (mem = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mem, cset) < 0 || H5Dread(scale, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
            rc = hdf5_failed(r, "reading coordinate %s", axis->name);
            free(raw);
            if (mem >= 0) H5Tclose(mem);
            return rc;
        }
        for (int k = 0; k < n && rc == 0; k++)
            if (!(axis->labels[k] = copy_string(raw[k] ? raw[k] : ""))) rc = out_of_memory(r);
        if (H5Dvlen_reclaim(mem, space, H5P_DEFAULT, raw) < 0 && rc == 0)
            rc = hdf5_failed(r, "freeing coordinate %s", axis->name);
        free(raw);
    } else {
        size_t size = H5Tget_size(type);
        char *buffer = size ? calloc((size_t)n, size + 1) : NULL;
        if (!buffer) return size ? out_of_memory(r) : hdf5_failed(r, "reading the type of coordinate %s", axis->name);
        if ((mem = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mem, size + 1) < 0 ||
            H5Tset_strpad(mem, H5T_STR_NULLTERM) < 0 || H5Dread(scale, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer) < 0)
            rc = hdf5_failed(r, "reading coordinate %s", axis->name);
        for (int k = 0; k < n && rc == 0; k++)
            if (!(axis->labels[k] = copy_string(buffer + (size_t)k * (size + 1)))) rc = out_of_memory(r);
        free(buffer);
    }
    if (mem >= 0) H5Tclose(mem);
    return rc;
}

/* Name, config path, values and labels of the coordinate `scale` of a
 * dimension of `length`. Returns 0 or an exit status. */
static int read_axis(Reader *r, hid_t scale, hsize_t length, int dim, ReportAxis *axis) {
    int rc = 0;
    hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID;
    ssize_t name_length = H5Iget_name(scale, NULL, 0);
    if (name_length <= 0) return hdf5_failed(r, "reading the name of the coordinate of dimension %d", dim);
    char *full = malloc((size_t)name_length + 1);
    if (!full) return out_of_memory(r);
    if (H5Iget_name(scale, full, (size_t)name_length + 1) < 0) {
        free(full);
        return hdf5_failed(r, "reading the name of the coordinate of dimension %d", dim);
    }
    axis->name = copy_string(full[0] == '/' ? full + 1 : full);
    free(full);
    if (!axis->name) return out_of_memory(r);
    /* format 2 names the config key in config_key; format 1 in long_name */
    int attr_rc = read_string_attribute(scale, "config_key", &axis->path);
    if (attr_rc == ATTR_ABSENT || attr_rc == ATTR_WRONG_TYPE) attr_rc = read_string_attribute(scale, "long_name", &axis->path);
    if (attr_rc == ATTR_H5_ERROR) return hdf5_failed(r, "reading the config key of coordinate %s", axis->name);

    if ((space = H5Dget_space(scale)) < 0 || (type = H5Dget_type(scale)) < 0) {
        rc = hdf5_failed(r, "opening coordinate %s", axis->name);
        goto out;
    }
    hsize_t extent = 0;
    if (H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, &extent, NULL) != 1 ||
        extent != length) {
        rc = not_a_sweep(r, "coordinate %s does not match dimension %d of status", axis->name, dim);
        goto out;
    }
    axis->length = (int)length;
    axis->labels = calloc(length, sizeof *axis->labels);
    if (!axis->labels) {
        rc = out_of_memory(r);
        goto out;
    }
    H5T_class_t class = H5Tget_class(type);
    if (class == H5T_STRING) {
        rc = read_string_values(r, scale, type, space, axis);
    } else if (class == H5T_INTEGER || class == H5T_FLOAT) {
        if (!(axis->numbers = malloc(sizeof(double) * length))) {
            rc = out_of_memory(r);
            goto out;
        }
        if (H5Dread(scale, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, axis->numbers) < 0) {
            rc = hdf5_failed(r, "reading coordinate %s", axis->name);
            goto out;
        }
        htri_t flags = class == H5T_INTEGER && H5Tget_size(type) == 1 ? H5Aexists(scale, "flag_meanings") : 0;
        if (flags < 0) {
            rc = hdf5_failed(r, "reading the attributes of coordinate %s", axis->name);
        } else if (flags) { /* a bool axis: 0 false, 1 true */
            for (hsize_t k = 0; k < length && rc == 0; k++)
                if (!(axis->labels[k] = copy_string(axis->numbers[k] != 0 ? "true" : "false"))) rc = out_of_memory(r);
        } else if (label_numbers(axis, class == H5T_INTEGER) != 0) {
            rc = out_of_memory(r);
        }
    } else {
        rc = not_a_sweep(r, "coordinate %s is neither numbers nor strings", axis->name);
    }
out:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    return rc;
}

typedef struct {
    Reader *reader;
    ReportAxis *axis;
    hsize_t length;
    int dim;
    int rc;
} ScaleVisit;

static herr_t visit_first_scale(hid_t dataset, unsigned dim, hid_t scale, void *data) {
    (void)dataset;
    (void)dim;
    ScaleVisit *v = data;
    v->rc = read_axis(v->reader, scale, v->length, v->dim, v->axis);
    return v->rc == 0 ? 1 : -1; /* 1: stop after the first scale */
}

/* ---- per-point variables --------------------------------------------------------------------- */

/* Read variable `name` of shape dims (the status dataset's) as mem_type. */
static int read_points(Reader *r, hid_t file, const char *name, hid_t mem_type, int rank, const hsize_t *dims,
                       void *buffer) {
    htri_t exists = H5Lexists(file, name, H5P_DEFAULT);
    if (exists < 0) return hdf5_failed(r, "looking for %s", name);
    if (!exists) return not_a_sweep(r, "no dataset %s", name);
    int rc = 0;
    hid_t ds = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    if ((ds = H5Dopen2(file, name, H5P_DEFAULT)) < 0 || (space = H5Dget_space(ds)) < 0 ||
        (type = H5Dget_type(ds)) < 0) {
        rc = hdf5_failed(r, "opening %s", name);
        goto out;
    }
    hsize_t shape[H5S_MAX_RANK] = {0};
    int ndims = H5Sget_simple_extent_ndims(space);
    int same = ndims == rank && H5Sget_simple_extent_dims(space, shape, NULL) == rank;
    for (int d = 0; same && d < rank; d++) same = shape[d] == dims[d];
    if (!same) {
        rc = not_a_sweep(r, "%s does not have the shape of status", name);
        goto out;
    }
    bool want_integer = H5Tget_class(mem_type) == H5T_INTEGER;
    if (H5Tget_class(type) != (want_integer ? H5T_INTEGER : H5T_FLOAT)) {
        rc = not_a_sweep(r, "%s does not hold %s", name, want_integer ? "integers" : "floating-point numbers");
        goto out;
    }
    if (H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer) < 0) rc = hdf5_failed(r, "reading %s", name);
out:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* ---- one reading of the file ----------------------------------------------------------------- */

static int read_root(Reader *r, hid_t file, SweepSnapshot *s) {
    char *format = NULL;
    int rc = read_string_attribute(file, "format", &format);
    if (rc == ATTR_H5_ERROR) return hdf5_failed(r, "reading root attribute format");
    if (rc == ATTR_ABSENT) return not_a_sweep(r, "no root attribute format");
    if (rc == ATTR_WRONG_TYPE) return not_a_sweep(r, "root attribute format is not a string");
    if (strcmp(format, FORMAT_NAME) != 0) {
        rc = not_a_sweep(r, "root attribute format is \"%.100s\", not \"%s\"", format, FORMAT_NAME);
        free(format);
        return rc;
    }
    free(format);
    int version = 0;
    rc = read_int_attribute(file, "format_version", &version);
    if (rc == ATTR_H5_ERROR) return hdf5_failed(r, "reading root attribute format_version");
    if (rc != ATTR_FOUND) return not_a_sweep(r, "no integer root attribute format_version");
    if (version < 1 || version > FORMAT_VERSION) {
        snprintf(r->err, r->errlen, "%s: format_version %d, but this groksweep reads version %d", r->path, version,
                 FORMAT_VERSION);
        return EXIT_BAD_INPUT;
    }
    if ((rc = optional_root_string(r, file, "groksweep_version", &s->groksweep_version)) != 0 ||
        (rc = optional_root_string(r, file, "created", &s->created)) != 0 ||
        (rc = optional_root_string(r, file, "slurm_job_id", &s->slurm_job_id)) != 0 ||
        (rc = optional_root_string(r, file, "sweep", &s->sweep_json)) != 0)
        return rc;
    s->mpi_ranks = -1;
    rc = read_int_attribute(file, "mpi_ranks", &s->mpi_ranks);
    if (rc == ATTR_H5_ERROR) return hdf5_failed(r, "reading root attribute mpi_ranks");
    if (rc != ATTR_FOUND) s->mpi_ranks = -1;
    return 0;
}

static int read_grid(Reader *r, hid_t file, SweepSnapshot *s, hsize_t *dims) {
    htri_t exists = H5Lexists(file, "status", H5P_DEFAULT);
    if (exists < 0) return hdf5_failed(r, "looking for status");
    if (!exists) return not_a_sweep(r, "no dataset status");
    int rc = 0;
    hid_t status = H5I_INVALID_HID, space = H5I_INVALID_HID;
    if ((status = H5Dopen2(file, "status", H5P_DEFAULT)) < 0 || (space = H5Dget_space(status)) < 0) {
        rc = hdf5_failed(r, "opening status");
        goto out;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) {
        rc = hdf5_failed(r, "reading the shape of status");
        goto out;
    }
    if (rank < 1 || rank > REPORT_MAX_AXES) {
        rc = not_a_sweep(r, "status has %d dimensions", rank);
        goto out;
    }
    if (H5Sget_simple_extent_dims(space, dims, NULL) != rank) {
        rc = hdf5_failed(r, "reading the shape of status");
        goto out;
    }
    long n_points = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 1 || dims[d] > (hsize_t)(1L << 30) || (long)dims[d] > (1L << 40) / n_points) {
            rc = not_a_sweep(r, "status has an empty or huge dimension");
            goto out;
        }
        n_points *= (long)dims[d];
    }
    s->n_axes = rank;
    s->n_points = n_points;
    for (int d = 0; d < rank; d++) {
        int scales = H5DSget_num_scales(status, (unsigned)d);
        if (scales < 0) {
            rc = hdf5_failed(r, "reading the coordinates of status");
            goto out;
        }
        if (scales == 0) {
            rc = not_a_sweep(r, "dimension %d of status has no coordinate", d);
            goto out;
        }
        ScaleVisit visit = {r, &s->axes[d], dims[d], d, 0};
        int first = 0;
        if (H5DSiterate_scales(status, (unsigned)d, &first, visit_first_scale, &visit) < 0) {
            rc = visit.rc ? visit.rc : hdf5_failed(r, "reading the coordinate of dimension %d", d);
            goto out;
        }
    }
out:
    if (space >= 0) H5Sclose(space);
    if (status >= 0) H5Dclose(status);
    return rc;
}

static int read_once(Reader *r, SweepSnapshot *s) {
    int rc = 0;
    hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID;
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0) return hdf5_failed(r, "making file access properties");
#if H5_VERSION_GE(1, 10, 7)
    /* The writer of a running sweep holds the file's lock. */
    if (H5Pset_file_locking(fapl, 0, 1) < 0) {
        rc = hdf5_failed(r, "turning file locking off");
        goto out;
    }
#endif
    if ((file = H5Fopen(r->path, H5F_ACC_RDONLY, fapl)) < 0) {
        rc = hdf5_failed(r, "opening the file");
        goto out;
    }
    hsize_t dims[REPORT_MAX_AXES] = {0};
    if ((rc = read_root(r, file, s)) != 0 || (rc = read_grid(r, file, s, dims)) != 0) goto out;
    size_t n = (size_t)s->n_points;
    s->status = calloc(n, 1);
    s->phase = malloc(n);
    s->train_step_90 = malloc(n * sizeof(int32_t));
    s->test_step_90 = malloc(n * sizeof(int32_t));
    s->wall_seconds = malloc(n * sizeof(float));
    if (!s->status || !s->phase || !s->train_step_90 || !s->test_step_90 || !s->wall_seconds) {
        rc = out_of_memory(r);
        goto out;
    }
    /* status first: a point that reads done was complete when status was read */
    if ((rc = read_points(r, file, "status", H5T_NATIVE_INT8, s->n_axes, dims, s->status)) != 0 ||
        (rc = read_points(r, file, "phase", H5T_NATIVE_INT8, s->n_axes, dims, s->phase)) != 0 ||
        (rc = read_points(r, file, "train_acc_step_90", H5T_NATIVE_INT32, s->n_axes, dims, s->train_step_90)) != 0 ||
        (rc = read_points(r, file, "test_acc_step_90", H5T_NATIVE_INT32, s->n_axes, dims, s->test_step_90)) != 0 ||
        (rc = read_points(r, file, "wall_seconds", H5T_NATIVE_FLOAT, s->n_axes, dims, s->wall_seconds)) != 0)
        goto out;
out:
    if (file >= 0 && H5Fclose(file) < 0 && rc == 0) rc = hdf5_failed(r, "closing the file");
    if (fapl >= 0) H5Pclose(fapl);
    return rc;
}

/* A point whose status says done must have a phase and crossing steps, and
 * an inferred one a phase; one that does not was read between the writer's
 * writes. */
static int unsettled(const SweepSnapshot *s, long p) {
    int8_t status = s->status[p];
    if (status < 0 || status > 4) return 1;
    if (status == 4) return s->phase[p] < 1 || s->phase[p] > 4;
    return status == 1 && (s->phase[p] < 1 || s->phase[p] > 4 || s->train_step_90[p] < -1 || s->test_step_90[p] < -1);
}

void report_snapshot_free(SweepSnapshot *s) {
    free(s->groksweep_version);
    free(s->created);
    free(s->slurm_job_id);
    free(s->sweep_json);
    for (int a = 0; a < REPORT_MAX_AXES; a++) {
        ReportAxis *axis = &s->axes[a];
        if (axis->labels)
            for (int k = 0; k < axis->length; k++) free(axis->labels[k]);
        free(axis->labels);
        free(axis->numbers);
        free(axis->name);
        free(axis->path);
    }
    free(s->status);
    free(s->phase);
    free(s->train_step_90);
    free(s->test_step_90);
    free(s->wall_seconds);
    memset(s, 0, sizeof *s);
}

int report_read(const char *path, SweepSnapshot *s, char *err, size_t errlen) {
    Reader reader = {path, err, errlen};
    memset(s, 0, sizeof *s);
#if !H5_VERSION_GE(1, 10, 7)
    setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0); /* before the first HDF5 call */
#endif
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int rc = check_signature(&reader);
    if (rc != 0) return rc;
    for (int attempt = 1;; attempt++) {
        rc = read_once(&reader, s);
        long n_unsettled = 0;
        if (rc == 0)
            for (long p = 0; p < s->n_points; p++) n_unsettled += unsettled(s, p);
        if ((rc == 0 && n_unsettled == 0) || rc == EXIT_BAD_INPUT || attempt == READ_ATTEMPTS) {
            if (rc != 0) {
                report_snapshot_free(s);
                return rc;
            }
            for (long p = 0; p < s->n_points; p++)
                if (unsettled(s, p)) s->status[p] = 0;
            s->n_unsettled = n_unsettled;
            return 0;
        }
        /* an HDF5 failure or a point caught mid-write: the writer may be flushing */
        report_snapshot_free(s);
        struct timespec pause = {0, RETRY_PAUSE_NS};
        nanosleep(&pause, NULL);
    }
}
