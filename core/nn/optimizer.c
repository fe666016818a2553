#include "optimizer.h"

#include <math.h>
#include <stdlib.h>

#include "check.h"

static const char *const optimizer_names[OPTIMIZER_KIND_COUNT] = {[OPT_ADAMW] = "adamw", [OPT_SGD] = "sgd"};

const char *optimizer_name(OptimizerKind kind) {
    ASSERT((unsigned)kind < (unsigned)OPTIMIZER_KIND_COUNT);
    return optimizer_names[kind];
}

int optimizer_create(Optimizer *opt, const OptimizerConfig *cfg, size_t count) {
    opt->cfg = *cfg;
    opt->count = count;
    opt->step = 0;
    opt->moments = calloc(2 * count, sizeof(real));
    return opt->moments ? 0 : -1;
}

void optimizer_free(Optimizer *opt) {
    free(opt->moments);
    opt->moments = NULL;
}

double optimizer_lr(const OptimizerConfig *cfg, long step) {
    if (cfg->warmup_steps > 0 && step < cfg->warmup_steps) return cfg->lr * (double)step / cfg->warmup_steps;
    return cfg->lr;
}

static void adamw_step(Optimizer *opt, real *params, const real *grads, double lr) {
    const OptimizerConfig *cfg = &opt->cfg;
    real *m = opt->moments, *v = opt->moments + opt->count;
    real decay = (real)(1.0 - lr * cfg->weight_decay);
    real beta1 = (real)cfg->beta1, beta2 = (real)cfg->beta2;
    real step_size = (real)(lr / (1.0 - pow(cfg->beta1, (double)opt->step)));
    real bias_correction2_sqrt = (real)sqrt(1.0 - pow(cfg->beta2, (double)opt->step));
    real eps = (real)cfg->eps;
    for (size_t i = 0; i < opt->count; i++) {
        real g = grads[i];
        params[i] *= decay;
        m[i] += (g - m[i]) * (1 - beta1);
        v[i] = v[i] * beta2 + (1 - beta2) * g * g;
        real denom = (real)sqrt(v[i]) / bias_correction2_sqrt + eps;
        params[i] -= step_size * m[i] / denom;
    }
}

static void sgd_step(Optimizer *opt, real *params, const real *grads, double lr) {
    const OptimizerConfig *cfg = &opt->cfg;
    real *buffer = opt->moments;
    real weight_decay = (real)cfg->weight_decay, momentum = (real)cfg->momentum, rate = (real)lr;
    for (size_t i = 0; i < opt->count; i++) {
        real g = grads[i] + weight_decay * params[i];
        buffer[i] = opt->step == 1 ? g : momentum * buffer[i] + g;
        params[i] -= rate * (momentum > 0 ? buffer[i] : g);
    }
}

void optimizer_step(Optimizer *opt, real *params, const real *grads) {
    opt->step++;
    double lr = optimizer_lr(&opt->cfg, opt->step);
    if (opt->cfg.kind == OPT_ADAMW)
        adamw_step(opt, params, grads, lr);
    else
        sgd_step(opt, params, grads, lr);
}

double params_norm(const real *params, size_t count) {
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += (double)params[i] * params[i];
    return sqrt(sum);
}

void params_rescale_to_norm(real *params, size_t count, double target_norm) {
    ASSERT(target_norm > 0);
    double norm = params_norm(params, count);
    if (!(norm > 0)) return;
    real factor = (real)(target_norm / norm);
    for (size_t i = 0; i < count; i++) params[i] *= factor;
}
