/* The Carvalho et al. 2025 datasets, generated as the author's thesis
 * sources describe them (brenowca/phd_thesis, dataset_construction.tex).
 *
 * Where the project note and the sources differ, this follows the sources:
 * the scale S_l and rotation R_l are drawn once per group and shared by the
 * group's two sub-distributions (bits 0 and 1) and so by every subclass
 * ("These parameters are shared by all subclasses"; "Covariance shared by
 * mu^0 and mu^1"), not drawn separately for each of the 18. The bit order
 * agrees: bit l of a code, (c >> l) & 1, picks the cloud of group l, the
 * coordinates [13 l, 13 l + 13).
 *
 * No pool is materialized: sample j of a subclass comes from its own
 * random stream, keyed by the seed, the subclass code and j. Pool indices
 * [0, 6000) are the training pool, [6000, 10000) the test pool. */
#include "carvalho.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "rng.h"

#define CARVALHO_TEST_POOL (CARVALHO_POOL - CARVALHO_TRAIN_POOL) /* 4000 */
#define MAX_SUBCLASSES 40
#define GROUP_DIM CARVALHO_GROUP_DIM
#define NOISE_SCALE 0.125       /* diagonal of S before the jitter */
#define NOISE_SCALE_JITTER 0.25 /* S_kk = 0.125 (1 + 0.25 eps xi) */
#define PI 3.14159265358979323846

/* The subclasses of a dataset, in canonical order, with their classes. */
typedef struct {
    int count;
    int code[MAX_SUBCLASSES];     /* 9-bit code: bit l picks the cloud of group l */
    int class_of[MAX_SUBCLASSES]; /* class label in [0, CARVALHO_CLASSES) */
} Subclasses;

/* One dimension group: its two cloud centers and the map A = S R that
 * turns a standard normal row vector eta into the noise eta A. */
typedef struct {
    double center[2][GROUP_DIM]; /* mu^0, mu^1 = mu^0 + u */
    double noise_map[GROUP_DIM][GROUP_DIM];
} Group;

/* How many subclasses are down-weighted (weight f) and how many keep
 * weight 1: half of each class, rounded down, are down-weighted. */
typedef struct {
    int downweighted, full;
} WeightCounts;

/* How the training set splits between the two weight classes. */
typedef struct {
    int downweighted_total, full_total; /* samples; they sum to train_size */
} TrainTotals;

/* Fill the subclass list of dataset 1 (equidistant: four pairs of codes at
 * mutual Hamming distance 2) or dataset 2 (equivariant: four seed codes,
 * each with its 9 Hamming-1 neighbours). */
static void subclasses_of(int dataset, Subclasses *sub) {
    static const int equidistant_codes[8] = {192, 320, 384, 449, 450, 452, 456, 464};
    static const int equivariant_seeds[CARVALHO_CLASSES] = {63, 240, 323, 396};
    ASSERT(dataset == 1 || dataset == 2);
    sub->count = 0;
    if (dataset == 1) {
        for (int i = 0; i < 8; i++) {
            sub->code[sub->count] = equidistant_codes[i];
            sub->class_of[sub->count++] = i / 2;
        }
        return;
    }
    for (int c = 0; c < CARVALHO_CLASSES; c++) {
        sub->code[sub->count] = equivariant_seeds[c];
        sub->class_of[sub->count++] = c;
        for (int l = 0; l < CARVALHO_GROUPS; l++) {
            sub->code[sub->count] = equivariant_seeds[c] ^ (1 << l);
            sub->class_of[sub->count++] = c;
        }
    }
}

/* Subclasses of class c in sub. */
static int class_size(const Subclasses *sub, int c) {
    int size = 0;
    for (int s = 0; s < sub->count; s++) size += sub->class_of[s] == c;
    return size;
}

static WeightCounts weight_counts(const Subclasses *sub) {
    WeightCounts counts = {0, 0};
    for (int c = 0; c < CARVALHO_CLASSES; c++) counts.downweighted += class_size(sub, c) / 2;
    counts.full = sub->count - counts.downweighted;
    return counts;
}

