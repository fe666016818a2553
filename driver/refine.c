/* The refinement plan (refine.h) as cells per stride, decided as their
 * corners complete.
 *
 * A coordinate is a grid point without its seed: the index over every axis
 * but seed, row-major. It is needed once it is a corner of an active cell
 * (every coarse cell; the half-stride cells of a cell that disagreed), and
 * complete once all its seeds are recorded. Cells are kept for strides
 * coarse_stride .. 2 only: a stride-1 cell has no point inside to infer or
 * refine, so a disagreeing stride-2 cell just makes its points needed. Each
 * active cell counts its corners not yet complete and collects the classes
 * of those that are, so a decision costs nothing beyond one update per
 * corner; memory is a few bytes per point and per cell. */
#include "refine.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "metrics.h"
#include "record.h"

/* Outcome classes: a done point's phase (PHASE_NONE .. PHASE_CONFUSION), then diverged and failed. */
enum { CLASS_DIVERGED = PHASE_CONFUSION + 1, CLASS_FAILED, N_CLASSES };
_Static_assert(N_CLASSES <= 8, "a set of classes fits a byte");

/* Strides coarse_stride, coarse_stride / 2, ..., 2 for a stride of at most 2^30. */
#define MAX_LEVELS 30

typedef enum { CELL_INACTIVE, CELL_PENDING, CELL_AGREE, CELL_DISAGREE } CellState;

typedef struct {
    uint8_t state;    /* CellState */
    uint8_t classes;  /* bit per class among the complete corners' seeds */
    uint32_t missing; /* corners not yet complete, while pending */
} Cell;

/* The cells of one stride: row-major over the coordinate's dimensions, with
 * the cell's index along a refined dimension (its lowest corner / stride)
 * and the coordinate's value along the others. */
typedef struct {
    int stride;
    long first;                      /* index of the first cell in Refiner.cells */
    long count;
    long extent[SWEEP_MAX_AXES];     /* cells along each dimension */
    long cell_step[SWEEP_MAX_AXES];  /* index step along each dimension */
} Level;

typedef struct {
    uint32_t recorded; /* seeds recorded */
    uint8_t classes;   /* bit per class among them */
    uint8_t needed;
} Coordinate;

struct Refiner {
    int n_dims;                          /* the grid's axes but seed, in order */
    long length[SWEEP_MAX_AXES];         /* values along each dimension */
    long coord_step[SWEEP_MAX_AXES];     /* coordinate index step along each dimension */
    bool refined[SWEEP_MAX_AXES];
    int n_refined;
    int refined_dim[SWEEP_MAX_AXES];     /* the refined dimensions */
    long n_seeds, seed_block;            /* seeds; points per seed value (the axes after seed) */
    long n_points, n_coords;
    int n_levels;
    Level levels[MAX_LEVELS];            /* coarsest first */
    Cell *cells;
    Coordinate *coords;
    uint8_t *point_class;                /* per point: 0 not recorded, else class + 1 */
    int32_t *queue;                      /* needed coordinates not complete when they became needed */
    long queue_length, queue_head, head_seed;
    long needed_coords, needed_recorded; /* needed coordinates; recorded points among their seeds */
};

/* The point of coordinate c with seed index s. */
static long point_of(const Refiner *r, long c, long s) {
    return (c / r->seed_block * r->n_seeds + s) * r->seed_block + c % r->seed_block;
}

/* The coordinate of a point. */
static long coordinate_of(const Refiner *r, long point) {
    return point / (r->seed_block * r->n_seeds) * r->seed_block + point % r->seed_block;
}

/* The index of coordinate c along dimension d. */
static long index_along(const Refiner *r, long c, int d) { return c / r->coord_step[d] % r->length[d]; }

/* The lowest corner (a coordinate) of cell `cell` of level L. */
static long lowest_corner(const Refiner *r, const Level *L, long cell) {
    long c = 0;
    for (int d = 0; d < r->n_dims; d++) {
        long i = cell / L->cell_step[d] % L->extent[d];
        c += (r->refined[d] ? i * L->stride : i) * r->coord_step[d];
    }
    return c;
}

