#include "arithmetic.h"

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

int operation_apply(Operation op, int x_in, int y_in, int p) {
    ASSERT(x_in >= 0 && x_in < p && y_in >= 0 && y_in < p);
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

static const char *const sequence_format_names[SEQUENCE_FORMAT_COUNT] = {[SEQUENCE_PAIR] = "a b",
                                                                           [SEQUENCE_EQUALS] = "a b ="};

const char *sequence_format_name(SequenceFormat format) {
    ASSERT((unsigned)format < (unsigned)SEQUENCE_FORMAT_COUNT);
    return sequence_format_names[format];
}

int arithmetic_pair_count(const ArithmeticConfig *task) {
    int count = 0;
    for (int y = 0; y < task->p; y++) count += operation_defined(task->op, 0, y) ? task->p : 0;
    return count;
}

int arithmetic_train_count(const ArithmeticConfig *task) {
    return (int)(task->data_fraction * (double)arithmetic_pair_count(task));
}

ExampleShape arithmetic_shape(const ArithmeticConfig *task) {
    bool equals = task->sequence == SEQUENCE_EQUALS;
    return (ExampleShape){.seq_len = equals ? 3 : 2, .vocab = equals ? task->p + 1 : task->p, .dim = 0,
                          .target = TARGET_CLASS, .n_outputs = task->p};
}

int arithmetic_dataset(Dataset *ds, const ArithmeticConfig *task, uint64_t split_seed) {
    memset(ds, 0, sizeof *ds);
    int p = task->p, total = arithmetic_pair_count(task), n_train = arithmetic_train_count(task);
    ExampleShape shape = arithmetic_shape(task);
    ASSERT(total > 0 && n_train >= 0 && n_train <= total);
    int *order = malloc(sizeof(int) * (size_t)total);
    if (!order || examples_alloc(&ds->train, &shape, n_train) || examples_alloc(&ds->test, &shape, total - n_train)) {
        free(order);
        dataset_free(ds);
        return -1;
    }
    int k = 0;
    for (int x = 0; x < p; x++)
        for (int y = 0; y < p; y++)
            if (operation_defined(task->op, x, y)) order[k++] = x * p + y;
    ASSERT(k == total);
    Rng rng;
    rng_seed(&rng, split_seed);
    rng_shuffle(&rng, order, total);
    for (int i = 0; i < total; i++) {
        Examples *ex = i < n_train ? &ds->train : &ds->test;
        int j = i < n_train ? i : i - n_train;
        int a = order[i] / p, b = order[i] % p;
        int *tokens = ex->tokens + (long)j * shape.seq_len;
        tokens[0] = a;
        tokens[1] = b;
        if (shape.seq_len == 3) tokens[2] = p; /* '=' */
        ex->labels[j] = operation_apply(task->op, a, b, p);
    }
    free(order);
    return 0;
}
