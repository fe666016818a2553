/* configs_equal: two run configs compared field by field (memcmp would also
 * compare padding bytes). Shared by the config and sweep tests. */
#ifndef GROKSWEEP_CONFIG_EQUAL_H
#define GROKSWEEP_CONFIG_EQUAL_H

#include <stdbool.h>
#include <string.h>

#include "config.h"

static inline bool configs_equal(const RunConfig *a, const RunConfig *b) {
#define SAME(member) (a->member == b->member)
#define SAME_TEXT(member) (strcmp(a->member, b->member) == 0)
    return SAME(task.kind) && SAME(task.arithmetic.op) && SAME(task.arithmetic.p) &&
           SAME(task.arithmetic.data_fraction) && SAME(task.arithmetic.sequence) &&
           SAME(task.arithmetic.concealed_bits) && SAME(task.train_size) &&
           SAME(task.test_size) && SAME_TEXT(task.images.train_images) && SAME_TEXT(task.images.train_labels) &&
           SAME_TEXT(task.images.test_images) && SAME_TEXT(task.images.test_labels) && SAME(task.images.subset) &&
           SAME(task.teacher.input_dim) && SAME(task.teacher.output_dim) && SAME(task.teacher.width) &&
           SAME(task.teacher.depth) && SAME(task.teacher.seed) && SAME(task.teacher.tolerance) &&
           SAME(task.carvalho.dataset) && SAME(task.carvalho.imbalance) && SAME(model.kind) && SAME(model.input) &&
           SAME(model.width) && SAME(model.depth) && SAME(model.embed_dim) && SAME(model.n_layers) &&
           SAME(model.d_model) && SAME(model.n_heads) && SAME(model.d_mlp) && SAME(model.layernorm) && SAME(model.final_layernorm) &&
           SAME(model.positions) && SAME(model.attention_bias) &&
           SAME(model.activation) && SAME(model.bias) && SAME(model.init_kind) && SAME(model.init_std) &&
           SAME(model.init_scale) && SAME(loss) && SAME(optimizer.kind) && SAME(optimizer.lr) &&
           SAME(optimizer.weight_decay) && SAME(optimizer.beta1) && SAME(optimizer.beta2) && SAME(optimizer.eps) &&
           SAME(optimizer.warmup_steps) && SAME(optimizer.momentum) && SAME(train.steps) &&
           SAME(train.batch_size) && SAME(train.eval_every) && SAME(train.seed) &&
           SAME(train.early_stop_test_acc) && SAME(train.early_stop_patience) && SAME(train.fixed_norm) &&
           SAME(train.feature_rank) && SAME(train.feature_rank_samples) && SAME(phase.threshold) &&
           SAME(phase.delay_steps) && SAME(ticket.kept_fraction) && SAME(ticket.control) && SAME(ticket.source) &&
           SAME(ticket.source_steps) && SAME_TEXT(ticket.weights);
#undef SAME_TEXT
#undef SAME
}

#endif
