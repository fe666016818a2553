#include "output_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

#define HOLDER_CAPACITY 256

/* What the lock file says about the run that holds it, as one line. */
static void read_holder(int fd, char *buf, size_t size) {
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (!buf[0]) snprintf(buf, size, "a run that has not written its name yet");
}

int output_lock_acquire(OutputLock *lock, const char *out_path, char *err, size_t errlen) {
    char path[4096];
    lock->fd = -1;
    if (snprintf(path, sizeof path, "%s.lock", out_path) >= (int)sizeof path)
        return error_format(err, errlen, "-o %s: the path is too long", out_path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return error_format(err, errlen, "%s: cannot open the output's lock file: %s", path, strerror(errno));
    struct flock whole = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_SETLK, &whole) != 0) {
        int saved = errno;
        char holder[HOLDER_CAPACITY];
        read_holder(fd, holder, sizeof holder);
        close(fd);
        if (saved == EACCES || saved == EAGAIN) {
            error_format(err, errlen,
                         "-o %s: the output is in use by another run (%s); wait for it to finish or stop it (it "
                         "resumes), or choose another output", out_path, holder);
            return -2;
        }
        return error_format(err, errlen, "%s: cannot lock the output: %s", path, strerror(saved));
    }
    char host[128] = "?", holder[HOLDER_CAPACITY], started[32];
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &utc);
    int len = snprintf(holder, sizeof holder, "host %s, pid %ld, started %s\n", host, (long)getpid(), started);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, holder, (size_t)len, 0) != len) {
        int saved = errno;
        close(fd);
        return error_format(err, errlen, "%s: cannot write the output's lock file: %s", path, strerror(saved));
    }
    lock->fd = fd;
    return 0;
}

void output_lock_release(OutputLock *lock) {
    if (lock->fd >= 0) close(lock->fd);
    lock->fd = -1;
}
