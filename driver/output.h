/* The sweep's HDF5 output file: one coordinate dataset per grid axis (an
 * HDF5 dimension scale), per-point variables of shape (axis_1, ..., axis_k)
 * and curves of shape (axis_1, ..., axis_k, eval_step), laid out so that
 * h5py, xarray (h5netcdf and netcdf4 engines), netCDF-C, pandas, MATLAB and
 * Julia open it directly. Written by rank 0 only. */
#ifndef GROKSWEEP_OUTPUT_H
#define GROKSWEEP_OUTPUT_H

#include <stddef.h>

#include "record.h"
#include "sweep.h"

typedef struct OutputFile OutputFile;

/* Provenance stored as root attributes. */
typedef struct {
    const char *groksweep_version;
    const char *blas_config;
    const char *blas_core;
    int mpi_ranks;
    const char *created;   /* ISO 8601 UTC, e.g. "2026-11-23T09:30:05Z" */
    const char *slurm_job_id; /* NULL when not under Slurm */
} OutputProvenance;

/* Create (truncating) the file at path with every object and attribute of
 * the sweep, all points "not run" (fill values). Returns NULL on failure
 * with a message in err. */
OutputFile *output_create(const char *path, const Sweep *sweep, const OutputProvenance *provenance, char *err,
                          size_t errlen);

/* Write one point's variables and curves, its status last, then flush the
 * file. Returns 0, or -1 with a message in err. */
int output_write_point(OutputFile *out, long point, const PointResult *result, char *err, size_t errlen);

/* Close the file. Returns 0, or -1 with a message in err. out is freed
 * either way. */
int output_close(OutputFile *out, char *err, size_t errlen);

#endif
