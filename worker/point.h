/* Training one grid point of a sweep into its record. */
#ifndef GROKSWEEP_POINT_H
#define GROKSWEEP_POINT_H

#include <stdbool.h>

#include "record.h"
#include "sweep.h"
#include "train.h"

/* Train grid point `point` of the sweep into *result (initialized for
 * sweep->n_eval). Returns true when the record is final (done, diverged,
 * or failed: a run that could not be set up, message on stderr); false
 * when the run was interrupted through hooks->should_stop and must run
 * again later. */
bool train_point(const Sweep *sweep, long point, const RunHooks *hooks, PointResult *result);

/* Estimated floating-point operations of a run: training steps plus
 * evaluations, from the model's shapes and the task's layout (task_layout).
 * Used to hand out the most expensive points first and for time estimates. */
double run_cost_flops(const RunConfig *cfg, const TaskLayout *layout);

/* Floating-point operations of one training step's matrix products, as the
 * model computes them (per-token tables once per batch; see point.c). */
double step_cost_flops(const RunConfig *cfg, const TaskLayout *layout);

#endif
