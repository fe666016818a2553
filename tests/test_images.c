/* IDX image and label files: raw and gzip'd, both training subsets, the
 * test-set size, and the one-line message of every kind of bad file. Also
 * the real Fashion-MNIST files when they are installed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "images.h"
#include "rng.h"
#include "test_util.h"

#define MAGIC_LABELS 0x00000801u
#define MAGIC_IMAGES 0x00000803u
#define TRAIN_POOL 50
#define TEST_POOL 20
#define ROWS 3
#define COLS 4
#define PIXELS (ROWS * COLS)
#define TRAIN_PIXEL_OFFSET 0
#define TEST_PIXEL_OFFSET 200
#define TRAIN_CLASSES 4
#define TEST_CLASSES 6
#define MAX_FILES 64

static const char *const FASHION_DIR = "/usr/share/datasets/fashion-mnist";

static char temp_dir[64];
static char created[MAX_FILES][DATA_PATH_CAPACITY];
static int n_created;

/* Pixel k of image i of a pool: the first pixel is offset + i, so it tells
 * the image apart within a pool of fewer than 256 - offset images. */
static int pixel_value(int offset, int i, int k) { return (offset + i + 37 * k) % 256; }

/* Label i of a label file whose labels run over 0 .. modulus-1. */
static int label_value(int modulus, int i) { return (7 * i + 1) % modulus; }

/* What a test IDX file holds: a header, data_bytes bytes of data (fewer
 * than announced for a truncated file), extra trailing bytes. */
typedef struct {
    uint32_t magic, count, rows, cols; /* rows and cols only for images */
    size_t data_bytes;
    size_t extra;
    int pattern; /* images: pixel_value offset; labels: label_value modulus */
    bool gz;
} IdxSpec;

/* The path of file name in the temporary directory, into path (room for
 * DATA_PATH_CAPACITY); the file is removed at the end. */
static void temp_path(char *path, const char *name) {
    snprintf(path, DATA_PATH_CAPACITY, "%s/%s", temp_dir, name);
    if (n_created < MAX_FILES) snprintf(created[n_created++], DATA_PATH_CAPACITY, "%s", path);
}

static void put_be32(unsigned char *p, uint32_t value) {
    p[0] = (unsigned char)(value >> 24);
    p[1] = (unsigned char)(value >> 16);
    p[2] = (unsigned char)(value >> 8);
    p[3] = (unsigned char)value;
}

/* Write n bytes to path, gzip'd (through zlib) or raw. */
static void write_bytes(const char *path, bool gz, const unsigned char *bytes, size_t n) {
    bool ok;
    if (gz) {
        gzFile file = gzopen(path, "wb");
        ok = file && (n == 0 || gzwrite(file, bytes, (unsigned)n) == (int)n);
        ok = file && gzclose(file) == Z_OK && ok;
    } else {
        FILE *file = fopen(path, "wb");
        ok = file && fwrite(bytes, 1, n, file) == n;
        ok = file && fclose(file) == 0 && ok;
    }
    CHECK(ok, "cannot write %s", path);
}

/* Read the (raw) bytes of path into a malloc'd buffer; *n gets the size. */
static unsigned char *read_bytes(const char *path, size_t *n) {
    FILE *file = fopen(path, "rb");
    unsigned char *bytes = malloc(1 << 20);
    *n = file && bytes ? fread(bytes, 1, 1 << 20, file) : 0;
    if (file) fclose(file);
    CHECK(bytes && *n > 0, "cannot read back %s", path);
    return bytes;
}

/* Write an IDX file as spec says, named name in the temporary directory;
 * its path goes to path. */
static void write_idx(char *path, const char *name, IdxSpec spec) {
    temp_path(path, name);
    bool images = spec.magic == MAGIC_IMAGES;
    size_t header = images ? 16 : 8, item_bytes = images ? (size_t)spec.rows * spec.cols : 1;
    if (item_bytes == 0) item_bytes = 1; /* a header with 0 rows or columns: any data will do */
    size_t n = header + spec.data_bytes + spec.extra;
    unsigned char *bytes = malloc(n);
    if (!bytes) {
        CHECK(false, "out of memory for %s", name);
        return;
    }
    put_be32(bytes, spec.magic);
    put_be32(bytes + 4, spec.count);
    if (images) {
        put_be32(bytes + 8, spec.rows);
        put_be32(bytes + 12, spec.cols);
    }
    for (size_t b = 0; b < spec.data_bytes; b++) {
        int item = (int)(b / item_bytes), k = (int)(b % item_bytes);
        bytes[header + b] = (unsigned char)(images ? pixel_value(spec.pattern, item, k) : label_value(spec.pattern, item));
    }
    memset(bytes + header + spec.data_bytes, 0x5a, spec.extra);
    write_bytes(path, spec.gz, bytes, n);
    free(bytes);
}

