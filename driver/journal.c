#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_MAGIC "GSJOURN2"
#define OLD_HEADER_MAGIC "GSJOURN1" /* before the BLAS kernel was recorded */
#define RECORD_MAGIC 0x47535231u /* "GSR1" */

typedef struct {
    char magic[8];
    uint64_t sweep_hash;
    int64_t n_points;
    int32_t n_eval;
    int32_t reserved;
    char blas_core[32]; /* OpenBLAS kernel of the run that created it, NUL-padded */
} JournalHeader;

static uint64_t fnv1a(const unsigned char *bytes, size_t size) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++) {
        h ^= bytes[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Record: magic (4) | point (8) | payload | checksum (8) */
static size_t record_size(const Journal *j) { return 4 + 8 + j->payload_size + 8; }

static int write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* Read up to size bytes; returns the count read (short only at end of file) or -1. */
static ssize_t read_full(int fd, void *data, size_t size) {
    char *p = data;
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, p + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

/* fsync the directory holding path, so a newly created file survives a crash. */
static int sync_directory_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int journal_open(Journal *j, const char *path, uint64_t sweep_hash, long n_points, int n_eval, int n_rank_layers,
                 const char *blas_core, JournalVisit visit, void *context, char *err, size_t errlen) {
    memset(j, 0, sizeof *j);
    j->fd = -1;
    j->n_eval = n_eval;
    j->n_rank_layers = n_rank_layers;
    j->payload_size = point_result_size(n_eval, n_rank_layers);
    j->buffer = malloc(record_size(j));
    PointResult result;
    if (!j->buffer || point_result_init(&result, n_eval, n_rank_layers) != 0) {
        free(j->buffer);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    JournalHeader expected = {.sweep_hash = sweep_hash, .n_points = n_points, .n_eval = n_eval};
    memcpy(expected.magic, HEADER_MAGIC, 8);
    strncpy(expected.blas_core, blas_core, sizeof expected.blas_core - 1);
    int status = -1;
    bool created = false;
    j->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (j->fd >= 0) {
        created = true;
        if (write_all(j->fd, &expected, sizeof expected) != 0 || fsync(j->fd) != 0 || sync_directory_of(path) != 0) {
            snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
            goto done;
        }
    } else if (errno == EEXIST) {
        j->fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (j->fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    if (!created) {
        JournalHeader found;
        ssize_t n = read_full(j->fd, &found, sizeof found);
        if (n >= 8 && memcmp(found.magic, OLD_HEADER_MAGIC, 8) == 0) {
            snprintf(err, errlen, "%s: written by an older groksweep (journal format 1), which this one cannot resume; "
                     "finish the sweep with that version, or use another output or --force to start over", path);
            status = -2;
            goto done;
        }
        if (n != (ssize_t)sizeof found || memcmp(found.magic, HEADER_MAGIC, 8) != 0) {
            snprintf(err, errlen, "%s: not a groksweep journal", path);
            status = -2;
            goto done;
        }
        if (found.sweep_hash != sweep_hash || found.n_points != n_points || found.n_eval != n_eval) {
            snprintf(err, errlen,
                     "%s: belongs to a different sweep (sweep hash %016llx, %lld points; this sweep: %016llx, %ld "
                     "points): refusing to mix results; use another output or --force to start over",
                     path, (unsigned long long)found.sweep_hash, (long long)found.n_points,
                     (unsigned long long)sweep_hash, n_points);
            status = -2;
            goto done;
        }
        found.blas_core[sizeof found.blas_core - 1] = '\0';
        if (strcmp(found.blas_core, expected.blas_core) != 0) {
            snprintf(err, errlen,
                     "%s: the sweep's points so far ran with the OpenBLAS kernel %s and this run would use %s; "
                     "float results depend on the kernel, so resume with OPENBLAS_CORETYPE=%s in the environment "
                     "of every rank (or use another output, or --force to start over)",
                     path, found.blas_core, expected.blas_core, found.blas_core);
            status = -2;
            goto done;
        }
        off_t good_end = (off_t)sizeof found;
        for (;;) {
            ssize_t got = read_full(j->fd, j->buffer, record_size(j));
            if (got < 0) {
                snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
                goto done;
            }
            if ((size_t)got < record_size(j)) break;
            uint32_t magic;
            int64_t point;
            uint64_t checksum;
            memcpy(&magic, j->buffer, 4);
            memcpy(&point, j->buffer + 4, 8);
            memcpy(&checksum, j->buffer + 12 + j->payload_size, 8);
            if (magic != RECORD_MAGIC || checksum != fnv1a(j->buffer + 4, 8 + j->payload_size) || point < 0 ||
                point >= n_points)
                break;
            point_result_unpack(&result, j->buffer + 12);
            visit((long)point, &result, context);
            good_end += (off_t)record_size(j);
        }
        /* cut off a torn record left by a kill during a write */
        if (ftruncate(j->fd, good_end) != 0 || lseek(j->fd, good_end, SEEK_SET) != good_end) {
            snprintf(err, errlen, "%s: cannot truncate a torn record: %s", path, strerror(errno));
            goto done;
        }
    }
    status = 0;
done:
    point_result_free(&result);
    if (status != 0) journal_close(j);
    return status;
}

int journal_append(Journal *j, long point, const PointResult *result, char *err, size_t errlen) {
    uint32_t magic = RECORD_MAGIC;
    int64_t index = point;
    memcpy(j->buffer, &magic, 4);
    memcpy(j->buffer + 4, &index, 8);
    point_result_pack(result, j->buffer + 12);
    uint64_t checksum = fnv1a(j->buffer + 4, 8 + j->payload_size);
    memcpy(j->buffer + 12 + j->payload_size, &checksum, 8);
    if (write_all(j->fd, j->buffer, record_size(j)) != 0 || fsync(j->fd) != 0) {
        snprintf(err, errlen, "journal: cannot append point %ld: %s", point, strerror(errno));
        return -1;
    }
    return 0;
}

void journal_close(Journal *j) {
    if (j->fd >= 0) close(j->fd);
    j->fd = -1;
    free(j->buffer);
    j->buffer = NULL;
}
