/* The MPI task farm: rank 0 hands points out to every rank, one at a time,
 * and collects what each rank made of them. It knows nothing of configs,
 * journals or files: four callbacks say what to train next, how to train a
 * point, how to record finished points, and when to stop.
 *
 * Rank 0 runs the driver loop on its main thread (the only thread that
 * calls MPI) and trains points on a second thread like any other rank.
 * Ranks 1..n-1 ask for work, train it and send back the result. Each
 * assignment carries a task of task_bytes (e.g. the point's resolved
 * config) and each trained point's message a result of result_bytes.
 *
 * Messages: worker → rank 0 (TAG_WORKER): a 16-byte header (int32 kind,
 * int32 unused, int64 point) then, for a trained point, its result bytes;
 * rank 0 → worker (TAG_ASSIGN): int64 point (or FARM_NO_MORE) then the
 * task bytes; rank 0 → a running worker (TAG_STOP): one int, abandon the
 * point and report it abandoned.
 *
 * Finished points are handed to record() in batches: every message that
 * arrived since the last batch (at most FARM_BATCH_CAPACITY), so a record
 * callback can make them all durable with one fsync. A worker gets its next
 * assignment only after its result was recorded.
 *
 * The farm makes no collective MPI call: the command around it does them
 * all, before and after. farm_drive returns when every rank has been told
 * there is no more work; farm_work when its rank has been told. */
#ifndef GROKSWEEP_FARM_H
#define GROKSWEEP_FARM_H

#include <mpi.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define FARM_NO_MORE (-1L) /* next(): nothing left, now or later */
#define FARM_NOT_YET (-2L) /* next(): nothing now; ask again after the next record() */
#define FARM_BATCH_CAPACITY 1024

typedef enum {
    FARM_TRAINED,   /* the result bytes are final */
    FARM_ABANDONED, /* stopped through should_stop: run it again another time */
    FARM_UNTRAINED  /* could not be trained here (an environment failure, already reported) */
} FarmOutcome;

/* One finished point of a batch. result is valid until record() returns. */
typedef struct {
    long point;
    FarmOutcome outcome;
    const unsigned char *result; /* (result_bytes), for FARM_TRAINED */
} FarmArrival;

/* What the farm tells tick() on every turn of the driver loop. */
typedef struct {
    long running;   /* points being trained now, on all ranks */
    bool progressed; /* something arrived or was handed out this turn */
    bool stopping;  /* a stop was begun */
} FarmState;

typedef struct {
    size_t task_bytes, result_bytes;
    /* Rank 0: the next point to hand out, its task written into task
     * (task_bytes); or FARM_NOT_YET / FARM_NO_MORE. Never called once a stop
     * was begun. */
    long (*next)(void *driver, unsigned char *task);
    /* Every rank (rank 0 on its training thread): train point from its task
     * into result (result_bytes), polling should_stop(stop_context) a few
     * times a second. */
    FarmOutcome (*train)(void *trainer, long point, const unsigned char *task, bool (*should_stop)(void *),
                         void *stop_context, unsigned char *result);
    /* Rank 0: a batch of finished points, in arrival order. Returns true to
     * begin a stop (e.g. the journal cannot grow). An abandoned point always
     * begins a stop, whatever this returns. */
    bool (*record)(void *driver, const FarmArrival *arrivals, int count);
    /* Rank 0, once per turn of the loop: progress, timers. Returns true to
     * begin a stop (a signal, a stop file). */
    bool (*tick)(void *driver, const FarmState *state);
    void *driver;  /* rank 0's context for next, record and tick */
    void *trainer; /* train's context, on every rank */
    /* Set by this rank's signal handler; a worker seeing it abandons its point. */
    const volatile sig_atomic_t *signal_received;
} FarmHooks;

/* Counters of one farm_drive, for run --timing. */
typedef struct {
    long recorded;        /* trained points passed to record() */
    long batches;         /* record() calls */
    double loop_seconds;  /* the driver loop from first assignment to the end */
    double busy_seconds;  /* of which handling messages, record() and assignments */
    double busy_cpu_seconds; /* the driver thread's CPU time in those (not waiting for the disk, not preempted) */
    double record_seconds; /* of which inside record() */
} FarmStats;

/* Rank 0 of n_ranks: run the driver loop to the end. Returns 0, or -1 with
 * a message in err when the training thread cannot start or memory runs out
 * (then the caller must MPI_Abort: workers are waiting). MPI failures abort
 * the job. */
int farm_drive(const FarmHooks *hooks, int n_ranks, FarmStats *stats, char *err, size_t errlen);

/* Ranks 1..n-1: ask for points, train them and send the results back until
 * told there is no more work. Returns 0, or -1 with a message when memory
 * runs out (the caller must MPI_Abort). */
int farm_work(const FarmHooks *hooks, char *err, size_t errlen);

/* Complete request without spinning a core (Open MPI's blocking calls
 * busy-poll): short sleeps that grow to 1 ms. MPI failures abort the job. */
void farm_wait_gently(MPI_Request *request);

#endif
