#include "loss.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "vector_clones.h"

static const char *const loss_names[LOSS_KIND_COUNT] = {[LOSS_CROSS_ENTROPY] = "cross_entropy", [LOSS_MSE] = "mse"};

const char *loss_name(LossKind kind) {
    ASSERT((unsigned)kind < (unsigned)LOSS_KIND_COUNT);
    return loss_names[kind];
}

/* Columns handled per pass over a row: the scratch a row's exponentials or
 * differences go to when no gradient row is written. */
#define ROW_CHUNK 256
/* Partial sums and maxima kept side by side, so that the loops over a row
 * vectorize while their order stays fixed (a float reduction is otherwise
 * left scalar without -ffast-math). */
#define LANES 8

#ifdef GROKSWEEP_REAL_DOUBLE
/* The float64 build is the gradient check's: libm's exp, exact to an ulp. */
static real exp_nonpositive(real x) { return exp(x); }
#else
#define LOG2E 1.44269504f
#define ROUND_MAGIC 12582912.0f /* 1.5 · 2^23: x + it - it rounds x to an integer */
#define LN2_HI 0.693359375f     /* ln 2 = LN2_HI + LN2_LO, LN2_HI exact in 9 bits */
#define LN2_LO -2.12194440e-4f
/* exp(x) for x <= 0 (or NaN-free x at most a few ulps above 0), to about
 * 2 ulp of float: x = n ln2 + r with |r| <= ln2/2, exp(r) from the Cephes
 * expf polynomial, times 2^n built from its exponent bits. Below -80 the
 * result is exp(-80) ≈ 2e-35 instead of the true value: in a softmax whose
 * largest term is 1 either is 0 to float precision. Branch-free and
 * libm-free, so loops over it vectorize, with the same result at every
 * vector width (no FMA: fp-contract is off). */
static inline real exp_nonpositive(real x) {
    x = x > -80.0f ? x : -80.0f;
    real n = (x * LOG2E + ROUND_MAGIC) - ROUND_MAGIC;
    real r = x - n * LN2_HI;
    r = r - n * LN2_LO;
    real p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    real y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) * (1 << 23);
    real scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}
#endif

/* 1 when every element of x (len) is finite, else 0. */
VECTOR_CLONES static int all_finite(const real *x, int len) {
    int bad = 0;
    for (int j = 0; j < len; j++) bad |= !(x[j] - x[j] == 0);
    return !bad;
}

/* Largest element of x (len >= 1), all finite. */
VECTOR_CLONES static real row_max(const real *x, int len) {
    real lane[LANES];
    int j = 0;
    for (int k = 0; k < LANES; k++) lane[k] = x[0];
    for (; j + LANES <= len; j += LANES)
        for (int k = 0; k < LANES; k++) lane[k] = x[j + k] > lane[k] ? x[j + k] : lane[k];
    real best = lane[0];
    for (int k = 1; k < LANES; k++) best = lane[k] > best ? lane[k] : best;
    for (; j < len; j++) best = x[j] > best ? x[j] : best;
    return best;
}

/* Sum of x[j] (or of x[j]² when squares) over len elements, in double. */
VECTOR_CLONES static double row_sum(const real *x, int len, bool squares) {
    double lane[LANES] = {0};
    int j = 0;
    for (; j + LANES <= len; j += LANES)
        for (int k = 0; k < LANES; k++) lane[k] += squares ? (double)x[j + k] * x[j + k] : (double)x[j + k];
    double sum = 0;
    for (int k = 0; k < LANES; k++) sum += lane[k];
    for (; j < len; j++) sum += squares ? (double)x[j] * x[j] : (double)x[j];
    return sum;
}

/* Index of the first element of x (len) equal to its maximum best. */
static int first_index_of(const real *x, int len, real best) {
    for (int j = 0; j < len; j++)
        if (x[j] == best) return j;
    return 0;
}

/* Index of the first maximum of row (width), whatever it holds (a NaN is
 * never a maximum). */
