/* The algebraic tasks of Power et al. 2022 and their train/test split:
 * binary operations x op y mod p (task.kind "arithmetic") and compositions
 * in the group S5 of the 120 permutations of 5 elements (task.kind "s5").
 *
 * An equation is a token sequence over the n elements (p, or 120 for S5,
 * tokens 0 .. n-1), '=' (token n), the operation (token n+1) and a
 * beginning-of-sequence token (n+2), in one of four formats: "a b",
 * "a b =", "a op b =" and "<bos> a op b =" (Power's own). The label is the
 * answer's element; only the answer is scored. Optionally k random bits
 * are concealed in every example (Miller et al. 2024): the example is then
 * a dense feature vector, the one-hots of its tokens followed by k bits of
 * 0 or 1. */
#ifndef GROKSWEEP_ARITHMETIC_H
#define GROKSWEEP_ARITHMETIC_H

#include <stdbool.h>
#include <stdint.h>

#include "examples.h"

typedef enum {
    OP_ADD,            /* x+y */
    OP_SUB,            /* x-y */
    OP_MUL,            /* x*y */
    OP_DIV,            /* x/y, y != 0 */
    OP_DIV_ODD_SUB,    /* x/y if y odd else x-y */
    OP_SQ_SUM,         /* x^2+y^2 */
    OP_SQ_CROSS,       /* x^2+xy+y^2 */
    OP_SQ_CROSS_X,     /* x^2+xy+y^2+x */
    OP_CUBE_XY,        /* x^3+xy */
    OP_CUBE_XY2_Y,     /* x^3+xy^2+y */
    OP_S5_COMPOSE,     /* x.y: x then y, c[i] = y[x[i]] (Power's c = b[a]) */
    OP_S5_CONJUGATE,   /* x.y.x^-1: c[i] = x^-1[y[x[i]]] */
    OP_S5_XYX,         /* x.y.x: c[i] = x[y[x[i]]] */
    OP_COUNT
} Operation;

/* How an equation is written as tokens. */
/* Elements of S5, in the lexicographic order of itertools.permutations. */
#define S5_ORDER 120

typedef enum {
    SEQUENCE_PAIR,          /* "a b":            a, b */
    SEQUENCE_EQUALS,        /* "a b =":          a, b, '=' */
    SEQUENCE_OP_EQUALS,     /* "a op b =":       a, op, b, '=' */
    SEQUENCE_BOS_OP_EQUALS, /* "<bos> a op b =": bos, a, op, b, '=' */
    SEQUENCE_FORMAT_COUNT
} SequenceFormat;

typedef struct {
    Operation op;
    int p;                   /* elements: the modulus, or S5_ORDER for the S5 operations */
    double data_fraction;    /* fraction of all valid pairs used for training */
    SequenceFormat sequence;
    int concealed_bits;      /* k random bits per example (0: token inputs) */
    int draws;               /* examples drawn with replacement (Miller et al.), 0: every pair once */
} ArithmeticConfig;

/* JSON name of an operation ("x+y", ...), and the reverse lookup (returns
 * OP_COUNT for an unknown name). */
const char *operation_name(Operation op);
Operation operation_from_name(const char *name);

/* True for the operations of S5 (their elements are permutations). */
bool operation_is_permutation(Operation op);

/* True when the operation divides, so p must be prime for every y to have
 * an inverse. */
bool operation_needs_prime(Operation op);

/* True when the pair (x, y) is in the operation's domain (x/y needs y != 0). */
bool operation_defined(Operation op, int x, int y);

/* (x op y) mod p, for 0 <= x, y < p and a prime p where division is used;
 * for an S5 operation (p = S5_ORDER) the index of the composed permutation. */
int operation_apply(Operation op, int x, int y, int p);

bool is_prime(int n);

/* JSON name of a sequence format ("a b", "a b =", "a op b =", "<bos> a op b ="). */
const char *sequence_format_name(SequenceFormat format);

/* Number of pairs in the operation's domain; of examples (the pairs, or
 * task.draws); and the training-set size the split takes:
 * floor(data_fraction * examples). */
int arithmetic_pair_count(const ArithmeticConfig *task);
int arithmetic_example_count(const ArithmeticConfig *task);
int arithmetic_train_count(const ArithmeticConfig *task);

/* The shape of the task's examples: tokens of the sequence format, or with
 * concealed bits dense features (seq_len * vocab one-hot entries and the
 * bits); p classes. */
ExampleShape arithmetic_shape(const ArithmeticConfig *task);

/* Build all valid pairs, shuffle them with a stream seeded by split_seed,
 * and put the first arithmetic_train_count() into train, the rest into
 * test. With task.draws, the examples are that many pairs drawn uniformly
 * with replacement from a stream seeded by split_seed, the first ones the
 * training set (a pair may then be in both sets; the concealed bits tell
 * its examples apart, Miller et al.'s design). Equal split seeds give nested training sets across data fractions
 * (the split does not depend on the sequence format). Each pair's concealed
 * bits come from a stream of its own, seeded by split_seed and the pair, so
 * they too are the same across data fractions (under task.draws each
 * draw's bits have a stream of their own), and the bits of k are the
 * first k of the bits of any larger k. Returns 0, or -1 if
 * memory runs out (dataset left empty). */
int arithmetic_dataset(Dataset *ds, const ArithmeticConfig *task, uint64_t split_seed);

#endif
