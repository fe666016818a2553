/* The sweep's HDF5 output file: one coordinate dataset per grid axis (an
 * HDF5 dimension scale), per-point variables of shape (axis_1, ..., axis_k)
 * and curves of shape (axis_1, ..., axis_k, eval_step), laid out so that
 * h5py, xarray (h5netcdf and netcdf4 engines), netCDF-C, pandas, MATLAB and
 * Julia open it directly. Written by rank 0 only. */
#ifndef GROKSWEEP_OUTPUT_H
#define GROKSWEEP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include "sweep.h"

typedef struct OutputFile OutputFile;

/* True once an HDF5 file failed to close: HDF5 still holds it, and its
 * shutdown when the process exits would crash on it, so the process must
 * then end without running exit handlers (_exit). */
bool output_library_damaged(void);

/* Provenance stored as root attributes. */
typedef struct {
    const char *groksweep_version;
    const char *blas_config;
    const char *blas_core;
    int mpi_ranks;
    const char *created;   /* ISO 8601 UTC, e.g. "2026-11-23T09:30:05Z" */
    const char *slurm_job_id; /* NULL when not under Slurm */
    const char *command_line; /* the run's command, for CF "history"; NULL: "groksweep run" */
} OutputProvenance;

/* The current time as OutputProvenance.created wants it ("2026-11-23T09:30:05Z"). */
void output_time_now(char *buf, size_t size);

/* The layout's version (root attribute format_version). 2: text attributes
 * fixed-length, CF attributes, crossings' fill -1, grokking_delay_*. Status
 * inferred (4) came later within version 2: the layout is the same, and
 * status's flag_values and flag_meanings name the codes a file uses. */
#define OUTPUT_FORMAT_VERSION 2

/* Create the file at path, which must not exist (an existing file or a
 * symbolic link there is an error, never overwritten or followed), with
 * every object and attribute of the sweep, all points "not run" (fill
 * values). Returns NULL on failure with a message in err; nothing is left
 * at path then. */
OutputFile *output_create(const char *path, const Sweep *sweep, const OutputProvenance *provenance, char *err,
                          size_t errlen);

/* An upper bound on the bytes of the sweep's output file (every curve
 * written uncompressed, and HDF5's own structures). */
double output_size_bound(const Sweep *sweep);

/* The name under which the output at out_path is built before it is moved
 * into place: a hidden file in the same directory, named by a hash of the
 * output's name (so a user's OUT.h5.tmp is never touched, and names near the
 * file system's limit still fit). Returns 0, or -1 when it does not fit in
 * size bytes. */
int output_temp_path(const char *out_path, char *buf, size_t size);

/* Rename the open file to path (atomically, on the same file system);
 * later messages name path. Returns 0, or -1 with a message. */
int output_move(OutputFile *out, const char *path, char *err, size_t errlen);

/* Write one point's variables and curves, its status last, then flush the
 * file. An inferred record (point_result_inferred) holds fill values but
 * for its status and phase, so the point reads as inferred with every other
 * value missing. Returns 0, or -1 with a message in err. */
int output_write_point(OutputFile *out, long point, const PointResult *result, char *err, size_t errlen);

/* Write everything output_write_point has buffered and flush the file, so
 * that readers see every point written so far. Returns 0, or -1 with a
 * message in err. */
int output_flush(OutputFile *out, char *err, size_t errlen);

/* Give up a file that failed to write (a full file system, an I/O error):
 * close it as far as HDF5 can and remove it, so that no unreadable file
 * stays at its path; the journal holds every finished point, and the next
 * run rebuilds the file from it. out is freed. */
void output_discard(OutputFile *out);

/* Close the file. Returns 0, or -1 with a message in err. out is freed
 * either way. */
int output_close(OutputFile *out, char *err, size_t errlen);

#endif
