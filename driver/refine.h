/* Adaptive refinement of phase boundaries: which points of a sweep with a
 * "refine" section must be trained, and the phase of those that are not.
 *
 * The coarse sub-grid is trained first: every coarse_stride-th value along
 * each refined axis (first and last included), every value of the other
 * axes, every seed. A cell is a box of 2^k corners along the k refined axes
 * at one stride, for one value of each other axis but seed. A cell whose
 * corners disagree - over every seed of every corner, the outcome class
 * being a done point's phase, or diverged, or failed - has its points at
 * half the stride trained (edge midpoints, face centres, centre, on the
 * closed box), and its 2^k half-stride cells are judged in turn, down to
 * stride 1. A cell whose corners agree is not refined: its untrained points
 * are inferred to have its corners' outcome.
 *
 * A decision waits until every seed of every corner of a cell is recorded
 * and uses nothing else, so the points trained depend only on the outcomes,
 * never on the order they arrive in (rank count, resume). Pure planning:
 * no MPI, no I/O. */
#ifndef GROKSWEEP_REFINE_H
#define GROKSWEEP_REFINE_H

#include <stdbool.h>
#include <stddef.h>

#include "sweep.h"

typedef struct Refiner Refiner;

/* sweep->coarse_stride must be >= 2. Returns NULL with a message when memory runs out. */
Refiner *refiner_create(const Sweep *sweep, char *err, size_t errlen);
void refiner_free(Refiner *refiner);

/* The outcome of a trained point (PointResult's status and phase). Any point, any order, at most once each, also
 * points the refiner never asked for (kept but never used in a decision) and before the first refiner_take_ready
 * (a resumed journal). */
void refiner_record(Refiner *refiner, long point, int status, int phase);

/* Writes into out (room for capacity) points that must be trained, are not yet recorded and were not returned by an
 * earlier call; returns how many. Call again after each refiner_record: new points become ready as soon as the
 * cells they depend on are decided. */
long refiner_take_ready(Refiner *refiner, long *out, long capacity);

/* Points the refinement needs trained so far (recorded or not). */
long refiner_needed(const Refiner *refiner);

/* True once every point the refinement needs has been recorded. */
bool refiner_complete(const Refiner *refiner);

/* Once complete: -2 for a point that was recorded (trained); for any other point the outcome of the finest cell
 * containing it whose corners agreed (of those, the one with the lowest cell index, the point index of its lowest
 * corner; cells of one stride that share a point share a corner, so they agree on its outcome anyway): that
 * outcome's Phase when its corners are done, or -1 when they all diverged or all failed. */
int refiner_inferred_phase(const Refiner *refiner, long point);

#endif