/* Corner `bits` of the cell with lowest corner `lowest` and the given
 * stride: bit j set steps one stride along refined dimension j. */
static long corner_of(const Refiner *r, long lowest, int stride, unsigned bits) {
    long c = lowest;
    for (int j = 0; j < r->n_refined; j++)
        if (bits >> j & 1u) c += stride * r->coord_step[r->refined_dim[j]];
    return c;
}

static void activate(Refiner *r, int level, long cell);

/* Make coordinate c needed: its seeds not recorded become ready. */
static void mark_needed(Refiner *r, long c) {
    Coordinate *coord = &r->coords[c];
    if (coord->needed) return;
    coord->needed = 1;
    r->needed_coords++;
    r->needed_recorded += coord->recorded;
    if (coord->recorded < r->n_seeds) r->queue[r->queue_length++] = (int32_t)c;
}

/* A cell of `level` whose corners disagreed: make its half-stride points
 * needed and activate its half-stride cells (when they are kept). */
static void refine_cell(Refiner *r, int level, long cell) {
    const Level *L = &r->levels[level];
    int half = L->stride / 2;
    long lowest = lowest_corner(r, L, cell);
    int digits[SWEEP_MAX_AXES] = {0}; /* 0, 1, 2 half strides along each refined dimension */
    for (;;) {
        long c = lowest;
        for (int j = 0; j < r->n_refined; j++) c += digits[j] * half * r->coord_step[r->refined_dim[j]];
        mark_needed(r, c);
        int j = 0;
        while (j < r->n_refined && digits[j] == 2) digits[j++] = 0;
        if (j == r->n_refined) break;
        digits[j]++;
    }
    if (level + 1 == r->n_levels) return;
    const Level *child = &r->levels[level + 1];
    long first_child = 0;
    for (int d = 0; d < r->n_dims; d++) {
        long i = cell / L->cell_step[d] % L->extent[d];
        first_child += (r->refined[d] ? 2 * i : i) * child->cell_step[d];
    }
    for (unsigned bits = 0; bits < 1u << r->n_refined; bits++) {
        long sub = first_child;
        for (int j = 0; j < r->n_refined; j++)
            if (bits >> j & 1u) sub += child->cell_step[r->refined_dim[j]];
        activate(r, level + 1, sub);
    }
}

/* Decide a pending cell whose corners are all complete. */
static void decide(Refiner *r, int level, long cell) {
    Cell *x = &r->cells[r->levels[level].first + cell];
    ASSERT(x->state == CELL_PENDING && x->missing == 0 && x->classes != 0);
    bool agree = (x->classes & (x->classes - 1)) == 0;
    x->state = agree ? CELL_AGREE : CELL_DISAGREE;
    if (!agree) refine_cell(r, level, cell);
}

/* Start judging a cell: its corners are needed; count those not complete
 * and decide at once when none is missing. */
static void activate(Refiner *r, int level, long cell) {
    const Level *L = &r->levels[level];
    Cell *x = &r->cells[L->first + cell];
    ASSERT(x->state == CELL_INACTIVE);
    *x = (Cell){.state = CELL_PENDING};
    long lowest = lowest_corner(r, L, cell);
    for (unsigned bits = 0; bits < 1u << r->n_refined; bits++) {
        const Coordinate *corner = &r->coords[corner_of(r, lowest, L->stride, bits)];
        ASSERT(corner->needed);
        if (corner->recorded == r->n_seeds)
            x->classes |= corner->classes;
        else
            x->missing++;
    }
    if (x->missing == 0) decide(r, level, cell);
}

/* The index of a cell of L that holds coordinate c: along each refined
 * dimension j the cell whose lowest corner is at or below c, or with bit j
 * of `bits` set the one before it, which holds c only when c is on the
 * stride's lattice there (c is its upper corner). -1 when that cell does
 * not hold c or lies outside the grid. */
