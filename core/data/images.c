#include "images.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "error.h"
#include "rng.h"

#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAGIC_IMAGES 0x00000803u

static const char *const subset_kind_names[SUBSET_KIND_COUNT] = {[SUBSET_FIRST] = "first", [SUBSET_RANDOM] = "random"};

const char *subset_kind_name(SubsetKind kind) {
    ASSERT((unsigned)kind < (unsigned)SUBSET_KIND_COUNT);
    return subset_kind_names[kind];
}

/* A guard against absurd headers (and count * rows * cols overflow), far
 * above any image this trainer could use: at most 2^24 pixels an image. */
#define IDX_MAX_SIDE 4096u
#define CHUNK_BYTES 65536

typedef enum { IDX_IMAGES, IDX_LABELS } IdxKind;

/* One IDX file being read front to back. */
typedef struct {
    const char *key, *path; /* the config key and its value, for messages */
    IdxKind kind;
    gzFile file;            /* NULL once closed */
    int count;              /* images or labels the header announces; 0 until the header is read */
    int rows, cols;         /* 1 and 1 for labels */
    uint64_t header_bytes;  /* 16 for images, 8 for labels */
    uint64_t offset;        /* bytes read so far, header included (decompressed) */
} IdxFile;

/* A pool: the image file and the label file of the training or test set. */
typedef struct {
    IdxFile images, labels;
} Pool;

/* Format `key = "path": ` and the message into err. Returns -1. */
__attribute__((format(printf, 4, 5))) static int idx_error(const IdxFile *f, char *err, size_t errlen,
                                                           const char *fmt, ...) {
    char detail[3 * DATA_PATH_CAPACITY];
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail, sizeof detail, fmt, args);
    va_end(args);
    return error_format(err, errlen, "%s = \"%s\": %s", f->key, f->path, detail);
}

/* Bytes of one item: rows * cols for an image, 1 for a label. */
static size_t idx_item_bytes(const IdxFile *f) { return (size_t)f->rows * (size_t)f->cols; }

/* Bytes the header announces, header included. */
static uint64_t idx_total_bytes(const IdxFile *f) {
    return f->header_bytes + (uint64_t)f->count * idx_item_bytes(f);
}

/* What the header announces, for messages: "10000 images of 28x28 (7840016 bytes)". */
static void idx_describe(const IdxFile *f, char *buf, size_t size) {
    if (f->kind == IDX_IMAGES)
        snprintf(buf, size, "%d images of %dx%d (%" PRIu64 " bytes)", f->count, f->rows, f->cols, idx_total_bytes(f));
    else
        snprintf(buf, size, "%d labels (%" PRIu64 " bytes)", f->count, idx_total_bytes(f));
}

/* Close f if open, ignoring the result: used when f is abandoned (an error
 * elsewhere, or all that is needed has been read). */
static void idx_close(IdxFile *f) {
    if (f->file) (void)gzclose(f->file);
    f->file = NULL;
}

/* The message after gzread failed on f: a read error or a corrupt gzip
 * stream, in zlib's words (without the path zlib puts in front). Returns -1. */
static int idx_stream_error(const IdxFile *f, char *err, size_t errlen) {
    int code;
    const char *message = gzerror(f->file, &code);
    size_t path_length = strlen(f->path);
    if (strncmp(message, f->path, path_length) == 0 && strncmp(message + path_length, ": ", 2) == 0)
        message += path_length + 2;
    if (code == Z_ERRNO) return idx_error(f, err, errlen, "cannot read: %s", message);
    return idx_error(f, err, errlen, "corrupt gzip stream: %s", message);
}

/* Read exactly n <= CHUNK_BYTES bytes into buf. Returns 0, or -1 with a
 * message when the file cannot be read, the gzip stream is corrupt, or the
 * data ends first (truncation, inside the header or after it). */
