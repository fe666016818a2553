#include "weights_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <hdf5.h>

#include "error.h"
#include "hdf5_error.h"

_Static_assert(sizeof(real) == sizeof(float), "weights are stored as float32 and read into real");

static const char *const GROUPS[2] = {"initial", "final"};

/* Biases and LayerNorm parameters are vectors (n); the rest matrices. */
static int tensor_rank(const ParamView *view) {
    return view->role == PARAM_LINEAR_WEIGHT || view->role == PARAM_EMBEDDING ? 2 : 1;
}

/* A shape as text: "(48, 500)" or "(48)". */
static void format_shape(char *buf, size_t size, int rank, const hsize_t *dims) {
    if (rank == 2)
        snprintf(buf, size, "(%llu, %llu)", (unsigned long long)dims[0], (unsigned long long)dims[1]);
    else if (rank == 1)
        snprintf(buf, size, "(%llu)", (unsigned long long)dims[0]);
    else
        snprintf(buf, size, "(rank %d)", rank);
}

/* A scalar fixed-length UTF-8 text attribute. */
static int write_text_attribute(hid_t obj, const char *name, const char *value, const char *path, char *err,
                                size_t errlen) {
    hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    size_t length = strlen(value);
    TRY_H5(type = H5Tcopy(H5T_C_S1), "making a string type for attribute %s", name);
    TRY_H5(H5Tset_size(type, length ? length : 1), "sizing the string type of attribute %s", name);
    TRY_H5(H5Tset_cset(type, H5T_CSET_UTF8), "setting the character set of attribute %s", name);
    TRY_H5(space = H5Screate(H5S_SCALAR), "making a dataspace for attribute %s", name);
    TRY_H5(attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), "creating attribute %s", name);
    TRY_H5(H5Awrite(attr, type, length ? value : "\0"), "writing attribute %s", name);
    herr_t closed = H5Aclose(attr);
    attr = H5I_INVALID_HID;
    TRY_H5(closed, "closing attribute %s", name);
    H5Sclose(space);
    H5Tclose(type);
    return 0;
fail:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return -1;
}

/* One group of tensors: values (table->total) as one dataset per tensor. */
static int write_group(hid_t file, const char *group_name, const ParamTable *table, const real *values,
                       const char *path, char *err, size_t errlen) {
    hid_t group = H5I_INVALID_HID, space = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    TRY_H5(group = H5Gcreate2(file, group_name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "creating group %s",
           group_name);
    for (int t = 0; t < table->count; t++) {
        const ParamView *view = &table->views[t];
        int rank = tensor_rank(view);
        hsize_t dims[2] = {(hsize_t)view->rows, (hsize_t)view->cols};
        if (rank == 1) dims[0] = (hsize_t)view->rows * (hsize_t)view->cols;
        TRY_H5(space = H5Screate_simple(rank, dims, NULL), "making a dataspace for %s/%s", group_name, view->name);
        TRY_H5(ds = H5Dcreate2(group, view->name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
               "creating %s/%s", group_name, view->name);
        TRY_H5(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values + view->offset),
               "writing %s/%s", group_name, view->name);
        herr_t closed = H5Dclose(ds);
        ds = H5I_INVALID_HID;
        TRY_H5(closed, "closing %s/%s", group_name, view->name);
        H5Sclose(space);
        space = H5I_INVALID_HID;
    }
    herr_t closed = H5Gclose(group);
    group = H5I_INVALID_HID;
    TRY_H5(closed, "closing group %s", group_name);
    return 0;
fail:
    if (ds >= 0) H5Dclose(ds);
    if (space >= 0) H5Sclose(space);
    if (group >= 0) H5Gclose(group);
    return -1;
}

int weights_file_write(const char *path, const RunWeights *weights, const char *config_json, char *err,
                       size_t errlen) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5I_INVALID_HID, space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    const int32_t version = WEIGHTS_FORMAT_VERSION;
    TRY_H5(file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "cannot create the weights file");
    if (write_text_attribute(file, "format", WEIGHTS_FORMAT, path, err, errlen) != 0) goto fail;
    TRY_H5(space = H5Screate(H5S_SCALAR), "making a dataspace for attribute format_version");
    TRY_H5(attr = H5Acreate2(file, "format_version", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT),
           "creating attribute format_version");
    TRY_H5(H5Awrite(attr, H5T_NATIVE_INT32, &version), "writing attribute format_version");
    herr_t closed = H5Aclose(attr);
    attr = H5I_INVALID_HID;
    TRY_H5(closed, "closing attribute format_version");
    if (write_text_attribute(file, "model_structure", weights->structure, path, err, errlen) != 0 ||
        write_text_attribute(file, "config", config_json, path, err, errlen) != 0 ||
        write_group(file, GROUPS[0], &weights->table, weights->initial, path, err, errlen) != 0 ||
        write_group(file, GROUPS[1], &weights->table, weights->final, path, err, errlen) != 0)
        goto fail;
    H5Sclose(space);
    closed = H5Fclose(file);
    file = H5I_INVALID_HID;
    TRY_H5(closed, "closing the weights file");
    return 0;
fail:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    if (file >= 0) H5Fclose(file);
    return -1;
}

