/* The points of a sweep output one by one, for `groksweep report`. */
#ifndef GROKSWEEP_REPORT_POINTS_H
#define GROKSWEEP_REPORT_POINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

extern const char *const REPORT_STATUS_NAMES[5]; /* not_run done diverged failed inferred */
extern const char *const REPORT_PHASE_NAMES[5];  /* none comprehension grokking memorization confusion */

/* "data_fraction=0.3 weight_decay=1 ..." of point p (row-major index). */
void report_point_label(const SweepSnapshot *s, long p, char *buf, size_t size);

/* The summed wall time of the points that ran, and how many were timed. */
double report_compute_seconds(const SweepSnapshot *s, long *timed);

/* "42.0 s", "3m05s", "2h10m", "3d04h". */
void report_format_duration(double seconds, char *buf, size_t size);

/* List the failed, diverged and not run points (at most 20 of each) with
 * their index and coordinates; nothing when every point is done or
 * inferred (inferred points are settled: only their count is reported). */
void report_print_not_done(const SweepSnapshot *s, bool markdown);

/* Point p: coordinates, status, phase, 90% crossings, wall time (an
 * inferred point: its inferred phase, said to be untrained), and the
 * `groksweep train` command that reproduces (or trains) it. Returns 0, or 2
 * after a message when p is not a point of the file. */
int report_print_point(const SweepSnapshot *s, const char *path, long p);

/* The sweep's run config without its grid, as JSON (what --set applies
 * to). Returns 0, 1 (memory) or 2 (no readable sweep attribute). */
int report_print_base_config(const SweepSnapshot *s, const char *path);

/* The report's numbers as one JSON object: provenance, axes with their
 * values, counts by status and phase (of the trained points; the inferred
 * ones' phases apart), compute time, the points not done. */
void report_print_json(const SweepSnapshot *s, const char *path);

#endif
