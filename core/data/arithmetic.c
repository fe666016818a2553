#include "arithmetic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"

static const char *const operation_names[OP_COUNT] = {
    [OP_ADD] = "x+y",
    [OP_SUB] = "x-y",
    [OP_MUL] = "x*y",
    [OP_DIV] = "x/y",
    [OP_DIV_ODD_SUB] = "x/y if y odd else x-y",
    [OP_SQ_SUM] = "x^2+y^2",
    [OP_SQ_CROSS] = "x^2+xy+y^2",
    [OP_SQ_CROSS_X] = "x^2+xy+y^2+x",
    [OP_CUBE_XY] = "x^3+xy",
    [OP_CUBE_XY2_Y] = "x^3+xy^2+y",
    [OP_S5_COMPOSE] = "x.y",
    [OP_S5_CONJUGATE] = "x.y.x^-1",
    [OP_S5_XYX] = "x.y.x",
};

const char *operation_name(Operation op) {
    ASSERT(op >= 0 && op < OP_COUNT);
    return operation_names[op];
}

Operation operation_from_name(const char *name) {
    for (int op = 0; op < OP_COUNT; op++)
        if (strcmp(operation_names[op], name) == 0) return (Operation)op;
    return OP_COUNT;
}

bool operation_is_permutation(Operation op) {
    return op == OP_S5_COMPOSE || op == OP_S5_CONJUGATE || op == OP_S5_XYX;
}

bool operation_needs_prime(Operation op) { return op == OP_DIV || op == OP_DIV_ODD_SUB; }

bool operation_defined(Operation op, int x, int y) {
    (void)x;
    return op != OP_DIV || y != 0;
}

bool is_prime(int n) {
    if (n < 2) return false;
    for (int d = 2; (long)d * d <= n; d++)
        if (n % d == 0) return false;
    return true;
}

/* Modular inverse of y (0 < y < p, p prime) by Fermat: y^(p-2) mod p. */
static long inverse_mod(long y, long p) {
    long result = 1, base = y % p;
    for (long e = p - 2; e > 0; e >>= 1) {
        if (e & 1) result = result * base % p;
        base = base * base % p;
    }
    return result;
}

enum { S5_DEGREE = 5 };

/* The permutation of {0, ..., 4} at lexicographic index `index` (0 <= index
 * < 120), in array form: perm[i] is the image of i. */
static void s5_unrank(int index, int perm[S5_DEGREE]) {
    int unused[S5_DEGREE] = {0, 1, 2, 3, 4}, left = S5_DEGREE, factorial = 24;
    for (int i = 0; i < S5_DEGREE; i++) {
        int pick = index / factorial;
        index %= factorial;
        perm[i] = unused[pick];
        for (int j = pick; j < left - 1; j++) unused[j] = unused[j + 1];
        left--;
        if (left > 0) factorial /= left;
    }
}

/* Lexicographic index of a permutation in array form. */
static int s5_rank(const int perm[S5_DEGREE]) {
    int index = 0;
    for (int i = 0; i < S5_DEGREE; i++) {
        int smaller_later = 0;
        for (int j = i + 1; j < S5_DEGREE; j++) smaller_later += perm[j] < perm[i];
        index = index * (S5_DEGREE - i) + smaller_later;
    }
    return index;
}

/* The S5 operations on element indices, composing as Power et al.'s code
 * does (numpy's b[a] for x.y, sympy's left-to-right product otherwise). */
static int s5_apply(Operation op, int x_index, int y_index) {
    int x[S5_DEGREE], y[S5_DEGREE], x_inverse[S5_DEGREE], c[S5_DEGREE];
    s5_unrank(x_index, x);
    s5_unrank(y_index, y);
    for (int i = 0; i < S5_DEGREE; i++) x_inverse[x[i]] = i;
    for (int i = 0; i < S5_DEGREE; i++) {
        int x_then_y = y[x[i]];
        c[i] = op == OP_S5_COMPOSE ? x_then_y : op == OP_S5_CONJUGATE ? x_inverse[x_then_y] : x[x_then_y];
    }
    return s5_rank(c);
}