/* A well-formed image file of count images of ROWS x COLS. */
static IdxSpec good_images(uint32_t count, int offset, bool gz) {
    return (IdxSpec){.magic = MAGIC_IMAGES, .count = count, .rows = ROWS, .cols = COLS,
                     .data_bytes = (size_t)count * PIXELS, .pattern = offset, .gz = gz};
}

/* A well-formed label file of count labels over 0 .. modulus-1. */
static IdxSpec good_labels(uint32_t count, int modulus, bool gz) {
    return (IdxSpec){.magic = MAGIC_LABELS, .count = count, .data_bytes = count, .pattern = modulus, .gz = gz};
}

/* The good configuration: training images gzip'd, labels raw; test images
 * raw, labels gzip'd. */
static ImagesConfig good_config;

static void write_good_files(void) {
    write_idx(good_config.train_images, "train_images.gz", good_images(TRAIN_POOL, TRAIN_PIXEL_OFFSET, true));
    write_idx(good_config.train_labels, "train_labels", good_labels(TRAIN_POOL, TRAIN_CLASSES, false));
    write_idx(good_config.test_images, "test_images", good_images(TEST_POOL, TEST_PIXEL_OFFSET, false));
    write_idx(good_config.test_labels, "test_labels.gz", good_labels(TEST_POOL, TEST_CLASSES, true));
    good_config.subset = SUBSET_FIRST;
}

static bool dataset_is_empty(const Dataset *ds) {
    const Examples *sets[2] = {&ds->train, &ds->test};
    for (int s = 0; s < 2; s++)
        if (sets[s]->n || sets[s]->features || sets[s]->labels || sets[s]->tokens || sets[s]->targets) return false;
    return true;
}

/* Rows of ex that differ from images first .. first+n-1 of a pool written
 * with this pixel offset and label modulus (the pool index of row r is
 * pool_index[r], or r when pool_index is NULL). */
static int wrong_rows(const Examples *ex, const int *pool_index, int offset, int modulus) {
    int wrong = 0;
    for (int r = 0; r < ex->n; r++) {
        int i = pool_index ? pool_index[r] : r;
        bool ok = ex->labels[r] == label_value(modulus, i);
        for (int k = 0; k < PIXELS; k++)
            ok = ok && ex->features[r * PIXELS + k] == (real)(pixel_value(offset, i, k) / 255.0);
        wrong += !ok;
    }
    return wrong;
}

static void test_check(void) {
    ImagesInfo info = {0};
    char err[1024] = "";
    CHECK(images_check(&good_config, TRAIN_POOL, 0, &info, err, sizeof err) == 0, "check: %s", err);
    CHECK(info.train_pool == TRAIN_POOL && info.test_pool == TEST_POOL, "pools %d %d", info.train_pool,
          info.test_pool);
    CHECK(info.rows == ROWS && info.cols == COLS, "image size %dx%d", info.rows, info.cols);
    CHECK(info.n_classes == TEST_CLASSES, "n_classes %d: 1 + the largest label in either file", info.n_classes);
    CHECK(images_check(&good_config, 1, TEST_POOL, &info, err, sizeof err) == 0, "smallest train size: %s", err);

    /* the classes come from the training labels when they go higher */
    ImagesConfig cfg = good_config;
    write_idx(cfg.test_labels, "test_labels_two_classes", good_labels(TEST_POOL, 2, false));
    CHECK(images_check(&cfg, 10, 0, &info, err, sizeof err) == 0 && info.n_classes == TRAIN_CLASSES,
          "n_classes %d from the training labels: %s", info.n_classes, err);
    Dataset ds;
    CHECK(images_dataset(&ds, &cfg, 10, 0, 1, err, sizeof err) == 0, "dataset: %s", err);
    CHECK(ds.train.shape.n_outputs == TRAIN_CLASSES && ds.test.shape.n_outputs == TRAIN_CLASSES,
          "n_outputs %d %d", ds.train.shape.n_outputs, ds.test.shape.n_outputs);
    dataset_free(&ds);
}

