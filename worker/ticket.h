/* Lottery tickets of grokking (Minegishi et al. 2024): a dense run's final
 * weights pruned globally by magnitude, the kept ones rewound to the run's
 * initial weights and trained with the others held at zero; and the
 * control, the dense network started at the ticket's initial L2 norm. */
#ifndef GROKSWEEP_TICKET_H
#define GROKSWEEP_TICKET_H

#include <stdbool.h>

#include "config.h"
#include "model.h"
#include "params.h"
#include "real.h"

/* True for the tensors a ticket prunes: the weight and embedding matrices
 * (Minegishi et al. mask every weight of their models, which have no
 * biases); biases and LayerNorm parameters are never pruned. */
bool ticket_prunes(ParamRole role);

/* Into mask (table->total): 0 for the pruned entries, 1 for the rest. Over
 * all entries of the prunable tensors together (global pruning), with n of
 * them and k = floor((1 - kept_fraction)·n): the entries whose |final| is
 * at most the k-th smallest |final| are pruned (none when k = 0), as
 * Minegishi et al.'s threshold does; a NaN counts as the largest. final is
 * (table->total). Returns 0, or -1 if memory runs out. */
int ticket_prune(const ParamTable *table, const real *final, double kept_fraction, unsigned char *mask);

/* Make model's parameters the start of a ticket run: with
 * TICKET_CONTROL_TICKET, initial (table.total) under the mask
 * ticket_prune draws from final (table.total), the mask kept in the model;
 * with TICKET_CONTROL_NORM_MATCHED, initial scaled as a whole so its L2
 * norm is that of the masked initial, and no mask. Returns 0, or -1 if
 * memory runs out. */
int ticket_start(Model *model, const TicketConfig *ticket, const real *initial, const real *final);

#endif
