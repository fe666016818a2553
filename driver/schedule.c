/* The order points are trained in (see schedule.h). */
#include "schedule.h"

#include <stdlib.h>

#include "check.h"
#include "error.h"
#include "farm.h"

/* Whether a goes before b: more expensive first, then lower index. */
static bool before(const ScheduledPoint *a, const ScheduledPoint *b) {
    if (a->cost != b->cost) return a->cost > b->cost;
    return a->point < b->point;
}

static void heap_push(Schedule *s, long point) {
    ASSERT(s->n_heap < s->n_points);
    long i = s->n_heap++;
    ScheduledPoint item = {point, s->cost[point]};
    while (i > 0 && before(&item, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = item;
}

static long heap_pop(Schedule *s) {
    ASSERT(s->n_heap > 0);
    long top = s->heap[0].point;
    ScheduledPoint last = s->heap[--s->n_heap];
    long i = 0;
    for (;;) {
        long child = 2 * i + 1;
        if (child >= s->n_heap) break;
        if (child + 1 < s->n_heap && before(&s->heap[child + 1], &s->heap[child])) child++;
        if (!before(&s->heap[child], &last)) break;
        s->heap[i] = s->heap[child];
        i = child;
    }
    if (s->n_heap > 0) s->heap[i] = last;
    return top;
}

/* Queue the points the refinement has newly asked for. */
static void take_ready(Schedule *s) {
    long n = refiner_take_ready(s->refiner, s->ready, s->n_points);
    for (long i = 0; i < n; i++) {
        long point = s->ready[i];
        if (!s->finished[point] && !s->queued[point]) {
            s->queued[point] = true;
            heap_push(s, point);
        }
    }
}

int schedule_init(Schedule *s, const Sweep *sweep, const double *cost, char *err, size_t errlen) {
    ASSERT(s && sweep && cost);
    long n = sweep->n_points;
    *s = (Schedule){.n_points = n, .cost = cost};
    s->finished = calloc((size_t)n, sizeof *s->finished);
    s->queued = calloc((size_t)n, sizeof *s->queued);
    s->heap = malloc(sizeof *s->heap * (size_t)n);
    if (sweep->coarse_stride > 0) {
        s->refiner = refiner_create(sweep, err, errlen);
        s->ready = malloc(sizeof *s->ready * (size_t)n);
        if (!s->refiner) {
            schedule_free(s);
            return -1;
        }
    }
    if (!s->finished || !s->queued || !s->heap || (s->refiner && !s->ready)) {
        schedule_free(s);
        return error_format(err, errlen, "out of memory scheduling %ld points", n);
    }
    return 0;
}

void schedule_finished(Schedule *s, long point, int status, int phase) {
    ASSERT(point >= 0 && point < s->n_points);
    if (s->finished[point]) return; /* a journal may hold a point twice */
    s->finished[point] = true;
    if (s->refiner) refiner_record(s->refiner, point, status, phase);
}

void schedule_start(Schedule *s) {
    if (s->refiner) {
        take_ready(s);
        return;
    }
    for (long p = 0; p < s->n_points; p++)
        if (!s->finished[p]) {
            s->queued[p] = true;
            heap_push(s, p);
        }
}

long schedule_next(Schedule *s) {
    if (s->refiner) take_ready(s);
    if (s->n_heap > 0) return heap_pop(s);
    return s->refiner && !refiner_complete(s->refiner) ? FARM_NOT_YET : FARM_NO_MORE;
}

long schedule_needed(const Schedule *s) { return s->refiner ? refiner_needed(s->refiner) : s->n_points; }

bool schedule_complete(const Schedule *s) {
    if (s->refiner) return refiner_complete(s->refiner);
    for (long p = 0; p < s->n_points; p++)
        if (!s->finished[p]) return false;
    return true;
}

void schedule_free(Schedule *s) {
    free(s->finished);
    free(s->queued);
    free(s->heap);
    free(s->ready);
    if (s->refiner) refiner_free(s->refiner);
    *s = (Schedule){0};
}