/* True when the file's root attribute `format` is WEIGHTS_FORMAT and
 * format_version is WEIGHTS_FORMAT_VERSION; otherwise false with a message. */
static bool is_weights_file(hid_t file, const char *path, char *err, size_t errlen) {
    char text[64] = "";
    int32_t version = -1;
    bool ok = false;
    hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID;
    if (H5Aexists(file, "format") > 0 && (attr = H5Aopen(file, "format", H5P_DEFAULT)) >= 0 &&
        (type = H5Aget_type(attr)) >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0 &&
        H5Tget_size(type) < sizeof text)
        ok = H5Aread(attr, type, text) >= 0 && strcmp(text, WEIGHTS_FORMAT) == 0;
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    H5Eclear2(H5E_DEFAULT);
    if (!ok) {
        error_format(err, errlen, "%s: not a weights file (no root attribute format = \"%s\"; groksweep train "
                     "--save-weights writes one)", path, WEIGHTS_FORMAT);
        return false;
    }
    attr = H5Aopen(file, "format_version", H5P_DEFAULT);
    ok = attr >= 0 && H5Aread(attr, H5T_NATIVE_INT32, &version) >= 0 && version == WEIGHTS_FORMAT_VERSION;
    if (attr >= 0) H5Aclose(attr);
    H5Eclear2(H5E_DEFAULT);
    if (!ok)
        error_format(err, errlen, "%s: weights file format_version = %d: this groksweep reads version %d", path,
                     version, WEIGHTS_FORMAT_VERSION);
    return ok;
}

/* Read one group into values (table->total), checking its tensors against
 * the table. */
static int read_group(hid_t file, const char *group_name, const ParamTable *table, real *values, const char *path,
                      char *err, size_t errlen) {
    hid_t group = H5I_INVALID_HID, ds = H5I_INVALID_HID, space = H5I_INVALID_HID;
    H5G_info_t info;
    if (H5Lexists(file, group_name, H5P_DEFAULT) <= 0 ||
        (group = H5Gopen2(file, group_name, H5P_DEFAULT)) < 0 || H5Gget_info(group, &info) < 0) {
        H5Eclear2(H5E_DEFAULT);
        error_format(err, errlen, "%s: weights file without its group %s", path, group_name);
        goto fail;
    }
    for (int t = 0; t < table->count; t++) {
        const ParamView *view = &table->views[t];
        int rank = tensor_rank(view);
        hsize_t want[2] = {(hsize_t)view->rows, (hsize_t)view->cols}, have[2] = {0, 0};
        if (rank == 1) want[0] = (hsize_t)view->rows * (hsize_t)view->cols;
        if (H5Lexists(group, view->name, H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            char shape[64];
            format_shape(shape, sizeof shape, rank, want);
            error_format(err, errlen, "%s: %s/%s: no such tensor in the file; the model has it, shaped %s (a file "
                         "of another model)", path, group_name, view->name, shape);
            goto fail;
        }
        TRY_H5(ds = H5Dopen2(group, view->name, H5P_DEFAULT), "opening %s/%s", group_name, view->name);
        TRY_H5(space = H5Dget_space(ds), "reading the shape of %s/%s", group_name, view->name);
        int file_rank = H5Sget_simple_extent_ndims(space);
        TRY_H5(file_rank, "reading the shape of %s/%s", group_name, view->name);
        if (file_rank <= 2) TRY_H5(H5Sget_simple_extent_dims(space, have, NULL), "reading the shape of %s/%s",
                                   group_name, view->name);
        if (file_rank != rank || have[0] != want[0] || (rank == 2 && have[1] != want[1])) {
            char in_file[64], in_model[64];
            format_shape(in_file, sizeof in_file, file_rank, have);
            format_shape(in_model, sizeof in_model, rank, want);
            error_format(err, errlen, "%s: %s/%s: shape %s in the file, %s in the model (a file of another model)",
                         path, group_name, view->name, in_file, in_model);
            goto fail;
        }
        TRY_H5(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values + view->offset),
               "reading %s/%s", group_name, view->name);
        H5Sclose(space);
        space = H5I_INVALID_HID;
        H5Dclose(ds);
        ds = H5I_INVALID_HID;
    }
    if (info.nlinks != (hsize_t)table->count) {
        error_format(err, errlen, "%s: group %s holds %llu tensors, the model has %d (a file of another model)", path,
                     group_name, (unsigned long long)info.nlinks, table->count);
        goto fail;
    }
    H5Gclose(group);
    return 0;
fail:
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    if (group >= 0) H5Gclose(group);
    return -1;
}

int weights_file_read(const char *path, const ParamTable *table, real *initial, real *final, char *err,
                      size_t errlen) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    FILE *probe = fopen(path, "rb");
    if (!probe) return error_format(err, errlen, "%s: cannot read the weights file: %s", path, strerror(errno));
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return error_format(err, errlen, "%s: not a weights file (not an HDF5 file)", path);
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        hdf5_error_format(err, errlen, path, "cannot open the weights file");
        return -1;
    }
    int rc = is_weights_file(file, path, err, errlen) &&
                     read_group(file, GROUPS[0], table, initial, path, err, errlen) == 0 &&
                     read_group(file, GROUPS[1], table, final, path, err, errlen) == 0
                 ? 0
                 : -1;
    H5Fclose(file);
    return rc;
}
