#include "check.h"

#include <stdio.h>
#include <stdlib.h>

/* Report a failed assertion and abort. Never returns. */
_Noreturn void check_failed(const char *expr, const char *file, int line) {
    fprintf(stderr, "groksweep: internal error: assertion `%s` failed at %s:%d\n", expr, file, line);
    abort();
}
