/* Operations, primality, the train/test split, and the random streams. */
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "task.h"
#include "test_util.h"
#include "train.h"

#include <math.h>

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

/* The pair (a, b) of example i, from its tokens. */
static int token_a(const Examples *ex, int i) { return ex->tokens[(long)i * ex->shape.seq_len]; }
static int token_b(const Examples *ex, int i) { return ex->tokens[(long)i * ex->shape.seq_len + 1]; }

static void test_split(void) {
    ArithmeticConfig task = {.op = OP_ADD, .p = 11, .data_fraction = 0.3, .sequence = SEQUENCE_PAIR};
    CHECK(arithmetic_pair_count(&task) == 121, "all pairs for x+y");
    CHECK(arithmetic_train_count(&task) == 36, "floor(0.3 * 121) = 36, got %d", arithmetic_train_count(&task));
    Dataset ds;
    CHECK(arithmetic_dataset(&ds, &task, 42) == 0, "create");
    CHECK(ds.train.n == 36 && ds.test.n == 85, "sizes %d %d", ds.train.n, ds.test.n);
    CHECK(ds.train.shape.seq_len == 2 && ds.train.shape.vocab == 11 && ds.train.shape.n_outputs == 11 &&
              ds.train.shape.target == TARGET_CLASS && ds.train.features == NULL,
          "tokens a b over 11 values, 11 classes");
    /* train and test partition all pairs; labels are right */
    int seen[121] = {0}, wrong_label = 0;
    for (int s = 0; s < 2; s++) {
        const Examples *ex = s ? &ds.test : &ds.train;
        for (int i = 0; i < ex->n; i++) {
            seen[token_a(ex, i) * 11 + token_b(ex, i)]++;
            wrong_label += ex->labels[i] != (token_a(ex, i) + token_b(ex, i)) % 11;
        }
    }
    int missing = 0;
    for (int k = 0; k < 121; k++) missing += seen[k] != 1;
    CHECK(missing == 0, "%d pairs not in exactly one set", missing);
    CHECK(wrong_label == 0, "%d wrong labels", wrong_label);

    /* same seed, same split; other seed, other split; nested across fractions */
    Dataset same, other, larger, equals;
    ArithmeticConfig task_larger = task, task_equals = task;
    task_larger.data_fraction = 0.6;
    task_equals.sequence = SEQUENCE_EQUALS;
    arithmetic_dataset(&same, &task, 42);
    arithmetic_dataset(&other, &task, 43);
    arithmetic_dataset(&larger, &task_larger, 42);
    arithmetic_dataset(&equals, &task_equals, 42);
    CHECK(memcmp(same.train.tokens, ds.train.tokens, sizeof(int) * 72) == 0, "same seed gives the same split");
    CHECK(memcmp(other.train.tokens, ds.train.tokens, sizeof(int) * 72) != 0, "another seed gives another split");
    CHECK(memcmp(larger.train.tokens, ds.train.tokens, sizeof(int) * 72) == 0,
          "the 0.3 training set is a prefix of the 0.6 one");
    int same_pairs = equals.train.shape.seq_len == 3 && equals.train.shape.vocab == 12;
    for (int i = 0; i < ds.train.n && same_pairs; i++)
        same_pairs = token_a(&equals.train, i) == token_a(&ds.train, i) &&
                     token_b(&equals.train, i) == token_b(&ds.train, i) && equals.train.tokens[3 * i + 2] == 11 &&
                     equals.train.labels[i] == ds.train.labels[i];
    CHECK(same_pairs, "\"a b =\" holds the same split with '=' (token p) last, vocabulary p + 1");
    dataset_free(&same);
    dataset_free(&other);
    dataset_free(&larger);
    dataset_free(&equals);
    dataset_free(&ds);

    ArithmeticConfig div = {.op = OP_DIV, .p = 7, .data_fraction = 0.5};
    CHECK(arithmetic_pair_count(&div) == 42, "x/y excludes y = 0: 7*6 pairs");
    arithmetic_dataset(&ds, &div, 1);
    int zero_divisors = 0;
    for (int i = 0; i < ds.train.n; i++) zero_divisors += token_b(&ds.train, i) == 0;
    for (int i = 0; i < ds.test.n; i++) zero_divisors += token_b(&ds.test, i) == 0;
    CHECK(zero_divisors == 0, "%d pairs with y = 0", zero_divisors);
    dataset_free(&ds);
}

