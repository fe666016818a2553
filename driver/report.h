/* Reading a sweep's HDF5 output for `groksweep report`: provenance, the
 * grid (the dimension scales of `status`, in the file's axis order) and the
 * per-point variables the report shows.
 *
 * Works on a file whose sweep is still running: the file is opened read-only
 * with HDF5 file locking off (the writer holds its lock), and what the writer
 * has flushed is read. Points never written read as fill values (not run).
 * The writer flushes after each point, writing `status` last; a point caught
 * mid-write (done, but its other values not yet visible) makes the reader try
 * again, and one still unsettled after a few tries is reported as not run. */
#ifndef GROKSWEEP_REPORT_H
#define GROKSWEEP_REPORT_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_MAX_AXES 32

typedef struct {
    char *name;         /* the coordinate's name ("lr") */
    char *path;         /* its config path ("optimizer.lr") from config_key (format 1: long_name), or NULL */
    int length;
    double *numbers;    /* (length) numeric values; NULL for a string axis */
    char **labels;      /* (length) shortest "%.Ng" (N >= 3) telling the values apart, an
                           integer, false/true, or the string */
} ReportAxis;

typedef struct {
    char *groksweep_version, *created, *slurm_job_id, *sweep_json; /* NULL when absent */
    int mpi_ranks;      /* -1 when absent */
    int n_axes;
    ReportAxis axes[REPORT_MAX_AXES];
    long n_points;
    /* (n_points) in row-major order over the axes (last axis fastest) */
    int8_t *status;     /* 0 not run, 1 done, 2 diverged, 3 failed, 4 inferred (not trained) */
    int8_t *phase;      /* 0 none, 1 comprehension, 2 grokking, 3 memorization, 4 confusion; of an
                           inferred point, its refinement cell's */
    int32_t *train_step_90, *test_step_90; /* first step with accuracy >= 0.9; -1 never */
    float *wall_seconds; /* wall-clock time of the run; NaN when not run */
    long n_unsettled;   /* points caught mid-write, set to not run */
} SweepSnapshot;

/* Read the file at path into s. Returns 0; 2 (EXIT_BAD_INPUT) when the file
 * is missing, unreadable or not a groksweep sweep file; 1 (EXIT_ENVIRONMENT)
 * on an HDF5 or memory failure. On failure err holds one line starting with
 * the path, and s needs no freeing. */
int report_read(const char *path, SweepSnapshot *s, char *err, size_t errlen);

void report_snapshot_free(SweepSnapshot *s);

#endif
