/* Outcome of a run: first crossings of accuracy levels and the phase rule
 * of Liu et al. 2022 (Table 1). */
#ifndef GROKSWEEP_METRICS_H
#define GROKSWEEP_METRICS_H

#define N_ACC_LEVELS 4
extern const double ACC_LEVELS[N_ACC_LEVELS]; /* 0.5, 0.9, 0.95, 0.99 */
extern const char *const ACC_LEVEL_NAMES[N_ACC_LEVELS]; /* "0.5", "0.9", "0.95", "0.99" */

typedef enum { PHASE_NONE, PHASE_COMPREHENSION, PHASE_GROKKING, PHASE_MEMORIZATION, PHASE_CONFUSION } Phase;

/* First evaluation step at which accuracy reached each level; -1 = never. */
typedef struct {
    int train_step[N_ACC_LEVELS], test_step[N_ACC_LEVELS];
    int train_phase_step, test_phase_step; /* at the phase rule's threshold */
} Crossings;

void crossings_init(Crossings *c);

/* Record the accuracies measured at an evaluation step (steps increase). */
void crossings_update(Crossings *c, int step, double train_acc, double test_acc, double phase_threshold);

/* Table 1 rule: train never reaches the threshold → confusion; train
 * does, test never → memorization; both, with test_step − train_step <
 * delay_steps → comprehension, otherwise grokking. */
Phase phase_classify(int train_step, int test_step, int delay_steps);

const char *phase_name(Phase phase);

#endif
