/* The sweep's journal: an append-only file of completed points, each
 * record fsync'd before the driver moves on. It is the source of truth:
 * the HDF5 file is rebuilt from it whenever a sweep starts or resumes.
 *
 * Layout: a header (magic "GSJOURN2", the sweep's hash, point count,
 * evaluation count and the OpenBLAS kernel name), then records of (magic, point index, packed
 * PointResult, FNV-1a checksum of index and payload). A torn last record
 * (a kill during a write) fails its checksum and is cut off on open. */
#ifndef GROKSWEEP_JOURNAL_H
#define GROKSWEEP_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef struct {
    int fd;
    int n_eval;
    int n_rank_layers;
    size_t payload_size;
    unsigned char *buffer; /* one record */
    unsigned char *batch;  /* records of one journal_append_batch */
    size_t batch_capacity;
} Journal;

/* Called for each valid record on open, in file order. */
typedef void (*JournalVisit)(long point, const PointResult *result, void *context);

/* Open the journal at path, creating it (and fsyncing its directory) if it
 * does not exist. An existing journal must carry the same sweep hash, point
 * count and evaluation count, else it belongs to another sweep, and the same
 * OpenBLAS kernel name blas_core (results depend on the kernel); otherwise
 * returns -2 with a message. Every valid record is passed to visit. Returns 0, or -1
 * with a message on an I/O error. */
int journal_open(Journal *journal, const char *path, uint64_t sweep_hash, long n_points, int n_eval, int n_rank_layers,
                 const char *blas_core, JournalVisit visit, void *context, char *err, size_t errlen);

/* The sweep hash, point count and (when blas_core is not NULL, into its
 * size >= 32 bytes) the OpenBLAS kernel in the header of the journal at
 * path, without opening it for writing. Returns 0, or -1 when it cannot be
 * read or is not a groksweep journal of this format. */
int journal_read_header(const char *path, uint64_t *sweep_hash, long *n_points, char *blas_core, size_t size);

/* Move the journal written at temp over path and fsync the directory, so
 * the replacement survives a crash. Returns 0, or -1 with errno set. */
int journal_replace(const char *temp, const char *path);

/* Bytes of a journal that holds every one of n_points records. */
double journal_size_bound(long n_points, int n_eval, int n_rank_layers);

/* Append one completed point and fsync. Returns 0, or -1 with a message. */
int journal_append(Journal *journal, long point, const PointResult *result, char *err, size_t errlen);

/* Group commit: append count completed points, each given as its packed
 * PointResult (point_result_pack), in one write and one fsync. They are
 * durable once it returns 0; on -1 (with a message) none may be counted as
 * durable, though a later open may find some of them whole. */
int journal_append_batch(Journal *journal, int count, const long *points, const unsigned char *const *payloads,
                         char *err, size_t errlen);

void journal_close(Journal *journal);

#endif