int operation_apply(Operation op, int x_in, int y_in, int p) {
    ASSERT(x_in >= 0 && x_in < p && y_in >= 0 && y_in < p);
    if (operation_is_permutation(op)) {
        ASSERT(p == S5_ORDER);
        return s5_apply(op, x_in, y_in);
    }
    long x = x_in, y = y_in, m = p, r;
    switch (op) {
    case OP_ADD: r = x + y; break;
    case OP_SUB: r = x - y + m; break;
    case OP_MUL: r = x * y; break;
    case OP_DIV: ASSERT(y != 0); r = x * inverse_mod(y, m); break;
    case OP_DIV_ODD_SUB: r = (y % 2 == 1) ? x * inverse_mod(y, m) : x - y + m; break;
    case OP_SQ_SUM: r = x * x + y * y; break;
    case OP_SQ_CROSS: r = x * x + x * y + y * y; break;
    case OP_SQ_CROSS_X: r = x * x + x * y + y * y + x; break;
    case OP_CUBE_XY: r = (x * x % m) * x + x * y; break;
    case OP_CUBE_XY2_Y: r = (x * x % m) * x + x * (y * y % m) + y; break;
    default: check_failed("known operation", __FILE__, __LINE__);
    }
    return (int)(r % m);
}

static const char *const sequence_format_names[SEQUENCE_FORMAT_COUNT] = {
    [SEQUENCE_PAIR] = "a b", [SEQUENCE_EQUALS] = "a b =", [SEQUENCE_OP_EQUALS] = "a op b =",
    [SEQUENCE_BOS_OP_EQUALS] = "<bos> a op b ="};

const char *sequence_format_name(SequenceFormat format) {
    ASSERT((unsigned)format < (unsigned)SEQUENCE_FORMAT_COUNT);
    return sequence_format_names[format];
}

int arithmetic_pair_count(const ArithmeticConfig *task) {
    int count = 0;
    for (int y = 0; y < task->p; y++) count += operation_defined(task->op, 0, y) ? task->p : 0;
    return count;
}

int arithmetic_example_count(const ArithmeticConfig *task) {
    return task->draws > 0 ? task->draws : arithmetic_pair_count(task);
}

int arithmetic_train_count(const ArithmeticConfig *task) {
    return (int)(task->data_fraction * (double)arithmetic_example_count(task));
}

/* Tokens of one equation and the vocabulary they are drawn from: the p
 * elements, then '=', the operation and <bos> as far as the format uses
 * them. */
static void sequence_layout(const ArithmeticConfig *task, int *seq_len, int *vocab) {
    static const int lengths[SEQUENCE_FORMAT_COUNT] = {2, 3, 4, 5}, extra_tokens[SEQUENCE_FORMAT_COUNT] = {0, 1, 2, 3};
    ASSERT((unsigned)task->sequence < (unsigned)SEQUENCE_FORMAT_COUNT);
    *seq_len = lengths[task->sequence];
    *vocab = task->p + extra_tokens[task->sequence];
}

/* Write the tokens of the equation a op b in the task's format. */
static void write_equation(const ArithmeticConfig *task, int a, int b, int *tokens) {
    int equals = task->p, op = task->p + 1, bos = task->p + 2;
    switch (task->sequence) {
    case SEQUENCE_PAIR: tokens[0] = a, tokens[1] = b; return;
    case SEQUENCE_EQUALS: tokens[0] = a, tokens[1] = b, tokens[2] = equals; return;
    case SEQUENCE_OP_EQUALS: tokens[0] = a, tokens[1] = op, tokens[2] = b, tokens[3] = equals; return;
    case SEQUENCE_BOS_OP_EQUALS: tokens[0] = bos, tokens[1] = a, tokens[2] = op, tokens[3] = b, tokens[4] = equals; return;
    case SEQUENCE_FORMAT_COUNT: break;
    }
    ASSERT(!"known sequence format");
}

ExampleShape arithmetic_shape(const ArithmeticConfig *task) {
    int seq_len, vocab;
    sequence_layout(task, &seq_len, &vocab);
    if (task->concealed_bits > 0)
        return (ExampleShape){.dim = seq_len * vocab + task->concealed_bits, .target = TARGET_CLASS,
                              .n_outputs = task->p};
    return (ExampleShape){.seq_len = seq_len, .vocab = vocab, .target = TARGET_CLASS, .n_outputs = task->p};
}

