/* `groksweep run SWEEP.json -o OUT.h5 [--force] [--quiet]`: the MPI sweep.
 *
 * Rank 0 is the driver: through the task farm (farm.h) it hands grid points
 * out, most expensive first (schedule.h; under a `refine` section only the
 * points the refinement asks for, refine.h), to every rank, its own
 * training thread included. It resolves each point's config once and sends
 * it with the assignment. Finished points arrive in batches: each batch is
 * appended to the journal with one fsync (group commit: a point is durable
 * once its journal record is), then written to the HDF5 file, which is
 * flushed every OUTPUT_FLUSH_SECONDS and at the end. Results depend only on
 * each point's config, never on the rank that ran it.
 *
 * Every collective MPI call is made here in command_run, in one sequence
 * that every rank runs whatever happens: read the sweep, agree on the BLAS
 * kernel, agree on whether the driver could start, farm, agree on the exit
 * status. No early return on one rank can leave the others waiting.
 *
 * SIGINT, SIGTERM or SIGUSR1 on any rank stops the sweep: no new points
 * are handed out, running points are abandoned within a fraction of a
 * second, and the command exits with EXIT_INTERRUPTED. Running the same
 * command again resumes: journaled points are kept, the rest run. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <mpi.h>
#include <signal.h>
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
#include "farm.h"
#include "journal.h"
#include "launch.h"
#include "output.h"
#include "output_lock.h"
#include "point.h"
#include "progress.h"
#include "schedule.h"
#include "sweep.h"

#ifndef GROKSWEEP_VERSION
#define GROKSWEEP_VERSION "unknown"
#endif

#define STOP_POLL_SECONDS 0.2
/* The HDF5 file lags the journal by at most about this much while a sweep runs. */
#define OUTPUT_FLUSH_SECONDS 2.0
#define LIVE_PROGRESS_SECONDS 0.1

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

/* ----------------------------------------------------------------- trainer */

/* What every rank trains with: the sweep (for its evaluation schedule and
 * labels) and a record to train into. One per process, used by one thread:
 * rank 0's training thread or a worker rank's main thread. */
typedef struct {
    const Sweep *sweep;
    PointResult result;
} Trainer;

/* train hook of the farm: the task is the point's RunConfig, resolved on
 * rank 0 (a RunConfig holds no pointers, config.h, so its bytes travel as
 * they are); the result is the packed PointResult. */
static FarmOutcome train_task(void *context, long point, const unsigned char *task, bool (*should_stop)(void *),
                              void *stop_context, unsigned char *result) {
    Trainer *t = context;
    RunConfig cfg;
    memcpy(&cfg, task, sizeof cfg);
    RunHooks hooks = {.should_stop = should_stop, .context = stop_context};
    point_result_clear(&t->result);
    PointOutcome outcome = train_point(t->sweep, point, &cfg, &hooks, &t->result);
    if (outcome == POINT_TRAINED) point_result_pack(&t->result, result);
    return outcome == POINT_TRAINED ? FARM_TRAINED : outcome == POINT_ABANDONED ? FARM_ABANDONED : FARM_UNTRAINED;
}

/* ------------------------------------------------------------------ driver */

typedef struct {
    const Sweep *sweep;
    const char *out_path;
    const char *command_line; /* for the file's history */
    int n_ranks;
    OutputLock lock;          /* held from before the output is touched to the end */
    Journal journal;
    OutputFile *output;
    double *cost;             /* (n_points) estimated flops */
    Schedule schedule;
    bool scheduled;           /* schedule_init done */
    ProgressCounts counts;
    Progress progress;
    double last_flush, last_live_progress;
    double journal_seconds, journal_cpu_seconds, output_seconds; /* --timing */
    PointResult scratch;
    long batch_points[FARM_BATCH_CAPACITY];
    const unsigned char *batch_payloads[FARM_BATCH_CAPACITY];
    long untrained;           /* points that could not be trained this run (environment failures) */
    long inferred;            /* points recorded as inferred from their refinement cell */
    int exit_status;
} Driver;