/* Teacher-student data: shapes, the teacher's determinism, nesting. */
static void test_teacher_student(void) {
    TeacherConfig teacher = {.input_dim = 5, .output_dim = 3, .width = 16, .depth = 2, .seed = 0, .tolerance = 1e-3};
    Dataset small, large, other_teacher;
    char err[256];
    CHECK(teacher_student_dataset(&small, &teacher, 10, 20, 7, err, sizeof err) == 0, "%s", err);
    CHECK(teacher_student_dataset(&large, &teacher, 30, 20, 7, err, sizeof err) == 0, "%s", err);
    TeacherConfig reseeded = teacher;
    reseeded.seed = 1;
    CHECK(teacher_student_dataset(&other_teacher, &reseeded, 10, 20, 7, err, sizeof err) == 0, "%s", err);
    CHECK(small.train.shape.dim == 5 && small.train.shape.target == TARGET_VECTOR &&
              small.train.shape.n_outputs == 3 && small.train.labels == NULL,
          "dense inputs, vector targets");
    CHECK(memcmp(small.train.features, large.train.features, sizeof(real) * 50) == 0 &&
              memcmp(small.train.targets, large.train.targets, sizeof(real) * 30) == 0,
          "the 10-example training set is a prefix of the 30-example one");
    CHECK(memcmp(small.test.features, large.test.features, sizeof(real) * 100) == 0 &&
              memcmp(small.test.targets, large.test.targets, sizeof(real) * 60) == 0,
          "the test set does not depend on the training-set size");
    CHECK(memcmp(small.train.features, other_teacher.train.features, sizeof(real) * 50) == 0 &&
              memcmp(small.train.targets, other_teacher.train.targets, sizeof(real) * 30) != 0,
          "task.teacher_seed changes the teacher, not the inputs");
    double mean = 0, spread = 0;
    for (int i = 0; i < 50; i++) mean += small.train.features[i] / 50.0;
    for (int i = 0; i < 30; i++) spread += fabs(small.train.targets[i]) / 30.0;
    CHECK(fabs(mean) < 0.5 && spread > 1e-3 && spread < 1, "inputs near N(0, 1) (mean %g), tanh-MLP outputs (mean |y| %g)",
          mean, spread);
    dataset_free(&small);
    dataset_free(&large);
    dataset_free(&other_teacher);
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
    ExampleShape shape = arithmetic_shape(&base.task.arithmetic);
    RunSeeds s0, s1;
    run_seeds(&base, &shape, &s0);
    /* the keys of the arithmetic models, unchanged since they were the only ones */
    CHECK(s0.split == hash_string("split op=x+y p=59 seed=0"), "split key of the arithmetic task");
    CHECK(s0.init == hash_string("init mlp p=59 input=onehot width=256 depth=1 embed_dim=128 bias=0 seed=0"),
          "init key of the one-hot MLP");
    other = base;
    other.optimizer.weight_decay = 0.1;
    other.model.init_scale = 3;
    run_seeds(&other, &shape, &s1);
    CHECK(memcmp(&s0, &s1, sizeof s0) == 0, "weight decay and init scale leave every stream unchanged");
    other = base;
    other.train.seed = 1;
    run_seeds(&other, &shape, &s1);
    CHECK(s0.split != s1.split && s0.init != s1.init && s0.batches != s1.batches, "the seed changes every stream");
    other = base;
    other.model.width = 128;
    run_seeds(&other, &shape, &s1);
    CHECK(s0.split == s1.split && s0.init != s1.init, "the model shape changes init only");

    RunConfig transformer;
    CHECK(config_parse(&transformer, "{\"model\": {\"kind\": \"transformer\"}}", "t", NULL, 0, err, sizeof err) == 0,
          "%s", err);
    shape = arithmetic_shape(&transformer.task.arithmetic);
    run_seeds(&transformer, &shape, &s1);
    CHECK(shape.seq_len == 3 && s1.init == hash_string("init transformer p=59 n_layers=1 d_model=128 n_heads=4 "
                                                       "d_mlp=512 layernorm=0 bias=1 seed=0"),
          "the transformer reads \"a b =\" by default, with its old init key");

    RunConfig sized;
    CHECK(config_parse(&sized, "{\"task\": {\"kind\": \"teacher_student\", \"train_size\": 50}}", "t", NULL, 0, err,
                       sizeof err) == 0, "%s", err);
    shape = teacher_student_shape(&sized.task.teacher);
    run_seeds(&sized, &shape, &s0);
    other = sized;
    other.task.train_size = 60;
    run_seeds(&other, &shape, &s1);
    CHECK(s0.split == s1.split && s0.init == s1.init && s0.batches != s1.batches,
          "the training-set size changes the minibatch order only");
}

int main(void) {
    test_operations();
    test_split();
    test_teacher_student();
    test_rng();
    test_run_seeds();
    return test_finish();
}
