#include "loss.h"

#include <math.h>

static int argmax(const real *row, int p) {
    int best = 0;
    for (int j = 1; j < p; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

double loss_sum(LossKind kind, const real *logits, const int *labels, int n, int p, real *dlogits, int *correct) {
    double total = 0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const real *row = logits + (long)i * p;
        real *drow = dlogits ? dlogits + (long)i * p : NULL;
        int label = labels[i];
        hits += argmax(row, p) == label;
        if (kind == LOSS_CROSS_ENTROPY) {
            double max_logit = row[0];
            for (int j = 1; j < p; j++)
                if (row[j] > max_logit) max_logit = row[j];
            double sum_exp = 0;
            for (int j = 0; j < p; j++) {
                double e = exp(row[j] - max_logit);
                sum_exp += e;
                if (drow) drow[j] = (real)e; /* reused below: one exp per logit */
            }
            total += max_logit + log(sum_exp) - row[label];
            if (drow) {
                double scale = 1.0 / (sum_exp * n);
                for (int j = 0; j < p; j++) drow[j] = (real)(drow[j] * scale);
                drow[label] -= (real)(1.0 / n);
            }
        } else {
            double sq = 0;
            for (int j = 0; j < p; j++) {
                double diff = row[j] - (j == label);
                sq += diff * diff;
                if (drow) drow[j] = (real)(2 * diff / ((double)n * p));
            }
            total += sq / p;
        }
    }
    *correct = hits;
    return total;
}