static int idx_read_exact(IdxFile *f, unsigned char *buf, size_t n, char *err, size_t errlen) {
    ASSERT(n <= CHUNK_BYTES);
    size_t got = 0;
    while (got < n) {
        int r = gzread(f->file, buf + got, (unsigned)(n - got));
        if (r < 0) return idx_stream_error(f, err, errlen);
        if (r == 0) break;
        got += (size_t)r;
        f->offset += (uint64_t)r;
    }
    if (got == n) return 0;
    int code;
    (void)gzerror(f->file, &code);
    const char *gzip_note = code == Z_BUF_ERROR ? " (decompressed; the gzip stream is cut short)" : "";
    if (f->count == 0)
        return idx_error(f, err, errlen, "truncated: the file ends after %" PRIu64 " bytes, inside the %" PRIu64
                         "-byte header%s", f->offset, f->header_bytes, gzip_note);
    char announced[128];
    idx_describe(f, announced, sizeof announced);
    return idx_error(f, err, errlen, "truncated: the header announces %s, the file ends after %" PRIu64 "%s",
                     announced, f->offset, gzip_note);
}

/* Big-endian 32-bit integer at p. */
static uint32_t read_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* What a magic number is, for the wrong-magic message. */
static const char *magic_meaning(uint32_t magic) {
    if (magic == IDX_MAGIC_IMAGES) return " (images)";
    if (magic == IDX_MAGIC_LABELS) return " (labels)";
    if (magic >> 16 == 0) return " (IDX of another type or dimension)";
    return " (not an IDX file)";
}

/* Check one header dimension: 1 <= value <= max. Returns 0, or -1 with a message. */
static int idx_check_dimension(const IdxFile *f, uint32_t value, uint32_t max, const char *what, char *err,
                               size_t errlen) {
    if (value >= 1 && value <= max) return 0;
    return idx_error(f, err, errlen, "the header announces %" PRIu32 " %s; allowed is 1 to %" PRIu32, value, what,
                     max);
}

/* Open path (raw or gzip'd) as an IDX file of this kind and read its header:
 * magic and dimensions. Returns 0, or -1 with a message (f is then closed). */
static int idx_open(IdxFile *f, const char *key, const char *path, IdxKind kind, char *err, size_t errlen) {
    *f = (IdxFile){.key = key, .path = path, .kind = kind, .rows = 1, .cols = 1,
                   .header_bytes = kind == IDX_IMAGES ? 16 : 8};
    errno = 0;
    f->file = gzopen(path, "rb");
    if (!f->file) return idx_error(f, err, errlen, "cannot read: %s", errno ? strerror(errno) : "out of memory");
    unsigned char header[16];
    if (idx_read_exact(f, header, 4, err, errlen) != 0) goto fail;
    uint32_t magic = read_be32(header), expected = kind == IDX_IMAGES ? IDX_MAGIC_IMAGES : IDX_MAGIC_LABELS;
    if (magic != expected) {
        idx_error(f, err, errlen, "wrong magic number 0x%08" PRIx32 "%s; %s has 0x%08" PRIx32, magic,
                  magic_meaning(magic), kind == IDX_IMAGES ? "an image file" : "a label file", expected);
        goto fail;
    }
    if (idx_read_exact(f, header + 4, (size_t)f->header_bytes - 4, err, errlen) != 0) goto fail;
    uint32_t count = read_be32(header + 4);
    if (idx_check_dimension(f, count, INT_MAX, kind == IDX_IMAGES ? "images" : "labels", err, errlen) != 0)
        goto fail;
    if (kind == IDX_IMAGES) {
        uint32_t rows = read_be32(header + 8), cols = read_be32(header + 12);
        if (idx_check_dimension(f, rows, IDX_MAX_SIDE, "rows per image", err, errlen) != 0 ||
            idx_check_dimension(f, cols, IDX_MAX_SIDE, "columns per image", err, errlen) != 0)
            goto fail;
        f->rows = (int)rows;
        f->cols = (int)cols;
    }
    f->count = (int)count;
    return 0;
fail:
    idx_close(f);
    return -1;
}