/* Count a finished point into the progress numbers and tell the schedule. */
static void count_finished(Driver *d, long point, const PointResult *r) {
    if (d->schedule.finished[point]) return;
    d->counts.done++;
    d->counts.diverged += r->status == POINT_DIVERGED;
    d->counts.failed += r->status == POINT_FAILED;
    d->counts.cost_done += d->cost[point];
    if (r->phase >= PHASE_NONE && r->phase <= PHASE_CONFUSION) d->counts.phases[r->phase]++;
    schedule_finished(&d->schedule, point, r->status, r->phase);
}

static void rebuild_visit(long point, const PointResult *result, void *context) {
    Driver *d = context;
    char err[512];
    if (d->exit_status == 0 && output_write_point(d->output, point, result, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep: %s\n", err);
        d->exit_status = EXIT_ENVIRONMENT;
    }
    count_finished(d, point, result);
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

/* The HDF5 file failed to write: remove it rather than leave an unreadable
 * one at the output path; the journal keeps every finished point. */
static void discard_output(Driver *d) {
    output_discard(d->output);
    d->output = NULL;
    fprintf(stderr, "groksweep run: removed %s, which could not be written; %s.journal keeps every finished point: "
                    "free space (or fix the file system) and run the same command again to rebuild it and go on\n",
            d->out_path, d->out_path);
}

/* next hook of the farm: the schedule's next point, its config resolved
 * into task. A point whose config cannot be built (memory) is reported and
 * left for the next run. */
static long next_task(void *context, unsigned char *task) {
    Driver *d = context;
    for (;;) {
        long point = schedule_next(&d->schedule);
        if (point < 0) return point;
        RunConfig cfg;
        char err[1024];
        if (sweep_point_config(d->sweep, point, &cfg, err, sizeof err) == 0) {
            memcpy(task, &cfg, sizeof cfg);
            return point;
        }
        fprintf(stderr, "groksweep run: point %ld could not be set up: %s\n", point, err);
        d->untrained++;
    }
}

/* record hook of the farm: the batch's trained points into the journal
 * with one fsync, then into the HDF5 file. A journal that cannot grow stops
 * the sweep (those points run again next time); an HDF5 file that cannot be
 * written is removed (it is rebuilt from the journal next time). */
static bool record_batch(void *context, const FarmArrival *arrivals, int count) {
    Driver *d = context;
    int n = 0;
    for (int i = 0; i < count; i++) {
        if (arrivals[i].outcome == FARM_TRAINED) {
            d->batch_points[n] = arrivals[i].point;
            d->batch_payloads[n++] = arrivals[i].result;
        } else if (arrivals[i].outcome == FARM_UNTRAINED) {
            d->untrained++; /* not journaled: the next run tries it again */
        }
    }
    if (n == 0) return false;
    char err[1024];
    double start = monotonic_seconds(), start_cpu = thread_cpu_seconds();
    bool journaled = journal_append_batch(&d->journal, n, d->batch_points, d->batch_payloads, err, sizeof err) == 0;
    double journal_done = monotonic_seconds();
    d->journal_seconds += journal_done - start;
    d->journal_cpu_seconds += thread_cpu_seconds() - start_cpu;
    if (!journaled) {
        fprintf(stderr, "groksweep run: %s\n", err);
        d->exit_status = EXIT_ENVIRONMENT;
        return true;
    }
    bool stop = false;
    for (int i = 0; i < n; i++) {
        point_result_unpack(&d->scratch, d->batch_payloads[i]);
        if (d->output && output_write_point(d->output, d->batch_points[i], &d->scratch, err, sizeof err) != 0) {
            fprintf(stderr, "groksweep run: %s\n", err);
            discard_output(d);
            d->exit_status = EXIT_ENVIRONMENT;
            stop = true;
        }
        count_finished(d, d->batch_points[i], &d->scratch);
    }
    d->output_seconds += monotonic_seconds() - journal_done;
    return stop;
}

/* Flush the HDF5 file; a file that cannot be written is removed. Returns
 * whether it was written. */
static bool flush_output(Driver *d) {
    char err[1024];
    d->last_flush = monotonic_seconds();
    if (!d->output || output_flush(d->output, err, sizeof err) == 0) return true;
    fprintf(stderr, "groksweep run: %s\n", err);
    discard_output(d);
    d->exit_status = EXIT_ENVIRONMENT;
    return false;
}

/* tick hook of the farm: the HDF5 file's timer, progress, and stop
 * requests (signals, the launcher's stop file). */
static bool tick(void *context, const FarmState *state) {
    Driver *d = context;
    bool stop = false;
    double now = monotonic_seconds();
    if (d->output && now - d->last_flush >= OUTPUT_FLUSH_SECONDS) {
        double start = now;
        stop = !flush_output(d);
        now = monotonic_seconds();
        d->output_seconds += now - start;
    }
    d->counts.running = state->running;
    d->counts.total = schedule_needed(&d->schedule) + d->inferred;
    bool live = state->progressed && d->progress.terminal && now - d->last_live_progress >= LIVE_PROGRESS_SECONDS;
    if (live) d->last_live_progress = now;
    progress_update(&d->progress, &d->counts, live);
    return stop || signal_received || launcher_asked_stop();
}

/* Once the refinement is complete: every point it did not train is
 * recorded as inferred, with the phase of the cell it lies in. A point of
 * a cell whose corners all diverged or all failed has no phase to infer and
 * stays "not run". */
static void record_inferred(Driver *d) {
    const Refiner *refiner = d->schedule.refiner;
    if (!refiner || !refiner_complete(refiner) || !d->output) return;
    char err[1024];
    for (long p = 0; p < d->sweep->n_points && d->exit_status == 0; p++) {
        int phase = refiner_inferred_phase(refiner, p);
        if (phase < PHASE_COMPREHENSION || d->schedule.finished[p]) continue;
        point_result_inferred(&d->scratch, phase);
        if (output_write_point(d->output, p, &d->scratch, err, sizeof err) != 0) {
            fprintf(stderr, "groksweep run: %s\n", err);
            discard_output(d);
            d->exit_status = EXIT_ENVIRONMENT;
        }
        d->inferred++;
    }
}

/* --timing: the driver's own cost per recorded point. */
static void print_timing(const Driver *d, const FarmStats *s) {
    double per_point = s->recorded ? 1e6 / (double)s->recorded : 0;
    fprintf(stderr,
            "groksweep run: timing: %ld points recorded in %ld batches (%.1f per batch), message %zu bytes, driver "
            "loop %.3f s\n",
            s->recorded, s->batches, s->batches ? (double)s->recorded / (double)s->batches : 0.0,
            (size_t)16 + point_result_size(d->sweep->n_eval, d->sweep->n_rank_layers), s->loop_seconds);
    double per_batch = s->batches ? 1e3 / (double)s->batches : 0;
    fprintf(stderr, "groksweep run: timing: %-34s total %.3f s, %.1f us per point, %.3f ms per batch\n",
            "journal append + fsync", d->journal_seconds, d->journal_seconds * per_point, d->journal_seconds * per_batch);
    fprintf(stderr, "groksweep run: timing: %-34s total %.3f s, %.1f us per point\n", "HDF5 write + flush",
            d->output_seconds, d->output_seconds * per_point);
    fprintf(stderr, "groksweep run: timing: %-34s total %.3f s, %.1f us per point (%.0f points/s)\n",
            "driver busy (all of it + MPI)", s->busy_seconds, s->busy_seconds * per_point,
            s->busy_seconds > 0 ? (double)s->recorded / s->busy_seconds : 0.0);
    /* the driver thread's own work, without the journal's write and fsync
     * (whose kernel time would otherwise count twice below) */
    double cpu = s->busy_cpu_seconds - d->journal_cpu_seconds;
    if (cpu < 0) cpu = 0;
    fprintf(stderr, "groksweep run: timing: %-34s total %.3f s, %.1f us per point\n", "driver CPU outside the journal",
            cpu, cpu * per_point);
    /* what bounds the driver's rate on a core of its own at this batch size */
    double bound = cpu + d->journal_seconds;
    fprintf(stderr, "groksweep run: timing: %-34s total %.3f s, %.1f us per point (%.0f points/s)\n",
            "driver CPU + journal wait", bound, bound * per_point, bound > 0 ? (double)s->recorded / bound : 0.0);
}

/* ------------------------------------------------------------ the command */

static void print_run_help(FILE *out) {
    fprintf(out,
            "usage: groksweep run SWEEP.json -o OUT.h5 [--ranks N] [--force] [--quiet] [--timing]\n"
            "       mpirun -n N groksweep run SWEEP.json -o OUT.h5\n"
            "\n"
            "Train every point of the sweep's grid and write one HDF5 file. Rank 0 hands\n"
            "points out, most expensive first, and trains too; every rank uses one core.\n"
            "Each finished point is saved in OUT.h5.journal (fsync'd; the points that arrive\n"
            "together share one fsync) before its rank gets the next; OUT.h5 is written from\n"
            "the same records and flushed every 2 s and at the end. Running the same\n"
            "command again resumes: points\n"
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

/* All ranks agree on rank 0's status, waiting without spinning a core. */
static int broadcast_status(int status) {
    MPI_Request request;
    MPI_CHECK(MPI_Ibcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD, &request));
    farm_wait_gently(&request);
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

/* Rank 0, before any point is handed out (no MPI): check the data files,
 * estimate every point's cost, replay the journal into the HDF5 file and
 * the schedule. Returns 0, or an exit status after saying why. */
static int driver_prepare(Driver *d, const Sweep *sweep, const RunOptions *o, int n_ranks) {
    char err[1024];
    memset(d, 0, sizeof *d);
    keep_freed_memory();
    d->sweep = sweep;
    d->out_path = o->out_path;
    d->command_line = o->command_line;
    d->n_ranks = n_ranks;
    d->journal.fd = -1;
    d->lock.fd = -1;
    long n = sweep->n_points;
    d->cost = malloc(sizeof *d->cost * (size_t)n);
    if (!d->cost || point_result_init(&d->scratch, sweep->n_eval, sweep->n_rank_layers) != 0) {
        fprintf(stderr, "groksweep run: out of memory for %ld points\n", n);
        return EXIT_ENVIRONMENT;
    }
    /* the data files, before the output is touched */
    if (sweep_check_data(sweep, err, sizeof err) != 0 || sweep_check_ticket_sources(sweep, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep run: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    for (long p = 0; p < n; p++) {
        if (signal_received || launcher_asked_stop()) { /* during the start of a large sweep: nothing written yet */
            fprintf(stderr, "groksweep run: interrupted before the output was touched\n");
            return EXIT_INTERRUPTED;
        }
        RunConfig cfg;
        TaskLayout layout;
        bool known = sweep_point_config(sweep, p, &cfg, err, sizeof err) == 0 &&
                     task_layout(&cfg.task, &layout, err, sizeof err) == 0;
        d->cost[p] = known ? run_cost_flops(&cfg, &layout) : 0;
        d->counts.cost_total += d->cost[p];
    }
    if (schedule_init(&d->schedule, sweep, d->cost, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep run: %s\n", err);
        return EXIT_ENVIRONMENT;
    }
    d->scheduled = true;
    int status = prepare_output(d, o->force);
    if (status != 0) return status;
    if (!flush_output(d)) return EXIT_ENVIRONMENT;
    schedule_start(&d->schedule);
    d->counts.total = schedule_needed(&d->schedule);
    progress_init(&d->progress, o->progress, d->counts.done, d->counts.cost_done);
    progress_update(&d->progress, &d->counts, true);
    return 0;
}

/* Rank 0, after the farm (no MPI): the inferred points, the file closed,
 * and the summary. Returns the exit status. */
static int driver_finish(Driver *d, const RunOptions *o, const FarmStats *stats) {
    char err[1024];
    if (d->exit_status == 0) record_inferred(d);
    d->counts.total = schedule_needed(&d->schedule) + d->inferred;
    progress_finish(&d->progress, &d->counts);
    if (o->timing) print_timing(d, stats);
    if (d->output && output_close(d->output, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep run: %s\n", err);
        remove(o->out_path); /* rebuilt from the journal by the next run */
        d->exit_status = EXIT_ENVIRONMENT;
    }
    d->output = NULL;
    if (d->exit_status == 0 && d->untrained > 0) {
        fprintf(stderr,
                "groksweep run: %ld point%s could not be trained (the environment failures above) and %s not "
                "recorded; every other finished point is kept in %s: run the same command again (with more memory, "
                "or once the data files are back) to train %s\n",
                d->untrained, d->untrained == 1 ? "" : "s", d->untrained == 1 ? "is" : "are", o->out_path,
                d->untrained == 1 ? "it" : "them");
        d->exit_status = EXIT_ENVIRONMENT;
    }
    if (d->exit_status == 0 && !schedule_complete(&d->schedule)) d->exit_status = EXIT_INTERRUPTED;
    if (d->exit_status == EXIT_INTERRUPTED) {
        fprintf(stderr, "groksweep run: interrupted with %ld of %ld%s points done, all kept in %s; run the same "
                        "command again to resume\n",
                d->counts.done, schedule_needed(&d->schedule), d->schedule.refiner ? " needed so far" : "", o->out_path);
    } else if (d->exit_status == 0) {
        char inferred[64] = "";
        if (d->schedule.refiner) snprintf(inferred, sizeof inferred, ", %ld inferred", d->inferred);
        fprintf(stderr,
                "groksweep run: wrote %s: %ld points (%ld done, %ld diverged, %ld failed%s); phases: %ld "
                "comprehension, %ld grokking, %ld memorization, %ld confusion\n",
                o->out_path, d->sweep->n_points, d->counts.done - d->counts.diverged - d->counts.failed,
                d->counts.diverged, d->counts.failed, inferred, d->counts.phases[PHASE_COMPREHENSION],
                d->counts.phases[PHASE_GROKKING], d->counts.phases[PHASE_MEMORIZATION], d->counts.phases[PHASE_CONFUSION]);
    }
    return d->exit_status;
}

/* Whatever driver_prepare and driver_finish left open. */
static void driver_free(Driver *d) {
    char err[64];
    if (d->output) output_close(d->output, err, sizeof err);
    journal_close(&d->journal);
    output_lock_release(&d->lock);
    if (d->scheduled) schedule_free(&d->schedule);
    point_result_free(&d->scratch);
    free(d->cost);
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

    /* Options and the sweep: every rank reaches the same verdict (the same
     * argv, the same text from rank 0), so leaving here leaves together. */
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

    /* From here on, every collective is in this sequence, on every rank. */
    status = check_same_blas_kernel(rank, n_ranks);
    Driver driver;
    bool driving = rank == 0 && status == 0;
    if (driving) {
        const char *hint = blas_kernel_hint();
        if (hint && options.progress != PROGRESS_NONE) fprintf(stderr, "groksweep run: note: %s\n", hint);
        status = driver_prepare(&driver, &sweep, &options, n_ranks);
    }
    status = broadcast_status(status);
    Trainer trainer = {.sweep = &sweep};
    if (status == 0) {
        if (point_result_init(&trainer.result, sweep.n_eval, sweep.n_rank_layers) != 0) {
            fprintf(stderr, "groksweep run: rank %d: out of memory for a point's record\n", rank);
            MPI_Abort(MPI_COMM_WORLD, EXIT_ENVIRONMENT);
        }
        FarmHooks hooks = {.task_bytes = sizeof(RunConfig),
                           .result_bytes = point_result_size(sweep.n_eval, sweep.n_rank_layers),
                           .next = next_task,
                           .train = train_task,
                           .record = record_batch,
                           .tick = tick,
                           .driver = &driver,
                           .trainer = &trainer,
                           .signal_received = &signal_received};
        FarmStats stats;
        int farmed = rank == 0 ? farm_drive(&hooks, n_ranks, &stats, err, sizeof err) : farm_work(&hooks, err, sizeof err);
        if (farmed != 0) {
            fprintf(stderr, "groksweep run: rank %d: %s\n", rank, err);
            MPI_Abort(MPI_COMM_WORLD, EXIT_ENVIRONMENT);
        }
        if (rank == 0) status = driver_finish(&driver, &options, &stats);
        point_result_free(&trainer.result);
    }
    if (driving) driver_free(&driver);
    /* every rank leaves with the driver's verdict */
    status = broadcast_status(status);
    sweep_free(&sweep);
    MPI_Finalize();
    return status;
}
