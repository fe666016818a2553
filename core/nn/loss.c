#include "loss.h"

#include <math.h>

#include "check.h"

static const char *const loss_names[LOSS_KIND_COUNT] = {[LOSS_CROSS_ENTROPY] = "cross_entropy", [LOSS_MSE] = "mse"};

const char *loss_name(LossKind kind) {
    ASSERT((unsigned)kind < (unsigned)LOSS_KIND_COUNT);
    return loss_names[kind];
}

static int argmax(const real *row, int width) {
    int best = 0;
    for (int j = 1; j < width; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

/* Cross-entropy of one row against class `label`; drow (width) written
 * with the gradient of the row's loss divided by n, when non-NULL. */
static double cross_entropy_row(const real *row, int label, int width, int n, real *drow) {
    double max_logit = row[0];
    for (int j = 1; j < width; j++)
        if (row[j] > max_logit) max_logit = row[j];
    double sum_exp = 0;
    for (int j = 0; j < width; j++) {
        double e = exp(row[j] - max_logit);
        sum_exp += e;
        if (drow) drow[j] = (real)e; /* reused below: one exp per logit */
    }
    if (drow) {
        double scale = 1.0 / (sum_exp * n);
        for (int j = 0; j < width; j++) drow[j] = (real)(drow[j] * scale);
        drow[label] -= (real)(1.0 / n);
    }
    return max_logit + log(sum_exp) - row[label];
}

/* Mean squared error of one row against a target vector (or the one-hot
 * vector of `label` when target is NULL); drow as cross_entropy_row. */
static double squared_error_row(const real *row, const real *target, int label, int width, int n, real *drow) {
    double sq = 0;
    for (int j = 0; j < width; j++) {
        double diff = row[j] - (target ? (double)target[j] : (double)(j == label));
        sq += diff * diff;
        if (drow) drow[j] = (real)(2 * diff / ((double)n * width));
    }
    return sq / width;
}

double loss_sum(LossKind kind, double tolerance, const real *outputs, const Examples *batch, real *doutputs,
                int *correct) {
    int n = batch->n, width = batch->shape.n_outputs;
    bool vector_targets = batch->shape.target == TARGET_VECTOR;
    ASSERT(!(vector_targets && kind == LOSS_CROSS_ENTROPY));
    double total = 0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const real *row = outputs + (long)i * width;
        real *drow = doutputs ? doutputs + (long)i * width : NULL;
        if (vector_targets) {
            double error = squared_error_row(row, batch->targets + (long)i * width, -1, width, n, drow);
            hits += error < tolerance;
            total += error;
            continue;
        }
        int label = batch->labels[i];
        hits += argmax(row, width) == label;
        total += kind == LOSS_CROSS_ENTROPY ? cross_entropy_row(row, label, width, n, drow)
                                            : squared_error_row(row, NULL, label, width, n, drow);
    }
    *correct = hits;
    return total;
}
