/* Modular-arithmetic tasks of Power et al. 2022 and their train/test split,
 * as token sequences: "a b" (vocabulary p) or "a b =" ('=' is token p). */
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
    OP_COUNT
} Operation;

/* How an equation is written as tokens. */
typedef enum {
    SEQUENCE_PAIR,   /* "a b":   two tokens over 0 .. p-1 */
    SEQUENCE_EQUALS, /* "a b =": three tokens, '=' is token p */
    SEQUENCE_FORMAT_COUNT
} SequenceFormat;

typedef struct {
    Operation op;
    int p;                   /* modulus */
    double data_fraction;    /* fraction of all valid pairs used for training */
    SequenceFormat sequence;
} ArithmeticConfig;

/* JSON name of an operation ("x+y", ...), and the reverse lookup (returns
 * OP_COUNT for an unknown name). */
const char *operation_name(Operation op);
Operation operation_from_name(const char *name);

/* True when the operation divides, so p must be prime for every y to have
 * an inverse. */
bool operation_needs_prime(Operation op);

/* True when the pair (x, y) is in the operation's domain (x/y needs y != 0). */
bool operation_defined(Operation op, int x, int y);

/* (x op y) mod p, for 0 <= x, y < p and a prime p where division is used. */
int operation_apply(Operation op, int x, int y, int p);

bool is_prime(int n);

/* JSON name of a sequence format ("a b", "a b ="). */
const char *sequence_format_name(SequenceFormat format);

/* Number of pairs in the operation's domain, and the training-set size the
 * split takes: floor(data_fraction * pairs). */
int arithmetic_pair_count(const ArithmeticConfig *task);
int arithmetic_train_count(const ArithmeticConfig *task);

/* The shape of the task's examples: tokens of the sequence format, p classes. */
ExampleShape arithmetic_shape(const ArithmeticConfig *task);

/* Build all valid pairs, shuffle them with a stream seeded by split_seed,
 * and put the first arithmetic_train_count() into train, the rest into
 * test. Equal split seeds give nested training sets across data fractions
 * (the split does not depend on the sequence format). Returns 0, or -1 if
 * memory runs out (dataset left empty). */
int arithmetic_dataset(Dataset *ds, const ArithmeticConfig *task, uint64_t split_seed);

#endif
