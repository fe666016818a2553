/* Carving one allocation into many arrays. A first pass with base == NULL
 * only counts (every take returns NULL); a second pass over the allocated
 * block hands out the same layout. */
#ifndef GROKSWEEP_ARENA_H
#define GROKSWEEP_ARENA_H

#include <stddef.h>

#include "real.h"

typedef struct {
    real *base;  /* NULL while counting */
    size_t used; /* elements handed out so far */
} Arena;

static inline real *arena_take(Arena *arena, size_t count) {
    real *block = arena->base ? arena->base + arena->used : NULL;
    arena->used += count;
    return block;
}

#endif