static void test_first_subset(void) {
    Dataset ds;
    char err[1024] = "";
    CHECK(images_dataset(&ds, &good_config, 10, 0, 1, err, sizeof err) == 0, "first subset: %s", err);
    const Examples *sets[2] = {&ds.train, &ds.test};
    for (int s = 0; s < 2; s++) {
        const ExampleShape *shape = &sets[s]->shape;
        CHECK(shape->seq_len == 0 && shape->vocab == 0 && shape->dim == PIXELS && shape->target == TARGET_CLASS &&
                  shape->n_outputs == TEST_CLASSES,
              "shape of set %d: seq_len %d vocab %d dim %d n_outputs %d", s, shape->seq_len, shape->vocab, shape->dim,
              shape->n_outputs);
        CHECK(sets[s]->owned && sets[s]->features && sets[s]->labels && !sets[s]->tokens && !sets[s]->targets,
              "arrays of set %d", s);
    }
    CHECK(ds.train.n == 10 && ds.test.n == TEST_POOL, "sizes %d %d (test_size 0 = the whole pool)", ds.train.n,
          ds.test.n);
    int wrong = wrong_rows(&ds.train, NULL, TRAIN_PIXEL_OFFSET, TRAIN_CLASSES);
    CHECK(wrong == 0, "%d training rows differ from the first images", wrong);
    wrong = wrong_rows(&ds.test, NULL, TEST_PIXEL_OFFSET, TEST_CLASSES);
    CHECK(wrong == 0, "%d test rows differ from the file", wrong);
    CHECK(ds.train.features[0] == 0 && ds.train.features[6] == (real)(222 / 255.0), "pixels are byte / 255");
    dataset_free(&ds);

    CHECK(images_dataset(&ds, &good_config, TRAIN_POOL, 5, 1, err, sizeof err) == 0, "test_size 5: %s", err);
    CHECK(ds.train.n == TRAIN_POOL && ds.test.n == 5, "sizes %d %d", ds.train.n, ds.test.n);
    wrong = wrong_rows(&ds.train, NULL, TRAIN_PIXEL_OFFSET, TRAIN_CLASSES) +
            wrong_rows(&ds.test, NULL, TEST_PIXEL_OFFSET, TEST_CLASSES);
    CHECK(wrong == 0, "%d rows differ with the whole training pool and 5 test images", wrong);
    dataset_free(&ds);
}

/* The pool index of each training row of ds (from its first pixel), into
 * pool_index (room for ds->train.n). */
static void pool_indices(const Dataset *ds, int *pool_index) {
    for (int r = 0; r < ds->train.n; r++)
        pool_index[r] = (int)(ds->train.features[r * PIXELS] * 255 + 0.5) - TRAIN_PIXEL_OFFSET;
}

/* A random subset of train_size images with this seed: its pool indices
 * into pool_index. Returns false if it could not be built. */
static bool random_subset(int train_size, uint64_t seed, int *pool_index) {
    ImagesConfig cfg = good_config;
    cfg.subset = SUBSET_RANDOM;
    Dataset ds;
    char err[1024] = "";
    int status = images_dataset(&ds, &cfg, train_size, 0, seed, err, sizeof err);
    CHECK(status == 0, "random subset of %d: %s", train_size, err);
    if (status != 0) return false;
    pool_indices(&ds, pool_index);
    int wrong = wrong_rows(&ds.train, pool_index, TRAIN_PIXEL_OFFSET, TRAIN_CLASSES);
    CHECK(wrong == 0, "%d rows of the random subset of %d are not the pool images they claim", wrong, train_size);
    CHECK(ds.train.n == train_size && ds.test.n == TEST_POOL, "sizes %d %d", ds.train.n, ds.test.n);
    dataset_free(&ds);
    return true;
}

