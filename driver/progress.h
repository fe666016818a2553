/* Sweep progress on stderr: a live line on a terminal, plain periodic
 * lines otherwise (batch logs), or nothing. */
#ifndef GROKSWEEP_PROGRESS_H
#define GROKSWEEP_PROGRESS_H

#include <stdbool.h>

typedef struct {
    long total, done, diverged, failed, running;
    long phases[5];               /* finished points by phase: none, comprehension, grokking, memorization,
                                     confusion */
    double cost_total, cost_done; /* estimated flops of all and of finished points */
} ProgressCounts;

/* How progress is shown: PROGRESS_AUTO is live when stderr is a terminal,
 * or when GROKSWEEP_PROGRESS=live says the launcher's is (run --ranks). */
typedef enum { PROGRESS_AUTO, PROGRESS_LIVE, PROGRESS_LOG, PROGRESS_NONE } ProgressMode;

/* "live", "log", "none" (or "auto") into *mode: 0, or -1 for any other text. */
int progress_mode_parse(const char *text, ProgressMode *mode);

typedef struct {
    bool quiet, terminal;
    double start, last_print;
    double interval;   /* seconds between lines */
    long done_at_start;     /* points already finished when the sweep (re)started */
    double cost_at_start;   /* and their estimated cost */
} Progress;

void progress_init(Progress *progress, ProgressMode mode, long done_at_start, double cost_at_start);

/* Print if the interval has passed, or always when force is set. */
void progress_update(Progress *progress, const ProgressCounts *counts, bool force);

/* End the live line (a newline on a terminal). */
void progress_finish(Progress *progress, const ProgressCounts *counts);

/* Seconds on a clock that only moves forward. */
double monotonic_seconds(void);

/* CPU seconds the calling thread has used. */
double thread_cpu_seconds(void);

#endif
