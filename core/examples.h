/* One example-set representation for every task.
 *
 * Inputs are either token sequences of a fixed length over a vocabulary (the
 * arithmetic tasks: "a b" or "a b =") or dense feature vectors of a fixed
 * dimension (images, Gaussian data, regression inputs). Targets are either a
 * class index or a float vector. A model takes a batch as an Examples whose
 * arrays may point into a larger set (examples_slice) or into a minibatch
 * buffer (examples_gather). */
#ifndef GROKSWEEP_EXAMPLES_H
#define GROKSWEEP_EXAMPLES_H

#include <stdbool.h>

#include "real.h"

typedef enum { TARGET_CLASS, TARGET_VECTOR } TargetKind;

/* What every example of a set looks like. Exactly one of seq_len and dim
 * is non-zero. */
typedef struct {
    int seq_len;       /* tokens per example; 0 for dense inputs */
    int vocab;         /* tokens lie in [0, vocab); 0 for dense inputs */
    int dim;           /* features per example; 0 for token inputs */
    TargetKind target;
    int n_outputs;     /* classes (TARGET_CLASS) or target dimension (TARGET_VECTOR) */
} ExampleShape;

typedef struct {
    ExampleShape shape;
    int n;             /* examples */
    int *tokens;       /* (n, seq_len), or NULL for dense inputs */
    real *features;    /* (n, dim), or NULL for token inputs */
    int *labels;       /* (n) class indices in [0, n_outputs), or NULL for vector targets */
    real *targets;     /* (n, n_outputs), or NULL for class targets */
    bool owned;        /* the arrays belong to this set (examples_free frees them) */
} Examples;

typedef struct {
    Examples train;
    Examples test;
} Dataset;

/* True when shape describes token inputs (seq_len > 0). */
static inline bool shape_has_tokens(const ExampleShape *shape) { return shape->seq_len > 0; }

/* Allocate an owned set of n examples of this shape, arrays uninitialized.
 * Returns 0, or -1 when memory runs out (ex is then empty and safe to
 * free). n may be 0. */
int examples_alloc(Examples *ex, const ExampleShape *shape, int n);

/* Free an owned set's arrays (a view's are left alone) and empty *ex. */
void examples_free(Examples *ex);

/* A view of examples [start, start + n) of ex; it owns nothing. */
Examples examples_slice(const Examples *ex, int start, int n);

/* Copy examples rows[0 .. n-1] of src into the first n rows of dst (same
 * shape, room for n), and set dst->n = n. */
void examples_gather(Examples *dst, const Examples *src, const int *rows, int n);

void dataset_free(Dataset *ds);

#endif
