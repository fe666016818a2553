/* Optimizers with PyTorch's semantics, over one contiguous parameter buffer.
 *
 * AdamW (torch.optim.AdamW): w ← w·(1 − lr·wd); m ← β1 m + (1−β1) g;
 *   v ← β2 v + (1−β2) g²; w ← w − lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps).
 * SGD (torch.optim.SGD, dampening 0): g ← g + wd·w; b ← g at t = 1, else
 *   b ← μ b + g; w ← w − lr·b.
 * Learning rate warmup: lr_t = lr · min(1, t / warmup_steps) for update t
 * (1-based); no warmup when warmup_steps is 0. */
#ifndef GROKSWEEP_OPTIMIZER_H
#define GROKSWEEP_OPTIMIZER_H

#include <stddef.h>

#include "real.h"

typedef enum { OPT_ADAMW, OPT_SGD, OPTIMIZER_KIND_COUNT } OptimizerKind;

typedef struct {
    OptimizerKind kind;
    double lr;
    double weight_decay;
    double beta1, beta2;
    double eps;
    int warmup_steps;
    double momentum;    /* sgd */
} OptimizerConfig;

/* JSON name of an optimizer ("adamw", "sgd"). */
const char *optimizer_name(OptimizerKind kind);

typedef struct {
    OptimizerConfig cfg;
    size_t count;
    long step;      /* updates done so far */
    real *moments;  /* (2, count): AdamW m and v, or SGD momentum buffer */
} Optimizer;

/* Returns 0, or -1 if memory runs out. Moments start at zero. */
int optimizer_create(Optimizer *opt, const OptimizerConfig *cfg, size_t count);
void optimizer_free(Optimizer *opt);

/* Learning rate of update number step (1-based), after warmup. */
double optimizer_lr(const OptimizerConfig *cfg, long step);

/* One update of params (count) from grads (count). */
void optimizer_step(Optimizer *opt, real *params, const real *grads);

/* Euclidean norm of params (count), accumulated in double. */
double params_norm(const real *params, size_t count);

/* Norm-constrained training (Omnigrok's "landscape" runs): rescale all
 * params (count) together, w <- w * target_norm / |w|, so that their
 * global Euclidean norm is target_norm again after an update. A zero
 * vector is left as it is. */
void params_rescale_to_norm(real *params, size_t count, double target_norm);

#endif