/* Split train_size between the weight classes: with D down-weighted and R
 * full-weight subclasses, the down-weighted total is train_size D f /
 * (D f + R) rounded (half up), which is the largest-remainder
 * apportionment between the two weight classes. Both totals grow
 * monotonically with train_size (D f <= D f + R), so every subclass share
 * does too and training sets are nested across sizes. */
static TrainTotals train_totals(WeightCounts counts, double f, int train_size) {
    double downweighted_fraction = counts.downweighted * f / (counts.downweighted * f + counts.full);
    TrainTotals totals;
    totals.downweighted_total = (int)floor(train_size * downweighted_fraction + 0.5);
    totals.full_total = train_size - totals.downweighted_total;
    return totals;
}

/* Share of slot `slot` of `slots` equal-weight subclasses in `total`
 * samples: total / slots each, the remainder one each to the first slots
 * (the largest-remainder method, ties to the earlier slot). */
static int slot_share(int total, int slots, int slot) {
    ASSERT(slot >= 0 && slot < slots);
    return total / slots + (slot < total % slots);
}

/* The largest share any subclass gets. */
static int largest_share(WeightCounts counts, double f, int train_size) {
    TrainTotals totals = train_totals(counts, f, train_size);
    int full = slot_share(totals.full_total, counts.full, 0);
    int downweighted = slot_share(totals.downweighted_total, counts.downweighted, 0);
    return full > downweighted ? full : downweighted;
}

/* The largest train_size whose shares all fit the training pools. */
static int largest_train_size(WeightCounts counts, double f) {
    double total_weight = counts.downweighted * f + counts.full;
    /* an upper bound: the full-weight total is at least N R / W - 1/2, so
     * any N above POOL W + 1 gives some subclass more than POOL */
    int size = (int)(CARVALHO_TRAIN_POOL * total_weight) + counts.downweighted + counts.full + 1;
    while (largest_share(counts, f, size) > CARVALHO_TRAIN_POOL) size--;
    return size;
}

int carvalho_check(const CarvalhoConfig *cfg, int train_size, int test_size, char *err, size_t errlen) {
    if (cfg->dataset != 1 && cfg->dataset != 2)
        return error_format(err, errlen, "task.dataset = %d: must be 1 (equidistant) or 2 (equivariant)",
                            cfg->dataset);
    double f = cfg->imbalance;
    if (!(f >= 0 && f <= 1))
        return error_format(err, errlen, "task.imbalance = %g: must be in [0, 1]", f);
    if (train_size < 0) return error_format(err, errlen, "task.train_size = %d: must be at least 0", train_size);
    if (test_size < 0) return error_format(err, errlen, "task.test_size = %d: must be at least 0", test_size);
    Subclasses sub;
    subclasses_of(cfg->dataset, &sub);
    WeightCounts counts = weight_counts(&sub);
    int share = largest_share(counts, f, train_size);
    if (share > CARVALHO_TRAIN_POOL)
        return error_format(err, errlen,
                            "task.train_size = %d: with task.imbalance = %g the largest subclass share is %d, "
                            "more than its training pool of %d samples; at most %d is allowed",
                            train_size, f, share, CARVALHO_TRAIN_POOL, largest_train_size(counts, f));
    int per_subclass = test_size / sub.count + (test_size % sub.count != 0);
    if (per_subclass > CARVALHO_TEST_POOL)
        return error_format(err, errlen,
                            "task.test_size = %d: the balanced test set takes %d samples of a subclass, more than "
                            "its test pool of %d samples; at most %d is allowed with task.dataset = %d",
                            test_size, per_subclass, CARVALHO_TEST_POOL, CARVALHO_TEST_POOL * sub.count,
                            cfg->dataset);
    return 0;
}

/* A random stream keyed by its purpose and the seed, and for a pool
 * sample by its subclass code and pool index (0, 0 for the streams that
 * serve a whole dataset). */
static void stream_for(Rng *rng, const char *purpose, uint64_t seed, int code, int index) {
    char key[128];
    snprintf(key, sizeof key, "carvalho %s seed=%016" PRIx64 " code=%d index=%d", purpose, seed, code, index);
    rng_seed(rng, hash_string(key));
}

