#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define TERMINAL_INTERVAL 0.5
#define LOG_INTERVAL 30.0

double monotonic_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int progress_mode_parse(const char *text, ProgressMode *mode) {
    static const char *const names[] = {"auto", "live", "log", "none"};
    for (int m = 0; m < 4; m++)
        if (strcmp(text, names[m]) == 0) {
            *mode = (ProgressMode)m;
            return 0;
        }
    return -1;
}

void progress_init(Progress *progress, ProgressMode mode, long done_at_start, double cost_at_start) {
    if (mode == PROGRESS_AUTO) {
        const char *launcher = getenv("GROKSWEEP_PROGRESS");
        mode = isatty(STDERR_FILENO) || (launcher && strcmp(launcher, "live") == 0) ? PROGRESS_LIVE : PROGRESS_LOG;
    }
    progress->quiet = mode == PROGRESS_NONE;
    progress->terminal = mode == PROGRESS_LIVE;
    progress->start = progress->last_print = monotonic_seconds();
    progress->interval = progress->terminal ? TERMINAL_INTERVAL : LOG_INTERVAL;
    progress->done_at_start = done_at_start;
    progress->cost_at_start = cost_at_start;
}

/* Columns of the terminal stderr is (or, for a rank started by run
 * --ranks, $COLUMNS, which the launcher sets), else 80. */
static int terminal_width(void) {
    struct winsize size;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20) return size.ws_col;
    const char *columns = getenv("COLUMNS");
    int n = columns ? atoi(columns) : 0;
    return n >= 20 && n <= 1000 ? n : 80;
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
    char took[32], line[512];
    format_duration(elapsed, took, sizeof took);
    snprintf(line, sizeof line,
             "groksweep: %ld/%ld done (%ld diverged, %ld failed), %ld running, %s elapsed, %.1f points/min, ETA %s, "
             "phases C/G/M/X %ld/%ld/%ld/%ld",
             c->done, c->total, c->diverged, c->failed, c->running, took, per_minute, eta, c->phases[1], c->phases[2],
             c->phases[3], c->phases[4]);
    if (progress->terminal) /* one screen line, or the redraw would scroll */
        fprintf(stderr, "\r%.*s\033[K", terminal_width() - 1, line);
    else
        fprintf(stderr, "%s\n", line);
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
