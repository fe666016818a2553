/* One run per output: an exclusive POSIX record lock (fcntl) on OUT.h5.lock,
 * held for the whole run. The kernel releases it when the process ends,
 * however it ends, so a kill -9 never leaves a stale lock; the file stays
 * and holds the host, pid and start time of the run that last took it, for
 * the message a second run prints. */
#ifndef GROKSWEEP_OUTPUT_LOCK_H
#define GROKSWEEP_OUTPUT_LOCK_H

#include <stddef.h>

typedef struct {
    int fd;
} OutputLock;

/* Take the lock of the output at out_path. Returns 0; -2 when another run
 * holds it (the message names its host and pid); -1 on an I/O error. */
int output_lock_acquire(OutputLock *lock, const char *out_path, char *err, size_t errlen);

/* Release the lock (also done by the kernel at exit). */
void output_lock_release(OutputLock *lock);

#endif
