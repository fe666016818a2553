/* Training one grid point of a sweep into its record. */
#ifndef GROKSWEEP_POINT_H
#define GROKSWEEP_POINT_H

#include <stdbool.h>

#include "record.h"
#include "sweep.h"
#include "train.h"

/* What became of a point handed to train_point. */
typedef enum {
    POINT_TRAINED,   /* *result is final: done or diverged */
    POINT_ABANDONED, /* interrupted through hooks->should_stop: run it again later */
    POINT_UNTRAINED  /* the run could not be set up or read its data (out of memory, a file gone):
                        an environment failure, reported on stderr; the point stays not run */
} PointOutcome;

/* Train grid point `point` of the sweep, whose config cfg is (as
 * sweep_point_config resolves it, on whichever rank), into *result
 * (initialized for the sweep's record layout). */
PointOutcome train_point(const Sweep *sweep, long point, const RunConfig *cfg, const RunHooks *hooks,
                         PointResult *result);

/* Estimated floating-point operations of a run: training steps plus
 * evaluations, from the model's shapes and the task's layout (task_layout).
 * Used to hand out the most expensive points first and for time estimates. */
double run_cost_flops(const RunConfig *cfg, const TaskLayout *layout);

/* Floating-point operations of one training step's matrix products, as the
 * model computes them (per-token tables once per batch; see point.c). */
double step_cost_flops(const RunConfig *cfg, const TaskLayout *layout);

/* Estimated bytes one run of cfg holds while it trains: parameters,
 * gradients and optimizer moments, activations and scratch for its largest
 * batch, and the examples. */
double run_memory_bytes(const RunConfig *cfg, const TaskLayout *layout);

/* Memory the kernel says can be allocated now (MemAvailable), or -1. */
double memory_available_bytes(void);

/* 0 when a run of cfg fits in the memory available now; -1 with a message
 * naming both amounts otherwise (or when the task's files cannot be read),
 * so that a point too large for the machine is refused rather than met by
 * the kernel's OOM killer. */
int run_fits_in_memory(const RunConfig *cfg, char *err, size_t errlen);

/* The weights files that a sweep's ticket points read (ticket.source
 * "file"), each checked once per model against that model's parameter
 * table, before anything is written. Returns 0, or -1 with one line naming
 * the grid point, the file and the mismatch. */
int sweep_check_ticket_sources(const Sweep *sweep, char *err, size_t errlen);

#endif
