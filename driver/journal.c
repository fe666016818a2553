#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "error.h"

#define HEADER_MAGIC "GSJOURN2"
#define OLD_HEADER_MAGIC "GSJOURN1" /* before the BLAS kernel was recorded */
#define RECORD_MAGIC 0x47535231u /* "GSR1" */
#define READ_BLOCK_BYTES ((size_t)1 << 20) /* read at once when replaying: whole records, at least one */

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

/* Whether the complete record at record (record_size bytes) is sound: its
 * magic, checksum, point index and the values it carries (a forged status
 * or phase with a valid checksum is damage too). Sets *point to the index
 * it holds and unpacks it into *result. */
static bool record_sound(const Journal *j, const unsigned char *record, long n_points, PointResult *result,
                         int64_t *point) {
    uint32_t magic;
    uint64_t checksum;
    memcpy(&magic, record, 4);
    memcpy(point, record + 4, 8);
    memcpy(&checksum, record + 12 + j->payload_size, 8);
    if (magic != RECORD_MAGIC || checksum != fnv1a(record + 4, 8 + j->payload_size) || *point < 0 ||
        *point >= n_points)
        return false;
    point_result_unpack(result, record + 12);
    return point_result_valid(result);
}

/* Write the header and every sound record of the open journal to a new
 * file beside it, then move it over the old one: damaged records leave the
 * journal, so their points run again and are reported only once. Returns 0,
 * or -1 with a message (the old journal is then left as it was). */
static int rewrite_sound_records(Journal *j, const char *path, const JournalHeader *header, long n_points,
                                 PointResult *result, char *err, size_t errlen) {
    char rewrite_path[4096];
    if (snprintf(rewrite_path, sizeof rewrite_path, "%s.rewrite", path) >= (int)sizeof rewrite_path)
        return error_format(err, errlen, "%s: path too long to rewrite the journal", path);
    unlink(rewrite_path); /* a rewrite a crash interrupted; the journal itself is intact */
    int out = open(rewrite_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) return error_format(err, errlen, "%s: cannot rewrite the journal: %s", rewrite_path, strerror(errno));
    bool ok = write_all(out, header, sizeof *header) == 0 && lseek(j->fd, (off_t)sizeof *header, SEEK_SET) >= 0;
    for (;;) {
        ssize_t got = ok ? read_full(j->fd, j->buffer, record_size(j)) : -1;
        if (got < 0) ok = false;
        if (!ok || (size_t)got < record_size(j)) break;
        int64_t point;
        if (record_sound(j, j->buffer, n_points, result, &point))
            ok = write_all(out, j->buffer, record_size(j)) == 0;
    }
    ok = ok && fsync(out) == 0;
    int saved_errno = errno;
    if (close(out) != 0) ok = false;
    if (!ok || rename(rewrite_path, path) != 0 || sync_directory_of(path) != 0) {
        if (ok) saved_errno = errno;
        unlink(rewrite_path);
        return error_format(err, errlen, "%s: cannot rewrite the journal without its damaged records: %s", path,
                            strerror(saved_errno));
    }
    close(j->fd);
    j->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (j->fd < 0) return error_format(err, errlen, "%s: cannot reopen the rewritten journal: %s", path, strerror(errno));
    return 0;
}

/* Read the records after the header, a block of whole records per read():
 * pass each sound one to visit; report each damaged one on stderr (its
 * number, offset and point, which will run again) and rewrite the journal
 * without them; cut a torn last record (a kill during a write). Leaves the
 * file position at the end. Returns 0, or -1 with a message. */
