/* The Carvalho et al. datasets: shapes, determinism, the balanced test set,
 * the training shares and their nesting, and the geometry (unit steps per
 * group, centroid distance sqrt(Hamming distance), noise scale, a
 * covariance shared by both clouds of a group), all checked through the
 * generated data. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "carvalho.h"
#include "test_util.h"

enum { DIM = CARVALHO_DIM, GROUP = CARVALHO_GROUP_DIM, CLASSES = CARVALHO_CLASSES };

static const int equivariant_seeds[CLASSES] = {63, 240, 323, 396};
/* the groups where the two subclasses of each dataset-1 class differ:
 * 192^320 = bits 7, 8; 384^449 = 0, 6; 450^452 = 1, 2; 456^464 = 3, 4 */
static const int equidistant_differing_groups[CLASSES][2] = {{7, 8}, {0, 6}, {1, 2}, {3, 4}};

static int build(Dataset *ds, int dataset, double f, int train_size, int test_size, uint64_t seed) {
    CarvalhoConfig cfg = {dataset, f};
    char err[256] = "";
    int rc = carvalho_dataset(ds, &cfg, train_size, test_size, seed, err, sizeof err);
    CHECK(rc == 0, "dataset %d f=%g N=%d test %d: %s", dataset, f, train_size, test_size, err);
    return rc;
}

static bool same_examples(const Examples *a, const Examples *b) {
    return a->n == b->n && memcmp(a->features, b->features, sizeof(real) * (size_t)a->n * DIM) == 0 &&
           memcmp(a->labels, b->labels, sizeof(int) * (size_t)a->n) == 0;
}

/* Rows of a set sorted by their bytes, for membership by binary search. */
static const Examples *sorted_set;

static int compare_rows(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    return memcmp(sorted_set->features + (long)i * DIM, sorted_set->features + (long)j * DIM, sizeof(real) * DIM);
}

static int *sorted_rows(const Examples *ex) {
    int *order = malloc(sizeof(int) * (size_t)(ex->n > 0 ? ex->n : 1));
    for (int i = 0; i < ex->n; i++) order[i] = i;
    sorted_set = ex;
    qsort(order, (size_t)ex->n, sizeof(int), compare_rows);
    return order;
}

/* Whether row `row` of small (features and label) is a row of big. */
static bool has_row(const Examples *big, const int *big_sorted, const Examples *small, int row) {
    const real *wanted = small->features + (long)row * DIM;
    int low = 0, high = big->n - 1;
    while (low <= high) {
        int middle = (low + high) / 2, k = big_sorted[middle];
        int order = memcmp(big->features + (long)k * DIM, wanted, sizeof(real) * DIM);
        if (order == 0) return big->labels[k] == small->labels[row];
        if (order < 0)
            low = middle + 1;
        else
            high = middle - 1;
    }
    return false;
}

/* member[i] = row i of small is a row of big; returns how many are. */
static int mark_members(const Examples *big, const Examples *small, bool *member) {
    int *order = sorted_rows(big), count = 0;
    for (int i = 0; i < small->n; i++) count += member[i] = has_row(big, order, small, i);
    free(order);
    return count;
}

/* Mean of the rows i with take[i] (all rows when take is NULL) and label
 * `label` (any label when negative); returns how many rows. */
static int centroid(const Examples *ex, const bool *take, int label, double *mean) {
    int count = 0;
    memset(mean, 0, sizeof(double) * DIM);
    for (int i = 0; i < ex->n; i++) {
        if ((take && !take[i]) || (label >= 0 && ex->labels[i] != label)) continue;
        for (int k = 0; k < DIM; k++) mean[k] += ex->features[(long)i * DIM + k];
        count++;
    }
    for (int k = 0; k < DIM; k++) mean[k] /= count > 0 ? count : 1;
    return count;
}

/* Distance between a and b over coordinates [first, first + n). */
static double distance(const double *a, const double *b, int first, int n) {
    double sum = 0;
    for (int k = first; k < first + n; k++) sum += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(sum);
}