/* Dense features of the equation a op b: the one-hots of its tokens, then
 * the example's concealed bits, drawn from a stream seeded by bits_seed.
 * features has room for arithmetic_shape().dim. */
static void write_concealed_features(const ArithmeticConfig *task, int a, int b, uint64_t bits_seed, real *features) {
    int seq_len, vocab, tokens[5] = {0};
    sequence_layout(task, &seq_len, &vocab);
    write_equation(task, a, b, tokens);
    int onehots = seq_len * vocab;
    for (int j = 0; j < onehots; j++) features[j] = 0;
    for (int t = 0; t < seq_len; t++) features[t * vocab + tokens[t]] = 1;
    Rng rng;
    rng_seed(&rng, bits_seed);
    for (int j = 0; j < task->concealed_bits; j++) features[onehots + j] = (real)(rng_next(&rng) >> 63);
}

/* The seed of one example's concealed bits: of its pair when every pair
 * is an example, of its draw index under task.draws. */
static uint64_t concealed_bits_seed(const ArithmeticConfig *task, uint64_t split_seed, int a, int b, int draw) {
    char key[96];
    if (task->draws > 0)
        snprintf(key, sizeof key, "concealed bits split=%016llx draw=%d", (unsigned long long)split_seed, draw);
    else
        snprintf(key, sizeof key, "concealed bits split=%016llx a=%d b=%d", (unsigned long long)split_seed, a, b);
    return hash_string(key);
}

/* The examples' pairs (x * p + y) in split order, into order (room for
 * arithmetic_example_count()): every valid pair once, shuffled by the split
 * seed; or under task.draws that many pairs drawn uniformly with
 * replacement, in draw order. pairs (room for arithmetic_pair_count()) is
 * scratch. */
static void order_examples(const ArithmeticConfig *task, uint64_t split_seed, int *order, int *pairs) {
    int p = task->p, total = arithmetic_pair_count(task), k = 0;
    for (int x = 0; x < p; x++)
        for (int y = 0; y < p; y++)
            if (operation_defined(task->op, x, y)) pairs[k++] = x * p + y;
    ASSERT(k == total);
    Rng rng;
    if (task->draws == 0) {
        rng_seed(&rng, split_seed);
        rng_shuffle(&rng, pairs, total);
        memcpy(order, pairs, sizeof(int) * (size_t)total);
        return;
    }
    char key[64];
    snprintf(key, sizeof key, "draws split=%016llx", (unsigned long long)split_seed);
    rng_seed(&rng, hash_string(key));
    for (int i = 0; i < task->draws; i++) order[i] = pairs[rng_below(&rng, (uint64_t)total)];
}

int arithmetic_dataset(Dataset *ds, const ArithmeticConfig *task, uint64_t split_seed) {
    memset(ds, 0, sizeof *ds);
    int p = task->p, total = arithmetic_example_count(task), n_train = arithmetic_train_count(task);
    int n_pairs = arithmetic_pair_count(task);
    ExampleShape shape = arithmetic_shape(task);
    ASSERT(total > 0 && n_pairs > 0 && n_train >= 0 && n_train <= total);
    int *order = malloc(sizeof(int) * (size_t)total), *pairs = malloc(sizeof(int) * (size_t)n_pairs);
    if (!order || !pairs || examples_alloc(&ds->train, &shape, n_train) ||
        examples_alloc(&ds->test, &shape, total - n_train)) {
        free(order);
        free(pairs);
        dataset_free(ds);
        return -1;
    }
    order_examples(task, split_seed, order, pairs);
    free(pairs);
    for (int i = 0; i < total; i++) {
        Examples *ex = i < n_train ? &ds->train : &ds->test;
        int j = i < n_train ? i : i - n_train;
        int a = order[i] / p, b = order[i] % p;
        if (task->concealed_bits > 0)
            write_concealed_features(task, a, b, concealed_bits_seed(task, split_seed, a, b, i),
                                     ex->features + (long)j * shape.dim);
        else
            write_equation(task, a, b, ex->tokens + (long)j * shape.seq_len);
        ex->labels[j] = operation_apply(task->op, a, b, p);
    }
    free(order);
    return 0;
}
