/* The task farm on its own, with a stand-in trainer: run under mpirun with
 * any rank count as `test_farm SCENARIO`; exits non-zero on any mismatch.
 *
 * The stand-in's task for point p is 7p + 1, its result 3 * task, and it
 * trains for about 2 ms (the last point 50 ms), polling should_stop. Scenarios:
 *   all           every point recorded exactly once, with its result
 *   waves         next() says FARM_NOT_YET for the second wave until the first is recorded, and at the
 *                 end while nothing runs (the farm must end, not wait forever)
 *   untrained     one point comes back FARM_UNTRAINED, the rest as usual
 *   stop_first    tick() asks for a stop on its first call: before anything was handed out
 *   stop_record   record() asks for a stop after 10 points: the running ones are abandoned
 *   stop_tick     tick() asks for a stop while points train
 *   stop_drain    tick() asks for a stop once next() has said FARM_NO_MORE, while the last points train
 *   signal        a worker rank's signal flag goes up while it trains: it abandons, the farm stops
 *   die           rank 1 kills itself while training: the job must end (checked by the caller) */
#include <mpi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "farm.h"
#include "test_util.h"

#define N_POINTS 200
#define WAVE 60

static volatile sig_atomic_t signal_flag = 0;
static const char *scenario;
static int my_rank;

typedef struct {
    long handed_out, next_call, recorded, abandoned, untrained, turns;
    int times_recorded[N_POINTS];
    bool no_more_said;
    bool stop_asked;
} Driver;

static long next_point(void *context, unsigned char *task) {
    Driver *d = context;
    d->next_call++;
    bool waves = strcmp(scenario, "waves") == 0;
    if (d->handed_out >= N_POINTS || (waves && d->handed_out == WAVE && d->recorded < WAVE)) {
        if (d->handed_out >= N_POINTS && !waves) d->no_more_said = true;
        return waves ? FARM_NOT_YET : FARM_NO_MORE; /* waves: "not yet" even at the end */
    }
    int64_t value = 7 * d->handed_out + 1;
    memcpy(task, &value, 8);
    return d->handed_out++;
}

static FarmOutcome stand_in_train(void *context, long point, const unsigned char *task, bool (*should_stop)(void *),
                                  void *stop_context, unsigned char *result) {
    (void)context;
    int64_t value;
    memcpy(&value, task, 8);
    if (value != 7 * point + 1) {
        fprintf(stderr, "rank %d: point %ld arrived with task %lld\n", my_rank, point, (long long)value);
        exit(1);
    }
    if (strcmp(scenario, "untrained") == 0 && point == 17) return FARM_UNTRAINED;
    if (strcmp(scenario, "die") == 0 && my_rank == 1 && point >= 5) raise(SIGKILL);
    int naps = point == N_POINTS - 1 ? 100 : 4; /* the last point runs on while the others are told no more */
    for (int i = 0; i < naps; i++) {
        if (strcmp(scenario, "signal") == 0 && my_rank == 1 && point >= 20) signal_flag = SIGUSR1;
        if (should_stop(stop_context)) return FARM_ABANDONED;
        struct timespec pause = {0, 500000};
        nanosleep(&pause, NULL);
    }
    int64_t answer = 3 * value;
    memcpy(result, &answer, 8);
    return FARM_TRAINED;
}

static bool record(void *context, const FarmArrival *arrivals, int count) {
    Driver *d = context;
    for (int i = 0; i < count; i++) {
        const FarmArrival *a = &arrivals[i];
        CHECK(a->point >= 0 && a->point < N_POINTS, "scenario %s", scenario);
        if (a->outcome == FARM_ABANDONED) {
            d->abandoned++;
            continue;
        }
        if (a->outcome == FARM_UNTRAINED) {
            d->untrained++;
            continue;
        }
        int64_t answer;
        memcpy(&answer, a->result, 8);
        CHECK(answer == 3 * (7 * a->point + 1), "scenario %s", scenario);
        d->times_recorded[a->point]++;
        d->recorded++;
    }
    bool stop = strcmp(scenario, "stop_record") == 0 && d->recorded >= 10;
    d->stop_asked |= stop;
    return stop;
}

