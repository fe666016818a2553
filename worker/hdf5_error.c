#include "hdf5_error.h"

#include <hdf5.h>
#include <stdio.h>

#include "error.h"

#define DETAIL_SIZE 256

/* Walking the stack downwards, the last entry is the innermost cause. */
static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    char *detail = data;
    const char *text = e->desc && e->desc[0] ? e->desc : e->func_name;
    if (text && text[0]) snprintf(detail, DETAIL_SIZE, "%s", text);
    return 0;
}

void hdf5_error_vformat(char *err, size_t errlen, const char *path, const char *fmt, va_list ap) {
    char what[256], detail[DETAIL_SIZE] = "";
    vsnprintf(what, sizeof what, fmt, ap);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, detail);
    H5Eclear2(H5E_DEFAULT);
    /* one line: HDF5's own texts hold newlines */
    if (detail[0])
        error_format(err, errlen, "%s: %s: %s", path, what, detail);
    else
        error_format(err, errlen, "%s: %s", path, what);
}

void hdf5_error_format(char *err, size_t errlen, const char *path, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    hdf5_error_vformat(err, errlen, path, fmt, ap);
    va_end(ap);
}
