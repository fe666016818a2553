/* Sweep files: a base run config plus a `grid` of named axes.
 *
 *   { ...run config keys, as `groksweep train` reads them...,
 *     "grid": {"data_fraction": [0.2, 0.3, 0.5],
 *              "weight_decay": {"logspace": [-2, 0, 5]},
 *              "init_scale": {"linspace": [1, 4, 4]},
 *              "seed": 3,
 *              "optimizer.lr": [1e-3, 1e-2]} }
 *
 * Axes keep the file's order; the grid is their Cartesian product, point
 * index row-major (last axis fastest).
 *
 * An optional "refine": {"axes": ["data_fraction", "weight_decay"],
 * "coarse_stride": 4} trains only every 4th value along the named numeric
 * axes at first and then the points between them only where trained
 * neighbours disagree (driver/refine.h). Like "grid" it is not part of the
 * base config, but it is part of the sweep's hash. */
#ifndef GROKSWEEP_SWEEP_H
#define GROKSWEEP_SWEEP_H

#include <stdint.h>

#include "config.h"

#define SWEEP_MAX_AXES 16
#define SWEEP_MAX_POINTS 10000000L

typedef enum { AXIS_REAL, AXIS_INT, AXIS_BOOL, AXIS_STRING } AxisKind;

typedef struct {
    char name[64];         /* coordinate name: the path's last component ("lr") */
    char path[64];         /* dotted config path ("optimizer.lr") */
    AxisKind kind;         /* from the config field's type */
    int length;
    double *numbers;       /* (length) value of REAL, INT and BOOL axes (0/1) */
    char **strings;        /* (length) value of STRING axes, else NULL */
    char **overrides;      /* (length) "path=<JSON value>", as `--set` takes it */
    ConfigOverride **read_overrides; /* (length) the same, read once; NULL when one could not be */
} SweepAxis;

typedef struct {
    char *text;            /* the sweep file's text, as read */
    char source[256];      /* names the file in messages */
    char *base_json;       /* the base config: the file without "grid" (compact JSON) */
    uint64_t hash;         /* of the canonical (compact) JSON of the whole sweep */
    RunConfig base;        /* the base config, parsed */
    ConfigTemplate *base_template; /* base_json read once; NULL: every point parses base_json */
    int n_axes;
    SweepAxis axes[SWEEP_MAX_AXES];
    long n_points;
    int n_eval;            /* the shared evaluation schedule */
    int *eval_steps;       /* (n_eval) */
    int n_rank_layers;     /* feature-rank series per point: the deepest MLP's depth with
                              train.feature_rank, else 0 */
    int coarse_stride;     /* refine.coarse_stride, a power of two >= 2; 0: no refinement */
    int n_refine_axes;     /* refine.axes: indices into axes, in the file's order */
    int refine_axes[SWEEP_MAX_AXES];
} Sweep;

/* Parse and validate a sweep: the base config (every error config_parse
 * reports), the grid (unknown axis names with the nearest valid key,
 * duplicate axes or coordinate names, wrong types, empty axes, linspace /
 * logspace / seed-count forms, required axes data_fraction, weight_decay,
 * init_scale and seed, axes that would change the evaluation schedule,
 * a grid over SWEEP_MAX_POINTS), the refine section (known keys, axes
 * that are distinct numeric grid axes other than seed, a power-of-two
 * coarse_stride that divides each refined axis's length - 1), and then
 * every grid point's config. On
 * error returns -1 with one line in err naming the JSON path (e.g.
 * "sweep.json: grid.weight_decay[2]: optimizer.weight_decay = -1: ..."), the value and what is
 * allowed. `source` names the input in messages. */
int sweep_parse(Sweep *sweep, const char *text, const char *source, char *err, size_t errlen);

/* Check what the parser cannot: every image file the points read is read
 * through once (task_check), and each point's sizes against its pools.
 * Reads files; call it once, before anything is trained or written.
 * Returns 0, or -1 with one line "<source>: grid point <label>: <what>". */
int sweep_check_data(const Sweep *sweep, char *err, size_t errlen);

/* Read a file and sweep_parse it; an unreadable file is an error naming the
 * path and the reason. */
int sweep_load(Sweep *sweep, const char *path, char *err, size_t errlen);

void sweep_free(Sweep *sweep);

/* Index along each axis of a point: indices (n_axes). */
void sweep_point_indices(const Sweep *sweep, long point, int *indices);

/* The run config of one grid point (base plus the point's axis values).
 * Never fails for a sweep that sweep_parse accepted, except for memory:
 * returns 0 or -1 with a message. */
int sweep_point_config(const Sweep *sweep, long point, RunConfig *cfg, char *err, size_t errlen);

/* A short text naming the point's coordinates: "data_fraction=0.3 weight_decay=1 ...". */
void sweep_point_label(const Sweep *sweep, long point, char *buf, size_t size);

#endif