static bool tick(void *context, const FarmState *state) {
    Driver *d = context;
    d->turns++;
    CHECK(state->running >= 0, "scenario %s", scenario);
    bool stop = (strcmp(scenario, "stop_first") == 0 && d->turns == 1) ||
                (strcmp(scenario, "stop_tick") == 0 && d->recorded >= 30) ||
                (strcmp(scenario, "stop_drain") == 0 && d->no_more_said && state->running > 0);
    d->stop_asked |= stop;
    return stop;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mpirun -n N test_farm SCENARIO\n");
        return 2;
    }
    scenario = argv[1];
    int provided, n_ranks;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) return 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &n_ranks);
    Driver d;
    memset(&d, 0, sizeof d);
    FarmHooks hooks = {.task_bytes = 8, .result_bytes = 8, .next = next_point, .train = stand_in_train,
                       .record = record, .tick = tick, .driver = &d, .trainer = NULL,
                       .signal_received = &signal_flag};
    char err[256];
    int failed = 0;
    if (my_rank == 0) {
        FarmStats stats;
        CHECK(farm_drive(&hooks, n_ranks, &stats, err, sizeof err) == 0, "scenario %s", scenario);
        CHECK(stats.recorded == d.recorded, "scenario %s", scenario);
        for (int p = 0; p < N_POINTS; p++) CHECK(d.times_recorded[p] <= 1, "scenario %s", scenario);
        /* one rank has no worker to raise its signal flag; in the drain every point was handed out */
        bool stops = strncmp(scenario, "stop_", 5) == 0 || (strcmp(scenario, "signal") == 0 && n_ranks > 1);
        if (!stops) {
            long expect_untrained = strcmp(scenario, "untrained") == 0;
            CHECK(d.untrained == expect_untrained, "scenario %s", scenario);
            CHECK(d.recorded == N_POINTS - expect_untrained, "scenario %s", scenario);
            CHECK(d.abandoned == 0, "scenario %s", scenario);
            for (int p = 0; p < N_POINTS; p++) CHECK(d.times_recorded[p] == (expect_untrained && p == 17 ? 0 : 1), "scenario %s", scenario);
        } else {
            /* one rank's drain has nothing running once it is told no more */
            bool stop_expected = strcmp(scenario, "signal") != 0 && (strcmp(scenario, "stop_drain") != 0 || n_ranks > 1);
            CHECK(d.stop_asked || !stop_expected, "scenario %s", scenario);
            /* every point handed out came back once: recorded or abandoned */
            CHECK(d.recorded + d.abandoned + d.untrained == d.handed_out, "scenario %s", scenario);
            if (strcmp(scenario, "stop_drain") == 0)
                CHECK(d.handed_out == N_POINTS, "scenario %s", scenario);
            else
                CHECK(d.recorded < N_POINTS, "scenario %s", scenario);
            if (strcmp(scenario, "stop_first") == 0) CHECK(d.handed_out <= n_ranks, "scenario %s", scenario);
            if (strcmp(scenario, "stop_record") == 0) CHECK(d.recorded >= 10 && d.handed_out - d.recorded <= n_ranks, "scenario %s", scenario);
            if (strcmp(scenario, "signal") == 0) CHECK(n_ranks == 1 || d.abandoned >= 1, "scenario %s", scenario);
        }
        if (strcmp(scenario, "stop_drain") == 0) CHECK(d.no_more_said, "scenario %s", scenario);
        printf("test_farm %s on %d ranks: %ld handed out, %ld recorded, %ld abandoned, %ld untrained, %ld batches\n",
               scenario, n_ranks, d.handed_out, d.recorded, d.abandoned, d.untrained, stats.batches);
        failed = test_failed;
    } else if (farm_work(&hooks, err, sizeof err) != 0) {
        failed = 1;
    }
    int any_failed = 0;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any_failed ? 1 : 0;
}
