/* Tests of the refinement plan (driver/refine.h) with a stand-in trainer
 * whose outcome is a known function of the grid coordinates: a constant
 * grid, boundaries at known places (with seeds, an unrefined axis and a
 * diverged region), the same outcomes recorded in random orders and on
 * resume, one seed that disagrees, the share of a realistic grid trained,
 * and a grid of a million points. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record.h"
#include "refine.h"
#include "sweep.h"
#include "test_util.h"

/* The outcome of a point: a status and, when done, a phase. */
typedef struct {
    int status, phase;
} Outcome;

/* The stand-in trainer: the outcome at a point's axis indices. */
typedef Outcome (*Truth)(const int *indices);

/* What a finished plan says of every point: -2 trained, else the inferred phase. */
typedef struct {
    long n_points, needed, trained;
    int *verdict;
} Plan;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: a number in [0, n). */
static long random_below(long n) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (long)((rng_state * 2685821657736338717u >> 11) % (uint64_t)n);
}

static void shuffle(long *items, long n) {
    for (long i = n - 1; i > 0; i--) {
        long j = random_below(i + 1), t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
}

static Outcome outcome_at(const Sweep *sweep, Truth truth, long point) {
    int indices[SWEEP_MAX_AXES];
    sweep_point_indices(sweep, point, indices);
    return truth(indices);
}

/* The phase a point would be inferred to have if its outcome were `o`. */
static int phase_of(Outcome o) { return o.status == POINT_DONE ? o.phase : -1; }

/* Record point p's true outcome, checking it was handed out once. */
static void record(Refiner *refiner, const Sweep *sweep, Truth truth, long p, char *recorded) {
    CHECK(!recorded[p], "point %ld recorded twice", p);
    recorded[p] = 1;
    Outcome o = outcome_at(sweep, truth, p);
    refiner_record(refiner, p, o.status, o.phase);
}

/* Run the plan as a driver would: take every ready point, record them in a
 * random order (a random few at a time, as ranks finish), until none is
 * ready. First records `given` (n_given points, as a journal replays them),
 * and stops after `stop_after` records (-1: never). Fills plan when the
 * run finishes; returns the points recorded in *order (malloc'd, may be NULL). */
static void run_plan(const Sweep *sweep, Truth truth, const long *given, long n_given, long stop_after, Plan *plan,
                     long **order, long *n_order) {
    char err[256] = "";
    Refiner *refiner = refiner_create(sweep, err, sizeof err);
    CHECK(refiner != NULL, "refiner_create: %s", err);
    if (!refiner) return;
    long n = sweep->n_points, n_pool = 0, n_done = 0;
    char *recorded = calloc((size_t)n, 1), *handed = calloc((size_t)n, 1);
    long *pool = malloc(sizeof *pool * (size_t)n), *done = malloc(sizeof *done * (size_t)n);
    for (long k = 0; k < n_given; k++) record(refiner, sweep, truth, given[k], recorded);
    for (;;) {
        long room = n - n_pool;
        long got = room > 0 ? refiner_take_ready(refiner, pool + n_pool, 1 + random_below(room)) : 0;
        for (long k = n_pool; k < n_pool + got; k++) {
            CHECK(!recorded[pool[k]] && !handed[pool[k]], "point %ld handed out again or after it was recorded",
                  pool[k]);
            handed[pool[k]] = 1;
        }
        n_pool += got;
        if (n_pool == 0 || n_done == stop_after) break;
        for (long batch = 1 + random_below(3); batch > 0 && n_pool > 0 && n_done != stop_after; batch--) {
            long k = random_below(n_pool);
            long p = pool[k];
            pool[k] = pool[--n_pool];
            record(refiner, sweep, truth, p, recorded);
            done[n_done++] = p;
        }
    }
    if (stop_after < 0) {
        CHECK(refiner_complete(refiner), "nothing ready, so the plan is complete");
        plan->n_points = n;
        plan->needed = refiner_needed(refiner);
        plan->verdict = malloc(sizeof *plan->verdict * (size_t)n);
        plan->trained = 0;
        for (long p = 0; p < n; p++) {
            plan->verdict[p] = refiner_inferred_phase(refiner, p);
            plan->trained += plan->verdict[p] == -2;
        }
    } else {
        CHECK(!refiner_complete(refiner), "stopped early, the plan is not complete");
    }
    if (order) {
        *order = done;
        *n_order = n_done;
    } else {
        free(done);
    }
    free(pool);
    free(recorded);
    free(handed);
    refiner_free(refiner);
}

static void plan_free(Plan *plan) {
    free(plan->verdict);
    plan->verdict = NULL;
}

/* Check that every point was trained, or inferred with its true phase
 * (-1 for a diverged or failed region). */
static void check_inferred_true(const Sweep *sweep, Truth truth, const Plan *plan, const char *what) {
    long wrong = 0;
    for (long p = 0; p < plan->n_points; p++) {
        int v = plan->verdict[p], want = phase_of(outcome_at(sweep, truth, p));
        if (v != -2 && v != want && wrong++ == 0) CHECK(0, "%s: point %ld inferred %d, truly %d", what, p, v, want);
    }
    CHECK(wrong == 0, "%s: %ld points inferred wrongly", what, wrong);
}

/* Check that both points of every adjacent pair (one step along a refined
 * axis) with different true outcomes were trained. */
static void check_boundary_trained(const Sweep *sweep, Truth truth, const Plan *plan, const char *what) {
    long missed = 0;
    for (long p = 0; p < plan->n_points; p++) {
        int indices[SWEEP_MAX_AXES];
        sweep_point_indices(sweep, p, indices);
        long step = 1;
        for (int a = sweep->n_axes - 1; a >= 0; step *= sweep->axes[a].length, a--) {
            bool refined = false;
            for (int k = 0; k < sweep->n_refine_axes; k++) refined = refined || sweep->refine_axes[k] == a;
            if (!refined || indices[a] + 1 == sweep->axes[a].length) continue;
            Outcome x = outcome_at(sweep, truth, p), y = outcome_at(sweep, truth, p + step);
            if (x.status == y.status && x.phase == y.phase) continue;
            if ((plan->verdict[p] != -2 || plan->verdict[p + step] != -2) && missed++ == 0)
                CHECK(0, "%s: points %ld and %ld differ but are not both trained", what, p, p + step);
        }
    }
    CHECK(missed == 0, "%s: %ld boundary pairs not trained", what, missed);
}

static bool parse(Sweep *sweep, const char *text) {
    char err[1024] = "";
    int rc = sweep_parse(sweep, text, "sweep.json", err, sizeof err);
    CHECK(rc == 0, "sweep_parse: %s", err);
    return rc == 0;
}

/* (a) Constant outcome. */
static Outcome constant(const int *indices) {
    (void)indices;
    return (Outcome){POINT_DONE, PHASE_GROKKING};
}

static void test_constant(void) {
    Sweep sweep;
    if (!parse(&sweep, "{\"task\": {\"p\": 13}, \"train\": {\"steps\": 10}, "
                       "\"refine\": {\"axes\": [\"data_fraction\", \"weight_decay\"], \"coarse_stride\": 4}, "
                       "\"grid\": {\"data_fraction\": {\"linspace\": [0.2, 0.8, 9]}, "
                       "\"weight_decay\": {\"logspace\": [-2, 0, 13]}, \"init_scale\": [1, 2], \"seed\": 3}}"))
        return;
    Plan plan;
    run_plan(&sweep, constant, NULL, 0, -1, &plan, NULL, NULL);
    long coarse = 3 * 4 * 2 * 3;
    CHECK(plan.needed == coarse && plan.trained == coarse, "constant: %ld needed, %ld trained, want %ld", plan.needed,
          plan.trained, coarse);
    for (long p = 0; p < sweep.n_points; p++) {
        int indices[SWEEP_MAX_AXES];
        sweep_point_indices(&sweep, p, indices);
        bool on_coarse = indices[0] % 4 == 0 && indices[1] % 4 == 0;
        CHECK(plan.verdict[p] == (on_coarse ? -2 : PHASE_GROKKING), "constant: point %ld: %d", p, plan.verdict[p]);
    }
    plan_free(&plan);
    sweep_free(&sweep);
}

/* (b) The boundary grid: data_fraction (17 values, index i), seed (2),
 * weight_decay (33, index j), init_scale (2, index u). */
#define BOUNDARY_SWEEP                                                                                               \
    "{\"task\": {\"p\": 13}, \"train\": {\"steps\": 10}, "                                                          \
    "\"refine\": {\"axes\": [\"weight_decay\", \"data_fraction\"], \"coarse_stride\": 8}, "                        \
    "\"grid\": {\"data_fraction\": {\"linspace\": [0.1, 0.9, 17]}, \"seed\": 2, "                                  \
    "\"weight_decay\": {\"logspace\": [-3, 1, 33]}, \"init_scale\": [1, 3]}}"

/* Comprehension where i + 2j < 30 + 4u, memorization up to 60 + 4u, diverged beyond. */
static Outcome bands(const int *indices) {
    int i = indices[0], j = indices[2], u = indices[3], s = i + 2 * j;
    if (s < 30 + 4 * u) return (Outcome){POINT_DONE, PHASE_COMPREHENSION};
    if (s < 60 + 4 * u) return (Outcome){POINT_DONE, PHASE_MEMORIZATION};
    return (Outcome){POINT_DIVERGED, PHASE_NONE};
}

static bool same_plan(const Plan *a, const Plan *b) {
    return a->needed == b->needed && a->trained == b->trained &&
           memcmp(a->verdict, b->verdict, sizeof *a->verdict * (size_t)a->n_points) == 0;
}

static void test_boundary_and_orders(void) {
    Sweep sweep;
    if (!parse(&sweep, BOUNDARY_SWEEP)) return;
    Plan first;
    run_plan(&sweep, bands, NULL, 0, -1, &first, NULL, NULL);
    check_inferred_true(&sweep, bands, &first, "bands");
    check_boundary_trained(&sweep, bands, &first, "bands");
    CHECK(first.trained < sweep.n_points / 2 && first.trained > 3 * 5 * 2 * 2,
          "bands: %ld of %ld points trained", first.trained, sweep.n_points);
    long inferred_diverged = 0;
    for (long p = 0; p < sweep.n_points; p++) inferred_diverged += first.verdict[p] == -1;
    CHECK(inferred_diverged > 0, "bands: some points inferred in the diverged region");

    /* (c) other random orders, and resumed runs: part recorded, the rest after a restart */
    for (int trial = 0; trial < 6; trial++) {
        Plan again;
        long *done = NULL, n_done = 0;
        if (trial % 2 == 0) {
            run_plan(&sweep, bands, NULL, 0, -1, &again, NULL, NULL);
        } else {
            run_plan(&sweep, bands, NULL, 0, 1 + random_below(first.trained - 1), NULL, &done, &n_done);
            shuffle(done, n_done);
            run_plan(&sweep, bands, done, n_done, -1, &again, NULL, NULL);
            free(done);
        }
        CHECK(same_plan(&first, &again), "bands: order %d gives another plan (%ld vs %ld trained)", trial,
              again.trained, first.trained);
        plan_free(&again);
    }
    /* points recorded that the plan never needs (an extended sweep's) change nothing else */
    long extra[40], n_extra = 0;
    for (long p = 0; p < sweep.n_points && n_extra < 40; p += 7)
        if (first.verdict[p] != -2) extra[n_extra++] = p;
    Plan with_extra;
    run_plan(&sweep, bands, extra, n_extra, -1, &with_extra, NULL, NULL);
    CHECK(with_extra.needed == first.needed && with_extra.trained == first.trained + n_extra,
          "extra points: %ld needed, %ld trained", with_extra.needed, with_extra.trained);
    long k = 0, differ = 0;
    for (long p = 0; p < sweep.n_points; p++) {
        bool is_extra = k < n_extra && extra[k] == p;
        k += is_extra;
        differ += is_extra ? with_extra.verdict[p] != -2 : with_extra.verdict[p] != first.verdict[p];
    }
    CHECK(differ == 0, "extra points: %ld verdicts differ", differ);
    plan_free(&with_extra);
    plan_free(&first);
    sweep_free(&sweep);
}

/* (d) Constant grokking but for seed 1 at coarse point i = 8, j = 16, u = 1. */
static Outcome odd_seed(const int *indices) {
    if (indices[0] == 8 && indices[1] == 1 && indices[2] == 16 && indices[3] == 1)
        return (Outcome){POINT_DONE, PHASE_MEMORIZATION};
    return (Outcome){POINT_DONE, PHASE_GROKKING};
}

static void test_seed_disagreement(void) {
    Sweep sweep;
    if (!parse(&sweep, BOUNDARY_SWEEP)) return;
    Plan plan;
    run_plan(&sweep, odd_seed, NULL, 0, -1, &plan, NULL, NULL);
    long expected = 0, wrong = 0;
    for (long p = 0; p < sweep.n_points; p++) {
        int x[SWEEP_MAX_AXES];
        sweep_point_indices(&sweep, p, x);
        bool trained = x[0] % 8 == 0 && x[2] % 8 == 0; /* coarse */
        /* the cells with the odd corner as a corner, at every stride h: their points at h / 2 */
        for (int h = 8; h >= 2; h /= 2) {
            int di = abs(x[0] - 8), dj = abs(x[2] - 16);
            trained = trained || (x[3] == 1 && di <= h && dj <= h && di % (h / 2) == 0 && dj % (h / 2) == 0);
        }
        expected += trained;
        if ((plan.verdict[p] == -2) != trained && wrong++ == 0)
            CHECK(0, "seed disagreement: point %ld (i %d j %d u %d) trained %d, expected %d", p, x[0], x[2], x[3],
                  plan.verdict[p] == -2, trained);
        if (plan.verdict[p] != -2) CHECK(plan.verdict[p] == PHASE_GROKKING, "seed disagreement: inferred phase");
    }
    CHECK(wrong == 0 && plan.trained == expected, "seed disagreement: %ld points wrong; %ld trained, expected %ld",
          wrong, plan.trained, expected);
    plan_free(&plan);
    sweep_free(&sweep);
}

/* (e) A realistic diagram on 13 data fractions (i) x 17 weight decays (j):
 * grokking, and comprehension beyond a diagonal where data and weight decay
 * are both large. */
static Outcome diagram(const int *indices) {
    double x = indices[0] / 12.0, y = indices[1] / 16.0;
    if (x + y > 1.05) return (Outcome){POINT_DONE, PHASE_COMPREHENSION};
    return (Outcome){POINT_DONE, PHASE_GROKKING};
}

static void test_trained_share(void) {
    Sweep sweep;
    if (!parse(&sweep, "{\"task\": {\"p\": 13}, \"train\": {\"steps\": 10}, "
                       "\"refine\": {\"axes\": [\"data_fraction\", \"weight_decay\"], \"coarse_stride\": 4}, "
                       "\"grid\": {\"data_fraction\": {\"linspace\": [0.1, 0.9, 13]}, "
                       "\"weight_decay\": {\"logspace\": [-2, 1, 17]}, \"init_scale\": [1], \"seed\": 2}}"))
        return;
    Plan plan;
    run_plan(&sweep, diagram, NULL, 0, -1, &plan, NULL, NULL);
    check_inferred_true(&sweep, diagram, &plan, "diagram");
    check_boundary_trained(&sweep, diagram, &plan, "diagram");
    double share = (double)plan.trained / (double)sweep.n_points;
    printf("diagram 13 x 17 x 2 seeds, stride 4: %ld of %ld points trained (%.1f%%)\n", plan.trained, sweep.n_points,
           100 * share);
    CHECK(share < 0.5, "diagram: %.3f of the points trained", share);
    plan_free(&plan);
    sweep_free(&sweep);
}

/* A million points: a disc on 1025 x 1025 (one seed, stride 64), planned in
 * seconds. The sweep is built by hand: the refiner reads only the axes'
 * paths and lengths, the point count and the refine fields. */
static Outcome disc(const int *indices) {
    long x = indices[0] - 400, y = indices[2] - 600;
    return (Outcome){POINT_DONE, x * x + y * y < 300L * 300 ? PHASE_GROKKING : PHASE_MEMORIZATION};
}

static void test_million(void) {
    Sweep sweep;
    memset(&sweep, 0, sizeof sweep);
    static const char *const paths[] = {"task.data_fraction", "train.seed", "optimizer.weight_decay"};
    static const int lengths[] = {1025, 1, 1025};
    sweep.n_axes = 3;
    sweep.n_points = 1025L * 1025;
    for (int a = 0; a < 3; a++) {
        snprintf(sweep.axes[a].path, sizeof sweep.axes[a].path, "%s", paths[a]);
        sweep.axes[a].length = lengths[a];
    }
    sweep.coarse_stride = 64;
    sweep.n_refine_axes = 2;
    sweep.refine_axes[0] = 0;
    sweep.refine_axes[1] = 2;
    clock_t start = clock();
    Plan plan;
    run_plan(&sweep, disc, NULL, 0, -1, &plan, NULL, NULL);
    double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    check_inferred_true(&sweep, disc, &plan, "disc");
    printf("disc 1025 x 1025, stride 64: %ld of %ld points trained, planned in %.2f s\n", plan.trained,
           sweep.n_points, seconds);
    CHECK(plan.trained < sweep.n_points / 10, "disc: %ld trained", plan.trained);
    plan_free(&plan);
}

int main(void) {
    test_constant();
    test_boundary_and_orders();
    test_seed_disagreement();
    test_trained_share();
    test_million();
    return test_finish();
}
