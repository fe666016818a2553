/* The MPI task farm (see farm.h). */
#include "farm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "error.h"
#include "progress.h"

enum { TAG_WORKER = 1, TAG_ASSIGN = 2, TAG_STOP = 3 };
enum { MSG_READY = 0, MSG_RESULT = 1, MSG_INTERRUPTED = 2, MSG_UNTRAINED = 3 };
#define HEADER_BYTES 16 /* int32 kind, int32 unused, int64 point */
#define STOP_POLL_SECONDS 0.2
#define WAITING (-2L)
#define SHORTEST_NAP_NS 10000L    /* 10 µs */
#define LONGEST_NAP_NS 1000000L   /* 1 ms */

_Noreturn static void mpi_failed(const char *call, int code) {
    char message[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, message, &length);
    fprintf(stderr, "groksweep: MPI call %s failed: %s\n", call, message);
    MPI_Abort(MPI_COMM_WORLD, 1);
    abort(); /* MPI_Abort does not return */
}

#define MPI_CHECK(call)                                             \
    do {                                                            \
        int mpi_code_ = (call);                                     \
        if (mpi_code_ != MPI_SUCCESS) mpi_failed(#call, mpi_code_); \
    } while (0)

/* Sleep for *nap nanoseconds and double it for next time, up to 1 ms. */
static void nap(long *nap_ns) {
    struct timespec pause = {0, *nap_ns};
    nanosleep(&pause, NULL);
    *nap_ns = *nap_ns * 2 > LONGEST_NAP_NS ? LONGEST_NAP_NS : *nap_ns * 2;
}

void farm_wait_gently(MPI_Request *request) {
    long nap_ns = SHORTEST_NAP_NS;
    for (;;) {
        int done = 0;
        MPI_CHECK(MPI_Test(request, &done, MPI_STATUS_IGNORE));
        if (done) return;
        nap(&nap_ns);
    }
}

static void pack_header(unsigned char *buffer, int kind, long point) {
    int32_t header_kind = kind, unused = 0;
    int64_t index = point;
    memcpy(buffer, &header_kind, 4);
    memcpy(buffer + 4, &unused, 4);
    memcpy(buffer + 8, &index, 8);
}

/* ---------------------------------------------------------------- workers */

typedef struct {
    const volatile sig_atomic_t *signal_received;
    MPI_Request *stop_request;
    bool stop;
    double last_poll;
} RemoteStop;

/* should_stop of a worker rank: a signal here, or the driver's stop message
 * (polled a few times a second). */
static bool remote_should_stop(void *context) {
    RemoteStop *s = context;
    if (*s->signal_received) return true;
    if (!s->stop) {
        double now = monotonic_seconds();
        if (now - s->last_poll >= STOP_POLL_SECONDS) {
            int arrived = 0;
            MPI_CHECK(MPI_Test(s->stop_request, &arrived, MPI_STATUS_IGNORE));
            s->stop = arrived;
            s->last_poll = now;
        }
    }
    return s->stop;
}

int farm_work(const FarmHooks *hooks, char *err, size_t errlen) {
    size_t message_size = HEADER_BYTES + hooks->result_bytes, assignment_size = 8 + hooks->task_bytes;
    unsigned char *message = malloc(message_size), *assignment = malloc(assignment_size);
    if (!message || !assignment) {
        free(message);
        free(assignment);
        return error_format(err, errlen, "out of memory for the farm's messages (%zu bytes)", message_size);
    }
    int stop_message = 0;
    MPI_Request stop_request;
    MPI_CHECK(MPI_Irecv(&stop_message, 1, MPI_INT, 0, TAG_STOP, MPI_COMM_WORLD, &stop_request));
    RemoteStop stop = {hooks->signal_received, &stop_request, false, 0};

    pack_header(message, MSG_READY, FARM_NO_MORE);
    MPI_CHECK(MPI_Send(message, HEADER_BYTES, MPI_BYTE, 0, TAG_WORKER, MPI_COMM_WORLD));
    for (;;) {
        MPI_Request request;
        MPI_CHECK(MPI_Irecv(assignment, (int)assignment_size, MPI_BYTE, 0, TAG_ASSIGN, MPI_COMM_WORLD, &request));
        farm_wait_gently(&request);
        int64_t point;
        memcpy(&point, assignment, 8);
        if (point == FARM_NO_MORE) break;
        ASSERT(point >= 0);
        FarmOutcome outcome =
            hooks->train(hooks->trainer, (long)point, assignment + 8, remote_should_stop, &stop, message + HEADER_BYTES);
        int kind = outcome == FARM_TRAINED ? MSG_RESULT : outcome == FARM_ABANDONED ? MSG_INTERRUPTED : MSG_UNTRAINED;
        pack_header(message, kind, (long)point);
        int size = kind == MSG_RESULT ? (int)message_size : HEADER_BYTES;
        MPI_CHECK(MPI_Send(message, size, MPI_BYTE, 0, TAG_WORKER, MPI_COMM_WORLD));
    }
    int arrived = 0;
    MPI_CHECK(MPI_Test(&stop_request, &arrived, MPI_STATUS_IGNORE));
    if (!arrived) {
        MPI_CHECK(MPI_Cancel(&stop_request));
        MPI_CHECK(MPI_Wait(&stop_request, MPI_STATUS_IGNORE));
    }
    free(message);
    free(assignment);
    return 0;
}

/* ----------------------------------------------- rank 0's training thread */

/* The training thread of rank 0, fed by the driver thread (which alone
 * calls MPI) through assigned/result_ready under lock. */
typedef struct {
    const FarmHooks *hooks;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    long assigned;      /* point to train, FARM_NO_MORE to quit, or WAITING */
    unsigned char *task; /* (task_bytes) of the assigned point */
    bool result_ready;
    FarmOutcome result_outcome;
    long result_point;
    unsigned char *result; /* (result_bytes) */
    atomic_int stop;
} LocalWorker;

static bool local_should_stop(void *context) {
    LocalWorker *w = context;
    return *w->hooks->signal_received || atomic_load(&w->stop);
}

static void *local_worker_main(void *arg) {
    LocalWorker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->assigned == WAITING) pthread_cond_wait(&w->wake, &w->lock);
        if (w->assigned == FARM_NO_MORE) break;
        long point = w->assigned;
        w->assigned = WAITING;
        pthread_mutex_unlock(&w->lock);
        FarmOutcome outcome = w->hooks->train(w->hooks->trainer, point, w->task, local_should_stop, w, w->result);
        pthread_mutex_lock(&w->lock);
        w->result_ready = true;
        w->result_outcome = outcome;
        w->result_point = point;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* --------------------------------------------------------------- driver */

typedef struct {
    const FarmHooks *hooks;
    int n_ranks;
    long *running;        /* (n_ranks) point per remote rank, or WAITING; [0] the training thread's */
    bool *told_no_more;   /* (n_ranks) */
    bool *waiting;        /* (n_ranks) asked for work and got none yet */
    int *to_answer;       /* (n_ranks) ranks that need an assignment this turn */
    int n_to_answer;
    FarmArrival arrivals[FARM_BATCH_CAPACITY];
    unsigned char *results; /* (FARM_BATCH_CAPACITY, result_bytes) */
    int n_arrivals;
    unsigned char *message;    /* (HEADER_BYTES + result_bytes) the posted receive */
    unsigned char *assignment; /* (8 + task_bytes) */
    MPI_Request request;
    long remote_active;   /* remote ranks not yet told FARM_NO_MORE */
    bool local_active;
    bool stopping;
    LocalWorker local;
} Farm;

static long count_running(const Farm *f) {
    long n = 0;
    for (int r = 0; r < f->n_ranks; r++) n += f->running[r] >= 0;
    return n;
}

static void begin_stop(Farm *f) {
    if (f->stopping) return;
    f->stopping = true;
    for (int r = 1; r < f->n_ranks; r++) {
        if (f->running[r] >= 0) {
            int stop = 1;
            MPI_CHECK(MPI_Send(&stop, 1, MPI_INT, r, TAG_STOP, MPI_COMM_WORLD));
        }
    }
    atomic_store(&f->local.stop, 1);
}

/* Hand point (FARM_NO_MORE: none, ever) to rank r (0: the training
 * thread), its task in f->assignment + 8. */
static void assign(Farm *f, int r, long point) {
    f->waiting[r] = false;
    f->running[r] = point >= 0 ? point : WAITING;
    if (r == 0) {
        pthread_mutex_lock(&f->local.lock);
        if (point >= 0) memcpy(f->local.task, f->assignment + 8, f->hooks->task_bytes);
        f->local.assigned = point;
        pthread_cond_signal(&f->local.wake);
        pthread_mutex_unlock(&f->local.lock);
        if (point < 0) f->local_active = false;
        return;
    }
    int64_t index = point;
    memcpy(f->assignment, &index, 8);
    int size = point >= 0 ? (int)(8 + f->hooks->task_bytes) : 8;
    MPI_CHECK(MPI_Send(f->assignment, size, MPI_BYTE, r, TAG_ASSIGN, MPI_COMM_WORLD));
    if (point < 0) {
        f->told_no_more[r] = true;
        f->remote_active--;
    }
}

/* Give rank r its next point (none once stopping); when the driver has none
 * now, r is left waiting. */
static void answer(Farm *f, int r) {
    long point = f->stopping ? FARM_NO_MORE : f->hooks->next(f->hooks->driver, f->assignment + 8);
    ASSERT(point >= 0 || point == FARM_NO_MORE || point == FARM_NOT_YET);
    if (point == FARM_NOT_YET)
        f->waiting[r] = true;
    else
        assign(f, r, point);
}

/* Add a finished point to this turn's batch; its result bytes are copied. */
static void add_arrival(Farm *f, long point, FarmOutcome outcome, const unsigned char *result) {
    ASSERT(f->n_arrivals < FARM_BATCH_CAPACITY);
    unsigned char *slot = f->results + (size_t)f->n_arrivals * f->hooks->result_bytes;
    if (outcome == FARM_TRAINED) memcpy(slot, result, f->hooks->result_bytes);
    f->arrivals[f->n_arrivals++] = (FarmArrival){point, outcome, outcome == FARM_TRAINED ? slot : NULL};
}

/* Take every message that has arrived (up to a full batch) and the training
 * thread's result, into the batch and the ranks to answer. */
static void collect(Farm *f) {
    while (f->request != MPI_REQUEST_NULL && f->n_arrivals < FARM_BATCH_CAPACITY) {
        int arrived = 0;
        MPI_Status status;
        MPI_CHECK(MPI_Test(&f->request, &arrived, &status));
        if (!arrived) break;
        int rank = status.MPI_SOURCE;
        int32_t kind;
        int64_t point;
        memcpy(&kind, f->message, 4);
        memcpy(&point, f->message + 8, 8);
        ASSERT(rank > 0 && rank < f->n_ranks && !f->told_no_more[rank]);
        if (kind == MSG_RESULT) add_arrival(f, (long)point, FARM_TRAINED, f->message + HEADER_BYTES);
        else if (kind == MSG_INTERRUPTED) add_arrival(f, (long)point, FARM_ABANDONED, NULL);
        else if (kind == MSG_UNTRAINED) add_arrival(f, (long)point, FARM_UNTRAINED, NULL);
        f->running[rank] = WAITING;
        f->to_answer[f->n_to_answer++] = rank;
        MPI_CHECK(MPI_Irecv(f->message, (int)(HEADER_BYTES + f->hooks->result_bytes), MPI_BYTE, MPI_ANY_SOURCE,
                            TAG_WORKER, MPI_COMM_WORLD, &f->request));
    }
    if (f->local_active && f->n_arrivals < FARM_BATCH_CAPACITY) {
        pthread_mutex_lock(&f->local.lock);
        bool ready = f->local.result_ready;
        f->local.result_ready = false;
        pthread_mutex_unlock(&f->local.lock);
        if (ready) {
            add_arrival(f, f->local.result_point, f->local.result_outcome, f->local.result);
            f->running[0] = WAITING;
            f->to_answer[f->n_to_answer++] = 0;
        }
    }
}

static int farm_alloc(Farm *f, const FarmHooks *hooks, int n_ranks) {
    memset(f, 0, sizeof *f);
    f->hooks = hooks;
    f->n_ranks = n_ranks;
    f->request = MPI_REQUEST_NULL;
    f->running = malloc(sizeof *f->running * (size_t)n_ranks);
    f->told_no_more = calloc((size_t)n_ranks, sizeof *f->told_no_more);
    f->waiting = calloc((size_t)n_ranks, sizeof *f->waiting);
    f->to_answer = malloc(sizeof *f->to_answer * (size_t)n_ranks);
    f->results = malloc((size_t)FARM_BATCH_CAPACITY * (hooks->result_bytes ? hooks->result_bytes : 1));
    f->message = malloc(HEADER_BYTES + hooks->result_bytes);
    f->assignment = malloc(8 + hooks->task_bytes);
    f->local.task = malloc(hooks->task_bytes ? hooks->task_bytes : 1);
    f->local.result = malloc(hooks->result_bytes ? hooks->result_bytes : 1);
    if (!f->running || !f->told_no_more || !f->waiting || !f->to_answer || !f->results || !f->message ||
        !f->assignment || !f->local.task || !f->local.result)
        return -1;
    for (int r = 0; r < n_ranks; r++) f->running[r] = WAITING;
    return 0;
}

static void farm_release(Farm *f) {
    free(f->running);
    free(f->told_no_more);
    free(f->waiting);
    free(f->to_answer);
    free(f->results);
    free(f->message);
    free(f->assignment);
    free(f->local.task);
    free(f->local.result);
}

int farm_drive(const FarmHooks *hooks, int n_ranks, FarmStats *stats, char *err, size_t errlen) {
    ASSERT(hooks && hooks->next && hooks->train && hooks->record && hooks->tick && hooks->signal_received);
    ASSERT(n_ranks >= 1);
    memset(stats, 0, sizeof *stats);
    Farm f;
    if (farm_alloc(&f, hooks, n_ranks) != 0) {
        farm_release(&f);
        return error_format(err, errlen, "out of memory for the farm of %d ranks", n_ranks);
    }
    f.local.hooks = hooks;
    f.local.assigned = WAITING;
    atomic_init(&f.local.stop, 0);
    if (pthread_mutex_init(&f.local.lock, NULL) != 0 || pthread_cond_init(&f.local.wake, NULL) != 0 ||
        pthread_create(&f.local.thread, NULL, local_worker_main, &f.local) != 0) {
        farm_release(&f);
        return error_format(err, errlen, "cannot start the training thread of rank 0");
    }
    f.remote_active = n_ranks - 1;
    f.local_active = true;
    if (f.remote_active > 0)
        MPI_CHECK(MPI_Irecv(f.message, (int)(HEADER_BYTES + hooks->result_bytes), MPI_BYTE, MPI_ANY_SOURCE, TAG_WORKER,
                            MPI_COMM_WORLD, &f.request));
    f.to_answer[f.n_to_answer++] = 0; /* the training thread asks first */
    double loop_start = monotonic_seconds();
    long nap_ns = SHORTEST_NAP_NS;
    while (f.remote_active > 0 || f.local_active) {
        double turn_start = monotonic_seconds(), turn_cpu_start = thread_cpu_seconds();
        collect(&f);
        bool progressed = f.n_arrivals > 0 || f.n_to_answer > 0;
        bool stop = false;
        if (f.n_arrivals > 0) {
            double record_start = monotonic_seconds();
            stop = hooks->record(hooks->driver, f.arrivals, f.n_arrivals);
            stats->record_seconds += monotonic_seconds() - record_start;
            stats->batches++;
            for (int i = 0; i < f.n_arrivals; i++) {
                stats->recorded += f.arrivals[i].outcome == FARM_TRAINED;
                stop |= f.arrivals[i].outcome == FARM_ABANDONED; /* a signal reached that rank */
            }
            f.n_arrivals = 0;
        }
        if (stop) begin_stop(&f);
        for (int i = 0; i < f.n_to_answer; i++) answer(&f, f.to_answer[i]);
        f.n_to_answer = 0;
        /* ranks left waiting may have work now that results came in */
        for (int r = 0; r < n_ranks && progressed; r++)
            if (f.waiting[r]) answer(&f, r);
        /* everyone waiting and nothing running: no result can ever make work */
        long running = count_running(&f);
        for (int r = 0; r < n_ranks && running == 0; r++)
            if (f.waiting[r]) assign(&f, r, FARM_NO_MORE);
        if (progressed) {
            stats->busy_seconds += monotonic_seconds() - turn_start;
            stats->busy_cpu_seconds += thread_cpu_seconds() - turn_cpu_start;
        }
        FarmState state = {running, progressed, f.stopping};
        if (hooks->tick(hooks->driver, &state)) begin_stop(&f);
        if (progressed)
            nap_ns = SHORTEST_NAP_NS;
        else
            nap(&nap_ns);
    }
    stats->loop_seconds = monotonic_seconds() - loop_start;
    if (f.request != MPI_REQUEST_NULL) { /* every rank was told no more: nothing can arrive */
        MPI_CHECK(MPI_Cancel(&f.request));
        MPI_CHECK(MPI_Wait(&f.request, MPI_STATUS_IGNORE));
    }
    pthread_join(f.local.thread, NULL);
    pthread_mutex_destroy(&f.local.lock);
    pthread_cond_destroy(&f.local.wake);
    farm_release(&f);
    return 0;
}