static void test_random_subset(void) {
    int small[10], large[25], again[25], other[25], whole[TRAIN_POOL], expected[TRAIN_POOL];
    if (!random_subset(10, 7, small) || !random_subset(25, 7, large) || !random_subset(25, 7, again) ||
        !random_subset(25, 8, other) || !random_subset(TRAIN_POOL, 7, whole))
        return;
    /* the first train_size of a Fisher-Yates permutation seeded by the seed */
    Rng rng;
    rng_seed(&rng, 7);
    for (int i = 0; i < TRAIN_POOL; i++) expected[i] = i;
    rng_shuffle(&rng, expected, TRAIN_POOL);
    int nested = 0, same = 0, same_as_other = 0, permutation = 0, first = 0;
    for (int r = 0; r < 10; r++) nested += small[r] == large[r];
    for (int r = 0; r < 25; r++) {
        same += large[r] == again[r];
        same_as_other += large[r] == other[r];
        first += large[r] == r;
    }
    for (int r = 0; r < TRAIN_POOL; r++) permutation += whole[r] == expected[r];
    CHECK(nested == 10, "the subset of 10 is not a prefix of the subset of 25 (%d of 10 agree)", nested);
    CHECK(same == 25, "the same seed gives another subset (%d of 25 agree)", same);
    CHECK(same_as_other < 25, "another seed gives the same subset");
    CHECK(first < 25, "the random subset is the first images");
    CHECK(permutation == TRAIN_POOL, "%d of %d rows follow rng_shuffle's permutation", permutation, TRAIN_POOL);
    int seen[TRAIN_POOL] = {0}, bad = 0;
    for (int r = 0; r < TRAIN_POOL; r++) {
        if (whole[r] < 0 || whole[r] >= TRAIN_POOL || seen[whole[r]]) bad++;
        else seen[whole[r]] = 1;
    }
    CHECK(bad == 0, "the subset of the whole pool has %d duplicates or strays", bad);
}

/* Check err after a failure: one line, starting with a key, containing
 * every needle (a NULL-terminated list). */
static void check_message(const char *what, const char *err, const char *const *needles) {
    CHECK(strncmp(err, "task.", 5) == 0 && !strchr(err, '\n'), "%s: not one line starting with the key: %s", what,
          err);
    for (const char *const *needle = needles; *needle; needle++)
        CHECK(strstr(err, *needle), "%s: \"%s\" missing from: %s", what, *needle, err);
}

/* images_check fails on cfg with a message containing every needle; so
 * does images_dataset, with either subset, when dataset_detects (it reads
 * image files only as far as it needs), leaving the dataset empty. */
static void expect_failure(const char *what, const ImagesConfig *cfg, int train_size, int test_size,
                           bool dataset_detects, const char *const *needles) {
    char err[2048] = "";
    ImagesInfo info;
    int status = images_check(cfg, train_size, test_size, &info, err, sizeof err);
    CHECK(status == -1, "%s: images_check returned %d", what, status);
    check_message(what, err, needles);
    if (!dataset_detects) return;
    for (int subset = SUBSET_FIRST; subset <= SUBSET_RANDOM; subset++) {
        ImagesConfig subset_cfg = *cfg;
        subset_cfg.subset = (SubsetKind)subset;
        Dataset ds;
        memset(&ds, 0x7f, sizeof ds);
        err[0] = '\0';
        status = images_dataset(&ds, &subset_cfg, train_size, test_size, 3, err, sizeof err);
        CHECK(status == -1, "%s: images_dataset returned %d (subset %d)", what, status, subset);
        if (status == 0) dataset_free(&ds);
        CHECK(dataset_is_empty(&ds), "%s: the dataset is not empty after a failure", what);
        check_message(what, err, needles);
    }
}

/* `key = "path"`, as messages name a file, into buf. */
static const char *key_path(char *buf, size_t size, const char *key, const char *path) {
    snprintf(buf, size, "%s = \"%s\"", key, path);
    return buf;
}

/* Overwrite byte offset (from the end when negative) of path with value. */
static void patch_byte(const char *path, long offset, unsigned char value) {
    size_t n;
    unsigned char *bytes = read_bytes(path, &n);
    if (!bytes || n == 0) {
        free(bytes);
        return;
    }
    bytes[offset < 0 ? n + offset : (size_t)offset] = value;
    write_bytes(path, false, bytes, n);
    free(bytes);
}

