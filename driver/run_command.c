/* `groksweep run SWEEP.json -o OUT.h5 [--force] [--quiet]`: the MPI sweep.
 *
 * Rank 0 is the driver. Its main thread hands grid points out one at a
 * time, most expensive first, to whichever worker is free, records every
 * finished point in the journal (fsync'd) and then in the HDF5 file
 * (flushed), and prints progress. It never busy-waits: it polls MPI with
 * short sleeps. A second thread on rank 0 trains points like any other
 * worker, so every rank's core trains. Ranks 1..n-1 are workers. Results
 * depend only on each point's config, never on the rank that ran it.
 *
 * SIGINT, SIGTERM or SIGUSR1 on any rank stops the sweep: no new points
 * are handed out, running points are abandoned within a fraction of a
 * second, and the command exits with EXIT_INTERRUPTED. Running the same
 * command again resumes: journaled points are kept, the rest run. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "commands.h"
#include "extend.h"
#include "journal.h"
#include "launch.h"
#include "output.h"
#include "output_lock.h"
#include "point.h"
#include "progress.h"
#include "sweep.h"

#ifndef GROKSWEEP_VERSION
#define GROKSWEEP_VERSION "unknown"
#endif

enum { TAG_WORKER = 1, TAG_ASSIGN = 2, TAG_STOP = 3, TAG_TEXT = 4 };
enum { MSG_READY = 0, MSG_RESULT = 1, MSG_INTERRUPTED = 2, MSG_UNTRAINED = 3 };
#define NO_MORE_WORK (-1L)
#define HEADER_BYTES 16 /* int32 kind, int32 unused, int64 point */
#define STOP_POLL_SECONDS 0.2

static volatile sig_atomic_t signal_received = 0;

static void on_signal(int sig) { signal_received = sig; }

/* Rank 0 under run --ranks: whether the launcher asked for a stop by
 * creating GROKSWEEP_STOP_FILE (looked for at most every STOP_POLL_SECONDS);
 * then the run stops as on a SIGUSR1. */
static bool launcher_asked_stop(void) {
    static const char *path = NULL;
    static bool looked_up = false;
    static double last_look = -1;
    if (!looked_up) {
        path = getenv("GROKSWEEP_STOP_FILE");
        looked_up = true;
    }
    if (!path || !path[0]) return false;
    double now = monotonic_seconds();
    if (last_look >= 0 && now - last_look < STOP_POLL_SECONDS) return false;
    last_look = now;
    if (access(path, F_OK) != 0) return false;
    signal_received = SIGUSR1;
    return true;
}

static void install_signal_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
}

_Noreturn static void mpi_failed(const char *call, int code) {
    char message[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, message, &length);
    fprintf(stderr, "groksweep: MPI call %s failed: %s\n", call, message);
    MPI_Abort(MPI_COMM_WORLD, EXIT_ENVIRONMENT);
    exit(EXIT_ENVIRONMENT);
}

