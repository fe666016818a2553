/* Operations, primality, the train/test split, and the random streams. */
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "task.h"
#include "test_util.h"
#include "train.h"

static void test_operations(void) {
    int p = 7;
    CHECK(operation_apply(OP_ADD, 5, 4, p) == 2, "5+4 mod 7");
    CHECK(operation_apply(OP_SUB, 2, 5, p) == 4, "2-5 mod 7");
    CHECK(operation_apply(OP_MUL, 3, 5, p) == 1, "3*5 mod 7");
    CHECK(operation_apply(OP_DIV, 1, 3, p) == 5, "1/3 mod 7 = 5 since 3*5 = 15 = 1");
    CHECK(operation_apply(OP_DIV_ODD_SUB, 6, 3, p) == 2, "y = 3 odd: 6/3 = 2");
    CHECK(operation_apply(OP_DIV_ODD_SUB, 1, 4, p) == 4, "y = 4 even: 1-4 = 4 mod 7");
    CHECK(operation_apply(OP_SQ_SUM, 3, 4, p) == 4, "9+16 = 25 = 4 mod 7");
    CHECK(operation_apply(OP_SQ_CROSS, 2, 3, p) == 5, "4+6+9 = 19 = 5 mod 7");
    CHECK(operation_apply(OP_SQ_CROSS_X, 2, 3, p) == 0, "19+2 = 21 = 0 mod 7");
    CHECK(operation_apply(OP_CUBE_XY, 2, 3, p) == 0, "8+6 = 14 = 0 mod 7");
    CHECK(operation_apply(OP_CUBE_XY2_Y, 2, 3, p) == 1, "8+18+3 = 29 = 1 mod 7");
    /* exhaustive check of division against multiplication, large prime */
    int q = 113, bad = 0;
    for (int x = 0; x < q; x++)
        for (int y = 1; y < q; y++)
            if (operation_apply(OP_MUL, operation_apply(OP_DIV, x, y, q), y, q) != x) bad++;
    CHECK(bad == 0, "(x/y)*y != x for %d pairs mod 113", bad);
    for (int op = 0; op < OP_COUNT; op++)
        CHECK((int)operation_from_name(operation_name((Operation)op)) == op, "name round trip of op %d", op);
    CHECK(operation_from_name("x%y") == OP_COUNT, "unknown name");
    CHECK(operation_needs_prime(OP_DIV) && operation_needs_prime(OP_DIV_ODD_SUB) && !operation_needs_prime(OP_ADD),
          "division needs a prime");
    CHECK(is_prime(2) && is_prime(59) && is_prime(97) && is_prime(113) && !is_prime(1) && !is_prime(91) &&
              !is_prime(0),
          "is_prime");
}

static void test_split(void) {
    TaskConfig task = {OP_ADD, 11, 0.3};
    CHECK(task_pair_count(&task) == 121, "all pairs for x+y");
    CHECK(task_train_count(&task) == 36, "floor(0.3 * 121) = 36, got %d", task_train_count(&task));
    Dataset ds;
    CHECK(dataset_create(&ds, &task, 42) == 0, "create");
    CHECK(ds.train.n == 36 && ds.test.n == 85, "sizes %d %d", ds.train.n, ds.test.n);
    /* train and test partition all pairs; labels are right */
    int seen[121] = {0}, wrong_label = 0;
    for (int s = 0; s < 2; s++) {
        const Examples *ex = s ? &ds.test : &ds.train;
        for (int i = 0; i < ex->n; i++) {
            seen[ex->a[i] * 11 + ex->b[i]]++;
            wrong_label += ex->label[i] != (ex->a[i] + ex->b[i]) % 11;
        }
    }
    int missing = 0;
    for (int k = 0; k < 121; k++) missing += seen[k] != 1;
    CHECK(missing == 0, "%d pairs not in exactly one set", missing);
    CHECK(wrong_label == 0, "%d wrong labels", wrong_label);

    /* same seed, same split; other seed, other split; nested across fractions */
    Dataset same, other, larger;
    TaskConfig task_larger = {OP_ADD, 11, 0.6};
    dataset_create(&same, &task, 42);
    dataset_create(&other, &task, 43);
    dataset_create(&larger, &task_larger, 42);
    CHECK(memcmp(same.train.a, ds.train.a, sizeof(int) * 36) == 0 &&
              memcmp(same.train.b, ds.train.b, sizeof(int) * 36) == 0,
          "same seed gives the same split");
    CHECK(memcmp(other.train.a, ds.train.a, sizeof(int) * 36) != 0, "another seed gives another split");
    CHECK(memcmp(larger.train.a, ds.train.a, sizeof(int) * 36) == 0 &&
              memcmp(larger.train.b, ds.train.b, sizeof(int) * 36) == 0,
          "the 0.3 training set is a prefix of the 0.6 one");
    dataset_free(&same);
    dataset_free(&other);
    dataset_free(&larger);
    dataset_free(&ds);

    TaskConfig div = {OP_DIV, 7, 0.5};
    CHECK(task_pair_count(&div) == 42, "x/y excludes y = 0: 7*6 pairs");
    dataset_create(&ds, &div, 1);
    int zero_divisors = 0;
    for (int i = 0; i < ds.train.n; i++) zero_divisors += ds.train.b[i] == 0;
    for (int i = 0; i < ds.test.n; i++) zero_divisors += ds.test.b[i] == 0;
    CHECK(zero_divisors == 0, "%d pairs with y = 0", zero_divisors);
    dataset_free(&ds);
}

static void test_rng(void) {
    Rng rng;
    rng_seed(&rng, 7);
    double sum = 0, sq = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(&rng);
        sum += x;
        sq += x * x;
    }
    CHECK_CLOSE(sum / n, 0.0, 0.01, "normal mean");
    CHECK_CLOSE(sq / n, 1.0, 0.01, "normal variance");
    CHECK(hash_string("split op=x+y p=59 seed=0") != hash_string("split op=x+y p=59 seed=1"), "seeds differ");
    CHECK(hash_string("abc") == hash_string("abc"), "hash is a function");
}

/* Streams depend on the parameters they use and the seed, nothing else. */
static void test_run_seeds(void) {
    RunConfig base, other;
    char err[512];
    CHECK(config_parse(&base, "{}", "defaults", NULL, 0, err, sizeof err) == 0, "%s", err);
    RunSeeds s0, s1;
    run_seeds(&base, &s0);
    other = base;
    other.optimizer.weight_decay = 0.1;
    other.model.init_scale = 3;
    run_seeds(&other, &s1);
    CHECK(memcmp(&s0, &s1, sizeof s0) == 0, "weight decay and init scale leave every stream unchanged");
    other = base;
    other.train.seed = 1;
    run_seeds(&other, &s1);
    CHECK(s0.split != s1.split && s0.init != s1.init && s0.batches != s1.batches, "the seed changes every stream");
    other = base;
    other.model.width = 128;
    run_seeds(&other, &s1);
    CHECK(s0.split == s1.split && s0.init != s1.init, "the model shape changes init only");
}

int main(void) {
    test_operations();
    test_split();
    test_rng();
    test_run_seeds();
    return test_finish();
}
