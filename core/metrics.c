#include "metrics.h"

#include "check.h"

const double ACC_LEVELS[N_ACC_LEVELS] = {0.5, 0.9, 0.95, 0.99};
const char *const ACC_LEVEL_NAMES[N_ACC_LEVELS] = {"0.5", "0.9", "0.95", "0.99"};

void crossings_init(Crossings *c) {
    for (int k = 0; k < N_ACC_LEVELS; k++) c->train_step[k] = c->test_step[k] = -1;
    c->train_phase_step = c->test_phase_step = -1;
}

static void first_crossing(int *slot, int step, double acc, double level) {
    if (*slot < 0 && acc >= level) *slot = step;
}

void crossings_update(Crossings *c, int step, double train_acc, double test_acc, double phase_threshold) {
    for (int k = 0; k < N_ACC_LEVELS; k++) {
        first_crossing(&c->train_step[k], step, train_acc, ACC_LEVELS[k]);
        first_crossing(&c->test_step[k], step, test_acc, ACC_LEVELS[k]);
    }
    first_crossing(&c->train_phase_step, step, train_acc, phase_threshold);
    first_crossing(&c->test_phase_step, step, test_acc, phase_threshold);
}

Phase phase_classify(int train_step, int test_step, int delay_steps) {
    if (train_step < 0) return PHASE_CONFUSION;
    if (test_step < 0) return PHASE_MEMORIZATION;
    return test_step - train_step < delay_steps ? PHASE_COMPREHENSION : PHASE_GROKKING;
}

const char *phase_name(Phase phase) {
    static const char *const names[] = {"none", "comprehension", "grokking", "memorization", "confusion"};
    ASSERT(phase >= PHASE_NONE && phase <= PHASE_CONFUSION);
    return names[phase];
}
