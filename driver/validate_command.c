/* `groksweep validate SWEEP.json`: check a sweep file as `run` would, show
 * its grid and estimate its cost. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "point.h"
#include "progress.h"
#include "refine.h"
#include "sweep.h"

#define TIMING_STEPS 10
/* --ranks: at most this many points trained whole, spread over the grid,
 * within about PILOT_SECONDS, to learn how early stop shortens runs. */
#define PILOT_POINTS 6
#define PILOT_SECONDS 30.0

static void print_validate_help(FILE *out) {
    fprintf(out,
            "usage: groksweep validate SWEEP.json [--ranks N]\n"
            "\n"
            "Check a sweep file exactly as `groksweep run` does before training, print the\n"
            "grid and estimate the cost (timing a few steps of the most expensive point).\n"
            "\n"
            "A sweep file is a run config (see groksweep train --help) plus a \"grid\" object\n"
            "of named axes; the grid is their Cartesian product, in the file's order:\n"
            "\n"
            "  {\"task\": {\"op\": \"x+y\", \"p\": 59}, \"train\": {\"steps\": 2000},\n"
            "   \"grid\": {\"data_fraction\": [0.2, 0.3, 0.5],\n"
            "            \"weight_decay\": {\"logspace\": [-2, 0, 5]},\n"
            "            \"init_scale\": {\"linspace\": [1, 4, 4]},\n"
            "            \"seed\": 2,\n"
            "            \"optimizer.lr\": [0.001, 0.01]}}\n"
            "\n"
            "Required axes: the data axis, weight_decay, init_scale and seed (they set\n"
            "optimizer.weight_decay, model.init_scale, train.seed). The data axis is\n"
            "data_fraction (task.data_fraction) for the arithmetic task and train_size\n"
            "(task.train_size, the training-set size N) for images, teacher_student and\n"
            "carvalho. Any other scalar key may be an axis, named by its dotted path; its\n"
            "coordinate in the output takes the last component (lr, imbalance, depth).\n"
            "train.steps and train.eval_every cannot be axes (every point shares one\n"
            "evaluation schedule), nor task.kind and train.feature_rank (they decide the\n"
            "file's layout). Image files are read through and checked for every point's\n"
            "sizes before anything is reported valid. An axis is a list\n"
            "of values, {\"linspace\": [a, b, n]}, {\"logspace\": [a, b, n]} (10^a .. 10^b),\n"
            "or, for seed, a count k meaning 0 .. k-1.\n"
            "\n"
            "An optional \"refine\": {\"axes\": [\"data_fraction\", \"weight_decay\"],\n"
            "\"coarse_stride\": 4} trains every 4th value along the named axes first (the\n"
            "first and last included; every value of the other axes, every seed), then,\n"
            "in each cell of that coarse grid whose corners disagree (another phase, or\n"
            "diverged, or failed, for any seed), the points at half the stride, down to\n"
            "stride 1. The untrained points of a cell whose corners agree are recorded as\n"
            "inferred, with the corners' phase. Refined axes are numeric grid axes other\n"
            "than seed, each with a multiple of coarse_stride plus one values (13 or 17\n"
            "for 4); coarse_stride is a power of two >= 2.\n"
            "\n"
            "--ranks N: also estimate the wall time on N ranks (one per core). A few points\n"
            "spread over the grid (at most 6, within about 30 s) are trained whole, early\n"
            "stop included, and their time against the flop estimate scales every point's;\n"
            "points go to ranks most expensive first, as groksweep run hands them out. It\n"
            "suggests a Slurm --time (the estimate x 1.5, at least 10 minutes).\n"
            "\n"
            "exit status: 0 valid; 1 a point needs more memory than this machine has\n"
            "available (or a data file cannot be read); 2 invalid (one line naming the JSON\n"
            "path, the value and what is allowed)\n");
}