static double random_sign(Rng *rng) { return rng_uniform(rng) < 0.5 ? -1.0 : 1.0; }

/* Draw one group's parameters in the sources' order: mu^0 ~ U[-1,1]^13,
 * v ~ U[-1,1]^13, u = v / |v|; S_kk = 0.125 (1 + 0.25 eps xi); R the
 * product over the pairs k < k' (k outer, k' inner) of Givens rotations by
 * theta = eps (1 + xi) pi / 6, R <- R G(k, k', theta). */
static void draw_group(Rng *rng, Group *group) {
    double direction[GROUP_DIM], scale[GROUP_DIM], rotation[GROUP_DIM][GROUP_DIM], norm_squared = 0;
    for (int k = 0; k < GROUP_DIM; k++) group->center[0][k] = 2 * rng_uniform(rng) - 1;
    for (int k = 0; k < GROUP_DIM; k++) {
        direction[k] = 2 * rng_uniform(rng) - 1;
        norm_squared += direction[k] * direction[k];
    }
    double norm = sqrt(norm_squared);
    for (int k = 0; k < GROUP_DIM; k++) group->center[1][k] = group->center[0][k] + direction[k] / norm;
    for (int k = 0; k < GROUP_DIM; k++) {
        double sign = random_sign(rng);
        scale[k] = NOISE_SCALE * (1 + NOISE_SCALE_JITTER * sign * rng_uniform(rng));
    }
    for (int i = 0; i < GROUP_DIM; i++)
        for (int j = 0; j < GROUP_DIM; j++) rotation[i][j] = i == j;
    for (int k = 0; k < GROUP_DIM; k++)
        for (int k2 = k + 1; k2 < GROUP_DIM; k2++) {
            double sign = random_sign(rng);
            double theta = sign * (1 + rng_uniform(rng)) * PI / 6;
            double cosine = cos(theta), sine = sin(theta);
            /* right-multiplying by G mixes columns k and k2 */
            for (int i = 0; i < GROUP_DIM; i++) {
                double column_k = rotation[i][k], column_k2 = rotation[i][k2];
                rotation[i][k] = cosine * column_k + sine * column_k2;
                rotation[i][k2] = -sine * column_k + cosine * column_k2;
            }
        }
    for (int i = 0; i < GROUP_DIM; i++)
        for (int j = 0; j < GROUP_DIM; j++) group->noise_map[i][j] = scale[i] * rotation[i][j];
}

/* Write pool sample `index` of the subclass with this code into features
 * (CARVALHO_DIM values): per group, x_l = mu_l^{bit l} + eta A_l. */
static void draw_sample(const Group *groups, uint64_t seed, int code, int index, real *features) {
    Rng rng;
    stream_for(&rng, "sample", seed, code, index);
    for (int l = 0; l < CARVALHO_GROUPS; l++) {
        const Group *group = &groups[l];
        const double *center = group->center[(code >> l) & 1];
        double eta[GROUP_DIM], x[GROUP_DIM];
        for (int i = 0; i < GROUP_DIM; i++) eta[i] = rng_normal(&rng);
        for (int k = 0; k < GROUP_DIM; k++) x[k] = center[k];
        for (int i = 0; i < GROUP_DIM; i++)
            for (int k = 0; k < GROUP_DIM; k++) x[k] += eta[i] * group->noise_map[i][k];
        for (int k = 0; k < GROUP_DIM; k++) features[l * GROUP_DIM + k] = (real)x[k];
    }
}

/* Mark the down-weighted subclasses: in each class, in class order, the
 * first half of a shuffle of its subclasses (a stream of the seed only). */
static void choose_downweighted(const Subclasses *sub, uint64_t seed, bool *downweighted) {
    Rng rng;
    stream_for(&rng, "downweighted", seed, 0, 0);
    for (int c = 0; c < CARVALHO_CLASSES; c++) {
        int members[MAX_SUBCLASSES], size = 0;
        for (int s = 0; s < sub->count; s++)
            if (sub->class_of[s] == c) members[size++] = s;
        rng_shuffle(&rng, members, size);
        for (int i = 0; i < size; i++) downweighted[members[i]] = i < size / 2;
    }
}