static int popcount(int x) {
    int count = 0;
    for (; x; x &= x - 1) count++;
    return count;
}

/* Sample covariance of group l over the rows i with take[i] (all when
 * NULL). */
static void group_covariance(const Examples *ex, const bool *take, int l, double covariance[GROUP][GROUP]) {
    double mean[GROUP] = {0};
    int count = 0;
    memset(covariance, 0, sizeof(double) * GROUP * GROUP);
    for (int i = 0; i < ex->n; i++) {
        if (take && !take[i]) continue;
        for (int a = 0; a < GROUP; a++) mean[a] += ex->features[(long)i * DIM + l * GROUP + a];
        count++;
    }
    for (int a = 0; a < GROUP; a++) mean[a] /= count;
    for (int i = 0; i < ex->n; i++) {
        if (take && !take[i]) continue;
        const real *x = ex->features + (long)i * DIM + l * GROUP;
        for (int a = 0; a < GROUP; a++)
            for (int b = 0; b < GROUP; b++) covariance[a][b] += (x[a] - mean[a]) * (x[b] - mean[b]);
    }
    for (int a = 0; a < GROUP; a++)
        for (int b = 0; b < GROUP; b++) covariance[a][b] /= count - 1;
}

/* |P - Q|_F / |P|_F */
static double relative_difference(double p[GROUP][GROUP], double q[GROUP][GROUP]) {
    double difference = 0, size = 0;
    for (int a = 0; a < GROUP; a++)
        for (int b = 0; b < GROUP; b++) {
            difference += (p[a][b] - q[a][b]) * (p[a][b] - q[a][b]);
            size += p[a][b] * p[a][b];
        }
    return sqrt(difference / size);
}

static void count_labels(const Examples *ex, const bool *take, bool wanted, int counts[CLASSES]) {
    memset(counts, 0, sizeof(int) * CLASSES);
    for (int i = 0; i < ex->n; i++)
        if (!take || take[i] == wanted) counts[ex->labels[i]]++;
}

static void test_shape_and_determinism(void) {
    Dataset ds, same, other;
    if (build(&ds, 1, 0.2, 800, 1000, 7) || build(&same, 1, 0.2, 800, 1000, 7) ||
        build(&other, 1, 0.2, 800, 1000, 8))
        return;
    const Examples *sets[2] = {&ds.train, &ds.test};
    for (int t = 0; t < 2; t++) {
        const Examples *ex = sets[t];
        const ExampleShape *shape = &ex->shape;
        CHECK(shape->seq_len == 0 && shape->vocab == 0 && shape->dim == 117 && shape->target == TARGET_CLASS &&
                  shape->n_outputs == 4,
              "shape {%d, %d, %d, %d, %d}", shape->seq_len, shape->vocab, shape->dim, (int)shape->target,
              shape->n_outputs);
        CHECK(ex->features && ex->labels && !ex->tokens && !ex->targets && ex->owned, "dense inputs, class targets");
        int bad_labels = 0, not_finite = 0;
        for (int i = 0; i < ex->n; i++) bad_labels += ex->labels[i] < 0 || ex->labels[i] >= 4;
        for (long k = 0; k < (long)ex->n * DIM; k++) not_finite += !isfinite(ex->features[k]);
        CHECK(bad_labels == 0 && not_finite == 0, "%d labels outside 0..3, %d features not finite", bad_labels,
              not_finite);
    }
    CHECK(ds.train.n == 800 && ds.test.n == 1000, "sizes %d %d", ds.train.n, ds.test.n);
    CHECK(same_examples(&ds.train, &same.train) && same_examples(&ds.test, &same.test), "same seed, same sets");
    CHECK(!same_examples(&ds.train, &other.train) && !same_examples(&ds.test, &other.test),
          "another seed, other sets");
    int counts[CLASSES];
    count_labels(&ds.train, NULL, true, counts);
    CHECK(counts[0] == 201 && counts[1] == 200 && counts[2] == 200 && counts[3] == 199,
          "N=800 f=0.2 class counts %d %d %d %d, expected 201 200 200 199", counts[0], counts[1], counts[2],
          counts[3]);
    /* interleaved: every class within the first 20 examples of each set */
    for (int t = 0; t < 2; t++) {
        int seen[CLASSES] = {0};
        for (int i = 0; i < 20; i++) seen[sets[t]->labels[i]] = 1;
        CHECK(seen[0] && seen[1] && seen[2] && seen[3], "classes interleaved in the %s set", t ? "test" : "train");
    }
    dataset_free(&ds);
    dataset_free(&same);
    dataset_free(&other);
}