/* Read the next n_items items of f (from the first; images or labels) in
 * chunks. Item i goes to row slot[i] of ex (skipped when -1) when slot is
 * given, to row i when i < ex->n otherwise, nowhere when ex is NULL; images
 * as pixel / 255, labels as class indices. *max_label (may be NULL) is raised
 * to the largest label read. Returns 0, or -1 with a message. */
static int idx_read_items(IdxFile *f, int n_items, Examples *ex, const int *slot, int *max_label, char *err,
                          size_t errlen) {
    ASSERT(n_items >= 0 && n_items <= f->count);
    size_t item_bytes = idx_item_bytes(f);
    uint64_t remaining = (uint64_t)n_items * item_bytes;
    unsigned char chunk[CHUNK_BYTES];
    int item = 0;
    size_t within = 0; /* bytes of the current item already read */
    while (remaining > 0) {
        size_t n = remaining < sizeof chunk ? (size_t)remaining : sizeof chunk;
        if (idx_read_exact(f, chunk, n, err, errlen) != 0) return -1;
        remaining -= n;
        for (size_t at = 0; at < n;) {
            size_t run = item_bytes - within < n - at ? item_bytes - within : n - at;
            int row = !ex ? -1 : slot ? slot[item] : item < ex->n ? item : -1;
            if (f->kind == IDX_LABELS) {
                if (max_label && chunk[at] > *max_label) *max_label = chunk[at];
                if (row >= 0) ex->labels[row] = chunk[at];
            } else if (row >= 0) {
                real *pixels = ex->features + (size_t)row * item_bytes + within;
                for (size_t k = 0; k < run; k++) pixels[k] = (real)(chunk[at + k] / 255.0);
            }
            at += run;
            within += run;
            if (within == item_bytes) {
                within = 0;
                item++;
            }
        }
    }
    return 0;
}

/* After all the data f announces has been read: check that nothing follows
 * and that the gzip stream ends properly, and close f. Returns 0, or -1
 * with a message (f is closed either way). */
static int idx_finish(IdxFile *f, char *err, size_t errlen) {
    ASSERT(f->offset == idx_total_bytes(f));
    unsigned char chunk[CHUNK_BYTES];
    uint64_t trailing = 0;
    int r;
    while ((r = gzread(f->file, chunk, sizeof chunk)) > 0) trailing += (uint64_t)r;
    char announced[128];
    idx_describe(f, announced, sizeof announced);
    if (r < 0 || trailing > 0) {
        if (r < 0)
            idx_stream_error(f, err, errlen);
        else
            idx_error(f, err, errlen, "%" PRIu64 " trailing bytes after the data: the header announces %s", trailing,
                      announced);
        idx_close(f);
        return -1;
    }
    int closed = gzclose(f->file);
    f->file = NULL;
    if (closed == Z_BUF_ERROR)
        return idx_error(f, err, errlen, "truncated: the header announces %s, all there, but the gzip stream is cut "
                         "short after them", announced);
    if (closed != Z_OK) return idx_error(f, err, errlen, "cannot read: %s", strerror(errno));
    return 0;
}

static void pool_close(Pool *pool) {
    idx_close(&pool->images);
    idx_close(&pool->labels);
}

/* Open the image and label files of the training pool (test false) or the
 * test pool and read their headers; their counts must agree. Returns 0, or
 * -1 with a message (both files are then closed). */
