/* Error messages for failed HDF5 calls, with HDF5's own reason attached. */
#ifndef GROKSWEEP_HDF5_ERROR_H
#define GROKSWEEP_HDF5_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Writes "path: what: HDF5's innermost reason" into err (errlen bytes), where
 * what is fmt formatted with ap, and clears HDF5's error stack. The reason is
 * left out when the stack is empty. Expects HDF5's automatic printing off. */
void hdf5_error_vformat(char *err, size_t errlen, const char *path, const char *fmt, va_list ap);

/* hdf5_error_vformat with the arguments given directly. */
void hdf5_error_format(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks an HDF5 call's result (negative = failure), PETSc style: records
 * what failed (the remaining arguments, a format and its values) and jumps
 * to `fail`. Needs err, errlen and path in scope. */
#define TRY_H5(call, ...)                                      \
    do {                                                       \
        if ((call) < 0) {                                      \
            hdf5_error_format(err, errlen, path, __VA_ARGS__); \
            goto fail;                                         \
        }                                                      \
    } while (0)

#endif
