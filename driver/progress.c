#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define TERMINAL_INTERVAL 0.5
#define LOG_INTERVAL 30.0

double monotonic_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(Progress *progress, bool quiet, long done_at_start, double cost_at_start) {
    progress->quiet = quiet;
    progress->terminal = isatty(STDERR_FILENO);
    progress->start = progress->last_print = monotonic_seconds();
    progress->interval = progress->terminal ? TERMINAL_INTERVAL : LOG_INTERVAL;
    progress->done_at_start = done_at_start;
    progress->cost_at_start = cost_at_start;
}

static void format_duration(double seconds, char *buf, size_t size) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, size, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60)
        snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(buf, size, "%lds", s);
}

static void print_line(Progress *progress, const ProgressCounts *c, double now) {
    double elapsed = now - progress->start;
    long finished_here = c->done - progress->done_at_start;
    double per_minute = elapsed > 0 ? 60.0 * finished_here / elapsed : 0;
    char eta[32] = "?";
    double cost_left = c->cost_total - c->cost_done, cost_here = c->cost_done - progress->cost_at_start;
    if (finished_here > 0 && cost_here > 0 && elapsed > 0) {
        /* cost throughput measured since the start of this invocation */
        format_duration(cost_left * elapsed / cost_here, eta, sizeof eta);
    }
    if (c->done == c->total) snprintf(eta, sizeof eta, "0s");
    fprintf(stderr, "%sgroksweep: %ld/%ld done (%ld diverged, %ld failed), %ld running, %.1f points/min, ETA %s%s",
            progress->terminal ? "\r" : "", c->done, c->total, c->diverged, c->failed, c->running, per_minute, eta,
            progress->terminal ? "\033[K" : "\n");
    fflush(stderr);
    progress->last_print = now;
}

void progress_update(Progress *progress, const ProgressCounts *counts, bool force) {
    if (progress->quiet) return;
    double now = monotonic_seconds();
    if (force || now - progress->last_print >= progress->interval) print_line(progress, counts, now);
}

void progress_finish(Progress *progress, const ProgressCounts *counts) {
    if (progress->quiet) return;
    print_line(progress, counts, monotonic_seconds());
    if (progress->terminal) fputc('\n', stderr);
}