static void test_file_errors(void) {
    char named[2 * DATA_PATH_CAPACITY];
    ImagesConfig cfg = good_config;

    temp_path(cfg.train_images, "missing.gz");
    expect_failure("missing file", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.train_images", cfg.train_images),
                                    "cannot read: No such file or directory", NULL});

    snprintf(cfg.train_images, DATA_PATH_CAPACITY, "%s", temp_dir);
    expect_failure("a directory", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.train_images", temp_dir), "cannot read", NULL});

    snprintf(cfg.train_images, DATA_PATH_CAPACITY, "%s", good_config.train_labels);
    expect_failure("labels as images", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.train_images", good_config.train_labels),
                                    "wrong magic number 0x00000801 (labels); an image file has 0x00000803", NULL});

    cfg = good_config;
    snprintf(cfg.test_labels, DATA_PATH_CAPACITY, "%s", good_config.test_images);
    expect_failure("images as labels", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.test_labels", good_config.test_images),
                                    "wrong magic number 0x00000803 (images); a label file has 0x00000801", NULL});

    cfg = good_config;
    temp_path(cfg.train_images, "text");
    write_bytes(cfg.train_images, false, (const unsigned char *)"hello, world\n", 13);
    expect_failure("not an IDX file", &cfg, 10, 0, true,
                   (const char *[]){"task.train_images", "wrong magic number 0x68656c6c (not an IDX file)", NULL});

    cfg = good_config;
    write_idx(cfg.test_images, "short_test_images",
              (IdxSpec){.magic = MAGIC_IMAGES, .count = TEST_POOL, .rows = ROWS, .cols = COLS,
                        .data_bytes = 12 * PIXELS + 5, .pattern = TEST_PIXEL_OFFSET});
    expect_failure("truncated raw images", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.test_images", cfg.test_images),
                                    "truncated: the header announces 20 images of 3x4 (256 bytes), the file ends "
                                    "after 165",
                                    NULL});

    cfg = good_config;
    IdxSpec short_train = good_images(TRAIN_POOL, TRAIN_PIXEL_OFFSET, true);
    short_train.data_bytes = 30 * PIXELS;
    write_idx(cfg.train_images, "short_train_images.gz", short_train);
    expect_failure("truncated gzip'd images", &cfg, TRAIN_POOL, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.train_images", cfg.train_images),
                                    "truncated: the header announces 50 images of 3x4 (616 bytes), the file ends "
                                    "after 376",
                                    NULL});
    /* the first subset reads only as far as it needs */
    Dataset ds;
    char err[1024] = "";
    CHECK(images_dataset(&ds, &cfg, 30, 0, 1, err, sizeof err) == 0 && ds.train.n == 30,
          "the first 30 images of a file cut after 30: %s", err);
    dataset_free(&ds);

    cfg = good_config;
    write_idx(cfg.train_images, "cut_train_images.gz", good_images(TRAIN_POOL, TRAIN_PIXEL_OFFSET, true));
    size_t gz_bytes;
    unsigned char *gz = read_bytes(cfg.train_images, &gz_bytes);
    write_bytes(cfg.train_images, false, gz, gz_bytes / 2);
    free(gz);
    expect_failure("gzip stream cut short", &cfg, TRAIN_POOL, 0, true,
                   (const char *[]){"task.train_images", "truncated: the header announces 50 images",
                                    "the gzip stream is cut short", NULL});

    write_idx(cfg.train_images, "no_trailer.gz", good_images(TRAIN_POOL, TRAIN_PIXEL_OFFSET, true));
    gz = read_bytes(cfg.train_images, &gz_bytes);
    write_bytes(cfg.train_images, false, gz, gz_bytes - 4);
    free(gz);
    expect_failure("gzip trailer cut short", &cfg, 10, 0, false,
                   (const char *[]){"task.train_images", "all there, but the gzip stream is cut short", NULL});

    cfg = good_config;
    temp_path(cfg.train_images, "header_only");
    write_bytes(cfg.train_images, false, (const unsigned char[]){0, 0, 8, 3, 0, 0, 0, 50, 0, 0}, 10);
    expect_failure("truncated header", &cfg, 10, 0, true,
                   (const char *[]){"task.train_images", "truncated: the file ends after 10 bytes, inside the "
                                                         "16-byte header",
                                    NULL});
    temp_path(cfg.train_images, "empty");
    write_bytes(cfg.train_images, false, (const unsigned char *)"", 0);
    expect_failure("empty file", &cfg, 10, 0, true,
                   (const char *[]){"task.train_images", "the file ends after 0 bytes", NULL});

    cfg = good_config;
    IdxSpec long_labels = good_labels(TRAIN_POOL, TRAIN_CLASSES, false);
    long_labels.extra = 3;
    write_idx(cfg.train_labels, "long_train_labels", long_labels);
    expect_failure("trailing label bytes", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.train_labels", cfg.train_labels),
                                    "3 trailing bytes after the data: the header announces 50 labels (58 bytes)",
                                    NULL});

    cfg = good_config;
    IdxSpec long_images = good_images(TEST_POOL, TEST_PIXEL_OFFSET, true);
    long_images.extra = 7;
    write_idx(cfg.test_images, "long_test_images.gz", long_images);
    expect_failure("trailing image bytes", &cfg, 10, 0, false,
                   (const char *[]){"task.test_images", "7 trailing bytes after the data", NULL});

    cfg = good_config;
    write_idx(cfg.test_labels, "corrupt_block.gz", good_labels(TEST_POOL, TEST_CLASSES, true));
    patch_byte(cfg.test_labels, 10, 0x07); /* the first deflate block: final, reserved type */
    expect_failure("corrupt gzip block", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.test_labels", cfg.test_labels),
                                    "corrupt gzip stream: invalid block type", NULL});
    write_idx(cfg.test_labels, "corrupt_crc.gz", good_labels(TEST_POOL, TEST_CLASSES, true));
    patch_byte(cfg.test_labels, -8, 0x00);
    patch_byte(cfg.test_labels, -7, 0x00);
    expect_failure("corrupt gzip checksum", &cfg, 10, 0, true,
                   (const char *[]){"task.test_labels", "corrupt gzip stream: incorrect data check", NULL});
}

