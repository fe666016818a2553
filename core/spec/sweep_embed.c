#include "sweep_embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The index of inner's value k in outer's values, or -1. */
static int find_value(const SweepAxis *inner, int k, const SweepAxis *outer) {
    for (int i = 0; i < outer->length; i++) {
        bool same = inner->kind == AXIS_STRING ? strcmp(inner->strings[k], outer->strings[i]) == 0
                                               : inner->numbers[k] == outer->numbers[i];
        if (same) return i;
    }
    return -1;
}

int sweep_embed(const Sweep *inner, const Sweep *outer, long *map, char *why, size_t whylen) {
    ASSERT(inner && outer && map && why);
    if (strcmp(inner->base_json, outer->base_json) != 0) {
        snprintf(why, whylen, "the config outside the grid differs");
        return -1;
    }
    if (inner->n_axes != outer->n_axes) {
        snprintf(why, whylen, "the grid has %d axes, the new one %d", inner->n_axes, outer->n_axes);
        return -1;
    }
    if (inner->n_eval != outer->n_eval || memcmp(inner->eval_steps, outer->eval_steps,
                                                 sizeof *inner->eval_steps * (size_t)inner->n_eval) != 0 ||
        inner->n_rank_layers != outer->n_rank_layers) {
        snprintf(why, whylen, "the evaluation schedule or the recorded feature ranks differ");
        return -1;
    }
    int *positions[SWEEP_MAX_AXES] = {NULL};
    int rc = 0, n_axes = inner->n_axes;
    for (int a = 0; a < n_axes && rc == 0; a++) {
        const SweepAxis *in = &inner->axes[a], *out = &outer->axes[a];
        if (strcmp(in->path, out->path) != 0 || in->kind != out->kind) {
            snprintf(why, whylen, "axis %d is %s, in the new grid %s", a + 1, in->path, out->path);
            rc = -1;
            break;
        }
        positions[a] = malloc(sizeof *positions[a] * (size_t)in->length);
        if (!positions[a]) {
            snprintf(why, whylen, "out of memory comparing the grids");
            rc = -1;
            break;
        }
        for (int k = 0; k < in->length && rc == 0; k++) {
            positions[a][k] = find_value(in, k, out);
            if (positions[a][k] < 0) {
                char value[64];
                if (in->kind == AXIS_STRING)
                    snprintf(value, sizeof value, "\"%s\"", in->strings[k]);
                else
                    config_format_real(in->numbers[k], value, sizeof value);
                snprintf(why, whylen, "the axis %s has the value %s, which the new grid lacks", in->name, value);
                rc = -1;
            }
        }
    }
    for (long p = 0; p < inner->n_points && rc == 0; p++) {
        int indices[SWEEP_MAX_AXES];
        sweep_point_indices(inner, p, indices);
        long q = 0;
        for (int a = 0; a < outer->n_axes; a++) q = q * outer->axes[a].length + positions[a][indices[a]];
        map[p] = q;
    }
    for (int a = 0; a < n_axes; a++) free(positions[a]);
    return rc;
}
