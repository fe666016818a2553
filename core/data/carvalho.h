/* The two synthetic Gaussian datasets of Carvalho et al. 2025 ("Grokking
 * Explained: A Statistical Phenomenon", arXiv 2502.01774), where grokking
 * comes from a distribution shift between the training and the test set.
 *
 * Inputs are 9 groups of 13 coordinates (R^117). Each group has two
 * Gaussian sub-distributions one unit apart; a subclass is a 9-bit code
 * choosing one per group, so the distance between subclass centroids is
 * the square root of the Hamming distance of their codes. Dataset 1
 * (equidistant): 4 classes of 2 subclasses; dataset 2 (equivariant): 4
 * classes of 10 subclasses. Each subclass has a pool of 10,000 samples,
 * split 60/40 into training and test pools. The test set is a balanced
 * draw from the test pools, the same for every imbalance f and training
 * size; the training set gives half the subclasses of each class (chosen
 * at random) weight f and the rest weight 1. */
#ifndef GROKSWEEP_CARVALHO_H
#define GROKSWEEP_CARVALHO_H

#include <stddef.h>
#include <stdint.h>

#include "examples.h"

#define CARVALHO_GROUPS 9
#define CARVALHO_GROUP_DIM 13
#define CARVALHO_DIM (CARVALHO_GROUPS * CARVALHO_GROUP_DIM) /* 117 */
#define CARVALHO_CLASSES 4
#define CARVALHO_POOL 10000      /* samples per subclass */
#define CARVALHO_TRAIN_POOL 6000 /* of them in the training pool */

typedef struct {
    int dataset;      /* task.dataset: 1 (equidistant) or 2 (equivariant) */
    double imbalance; /* task.imbalance: f in [0, 1] */
} CarvalhoConfig;

/* Check that the training set of train_size samples fits the training
 * pools (no subclass share above CARVALHO_TRAIN_POOL) and the test set of
 * test_size the test pools. Pure computation, no randomness involved.
 * Returns 0, or -1 with one line naming the key (task.train_size or
 * task.test_size), the value and what is allowed. */
int carvalho_check(const CarvalhoConfig *cfg, int train_size, int test_size, char *err, size_t errlen);

/* Build the dataset for this seed: geometry, the choice of down-weighted
 * subclasses, every pool sample and the test set depend on the seed only;
 * the training set on the seed, f and train_size (nested across sizes for
 * one f). Features (dim 117), class targets (4 classes). Returns 0, or -1
 * with a message (out of memory, or what carvalho_check reports). */
int carvalho_dataset(Dataset *ds, const CarvalhoConfig *cfg, int train_size, int test_size, uint64_t seed,
                     char *err, size_t errlen);

#endif