static int pool_open(Pool *pool, const ImagesConfig *cfg, bool test, char *err, size_t errlen) {
    IdxFile *images = &pool->images, *labels = &pool->labels;
    if (idx_open(images, test ? "task.test_images" : "task.train_images", test ? cfg->test_images : cfg->train_images,
                 IDX_IMAGES, err, errlen) != 0)
        return -1;
    if (idx_open(labels, test ? "task.test_labels" : "task.train_labels", test ? cfg->test_labels : cfg->train_labels,
                 IDX_LABELS, err, errlen) != 0) {
        idx_close(images);
        return -1;
    }
    if (labels->count != images->count) {
        idx_error(labels, err, errlen, "%d labels but %s has %d images; the counts must be equal", labels->count,
                  images->key, images->count);
        pool_close(pool);
        return -1;
    }
    return 0;
}

/* Check the two pools against each other and the requested sizes (test_size
 * 0 = the whole test pool). Returns 0, or -1 with a message. */
static int pools_check(const ImagesConfig *cfg, const Pool *train, const Pool *test, int train_size, int test_size,
                       char *err, size_t errlen) {
    const IdxFile *train_images = &train->images, *test_images = &test->images;
    if (test_images->rows != train_images->rows || test_images->cols != train_images->cols)
        return idx_error(test_images, err, errlen,
                         "images of %dx%d, but %s = \"%s\" has %dx%d; both pools must have the same image size",
                         test_images->rows, test_images->cols, train_images->key, train_images->path,
                         train_images->rows, train_images->cols);
    ImagesInfo info = {.train_pool = train_images->count, .test_pool = test_images->count};
    return images_check_sizes(cfg, &info, train_size, test_size, err, errlen);
}

int images_check_sizes(const ImagesConfig *cfg, const ImagesInfo *info, int train_size, int test_size, char *err,
                       size_t errlen) {
    if (train_size > info->train_pool)
        return error_format(err, errlen, "task.train_size = %d: more than the %d images of the training pool "
                            "(task.train_images = \"%s\")", train_size, info->train_pool, cfg->train_images);
    if (test_size > info->test_pool)
        return error_format(err, errlen, "task.test_size = %d: more than the %d images of the test pool "
                            "(task.test_images = \"%s\")", test_size, info->test_pool, cfg->test_images);
    return 0;
}

/* Open both pools, check them against each other and the sizes, read the
 * label files through (for the largest label) and, when whole is true, the
 * image files too, with their ends (truncation, trailing bytes). Fills
 * *info. Returns 0, or -1 with a message. */
static int survey(const ImagesConfig *cfg, int train_size, int test_size, bool whole, ImagesInfo *info, char *err,
                  size_t errlen) {
    Pool train = {0}, test = {0};
    int max_label = 0, status = -1;
    if (pool_open(&train, cfg, false, err, errlen) != 0 || pool_open(&test, cfg, true, err, errlen) != 0 ||
        pools_check(cfg, &train, &test, train_size, test_size, err, errlen) != 0)
        goto done;
    IdxFile *files[] = {&train.images, &train.labels, &test.images, &test.labels};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        if (!whole && files[i]->kind == IDX_IMAGES) continue;
        if (idx_read_items(files[i], files[i]->count, NULL, NULL, &max_label, err, errlen) != 0 ||
            (whole && idx_finish(files[i], err, errlen) != 0))
            goto done;
    }
    *info = (ImagesInfo){.train_pool = train.images.count, .test_pool = test.images.count, .rows = train.images.rows,
                         .cols = train.images.cols, .n_classes = max_label + 1};
    status = 0;
done:
    pool_close(&train);
    pool_close(&test);
    return status;
}

int images_check(const ImagesConfig *cfg, int train_size, int test_size, ImagesInfo *info, char *err,
                 size_t errlen) {
    ASSERT(train_size >= 1 && test_size >= 0);
    return survey(cfg, train_size, test_size, true, info, err, errlen);
}

int images_layout(const ImagesConfig *cfg, ImagesInfo *info, char *err, size_t errlen) {
    return survey(cfg, 1, 0, false, info, err, errlen);
}

/* examples_alloc for n images of f's size, with a message naming f when
 * memory runs out. Returns 0 or -1. */