static long cell_holding(const Refiner *r, const Level *L, long c, unsigned bits) {
    long cell = 0;
    for (int d = 0; d < r->n_dims; d++) {
        long i = index_along(r, c, d);
        if (r->refined[d]) {
            int j = 0;
            while (r->refined_dim[j] != d) j++;
            bool lower = bits >> j & 1u;
            if (lower && i % L->stride != 0) return -1;
            i = i / L->stride - lower;
            if (i < 0 || i >= L->extent[d]) return -1;
        }
        cell += i * L->cell_step[d];
    }
    return cell;
}

/* Coordinate c has just become complete, and is needed: update every
 * pending cell it is a corner of. Finest stride first, so that the cells a
 * decision activates (finer ones, which count c themselves) are not counted
 * again. */
static void corner_completed(Refiner *r, long c) {
    for (int level = r->n_levels - 1; level >= 0; level--) {
        const Level *L = &r->levels[level];
        bool corner = true;
        for (int j = 0; j < r->n_refined && corner; j++)
            corner = index_along(r, c, r->refined_dim[j]) % L->stride == 0;
        if (!corner) continue;
        for (unsigned bits = 0; bits < 1u << r->n_refined; bits++) {
            long cell = cell_holding(r, L, c, bits);
            if (cell < 0) continue;
            Cell *x = &r->cells[L->first + cell];
            if (x->state != CELL_PENDING) continue;
            x->classes |= r->coords[c].classes;
            if (--x->missing == 0) decide(r, level, cell);
        }
    }
}

/* Fill in the dimensions and levels of r from sweep. Returns the number of
 * cells over all levels. */
static long lay_out(Refiner *r, const Sweep *sweep) {
    int seed_axis = 0;
    while (seed_axis < sweep->n_axes && strcmp(sweep->axes[seed_axis].path, "train.seed") != 0) seed_axis++;
    ASSERT(seed_axis < sweep->n_axes);
    r->n_points = sweep->n_points;
    r->n_seeds = sweep->axes[seed_axis].length;
    r->seed_block = 1;
    for (int a = seed_axis + 1; a < sweep->n_axes; a++) r->seed_block *= sweep->axes[a].length;
    r->n_coords = r->n_points / r->n_seeds;
    for (int a = 0; a < sweep->n_axes; a++) {
        if (a == seed_axis) continue;
        int d = r->n_dims++;
        r->length[d] = sweep->axes[a].length;
        for (int k = 0; k < sweep->n_refine_axes; k++)
            if (sweep->refine_axes[k] == a) r->refined[d] = true;
        if (r->refined[d]) r->refined_dim[r->n_refined++] = d;
    }
    for (int d = r->n_dims - 1; d >= 0; d--)
        r->coord_step[d] = d == r->n_dims - 1 ? 1 : r->coord_step[d + 1] * r->length[d + 1];
    long cells = 0;
    for (int stride = sweep->coarse_stride; stride >= 2; stride /= 2) {
        ASSERT(r->n_levels < MAX_LEVELS);
        Level *L = &r->levels[r->n_levels++];
        L->stride = stride;
        L->first = cells;
        L->count = 1;
        for (int d = r->n_dims - 1; d >= 0; d--) {
            ASSERT(!r->refined[d] || (r->length[d] - 1) % stride == 0);
            L->extent[d] = r->refined[d] ? (r->length[d] - 1) / stride : r->length[d];
            L->cell_step[d] = L->count;
            L->count *= L->extent[d];
        }
        cells += L->count;
    }
    return cells;
}

Refiner *refiner_create(const Sweep *sweep, char *err, size_t errlen) {
    ASSERT(sweep && sweep->coarse_stride >= 2 && sweep->n_refine_axes >= 1);
    ASSERT(sweep->n_points <= INT32_MAX);
    Refiner *r = calloc(1, sizeof *r);
    if (!r) {
        error_format(err, errlen, "out of memory planning the refinement of %ld points", sweep->n_points);
        return NULL;
    }
    long n_cells = lay_out(r, sweep);
    r->cells = calloc((size_t)n_cells, sizeof *r->cells);
    r->coords = calloc((size_t)r->n_coords, sizeof *r->coords);
    r->point_class = calloc((size_t)r->n_points, sizeof *r->point_class);
    r->queue = malloc(sizeof *r->queue * (size_t)r->n_coords);
    if (!r->cells || !r->coords || !r->point_class || !r->queue) {
        refiner_free(r);
        error_format(err, errlen, "out of memory planning the refinement of %ld points", sweep->n_points);
        return NULL;
    }
    int coarse = sweep->coarse_stride;
    for (long c = 0; c < r->n_coords; c++) {
        bool on_lattice = true;
        for (int j = 0; j < r->n_refined && on_lattice; j++)
            on_lattice = index_along(r, c, r->refined_dim[j]) % coarse == 0;
        if (on_lattice) mark_needed(r, c);
    }
    for (long cell = 0; cell < r->levels[0].count; cell++) activate(r, 0, cell);
    return r;
}

