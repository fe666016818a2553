#include "examples.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

int examples_alloc(Examples *ex, const ExampleShape *shape, int n) {
    ASSERT(n >= 0 && (shape->seq_len > 0) != (shape->dim > 0) && shape->n_outputs > 0);
    memset(ex, 0, sizeof *ex);
    ex->shape = *shape;
    ex->owned = true;
    size_t rows = n > 0 ? (size_t)n : 1; /* a zero-size malloc may return NULL */
    bool ok = true;
    if (shape->seq_len > 0) ok = ok && (ex->tokens = malloc(sizeof(int) * rows * (size_t)shape->seq_len));
    if (shape->dim > 0) ok = ok && (ex->features = malloc(sizeof(real) * rows * (size_t)shape->dim));
    if (shape->target == TARGET_CLASS)
        ok = ok && (ex->labels = malloc(sizeof(int) * rows));
    else
        ok = ok && (ex->targets = malloc(sizeof(real) * rows * (size_t)shape->n_outputs));
    if (!ok) {
        examples_free(ex);
        return -1;
    }
    ex->n = n;
    return 0;
}

void examples_free(Examples *ex) {
    if (ex->owned) {
        free(ex->tokens);
        free(ex->features);
        free(ex->labels);
        free(ex->targets);
    }
    memset(ex, 0, sizeof *ex);
}

Examples examples_slice(const Examples *ex, int start, int n) {
    ASSERT(start >= 0 && n >= 0 && start + n <= ex->n);
    const ExampleShape *s = &ex->shape;
    Examples view = {.shape = *s, .n = n, .owned = false};
    if (ex->tokens) view.tokens = ex->tokens + (long)start * s->seq_len;
    if (ex->features) view.features = ex->features + (long)start * s->dim;
    if (ex->labels) view.labels = ex->labels + start;
    if (ex->targets) view.targets = ex->targets + (long)start * s->n_outputs;
    return view;
}

void examples_gather(Examples *dst, const Examples *src, const int *rows, int n) {
    const ExampleShape *s = &src->shape;
    ASSERT(dst->shape.seq_len == s->seq_len && dst->shape.dim == s->dim && dst->shape.target == s->target &&
           dst->shape.n_outputs == s->n_outputs);
    for (int i = 0; i < n; i++) {
        long k = rows[i];
        ASSERT(k >= 0 && k < src->n);
        if (s->seq_len) memcpy(dst->tokens + (long)i * s->seq_len, src->tokens + k * s->seq_len, sizeof(int) * (size_t)s->seq_len);
        if (s->dim) memcpy(dst->features + (long)i * s->dim, src->features + k * s->dim, sizeof(real) * (size_t)s->dim);
        if (src->labels) dst->labels[i] = src->labels[k];
        if (src->targets)
            memcpy(dst->targets + (long)i * s->n_outputs, src->targets + k * s->n_outputs,
                   sizeof(real) * (size_t)s->n_outputs);
    }
    dst->n = n;
}

void dataset_free(Dataset *ds) {
    examples_free(&ds->train);
    examples_free(&ds->test);
}
