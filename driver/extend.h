/* Running a sweep whose grid contains an existing output's grid (more
 * seeds, new axis values): the finished points are kept and only the new
 * ones trained. */
#ifndef GROKSWEEP_EXTEND_H
#define GROKSWEEP_EXTEND_H

#include <stdbool.h>
#include <stddef.h>

#include "sweep.h"

/* When the journal at journal_path belongs to another sweep and the output
 * at out_path records that sweep (its `sweep` attribute) and it lies inside
 * `sweep`'s grid: rewrite the journal for `sweep`, each finished point at
 * its index in the new grid (a new journal written beside the old one and
 * renamed over it, so a crash leaves one or the other whole), and print
 * what was kept. Returns 0 when the journal now belongs to `sweep` or was
 * never another sweep's (the caller goes on as for any resume); 2 with a
 * message in err when the old sweep is not inside the new one; 1 on an I/O
 * failure. */
int extend_output(const Sweep *sweep, const char *out_path, const char *journal_path, bool have_output,
                  const char *blas_core, char *err, size_t errlen);

#endif
