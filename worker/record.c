#include "record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Floats in a record's curve: every series, n_eval each. */
static size_t curve_floats(int n_eval, int n_rank_layers) {
    return ((size_t)CURVE_SERIES + (size_t)n_rank_layers) * (size_t)n_eval;
}

int point_result_init(PointResult *r, int n_eval, int n_rank_layers) {
    ASSERT(n_eval >= 1 && n_rank_layers >= 0 && n_rank_layers <= MAX_RANK_LAYERS);
    memset(r, 0, sizeof *r);
    r->n_eval = n_eval;
    r->n_rank_layers = n_rank_layers;
    r->curve = malloc(sizeof(float) * curve_floats(n_eval, n_rank_layers));
    if (!r->curve) return -1;
    point_result_clear(r);
    return 0;
}

void point_result_clear(PointResult *r) {
    for (size_t i = 0; i < curve_floats(r->n_eval, r->n_rank_layers); i++) r->curve[i] = NAN;
    r->status = POINT_NOT_RUN;
    r->phase = PHASE_NONE;
    for (int k = 0; k < N_ACC_LEVELS; k++) r->train_acc_step[k] = r->test_acc_step[k] = -1;
    r->final_train_loss = r->final_test_loss = r->final_train_acc = r->final_test_acc = r->final_weight_norm = NAN;
    r->wall_seconds = NAN;
    r->steps_run = -1;
}

void point_result_free(PointResult *r) {
    free(r->curve);
    r->curve = NULL;
}

void point_result_from_run(PointResult *r, const RunResult *run, const int *eval_steps) {
    r->status = run->status == RUN_DONE ? POINT_DONE : POINT_DIVERGED;
    r->phase = (int8_t)run->phase;
    for (int k = 0; k < N_ACC_LEVELS; k++) {
        r->train_acc_step[k] = run->crossings.train_step[k];
        r->test_acc_step[k] = run->crossings.test_step[k];
    }
    r->final_train_loss = (float)run->final.train_loss;
    r->final_test_loss = (float)run->final.test_loss;
    r->final_train_acc = (float)run->final.train_acc;
    r->final_test_acc = (float)run->final.test_acc;
    r->final_weight_norm = (float)run->final.weight_norm;
    r->steps_run = run->steps_run;
    r->wall_seconds = (float)run->wall_seconds;
    int slot = 0;
    for (int i = 0; i < run->curve_len; i++) {
        const EvalPoint *e = &run->curve[i];
        while (slot < r->n_eval && eval_steps[slot] < e->step) slot++;
        if (slot == r->n_eval || eval_steps[slot] != e->step) continue;
        float values[CURVE_SERIES] = {(float)e->train_loss, (float)e->test_loss, (float)e->train_acc,
                                      (float)e->test_acc, (float)e->weight_norm};
        for (int s = 0; s < CURVE_SERIES; s++) r->curve[s * r->n_eval + slot] = values[s];
        for (int l = 0; l < e->n_ranks && l < r->n_rank_layers; l++)
            r->curve[(CURVE_SERIES + l) * r->n_eval + slot] = e->feature_rank[l] < 0 ? NAN : (float)e->feature_rank[l];
    }
}

/* Crossing steps of increasing accuracy levels: each -1 (never) or a step
 * no earlier than the level below, once the level below was reached. */
static bool crossings_valid(const int32_t *steps) {
    for (int k = 0; k < N_ACC_LEVELS; k++) {
        if (steps[k] < -1) return false;
        if (k > 0 && steps[k] >= 0 && (steps[k - 1] < 0 || steps[k] < steps[k - 1])) return false;
    }
    return true;
}

bool point_result_valid(const PointResult *r) {
    bool final = r->status == POINT_DONE || r->status == POINT_DIVERGED || r->status == POINT_FAILED;
    bool phase_known = r->phase >= PHASE_NONE && r->phase <= PHASE_CONFUSION;
    bool phase_fits = r->status == POINT_DONE || r->phase == PHASE_NONE;
    return final && phase_known && phase_fits && crossings_valid(r->train_acc_step) &&
           crossings_valid(r->test_acc_step) && (r->status == POINT_FAILED || r->steps_run >= 0);
}

void point_result_failed(PointResult *r) {
    point_result_clear(r);
    r->status = POINT_FAILED;
}

void point_result_inferred(PointResult *r, int phase) {
    ASSERT(phase >= PHASE_COMPREHENSION && phase <= PHASE_CONFUSION);
    point_result_clear(r);
    r->status = POINT_INFERRED;
    r->phase = (int8_t)phase;
}

/* Scalar fields in serialization order. */
#define SCALARS(X)                   \
    X(status)                        \
    X(phase)                         \
    X(train_acc_step)                \
    X(test_acc_step)                 \
    X(final_train_loss)              \
    X(final_test_loss)               \
    X(final_train_acc)               \
    X(final_test_acc)                \
    X(final_weight_norm)             \
    X(steps_run)                     \
    X(wall_seconds)

#define ADD_SIZE(field) +sizeof(((PointResult *)0)->field)
static const size_t scalar_bytes = 0 SCALARS(ADD_SIZE);

size_t point_result_size(int n_eval, int n_rank_layers) {
    return scalar_bytes + sizeof(float) * curve_floats(n_eval, n_rank_layers);
}

void point_result_pack(const PointResult *r, unsigned char *out) {
#define PACK(field)                              \
    memcpy(out, &r->field, sizeof r->field);     \
    out += sizeof r->field;
    SCALARS(PACK)
#undef PACK
    memcpy(out, r->curve, sizeof(float) * curve_floats(r->n_eval, r->n_rank_layers));
}

void point_result_unpack(PointResult *r, const unsigned char *in) {
#define UNPACK(field)                            \
    memcpy(&r->field, in, sizeof r->field);      \
    in += sizeof r->field;
    SCALARS(UNPACK)
#undef UNPACK
    memcpy(r->curve, in, sizeof(float) * curve_floats(r->n_eval, r->n_rank_layers));
}

int eval_schedule_length(int steps, int eval_every) {
    ASSERT(steps >= 1 && eval_every >= 1);
    return steps / eval_every + 1 + (steps % eval_every != 0);
}

int eval_schedule(int steps, int eval_every, int *out, int capacity) {
    int count = 0;
    for (long s = 0; s <= steps && count < capacity; s += eval_every) out[count++] = (int)s;
    if (steps % eval_every != 0 && count < capacity) out[count++] = steps;
    return count;
}