#define MPI_CHECK(call)                                  \
    do {                                                 \
        int mpi_code_ = (call);                          \
        if (mpi_code_ != MPI_SUCCESS) mpi_failed(#call, mpi_code_); \
    } while (0)

static void sleep_briefly(void) {
    struct timespec pause = {0, 1000000}; /* 1 ms */
    nanosleep(&pause, NULL);
}

/* Complete a request without spinning a core (Open MPI's blocking calls
 * busy-poll). */
static void wait_gently(MPI_Request *request) {
    for (;;) {
        int done = 0;
        MPI_CHECK(MPI_Test(request, &done, MPI_STATUS_IGNORE));
        if (done) return;
        sleep_briefly();
    }
}

static void pack_message(unsigned char *buffer, int kind, long point, const PointResult *result) {
    ASSERT(buffer);
    int32_t header_kind = kind, unused = 0;
    int64_t index = point;
    memcpy(buffer, &header_kind, 4);
    memcpy(buffer + 4, &unused, 4);
    memcpy(buffer + 8, &index, 8);
    if (result) point_result_pack(result, buffer + HEADER_BYTES);
}

/* ---------------------------------------------------------------- workers */

typedef struct {
    MPI_Request *stop_request;
    bool stop;
    double last_poll;
} RemoteStop;

/* should_stop hook of a worker rank: a signal here, or the driver's stop
 * message (polled a few times a second). */
static bool remote_should_stop(void *context) {
    RemoteStop *s = context;
    if (signal_received) return true;
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

/* Worker ranks: ask for points, train them, send the records back. */
static int remote_worker(const Sweep *sweep) {
    size_t message_size = HEADER_BYTES + point_result_size(sweep->n_eval, sweep->n_rank_layers);
    unsigned char *message = malloc(message_size);
    PointResult result;
    if (!message || point_result_init(&result, sweep->n_eval, sweep->n_rank_layers) != 0) {
        fprintf(stderr, "groksweep: worker out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, EXIT_ENVIRONMENT);
    }
    int stop_message = 0;
    MPI_Request stop_request;
    MPI_CHECK(MPI_Irecv(&stop_message, 1, MPI_INT, 0, TAG_STOP, MPI_COMM_WORLD, &stop_request));
    RemoteStop stop = {&stop_request, false, 0};
    RunHooks hooks = {.should_stop = remote_should_stop, .context = &stop};

    pack_message(message, MSG_READY, NO_MORE_WORK, NULL);
    MPI_CHECK(MPI_Send(message, HEADER_BYTES, MPI_BYTE, 0, TAG_WORKER, MPI_COMM_WORLD));
    for (;;) {
        int64_t point;
        MPI_Request request;
        MPI_CHECK(MPI_Irecv(&point, 1, MPI_INT64_T, 0, TAG_ASSIGN, MPI_COMM_WORLD, &request));
        wait_gently(&request);
        if (point == NO_MORE_WORK) break;
        point_result_clear(&result);
        PointOutcome outcome = train_point(sweep, (long)point, &hooks, &result);
        int kind = outcome == POINT_TRAINED ? MSG_RESULT : outcome == POINT_ABANDONED ? MSG_INTERRUPTED : MSG_UNTRAINED;
        pack_message(message, kind, (long)point, &result);
        MPI_CHECK(MPI_Send(message, (int)message_size, MPI_BYTE, 0, TAG_WORKER, MPI_COMM_WORLD));
    }
    if (!stop.stop) {
        int arrived = 0;
        MPI_CHECK(MPI_Test(&stop_request, &arrived, MPI_STATUS_IGNORE));
        if (!arrived) {
            MPI_CHECK(MPI_Cancel(&stop_request));
            MPI_CHECK(MPI_Wait(&stop_request, MPI_STATUS_IGNORE));
        }
    }
    point_result_free(&result);
    free(message);
    return 0;
}

/* The training thread of rank 0. The driver thread alone calls MPI. */
typedef struct {
    const Sweep *sweep;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    long assigned;       /* point to train, NO_MORE_WORK to quit, WAITING */
    long running;        /* point being trained, or WAITING */
    bool result_ready;
    PointOutcome result_outcome;
    long result_point;
    PointResult result;
    atomic_int stop;
} LocalWorker;

#define WAITING (-2L)

static bool local_should_stop(void *context) {
    LocalWorker *w = context;
    return signal_received || atomic_load(&w->stop);
}

static void *local_worker_main(void *arg) {
    LocalWorker *w = arg;
    RunHooks hooks = {.should_stop = local_should_stop, .context = w};
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->assigned == WAITING) pthread_cond_wait(&w->wake, &w->lock);
        if (w->assigned == NO_MORE_WORK) break;
        long point = w->assigned;
        w->assigned = WAITING;
        pthread_mutex_unlock(&w->lock);
        point_result_clear(&w->result);
        PointOutcome outcome = train_point(w->sweep, point, &hooks, &w->result);
        pthread_mutex_lock(&w->lock);
        w->result_ready = true;
        w->result_outcome = outcome;
        w->result_point = point;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void local_assign(LocalWorker *w, long point) {
    pthread_mutex_lock(&w->lock);
    w->assigned = point;
    w->running = point >= 0 ? point : WAITING;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

/* ----------------------------------------------------------------- driver */

typedef struct {
    long point;
    double cost;
} PendingPoint;

/* Driver-side seconds per recorded point, printed by --timing. */
typedef struct {
    long count;
    double total, max;
} Timer;

static void timer_add(Timer *t, double seconds) {
    t->count++;
    t->total += seconds;
    if (seconds > t->max) t->max = seconds;
}

static int by_cost_descending(const void *a, const void *b) {
    const PendingPoint *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? 1 : -1;
    return (x->point > y->point) - (x->point < y->point);
}

typedef struct {
    const Sweep *sweep;
    const char *out_path;
    const char *command_line; /* for the file's history */
    int n_ranks;
    OutputLock lock;         /* held from before the output is touched to the end */
    Journal journal;
    OutputFile *output;
    bool *finished;          /* (n_points) journaled */
    double *cost;            /* (n_points) estimated flops */
    PendingPoint *pending;   /* unfinished points, most expensive first */
    long n_pending, next_pending;
    long *running;           /* (n_ranks) point per remote rank, or WAITING */
    bool *remote_active;     /* (n_ranks) not yet told NO_MORE_WORK */
    LocalWorker local;
    ProgressCounts counts;
    Progress progress;
    Timer journal_time, output_time, handling_time; /* --timing */
    double drive_seconds;
    bool stopping;
    long untrained;          /* points that could not be trained this run (environment failures) */
    int exit_status;
} Driver;

/* Count a finished point into the progress numbers. */
static void count_finished(Driver *d, long point, const PointResult *r) {
    d->finished[point] = true;
    d->counts.done++;
    d->counts.diverged += r->status == POINT_DIVERGED;
    d->counts.failed += r->status == POINT_FAILED;
    d->counts.cost_done += d->cost[point];
    if (r->phase >= PHASE_NONE && r->phase <= PHASE_CONFUSION) d->counts.phases[r->phase]++;
}

static void rebuild_visit(long point, const PointResult *result, void *context) {
    Driver *d = context;
    char err[512];
    if (d->exit_status == 0 && output_write_point(d->output, point, result, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep: %s\n", err);
        d->exit_status = EXIT_ENVIRONMENT;
    }
    if (!d->finished[point]) count_finished(d, point, result);
}

/* Human text for a byte count: "512 kB", "3.4 MB", "2.1 GB". */
static void format_bytes(double bytes, char *buf, size_t size) {
    if (bytes < 1e6)
        snprintf(buf, size, "%.0f kB", bytes / 1e3);
    else if (bytes < 1e9)
        snprintf(buf, size, "%.1f MB", bytes / 1e6);
    else
        snprintf(buf, size, "%.1f GB", bytes / 1e9);
}

/* Refuse to start when the output's file system cannot hold the output (a
 * second copy of it too while it is rebuilt beside the old one) and the rest
 * of the journal. Returns 0, or EXIT_ENVIRONMENT after saying how much is
 * needed and free. */
static int check_free_space(const Driver *d, bool have_output, const char *journal_path) {
    const Sweep *sweep = d->sweep;
    char dir[4096];
    const char *slash = strrchr(d->out_path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - d->out_path) + 1 : 1, slash ? d->out_path : ".");
    struct statvfs fs;
    if (statvfs(dir, &fs) != 0) return 0; /* not knowable here: creating the file will tell */
    struct stat journal;
    double journal_now = stat(journal_path, &journal) == 0 ? (double)journal.st_size : 0;
    double need = output_size_bound(sweep) * (have_output ? 2 : 1) +
                  journal_size_bound(sweep->n_points, sweep->n_eval, sweep->n_rank_layers) - journal_now;
    double available = (double)fs.f_bavail * (double)fs.f_frsize;
    if (need <= available) return 0;
    char need_text[32], free_text[32];
    format_bytes(need, need_text, sizeof need_text);
    format_bytes(available, free_text, sizeof free_text);
    fprintf(stderr,
            "groksweep run: -o %s: the output%s and its journal need up to %s, and the file system holding %s has "
            "%s free; free space or choose another output\n",
            d->out_path, have_output ? " (rebuilt beside the old one)" : "", need_text, dir, free_text);
    return EXIT_ENVIRONMENT;
}

/* Open the journal, rebuild the HDF5 file from it under a temporary name
 * and move that into place. An existing output is touched only when it is
 * this sweep's own (its journal matches) or --force was given. Returns 0
 * or an exit status. */
static int prepare_output(Driver *d, bool force) {
    const Sweep *sweep = d->sweep;
    char journal_path[4096], temp_path[4096], err[1024];
    if (snprintf(journal_path, sizeof journal_path, "%s.journal", d->out_path) >= (int)sizeof journal_path ||
        output_temp_path(d->out_path, temp_path, sizeof temp_path) != 0) {
        fprintf(stderr, "groksweep run: -o %s: the path is too long (at most %zu bytes)\n", d->out_path,
                sizeof journal_path - sizeof ".journal");
        return EXIT_BAD_INPUT;
    }
    const char *slash = strrchr(d->out_path, '/');
    size_t name_len = strlen(slash ? slash + 1 : d->out_path), longest_suffix = sizeof ".journal" - 1;
    if (name_len + longest_suffix > NAME_MAX) {
        fprintf(stderr, "groksweep run: -o %s: the file name is %zu bytes; at most %zu, so that %s.journal fits the "
                        "file system's limit of %d\n",
                d->out_path, name_len, (size_t)NAME_MAX - longest_suffix, slash ? slash + 1 : d->out_path, NAME_MAX);
        return EXIT_BAD_INPUT;
    }
    int locked = output_lock_acquire(&d->lock, d->out_path, err, sizeof err);
    if (locked != 0) {
        fprintf(stderr, "groksweep run: %s\n", err);
        return locked == -2 ? EXIT_BAD_INPUT : EXIT_ENVIRONMENT;
    }
    if (force) {
        if ((unlink(d->out_path) != 0 && errno != ENOENT) || (unlink(journal_path) != 0 && errno != ENOENT)) {
            fprintf(stderr, "groksweep run: --force: cannot remove %s: %s\n", d->out_path, strerror(errno));
            return EXIT_ENVIRONMENT;
        }
    }
    bool have_output = access(d->out_path, F_OK) == 0, have_journal = access(journal_path, F_OK) == 0;
    if (have_output && !have_journal) {
        fprintf(stderr,
                "groksweep run: -o %s: the file exists and is not a resumable sweep output (no %s); choose another "
                "output or pass --force to overwrite it\n",
                d->out_path, journal_path);
        return EXIT_BAD_INPUT;
    }
    if (have_journal) { /* a grid grown since (more seeds, new values) keeps the finished points */
        int extended = extend_output(sweep, d->out_path, journal_path, have_output, blas_core_name(), err,
                                     sizeof err);
        if (extended != 0) {
            fprintf(stderr, "groksweep run: %s\n", err);
            return extended;
        }
    }
    int space = check_free_space(d, have_output, journal_path);
    if (space != 0) return space;
    char created[32];
    output_time_now(created, sizeof created);
    OutputProvenance provenance = {GROKSWEEP_VERSION, blas_config(), blas_core_name(), d->n_ranks, created,
                                   getenv("SLURM_JOB_ID"), d->command_line};
    /* the lock is held: a temporary file of this output's name is a crashed run's, never another's */
    unlink(temp_path);
    d->output = output_create(temp_path, sweep, &provenance, err, sizeof err);
    if (!d->output) {
        fprintf(stderr, "groksweep run: -o %s: %s\n", d->out_path, err);
        return EXIT_ENVIRONMENT;
    }
    int rc = journal_open(&d->journal, journal_path, sweep->hash, sweep->n_points, sweep->n_eval, sweep->n_rank_layers,
                          blas_core_name(), rebuild_visit, d, err, sizeof err);
    if (rc == 0 && d->exit_status == 0 && output_move(d->output, d->out_path, err, sizeof err) == 0) return 0;
    if (rc != 0) fprintf(stderr, "groksweep run: %s\n", err);
    else if (d->exit_status == 0) fprintf(stderr, "groksweep run: %s\n", err);
    output_close(d->output, err, sizeof err);
    d->output = NULL;
    unlink(temp_path);
    return rc == -2 ? EXIT_BAD_INPUT : EXIT_ENVIRONMENT;
}

static void begin_stop(Driver *d);

/* The HDF5 file failed to write: remove it rather than leave an unreadable
 * one at the output path; the journal keeps every finished point. */
static void discard_output(Driver *d) {
    output_discard(d->output);
    d->output = NULL;
    fprintf(stderr, "groksweep run: removed %s, which could not be written; %s.journal keeps every finished point: "
                    "free space (or fix the file system) and run the same command again to rebuild it and go on\n",
            d->out_path, d->out_path);
}

/* Journal then HDF5: once journal_append returns, the point is safe. A
 * journal that cannot grow stops the sweep (the point runs again next
 * time); an HDF5 file that cannot be written is removed (it is rebuilt from
 * the journal next time). */
static void record_point(Driver *d, long point, const PointResult *r) {
    char err[1024];
    double start = monotonic_seconds();
    bool journaled = journal_append(&d->journal, point, r, err, sizeof err) == 0;
    double journal_done = monotonic_seconds();
    bool written = journaled && (!d->output || output_write_point(d->output, point, r, err, sizeof err) == 0);
    timer_add(&d->journal_time, journal_done - start);
    timer_add(&d->output_time, monotonic_seconds() - journal_done);
    if (!written) {
        fprintf(stderr, "groksweep run: %s\n", err);
        if (journaled) discard_output(d);
        d->exit_status = EXIT_ENVIRONMENT;
        begin_stop(d);
    }
    if (journaled) count_finished(d, point, r);
}

static long next_point(Driver *d) {
    if (d->stopping || d->next_pending >= d->n_pending) return NO_MORE_WORK;
    return d->pending[d->next_pending++].point;
}

static void begin_stop(Driver *d) {
    if (d->stopping) return;
    d->stopping = true;
    for (int r = 1; r < d->n_ranks; r++) {
        if (d->running[r] >= 0) {
            int stop = 1;
            MPI_CHECK(MPI_Send(&stop, 1, MPI_INT, r, TAG_STOP, MPI_COMM_WORLD));
        }
    }
    atomic_store(&d->local.stop, 1);
}

static void assign_remote(Driver *d, int rank) {
    int64_t point = next_point(d);
    MPI_CHECK(MPI_Send(&point, 1, MPI_INT64_T, rank, TAG_ASSIGN, MPI_COMM_WORLD));
    d->running[rank] = point >= 0 ? (long)point : WAITING;
    if (point < 0) d->remote_active[rank] = false;
}

/* A message from a worker rank: a request for work, a record, or an
 * abandoned point. Every message is answered with the next assignment. */
static void handle_worker_message(Driver *d, int rank, const unsigned char *message, PointResult *scratch) {
    ASSERT(message);
    int32_t kind;
    int64_t point;
    memcpy(&kind, message, 4);
    memcpy(&point, message + 8, 8);
    if (kind == MSG_RESULT) {
        point_result_unpack(scratch, message + HEADER_BYTES);
        record_point(d, (long)point, scratch);
    } else if (kind == MSG_INTERRUPTED) {
        begin_stop(d); /* a signal reached that rank: the whole sweep stops */
    } else if (kind == MSG_UNTRAINED) {
        d->untrained++; /* not journaled: the next run tries it again */
    }
    d->running[rank] = WAITING;
    assign_remote(d, rank);
}

static long count_running(const Driver *d) {
    long running = d->local.running >= 0;
    for (int r = 1; r < d->n_ranks; r++) running += d->running[r] >= 0;
    return running;
}

static void drive(Driver *d) {
    const Sweep *sweep = d->sweep;
    size_t message_size = HEADER_BYTES + point_result_size(sweep->n_eval, sweep->n_rank_layers);
    unsigned char *message = malloc(message_size);
    PointResult scratch;
    if (!message || point_result_init(&scratch, sweep->n_eval, sweep->n_rank_layers) != 0) {
        fprintf(stderr, "groksweep: driver out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, EXIT_ENVIRONMENT);
    }
    long remote_active = d->n_ranks - 1;
    MPI_Request request = MPI_REQUEST_NULL;
    if (remote_active > 0)
        MPI_CHECK(MPI_Irecv(message, (int)message_size, MPI_BYTE, MPI_ANY_SOURCE, TAG_WORKER, MPI_COMM_WORLD, &request));
    local_assign(&d->local, next_point(d));
    bool local_active = d->local.running >= 0;
    if (!local_active) local_assign(&d->local, NO_MORE_WORK);
    double drive_start = monotonic_seconds();

    while (remote_active > 0 || local_active) {
        bool progressed = false;
        if (remote_active > 0) {
            int arrived = 0;
            MPI_Status status;
            MPI_CHECK(MPI_Test(&request, &arrived, &status));
            if (arrived) {
                double start = monotonic_seconds();
                long done = d->counts.done;
                handle_worker_message(d, status.MPI_SOURCE, message, &scratch);
                remote_active = 0;
                for (int r = 1; r < d->n_ranks; r++) remote_active += d->remote_active[r];
                if (remote_active > 0)
                    MPI_CHECK(MPI_Irecv(message, (int)message_size, MPI_BYTE, MPI_ANY_SOURCE, TAG_WORKER,
                                        MPI_COMM_WORLD, &request));
                if (d->counts.done > done) timer_add(&d->handling_time, monotonic_seconds() - start);
                progressed = true;
            }
        }
        if (local_active) {
            pthread_mutex_lock(&d->local.lock);
            bool ready = d->local.result_ready;
            d->local.result_ready = false;
            pthread_mutex_unlock(&d->local.lock);
            if (ready) {
                double start = monotonic_seconds();
                long done = d->counts.done;
                if (d->local.result_outcome == POINT_TRAINED)
                    record_point(d, d->local.result_point, &d->local.result);
                else if (d->local.result_outcome == POINT_ABANDONED)
                    begin_stop(d);
                else
                    d->untrained++;
                long point = next_point(d);
                local_assign(&d->local, point);
                local_active = point >= 0;
                if (d->counts.done > done) timer_add(&d->handling_time, monotonic_seconds() - start);
                progressed = true;
            }
        }
        if (signal_received || launcher_asked_stop()) begin_stop(d);
        d->counts.running = count_running(d);
        progress_update(&d->progress, &d->counts, progressed && d->progress.terminal);
        if (!progressed) sleep_briefly();
    }
    d->drive_seconds = monotonic_seconds() - drive_start;
    pthread_join(d->local.thread, NULL);
    d->counts.running = 0;
    point_result_free(&scratch);
    free(message);
}

/* ------------------------------------------------------------ the command */

static void print_run_help(FILE *out) {
    fprintf(out,
            "usage: groksweep run SWEEP.json -o OUT.h5 [--ranks N] [--force] [--quiet] [--timing]\n"
            "       mpirun -n N groksweep run SWEEP.json -o OUT.h5\n"
            "\n"
            "Train every point of the sweep's grid and write one HDF5 file. Rank 0 hands\n"
            "points out, most expensive first, and trains too; every rank uses one core.\n"
            "Each finished point is saved in OUT.h5.journal (fsync'd) and OUT.h5 (flushed)\n"
            "before the next is handed out. Running the same command again resumes: points\n"
            "already done are kept, the rest run. SIGINT, SIGTERM or SIGUSR1 stops the\n"
            "sweep within seconds, keeping every finished point.\n"
            "\n"
            "options:\n"
            "  -o, --output OUT.h5  the output file (required)\n"
            "  --force              delete an existing OUT.h5 and its journal and start over\n"
            "  --quiet              no progress on stderr (--progress none)\n"
            "  --progress MODE      live (one line redrawn), log (a line every 30 s) or none;\n"
            "                       default live when stderr is a terminal, which under\n"
            "                       mpirun or srun it is not (pass live), else log;\n"
            "                       --ranks passes on whether its own stderr is a terminal\n"
            "  --ranks N            start N ranks with mpiexec (GROKSWEEP_MPIEXEC, e.g.\n"
            "                       \"mpiexec --oversubscribe\", else %s) and relay\n"
            "                       SIGINT, SIGTERM and SIGHUP to them as SIGUSR1: mpiexec\n"
            "                       itself turns a SIGINT or SIGTERM into exit status 1\n"
            "  --timing             at the end, print the driver's own cost per finished point\n"
            "                       on stderr: message bytes, journal append + fsync, HDF5\n"
            "                       write + flush, and all handling of the point (benchmarks)\n"
            "  --help               this text\n"
            "\n"
            "exit status: 0 every point done; 1 environment failure (I/O, memory, MPI);\n"
            "2 bad input (flags, sweep file, an output that is not this sweep's);\n"
            "%d interrupted: run the same command again to resume\n"
            "\n"
            "See groksweep validate --help for the sweep file format.\n",
            GROKSWEEP_MPIEXEC, EXIT_INTERRUPTED);
}

typedef struct {
    const char *sweep_path, *out_path;
    bool force, timing;
    ProgressMode progress;
    char command_line[2048]; /* "groksweep run ARGS...", shell-quoted where needed, cut to fit */
} RunOptions;

/* Append arg to the command line, in single quotes when it holds anything
 * but letters, digits and -_./=:,+ (an embedded quote as '\''). */
static void append_argument(char *line, size_t size, const char *arg) {
    size_t used = strlen(line);
    bool plain = arg[0] != '\0';
    for (const char *c = arg; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-_./=:,+", *c);
    if (plain) {
        snprintf(line + used, size - used, " %s", arg);
        return;
    }
    if (used + 2 < size) {
        line[used++] = ' ';
        line[used++] = '\'';
    }
    for (const char *c = arg; *c && used + 5 < size; c++) {
        if (*c == '\'') {
            memcpy(line + used, "'\\''", 4);
            used += 4;
        } else {
            line[used++] = *c;
        }
    }
    if (used + 1 < size) line[used++] = '\'';
    line[used < size ? used : size - 1] = '\0';
}

/* Returns 0, or an exit status after printing the problem. */
static int parse_run_options(int argc, char **argv, RunOptions *o, bool report) {
    memset(o, 0, sizeof *o);
    snprintf(o->command_line, sizeof o->command_line, "groksweep run");
    for (int i = 0; i < argc; i++) append_argument(o->command_line, sizeof o->command_line, argv[i]);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
            if (i + 1 >= argc) {
                if (report) fprintf(stderr, "groksweep run: %s needs a file path\n", arg);
                return EXIT_BAD_INPUT;
            }
            if (o->out_path) {
                if (report) fprintf(stderr, "groksweep run: %s given twice (%s, then %s); give one output\n", arg,
                                    o->out_path, argv[i + 1]);
                return EXIT_BAD_INPUT;
            }
            o->out_path = argv[++i];
            if (!o->out_path[0]) {
                if (report) fprintf(stderr, "groksweep run: %s \"\": the output path is empty\n", arg);
                return EXIT_BAD_INPUT;
            }
        } else if (strcmp(arg, "--force") == 0) {
            o->force = true;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            o->progress = PROGRESS_NONE;
        } else if (strcmp(arg, "--progress") == 0) {
            if (i + 1 >= argc || progress_mode_parse(argv[i + 1], &o->progress) != 0) {
                if (report)
                    fprintf(stderr, "groksweep run: --progress %s: must be live, log or none\n",
                            i + 1 < argc ? argv[i + 1] : "(missing)");
                return EXIT_BAD_INPUT;
            }
            i++;
        } else if (strcmp(arg, "--timing") == 0) {
            o->timing = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            if (report)
                fprintf(stderr, "groksweep run: unknown option %s (allowed: -o, --ranks, --force, --quiet, --progress, --timing, --help)\n",
                        arg);
            return EXIT_BAD_INPUT;
        } else if (o->sweep_path) {
            if (report) fprintf(stderr, "groksweep run: one SWEEP.json expected, got a second: %s\n", arg);
            return EXIT_BAD_INPUT;
        } else {
            o->sweep_path = arg;
        }
    }
    if (!o->sweep_path || !o->out_path) {
        if (report)
            fprintf(stderr, "groksweep run: missing %s (usage: groksweep run SWEEP.json -o OUT.h5)\n",
                    !o->sweep_path ? "SWEEP.json" : "-o OUT.h5");
        return EXIT_BAD_INPUT;
    }
    return 0;
}

/* Rank 0 reads the sweep file and every rank receives its text, so worker
 * ranks need not see the same file system path. Returns the text (malloc'd)
 * or NULL after rank 0 printed why. */
static char *broadcast_sweep_text(const char *path, int rank) {
    long length = -1;
    char *text = NULL;
    if (rank == 0) {
        char err[1024];
        text = config_read_file(path, err, sizeof err);
        if (text)
            length = (long)strlen(text);
        else
            fprintf(stderr, "groksweep run: %s\n", err);
    }
    MPI_CHECK(MPI_Bcast(&length, 1, MPI_LONG, 0, MPI_COMM_WORLD));
    if (length < 0) return NULL;
    if (rank != 0 && !(text = malloc((size_t)length + 1))) MPI_Abort(MPI_COMM_WORLD, EXIT_ENVIRONMENT);
    MPI_CHECK(MPI_Bcast(text, (int)length + 1, MPI_CHAR, 0, MPI_COMM_WORLD));
    return text;
}

/* --timing: milliseconds per finished point spent by the driver thread. */
static void print_timing(const Driver *d) {
    const Timer *timers[] = {&d->journal_time, &d->output_time, &d->handling_time};
    const char *names[] = {"journal append + fsync", "HDF5 write + flush", "handling (all of the above + MPI)"};
    fprintf(stderr, "groksweep run: timing: %ld points recorded, message %zu bytes, driver loop %.3f s\n",
            d->handling_time.count, (size_t)HEADER_BYTES + point_result_size(d->sweep->n_eval, d->sweep->n_rank_layers), d->drive_seconds);
    for (int i = 0; i < 3; i++) {
        const Timer *t = timers[i];
        fprintf(stderr, "groksweep run: timing: %-34s total %.3f s, mean %.3f ms, max %.3f ms\n", names[i], t->total,
                t->count ? 1e3 * t->total / (double)t->count : 0.0, 1e3 * t->max);
    }
}

/* All ranks agree on rank 0's status. */
static int broadcast_status(int status) {
    MPI_CHECK(MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD));
    return status;
}

/* Every rank must train with the same OpenBLAS kernel: float results depend
 * on it, and a point's result must not depend on the rank that ran it.
 * Collective; returns 0 on every rank, or EXIT_ENVIRONMENT on every rank
 * after rank 0 has said which rank differs and how to pin the kernel. */
static int check_same_blas_kernel(int rank, int n_ranks) {
    enum { NAME_SIZE = 32 };
    char mine[NAME_SIZE] = {0};
    snprintf(mine, sizeof mine, "%s", blas_core_name());
    char *all = rank == 0 ? malloc((size_t)n_ranks * NAME_SIZE) : NULL;
    if (rank == 0 && !all) {
        fprintf(stderr, "groksweep: out of memory comparing the ranks' BLAS kernels\n");
        MPI_Abort(MPI_COMM_WORLD, EXIT_ENVIRONMENT);
        return EXIT_ENVIRONMENT;
    }
    MPI_CHECK(MPI_Gather(mine, NAME_SIZE, MPI_CHAR, all, NAME_SIZE, MPI_CHAR, 0, MPI_COMM_WORLD));
    int status = 0;
    for (int r = 1; rank == 0 && r < n_ranks && status == 0; r++) {
        const char *theirs = all + (size_t)r * NAME_SIZE;
        if (strncmp(theirs, mine, NAME_SIZE) != 0) {
            fprintf(stderr,
                    "groksweep run: rank %d uses the OpenBLAS kernel %.*s and rank 0 uses %s: a point's result would "
                    "depend on the rank that ran it; give every rank the same kernel, e.g. OPENBLAS_CORETYPE=%s in "
                    "the environment of every rank (mpirun -x OPENBLAS_CORETYPE)\n",
                    r, NAME_SIZE, theirs, mine, mine);
            status = EXIT_ENVIRONMENT;
        }
    }
    free(all);
    return broadcast_status(status);
}

/* Keep freed memory in the heap instead of returning it to the kernel.
 * zlib and HDF5 allocate and free large buffers for every chunk they write,
 * and glibc's defaults hand each one back with munmap or a heap trim, so
 * writing a point cost ~10 ms of page faults; with this it costs ~1 ms. The
 * heap then stays at its high-water mark, a few times the largest chunk. */
static void keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

static int run_driver(const Sweep *sweep, const RunOptions *o, int n_ranks) {
    Driver d;
    char err[1024];
    int status;
    memset(&d, 0, sizeof d);
    keep_freed_memory();
    d.sweep = sweep;
    d.out_path = o->out_path;
    d.command_line = o->command_line;
    d.n_ranks = n_ranks;
    d.journal.fd = -1;
    d.lock.fd = -1;
    long n = sweep->n_points;
    d.finished = calloc((size_t)n, sizeof *d.finished);
    d.cost = malloc(sizeof *d.cost * (size_t)n);
    d.pending = malloc(sizeof *d.pending * (size_t)n);
    d.running = malloc(sizeof *d.running * (size_t)n_ranks);
    d.remote_active = malloc(sizeof *d.remote_active * (size_t)n_ranks);
    if (!d.finished || !d.cost || !d.pending || !d.running || !d.remote_active) {
        fprintf(stderr, "groksweep run: out of memory for %ld points\n", n);
        status = broadcast_status(EXIT_ENVIRONMENT);
        goto out;
    }
    d.counts.total = n;
    /* the data files, before the output is touched */
    if (sweep_check_data(sweep, err, sizeof err) != 0 || sweep_check_ticket_sources(sweep, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep run: %s\n", err);
        status = broadcast_status(EXIT_BAD_INPUT);
        goto out;
    }
    for (long p = 0; p < n; p++) {
        if (signal_received || launcher_asked_stop()) { /* during the start of a large sweep: nothing written yet */
            fprintf(stderr, "groksweep run: interrupted before the output was touched\n");
            status = broadcast_status(EXIT_INTERRUPTED);
            goto out;
        }
        RunConfig cfg;
        TaskLayout layout;
        bool known = sweep_point_config(sweep, p, &cfg, err, sizeof err) == 0 &&
                     task_layout(&cfg.task, &layout, err, sizeof err) == 0;
        d.cost[p] = known ? run_cost_flops(&cfg, &layout) : 0;
        d.counts.cost_total += d.cost[p];
    }
    status = broadcast_status(prepare_output(&d, o->force));
    if (status != 0) goto out;
    for (long p = 0; p < n; p++)
        if (!d.finished[p]) d.pending[d.n_pending++] = (PendingPoint){p, d.cost[p]};
    qsort(d.pending, (size_t)d.n_pending, sizeof *d.pending, by_cost_descending);
    for (int r = 0; r < n_ranks; r++) {
        d.running[r] = WAITING;
        d.remote_active[r] = r > 0;
    }
    d.local.sweep = sweep;
    d.local.assigned = d.local.running = WAITING;
    atomic_init(&d.local.stop, 0);
    if (point_result_init(&d.local.result, sweep->n_eval, sweep->n_rank_layers) != 0 || pthread_mutex_init(&d.local.lock, NULL) != 0 ||
        pthread_cond_init(&d.local.wake, NULL) != 0 ||
        pthread_create(&d.local.thread, NULL, local_worker_main, &d.local) != 0) {
        fprintf(stderr, "groksweep run: cannot start the training thread\n");
        MPI_Abort(MPI_COMM_WORLD, EXIT_ENVIRONMENT);
    }
    progress_init(&d.progress, o->progress, d.counts.done, d.counts.cost_done);
    progress_update(&d.progress, &d.counts, true);
    drive(&d);
    progress_finish(&d.progress, &d.counts);
    if (o->timing) print_timing(&d);
    pthread_mutex_destroy(&d.local.lock);
    pthread_cond_destroy(&d.local.wake);
    point_result_free(&d.local.result);

    if (d.output && output_close(d.output, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep run: %s\n", err);
        remove(o->out_path); /* rebuilt from the journal by the next run */
        d.exit_status = EXIT_ENVIRONMENT;
    }
    d.output = NULL;
    if (d.exit_status == 0 && d.untrained > 0) {
        fprintf(stderr,
                "groksweep run: %ld point%s could not be trained (the environment failures above) and %s not "
                "recorded; every other finished point is kept in %s: run the same command again (with more memory, "
                "or once the data files are back) to train %s\n",
                d.untrained, d.untrained == 1 ? "" : "s", d.untrained == 1 ? "is" : "are", o->out_path,
                d.untrained == 1 ? "it" : "them");
        d.exit_status = EXIT_ENVIRONMENT;
    }
    if (d.exit_status == 0 && d.counts.done < n) d.exit_status = EXIT_INTERRUPTED;
    if (d.exit_status == EXIT_INTERRUPTED)
        fprintf(stderr, "groksweep run: interrupted with %ld of %ld points done, all kept in %s; run the same "
                        "command again to resume\n",
                d.counts.done, n, o->out_path);
    else if (d.exit_status == 0)
        fprintf(stderr,
                "groksweep run: wrote %s: %ld points (%ld done, %ld diverged, %ld failed); phases: %ld comprehension, "
                "%ld grokking, %ld memorization, %ld confusion\n",
                o->out_path, n, d.counts.done - d.counts.diverged - d.counts.failed, d.counts.diverged,
                d.counts.failed, d.counts.phases[PHASE_COMPREHENSION], d.counts.phases[PHASE_GROKKING], d.counts.phases[PHASE_MEMORIZATION],
                d.counts.phases[PHASE_CONFUSION]);
    status = d.exit_status;
out:
    if (d.output) output_close(d.output, err, sizeof err);
    journal_close(&d.journal);
    output_lock_release(&d.lock);
    free(d.finished);
    free(d.cost);
    free(d.pending);
    free(d.running);
    free(d.remote_active);
    return status;
}

int command_run(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { /* no need to start MPI */
            print_run_help(stdout);
            return 0;
        }
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--ranks") == 0) { /* this process only launches the ranks */
            int launched;
            int status = launch_parse_ranks(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &launched);
            if (status != 0) return status;
            for (int k = i + 2; k < argc; k++)
                if (strcmp(argv[k], "--ranks") == 0) {
                    fprintf(stderr, "groksweep run: --ranks given twice (%s, then %s); give one rank count\n",
                            argv[i + 1], k + 1 < argc ? argv[k + 1] : "(missing)");
                    return EXIT_BAD_INPUT;
                }
            memmove(&argv[i], &argv[i + 2], sizeof *argv * (size_t)(argc - i - 2));
            return launch_ranks(launched, argc - 2, argv);
        }
    /* before MPI starts: a stop that comes during its start-up is not lost */
    install_signal_handlers();
    int provided, rank, n_ranks;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "groksweep run: MPI_Init_thread failed\n");
        return EXIT_ENVIRONMENT;
    }
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &n_ranks));
    if (provided < MPI_THREAD_FUNNELED) {
        if (rank == 0) fprintf(stderr, "groksweep run: the MPI library does not support threads (FUNNELED)\n");
        MPI_Finalize();
        return EXIT_ENVIRONMENT;
    }
    blas_use_one_thread();

    RunOptions options;
    int status = parse_run_options(argc, argv, &options, rank == 0);
    if (status != 0) {
        MPI_Finalize();
        return status;
    }
    char *text = broadcast_sweep_text(options.sweep_path, rank);
    if (!text) {
        MPI_Finalize();
        return EXIT_BAD_INPUT;
    }
    Sweep sweep;
    char err[2048];
    if (sweep_parse(&sweep, text, options.sweep_path, err, sizeof err) != 0) {
        if (rank == 0) fprintf(stderr, "groksweep run: %s\n", err);
        free(text);
        MPI_Finalize();
        return EXIT_BAD_INPUT;
    }
    free(text);
    if (check_same_blas_kernel(rank, n_ranks) != 0) {
        status = EXIT_ENVIRONMENT;
    } else if (rank == 0) {
        const char *hint = blas_kernel_hint();
        if (hint && options.progress != PROGRESS_NONE) fprintf(stderr, "groksweep run: note: %s\n", hint);
        status = run_driver(&sweep, &options, n_ranks);
    } else {
        status = broadcast_status(0);
        if (status == 0) remote_worker(&sweep);
    }
    /* every rank leaves with the driver's verdict, waiting without spinning */
    MPI_Request request;
    MPI_CHECK(MPI_Ibcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD, &request));
    wait_gently(&request);
    sweep_free(&sweep);
    MPI_Finalize();
    return status;
}