static void test_balanced_test_set(void) {
    Dataset small, large, ds2;
    if (build(&small, 1, 0.2, 100, 1003, 3) || build(&large, 1, 1.0, 2000, 1003, 3) ||
        build(&ds2, 2, 0.05, 100, 10000, 3))
        return;
    CHECK(same_examples(&small.test, &large.test), "the test set does not depend on f or train_size");
    int counts[CLASSES];
    /* 1003 = 8 * 125 + 3: the first three subclasses (class 0, class 0, class 1) take one more */
    count_labels(&small.test, NULL, true, counts);
    CHECK(counts[0] == 252 && counts[1] == 251 && counts[2] == 250 && counts[3] == 250,
          "test classes %d %d %d %d, expected 252 251 250 250", counts[0], counts[1], counts[2], counts[3]);
    count_labels(&ds2.test, NULL, true, counts);
    CHECK(counts[0] == 2500 && counts[1] == 2500 && counts[2] == 2500 && counts[3] == 2500,
          "dataset 2 test classes %d %d %d %d", counts[0], counts[1], counts[2], counts[3]);
    /* the test pool is disjoint from the training pool */
    bool member[2000];
    CHECK(mark_members(&small.test, &large.train, member) == 0, "a training sample is in the test set");

    /* dataset 2 class centroids: per group the mean bit of a class is
     * seed bit +- 0.1, so groups where two seeds differ are 0.8 apart and
     * the others coincide: distance sqrt(6 * 0.64) at Hamming distance 6 */
    double means[CLASSES][DIM];
    for (int c = 0; c < CLASSES; c++) centroid(&ds2.test, NULL, c, means[c]);
    for (int a = 0; a < CLASSES; a++)
        for (int b = a + 1; b < CLASSES; b++) {
            int differing = equivariant_seeds[a] ^ equivariant_seeds[b];
            CHECK(popcount(differing) == 6, "seeds %d %d at Hamming distance 6", a, b);
            CHECK_CLOSE(distance(means[a], means[b], 0, DIM), sqrt(6 * 0.64), 0.03, "dataset 2 class distance");
            for (int l = 0; l < CARVALHO_GROUPS; l++)
                CHECK_CLOSE(distance(means[a], means[b], l * GROUP, GROUP), (differing >> l) & 1 ? 0.8 : 0.0, 0.05,
                            "dataset 2 class distance in one group");
        }
    dataset_free(&small);
    dataset_free(&large);
    dataset_free(&ds2);
}

/* Shares and nesting through the data: at f = 1 and N = 1600 every
 * subclass gives its first 200 training samples; at f = 0 and N = 800 the
 * four full-weight ones give theirs and the down-weighted ones nothing, so
 * the first set splits into the second and one whole subclass per class.
 * At f = 0.2 and N = 800: 133 down-weighted samples (800 / 6 rounded) as
 * 34 + 33 + 33 + 33, and 667 full-weight ones as 167 + 167 + 167 + 166. */
