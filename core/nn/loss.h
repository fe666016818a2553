/* Losses of a batch's outputs against its targets: class indices (read as
 * one-hot vectors for MSE) or float vectors. */
#ifndef GROKSWEEP_LOSS_H
#define GROKSWEEP_LOSS_H

#include "examples.h"
#include "real.h"

typedef enum { LOSS_CROSS_ENTROPY, LOSS_MSE, LOSS_KIND_COUNT } LossKind;

/* JSON name of a loss ("cross_entropy", "mse"). */
const char *loss_name(LossKind kind);

/* Sum over the batch's n rows of the per-example loss of outputs
 * (n, n_outputs):
 *   class targets:  cross-entropy -log softmax(outputs)[label], or MSE
 *                   mean_j (outputs_j - onehot_j)²;
 *   vector targets: MSE mean_j (outputs_j - target_j)² (cross-entropy is
 *                   not defined for them: the config rejects it).
 * So sum/n equals PyTorch's MSELoss with mean reduction over n × n_outputs.
 * If doutputs (n, n_outputs) is non-NULL it is WRITTEN with the gradient of
 * the mean loss, sum/n. *correct receives the number of rows predicted
 * correctly: argmax (first maximum) equal to the label, or a per-example
 * MSE below tolerance for vector targets. Sums accumulate in double; the
 * softmax's exponentials are float32 (about 2 ulp) unless a row holds a NaN
 * or an infinity, which goes through double. */
double loss_sum(LossKind kind, double tolerance, const real *outputs, const Examples *batch, real *doutputs,
                int *correct);

/* loss_sum over part, some n rows of a batch of mean_over >= n rows: the
 * same sum, but doutputs is the gradient of the batch's mean loss,
 * sum/mean_over. Lets a batch be taken in row blocks. */
double loss_sum_part(LossKind kind, double tolerance, const real *outputs, const Examples *part, int mean_over,
                     real *doutputs, int *correct);

#endif
