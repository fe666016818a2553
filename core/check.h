/* Assertions for programmer errors.
 *
 * ASSERT(cond) aborts with file, line and the failed condition; it is a
 * void expression, so it can sit inside other expressions, e.g.
 *   size_t n = (ASSERT(rows > 0), rows * cols);
 * Assertions stay on in release builds: a broken invariant in a training
 * loop must stop the run rather than silently corrupt a phase diagram.
 * Environment errors (I/O, memory) are returned as error codes instead;
 * experiment outcomes (NaN loss) are data. */
#ifndef GROKSWEEP_CHECK_H
#define GROKSWEEP_CHECK_H

_Noreturn void check_failed(const char *expr, const char *file, int line);

#define ASSERT(cond) ((cond) ? (void)0 : check_failed(#cond, __FILE__, __LINE__))

#endif
