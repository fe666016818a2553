/* Sweep progress on stderr: a live line on a terminal, plain periodic
 * lines otherwise (batch logs). */
#ifndef GROKSWEEP_PROGRESS_H
#define GROKSWEEP_PROGRESS_H

#include <stdbool.h>

typedef struct {
    long total, done, diverged, failed, running;
    double cost_total, cost_done; /* estimated flops of all and of finished points */
} ProgressCounts;

typedef struct {
    bool quiet, terminal;
    double start, last_print;
    double interval;   /* seconds between lines */
    long done_at_start;     /* points already finished when the sweep (re)started */
    double cost_at_start;   /* and their estimated cost */
} Progress;

void progress_init(Progress *progress, bool quiet, long done_at_start, double cost_at_start);

/* Print if the interval has passed, or always when force is set. */
void progress_update(Progress *progress, const ProgressCounts *counts, bool force);

/* End the live line (a newline on a terminal). */
void progress_finish(Progress *progress, const ProgressCounts *counts);

double monotonic_seconds(void);

#endif