static int read_records(Journal *j, const char *path, const JournalHeader *header, long n_points, JournalVisit visit,
                        void *context, PointResult *result, char *err, size_t errlen) {
    size_t size = record_size(j), block_size = (READ_BLOCK_BYTES / size > 0 ? READ_BLOCK_BYTES / size : 1) * size;
    unsigned char *block = malloc(block_size);
    if (!block) return error_format(err, errlen, "%s: out of memory for reading the journal", path);
    off_t end = (off_t)sizeof *header;
    long index = 0, damaged = 0;
    ssize_t got;
    do {
        got = read_full(j->fd, block, block_size);
        if (got < 0) {
            free(block);
            return error_format(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        }
        for (size_t at = 0; at + size <= (size_t)got; at += size, index++) {
            int64_t point;
            if (record_sound(j, block + at, n_points, result, &point)) {
                visit((long)point, result, context);
            } else {
                damaged++;
                bool in_range = point >= 0 && point < n_points;
                fprintf(stderr,
                        "groksweep run: %s: record %ld at byte %lld is damaged (%s); %s\n", path, index,
                        (long long)end, in_range ? "a bad checksum or values" : "a bad point index",
                        in_range ? "its point will run again if no other record holds it" : "it is dropped");
            }
            end += (off_t)size;
        }
    } while ((size_t)got == block_size); /* a short read is the end of the file */
    free(block);
    /* cut off a torn record left by a kill during a write */
    if (ftruncate(j->fd, end) != 0 || lseek(j->fd, end, SEEK_SET) != end)
        return error_format(err, errlen, "%s: cannot truncate a torn record: %s", path, strerror(errno));
    return damaged > 0 ? rewrite_sound_records(j, path, header, n_points, result, err, errlen) : 0;
}

int journal_replace(const char *temp, const char *path) {
    return rename(temp, path) != 0 || sync_directory_of(path) != 0 ? -1 : 0;
}

int journal_read_header(const char *path, uint64_t *sweep_hash, long *n_points, char *blas_core, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    JournalHeader found;
    ssize_t n = read_full(fd, &found, sizeof found);
    close(fd);
    if (n != (ssize_t)sizeof found || memcmp(found.magic, HEADER_MAGIC, 8) != 0) return -1;
    *sweep_hash = found.sweep_hash;
    *n_points = (long)found.n_points;
    found.blas_core[sizeof found.blas_core - 1] = '\0';
    if (blas_core) snprintf(blas_core, size, "%s", found.blas_core);
    return 0;
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
            snprintf(err, errlen,
                     "%s: not a groksweep journal, or its header is damaged, so the finished points in it cannot be "
                     "trusted; move it (and the output file) aside to start the sweep over, or pass --force", path);
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
        int rc = read_records(j, path, &found, n_points, visit, context, &result, err, errlen);
        if (rc != 0) {
            status = rc;
            goto done;
        }
    }
    status = 0;
done:
    point_result_free(&result);
    if (status != 0) journal_close(j);
    return status;
}

double journal_size_bound(long n_points, int n_eval, int n_rank_layers) {
    return (double)sizeof(JournalHeader) + (double)n_points * (4 + 8 + (double)point_result_size(n_eval, n_rank_layers) + 8);
}

/* Lay out one record of point with its packed payload at out
 * (record_size bytes). */
static void fill_record(const Journal *j, long point, const unsigned char *payload, unsigned char *out) {
    uint32_t magic = RECORD_MAGIC;
    int64_t index = point;
    memcpy(out, &magic, 4);
    memcpy(out + 4, &index, 8);
    if (payload != out + 12) memcpy(out + 12, payload, j->payload_size);
    uint64_t checksum = fnv1a(out + 4, 8 + j->payload_size);
    memcpy(out + 12 + j->payload_size, &checksum, 8);
}

int journal_append(Journal *j, long point, const PointResult *result, char *err, size_t errlen) {
    point_result_pack(result, j->buffer + 12);
    fill_record(j, point, j->buffer + 12, j->buffer);
    if (write_all(j->fd, j->buffer, record_size(j)) != 0 || fsync(j->fd) != 0) {
        snprintf(err, errlen, "journal: cannot append point %ld: %s", point, strerror(errno));
        return -1;
    }
    return 0;
}

int journal_append_batch(Journal *j, int count, const long *points, const unsigned char *const *payloads, char *err,
                         size_t errlen) {
    ASSERT(count > 0 && points && payloads);
    size_t need = (size_t)count * record_size(j);
    if (need > j->batch_capacity) {
        unsigned char *grown = realloc(j->batch, need);
        if (!grown) {
            snprintf(err, errlen, "journal: out of memory for %d records", count);
            return -1;
        }
        j->batch = grown;
        j->batch_capacity = need;
    }
    for (int i = 0; i < count; i++) fill_record(j, points[i], payloads[i], j->batch + (size_t)i * record_size(j));
    if (write_all(j->fd, j->batch, need) != 0 || fsync(j->fd) != 0) {
        snprintf(err, errlen, "journal: cannot append %d point%s (the first %ld): %s", count, count == 1 ? "" : "s",
                 points[0], strerror(errno));
        return -1;
    }
    return 0;
}

void journal_close(Journal *j) {
    if (j->fd >= 0) close(j->fd);
    j->fd = -1;
    free(j->buffer);
    j->buffer = NULL;
    free(j->batch);
    j->batch = NULL;
    j->batch_capacity = 0;
}