static void test_shares_and_geometry(void) {
    Dataset all, none, fifth, fifth_smaller;
    if (build(&all, 1, 1.0, 1600, 32000, 11) || build(&none, 1, 0.0, 800, 100, 11) ||
        build(&fifth, 1, 0.2, 800, 100, 11) || build(&fifth_smaller, 1, 0.2, 400, 100, 11))
        return;
    int counts[CLASSES];
    count_labels(&all.train, NULL, true, counts);
    CHECK(counts[0] == 400 && counts[1] == 400 && counts[2] == 400 && counts[3] == 400, "f = 1 is balanced");

    bool *full_weight = malloc(sizeof(bool) * 1600), *member = malloc(sizeof(bool) * 800);
    CHECK(mark_members(&all.train, &none.train, member) == 800, "the f = 0 set is in the f = 1 set");
    CHECK(mark_members(&none.train, &all.train, full_weight) == 800, "half the f = 1 set is full-weight");
    count_labels(&all.train, full_weight, true, counts);
    CHECK(counts[0] == 200 && counts[1] == 200 && counts[2] == 200 && counts[3] == 200,
          "f = 0: 200 per full-weight subclass");

    /* f = 0.2 within f = 1; its full-weight part within the f = 0 set */
    CHECK(mark_members(&all.train, &fifth.train, member) == 800, "the f = 0.2 set is in the f = 1 set");
    mark_members(&none.train, &fifth.train, member);
    int full[CLASSES], down[CLASSES];
    count_labels(&fifth.train, member, true, full);
    count_labels(&fifth.train, member, false, down);
    CHECK(full[0] == 167 && full[1] == 167 && full[2] == 167 && full[3] == 166, "full-weight shares %d %d %d %d",
          full[0], full[1], full[2], full[3]);
    CHECK(down[0] == 34 && down[1] == 33 && down[2] == 33 && down[3] == 33, "down-weighted shares %d %d %d %d",
          down[0], down[1], down[2], down[3]);
    double down_total = down[0] + down[1] + down[2] + down[3], full_total = full[0] + full[1] + full[2] + full[3];
    CHECK(down_total + full_total == 800, "shares sum to N");
    CHECK_CLOSE(down_total / full_total, 0.2, 0.002, "ratio of a down-weighted to a full-weight share");
    CHECK(mark_members(&fifth.train, &fifth_smaller.train, member) == 400, "N = 400 is within N = 800 at f = 0.2");

    /* subclass centroids: per class, the full-weight one and the other */
    double means[CLASSES][2][DIM];
    for (int c = 0; c < CLASSES; c++)
        for (int w = 0; w < 2; w++) {
            bool *take = malloc(sizeof(bool) * 1600);
            for (int i = 0; i < 1600; i++) take[i] = full_weight[i] == (w == 1);
            CHECK(centroid(&all.train, take, c, means[c][w]) == 200, "200 samples per subclass");
            free(take);
        }
    /* every pair of the 8 subclasses at sqrt(2); within a class the two
     * differ by one unit step in each of their two differing groups */
    for (int a = 0; a < 2 * CLASSES; a++)
        for (int b = a + 1; b < 2 * CLASSES; b++)
            CHECK_CLOSE(distance(means[a / 2][a % 2], means[b / 2][b % 2], 0, DIM), sqrt(2.0), 0.05,
                        "subclass centroid distance");
    for (int c = 0; c < CLASSES; c++)
        for (int l = 0; l < CARVALHO_GROUPS; l++) {
            bool differs = l == equidistant_differing_groups[c][0] || l == equidistant_differing_groups[c][1];
            CHECK_CLOSE(distance(means[c][0], means[c][1], l * GROUP, GROUP), differs ? 1.0 : 0.0, 0.1,
                        "within-class centroid distance in one group");
        }

    /* class centroids (midpoints of the pairs) at distance 1 */
    double class_means[CLASSES][DIM];
    for (int c = 0; c < CLASSES; c++) centroid(&all.test, NULL, c, class_means[c]);
    for (int a = 0; a < CLASSES; a++)
        for (int b = a + 1; b < CLASSES; b++)
            CHECK_CLOSE(distance(class_means[a], class_means[b], 0, DIM), 1.0, 0.03, "class centroid distance");

    /* noise: bit 5 is 0 in every dataset-1 code, so group 5 of the whole
     * test set is one cloud; S has entries 0.125 (1 +- 0.25 xi), so the
     * variance along any direction lies in [0.09375^2, 0.15625^2] */
    double covariance[GROUP][GROUP], trace = 0, largest_correlation = 0;
    group_covariance(&all.test, NULL, 5, covariance);
    for (int a = 0; a < GROUP; a++) {
        CHECK(covariance[a][a] > 0.93 * 0.09375 * 0.09375 && covariance[a][a] < 1.07 * 0.15625 * 0.15625,
              "variance %g along axis %d", covariance[a][a], a);
        trace += covariance[a][a];
        for (int b = 0; b < a; b++) {
            double correlation = fabs(covariance[a][b]) / sqrt(covariance[a][a] * covariance[b][b]);
            if (correlation > largest_correlation) largest_correlation = correlation;
        }
    }
    CHECK_CLOSE(trace / GROUP, 0.125 * 0.125, 0.25 * 0.125 * 0.125, "mean variance per coordinate");
    CHECK(largest_correlation > 0.1, "the rotation correlates coordinates: largest |correlation| %g",
          largest_correlation);

    /* the two clouds of a group share their covariance: split class 0 of
     * the test set by the nearer subclass centroid (4000 samples each);
     * group 7's covariance agrees between its bit-0 and bit-1 subclasses
     * far better than with group 8's, drawn independently */
    bool *nearer_full = malloc(sizeof(bool) * (size_t)all.test.n), *in_class = malloc(sizeof(bool) * (size_t)all.test.n);
    int split[2] = {0, 0};
    for (int i = 0; i < all.test.n; i++) {
        in_class[i] = all.test.labels[i] == 0;
        double row[DIM];
        for (int k = 0; k < DIM; k++) row[k] = all.test.features[(long)i * DIM + k];
        nearer_full[i] = distance(row, means[0][1], 0, DIM) < distance(row, means[0][0], 0, DIM);
        if (in_class[i]) split[nearer_full[i]]++;
    }
    CHECK(split[0] == 4000 && split[1] == 4000, "class 0 splits %d + %d", split[0], split[1]);
    double covariances[2][2][GROUP][GROUP]; /* [subclass][group 7, 8] */
    for (int w = 0; w < 2; w++) {
        bool *take = malloc(sizeof(bool) * (size_t)all.test.n);
        for (int i = 0; i < all.test.n; i++) take[i] = in_class[i] && nearer_full[i] == (w == 1);
        group_covariance(&all.test, take, 7, covariances[w][0]);
        group_covariance(&all.test, take, 8, covariances[w][1]);
        free(take);
    }
    double same_group = relative_difference(covariances[0][0], covariances[1][0]);
    double other_group = relative_difference(covariances[0][0], covariances[0][1]);
    CHECK(same_group < 0.15 && same_group < 0.5 * other_group,
          "group 7 covariance differs by %.3f between its clouds, by %.3f from group 8", same_group, other_group);
    free(nearer_full);
    free(in_class);
    free(full_weight);
    free(member);
    dataset_free(&all);
    dataset_free(&none);
    dataset_free(&fifth);
    dataset_free(&fifth_smaller);
}