static int argmax(const real *row, int width) {
    int best = 0;
    for (int j = 1; j < width; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

/* Cross-entropy of a row holding a NaN or an infinity, in double as the
 * definition reads: the result is then NaN or infinite (the run diverged). */
static double cross_entropy_nonfinite(const real *row, int label, int width, double mean_over, real *drow) {
    double max_logit = row[argmax(row, width)];
    double sum_exp = 0;
    for (int j = 0; j < width; j++) sum_exp += exp(row[j] - max_logit);
    if (drow) {
        for (int j = 0; j < width; j++) drow[j] = (real)(exp(row[j] - max_logit) / (sum_exp * mean_over));
        drow[label] -= (real)(1.0 / mean_over);
    }
    return max_logit + log(sum_exp) - row[label];
}

/* Cross-entropy -log softmax(row)[label] of one row (width); drow (width)
 * written with its gradient divided by mean_over, when non-NULL; *hit 1
 * when the row's first maximum is the label. */
VECTOR_CLONES static double cross_entropy_row(const real *row, int label, int width, double mean_over, real *drow, int *hit) {
    if (!all_finite(row, width)) {
        *hit = argmax(row, width) == label;
        return cross_entropy_nonfinite(row, label, width, mean_over, drow);
    }
    real max_logit = row_max(row, width), chunk[ROW_CHUNK];
    *hit = first_index_of(row, width, max_logit) == label;
    double sum_exp = 0;
    for (int j0 = 0; j0 < width; j0 += ROW_CHUNK) {
        int len = width - j0 < ROW_CHUNK ? width - j0 : ROW_CHUNK;
        real *e = drow ? drow + j0 : chunk;
        for (int j = 0; j < len; j++) e[j] = exp_nonpositive(row[j0 + j] - max_logit);
        sum_exp += row_sum(e, len, false);
    }
    if (drow) {
        real scale = (real)(1.0 / (sum_exp * mean_over));
        for (int j = 0; j < width; j++) drow[j] *= scale;
        drow[label] -= (real)(1.0 / mean_over);
    }
    return (double)max_logit + log(sum_exp) - row[label];
}

/* Mean squared error of one row (width) against a target vector, or the
 * one-hot vector of `label` when target is NULL; drow as cross_entropy_row
 * takes it. */
VECTOR_CLONES static double squared_error_row(const real *row, const real *target, int label, int width, double mean_over,
                                real *drow) {
    real scale = (real)(2.0 / (mean_over * width)), chunk[ROW_CHUNK];
    double sq = 0;
    for (int j0 = 0; j0 < width; j0 += ROW_CHUNK) {
        int len = width - j0 < ROW_CHUNK ? width - j0 : ROW_CHUNK;
        real *diff = drow ? drow + j0 : chunk;
        if (target)
            for (int j = 0; j < len; j++) diff[j] = row[j0 + j] - target[j0 + j];
        else
            memcpy(diff, row + j0, sizeof(real) * (size_t)len);
        if (!target && label >= j0 && label < j0 + len) diff[label - j0] -= 1;
        sq += row_sum(diff, len, true);
        if (drow)
            for (int j = 0; j < len; j++) diff[j] *= scale;
    }
    return sq / width;
}

double loss_sum_part(LossKind kind, double tolerance, const real *outputs, const Examples *part, int mean_over,
                     real *doutputs, int *correct) {
    int n = part->n, width = part->shape.n_outputs;
    bool vector_targets = part->shape.target == TARGET_VECTOR;
    ASSERT(!(vector_targets && kind == LOSS_CROSS_ENTROPY) && mean_over >= n);
    double total = 0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const real *row = outputs + (long)i * width;
        real *drow = doutputs ? doutputs + (long)i * width : NULL;
        if (vector_targets) {
            double error = squared_error_row(row, part->targets + (long)i * width, -1, width, mean_over, drow);
            hits += error < tolerance;
            total += error;
            continue;
        }
        int label = part->labels[i], hit;
        if (kind == LOSS_CROSS_ENTROPY) {
            total += cross_entropy_row(row, label, width, mean_over, drow, &hit);
        } else {
            hit = all_finite(row, width) ? first_index_of(row, width, row_max(row, width)) == label
                                         : argmax(row, width) == label;
            total += squared_error_row(row, NULL, label, width, mean_over, drow);
        }
        hits += hit;
    }
    *correct = hits;
    return total;
}

double loss_sum(LossKind kind, double tolerance, const real *outputs, const Examples *batch, real *doutputs,
                int *correct) {
    return loss_sum_part(kind, tolerance, outputs, batch, batch->n, doutputs, correct);
}
