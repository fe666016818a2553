#include "ticket.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "optimizer.h"

bool ticket_prunes(ParamRole role) { return role == PARAM_LINEAR_WEIGHT || role == PARAM_EMBEDDING; }

/* Ascending order of magnitudes, NaN last. */
static int compare_magnitudes(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

int ticket_prune(const ParamTable *table, const real *final, double kept_fraction, unsigned char *mask) {
    ASSERT(kept_fraction > 0 && kept_fraction <= 1);
    size_t n = 0;
    for (int t = 0; t < table->count; t++)
        if (ticket_prunes(table->views[t].role)) n += (size_t)table->views[t].rows * (size_t)table->views[t].cols;
    memset(mask, 1, table->total);
    size_t k = (size_t)floor((1 - kept_fraction) * (double)n);
    if (k == 0) return 0;
    ASSERT(k <= n); /* so n > 0 */
    float *magnitudes = malloc(sizeof(float) * n);
    if (!magnitudes) return -1;
    size_t used = 0;
    for (int t = 0; t < table->count; t++) {
        const ParamView *view = &table->views[t];
        if (!ticket_prunes(view->role)) continue;
        size_t count = (size_t)view->rows * (size_t)view->cols;
        for (size_t i = 0; i < count; i++) magnitudes[used++] = fabsf((float)final[view->offset + i]);
    }
    qsort(magnitudes, n, sizeof(float), compare_magnitudes);
    float threshold = magnitudes[k - 1];
    free(magnitudes);
    for (int t = 0; t < table->count; t++) {
        const ParamView *view = &table->views[t];
        if (!ticket_prunes(view->role)) continue;
        size_t count = (size_t)view->rows * (size_t)view->cols;
        for (size_t i = 0; i < count; i++)
            mask[view->offset + i] = !(fabsf((float)final[view->offset + i]) <= threshold);
    }
    return 0;
}

int ticket_start(Model *model, const TicketConfig *ticket, const real *initial, const real *final) {
    ASSERT(ticket_active(ticket) && !model->mask);
    size_t total = model->table.total;
    if (model_add_mask(model) != 0 || ticket_prune(&model->table, final, ticket->kept_fraction, model->mask) != 0)
        return -1;
    memcpy(model->params, initial, sizeof(real) * total);
    model_mask_params(model);
    if (ticket->control == TICKET_CONTROL_NORM_MATCHED) {
        double ticket_norm = model_weight_norm(model);
        free(model->mask);
        model->mask = NULL;
        memcpy(model->params, initial, sizeof(real) * total);
        if (ticket_norm > 0) params_rescale_to_norm(model->params, total, ticket_norm);
    }
    return 0;
}