/* Dataset 2 at f = 0.2, N = 800: 20 down-weighted subclasses share 133
 * samples (6 or 7 each, 34 33 33 33 per class), 20 full-weight ones 667
 * (33 or 34 each, 167 167 167 166): class totals 201 200 200 199. At
 * f = 0 the down-weighted half is absent: 40 per full-weight subclass. */
static void test_equivariant_shares(void) {
    Dataset fifth, none, all;
    if (build(&fifth, 2, 0.2, 800, 40, 5) || build(&none, 2, 0.0, 800, 40, 5) || build(&all, 2, 1.0, 1600, 40, 5))
        return;
    int counts[CLASSES];
    count_labels(&fifth.train, NULL, true, counts);
    CHECK(counts[0] == 201 && counts[1] == 200 && counts[2] == 200 && counts[3] == 199,
          "dataset 2 class counts %d %d %d %d", counts[0], counts[1], counts[2], counts[3]);
    bool member[1600];
    CHECK(mark_members(&all.train, &none.train, member) == 800, "f = 0 within f = 1 (40 per subclass each)");
    CHECK(mark_members(&all.train, &fifth.train, member) == 800, "f = 0.2 within f = 1");
    mark_members(&none.train, &fifth.train, member);
    int full[CLASSES], down[CLASSES];
    count_labels(&fifth.train, member, true, full);
    count_labels(&fifth.train, member, false, down);
    CHECK(full[0] == 167 && full[1] == 167 && full[2] == 167 && full[3] == 166 && down[0] == 34 && down[1] == 33 &&
              down[2] == 33 && down[3] == 33,
          "dataset 2 shares: full %d %d %d %d, down %d %d %d %d", full[0], full[1], full[2], full[3], down[0],
          down[1], down[2], down[3]);
    dataset_free(&fifth);
    dataset_free(&none);
    dataset_free(&all);
}

