/* A run's weights file: its initial and final parameters in one HDF5 file
 * (`groksweep train --save-weights`), read back to prune a ticket.
 *
 * Root attributes: format ("groksweep weights"), format_version (1),
 * model_structure (the fields that decide the parameter shapes, as text)
 * and config (the run's resolved config, JSON). Groups "initial" and
 * "final" hold one float32 dataset per parameter tensor, named as the
 * parameter table names it ("layers.0.weight"), shaped (rows, cols) for
 * weight and embedding matrices and (n) for biases and LayerNorm
 * parameters, as PyTorch's state_dict shapes them. */
#ifndef GROKSWEEP_WEIGHTS_FILE_H
#define GROKSWEEP_WEIGHTS_FILE_H

#include <stddef.h>

#include "params.h"
#include "real.h"
#include "train.h"

#define WEIGHTS_FORMAT "groksweep weights"
#define WEIGHTS_FORMAT_VERSION 1

/* Write weights to path (created, or truncated), config_json (the run's
 * resolved config) as its config attribute. Returns 0, or -1 with a
 * message naming the path and what failed. */
int weights_file_write(const char *path, const RunWeights *weights, const char *config_json, char *err,
                       size_t errlen);

/* Read the file at path into initial and final (table->total each) after
 * checking that it is a weights file of this format version holding
 * exactly table's tensors, each in the table's shape. Returns 0, or -1
 * with one line naming the file and the problem (a missing or extra
 * tensor; a tensor's shape in the file and in the model). */
int weights_file_read(const char *path, const ParamTable *table, real *initial, real *final, char *err,
                      size_t errlen);

#endif
