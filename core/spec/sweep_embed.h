/* Whether one sweep's grid lies inside another's, so that a sweep can be
 * extended (more seeds, new axis values) keeping the points it has. */
#ifndef GROKSWEEP_SWEEP_EMBED_H
#define GROKSWEEP_SWEEP_EMBED_H

#include <stddef.h>

#include "sweep.h"

/* When every point of `inner` is a point of `outer` with the same config
 * (the same base config, the same axes in the same order, each inner axis's
 * values among the outer's, the same evaluation schedule and feature-rank
 * layers): fill map[p] (inner->n_points entries) with the outer index of
 * inner point p and return 0. Otherwise return -1 with why (one clause:
 * "the axis lr has the value 0.1 that the new grid lacks"). */
int sweep_embed(const Sweep *inner, const Sweep *outer, long *map, char *why, size_t whylen);

#endif