static int alloc_images(Examples *ex, const ExampleShape *shape, int n, const IdxFile *f, char *err, size_t errlen) {
    if ((uint64_t)n * (uint64_t)shape->dim > SIZE_MAX / sizeof(real) || examples_alloc(ex, shape, n) != 0)
        return idx_error(f, err, errlen, "out of memory for %d images of %dx%d", n, f->rows, f->cols);
    return 0;
}

/* The random subset of a pool: slot[i] = the training-set row of pool image
 * i, or -1, where rows 0 .. train_size-1 are the first train_size entries of
 * a Fisher-Yates permutation of 0 .. pool_size-1 seeded by seed (so smaller
 * subsets are prefixes of larger ones). *n_items gets 1 + the largest pool
 * index taken (how far to read). NULL when memory runs out. */
static int *random_subset_slots(int pool_size, int train_size, uint64_t seed, int *n_items) {
    int *order = malloc(sizeof(int) * (size_t)pool_size), *slot = malloc(sizeof(int) * (size_t)pool_size);
    if (!order || !slot) {
        free(order);
        free(slot);
        return NULL;
    }
    for (int i = 0; i < pool_size; i++) {
        order[i] = i;
        slot[i] = -1;
    }
    Rng rng;
    rng_seed(&rng, seed);
    rng_shuffle(&rng, order, pool_size);
    *n_items = 0;
    for (int row = 0; row < train_size; row++) {
        slot[order[row]] = row;
        if (order[row] >= *n_items) *n_items = order[row] + 1;
    }
    free(order);
    return slot;
}

int images_dataset(Dataset *ds, const ImagesConfig *cfg, int train_size, int test_size, uint64_t subset_seed,
                   char *err, size_t errlen) {
    ASSERT(train_size >= 1 && test_size >= 0);
    memset(ds, 0, sizeof *ds);
    Pool train = {0}, test = {0};
    int *slot = NULL; /* pool index -> training row, for a random subset */
    int status = -1;
    if (pool_open(&train, cfg, false, err, errlen) != 0 || pool_open(&test, cfg, true, err, errlen) != 0 ||
        pools_check(cfg, &train, &test, train_size, test_size, err, errlen) != 0)
        goto done;
    if (test_size == 0) test_size = test.images.count;
    /* n_outputs is known once both label files are read; 1 until then */
    ExampleShape shape = {.dim = train.images.rows * train.images.cols, .target = TARGET_CLASS, .n_outputs = 1};
    if (alloc_images(&ds->train, &shape, train_size, &train.images, err, errlen) != 0 ||
        alloc_images(&ds->test, &shape, test_size, &test.images, err, errlen) != 0)
        goto done;
    int train_items = train_size; /* images to read from the training pool */
    if (cfg->subset == SUBSET_RANDOM) {
        slot = random_subset_slots(train.images.count, train_size, subset_seed, &train_items);
        if (!slot) {
            idx_error(&train.images, err, errlen, "out of memory for a random subset of %d images", train.images.count);
            goto done;
        }
    }
    int max_label = 0;
    if (idx_read_items(&train.labels, train.labels.count, &ds->train, slot, &max_label, err, errlen) != 0 ||
        idx_finish(&train.labels, err, errlen) != 0 ||
        idx_read_items(&test.labels, test.labels.count, &ds->test, NULL, &max_label, err, errlen) != 0 ||
        idx_finish(&test.labels, err, errlen) != 0 ||
        idx_read_items(&train.images, train_items, &ds->train, slot, NULL, err, errlen) != 0 ||
        idx_read_items(&test.images, test_size, &ds->test, NULL, NULL, err, errlen) != 0)
        goto done;
    ds->train.shape.n_outputs = ds->test.shape.n_outputs = max_label + 1;
    status = 0;
done:
    free(slot);
    pool_close(&train);
    pool_close(&test);
    if (status != 0) dataset_free(ds);
    return status;
}
