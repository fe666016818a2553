/* Error messages for environment errors and bad input: one line each. */
#ifndef GROKSWEEP_ERROR_H
#define GROKSWEEP_ERROR_H

#include <stddef.h>

/* Write a formatted message into err (at most errlen bytes), turning any
 * control character (a newline in a key name, say) into a space so that the
 * message stays one line, and every byte that is not part of well-formed
 * UTF-8 (a file's garbage echoed back) into '?'. Returns -1, so callers can
 * `return error_format(...)`. */
int error_format(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copy text, a malloc'd string that this frees, into buf (size >= 4) for a
 * message, cut with "..." when longer than the buffer; "?" when text is NULL
 * (memory ran out while printing a value). */
void error_fit_value(char *buf, size_t size, char *text);

#endif