static void test_header_errors(void) {
    ImagesConfig cfg = good_config;
    IdxSpec spec = good_images(0, TRAIN_PIXEL_OFFSET, false);
    write_idx(cfg.train_images, "zero_images", spec);
    expect_failure("no images", &cfg, 10, 0, true,
                   (const char *[]){"task.train_images", "the header announces 0 images; allowed is 1 to 2147483647",
                                    NULL});
    spec = good_images(TRAIN_POOL, TRAIN_PIXEL_OFFSET, false);
    spec.rows = 0;
    write_idx(cfg.train_images, "zero_rows", spec);
    expect_failure("no rows", &cfg, 10, 0, true, (const char *[]){"task.train_images", "0 rows per image", NULL});
    spec.rows = ROWS;
    spec.cols = 5000;
    write_idx(cfg.train_images, "wide", spec);
    expect_failure("absurd columns", &cfg, 10, 0, true,
                   (const char *[]){"task.train_images", "5000 columns per image; allowed is 1 to 4096", NULL});
    spec = good_images(0xffffffffu, TRAIN_PIXEL_OFFSET, false);
    spec.data_bytes = PIXELS;
    write_idx(cfg.train_images, "countless", spec);
    expect_failure("absurd count", &cfg, 10, 0, true,
                   (const char *[]){"task.train_images", "4294967295 images", NULL});

    cfg = good_config;
    write_idx(cfg.test_labels, "zero_labels", good_labels(0, TEST_CLASSES, false));
    expect_failure("no labels", &cfg, 10, 0, true, (const char *[]){"task.test_labels", "0 labels", NULL});

    /* the largest header allowed: no overflow, just a truncated file */
    cfg = good_config;
    spec = (IdxSpec){.magic = MAGIC_IMAGES, .count = 2147483647u, .rows = 4096, .cols = 4096, .data_bytes = 0};
    write_idx(cfg.train_images, "huge_images", spec);
    IdxSpec huge_labels = good_labels(2147483647u, TRAIN_CLASSES, false);
    huge_labels.data_bytes = 0;
    write_idx(cfg.train_labels, "huge_labels", huge_labels);
    snprintf(cfg.test_images, DATA_PATH_CAPACITY, "%s", cfg.train_images);
    snprintf(cfg.test_labels, DATA_PATH_CAPACITY, "%s", cfg.train_labels);
    expect_failure("huge header", &cfg, 10, 0, false,
                   (const char *[]){"task.train_images", "truncated: the header announces 2147483647 images of "
                                                         "4096x4096 (36028797002186768 bytes), the file ends after 16",
                                    NULL});
}

