/* The record of one run as JSON (what `groksweep train` prints) and its
 * learning curve as CSV. */
#ifndef GROKSWEEP_SUMMARY_H
#define GROKSWEEP_SUMMARY_H

#include <stdio.h>

#include "config.h"
#include "train.h"

/* A newly malloc'd, pretty-printed JSON summary: status, phase, accuracy
 * crossing steps, final metrics, steps run, timing, seeds, the BLAS kernel
 * and the resolved config. Returns NULL if memory runs out. */
char *run_summary_json(const RunConfig *cfg, const RunResult *result);

/* Write the curve as CSV with a header line: step, train_loss, test_loss,
 * train_acc, test_acc, weight_norm, and feature_rank_1 .. _L when the run
 * recorded feature ranks (empty where one failed). Returns 0, or -1 on a write
 * error (errno set). */
int write_curve_csv(FILE *out, const RunResult *result);

#endif
