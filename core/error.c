#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int error_format(char *err, size_t errlen, const char *fmt, ...) {
    if (errlen == 0) return -1;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
    for (char *c = err; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
    return -1;
}

void error_fit_value(char *buf, size_t size, char *text) {
    if (!text) {
        snprintf(buf, size, "?");
        return;
    }
    if (strlen(text) >= size) memcpy(text + size - 4, "...", 4);
    snprintf(buf, size, "%s", text);
    free(text);
}