/* Each subclass's share of the training set. Within a weight class every
 * class has the same number of subclasses; slot = (rank of the subclass
 * among its class's subclasses of that weight) * 4 + class, so the
 * remainder goes round the classes first and the shares do not depend on
 * which subclasses were chosen, only on their ranks. */
static void train_shares(const Subclasses *sub, const bool *downweighted, double f, int train_size, int *shares) {
    WeightCounts counts = weight_counts(sub);
    TrainTotals totals = train_totals(counts, f, train_size);
    int rank[2][CARVALHO_CLASSES] = {{0}}; /* [downweighted][class]: subclasses seen so far */
    for (int s = 0; s < sub->count; s++) {
        int is_downweighted = downweighted[s], c = sub->class_of[s];
        int slot = rank[is_downweighted][c]++ * CARVALHO_CLASSES + c;
        shares[s] = is_downweighted ? slot_share(totals.downweighted_total, counts.downweighted, slot)
                                    : slot_share(totals.full_total, counts.full, slot);
    }
}

/* Fill ex (allocated for n examples) with the pool samples items[i] =
 * subclass * CARVALHO_POOL + pool index, in a shuffled order keyed by the
 * seed and purpose (so that classes are interleaved). */
static void fill_examples(Examples *ex, int *items, int n, const char *purpose, const Subclasses *sub,
                          const Group *groups, uint64_t seed) {
    Rng rng;
    stream_for(&rng, purpose, seed, 0, 0);
    rng_shuffle(&rng, items, n);
    for (int i = 0; i < n; i++) {
        int s = items[i] / CARVALHO_POOL, index = items[i] % CARVALHO_POOL;
        draw_sample(groups, seed, sub->code[s], index, ex->features + (long)i * CARVALHO_DIM);
        ex->labels[i] = sub->class_of[s];
    }
}

int carvalho_dataset(Dataset *ds, const CarvalhoConfig *cfg, int train_size, int test_size, uint64_t seed,
                     char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    if (carvalho_check(cfg, train_size, test_size, err, errlen)) return -1;
    Subclasses sub;
    subclasses_of(cfg->dataset, &sub);
    Group groups[CARVALHO_GROUPS];
    Rng rng;
    stream_for(&rng, "geometry", seed, 0, 0);
    for (int l = 0; l < CARVALHO_GROUPS; l++) draw_group(&rng, &groups[l]);
    bool downweighted[MAX_SUBCLASSES];
    int shares[MAX_SUBCLASSES];
    choose_downweighted(&sub, seed, downweighted);
    train_shares(&sub, downweighted, cfg->imbalance, train_size, shares);

    const ExampleShape shape = {.seq_len = 0, .vocab = 0, .dim = CARVALHO_DIM, .target = TARGET_CLASS,
                                .n_outputs = CARVALHO_CLASSES};
    size_t item_count = (size_t)(train_size > test_size ? train_size : test_size);
    int *items = malloc(sizeof(int) * (item_count > 0 ? item_count : 1));
    if (!items || examples_alloc(&ds->train, &shape, train_size) || examples_alloc(&ds->test, &shape, test_size)) {
        free(items);
        dataset_free(ds);
        return error_format(err, errlen, "out of memory for the Carvalho dataset (%d training and %d test samples)",
                            train_size, test_size);
    }
    int n = 0;
    for (int s = 0; s < sub.count; s++)
        for (int j = 0; j < shares[s]; j++) items[n++] = s * CARVALHO_POOL + j;
    ASSERT(n == train_size);
    fill_examples(&ds->train, items, n, "train order", &sub, groups, seed);

    /* balanced: test_size / count each, the remainder one each to the
     * earlier subclasses; the first samples of each test pool */
    n = 0;
    for (int s = 0; s < sub.count; s++) {
        int take = test_size / sub.count + (s < test_size % sub.count);
        for (int j = 0; j < take; j++) items[n++] = s * CARVALHO_POOL + CARVALHO_TRAIN_POOL + j;
    }
    ASSERT(n == test_size);
    fill_examples(&ds->test, items, n, "test order", &sub, groups, seed);
    free(items);
    return 0;
}
