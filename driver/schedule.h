/* Which point a sweep trains next: the unfinished points, most expensive
 * first (ties: lowest index), and under a `refine` section only those the
 * refinement has asked for so far (refine.h), as the results that decide
 * them come in. Rank 0 only; no MPI, no files. */
#ifndef GROKSWEEP_SCHEDULE_H
#define GROKSWEEP_SCHEDULE_H

#include <stdbool.h>

#include "refine.h"
#include "sweep.h"

typedef struct {
    long point;
    double cost;
} ScheduledPoint;

typedef struct {
    long n_points;
    const double *cost;    /* (n_points) estimated flops, borrowed */
    bool *finished;        /* (n_points) recorded (this run or a journal before) */
    bool *queued;          /* (n_points) in the heap or handed out */
    ScheduledPoint *heap;  /* (n_points) max-heap by cost */
    long n_heap;
    Refiner *refiner;      /* NULL: every point is trained */
    long *ready;           /* (n_points) scratch for refiner_take_ready */
} Schedule;

/* Set up for the sweep's points with their costs (kept by reference). A
 * sweep with a refine section gets a Refiner. Returns 0, or -1 with a
 * message when memory runs out. */
int schedule_init(Schedule *schedule, const Sweep *sweep, const double *cost, char *err, size_t errlen);

/* A point's record is durable (journaled): it is never handed out again,
 * and the refinement learns its outcome. Any order; also before
 * schedule_start (a journal replayed). */
void schedule_finished(Schedule *schedule, long point, int status, int phase);

/* After the journal is replayed: queue what can be trained now. */
void schedule_start(Schedule *schedule);

/* The next point to train: >= 0, FARM_NOT_YET while the refinement waits
 * for results, FARM_NO_MORE when nothing is left. */
long schedule_next(Schedule *schedule);

/* Points the sweep needs trained so far (all, or the refinement's). */
long schedule_needed(const Schedule *schedule);

/* Whether every point the sweep needs is finished. */
bool schedule_complete(const Schedule *schedule);

void schedule_free(Schedule *schedule);

#endif