static void print_axis(const SweepAxis *axis) {
    printf("  %-16s %-26s %4d: ", axis->name, axis->path, axis->length);
    int shown = axis->length <= 8 ? axis->length : 6;
    for (int i = 0; i < shown; i++) {
        if (axis->kind == AXIS_STRING)
            printf("%s%s", i ? ", " : "", axis->strings[i]);
        else
            printf("%s%.6g", i ? ", " : "", axis->numbers[i]);
    }
    if (shown < axis->length) {
        if (axis->kind == AXIS_STRING)
            printf(", ..., %s", axis->strings[axis->length - 1]);
        else
            printf(", ..., %.6g", axis->numbers[axis->length - 1]);
    }
    printf("\n");
}

/* The refine section: the refined axes and the coarse grid's size; marks
 * the coarse grid's points in coarse (n_points, zeroed by the caller).
 * Returns 0, or -1 with a message on stderr when memory runs out. */
static int print_refinement(const Sweep *sweep, bool *coarse) {
    char err[256];
    Refiner *refiner = refiner_create(sweep, err, sizeof err);
    long *ready = refiner ? malloc(sizeof *ready * (size_t)sweep->n_points) : NULL;
    if (!ready) {
        fprintf(stderr, "groksweep validate: %s\n", refiner ? "out of memory for the coarse grid" : err);
        refiner_free(refiner);
        return -1;
    }
    long n_coarse = refiner_take_ready(refiner, ready, sweep->n_points);
    for (long i = 0; i < n_coarse; i++) coarse[ready[i]] = true;
    printf("refine:");
    for (int k = 0; k < sweep->n_refine_axes; k++)
        printf("%s %s", k ? "," : "", sweep->axes[sweep->refine_axes[k]].name);
    printf(" (coarse stride %d): the %ld points of the coarse grid train first, the others only near phase "
           "boundaries\n", sweep->coarse_stride, n_coarse);
    free(ready);
    refiner_free(refiner);
    return 0;
}