static void expect_error(int dataset, double f, int train_size, int test_size, const char *first,
                         const char *second) {
    CarvalhoConfig cfg = {dataset, f};
    char err[512] = "";
    CHECK(carvalho_check(&cfg, train_size, test_size, err, sizeof err) == -1, "rejects N=%d test %d", train_size,
          test_size);
    CHECK(strstr(err, first) && strstr(err, second), "message names %s and %s: %s", first, second, err);
}

static void test_check(void) {
    CarvalhoConfig cfg = {1, 0.2};
    char err[512] = "";
    CHECK(carvalho_check(&cfg, 28800, 32000, err, sizeof err) == 0, "N = 28800 fits at f = 0.2: %s", err);
    expect_error(1, 0.2, 50000, 10000,
                 "task.train_size = 50000: with task.imbalance = 0.2 the largest subclass share is 10417, more "
                 "than its training pool of 6000 samples",
                 "at most 28800 is allowed");
    expect_error(1, 0.2, 28801, 10000, "task.train_size = 28801", "at most 28800 is allowed");
    expect_error(1, 0.0, 24001, 10000, "task.train_size = 24001", "at most 24000 is allowed");
    expect_error(2, 1.0, 240001, 10000, "task.train_size = 240001", "at most 240000 is allowed");
    expect_error(1, 0.2, 800, 32001, "task.test_size = 32001", "at most 32000");
    expect_error(2, 0.2, 800, 160001, "task.test_size = 160001", "at most 160000");
    expect_error(3, 0.2, 800, 10000, "task.dataset = 3", "1 (equidistant) or 2 (equivariant)");
    expect_error(1, 1.5, 800, 10000, "task.imbalance = 1.5", "[0, 1]");
    expect_error(1, NAN, 800, 10000, "task.imbalance = nan", "[0, 1]");
    expect_error(1, -0.1, 800, 10000, "task.imbalance = -0.1", "[0, 1]");
    expect_error(1, 0.2, -1, 10000, "task.train_size = -1", "at least 0");
    cfg.dataset = 2;
    CHECK(carvalho_check(&cfg, 800, 160000, err, sizeof err) == 0, "dataset 2 test pools hold 160000: %s", err);

    /* the dataset reports the check's message and leaves ds empty */
    Dataset ds;
    cfg.dataset = 1;
    CHECK(carvalho_dataset(&ds, &cfg, 50000, 100, 1, err, sizeof err) == -1 && strstr(err, "10417") &&
              ds.train.n == 0 && !ds.train.features && !ds.test.features,
          "carvalho_dataset fails like the check: %s", err);
    Dataset empty;
    if (build(&empty, 1, 0.5, 0, 0, 1) == 0) {
        CHECK(empty.train.n == 0 && empty.test.n == 0, "empty sets");
        dataset_free(&empty);
    }
}

int main(void) {
    test_shape_and_determinism();
    test_balanced_test_set();
    test_shares_and_geometry();
    test_equivariant_shares();
    test_check();
    return test_finish();
}
