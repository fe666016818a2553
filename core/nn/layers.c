#include "layers.h"

#include <math.h>
#include <string.h>

#include "check.h"
#include "vector_clones.h"

#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

/* tanh in the precision of real (tanhf is within an ulp of float and several
 * times faster than the double tanh). */
#ifdef GROKSWEEP_REAL_DOUBLE
#define real_tanh tanh
#else
#define real_tanh tanhf
#endif

static const char *const activation_names[ACTIVATION_COUNT] = {
    [ACT_RELU] = "relu", [ACT_QUADRATIC] = "quadratic", [ACT_GELU] = "gelu", [ACT_TANH] = "tanh"};

const char *activation_name(Activation act) {
    ASSERT((unsigned)act < (unsigned)ACTIVATION_COUNT);
    return activation_names[act];
}

void linear_forward(real *out, const real *in, int in_stride, const real *weight, const real *bias,
                    int n, int in_dim, int out_dim) {
    ASSERT(in_stride >= in_dim);
    if (bias) {
        for (int i = 0; i < n; i++) memcpy(out + (long)i * out_dim, bias, sizeof(real) * (size_t)out_dim);
    }
    cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out_dim, in_dim, 1, in, in_stride, weight,
               in_dim, bias ? 1 : 0, out, out_dim);
}

void linear_backward(real *din, bool accumulate_din, real *dweight, real *dbias, const real *dout,
                     const real *in, int in_stride, const real *weight, int n, int in_dim, int out_dim) {
    /* dweight (out_dim, in_dim) += doutᵀ (out_dim, n) · in (n, in_dim) */
    cblas_gemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_dim, in_dim, n, 1, dout, out_dim, in,
               in_stride, 1, dweight, in_dim);
    if (dbias) {
        for (int i = 0; i < n; i++) {
            const real *row = dout + (long)i * out_dim;
            for (int j = 0; j < out_dim; j++) dbias[j] += row[j];
        }
    }
    /* din (n, in_dim) = dout (n, out_dim) · weight (out_dim, in_dim) */
    if (din)
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in_dim, out_dim, 1, dout, out_dim,
                   weight, in_dim, accumulate_din ? 1 : 0, din, in_stride);
}

VECTOR_CLONES void activation_forward(real *out, const real *in, long count, Activation act) {
    switch (act) {
    case ACT_RELU:
        /* written so that it vectorizes into a compare and a blend: a
         * mispredicted branch per element would cost more than the matmuls */
        for (long i = 0; i < count; i++) {
            real x = in[i];
            out[i] = x > 0 ? x : 0;
        }
        break;
    case ACT_QUADRATIC:
        for (long i = 0; i < count; i++) out[i] = in[i] * in[i];
        break;
    case ACT_GELU:
        for (long i = 0; i < count; i++) out[i] = (real)(0.5 * in[i] * (1.0 + erf(in[i] * INV_SQRT2)));
        break;
    case ACT_TANH:
        for (long i = 0; i < count; i++) out[i] = real_tanh(in[i]);
        break;
    case ACTIVATION_COUNT: ASSERT(!"unknown activation"); break;
    }
}

VECTOR_CLONES void activation_backward(real *din, const real *dout, const real *in, const real *out, long count, Activation act) {
    switch (act) {
    case ACT_RELU:
        for (long i = 0; i < count; i++) {
            real g = dout[i];
            din[i] = in[i] > 0 ? g : 0;
        }
        break;
    case ACT_QUADRATIC:
        for (long i = 0; i < count; i++) din[i] = 2 * in[i] * dout[i];
        break;
    case ACT_GELU:
        for (long i = 0; i < count; i++) {
            double x = in[i];
            double cdf = 0.5 * (1.0 + erf(x * INV_SQRT2));
            double pdf = INV_SQRT_2PI * exp(-0.5 * x * x);
            din[i] = (real)((cdf + x * pdf) * dout[i]);
        }
        break;
    case ACT_TANH:
        for (long i = 0; i < count; i++) din[i] = (1 - out[i] * out[i]) * dout[i];
        break;
    case ACTIVATION_COUNT: ASSERT(!"unknown activation"); break;
    }
}

void layernorm_forward(real *out, real *mean, real *rstd, const real *in, const real *gain,
                       const real *bias, int n, int c) {
    for (int i = 0; i < n; i++) {
        const real *x = in + (long)i * c;
        real *y = out + (long)i * c;
        double sum = 0, sq = 0;
        for (int j = 0; j < c; j++) sum += x[j];
        double mu = sum / c;
        for (int j = 0; j < c; j++) sq += (x[j] - mu) * (x[j] - mu);
        double r = 1.0 / sqrt(sq / c + 1e-5);
        for (int j = 0; j < c; j++) y[j] = (real)((x[j] - mu) * r * gain[j] + bias[j]);
        mean[i] = (real)mu;
        rstd[i] = (real)r;
    }
}

void layernorm_backward(real *din, real *dgain, real *dbias, const real *dout, const real *in,
                        const real *gain, const real *mean, const real *rstd, int n, int c) {
    for (int i = 0; i < n; i++) {
        const real *x = in + (long)i * c, *dy = dout + (long)i * c;
        real *dx = din + (long)i * c;
        double mu = mean[i], r = rstd[i];
        double mean_dnorm = 0, mean_dnorm_norm = 0;
        for (int j = 0; j < c; j++) {
            double norm = (x[j] - mu) * r;
            double dnorm = (double)gain[j] * dy[j];
            mean_dnorm += dnorm;
            mean_dnorm_norm += dnorm * norm;
            dgain[j] += (real)(norm * dy[j]);
            dbias[j] += dy[j];
        }
        mean_dnorm /= c;
        mean_dnorm_norm /= c;
        for (int j = 0; j < c; j++) {
            double norm = (x[j] - mu) * r;
            double dnorm = (double)gain[j] * dy[j];
            dx[j] += (real)((dnorm - mean_dnorm - norm * mean_dnorm_norm) * r);
        }
    }
}
