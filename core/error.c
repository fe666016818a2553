#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at text (1 to 4), or 0 when the
 * bytes there are not one (a stray continuation byte, an overlong form, a
 * surrogate, a truncated sequence). */
static int utf8_sequence_length(const unsigned char *text) {
    unsigned char c = text[0];
    int length = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    for (int k = 1; k < length; k++)
        if ((text[k] & 0xC0) != 0x80) return 0;
    if (length == 3 && ((c == 0xE0 && text[1] < 0xA0) || (c == 0xED && text[1] > 0x9F))) return 0;
    if (length == 4 && ((c == 0xF0 && text[1] < 0x90) || (c == 0xF4 && text[1] > 0x8F))) return 0;
    return length;
}

int error_format(char *err, size_t errlen, const char *fmt, ...) {
    if (errlen == 0) return -1;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
    unsigned char *c = (unsigned char *)err;
    while (*c) {
        int length = utf8_sequence_length(c);
        if (length == 0) { /* bytes from a file or the command line that are not text */
            *c++ = '?';
            continue;
        }
        if (length == 1 && (*c < 0x20 || *c == 0x7f)) *c = ' ';
        c += length;
    }
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