static void print_hours(const char *what, double seconds) {
    if (seconds < 120)
        printf("%s %.0f s\n", what, seconds);
    else if (seconds < 7200)
        printf("%s %.1f min\n", what, seconds / 60);
    else
        printf("%s %.1f h\n", what, seconds / 3600);
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_costs_descending(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Slurm's --time text for seconds, rounded up to whole minutes. */
static void slurm_time(double seconds, char *buf, size_t size) {
    long minutes = (long)ceil(seconds / 60);
    if (minutes >= 24 * 60)
        snprintf(buf, size, "%ld-%02ld:%02ld:00", minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    else
        snprintf(buf, size, "%02ld:%02ld:00", minutes / 60, minutes % 60);
}

/* Schedule the points (those marked in only, or all when only is NULL),
 * most expensive first, each to the rank that frees first, as the driver
 * does; costs in flops, rate in flops per second. Sets the summed and the
 * wall seconds. Returns 0, or -1 when memory runs out. */
static int schedule_wall(const Sweep *sweep, const double *costs, const bool *only, double rate, int ranks,
                         double *core_seconds, double *wall_seconds) {
    double *order = malloc(sizeof *order * (size_t)sweep->n_points);
    double *load = calloc((size_t)ranks, sizeof *load);
    if (!order || !load) {
        free(order);
        free(load);
        return -1;
    }
    long n = 0;
    for (long p = 0; p < sweep->n_points; p++)
        if (!only || only[p]) order[n++] = costs[p];
    qsort(order, (size_t)n, sizeof *order, compare_costs_descending);
    double all = 0;
    for (long i = 0; i < n; i++) {
        int r = 0;
        for (int q = 1; q < ranks; q++)
            if (load[q] < load[r]) r = q;
        load[r] += order[i] / rate;
        all += order[i] / rate;
    }
    double wall = 0;
    for (int q = 0; q < ranks; q++)
        if (load[q] > wall) wall = load[q];
    free(order);
    free(load);
    *core_seconds = all;
    *wall_seconds = wall;
    return 0;
}

/* --ranks: train a few points whole (spread over the grid), scale every
 * point's flop estimate by their measured seconds per estimated second, and
 * schedule the points on `ranks` ranks (the whole grid, and for a refined
 * sweep, coarse marking its coarse grid, that grid alone). Prints the
 * estimate and a Slurm --time. */
static void estimate_ranks(const Sweep *sweep, const double *costs, const bool *coarse, double rate, int ranks) {
    int pilots = sweep->n_points < PILOT_POINTS ? (int)sweep->n_points : PILOT_POINTS;
    double measured = 0, predicted = 0;
    int trained = 0;
    char err[1024] = "";
    for (int k = 0; k < pilots && measured < PILOT_SECONDS; k++) {
        long p = (long)(((double)k + 0.5) * (double)sweep->n_points / pilots);
        RunConfig cfg;
        RunResult run;
        /* CPU time, not wall time: a busy machine does not inflate the estimate for an idle one */
        double cpu_start = cpu_seconds();
        if (sweep_point_config(sweep, p, &cfg, err, sizeof err) != 0 || train_run(&cfg, &run, NULL, err, sizeof err) != 0)
            continue;
        measured += cpu_seconds() - cpu_start;
        predicted += costs[p] / rate;
        trained++;
        run_result_free(&run);
    }
    if (trained == 0 || predicted <= 0) {
        printf("estimate on %d ranks skipped: no point could be trained here (%s)\n", ranks, err);
        return;
    }
    double scale = measured / predicted;
    double all = 0, wall = 0, coarse_all = 0, coarse_wall = 0;
    if (schedule_wall(sweep, costs, NULL, rate / scale, ranks, &all, &wall) != 0 ||
        (coarse && schedule_wall(sweep, costs, coarse, rate / scale, ranks, &coarse_all, &coarse_wall) != 0)) {
        printf("estimate on %d ranks skipped: out of memory\n", ranks);
        return;
    }
    printf("early stop: %d points trained whole took %.1f s of CPU, %.2f of the flop estimate's time\n", trained,
           measured, scale);
    char text[64];
    snprintf(text, sizeof text, "estimated wall time on %d ranks:", ranks);
    print_hours(text, wall);
    print_hours("estimated core time:", all);
    if (coarse) { /* a refined sweep trains the coarse grid and some of the rest */
        snprintf(text, sizeof text, "the coarse grid alone, wall time on %d ranks:", ranks);
        print_hours(text, coarse_wall);
        print_hours("the coarse grid alone, core time:", coarse_all);
        printf("(a refined sweep takes between the coarse grid's time and the whole grid's, depending on how much of "
               "the grid lies near a phase boundary)\n");
    }
    char limit[32];
    slurm_time(wall * 1.5 > 600 ? wall * 1.5 : 600, limit, sizeof limit);
    printf("slurm: sbatch --ntasks=%d --time=%s slurm/groksweep.sbatch SWEEP.json OUT.h5\n", ranks, limit);
}

int command_validate(int argc, char **argv) {
    const char *path = NULL;
    long ranks = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_validate_help(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--ranks") == 0) {
            char *end = NULL;
            const char *value = i + 1 < argc ? argv[++i] : "(missing)";
            ranks = strtol(value, &end, 10);
            if (end == value || *end || ranks < 1 || ranks > 1000000) {
                fprintf(stderr, "groksweep validate: --ranks %s: the number of ranks must be an integer from 1 to "
                                "1000000\n", value);
                return EXIT_BAD_INPUT;
            }
            continue;
        }
        if (argv[i][0] == '-' || path) {
            fprintf(stderr, "groksweep validate: unexpected argument %s (usage: groksweep validate SWEEP.json)\n",
                    argv[i]);
            return EXIT_BAD_INPUT;
        }
        path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "groksweep validate: missing SWEEP.json\n");
        return EXIT_BAD_INPUT;
    }
    Sweep sweep;
    char err[2048];
    if (sweep_load(&sweep, path, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep validate: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (sweep_check_data(&sweep, err, sizeof err) != 0 || sweep_check_ticket_sources(&sweep, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep validate: %s\n", err);
        sweep_free(&sweep);
        return EXIT_BAD_INPUT;
    }
    double total = 0, largest = -1, largest_memory = -1;
    long largest_point = 0, memory_point = 0;
    double *costs = ranks > 0 ? malloc(sizeof *costs * (size_t)sweep.n_points) : NULL;
    if (ranks > 0 && !costs) {
        fprintf(stderr, "groksweep validate: out of memory for %ld points\n", sweep.n_points);
        sweep_free(&sweep);
        return EXIT_ENVIRONMENT;
    }
    for (long p = 0; p < sweep.n_points; p++) {
        RunConfig cfg;
        TaskLayout layout;
        if (sweep_point_config(&sweep, p, &cfg, err, sizeof err) != 0 ||
            task_layout(&cfg.task, &layout, err, sizeof err) != 0) {
            fprintf(stderr, "groksweep validate: %s\n", err);
            sweep_free(&sweep);
            free(costs);
            return EXIT_ENVIRONMENT;
        }
        double cost = run_cost_flops(&cfg, &layout), memory = run_memory_bytes(&cfg, &layout);
        if (costs) costs[p] = cost;
        total += cost;
        if (cost > largest) largest = cost, largest_point = p;
        if (memory > largest_memory) largest_memory = memory, memory_point = p;
    }
    char label[512];
    sweep_point_label(&sweep, memory_point, label, sizeof label);
    double available = memory_available_bytes();
    if (available >= 0 && largest_memory > available) {
        fprintf(stderr,
                "groksweep validate: %s: grid point %s needs about %.3g GiB, more than the %.3g GiB of memory "
                "available on this machine; it would not be trained here\n",
                path, label, largest_memory / (1 << 30), available / (1 << 30));
        sweep_free(&sweep);
        free(costs);
        return EXIT_ENVIRONMENT;
    }
    printf("%s: valid\ngrid (axis, config key, length: values):\n", path);
    for (int a = 0; a < sweep.n_axes; a++) print_axis(&sweep.axes[a]);
    printf("points: %ld\n", sweep.n_points);
    bool *coarse = sweep.coarse_stride > 0 ? calloc((size_t)sweep.n_points, sizeof *coarse) : NULL;
    if (sweep.coarse_stride > 0 && (!coarse || print_refinement(&sweep, coarse) != 0)) {
        if (!coarse) fprintf(stderr, "groksweep validate: out of memory for %ld points\n", sweep.n_points);
        sweep_free(&sweep);
        free(costs);
        free(coarse);
        return EXIT_ENVIRONMENT;
    }
    printf("evaluations per point: %d (steps %d..%d)\n", sweep.n_eval, sweep.eval_steps[0],
           sweep.eval_steps[sweep.n_eval - 1]);

    printf("estimated work: %.3g GFLOP (largest point %.3g GFLOP), without early stops\n", total / 1e9,
           largest / 1e9);
    printf("memory: the largest point needs about %.3g GiB per rank (%s); %.3g GiB available here\n",
           largest_memory / (1 << 30), label, available / (1 << 30));
    if (sweep.base.phase.delay_steps >= sweep.base.train.steps)
        printf("warning: phase.delay_steps = %d is not below train.steps = %d, so no point can be called grokking "
               "(test accuracy would have to cross the threshold %d steps after train accuracy)\n",
               sweep.base.phase.delay_steps, sweep.base.train.steps, sweep.base.phase.delay_steps);

    /* time a few steps of the largest point to turn flops into seconds */
    RunConfig timing;
    RunResult run;
    sweep_point_config(&sweep, largest_point, &timing, err, sizeof err);
    timing.train.steps = timing.train.steps < TIMING_STEPS ? timing.train.steps : TIMING_STEPS;
    timing.train.eval_every = timing.train.steps;
    timing.train.early_stop_patience = 0;
    blas_use_one_thread();
    if (train_run(&timing, &run, NULL, err, sizeof err) == 0) {
        /* training steps only: setup and the first touch of memory are not part of the rate */
        TaskLayout layout;
        double rate = task_layout(&timing.task, &layout, err, sizeof err) == 0
                          ? step_cost_flops(&timing, &layout) / (1e-3 * run.ms_per_step)
                          : 0;
        run_result_free(&run);
        printf("measured: %.1f GFLOP/s on one core (%s kernel)\n", rate / 1e9, blas_core_name());
        print_hours("estimated time on one core:", total / rate);
        print_hours("with the largest point alone taking:", largest / rate);
        if (ranks > 0 && rate > 0) estimate_ranks(&sweep, costs, coarse, rate, (int)ranks);
    } else {
        printf("timing skipped: %s\n", err);
    }
    free(costs);
    free(coarse);
    sweep_free(&sweep);
    return 0;
}
