/* configs_equal: two run configs compared field by field (memcmp would also
 * compare padding bytes). Shared by the config and sweep tests. */
#ifndef GROKSWEEP_CONFIG_EQUAL_H
#define GROKSWEEP_CONFIG_EQUAL_H

#include <stdbool.h>

#include "config.h"

static inline bool configs_equal(const RunConfig *a, const RunConfig *b) {
#define SAME(member) (a->member == b->member)
    return SAME(task.op) && SAME(task.p) && SAME(task.data_fraction) && SAME(model.kind) && SAME(model.input) &&
           SAME(model.width) && SAME(model.depth) && SAME(model.embed_dim) && SAME(model.n_layers) &&
           SAME(model.d_model) && SAME(model.n_heads) && SAME(model.d_mlp) && SAME(model.layernorm) &&
           SAME(model.activation) && SAME(model.bias) && SAME(model.init_kind) && SAME(model.init_std) &&
           SAME(model.init_scale) && SAME(loss) && SAME(optimizer.kind) && SAME(optimizer.lr) &&
           SAME(optimizer.weight_decay) && SAME(optimizer.beta1) && SAME(optimizer.beta2) && SAME(optimizer.eps) &&
           SAME(optimizer.warmup_steps) && SAME(optimizer.momentum) && SAME(train.steps) &&
           SAME(train.batch_size) && SAME(train.eval_every) && SAME(train.seed) &&
           SAME(train.early_stop_test_acc) && SAME(train.early_stop_patience) && SAME(phase.threshold) &&
           SAME(phase.delay_steps);
#undef SAME
}

#endif