void refiner_free(Refiner *refiner) {
    if (!refiner) return;
    free(refiner->cells);
    free(refiner->coords);
    free(refiner->point_class);
    free(refiner->queue);
    free(refiner);
}

/* The outcome class of a record's status and phase. */
static int outcome_class(int status, int phase) {
    switch (status) {
    case POINT_DONE: ASSERT(phase >= PHASE_NONE && phase <= PHASE_CONFUSION); return phase;
    case POINT_DIVERGED: return CLASS_DIVERGED;
    case POINT_FAILED: return CLASS_FAILED;
    default: ASSERT(!"a trained point is done, diverged or failed"); return CLASS_FAILED;
    }
}

void refiner_record(Refiner *refiner, long point, int status, int phase) {
    ASSERT(refiner && point >= 0 && point < refiner->n_points);
    ASSERT(refiner->point_class[point] == 0);
    int outcome = outcome_class(status, phase);
    refiner->point_class[point] = (uint8_t)(outcome + 1);
    long c = coordinate_of(refiner, point);
    Coordinate *coord = &refiner->coords[c];
    coord->recorded++;
    coord->classes |= (uint8_t)(1u << outcome);
    if (!coord->needed) return;
    refiner->needed_recorded++;
    if (coord->recorded == refiner->n_seeds) corner_completed(refiner, c);
}

long refiner_take_ready(Refiner *refiner, long *out, long capacity) {
    ASSERT(refiner && (out || capacity == 0) && capacity >= 0);
    long n = 0;
    while (n < capacity && refiner->queue_head < refiner->queue_length) {
        long c = refiner->queue[refiner->queue_head];
        while (n < capacity && refiner->head_seed < refiner->n_seeds) {
            long p = point_of(refiner, c, refiner->head_seed++);
            if (refiner->point_class[p] == 0) out[n++] = p;
        }
        if (refiner->head_seed == refiner->n_seeds) {
            refiner->queue_head++;
            refiner->head_seed = 0;
        }
    }
    return n;
}

long refiner_needed(const Refiner *refiner) { return refiner->needed_coords * refiner->n_seeds; }

bool refiner_complete(const Refiner *refiner) {
    return refiner->needed_recorded == refiner->needed_coords * refiner->n_seeds;
}

int refiner_inferred_phase(const Refiner *refiner, long point) {
    ASSERT(refiner && point >= 0 && point < refiner->n_points && refiner_complete(refiner));
    if (refiner->point_class[point] != 0) return -2;
    long c = coordinate_of(refiner, point);
    ASSERT(!refiner->coords[c].needed);
    for (int level = refiner->n_levels - 1; level >= 0; level--) {
        const Level *L = &refiner->levels[level];
        long best = -1;
        for (unsigned bits = 0; bits < 1u << refiner->n_refined; bits++) {
            long cell = cell_holding(refiner, L, c, bits);
            if (cell >= 0 && refiner->cells[L->first + cell].state == CELL_AGREE && (best < 0 || cell < best))
                best = cell;
        }
        if (best < 0) continue;
        unsigned classes = refiner->cells[L->first + best].classes;
        int outcome = 0;
        while (!(classes >> outcome & 1u)) outcome++;
        return outcome <= PHASE_CONFUSION ? outcome : -1;
    }
    ASSERT(!"an untrained point lies in a cell whose corners agreed");
    return -1;
}
