/* Feature rank (Fan et al. 2024, "Deep Grokking"): the rank of the
 * covariance of a hidden layer's activations over a set of examples, as
 * torch.linalg.matrix_rank(torch.cov(features.T)) computes it for float32
 * features: the number of eigenvalues of the (width, width) sample
 * covariance above max|λ| · width · FLT_EPSILON. The covariance is formed
 * in double through cblas and its eigenvalues come from LAPACK's dsyevd
 * (OpenBLAS). */
#ifndef GROKSWEEP_FEATURE_RANK_H
#define GROKSWEEP_FEATURE_RANK_H

#include "real.h"

typedef struct {
    int max_samples, width;
    double *centered;  /* (max_samples, width) activations minus their mean */
    double *cov;       /* (width, width) */
    double *eigen;     /* (width) */
    double *work;      /* LAPACK workspace (lwork) */
    int *iwork;        /* (liwork) */
    int lwork, liwork;
} FeatureRank;

/* Allocate scratch for up to max_samples examples of `width` features.
 * Returns 0, or -1 if memory runs out (safe to feature_rank_free). */
int feature_rank_create(FeatureRank *fr, int max_samples, int width);
void feature_rank_free(FeatureRank *fr);

/* Rank of the covariance of activations (n, width), 2 <= n <= max_samples;
 * -1 when LAPACK fails or an activation is not finite. */
int feature_rank_compute(FeatureRank *fr, const real *activations, int n);

#endif
