/* Images from IDX files (the MNIST format), as an example set: pixels
 * scaled to [0, 1] as dense features, labels as class targets.
 *
 * An IDX file is a big-endian header, magic 0x00000803 for images
 * (count, rows, cols, then count*rows*cols bytes) or 0x00000801 for labels
 * (count, then count bytes), raw or gzip'd (read through zlib either way).
 * A task names four files: the image and label files of the training pool
 * and of the test pool. */
#ifndef GROKSWEEP_IMAGES_H
#define GROKSWEEP_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "examples.h"

#define DATA_PATH_CAPACITY 512

typedef enum { SUBSET_FIRST, SUBSET_RANDOM, SUBSET_KIND_COUNT } SubsetKind;

/* JSON name of a subset kind ("first", "random"). */
const char *subset_kind_name(SubsetKind kind);

typedef struct {
    char train_images[DATA_PATH_CAPACITY]; /* task.train_images */
    char train_labels[DATA_PATH_CAPACITY]; /* task.train_labels */
    char test_images[DATA_PATH_CAPACITY];  /* task.test_images */
    char test_labels[DATA_PATH_CAPACITY];  /* task.test_labels */
    SubsetKind subset;                     /* task.subset: which train_size images of the pool */
} ImagesConfig;

/* What the four files hold. */
typedef struct {
    int train_pool, test_pool; /* images (= labels) in each pool */
    int rows, cols;            /* every image, both pools */
    int n_classes;             /* 1 + the largest label in either label file */
} ImagesInfo;

/* Check the four files completely, before anything trains: each readable,
 * IDX with the right magic, not truncated (every byte the header announces
 * is there), no trailing data, image and label counts equal within a pool,
 * the same image size in both pools, and train_size <= the training pool,
 * test_size <= the test pool (test_size 0 = the whole test pool). On
 * failure returns -1 with one line in err naming the key and file (e.g.
 * `task.train_images = "/x/train.gz": wrong magic number 0x00000801: ...`),
 * the value and what is allowed. Fills *info on success. */
int images_check(const ImagesConfig *cfg, int train_size, int test_size, ImagesInfo *info, char *err,
                 size_t errlen);

/* The size rules of images_check against what the files hold (info from
 * images_check or images_layout). Returns 0, or -1 with a message. */
int images_check_sizes(const ImagesConfig *cfg, const ImagesInfo *info, int train_size, int test_size, char *err,
                       size_t errlen);

/* What the four files hold, from their headers and labels (the pixels are
 * not read, so a truncated image file passes; images_check reads it all).
 * Returns 0, or -1 with a message as images_check gives. */
int images_layout(const ImagesConfig *cfg, ImagesInfo *info, char *err, size_t errlen);

/* Build the dataset: the training set is train_size images of the training
 * pool, the first ones (SUBSET_FIRST) or the first train_size of a
 * permutation seeded by subset_seed (SUBSET_RANDOM: nested across sizes);
 * the test set is the first test_size images of the test pool (0 = all).
 * Features are pixel / 255 (dim rows*cols), targets class labels with
 * n_outputs = n_classes. Returns 0, or -1 with a message as images_check
 * gives (files are checked again as they are read; a file that changed
 * since the check is reported, never trained on). ds is empty on failure. */
int images_dataset(Dataset *ds, const ImagesConfig *cfg, int train_size, int test_size, uint64_t subset_seed,
                   char *err, size_t errlen);

#endif
