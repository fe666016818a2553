/* The record of one grid point as the sweep stores it: fixed-size
 * scalars plus a curve on the sweep's shared evaluation schedule. The same
 * bytes travel in MPI messages and in the journal. */
#ifndef GROKSWEEP_RECORD_H
#define GROKSWEEP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "train.h"

/* POINT_INFERRED: never trained; its phase is that of the refinement cell
 * whose trained corners all agree, and every other value is missing. */
typedef enum {
    POINT_NOT_RUN = 0,
    POINT_DONE = 1,
    POINT_DIVERGED = 2,
    POINT_FAILED = 3,
    POINT_INFERRED = 4
} PointStatus;

#define CURVE_SERIES 5 /* train_loss, test_loss, train_acc, test_acc, weight_norm */

typedef struct {
    int8_t status;                       /* PointStatus */
    int8_t phase;                        /* Phase */
    int32_t train_acc_step[N_ACC_LEVELS]; /* -1 = never */
    int32_t test_acc_step[N_ACC_LEVELS];
    float final_train_loss, final_test_loss, final_train_acc, final_test_acc, final_weight_norm;
    int32_t steps_run;
    float wall_seconds;
    int n_eval;                          /* length of each curve series */
    int n_rank_layers;                   /* feature-rank series after the CURVE_SERIES (0: none recorded) */
    float *curve;                        /* (CURVE_SERIES + n_rank_layers, n_eval); NaN where not evaluated,
                                            and in the rank series of layers the point's model does not have */
} PointResult;

/* Allocate a record for n_eval evaluations and n_rank_layers feature-rank
 * series, all NaN / not run. Returns 0 or -1 if memory runs out. */
int point_result_init(PointResult *r, int n_eval, int n_rank_layers);

/* Reset an initialized record to all NaN / not run. */
void point_result_clear(PointResult *r);
void point_result_free(PointResult *r);

/* Fill r (initialized for the sweep's n_eval) from a finished run. Curve
 * entries go to the slot of their step in eval_steps (n_eval increasing
 * steps); evaluations off the schedule (a divergence) appear only in the
 * final metrics. */
void point_result_from_run(PointResult *r, const RunResult *run, const int *eval_steps);

/* Whether r holds values a finished record can hold: status done,
 * diverged or failed, a phase only when done, crossing steps of -1 or more
 * in increasing order of level, steps_run >= 0. For records read back from
 * disk or a message, where a damaged one must be caught. An inferred record
 * is never valid: the driver computes it, and no journal or message holds
 * one. */
bool point_result_valid(const PointResult *r);

/* A record for a point whose run could not be set up (environment error). */
void point_result_failed(PointResult *r);

/* A record for a point inferred, not trained: status inferred, the given
 * phase (comprehension .. confusion: what its cell's corners reached), every
 * other value missing as for a point not run. */
void point_result_inferred(PointResult *r, int phase);

/* Serialized size, and (un)packing into exactly that many bytes. */
size_t point_result_size(int n_eval, int n_rank_layers);
void point_result_pack(const PointResult *r, unsigned char *out);
void point_result_unpack(PointResult *r, const unsigned char *in);

/* The evaluation schedule of a run: 0, e, 2e, ... and `steps` itself.
 * Writes at most capacity steps into out and returns the count. */
int eval_schedule(int steps, int eval_every, int *out, int capacity);
int eval_schedule_length(int steps, int eval_every);

#endif
