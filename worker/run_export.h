/* A run's setup as the PyTorch references read it (tests/torch_crosscheck.py,
 * bench/torch_step.py, through tests/run_export.py): one JSON header line,
 * then little-endian raw arrays.
 *
 *   header: {"config": {...resolved config...},
 *            "shape": {"seq_len", "vocab", "dim", "target": "class" | "vector", "n_outputs"},
 *            "n": training examples, "total": parameter count,
 *            "params": [{"name", "shape": [rows, cols]}...], ...the caller's own keys...}
 *   int32   tokens[n][seq_len]       when seq_len > 0
 *   float32 features[n][dim]         when dim > 0
 *   int32   labels[n]                class targets, or
 *   float32 targets[n][n_outputs]    vector targets
 *   float32 params[total]            initial parameters (table order)
 *   ...the caller's own arrays... */
#ifndef GROKSWEEP_RUN_EXPORT_H
#define GROKSWEEP_RUN_EXPORT_H

#include <stdio.h>

#include "config.h"
#include "train.h"

/* Write the header up to (not including) its closing brace: the caller adds
 * its own ", \"key\": value" members, then "}\n". Returns 0, or -1 if memory
 * runs out. */
int run_export_header(FILE *out, const RunConfig *cfg, const RunSetup *setup);

/* Write the training examples and the model's current parameters. Returns
 * 0, or -1 on a write error. */
int run_export_data(FILE *out, const RunSetup *setup);

/* Write count elements of size bytes; 0, or -1 on a write error. */
int run_export_array(FILE *out, const void *data, size_t size, size_t count);

#endif
