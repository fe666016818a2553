#include "feature_rank.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "check.h"

/* LAPACK's symmetric eigensolver from OpenBLAS (Fortran calling convention:
 * every argument by reference, then the lengths of the character arguments,
 * which gfortran passes as size_t). */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
                    double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len,
                    size_t uplo_len);

int feature_rank_create(FeatureRank *fr, int max_samples, int width) {
    ASSERT(max_samples >= 2 && width >= 1);
    memset(fr, 0, sizeof *fr);
    fr->max_samples = max_samples;
    fr->width = width;
    /* eigenvalues only (jobz 'N'): lwork >= 2n + 1, liwork >= 1 */
    fr->lwork = 2 * width + 1;
    fr->liwork = 1;
    fr->centered = malloc(sizeof(double) * (size_t)max_samples * (size_t)width);
    fr->cov = malloc(sizeof(double) * (size_t)width * (size_t)width);
    fr->eigen = malloc(sizeof(double) * (size_t)width);
    fr->work = malloc(sizeof(double) * (size_t)fr->lwork);
    fr->iwork = malloc(sizeof(int) * (size_t)fr->liwork);
    return fr->centered && fr->cov && fr->eigen && fr->work && fr->iwork ? 0 : -1;
}

void feature_rank_free(FeatureRank *fr) {
    free(fr->centered);
    free(fr->cov);
    free(fr->eigen);
    free(fr->work);
    free(fr->iwork);
    memset(fr, 0, sizeof *fr);
}

int feature_rank_compute(FeatureRank *fr, const real *activations, int n) {
    int width = fr->width;
    ASSERT(n >= 2 && n <= fr->max_samples);
    /* centered = activations - their column means, in double */
    double *mean = fr->eigen; /* (width) scratch until the eigenvalues overwrite it */
    for (int j = 0; j < width; j++) mean[j] = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < width; j++) mean[j] += activations[(long)i * width + j];
    for (int j = 0; j < width; j++) {
        mean[j] /= n;
        if (!isfinite(mean[j])) return -1;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < width; j++)
            fr->centered[(long)i * width + j] = (double)activations[(long)i * width + j] - mean[j];
    /* cov (upper triangle, column-major = lower in row-major) = centeredᵀ centered / (n - 1) */
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, width, n, 1.0 / (n - 1), fr->centered, width, 0, fr->cov,
                width);
    int info = 0;
    dsyevd_("N", "U", &width, fr->cov, &width, fr->eigen, fr->work, &fr->lwork, fr->iwork, &fr->liwork, &info, 1, 1);
    if (info != 0) return -1;
    double largest = 0;
    for (int j = 0; j < width; j++)
        if (fabs(fr->eigen[j]) > largest) largest = fabs(fr->eigen[j]);
    double tolerance = largest * width * FLT_EPSILON;
    int rank = 0;
    for (int j = 0; j < width; j++) rank += fabs(fr->eigen[j]) > tolerance;
    return rank;
}
