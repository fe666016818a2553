/* Losses on logits (n, p) against integer labels, read as one-hot targets. */
#ifndef GROKSWEEP_LOSS_H
#define GROKSWEEP_LOSS_H

#include "config.h"
#include "real.h"

/* Sum over the n rows of the per-example loss: cross-entropy
 * -log softmax(logits)[label], or MSE mean_j (logits_j - onehot_j)²
 * (so sum/n equals PyTorch's MSELoss with mean reduction over n × p).
 * If dlogits (n, p) is non-NULL it is WRITTEN with the gradient of the
 * mean loss, sum/n. *correct receives the number of rows whose argmax
 * (first maximum) equals the label. Accumulates in double. */
double loss_sum(LossKind kind, const real *logits, const int *labels, int n, int p, real *dlogits, int *correct);

#endif