static void test_pool_errors(void) {
    char named[2 * DATA_PATH_CAPACITY];
    ImagesConfig cfg = good_config;
    write_idx(cfg.train_labels, "fewer_labels", good_labels(TRAIN_POOL - 1, TRAIN_CLASSES, false));
    expect_failure("label count", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.train_labels", cfg.train_labels),
                                    "49 labels but task.train_images has 50 images; the counts must be equal",
                                    NULL});

    cfg = good_config;
    IdxSpec turned = good_images(TEST_POOL, TEST_PIXEL_OFFSET, false);
    turned.rows = COLS;
    turned.cols = ROWS;
    write_idx(cfg.test_images, "turned_test_images", turned);
    expect_failure("image size", &cfg, 10, 0, true,
                   (const char *[]){key_path(named, sizeof named, "task.test_images", cfg.test_images),
                                    "images of 4x3, but task.train_images", "has 3x4",
                                    "both pools must have the same image size", NULL});

    cfg = good_config;
    expect_failure("train size", &cfg, TRAIN_POOL + 1, 0, true,
                   (const char *[]){"task.train_size = 51: more than the 50 images of the training pool",
                                    key_path(named, sizeof named, "task.train_images", cfg.train_images), NULL});
    expect_failure("test size", &cfg, 10, TEST_POOL + 1, true,
                   (const char *[]){"task.test_size = 21: more than the 20 images of the test pool",
                                    key_path(named, sizeof named, "task.test_images", cfg.test_images), NULL});
}

/* The real Fashion-MNIST files, when installed (Debian dataset-fashion-mnist). */
static void test_fashion_mnist(void) {
    ImagesConfig cfg = {.subset = SUBSET_RANDOM};
    snprintf(cfg.train_images, DATA_PATH_CAPACITY, "%s/train-images-idx3-ubyte.gz", FASHION_DIR);
    snprintf(cfg.train_labels, DATA_PATH_CAPACITY, "%s/train-labels-idx1-ubyte.gz", FASHION_DIR);
    snprintf(cfg.test_images, DATA_PATH_CAPACITY, "%s/t10k-images-idx3-ubyte.gz", FASHION_DIR);
    snprintf(cfg.test_labels, DATA_PATH_CAPACITY, "%s/t10k-labels-idx1-ubyte.gz", FASHION_DIR);
    if (access(cfg.train_images, R_OK) != 0) {
        printf("skipping Fashion-MNIST: %s is not installed\n", cfg.train_images);
        return;
    }
    ImagesInfo info = {0};
    char err[1024] = "";
    CHECK(images_check(&cfg, 1000, 0, &info, err, sizeof err) == 0, "Fashion-MNIST check: %s", err);
    CHECK(info.train_pool == 60000 && info.test_pool == 10000 && info.rows == 28 && info.cols == 28 &&
              info.n_classes == 10,
          "Fashion-MNIST: pools %d %d, %dx%d, %d classes", info.train_pool, info.test_pool, info.rows, info.cols,
          info.n_classes);
    Dataset ds;
    CHECK(images_dataset(&ds, &cfg, 1000, 0, 42, err, sizeof err) == 0, "Fashion-MNIST dataset: %s", err);
    if (ds.train.n == 0) return;
    CHECK(ds.train.n == 1000 && ds.test.n == 10000 && ds.train.shape.dim == 784 && ds.test.shape.n_outputs == 10,
          "Fashion-MNIST sizes %d %d, dim %d, %d outputs", ds.train.n, ds.test.n, ds.train.shape.dim,
          ds.test.shape.n_outputs);
    int per_class[10] = {0}, bad = 0;
    for (int i = 0; i < ds.test.n; i++) {
        if (ds.test.labels[i] < 0 || ds.test.labels[i] >= 10) bad++;
        else per_class[ds.test.labels[i]]++;
    }
    for (int c = 0; c < 10; c++) bad += per_class[c] != 1000;
    CHECK(bad == 0, "the Fashion-MNIST test set has 1000 images of each class");
    double sum = 0;
    for (long k = 0; k < (long)ds.train.n * 784; k++) {
        real x = ds.train.features[k];
        bad += !(x >= 0 && x <= 1);
        sum += x;
    }
    CHECK(bad == 0 && sum > 0, "Fashion-MNIST pixels in [0, 1], not all 0 (%d outside)", bad);
    dataset_free(&ds);
}

int main(void) {
    snprintf(temp_dir, sizeof temp_dir, "/tmp/test_images.XXXXXX");
    if (!mkdtemp(temp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    write_good_files();
    test_check();
    test_first_subset();
    test_random_subset();
    test_file_errors();
    test_header_errors();
    test_pool_errors();
    test_fashion_mnist();
    for (int i = 0; i < n_created; i++) unlink(created[i]);
    CHECK(rmdir(temp_dir) == 0, "removing %s", temp_dir);
    return test_finish();
}
